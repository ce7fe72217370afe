/* A probe class for parser tests: it accepts any arguments and describes
 * them back exactly as it received them, so a test can see what the parser
 * built from a text without depending on other modules' estimators. Lookups
 * of "Probe"/"test.Probe" go to it through the parser's test seam; "Constant"
 * resolves to one of two probe classes by the kind the parser asks for.
 * Include it from one test file only. */
#ifndef RIVULET_TEST_PROBE_H
#define RIVULET_TEST_PROBE_H

#include "compose/lex.h"
#include "rivulet/core.h"

#include <stdlib.h>
#include <string.h>

typedef struct probe {
    rv_object base;
    char *text;
} probe;

static void probe_render(rv_buf *b, const rv_arg *a)
{
    switch (a->kind) {
    case RV_ARG_NONE: rv_buf_puts(b, "None"); break;
    case RV_ARG_BOOL: rv_buf_puts(b, a->boolean ? "True" : "False"); break;
    case RV_ARG_NUM:
        if (a->is_int)
            rv_buf_printf(b, "%.0f", a->num);
        else
            rv_buf_put_pyfloat(b, a->num);
        break;
    case RV_ARG_STR: rv_buf_put_pystr(b, a->str, a->len); break;
    case RV_ARG_LIST:
    case RV_ARG_DICT:
        rv_buf_puts(b, a->kind == RV_ARG_LIST ? "[" : "{");
        for (size_t i = 0; i < a->n; i++) {
            if (i)
                rv_buf_puts(b, ", ");
            if (a->keys) {
                probe_render(b, &a->keys[i]);
                rv_buf_puts(b, ": ");
            }
            probe_render(b, &a->items[i]);
        }
        rv_buf_puts(b, a->kind == RV_ARG_LIST ? "]" : "}");
        break;
    case RV_ARG_OBJ: rv_object_describe(a->obj, b); break;
    }
}

static void probe_destroy(rv_object *o)
{
    free(((probe *)o)->text);
    free(o);
}

static rv_object *probe_make(const rv_class *cls, const char *text)
{
    probe *p = calloc(1, sizeof *p);
    p->base.cls = cls;
    p->text = strdup(text);
    return &p->base;
}

static rv_object *probe_clone(const rv_object *o, rv_error *err)
{
    (void)err;
    return probe_make(o->cls, ((const probe *)o)->text);
}

static rv_status probe_describe(const rv_object *o, rv_buf *out)
{
    return rv_buf_puts(out, ((const probe *)o)->text);
}

static rv_status probe_save(const rv_object *o, rv_buf *out) { return RV_OK; }
static rv_status probe_load(rv_object *o, rv_reader *in) { return RV_OK; }

static const rv_class probe_class, probe_sched_class, probe_init_class;

static rv_object *probe_create(const rv_args *args, rv_error *err)
{
    rv_buf b;
    rv_buf_init(&b);
    rv_buf_printf(&b, "%s(", args->callee);
    for (size_t i = 0; i < args->npos + args->nkw; i++) {
        if (i)
            rv_buf_puts(&b, ", ");
        if (i >= args->npos)
            rv_buf_printf(&b, "%s=", args->kw_names[i - args->npos]);
        probe_render(&b, i < args->npos ? &args->pos[i] : &args->kw[i - args->npos]);
    }
    rv_buf_puts(&b, ")");
    const char *c = args->callee;
    const rv_class *cls = strstr(c, "sched") ? &probe_sched_class
                          : strstr(c, "init") ? &probe_init_class
                                              : &probe_class;
    rv_object *o = probe_make(cls, rv_buf_cstr(&b));
    rv_buf_free(&b);
    return o;
}

#define PROBE_CLASS(var, kind_, module_, name_)                                                \
    static const rv_class var = {.kind = kind_, .module = module_, .name = name_, .create = probe_create, \
                          .clone = probe_clone, .copy = probe_clone, .save = probe_save,          \
                          .load = probe_load, .describe = probe_describe, .destroy = probe_destroy}

PROBE_CLASS(probe_class, RV_CLASS_ESTIMATOR, "test", "Probe");
PROBE_CLASS(probe_sched_class, RV_CLASS_SCHEDULER, "sched", "Constant");
PROBE_CLASS(probe_init_class, RV_CLASS_INITIALIZER, "init", "Constant");

static const rv_class *probe_lookup(const char *name, rv_class_kind hint)
{
    if (!strcmp(name, "Probe") || !strcmp(name, "test.Probe"))
        return &probe_class;
    if (!strcmp(name, "Constant"))
        return hint == RV_CLASS_SCHEDULER ? &probe_sched_class : &probe_init_class;
    return NULL;
}

#endif
