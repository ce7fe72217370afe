/* River-style call arguments: what a parsed `StandardScaler(with_std=True)`
 * hands to a class's create(), and what C code builds to construct an
 * estimator without text. Getters find an argument by keyword or by its
 * position in the declared signature and check its type and range, so every
 * class reports bad arguments the same way, with line and column. */
#include "rivulet/core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rv_args_init(rv_args *a, const char *callee)
{
    memset(a, 0, sizeof *a);
    a->callee = callee;
}

void rv_arg_free(rv_arg *arg)
{
    if (!arg)
        return;
    free(arg->str);
    for (size_t i = 0; i < arg->n; i++) {
        if (arg->items)
            rv_arg_free(&arg->items[i]);
        if (arg->keys)
            rv_arg_free(&arg->keys[i]);
    }
    free(arg->items);
    free(arg->keys);
    rv_object_free(arg->obj);
    memset(arg, 0, sizeof *arg);
}

void rv_args_free(rv_args *a)
{
    for (size_t i = 0; i < a->npos; i++)
        rv_arg_free(&a->pos[i]);
    for (size_t i = 0; i < a->nkw; i++) {
        rv_arg_free(&a->kw[i]);
        free(a->kw_names[i]);
    }
    free(a->pos);
    free(a->kw);
    free(a->kw_names);
    const char *callee = a->callee;
    memset(a, 0, sizeof *a);
    a->callee = callee;
}

rv_status rv_args_add_arg(rv_args *a, const char *kw, rv_arg *arg)
{
    if (!kw) {
        rv_arg *p = realloc(a->pos, (a->npos + 1) * sizeof *p);
        if (!p)
            return RV_ENOMEM;
        a->pos = p;
        p[a->npos++] = *arg;
    } else {
        rv_arg *p = realloc(a->kw, (a->nkw + 1) * sizeof *p);
        if (!p)
            return RV_ENOMEM;
        a->kw = p;
        char **names = realloc(a->kw_names, (a->nkw + 1) * sizeof *names);
        if (!names)
            return RV_ENOMEM;
        a->kw_names = names;
        names[a->nkw] = strdup(kw);
        if (!names[a->nkw])
            return RV_ENOMEM;
        p[a->nkw++] = *arg;
    }
    memset(arg, 0, sizeof *arg);
    return RV_OK;
}

rv_status rv_args_add_num(rv_args *a, const char *kw, double x)
{
    rv_arg arg = {.kind = RV_ARG_NUM, .num = x};
    return rv_args_add_arg(a, kw, &arg);
}

rv_status rv_args_add_int(rv_args *a, const char *kw, long x)
{
    rv_arg arg = {.kind = RV_ARG_NUM, .num = (double)x, .is_int = 1};
    return rv_args_add_arg(a, kw, &arg);
}

rv_status rv_args_add_bool(rv_args *a, const char *kw, int b)
{
    rv_arg arg = {.kind = RV_ARG_BOOL, .boolean = !!b};
    return rv_args_add_arg(a, kw, &arg);
}

rv_status rv_args_add_none(rv_args *a, const char *kw)
{
    rv_arg arg = {.kind = RV_ARG_NONE};
    return rv_args_add_arg(a, kw, &arg);
}

static int make_str(rv_arg *arg, const char *s)
{
    memset(arg, 0, sizeof *arg);
    arg->kind = RV_ARG_STR;
    arg->len = strlen(s);
    arg->str = strdup(s);
    return arg->str ? RV_OK : RV_ENOMEM;
}

rv_status rv_args_add_str(rv_args *a, const char *kw, const char *s)
{
    rv_arg arg;
    if (make_str(&arg, s))
        return RV_ENOMEM;
    return rv_args_add_arg(a, kw, &arg);
}

rv_status rv_args_add_obj(rv_args *a, const char *kw, rv_object *o)
{
    rv_arg arg = {.kind = RV_ARG_OBJ, .obj = o};
    rv_status s = rv_args_add_arg(a, kw, &arg);
    if (s)
        rv_object_free(o);
    return s;
}

rv_status rv_args_add_strlist(rv_args *a, const char *kw, const char *const *items, size_t n)
{
    rv_arg arg = {.kind = RV_ARG_LIST, .n = n};
    arg.items = calloc(n ? n : 1, sizeof *arg.items);
    if (!arg.items)
        return RV_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (make_str(&arg.items[i], items[i])) {
            rv_arg_free(&arg);
            return RV_ENOMEM;
        }
    return rv_args_add_arg(a, kw, &arg);
}

/* ===== Reading ===== */

