/* Names and calls in model definitions: constants, defined names, calls of
 * registered classes (bare or module-qualified, kind hinted by the keyword
 * they are passed to), argument lists with '*' unpacking, and float(). */
#include "compose/parse.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static rv_parse_lookup_fn lookup_override;

void rv_parse_set_lookup(rv_parse_lookup_fn fn) { lookup_override = fn; }

static const rv_class *lookup(const char *name, rv_class_kind hint)
{
    if (lookup_override)
        return lookup_override(name, hint);
    return hint ? rv_class_find_kind(name, hint) : rv_class_find(name);
}

/* Reads NAME {'.' NAME} into buf. */
static rv_status parse_dotted(rv_parser *P, char *buf, size_t cap)
{
    size_t n = 0;
    for (;;) {
        rv_token *t = rv_parse_next(P);
        if (t->kind != RV_TOK_NAME)
            return rv_parse_unexpected(P, t);
        if (n + t->srclen + 2 > cap)
            return rv_parse_fail(P, t->line, t->col, RV_EINVAL, "name too long");
        memcpy(buf + n, t->src, t->srclen);
        n += t->srclen;
        buf[n] = '\0';
        if (!rv_tok_is_op(rv_parse_peek(P), '.'))
            return RV_OK;
        rv_parse_next(P);
        buf[n++] = '.';
    }
}

/* The kind an argument should have, from its keyword (or the callee). */
static rv_class_kind kind_hint(const rv_class *cls, const char *kw)
{
    static const struct {
        const char *kw;
        rv_class_kind kind;
    } table[] = {{"optimizer", RV_CLASS_OPTIMIZER},   {"lr", RV_CLASS_SCHEDULER},
                 {"learning_rate", RV_CLASS_SCHEDULER}, {"intercept_lr", RV_CLASS_SCHEDULER},
                 {"loss", RV_CLASS_LOSS},             {"initializer", RV_CLASS_INITIALIZER},
                 {"intercept_init", RV_CLASS_INITIALIZER}, {"how", RV_CLASS_STAT},
                 {"metric", RV_CLASS_METRIC},         {"model", RV_CLASS_ESTIMATOR},
                 {"regressor", RV_CLASS_ESTIMATOR},   {"classifier", RV_CLASS_ESTIMATOR}};
    if (kw) {
        for (size_t i = 0; i < sizeof table / sizeof *table; i++)
            if (strcmp(table[i].kw, kw) == 0)
                return table[i].kind;
        return 0;
    }
    if (!cls)
        return 0;
    if (cls->kind == RV_CLASS_OPTIMIZER)
        return RV_CLASS_SCHEDULER;
    if (cls->kind == RV_CLASS_ESTIMATOR && (cls->flags & RV_F_COMPOSITE))
        return RV_CLASS_ESTIMATOR;
    return 0;
}

/* One argument: NAME '=' expr, '*' expr (unpacked into positionals) or expr. */
static rv_status parse_arg(rv_parser *P, const rv_class *cls, rv_args *args)
{
    rv_token *t = rv_parse_peek(P);
    char kw[RV_PARSE_MAX_NAME];
    int is_kw = t->kind == RV_TOK_NAME && rv_tok_is_op(rv_parse_peek2(P), '=');
    const rv_token *star = rv_tok_is_op(t, '*') ? t : NULL;
    if (is_kw) {
        rv_parse_word(t, kw, sizeof kw);
        rv_parse_next(P);
        rv_parse_next(P);
    } else if (star) {
        rv_parse_next(P); /* Python allows f(k=1, *rest) */
    } else if (args->nkw) {
        return rv_parse_fail(P, t->line, t->col, RV_EINVAL, "%s: positional argument follows keyword argument",
                             args->callee);
    }
    rv_arg v;
    rv_status st = rv_parse_expr(P, kind_hint(cls, is_kw ? kw : NULL), &v);
    if (st)
        return st;
    if (star) {
        if (v.kind != RV_ARG_LIST) {
            st = rv_parse_fail(P, t->line, t->col, RV_ETYPE, "%s: '*' unpacks a list, not %s", args->callee,
                               rv_parse_kind_name(&v));
            rv_arg_free(&v);
            return st;
        }
        for (size_t i = 0; i < v.n && !st; i++)
            if (rv_args_add_arg(args, NULL, &v.items[i]))
                st = rv_parse_oom(P);
        rv_arg_free(&v);
        return st;
    }
    if (is_kw) { /* errors about a keyword argument point at its name */
        v.line = t->line;
        v.col = t->col;
    }
    if (rv_args_add_arg(args, is_kw ? kw : NULL, &v)) {
        rv_arg_free(&v);
        return rv_parse_oom(P);
    }
    return RV_OK;
}

rv_status rv_parse_arglist(rv_parser *P, const rv_class *cls, rv_args *args)
{
    rv_token *open = rv_parse_next(P);
    int more = !rv_tok_is_op(rv_parse_peek(P), ')');
    if (!more)
        rv_parse_next(P);
    while (more) {
        rv_status st = parse_arg(P, cls, args);
        if (st)
            return st;
        if ((more = rv_parse_comma_or_close(P, open, ')')) < 0)
            return rv_parse_code(P);
        if (more && rv_tok_is_op(rv_parse_peek(P), ')')) {
            rv_parse_next(P);
            more = 0;
        }
    }
    return RV_OK;
}

