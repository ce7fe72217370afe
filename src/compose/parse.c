/* Parser of model definitions: River's Python expressions, evaluated into
 * rivulet objects as they are read.
 *
 * Grammar (tokens from lex.c; newlines inside brackets are not tokens):
 *
 *   program   := { statement (NEWLINE | EOF) }
 *   statement := NAME '=' expr | expr
 *   expr      := sum { '|' sum }              a | b | c  -> one Pipeline
 *   sum       := unary { '+' unary }          a + b + c  -> one TransformerUnion
 *   unary     := ('-' | '+') unary | primary  signs apply to numbers only
 *   primary   := NUMBER | STRING {STRING} | '(' ')' | '(' expr ')'
 *              | '(' expr ',' [expr {',' expr}] [','] ')'          a tuple
 *              | '[' [expr {',' expr} [',']] ']'
 *              | '{' [expr ':' expr {',' expr ':' expr} [',']] '}'
 *              | dotted '(' [arg {',' arg} [',']] ')'               a call
 *              | dotted                     True False None inf nan, a defined name
 *   arg       := NAME '=' expr | expr       no positional after a keyword
 *   dotted    := NAME { '.' NAME }
 *
 * Precedence is Python's: + binds tighter than |, so `a | b + c` is
 * `a | (b + c)`. Values are rv_arg (core.h), the same type a class's create()
 * receives, so a call's arguments are built in place and handed over with
 * their line and column. A call resolves its name in the registry (bare or
 * module-qualified), preferring the kind its keyword suggests (`lr=Constant(.1)`
 * is a schedule, `initializer=Constant(.1)` an initializer). A defined name is
 * copied at each use: two pipelines made from one `scaler = ...` never share
 * state. Recursion is bounded (RV_PARSE_MAX_DEPTH) so hostile input ends in an
 * error, not a stack overflow. */
#include "compose/lex.h"
#include "rivulet/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Pipelines and unions come from compose.h; builds without it (while the
 * compose module was being written) see weak declarations and report '|'
 * and '+' as unavailable. */
#if defined(__has_include) && __has_include("rivulet/compose.h")
#include "rivulet/compose.h"
#define HAVE_COMPOSE(fn) 1
#else
rv_object *rv_pipeline_new(rv_object **steps, size_t n, int learn_during_predict, rv_error *err)
    __attribute__((weak));
rv_object *rv_union_new(rv_object **parts, size_t n, rv_error *err) __attribute__((weak));
#define HAVE_COMPOSE(fn) ((fn) != NULL)
#endif

#define RV_PARSE_MAX_DEPTH 64
#define RV_PARSE_MAX_NAME 256

typedef struct var {
    char *name;
    rv_arg val;
} var;

typedef struct parser {
    rv_tokens toks;
    size_t i;
    int depth;
    rv_error *err;
    var *vars;
    size_t nvars, cap;
} parser;

static rv_parse_lookup_fn lookup_override;

void rv_parse_set_lookup(rv_parse_lookup_fn fn) { lookup_override = fn; }

static const rv_class *lookup(const char *name, rv_class_kind hint)
{
    if (lookup_override)
        return lookup_override(name, hint);
    return hint ? rv_class_find_kind(name, hint) : rv_class_find(name);
}

/* ===== Tokens and errors ===== */

static rv_token *peek(parser *P) { return &P->toks.t[P->i]; }

static rv_token *peek2(parser *P)
{
    return P->toks.t[P->i].kind == RV_TOK_EOF ? &P->toks.t[P->i] : &P->toks.t[P->i + 1];
}

static rv_token *next(parser *P)
{
    rv_token *t = &P->toks.t[P->i];
    if (t->kind != RV_TOK_EOF)
        P->i++;
    return t;
}

static int is_op(const rv_token *t, char c) { return t->kind == RV_TOK_OP && t->op == c; }

