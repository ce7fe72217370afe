/* split(on, sep, **parts): the write-up's get_metadata as a built-in.
 *
 *   split('id', '_', item_id=[0, 3], store_id=[3, 5])
 *   'HOBBIES_1_001_CA_1' -> item_id = 'HOBBIES_1_001', store_id = 'CA_1'
 *
 * Part p is sep.join(x[on].split(sep)[lo:hi]) with Python's slice rules
 * (negative indices count from the end, out-of-range bounds are clipped, an
 * empty slice gives ''). The output is x, then the parts in the order they
 * were given (replacing features of the same name).
 *
 * Zero copy: consecutive pieces joined by the separator they were split on
 * are a substring of the input, so each part points into x[on]'s bytes (the
 * output borrows them like any event borrows its strings).
 *
 * Edge cases: a missing or numeric x[on] adds no parts; an empty separator
 * is rejected at construction (Python raises ValueError). Stateless. */
#include "core/prefetch.h"
#include "rivulet/compose.h"

#include <stdlib.h>
#include <string.h>

#define MAX_PIECES 64 /* pieces past this many are not located */

typedef struct part {
    rv_sym name;
    long lo, hi;
    uint8_t lo_none, hi_none;
} part;

typedef struct split {
    rv_object base;
    rv_sym on;
    char *sep;
    uint32_t seplen, nparts;
    part *parts;
} split;

extern const rv_class rv_class__split;

static void split_destroy(rv_object *self)
{
    split *s = (split *)self;
    free(s->sep);
    free(s->parts);
    free(s);
}

static split *split_alloc(rv_sym on, const char *sep, size_t nparts, rv_error *err)
{
    if (!sep || !*sep) {
        rv_error_set(err, RV_EINVAL, "split: empty separator");
        return NULL;
    }
    split *s = calloc(1, sizeof *s);
    if (s) {
        s->sep = strdup(sep);
        s->parts = calloc(nparts + 1, sizeof *s->parts);
    }
    if (!s || !s->sep || !s->parts) {
        if (s)
            split_destroy(&s->base);
        rv_error_set(err, RV_ENOMEM, "out of memory");
        return NULL;
    }
    s->base.cls = &rv_class__split;
    s->on = on;
    s->seplen = (uint32_t)strlen(sep);
    s->nparts = (uint32_t)nparts;
    return s;
}

rv_object *rv_split_new(const char *on, const char *sep, const char *const *names,
                        const long (*slices)[2], size_t nparts, rv_error *err)
{
    split *s = split_alloc(rv_sym_intern_cstr(on), sep, nparts, err);
    if (!s)
        return NULL;
    for (size_t i = 0; i < nparts; i++) {
        s->parts[i].name = rv_sym_intern_cstr(names[i]);
        s->parts[i].lo = slices[i][0];
        s->parts[i].hi = slices[i][1];
    }
    return &s->base;
}

/* A slice bound: an integer or None. */
static rv_status read_bound(const rv_args *a, const rv_arg *v, long *out, uint8_t *none, rv_error *err)
{
    *none = v->kind == RV_ARG_NONE;
    if (*none)
        return RV_OK;
    if (v->kind != RV_ARG_NUM || !v->is_int || v->num < -1e9 || v->num > 1e9)
        return rv_args_error(a, v, err, RV_ETYPE, "slice bounds must be integers or None");
    *out = (long)v->num;
    return RV_OK;
}

static rv_object *split_create(const rv_args *args, rv_error *err)
{
    static const char *const sig[] = {"on", "sep", NULL};
    const char *on = NULL, *sep = "_";
    if (args->npos > 2)
        return rv_args_error(args, &args->pos[2], err, RV_EINVAL,
                             "takes 2 positional arguments (on, sep); parts are keywords"), NULL;
    size_t nparts = 0;
    for (size_t k = 0; k < args->nkw; k++)
        nparts += strcmp(args->kw_names[k], "on") != 0 && strcmp(args->kw_names[k], "sep") != 0;
    if (rv_args_get_str(args, sig, "on", NULL, &on, err) || rv_args_get_str(args, sig, "sep", "_", &sep, err))
        return NULL;
    if (!on)
        return rv_args_error(args, NULL, err, RV_EINVAL, "argument 'on' is required"), NULL;
    split *s = split_alloc(rv_sym_intern_cstr(on), sep, nparts, err);
    if (!s)
        return NULL;
    uint32_t j = 0;
    for (size_t k = 0; k < args->nkw; k++) {
        const rv_arg *v = &args->kw[k];
        if (!strcmp(args->kw_names[k], "on") || !strcmp(args->kw_names[k], "sep"))
            continue;
        part *p = &s->parts[j++];
        p->name = rv_sym_intern_cstr(args->kw_names[k]);
        if (v->kind == RV_ARG_NUM) { /* a single index: one piece */
            uint8_t none;
            if (read_bound(args, v, &p->lo, &none, err))
                break;
            p->hi = p->lo + 1;
            p->hi_none = p->lo == -1;
            continue;
        }
        if (v->kind != RV_ARG_LIST || v->n != 2) {
            rv_args_error(args, v, err, RV_ETYPE, "part '%s' must be [start, stop]", args->kw_names[k]);
            break;
        }
        if (read_bound(args, &v->items[0], &p->lo, &p->lo_none, err) ||
            read_bound(args, &v->items[1], &p->hi, &p->hi_none, err))
            break;
    }
    if (j < nparts) {
        split_destroy(&s->base);
        return NULL;
    }
    return &s->base;
}

