/* Parser of model definitions: River's Python expressions, evaluated into
 * rivulet objects as they are read.
 *
 * Grammar (tokens from lex.c; newlines inside brackets are not tokens):
 *
 *   program   := { statement (NEWLINE | EOF) }
 *   statement := NAME '=' expr | expr | import
 *   import    := 'import' dotted {',' dotted}
 *              | 'from' dotted 'import' ( names | '(' names [','] ')' )
 *   names     := NAME {',' NAME}
 *
 * Imports are read and ignored, so River code pastes with its import lines:
 * names resolve through the registry whatever was imported. They must
 * import from river, creme or math (anything else would be a function
 * rivulet does not have), and 'as' is refused, since an alias would not
 * resolve. A leading 'river.' or 'creme.' on a class name is dropped.
 *   expr      := sum { '|' sum }              a | b | c  -> one Pipeline
 *   sum       := unary { '+' unary }          estimators -> one TransformerUnion,
 *                                             lists -> their concatenation
 *   unary     := ('-' | '+') unary | primary  signs apply to numbers only
 *   primary   := NUMBER | STRING {STRING} | '(' ')' | '(' expr ')'
 *              | '(' item ',' [item {',' item}] [','] ')'          a tuple
 *              | '[' [item {',' item} [',']] ']'
 *              | '[' expr 'for' NAME 'in' expr ']'                 a comprehension
 *              | '{' [expr ':' expr {',' expr ':' expr} [',']] '}'
 *              | dotted '(' [arg {',' arg} [',']] ')'               a call
 *              | dotted                     True False None inf nan, a defined name
 *   item      := '*' expr | expr            '*' unpacks a list in place
 *   arg       := NAME '=' expr | '*' expr | expr   no plain positional after a keyword
 *   dotted    := NAME { '.' NAME }
 *
 * Built-in functions: float(x), range(stop), range(start, stop[, step]).
 *
 * Precedence is Python's: + binds tighter than |, so `a | b + c` is
 * `a | (b + c)`. Values are rv_arg (core.h), the same type a class's create()
 * receives, so a call's arguments are built in place and handed over with
 * their line and column. A call resolves its name in the registry (bare or
 * module-qualified), preferring the kind its keyword suggests (`lr=Constant(.1)`
 * is a schedule, `initializer=Constant(.1)` an initializer). A defined name is
 * copied at each use: two pipelines made from one `scaler = ...` never share
 * state. A comprehension re-reads its expression for each item (parse_iter.c),
 * so `[TargetAgg(..., how=RollingMean(k)) for k in range(1, 8)]` makes seven
 * fresh objects; its variable is bound only inside it.
 *
 * Deviations from Python: tuples and range() results are lists (so
 * `range(3) + [3]` is accepted where Python raises); a comprehension has one
 * 'for' and no 'if', iterates over lists only, and its expression is not read
 * at all when the list is empty (Python would still reject bad syntax there).
 *
 * Limits: recursion is bounded (RV_PARSE_MAX_DEPTH), ranges are bounded
 * (RV_PARSE_MAX_RANGE) and every value made is charged to a budget
 * (RV_PARSE_MAX_BYTES, parse.h), so hostile input ends in an error, never in
 * a stack overflow or unbounded memory.
 *
 * This file: tokens and errors, values, the budget, names in scope,
 * statements and the entry point. */
#include "compose/parse.h"
#include "rivulet/model.h"

#include <stdio.h>
#include <stdlib.h>

/* ===== Tokens and errors ===== */

rv_status rv_parse_fail(rv_parser *P, int line, int col, rv_status code, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return rv_error_set(P->err, code, "line %d, column %d: %s", line, col, msg);
}

rv_status rv_parse_code(const rv_parser *P) { return P->err && P->err->code ? P->err->code : RV_EINVAL; }

const char *rv_parse_tok_text(const rv_token *t, char *buf, size_t cap)
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

rv_status rv_parse_unexpected(rv_parser *P, const rv_token *t)
{
    char b[64];
    if (t->kind == RV_TOK_OP && strchr(")]}", t->op))
        return rv_parse_fail(P, t->line, t->col, RV_EINVAL, "unmatched '%c'", t->op);
    return rv_parse_fail(P, t->line, t->col, RV_EINVAL, "unexpected %s", rv_parse_tok_text(t, b, sizeof b));
}