static rv_status fail(parser *P, int line, int col, rv_status code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static rv_status fail(parser *P, int line, int col, rv_status code, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return rv_error_set(P->err, code, "line %d, column %d: %s", line, col, msg);
}

static const char *describe_tok(const rv_token *t, char *buf, size_t cap)
{
    switch (t->kind) {
    case RV_TOK_EOF: return "end of input";
    case RV_TOK_NEWLINE: return "end of line";
    case RV_TOK_NUM: return "a number";
    case RV_TOK_STR: return "a string";
    case RV_TOK_NAME:
        snprintf(buf, cap, "'%.*s'", (int)(t->srclen > 40 ? 40 : t->srclen), t->src);
        return buf;
    case RV_TOK_OP: snprintf(buf, cap, "'%c'", t->op); return buf;
    }
    return "?";
}

static rv_status unexpected(parser *P, const rv_token *t)
{
    char b[64];
    if (t->kind == RV_TOK_OP && strchr(")]}", t->op))
        return fail(P, t->line, t->col, RV_EINVAL, "unmatched '%c'", t->op);
    return fail(P, t->line, t->col, RV_EINVAL, "unexpected %s", describe_tok(t, b, sizeof b));
}

/* After an item inside brackets opened by `open`: consumes ',' (returns 1)
 * or the matching closer (returns 0); anything else is an error (-1). */
static int comma_or_close(parser *P, const rv_token *open, char close)
{
    rv_token *t = peek(P);
    if (is_op(t, ',')) {
        next(P);
        return 1;
    }
    if (is_op(t, close)) {
        next(P);
        return 0;
    }
    if (t->kind == RV_TOK_EOF)
        fail(P, open->line, open->col, RV_EINVAL, "'%c' was never closed", open->op);
    else if (t->kind == RV_TOK_OP && strchr(")]}", t->op))
        fail(P, t->line, t->col, RV_EINVAL, "closing '%c' does not match opening '%c' at line %d, column %d",
             t->op, open->op, open->line, open->col);
    else {
        char b[64];
        fail(P, t->line, t->col, RV_EINVAL, "expected ',' or '%c', found %s", close,
             describe_tok(t, b, sizeof b));
    }
    return -1;
}

/* ===== Values ===== */

static const char *arg_kind_name(const rv_arg *a)
{
    switch (a->kind) {
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

static rv_status oom(parser *P) { return rv_error_set(P->err, RV_ENOMEM, "out of memory parsing the model"); }

static rv_status arg_copy(rv_arg *dst, const rv_arg *src, rv_error *err)
{
    *dst = *src;
    dst->str = NULL;
    dst->items = dst->keys = NULL;
    dst->obj = NULL;
    dst->n = 0;
    if (src->str && !(dst->str = malloc(src->len + 1)))
        goto nomem;
    if (src->str)
        memcpy(dst->str, src->str, src->len + 1);
    if (src->obj && !(dst->obj = rv_object_copy(src->obj, err)))
        return err ? err->code : RV_ENOMEM;
    if (src->n) {
        dst->items = calloc(src->n, sizeof *dst->items);
        dst->keys = src->keys ? calloc(src->n, sizeof *dst->keys) : NULL;
        if (!dst->items || (src->keys && !dst->keys))
            goto nomem;
        for (size_t i = 0; i < src->n; i++) {
            dst->n = i + 1;
            if (arg_copy(&dst->items[i], &src->items[i], err) ||
                (src->keys && arg_copy(&dst->keys[i], &src->keys[i], err)))
                return err ? err->code : RV_ENOMEM;
        }
    }
    return RV_OK;
nomem:
    return rv_error_set(err, RV_ENOMEM, "out of memory copying a value");
}

/* Appends *v to a growing array of args (moving it). */
static rv_status push_arg(parser *P, rv_arg **items, size_t *n, size_t *cap, rv_arg *v)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 4;
        rv_arg *p = realloc(*items, c * sizeof *p);
        if (!p) {
            rv_arg_free(v);
            return oom(P);
        }
        *items = p;
        *cap = c;
    }
    (*items)[(*n)++] = *v;
    memset(v, 0, sizeof *v);
    return RV_OK;
}

static void free_args_array(rv_arg *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        rv_arg_free(&items[i]);
    free(items);
}

static var *find_var(parser *P, const char *name)
{
    for (size_t i = P->nvars; i-- > 0;)
        if (strcmp(P->vars[i].name, name) == 0)
            return &P->vars[i];
    return NULL;
}

/* ===== Expressions ===== */

static rv_status parse_expr(parser *P, rv_class_kind hint, rv_arg *out);

/* Joins the operands of `a | b | ...` (op '|') or `a + b + ...` (op '+'). */
static rv_status combine(parser *P, char op, rv_arg *items, size_t n, rv_arg *out)
{
    rv_status st = RV_OK;
    for (size_t i = 0; i < n && !st; i++)
        if (items[i].kind != RV_ARG_OBJ || !rv_is_estimator(items[i].obj))
            st = fail(P, items[i].line, items[i].col, RV_ETYPE, "'%c' joins estimators, not %s", op,
                      items[i].kind == RV_ARG_OBJ ? items[i].obj->cls->name : arg_kind_name(&items[i]));
    if (!st && !(op == '|' ? HAVE_COMPOSE(rv_pipeline_new) : HAVE_COMPOSE(rv_union_new)))
        st = fail(P, items[0].line, items[0].col, RV_EUNSUPPORTED, "'%c' is not available: %s", op,
                  "this build has no compose module");
    rv_object **objs = st ? NULL : malloc(n * sizeof *objs);
    if (!st && !objs)
        st = oom(P);
    if (st) {
        free_args_array(items, n);
        return st;
    }
    for (size_t i = 0; i < n; i++) {
        objs[i] = items[i].obj;
        items[i].obj = NULL;
    }
    memset(out, 0, sizeof *out);
    out->line = items[0].line;
    out->col = items[0].col;
    free_args_array(items, n);
    /* the constructors own the objects from here on, success or not */
    rv_object *o = op == '|' ? rv_pipeline_new(objs, n, 1, P->err) : rv_union_new(objs, n, P->err);
    free(objs);
    if (!o) {
        if (P->err && strncmp(P->err->message, "line ", 5) != 0)
            rv_error_prefix(P->err, "line %d, column %d", out->line, out->col);
        return P->err && P->err->code ? P->err->code : RV_EINVAL;
    }
    out->kind = RV_ARG_OBJ;
    out->obj = o;
    return RV_OK;
}

/* Parses lower { op lower }, where lower is parse_sum for '|' and parse_unary for '+'. */
static rv_status parse_chain(parser *P, char op, rv_status (*lower)(parser *, rv_class_kind, rv_arg *),
                             rv_class_kind hint, rv_arg *out)
{
    rv_status st = lower(P, hint, out);
    if (st || !is_op(peek(P), op))
        return st;
    rv_arg *items = NULL;
    size_t n = 0, cap = 0;
    if ((st = push_arg(P, &items, &n, &cap, out)))
        return st;
    while (is_op(peek(P), op)) {
        next(P);
        rv_arg v = {0};
        if ((st = lower(P, RV_CLASS_ESTIMATOR, &v)) || (st = push_arg(P, &items, &n, &cap, &v))) {
            free_args_array(items, n);
            return st;
        }
    }
    return combine(P, op, items, n, out);
}

static rv_status parse_primary(parser *P, rv_class_kind hint, rv_arg *out);

static rv_status parse_unary(parser *P, rv_class_kind hint, rv_arg *out)
{
    rv_token *t = peek(P);
    if (!is_op(t, '-') && !is_op(t, '+'))
        return parse_primary(P, hint, out);
    next(P);
    if (++P->depth > RV_PARSE_MAX_DEPTH)
        return fail(P, t->line, t->col, RV_EINVAL, "expression nested too deeply");
    rv_status st = parse_unary(P, hint, out);
    P->depth--;
    if (st)
        return st;
    if (out->kind != RV_ARG_NUM) {
        st = fail(P, t->line, t->col, RV_ETYPE, "unary '%c' applies to numbers, not %s", t->op,
                  arg_kind_name(out));
        rv_arg_free(out);
        return st;
    }
    if (t->op == '-')
        out->num = -out->num;
    out->line = t->line;
    out->col = t->col;
    return RV_OK;
}

static rv_status parse_sum(parser *P, rv_class_kind hint, rv_arg *out)
{
    return parse_chain(P, '+', parse_unary, hint, out);
}

static rv_status parse_expr(parser *P, rv_class_kind hint, rv_arg *out)
{
    memset(out, 0, sizeof *out);
    rv_token *t = peek(P);
    if (++P->depth > RV_PARSE_MAX_DEPTH)
        return fail(P, t->line, t->col, RV_EINVAL, "expression nested too deeply (over %d levels)",
                    RV_PARSE_MAX_DEPTH);
    rv_status st = parse_chain(P, '|', parse_sum, hint, out);
    P->depth--;
    return st;
}

/* ===== Brackets ===== */

/* '(' ... ')': a parenthesised expression or a tuple. '[' ... ']': a list. */
static rv_status parse_seq(parser *P, rv_class_kind hint, rv_arg *out)
{
    rv_token *open = next(P);
    char close = open->op == '(' ? ')' : ']';
    rv_arg *items = NULL;
    size_t n = 0, cap = 0;
    int is_tuple = open->op == '[', more = 1;
    rv_status st = RV_OK;
    if (is_op(peek(P), close)) {
        next(P);
        more = 0;
        is_tuple = 1;
    }
    while (more) {
        rv_arg v;
        if ((st = parse_expr(P, hint, &v)) || (st = push_arg(P, &items, &n, &cap, &v)))
            break;
        more = comma_or_close(P, open, close);
        if (more < 0) {
            st = P->err ? P->err->code : RV_EINVAL;
            break;
        }
        if (more) {
            is_tuple = 1;
            if (is_op(peek(P), close)) {
                next(P);
                more = 0;
            }
        }
    }
    if (st) {
        free_args_array(items, n);
        return st;
    }
    if (!is_tuple) { /* (expr): the value itself */
        *out = items[0];
        free(items);
        return RV_OK;
    }
    memset(out, 0, sizeof *out);
    out->kind = RV_ARG_LIST;
    out->items = items;
    out->n = n;
    out->line = open->line;
    out->col = open->col;
    return RV_OK;
}

static rv_status parse_dict(parser *P, rv_arg *out)
{
    rv_token *open = next(P);
    memset(out, 0, sizeof *out);
    out->kind = RV_ARG_DICT;
    out->line = open->line;
    out->col = open->col;
    size_t cap = 0, kcap = 0, kn = 0;
    rv_status st = RV_OK;
    int more = !is_op(peek(P), '}');
    if (!more)
        next(P);
    while (more) {
        rv_arg k, v;
        if ((st = parse_expr(P, 0, &k)) || (st = push_arg(P, &out->keys, &kn, &kcap, &k)))
            break;
        rv_token *c = peek(P);
        if (!is_op(c, ':')) {
            char b[64];
            st = fail(P, c->line, c->col, RV_EINVAL, "expected ':' in a dict, found %s",
                      describe_tok(c, b, sizeof b));
            break;
        }
        next(P);
        if ((st = parse_expr(P, 0, &v)) || (st = push_arg(P, &out->items, &out->n, &cap, &v)))
            break;
        if ((more = comma_or_close(P, open, '}')) < 0) {
            st = P->err ? P->err->code : RV_EINVAL;
            break;
        }
        if (more && is_op(peek(P), '}')) {
            next(P);
            more = 0;
        }
    }
    if (st) {
        free_args_array(out->keys, kn);
        free_args_array(out->items, out->n);
        memset(out, 0, sizeof *out);
    }
    return st;
}

/* ===== Names and calls ===== */

/* Reads NAME {'.' NAME} into buf. */
static rv_status parse_dotted(parser *P, char *buf, size_t cap)
{
    size_t n = 0;
    for (;;) {
        rv_token *t = next(P);
        if (t->kind != RV_TOK_NAME)
            return unexpected(P, t);
        if (n + t->srclen + 2 > cap)
            return fail(P, t->line, t->col, RV_EINVAL, "name too long");
        memcpy(buf + n, t->src, t->srclen);
        n += t->srclen;
        buf[n] = '\0';
        if (!is_op(peek(P), '.'))
            return RV_OK;
        next(P);
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
    if (cls->kind == RV_CLASS_OPTIMIZER)
        return RV_CLASS_SCHEDULER;
    if (cls->kind == RV_CLASS_ESTIMATOR && (cls->flags & RV_F_COMPOSITE))
        return RV_CLASS_ESTIMATOR;
    return 0;
}

/* '(' args ')' after a class name; builds the object with cls->create. */
static rv_status parse_call(parser *P, const rv_class *cls, const rv_token *name_tok, rv_arg *out)
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
    rv_token *open = next(P);
    rv_status st = RV_OK;
    int more = !is_op(peek(P), ')');
    if (!more)
        next(P);
    while (more) {
        rv_token *t = peek(P);
        char kw[RV_PARSE_MAX_NAME];
        int is_kw = t->kind == RV_TOK_NAME && is_op(peek2(P), '=');
        if (is_kw) {
            snprintf(kw, sizeof kw, "%.*s", (int)(t->srclen < sizeof kw ? t->srclen : sizeof kw - 1), t->src);
            next(P);
            next(P);
        } else if (args.nkw) {
            st = fail(P, t->line, t->col, RV_EINVAL, "%s: positional argument follows keyword argument",
                      callee);
            break;
        }
        rv_arg v;
        if ((st = parse_expr(P, kind_hint(cls, is_kw ? kw : NULL), &v)))
            break;
        if (is_kw) { /* errors about a keyword argument point at its name */
            v.line = t->line;
            v.col = t->col;
        }
        if (rv_args_add_arg(&args, is_kw ? kw : NULL, &v)) {
            rv_arg_free(&v);
            st = oom(P);
            break;
        }
        if ((more = comma_or_close(P, open, ')')) < 0) {
            st = P->err ? P->err->code : RV_EINVAL;
            break;
        }
        if (more && is_op(peek(P), ')')) {
            next(P);
            more = 0;
        }
    }
    rv_object *o = NULL;
    if (!st) {
        rv_error_clear(P->err);
        o = cls->create(&args, P->err);
        if (!o) {
            if (!P->err || !P->err->code)
                st = fail(P, name_tok->line, name_tok->col, RV_EINVAL, "%s: invalid arguments", callee);
            else if (strncmp(P->err->message, "line ", 5) != 0)
                st = rv_error_prefix(P->err, "line %d, column %d", name_tok->line, name_tok->col);
            else
                st = P->err->code;
            if (!st)
                st = RV_EINVAL;
        }
    }
    rv_args_free(&args);
    if (st)
        return st;
    memset(out, 0, sizeof *out);
    out->kind = RV_ARG_OBJ;
    out->obj = o;
    out->line = name_tok->line;
    out->col = name_tok->col;
    return RV_OK;
}

/* float('inf'), float('nan'), float(3): Python's spellings of special numbers. */
static rv_status parse_float_call(parser *P, const rv_token *name_tok, rv_arg *out)
{
    rv_token *open = next(P);
    rv_arg v;
    rv_status st = parse_expr(P, 0, &v);
    if (st)
        return st;
    if (comma_or_close(P, open, ')') != 0) {
        rv_arg_free(&v);
        return P->err && P->err->code ? P->err->code : fail(P, open->line, open->col, RV_EINVAL,
                                                            "float() takes one argument");
    }
    double x = v.num;
    char *end = NULL;
    if (v.kind == RV_ARG_STR)
        x = strtod(v.str, &end);
    int ok = v.kind == RV_ARG_NUM || (v.kind == RV_ARG_STR && v.len && end && *end == '\0');
    rv_arg_free(&v);
    if (!ok)
        return fail(P, name_tok->line, name_tok->col, RV_ETYPE, "float() needs a number or a numeric string");
    memset(out, 0, sizeof *out);
    out->kind = RV_ARG_NUM;
    out->num = x;
    out->line = name_tok->line;
    out->col = name_tok->col;
    return RV_OK;
}

static rv_status unknown_class(parser *P, const rv_token *t, const char *name)
{
    const char *s = rv_class_suggest(name);
    if (s)
        return fail(P, t->line, t->col, RV_ENOTFOUND, "unknown estimator '%s', did you mean '%s'?", name, s);
    return fail(P, t->line, t->col, RV_ENOTFOUND, "unknown estimator '%s'", name);
}

/* A name: a constant, a defined name or a call. */
static rv_status parse_name(parser *P, rv_class_kind hint, rv_arg *out)
{
    rv_token *t = peek(P);
    char name[RV_PARSE_MAX_NAME];
    rv_status st = parse_dotted(P, name, sizeof name);
    if (st)
        return st;
    memset(out, 0, sizeof *out);
    out->line = t->line;
    out->col = t->col;
    if (is_op(peek(P), '(')) {
        if (strcmp(name, "float") == 0)
            return parse_float_call(P, t, out);
        const rv_class *cls = lookup(name, hint);
        return cls ? parse_call(P, cls, t, out) : unknown_class(P, t, name);
    }
    if (strcmp(name, "True") == 0 || strcmp(name, "False") == 0) {
        out->kind = RV_ARG_BOOL;
        out->boolean = name[0] == 'T';
        return RV_OK;
    }
    if (strcmp(name, "None") == 0)
        return RV_OK; /* RV_ARG_NONE */
    var *v = find_var(P, name);
    if (v) {
        st = arg_copy(out, &v->val, P->err);
        if (st)
            rv_arg_free(out);
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
        return fail(P, t->line, t->col, RV_EINVAL, "'%s' must be called, as in %s()", name, name);
    return fail(P, t->line, t->col, RV_ENOTFOUND, "undefined name '%s'", name);
}

static rv_status parse_primary(parser *P, rv_class_kind hint, rv_arg *out)
{
    memset(out, 0, sizeof *out);
    rv_token *t = peek(P);
    out->line = t->line;
    out->col = t->col;
    switch (t->kind) {
    case RV_TOK_NUM:
        next(P);
        out->kind = RV_ARG_NUM;
        out->num = t->num;
        out->is_int = t->is_int;
        return RV_OK;
    case RV_TOK_STR: {
        rv_buf b;
        rv_buf_init(&b);
        while (peek(P)->kind == RV_TOK_STR) { /* 'a' 'b' is 'ab', as in Python */
            rv_token *s = next(P);
            rv_buf_put(&b, s->str, s->len);
        }
        rv_buf_cstr(&b);
        if (b.oom || !b.data) {
            rv_buf_free(&b);
            if (!(b.data = calloc(1, 1)))
                return oom(P);
        }
        out->kind = RV_ARG_STR;
        out->str = b.data;
        out->len = b.len;
        return RV_OK;
    }
    case RV_TOK_NAME:
        return parse_name(P, hint, out);
    case RV_TOK_OP:
        if (t->op == '(' || t->op == '[')
            return parse_seq(P, hint, out);
        if (t->op == '{')
            return parse_dict(P, out);
        break;
    default:
        break;
    }
    return unexpected(P, t);
}

/* ===== Statements ===== */

static rv_status define(parser *P, const rv_token *t, rv_arg *val)
{
    char name[RV_PARSE_MAX_NAME];
    snprintf(name, sizeof name, "%.*s", (int)(t->srclen < sizeof name ? t->srclen : sizeof name - 1), t->src);
    var *v = find_var(P, name);
    if (v) {
        rv_arg_free(&v->val);
        v->val = *val;
        return RV_OK;
    }
    if (P->nvars == P->cap) {
        size_t cap = P->cap ? P->cap * 2 : 8;
        var *p = realloc(P->vars, cap * sizeof *p);
        if (!p)
            return oom(P);
        P->vars = p;
        P->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return oom(P);
    P->vars[P->nvars].name = copy;
    P->vars[P->nvars++].val = *val;
    return RV_OK;
}

static rv_status parse_statement(parser *P, rv_arg *last)
{
    rv_token *t = peek(P);
    rv_arg v;
    rv_status st;
    if (t->kind == RV_TOK_NAME && is_op(peek2(P), '=')) {
        if ((t->srclen == 4 && (!memcmp(t->src, "True", 4) || !memcmp(t->src, "None", 4))) ||
            (t->srclen == 5 && !memcmp(t->src, "False", 5)))
            return fail(P, t->line, t->col, RV_EINVAL, "cannot assign to %.*s", (int)t->srclen, t->src);
        next(P);
        next(P);
        if ((st = parse_expr(P, 0, &v)))
            return st;
        rv_arg keep;
        if ((st = arg_copy(&keep, &v, P->err))) {
            rv_arg_free(&keep);
            rv_arg_free(&v);
            return st;
        }
        if ((st = define(P, t, &v))) {
            rv_arg_free(&v);
            rv_arg_free(&keep);
            return st;
        }
        rv_arg_free(last);
        *last = keep;
    } else {
        if ((st = parse_expr(P, RV_CLASS_ESTIMATOR, &v)))
            return st;
        rv_arg_free(last);
        *last = v;
    }
    rv_token *end = peek(P);
    if (end->kind == RV_TOK_NEWLINE) {
        next(P);
        return RV_OK;
    }
    return end->kind == RV_TOK_EOF ? RV_OK : unexpected(P, end);
}

static void parser_free(parser *P)
{
    for (size_t i = 0; i < P->nvars; i++) {
        free(P->vars[i].name);
        rv_arg_free(&P->vars[i].val);
    }
    free(P->vars);
    rv_tokens_free(&P->toks);
}

rv_object *rv_model_parse(const char *text, size_t len, const char *entry, rv_error *err)
{
    rv_error local;
    parser P = {.err = err ? err : &local};
    rv_error_clear(P.err);
    if (!text && len)
        return rv_error_set(err, RV_EINVAL, "no model text"), NULL;
    if (rv_lex(text ? text : "", len, &P.toks, P.err))
        return NULL;
    rv_arg last = {0};
    rv_status st = RV_OK;
    while (st == RV_OK && peek(&P)->kind != RV_TOK_EOF) {
        if (peek(&P)->kind == RV_TOK_NEWLINE)
            next(&P);
        else
            st = parse_statement(&P, &last);
    }
    rv_object *model = NULL;
    if (st == RV_OK) {
        rv_arg *pick = &last;
        if (entry) {
            var *v = find_var(&P, entry);
            pick = v ? &v->val : NULL;
            if (!v)
                st = rv_error_set(P.err, RV_ENOTFOUND, "no definition named '%s'", entry);
        } else if (last.kind == RV_ARG_NONE && !last.line) {
            st = rv_error_set(P.err, RV_EINVAL, "the definition is empty: no model");
        }
        if (!st && pick->kind != RV_ARG_OBJ)
            st = fail(&P, pick->line, pick->col, RV_ETYPE, "the model must be an object, not %s",
                      arg_kind_name(pick));
        if (!st) {
            model = pick->obj;
            pick->obj = NULL;
        }
    }
    rv_arg_free(&last);
    parser_free(&P);
    return model;
}
