/* Expressions of model definitions (grammar in parse.c): '|' chains into a
 * Pipeline, '+' chains into a TransformerUnion (estimators) or one list
 * (lists), unary signs, brackets with '*' items, and literals. */
#include "compose/parse.h"

#include <stdio.h>
#include <stdlib.h>

#include "rivulet/compose.h"

/* ===== Operators ===== */

/* Why items[i] cannot be joined by op, or NULL if it can. */
static const char *not_joinable(char op, const rv_arg *a, char *buf, size_t cap)
{
    if (a->kind == RV_ARG_OBJ && rv_is_estimator(a->obj))
        return NULL;
    const char *what = a->kind == RV_ARG_OBJ ? a->obj->cls->name : rv_parse_kind_name(a);
    if (op == '+' && a->kind == RV_ARG_LIST)
        snprintf(buf, cap, "'+' cannot join an estimator and a list");
    else
        snprintf(buf, cap, "'%c' joins estimators%s, not %s", op, op == '+' ? " or lists" : "", what);
    return buf;
}

/* Joins the operands of `a | b | ...` (op '|') or `a + b + ...` (op '+'). */
static rv_status combine(rv_parser *P, char op, rv_arg *items, size_t n, rv_arg *out)
{
    rv_status st = RV_OK;
    char why[160];
    for (size_t i = 0; i < n && !st; i++)
        if (not_joinable(op, &items[i], why, sizeof why))
            st = rv_parse_fail(P, items[i].line, items[i].col, RV_ETYPE, "%s", why);
    rv_object **objs = st ? NULL : malloc(n * sizeof *objs);
    if (!st && !objs)
        st = rv_parse_oom(P);
    if (st) {
        rv_parse_free_items(items, n);
        return st;
    }
    for (size_t i = 0; i < n; i++) {
        objs[i] = items[i].obj;
        items[i].obj = NULL;
    }
    memset(out, 0, sizeof *out);
    out->line = items[0].line;
    out->col = items[0].col;
    rv_parse_free_items(items, n);
    /* the constructors own the objects from here on, success or not */
    rv_object *o = op == '|' ? rv_pipeline_new(objs, n, 1, P->err) : rv_union_new(objs, n, P->err);
    free(objs);
    if (!o) {
        if (P->err && strncmp(P->err->message, "line ", 5) != 0)
            rv_error_prefix(P->err, "line %d, column %d", out->line, out->col);
        return rv_parse_code(P);
    }
    out->kind = RV_ARG_OBJ;
    out->obj = o;
    return RV_OK;
}

/* `a + b + ...` where a is a list: one list, as Python's list + list. */
static rv_status concat(rv_parser *P, rv_arg *items, size_t n, rv_arg *out)
{
    size_t total = 0;
    rv_status st = RV_OK;
    for (size_t i = 0; i < n && !st; i++) {
        if (items[i].kind != RV_ARG_LIST)
            st = rv_parse_fail(P, items[i].line, items[i].col, RV_ETYPE,
                               "'+' can only add a list to a list, not %s", rv_parse_kind_name(&items[i]));
        total += items[i].n;
    }
    rv_arg *all = st || !total ? NULL : calloc(total, sizeof *all);
    if (!st && total && !all)
        st = rv_parse_oom(P);
    if (st) {
        rv_parse_free_items(items, n);
        return st;
    }
    *out = items[0];
    out->items = all;
    out->n = 0;
    for (size_t i = 0; i < n; i++) {
        if (items[i].n)
            memcpy(all + out->n, items[i].items, items[i].n * sizeof *all);
        out->n += items[i].n;
        free(items[i].items);
    }
    free(items);
    return RV_OK;
}

/* Parses lower { op lower }, where lower is parse_sum for '|' and parse_unary for '+'. */
static rv_status parse_chain(rv_parser *P, char op, rv_status (*lower)(rv_parser *, rv_class_kind, rv_arg *),
                             rv_class_kind hint, rv_arg *out)
{
    rv_status st = lower(P, hint, out);
    if (st || !rv_tok_is_op(rv_parse_peek(P), op))
        return st;
    rv_arg *items = NULL;
    size_t n = 0, cap = 0;
    if ((st = rv_parse_push(P, &items, &n, &cap, out)))
        return st;
    while (rv_tok_is_op(rv_parse_peek(P), op)) {
        rv_parse_next(P);
        rv_arg v = {0};
        if ((st = lower(P, RV_CLASS_ESTIMATOR, &v)) || (st = rv_parse_push(P, &items, &n, &cap, &v))) {
            rv_parse_free_items(items, n);
            return st;
        }
    }
    if (op == '+' && items[0].kind == RV_ARG_LIST)
        return concat(P, items, n, out);
    return combine(P, op, items, n, out);
}