int rv_parse_comma_or_close(rv_parser *P, const rv_token *open, char close)
{
    rv_token *t = rv_parse_peek(P);
    if (rv_tok_is_op(t, ',') || rv_tok_is_op(t, close)) {
        rv_parse_next(P);
        return t->op == ',';
    }
    if (t->kind == RV_TOK_EOF)
        rv_parse_fail(P, open->line, open->col, RV_EINVAL, "'%c' was never closed", open->op);
    else if (t->kind == RV_TOK_OP && strchr(")]}", t->op))
        rv_parse_fail(P, t->line, t->col, RV_EINVAL,
                      "closing '%c' does not match opening '%c' at line %d, column %d", t->op, open->op,
                      open->line, open->col);
    else {
        char b[64];
        rv_parse_fail(P, t->line, t->col, RV_EINVAL, "expected ',' or '%c', found %s", close,
                      rv_parse_tok_text(t, b, sizeof b));
    }
    return -1;
}

/* ===== Values ===== */

const char *rv_parse_kind_name(const rv_arg *a)
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

rv_status rv_parse_oom(rv_parser *P)
{
    return rv_error_set(P->err, RV_ENOMEM, "out of memory parsing the model");
}

rv_status rv_parse_charge(rv_parser *P, size_t bytes, int line, int col)
{
    if (bytes > RV_PARSE_MAX_BYTES - P->spent) {
        P->spent = RV_PARSE_MAX_BYTES;
        return rv_parse_fail(P, line, col, RV_EINVAL, "the definition makes over %u MiB of values",
                             RV_PARSE_MAX_BYTES >> 20);
    }
    P->spent += bytes;
    return RV_OK;
}

/* Bytes a deep copy of a takes, saturating at the budget (so that walking a
 * huge value stops early). Values are at most as deep as the budget allows
 * (each level of nesting through names costs a copy of the levels below). */
static size_t arg_cost(const rv_arg *a, size_t limit)
{
    size_t c = sizeof *a + (a->str ? a->len + 1 : 0) + (a->obj ? rv_object_memory(a->obj) : 0);
    for (size_t i = 0; i < a->n && c <= limit; i++) {
        if (a->items)
            c += arg_cost(&a->items[i], limit);
        if (a->keys)
            c += arg_cost(&a->keys[i], limit);
    }
    return c;
}

rv_status rv_parse_arg_copy(rv_arg *dst, const rv_arg *src, rv_error *err)
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
        return err && err->code ? err->code : RV_ENOMEM;
    if (src->n) {
        dst->items = calloc(src->n, sizeof *dst->items);
        dst->keys = src->keys ? calloc(src->n, sizeof *dst->keys) : NULL;
        if (!dst->items || (src->keys && !dst->keys))
            goto nomem;
        for (size_t i = 0; i < src->n; i++) {
            dst->n = i + 1;
            rv_status st = rv_parse_arg_copy(&dst->items[i], &src->items[i], err);
            if (!st && src->keys)
                st = rv_parse_arg_copy(&dst->keys[i], &src->keys[i], err);
            if (st)
                return st;
        }
    }
    return RV_OK;
nomem:
    return rv_error_set(err, RV_ENOMEM, "out of memory copying a value");
}

rv_status rv_parse_copy(rv_parser *P, rv_arg *dst, const rv_arg *src, int line, int col)
{
    memset(dst, 0, sizeof *dst);
    rv_status st = rv_parse_charge(P, arg_cost(src, RV_PARSE_MAX_BYTES), line, col);
    if (!st && (st = rv_parse_arg_copy(dst, src, P->err)))
        rv_arg_free(dst);
    return st;
}

rv_status rv_parse_push(rv_parser *P, rv_arg **items, size_t *n, size_t *cap, rv_arg *v)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 4;
        rv_arg *p = realloc(*items, c * sizeof *p);
        if (!p) {
            rv_arg_free(v);
            return rv_parse_oom(P);
        }
        *items = p;
        *cap = c;
    }
    (*items)[(*n)++] = *v;
    memset(v, 0, sizeof *v);
    return RV_OK;
}

void rv_parse_free_items(rv_arg *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        rv_arg_free(&items[i]);
    free(items);
}

