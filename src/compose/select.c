/* compose.Select(*names) and compose.Discard(*names) (River's compose).
 *
 *   Select:  the features of x whose names are listed, in x's order
 *   Discard: the features of x whose names are not listed, in x's order
 *
 * Missing names are ignored (River raises KeyError in Select; a stream
 * with a missing feature should not stop the service). Stateless. */
#include "rivulet/compose.h"

#include <stdlib.h>
#include <string.h>

typedef struct selector {
    rv_object base;
    uint32_t n;
    rv_sym *names;
} selector;

extern const rv_class rv_class_compose_Select;
extern const rv_class rv_class_compose_Discard;

static void sel_destroy(rv_object *self)
{
    selector *s = (selector *)self;
    free(s->names);
    free(s);
}

static rv_object *sel_build(const rv_class *cls, const rv_sym *names, size_t n, rv_error *err)
{
    selector *s = calloc(1, sizeof *s);
    if (s)
        s->names = malloc((n + 1) * sizeof *s->names);
    if (!s || !s->names) {
        free(s);
        rv_error_set(err, RV_ENOMEM, "out of memory");
        return NULL;
    }
    s->base.cls = cls;
    s->n = (uint32_t)n;
    memcpy(s->names, names, n * sizeof *names);
    return &s->base;
}

static rv_object *sel_new(const rv_class *cls, const char *const *names, size_t n, rv_error *err)
{
    rv_sym *syms = malloc((n + 1) * sizeof *syms);
    if (!syms) {
        rv_error_set(err, RV_ENOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        syms[i] = rv_sym_intern_cstr(names[i]);
    rv_object *o = sel_build(cls, syms, n, err);
    free(syms);
    return o;
}

rv_object *rv_select_new(const char *const *names, size_t n, rv_error *err)
{
    return sel_new(&rv_class_compose_Select, names, n, err);
}

rv_object *rv_discard_new(const char *const *names, size_t n, rv_error *err)
{
    return sel_new(&rv_class_compose_Discard, names, n, err);
}

/* Select('a', 'b'): positional names only. */
static rv_object *sel_create_as(const rv_class *cls, const rv_args *args, rv_error *err)
{
    if (args->nkw) {
        rv_args_error(args, &args->kw[0], err, RV_EINVAL, "unknown keyword argument '%s'",
                      args->kw_names[0]);
        return NULL;
    }
    const char **names = malloc((args->npos + 1) * sizeof *names);
    if (!names) {
        rv_error_set(err, RV_ENOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < args->npos; i++) {
        if (args->pos[i].kind != RV_ARG_STR) {
            free(names);
            rv_args_error(args, &args->pos[i], err, RV_ETYPE, "feature names must be strings");
            return NULL;
        }
        names[i] = args->pos[i].str;
    }
    rv_object *o = sel_new(cls, names, args->npos, err);
    free(names);
    return o;
}

static rv_object *select_create(const rv_args *a, rv_error *e) { return sel_create_as(&rv_class_compose_Select, a, e); }
static rv_object *discard_create(const rv_args *a, rv_error *e) { return sel_create_as(&rv_class_compose_Discard, a, e); }

static rv_object *sel_clone(const rv_object *self, rv_error *err)
{
    const selector *s = (const selector *)self;
    return sel_build(self->cls, s->names, s->n, err);
}

static int listed(const selector *s, rv_sym name)
{
    for (uint32_t i = 0; i < s->n; i++)
        if (s->names[i] == name)
            return 1;
    return 0;
}

static rv_status sel_transform(rv_object *self, const rv_event *x, rv_event *out, rv_error *err)
{
    const selector *s = (const selector *)self;
    int keep = self->cls == &rv_class_compose_Select;
    rv_event_clear(out);
    for (uint32_t i = 0; i < x->n; i++) {
        const rv_feature *f = &x->items[i];
        if (listed(s, f->name) != keep)
            continue;
        rv_status st = f->kind == RV_STR ? rv_event_push_str(out, f->name, f->str, f->len)
                                         : rv_event_push_num(out, f->name, f->num);
        if (st)
            return rv_error_set(err, RV_ENOMEM, "out of memory");
    }
    return RV_OK;
}

static rv_status sel_learn(rv_object *self, const rv_event *x, const rv_value *y, rv_error *err)
{
    return RV_OK;
}
static rv_status sel_save(const rv_object *self, rv_buf *out) { return RV_OK; }
static rv_status sel_load(rv_object *self, rv_reader *in) { return RV_OK; }

static rv_status sel_describe(const rv_object *self, rv_buf *out)
{
    const selector *s = (const selector *)self;
    rv_describer d;
    rv_describe_open(&d, out, self);
    for (uint32_t i = 0; i < s->n; i++)
        rv_describe_str(&d, NULL, rv_sym_name(s->names[i]));
    return rv_describe_close(&d);
}

static size_t sel_memory(const rv_object *self)
{
    const selector *s = (const selector *)self;
    return sizeof *s + s->n * sizeof *s->names;
}

static const rv_estimator_ops sel_ops = {sel_learn, sel_transform, NULL, NULL};

const rv_class rv_class_compose_Select = {
    .kind = RV_CLASS_ESTIMATOR,
    .module = "compose",
    .name = "Select",
    .flags = RV_F_TRANSFORMER | RV_F_COUNTS_CHANGES, /* stateless: never changes */
    .doc = "keeps only the named features",
    .create = select_create,
    .clone = sel_clone,
    .copy = sel_clone,
    .save = sel_save,
    .load = sel_load,
    .describe = sel_describe,
    .memory = sel_memory,
    .destroy = sel_destroy,
    .ops = &sel_ops,
};

const rv_class rv_class_compose_Discard = {
    .kind = RV_CLASS_ESTIMATOR,
    .module = "compose",
    .name = "Discard",
    .flags = RV_F_TRANSFORMER | RV_F_COUNTS_CHANGES, /* stateless: never changes */
    .doc = "removes the named features",
    .create = discard_create,
    .clone = sel_clone,
    .copy = sel_clone,
    .save = sel_save,
    .load = sel_load,
    .describe = sel_describe,
    .memory = sel_memory,
    .destroy = sel_destroy,
    .ops = &sel_ops,
};