static rv_status parse_primary(rv_parser *P, rv_class_kind hint, rv_arg *out);

static rv_status parse_unary(rv_parser *P, rv_class_kind hint, rv_arg *out)
{
    rv_token *t = rv_parse_peek(P);
    if (!rv_tok_is_op(t, '-') && !rv_tok_is_op(t, '+'))
        return parse_primary(P, hint, out);
    rv_parse_next(P);
    if (++P->depth > RV_PARSE_MAX_DEPTH)
        return rv_parse_fail(P, t->line, t->col, RV_EINVAL, "expression nested too deeply");
    rv_status st = parse_unary(P, hint, out);
    P->depth--;
    if (st)
        return st;
    if (out->kind != RV_ARG_NUM) {
        st = rv_parse_fail(P, t->line, t->col, RV_ETYPE, "unary '%c' applies to numbers, not %s", t->op,
                           rv_parse_kind_name(out));
        rv_arg_free(out);
        return st;
    }
    if (t->op == '-')
        out->num = -out->num;
    out->line = t->line;
    out->col = t->col;
    return RV_OK;
}

static rv_status parse_sum(rv_parser *P, rv_class_kind hint, rv_arg *out)
{
    return parse_chain(P, '+', parse_unary, hint, out);
}

rv_status rv_parse_expr(rv_parser *P, rv_class_kind hint, rv_arg *out)
{
    memset(out, 0, sizeof *out);
    rv_token *t = rv_parse_peek(P);
    if (++P->depth > RV_PARSE_MAX_DEPTH)
        return rv_parse_fail(P, t->line, t->col, RV_EINVAL, "expression nested too deeply (over %d levels)",
                             RV_PARSE_MAX_DEPTH);
    rv_status st = parse_chain(P, '|', parse_sum, hint, out);
    P->depth--;
    return st;
}

/* ===== Brackets ===== */

rv_status rv_parse_unpack(rv_parser *P, const rv_token *star, rv_arg *v, rv_arg **items, size_t *n,
                          size_t *cap)
{
    rv_status st = RV_OK;
    if (v->kind != RV_ARG_LIST)
        st = rv_parse_fail(P, star->line, star->col, RV_ETYPE, "'*' unpacks a list, not %s",
                           rv_parse_kind_name(v));
    for (size_t i = 0; i < v->n && !st; i++)
        st = rv_parse_push(P, items, n, cap, &v->items[i]);
    rv_arg_free(v);
    return st;
}

/* One item of a list or tuple: expr, or '*' expr unpacked in place. Sets
 * *starred when it was unpacked. */
static rv_status parse_item(rv_parser *P, rv_class_kind hint, rv_arg **items, size_t *n, size_t *cap,
                            const rv_token **starred)
{
    const rv_token *star = rv_tok_is_op(rv_parse_peek(P), '*') ? rv_parse_next(P) : NULL;
    rv_arg v;
    rv_status st = rv_parse_expr(P, hint, &v);
    if (st)
        return st;
    if (!star)
        return rv_parse_push(P, items, n, cap, &v);
    *starred = star;
    return rv_parse_unpack(P, star, &v, items, n, cap);
}