/* ===== Names in scope ===== */

rv_parse_var *rv_parse_find_var(rv_parser *P, const char *name)
{
    for (size_t i = P->nvars; i-- > 0;)
        if (strcmp(P->vars[i].name, name) == 0)
            return &P->vars[i];
    return NULL;
}

rv_status rv_parse_bind(rv_parser *P, const char *name, size_t *at)
{
    if (P->nvars == P->cap) {
        size_t cap = P->cap ? P->cap * 2 : 8;
        rv_parse_var *p = realloc(P->vars, cap * sizeof *p);
        if (!p)
            return rv_parse_oom(P);
        P->vars = p;
        P->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return rv_parse_oom(P);
    memset(&P->vars[P->nvars], 0, sizeof P->vars[P->nvars]);
    P->vars[P->nvars].name = copy;
    *at = P->nvars++;
    return RV_OK;
}

void rv_parse_unbind(rv_parser *P)
{
    rv_parse_var *v = &P->vars[--P->nvars];
    free(v->name);
    rv_arg_free(&v->val);
}

void rv_parse_word(const rv_token *t, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.*s", (int)(t->srclen < cap ? t->srclen : cap - 1), t->src);
}

int rv_parse_is_constant(const rv_token *t)
{
    return rv_tok_is_word(t, "True") || rv_tok_is_word(t, "False") || rv_tok_is_word(t, "None");
}

/* ===== Statements ===== */

/* name = *val (moved): redefines in place, or adds a definition. */
static rv_status define(rv_parser *P, const rv_token *t, rv_arg *val)
{
    char name[RV_PARSE_MAX_NAME];
    rv_parse_word(t, name, sizeof name);
    rv_parse_var *v = rv_parse_find_var(P, name);
    size_t at;
    if (!v) {
        rv_status st = rv_parse_bind(P, name, &at);
        if (st)
            return st;
        v = &P->vars[at];
    }
    rv_arg_free(&v->val);
    v->val = *val;
    memset(val, 0, sizeof *val);
    return RV_OK;
}

/* One imported module path: it must be rooted at river, creme or math. */
static rv_status import_path(rv_parser *P)
{
    rv_token *root = rv_parse_next(P);
    if (root->kind != RV_TOK_NAME)
        return rv_parse_unexpected(P, root);
    if (!rv_tok_is_word(root, "river") && !rv_tok_is_word(root, "creme") && !rv_tok_is_word(root, "math"))
        return rv_parse_fail(P, root->line, root->col, RV_EINVAL,
                             "cannot import '%.*s': a definition may import from river, creme or math "
                             "only (their names need no import)",
                             (int)root->srclen, root->src);
    while (rv_tok_is_op(rv_parse_peek(P), '.')) {
        rv_parse_next(P);
        rv_token *part = rv_parse_next(P);
        if (part->kind != RV_TOK_NAME)
            return rv_parse_unexpected(P, part);
    }
    return RV_OK;
}

/* NAME {',' NAME}, or with '(' ')' around it (then it may end with ','). */
static rv_status import_names(rv_parser *P)
{
    int paren = rv_tok_is_op(rv_parse_peek(P), '(');
    if (paren)
        rv_parse_next(P);
    for (;;) {
        rv_token *t = rv_parse_next(P);
        if (t->kind != RV_TOK_NAME)
            return rv_parse_unexpected(P, t);
        if (rv_tok_is_word(rv_parse_peek(P), "as")) {
            rv_token *as = rv_parse_peek(P);
            return rv_parse_fail(P, as->line, as->col, RV_EINVAL,
                                 "'as' is not supported: write the module's own name (%.*s.X)",
                                 (int)t->srclen, t->src);
        }
        if (!rv_tok_is_op(rv_parse_peek(P), ','))
            break;
        rv_parse_next(P);
        if (paren && rv_tok_is_op(rv_parse_peek(P), ')'))
            break;
    }
    if (paren) {
        rv_token *close = rv_parse_next(P);
        if (!rv_tok_is_op(close, ')'))
            return rv_parse_unexpected(P, close);
    }
    return RV_OK;
}

/* 'import a.b, c' or 'from a.b import (x, y)': checked, then ignored. */
static rv_status parse_import(rv_parser *P)
{
    rv_token *kw = rv_parse_next(P);
    rv_status st;
    if (rv_tok_is_word(kw, "from")) {
        if ((st = import_path(P)))
            return st;
        rv_token *imp = rv_parse_next(P);
        if (!rv_tok_is_word(imp, "import"))
            return rv_parse_unexpected(P, imp);
        return import_names(P);
    }
    for (;;) {
        if ((st = import_path(P)))
            return st;
        rv_token *next = rv_parse_peek(P);
        if (rv_tok_is_word(next, "as"))
            return rv_parse_fail(P, next->line, next->col, RV_EINVAL,
                                 "'as' is not supported: write the module's own name");
        if (!rv_tok_is_op(next, ','))
            return RV_OK;
        rv_parse_next(P);
    }
}

static rv_status parse_statement(rv_parser *P, rv_arg *last)
{
    rv_token *t = rv_parse_peek(P);
    rv_arg v;
    rv_status st;
    if ((rv_tok_is_word(t, "import") || rv_tok_is_word(t, "from")) && rv_parse_peek2(P)->kind == RV_TOK_NAME) {
        if ((st = parse_import(P)))
            return st;
    } else if (t->kind == RV_TOK_NAME && rv_tok_is_op(rv_parse_peek2(P), '=')) {
        if (rv_parse_is_constant(t))
            return rv_parse_fail(P, t->line, t->col, RV_EINVAL, "cannot assign to %.*s", (int)t->srclen, t->src);
        rv_parse_next(P);
        rv_parse_next(P);
        if ((st = rv_parse_expr(P, 0, &v)))
            return st;
        rv_arg keep;
        if ((st = rv_parse_arg_copy(&keep, &v, P->err)) || (st = define(P, t, &v))) {
            rv_arg_free(&keep);
            rv_arg_free(&v);
            return st;
        }
        rv_arg_free(last);
        *last = keep;
    } else {
        if ((st = rv_parse_expr(P, RV_CLASS_ESTIMATOR, &v)))
            return st;
        rv_arg_free(last);
        *last = v;
    }
    rv_token *end = rv_parse_peek(P);
    if (end->kind == RV_TOK_NEWLINE) {
        rv_parse_next(P);
        return RV_OK;
    }
    return end->kind == RV_TOK_EOF ? RV_OK : rv_parse_unexpected(P, end);
}

static void parser_free(rv_parser *P)
{
    while (P->nvars)
        rv_parse_unbind(P);
    free(P->vars);
    rv_tokens_free(&P->toks);
}

/* The model: the definition named entry, else the last statement's value. */
static rv_object *pick_model(rv_parser *P, rv_arg *last, const char *entry)
{
    rv_arg *pick = last;
    if (entry) {
        rv_parse_var *v = rv_parse_find_var(P, entry);
        if (!v)
            return rv_error_set(P->err, RV_ENOTFOUND, "no definition named '%s'", entry), NULL;
        pick = &v->val;
    } else if (last->kind == RV_ARG_NONE && !last->line) {
        return rv_error_set(P->err, RV_EINVAL, "the definition is empty: no model"), NULL;
    }
    if (pick->kind != RV_ARG_OBJ)
        return rv_parse_fail(P, pick->line, pick->col, RV_ETYPE, "the model must be an object, not %s",
                             rv_parse_kind_name(pick)),
               NULL;
    rv_object *model = pick->obj;
    pick->obj = NULL;
    return model;
}

rv_object *rv_model_parse(const char *text, size_t len, const char *entry, rv_error *err)
{
    rv_error local;
    rv_parser P = {.err = err ? err : &local};
    rv_error_clear(P.err);
    if (!text && len)
        return rv_error_set(err, RV_EINVAL, "no model text"), NULL;
    if (rv_lex(text ? text : "", len, &P.toks, P.err))
        return NULL;
    rv_arg last = {0};
    rv_status st = RV_OK;
    while (st == RV_OK && rv_parse_peek(&P)->kind != RV_TOK_EOF) {
        if (rv_parse_peek(&P)->kind == RV_TOK_NEWLINE)
            rv_parse_next(&P);
        else
            st = parse_statement(&P, &last);
    }
    rv_object *model = st == RV_OK ? pick_model(&P, &last, entry) : NULL;
    rv_arg_free(&last);
    parser_free(&P);
    return model;
}