static const char *callee_of(const rv_args *a) { return a->callee ? a->callee : "call"; }

rv_status rv_args_error(const rv_args *a, const rv_arg *at, rv_error *err, rv_status code,
                        const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line = at && at->line ? at->line : a->line, col = at && at->line ? at->col : a->col;
    if (line)
        return rv_error_set(err, code, "line %d, column %d: %s: %s", line, col, callee_of(a), msg);
    return rv_error_set(err, code, "%s: %s", callee_of(a), msg);
}

static long index_of(const char *const *names, const char *name)
{
    for (long i = 0; names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

rv_status rv_args_check(const rv_args *a, const char *const *names, rv_error *err)
{
    size_t nnames = 0;
    while (names[nnames])
        nnames++;
    if (a->npos > nnames)
        return rv_args_error(a, &a->pos[nnames], err, RV_EINVAL,
                             "takes at most %zu positional argument%s but %zu were given", nnames,
                             nnames == 1 ? "" : "s", a->npos);
    for (size_t k = 0; k < a->nkw; k++) {
        long i = index_of(names, a->kw_names[k]);
        if (i < 0) {
            const char *best = NULL;
            size_t bd = 3;
            for (size_t j = 0; j < nnames; j++) {
                size_t d = rv_edit_distance(a->kw_names[k], names[j]);
                if (d < bd) {
                    bd = d;
                    best = names[j];
                }
            }
            if (best)
                return rv_args_error(a, &a->kw[k], err, RV_EINVAL,
                                     "unknown keyword argument '%s', did you mean '%s'?",
                                     a->kw_names[k], best);
            return rv_args_error(a, &a->kw[k], err, RV_EINVAL, "unknown keyword argument '%s'",
                                 a->kw_names[k]);
        }
        if ((size_t)i < a->npos)
            return rv_args_error(a, &a->kw[k], err, RV_EINVAL,
                                 "argument '%s' given by position and by keyword", a->kw_names[k]);
        for (size_t j = 0; j < k; j++)
            if (strcmp(a->kw_names[j], a->kw_names[k]) == 0)
                return rv_args_error(a, &a->kw[k], err, RV_EINVAL, "argument '%s' given twice",
                                     a->kw_names[k]);
    }
    return RV_OK;
}

const rv_arg *rv_args_find(const rv_args *a, const char *const *names, const char *name)
{
    for (size_t k = 0; k < a->nkw; k++)
        if (strcmp(a->kw_names[k], name) == 0)
            return &a->kw[k];
    long i = index_of(names, name);
    if (i >= 0 && (size_t)i < a->npos)
        return &a->pos[i];
    return NULL;
}

static const char *kind_name(rv_arg_kind k)
{
    switch (k) {
    case RV_ARG_NONE: return "None";
    case RV_ARG_BOOL: return "a bool";
    case RV_ARG_NUM: return "a number";
    case RV_ARG_STR: return "a string";
    case RV_ARG_LIST: return "a list";
    case RV_ARG_DICT: return "a dict";
    case RV_ARG_OBJ: return "an object";
    }
    return "?";
}

rv_status rv_args_get_num(const rv_args *a, const char *const *names, const char *name,
                          double dflt, double *out, rv_error *err)
{
    const rv_arg *arg = rv_args_find(a, names, name);
    if (!arg) {
        *out = dflt;
        return RV_OK;
    }
    if (arg->kind != RV_ARG_NUM)
        return rv_args_error(a, arg, err, RV_ETYPE, "argument '%s' must be a number, not %s", name,
                             kind_name(arg->kind));
    *out = arg->num;
    return RV_OK;
}

rv_status rv_args_get_int(const rv_args *a, const char *const *names, const char *name, long dflt,
                          long lo, long hi, long *out, rv_error *err)
{
    const rv_arg *arg = rv_args_find(a, names, name);
    if (!arg) {
        *out = dflt;
        return RV_OK;
    }
    if (arg->kind != RV_ARG_NUM || arg->num != floor(arg->num))
        return rv_args_error(a, arg, err, RV_ETYPE, "argument '%s' must be an integer", name);
    if (arg->num < (double)lo || arg->num > (double)hi)
        return rv_args_error(a, arg, err, RV_EINVAL, "argument '%s' must be between %ld and %ld, not %g",
                             name, lo, hi, arg->num);
    *out = (long)arg->num;
    return RV_OK;
}

rv_status rv_args_get_bool(const rv_args *a, const char *const *names, const char *name, int dflt,
                           int *out, rv_error *err)
{
    const rv_arg *arg = rv_args_find(a, names, name);
    if (!arg) {
        *out = dflt;
        return RV_OK;
    }
    if (arg->kind != RV_ARG_BOOL)
        return rv_args_error(a, arg, err, RV_ETYPE, "argument '%s' must be True or False, not %s",
                             name, kind_name(arg->kind));
    *out = arg->boolean;
    return RV_OK;
}

rv_status rv_args_get_str(const rv_args *a, const char *const *names, const char *name,
                          const char *dflt, const char **out, rv_error *err)
{
    const rv_arg *arg = rv_args_find(a, names, name);
    if (!arg || arg->kind == RV_ARG_NONE) {
        *out = dflt;
        return RV_OK;
    }
    if (arg->kind != RV_ARG_STR)
        return rv_args_error(a, arg, err, RV_ETYPE, "argument '%s' must be a string, not %s", name,
                             kind_name(arg->kind));
    *out = arg->str;
    return RV_OK;
}

rv_status rv_args_get_strlist(const rv_args *a, const char *const *names, const char *name,
                              const char ***out, size_t *n, rv_error *err)
{
    const rv_arg *arg = rv_args_find(a, names, name);
    *out = NULL;
    *n = 0;
    if (!arg)
        return RV_OK;
    if (arg->kind == RV_ARG_STR) {
        *out = malloc(sizeof **out);
        if (!*out)
            return rv_error_set(err, RV_ENOMEM, "out of memory");
        (*out)[0] = arg->str;
        *n = 1;
        return RV_OK;
    }
    if (arg->kind != RV_ARG_LIST)
        return rv_args_error(a, arg, err, RV_ETYPE, "argument '%s' must be a list of strings", name);
    *out = malloc((arg->n ? arg->n : 1) * sizeof **out);
    if (!*out)
        return rv_error_set(err, RV_ENOMEM, "out of memory");
    for (size_t i = 0; i < arg->n; i++) {
        if (arg->items[i].kind != RV_ARG_STR) {
            free(*out);
            *out = NULL;
            return rv_args_error(a, &arg->items[i], err, RV_ETYPE,
                                 "argument '%s' must be a list of strings", name);
        }
        (*out)[i] = arg->items[i].str;
    }
    *n = arg->n;
    return RV_OK;
}

static const char *class_kind_name(rv_class_kind k)
{
    switch (k) {
    case RV_CLASS_ESTIMATOR: return "an estimator";
    case RV_CLASS_STAT: return "a statistic (stats.*)";
    case RV_CLASS_METRIC: return "a metric (metrics.*)";
    case RV_CLASS_OPTIMIZER: return "an optimizer (optim.*)";
    case RV_CLASS_SCHEDULER: return "a learning rate or a schedule (optim.schedulers.*)";
    case RV_CLASS_LOSS: return "a loss (optim.losses.*)";
    case RV_CLASS_INITIALIZER: return "an initializer (optim.initializers.*)";
    case RV_CLASS_FUNCTION: return "a function";
    }
    return "?";
}

rv_status rv_args_take_obj(const rv_args *a, const char *const *names, const char *name,
                           rv_class_kind kind, rv_object **out, rv_error *err)
{
    const rv_arg *arg = rv_args_find(a, names, name);
    *out = NULL;
    if (!arg || arg->kind == RV_ARG_NONE)
        return RV_OK;
    if (arg->kind == RV_ARG_NUM && kind == RV_CLASS_SCHEDULER) {
        rv_args inner;
        rv_args_init(&inner, "optim.schedulers.Constant");
        rv_args_add_num(&inner, NULL, arg->num);
        const rv_class *c = rv_class_find("optim.schedulers.Constant");
        *out = c ? c->create(&inner, err) : NULL;
        if (!c)
            rv_error_set(err, RV_ENOTFOUND, "no constant learning-rate schedule is registered");
        rv_args_free(&inner);
        return *out ? RV_OK : err ? err->code : RV_EINVAL;
    }
    if (arg->kind != RV_ARG_OBJ || arg->obj->cls->kind != kind)
        return rv_args_error(a, arg, err, RV_ETYPE, "argument '%s' must be %s", name,
                             class_kind_name(kind));
    *out = rv_object_clone(arg->obj, err);
    if (!*out)
        return err ? err->code : RV_ENOMEM;
    return RV_OK;
}

size_t rv_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return la > lb ? la : lb;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t sub = diag + (a[i - 1] != b[j - 1]);
            size_t del = row[j] + 1, ins = row[j - 1] + 1;
            row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
            diag = up;
        }
    }
    return row[lb];
}