/* '(' ... ')': a parenthesised expression or a tuple. '[' ... ']': a list. */
static rv_status parse_seq(rv_parser *P, rv_class_kind hint, rv_arg *out)
{
    rv_token *open = rv_parse_next(P);
    char close = open->op == '(' ? ')' : ']';
    rv_arg *items = NULL;
    size_t n = 0, cap = 0;
    const rv_token *starred = NULL;
    int is_tuple = open->op == '[', more = 1;
    rv_status st = RV_OK;
    if (rv_tok_is_op(rv_parse_peek(P), close)) {
        rv_parse_next(P);
        more = 0;
        is_tuple = 1;
    }
    while (more) {
        if ((st = parse_item(P, hint, &items, &n, &cap, &starred)))
            break;
        if ((more = rv_parse_comma_or_close(P, open, close)) < 0) {
            st = rv_parse_code(P);
            break;
        }
        is_tuple |= more;
        if (more && rv_tok_is_op(rv_parse_peek(P), close)) {
            rv_parse_next(P);
            more = 0;
        }
    }
    if (!st && !is_tuple && starred) /* (*a): Python's "can't use starred expression here" */
        st = rv_parse_fail(P, starred->line, starred->col, RV_EINVAL,
                           "'*' unpacks only inside a list, a tuple or a call's arguments");
    if (st) {
        rv_parse_free_items(items, n);
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

static rv_status parse_dict(rv_parser *P, rv_arg *out)
{
    rv_token *open = rv_parse_next(P);
    memset(out, 0, sizeof *out);
    out->kind = RV_ARG_DICT;
    out->line = open->line;
    out->col = open->col;
    size_t cap = 0, kcap = 0, kn = 0;
    rv_status st = RV_OK;
    int more = !rv_tok_is_op(rv_parse_peek(P), '}');
    if (!more)
        rv_parse_next(P);
    while (more) {
        rv_arg k, v;
        if ((st = rv_parse_expr(P, 0, &k)) || (st = rv_parse_push(P, &out->keys, &kn, &kcap, &k)))
            break;
        rv_token *c = rv_parse_peek(P);
        if (!rv_tok_is_op(c, ':')) {
            char b[64];
            st = rv_parse_fail(P, c->line, c->col, RV_EINVAL, "expected ':' in a dict, found %s",
                               rv_parse_tok_text(c, b, sizeof b));
            break;
        }
        rv_parse_next(P);
        if ((st = rv_parse_expr(P, 0, &v)) || (st = rv_parse_push(P, &out->items, &out->n, &cap, &v)))
            break;
        if ((more = rv_parse_comma_or_close(P, open, '}')) < 0) {
            st = rv_parse_code(P);
            break;
        }
        if (more && rv_tok_is_op(rv_parse_peek(P), '}')) {
            rv_parse_next(P);
            more = 0;
        }
    }
    if (st) {
        rv_parse_free_items(out->keys, kn);
        rv_parse_free_items(out->items, out->n);
        memset(out, 0, sizeof *out);
    }
    return st;
}

/* ===== Literals ===== */

static rv_status parse_string(rv_parser *P, rv_arg *out)
{
    rv_buf b;
    rv_buf_init(&b);
    while (rv_parse_peek(P)->kind == RV_TOK_STR) { /* 'a' 'b' is 'ab', as in Python */
        rv_token *s = rv_parse_next(P);
        rv_buf_put(&b, s->str, s->len);
    }
    rv_buf_cstr(&b);
    if (b.oom || !b.data) {
        rv_buf_free(&b);
        if (!(b.data = calloc(1, 1)))
            return rv_parse_oom(P);
    }
    out->kind = RV_ARG_STR;
    out->str = b.data;
    out->len = b.len;
    return RV_OK;
}

static rv_status parse_atom(rv_parser *P, rv_class_kind hint, rv_arg *out)
{
    rv_token *t = rv_parse_peek(P);
    switch (t->kind) {
    case RV_TOK_NUM:
        rv_parse_next(P);
        out->kind = RV_ARG_NUM;
        out->num = t->num;
        out->is_int = t->is_int;
        return RV_OK;
    case RV_TOK_STR:
        return parse_string(P, out);
    case RV_TOK_NAME:
        return rv_parse_name(P, hint, out);
    case RV_TOK_OP:
        if (t->op == '[') {
            size_t for_at = rv_parse_find_for(P);
            if (for_at)
                return rv_parse_comprehension(P, hint, for_at, out);
        }
        if (t->op == '(' || t->op == '[')
            return parse_seq(P, hint, out);
        if (t->op == '{')
            return parse_dict(P, out);
        break;
    default:
        break;
    }
    return rv_parse_unexpected(P, t);
}

/* Every value is charged its own record and bytes here; names charge the
 * copies they make, calls the objects they build (parse_call.c). */
static rv_status parse_primary(rv_parser *P, rv_class_kind hint, rv_arg *out)
{
    memset(out, 0, sizeof *out);
    rv_token *t = rv_parse_peek(P);
    out->line = t->line;
    out->col = t->col;
    rv_status st = parse_atom(P, hint, out);
    if (!st && (st = rv_parse_charge(P, sizeof *out + (out->str ? out->len : 0), t->line, t->col)))
        rv_arg_free(out);
    return st;
}