/* The object cls->create builds from args, or an error at the call. */
static rv_object *create(rv_parser *P, const rv_class *cls, const rv_args *args, const rv_token *name_tok)
{
    rv_error_clear(P->err);
    rv_object *o = cls->create(args, P->err);
    if (o)
        return o;
    if (!P->err || !P->err->code)
        rv_parse_fail(P, name_tok->line, name_tok->col, RV_EINVAL, "%s: invalid arguments", args->callee);
    else if (strncmp(P->err->message, "line ", 5) != 0)
        rv_error_prefix(P->err, "line %d, column %d", name_tok->line, name_tok->col);
    return NULL;
}

/* '(' args ')' after a class name; builds the object with cls->create. */
static rv_status parse_call(rv_parser *P, const rv_class *cls, const rv_token *name_tok, rv_arg *out)
{
    char callee[RV_PARSE_MAX_NAME + 64];
    if (cls->module && cls->module[0])
        snprintf(callee, sizeof callee, "%s.%s", cls->module, cls->name);
    else
        snprintf(callee, sizeof callee, "%s", cls->name);
    rv_args args;
    rv_args_init(&args, callee);
    args.line = name_tok->line;
    args.col = name_tok->col;
    rv_status st = rv_parse_arglist(P, cls, &args);
    rv_object *o = st ? NULL : create(P, cls, &args, name_tok);
    rv_args_free(&args);
    if (!st && !o)
        st = rv_parse_code(P);
    if (!st && (st = rv_parse_charge(P, rv_object_memory(o), name_tok->line, name_tok->col)))
        rv_object_free(o);
    if (st)
        return st;
    out->kind = RV_ARG_OBJ;
    out->obj = o;
    return RV_OK;
}

/* float('inf'), float('nan'), float(3): Python's spellings of special numbers. */
static rv_status parse_float_call(rv_parser *P, const rv_token *name_tok, rv_arg *out)
{
    rv_token *open = rv_parse_next(P);
    rv_arg v;
    rv_status st = rv_parse_expr(P, 0, &v);
    if (st)
        return st;
    if (rv_parse_comma_or_close(P, open, ')') != 0) {
        rv_arg_free(&v);
        return P->err && P->err->code ? P->err->code
                                      : rv_parse_fail(P, open->line, open->col, RV_EINVAL,
                                                      "float() takes one argument");
    }
    double x = v.num;
    char *end = NULL;
    if (v.kind == RV_ARG_STR)
        x = strtod(v.str, &end);
    int ok = v.kind == RV_ARG_NUM || (v.kind == RV_ARG_STR && v.len && end && *end == '\0');
    rv_arg_free(&v);
    if (!ok)
        return rv_parse_fail(P, name_tok->line, name_tok->col, RV_ETYPE,
                             "float() needs a number or a numeric string");
    out->kind = RV_ARG_NUM;
    out->num = x;
    return RV_OK;
}

static rv_status unknown_class(rv_parser *P, const rv_token *t, const char *name)
{
    const char *s = rv_class_suggest(name);
    if (s)
        return rv_parse_fail(P, t->line, t->col, RV_ENOTFOUND, "unknown estimator '%s', did you mean '%s'?",
                             name, s);
    return rv_parse_fail(P, t->line, t->col, RV_ENOTFOUND, "unknown estimator '%s'", name);
}

/* A name that is not called: a constant or a defined name. */
static rv_status parse_value_name(rv_parser *P, const char *name, const rv_token *t, rv_class_kind hint,
                                  rv_arg *out)
{
    if (strcmp(name, "True") == 0 || strcmp(name, "False") == 0) {
        out->kind = RV_ARG_BOOL;
        out->boolean = name[0] == 'T';
        return RV_OK;
    }
    if (strcmp(name, "None") == 0)
        return RV_OK; /* RV_ARG_NONE */
    rv_parse_var *v = rv_parse_find_var(P, name);
    if (v) {
        rv_status st = rv_parse_copy(P, out, &v->val, t->line, t->col);
        out->line = t->line;
        out->col = t->col;
        return st;
    }
    if (!strcmp(name, "inf") || !strcmp(name, "math.inf") || !strcmp(name, "nan") ||
        !strcmp(name, "math.nan")) {
        out->kind = RV_ARG_NUM;
        out->num = strstr(name, "inf") ? INFINITY : NAN;
        return RV_OK;
    }
    if (lookup(name, hint))
        return rv_parse_fail(P, t->line, t->col, RV_EINVAL, "'%s' must be called, as in %s()", name, name);
    return rv_parse_fail(P, t->line, t->col, RV_ENOTFOUND, "undefined name '%s'", name);
}

rv_status rv_parse_name(rv_parser *P, rv_class_kind hint, rv_arg *out)
{
    rv_token *t = rv_parse_peek(P);
    char name[RV_PARSE_MAX_NAME];
    rv_status st = parse_dotted(P, name, sizeof name);
    if (st)
        return st;
    memset(out, 0, sizeof *out);
    out->line = t->line;
    out->col = t->col;
    if (!rv_tok_is_op(rv_parse_peek(P), '('))
        return parse_value_name(P, name, t, hint, out);
    if (strcmp(name, "float") == 0)
        return parse_float_call(P, t, out);
    if (strcmp(name, "range") == 0)
        return rv_parse_range(P, t, out);
    /* river.linear_model.X, as pasted from River code that imported only
     * the package, names linear_model.X */
    const char *bare = rv_class_local_name(name);
    const rv_class *cls = lookup(bare, hint);
    return cls ? parse_call(P, cls, t, out) : unknown_class(P, t, bare);
}