static rv_object *split_clone(const rv_object *self, rv_error *err)
{
    const split *s = (const split *)self;
    split *c = split_alloc(s->on, s->sep, s->nparts, err);
    if (c)
        memcpy(c->parts, s->parts, s->nparts * sizeof *s->parts);
    return c ? &c->base : NULL;
}

/* Python slice bound normalisation for a sequence of length n. */
static long clip(long i, uint8_t none, long dflt, long n)
{
    if (none)
        return dflt;
    if (i < 0)
        i += n;
    return i < 0 ? 0 : i > n ? n : i;
}

/* memmem, with a plain byte loop for the usual one-byte separator (ids are
 * short: memmem's setup would cost more than the scan). */
static const char *find(const char *p, size_t n, const char *sep, size_t seplen)
{
    if (seplen != 1)
        return memmem(p, n, sep, seplen);
    for (size_t i = 0; i < n; i++)
        if (p[i] == sep[0])
            return p + i;
    return NULL;
}

static rv_status split_transform(rv_object *self, const rv_event *x, rv_event *out, rv_error *err)
{
    const split *s = (const split *)self;
    if (rv_event_assign(out, x))
        return rv_error_set(err, RV_ENOMEM, "out of memory");
    const rv_feature *f = rv_event_get(x, s->on);
    if (!f || f->kind != RV_STR)
        return RV_OK;
    /* start[i], end[i]: byte range of piece i */
    uint32_t start[MAX_PIECES + 1], end[MAX_PIECES + 1], n = 0;
    const char *str = f->str ? f->str : "";
    uint32_t pos = 0, len = f->len;
    start[0] = 0;
    for (;;) {
        const char *hit = s->seplen <= len - pos ? find(str + pos, len - pos, s->sep, s->seplen) : NULL;
        if (!hit || n == MAX_PIECES) {
            end[n++] = len;
            break;
        }
        end[n] = (uint32_t)(hit - str);
        pos = end[n] + s->seplen;
        start[++n] = pos;
    }
    for (uint32_t j = 0; j < s->nparts; j++) {
        const part *p = &s->parts[j];
        long lo = clip(p->lo, p->lo_none, 0, n), hi = clip(p->hi, p->hi_none, n, n);
        rv_status st = lo < hi ? rv_event_set_str(out, p->name, str + start[lo], end[hi - 1] - start[lo])
                               : rv_event_set_str(out, p->name, "", 0);
        if (st)
            return rv_error_set(err, RV_ENOMEM, "out of memory");
    }
    return RV_OK;
}

static rv_status split_learn(rv_object *self, const rv_event *x, const rv_value *y, rv_error *err)
{
    return RV_OK; /* stateless */
}

static rv_status split_save(const rv_object *self, rv_buf *out) { return RV_OK; }
static rv_status split_load(rv_object *self, rv_reader *in) { return RV_OK; }

static void put_bound(rv_buf *b, long v, uint8_t none)
{
    if (none)
        rv_buf_puts(b, "None");
    else
        rv_buf_printf(b, "%ld", v);
}

static rv_status split_describe(const rv_object *self, rv_buf *out)
{
    const split *s = (const split *)self;
    rv_describer d;
    rv_describe_open(&d, out, self);
    rv_describe_str(&d, NULL, rv_sym_name(s->on));
    rv_describe_str(&d, NULL, s->sep);
    rv_buf b;
    rv_buf_init(&b);
    for (uint32_t j = 0; j < s->nparts; j++) {
        rv_buf_reset(&b);
        rv_buf_puts(&b, "[");
        put_bound(&b, s->parts[j].lo, s->parts[j].lo_none);
        rv_buf_puts(&b, ", ");
        put_bound(&b, s->parts[j].hi, s->parts[j].hi_none);
        rv_buf_puts(&b, "]");
        rv_describe_raw(&d, rv_sym_name(s->parts[j].name), rv_buf_cstr(&b));
    }
    rv_buf_free(&b);
    return rv_describe_close(&d);
}

static size_t split_memory(const rv_object *self)
{
    const split *s = (const split *)self;
    return sizeof *s + s->seplen + 1 + s->nparts * sizeof *s->parts;
}

static void split_prefetch(const rv_object *self)
{
    const split *s = (const split *)self;
    __builtin_prefetch(s->sep);
    rv_prefetch_range(s->parts, s->nparts * sizeof *s->parts);
}

static const rv_estimator_ops split_ops = {split_learn, split_transform, NULL, split_prefetch};

const rv_class rv_class__split = {
    .kind = RV_CLASS_ESTIMATOR,
    .module = "",
    .name = "split",
    .flags = RV_F_TRANSFORMER | RV_F_COUNTS_CHANGES, /* stateless: never changes */
    .doc = "adds parts of a string feature split on a separator (the write-up's get_metadata)",
    .create = split_create,
    .clone = split_clone,
    .copy = split_clone,
    .save = split_save,
    .load = split_load,
    .describe = split_describe,
    .memory = split_memory,
    .destroy = split_destroy,
    .ops = &split_ops,
};
