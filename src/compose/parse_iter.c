/* Iteration in model definitions: range() and list comprehensions, so that
 * the write-up's 29 TargetAggs read as they do in Python:
 *
 *   [TargetAgg(by=['wday'], how=RollingMean(k)) for k in [*range(1, 21), 25, 30]]
 *
 * range(stop), range(start, stop[, step]) take ints (bools count, as in
 * Python) within +-2**53 and evaluate to the list of their values; over
 * RV_PARSE_MAX_RANGE items is an error.
 *
 * A comprehension [expr for NAME in iterable] reads iterable once, then
 * binds NAME to each item in turn and re-reads expr from its first token, so
 * every item is a fresh value (a fresh object for a call). NAME is bound
 * only while expr is read (it shadows, then unshadows, a definition of the
 * same name). The 'for' is found by scanning ahead at the bracket's own
 * depth before anything is evaluated; a list display stops the scan at its
 * first ',' so plain lists cost little. */
#include "compose/parse.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* ===== range() ===== */

/* An int argument of range() (a bool counts, as in Python). */
static rv_status range_int(rv_parser *P, const rv_arg *a, int64_t *out)
{
    if (a->kind == RV_ARG_BOOL) {
        *out = a->boolean != 0;
        return RV_OK;
    }
    if (a->kind != RV_ARG_NUM || !a->is_int)
        return rv_parse_fail(P, a->line, a->col, RV_ETYPE, "range() takes integers, not %s",
                             a->kind == RV_ARG_NUM ? "a float" : rv_parse_kind_name(a));
    if (!(fabs(a->num) <= 9007199254740992.0))
        return rv_parse_fail(P, a->line, a->col, RV_EINVAL, "range() bound %.17g is beyond 2**53", a->num);
    *out = (int64_t)a->num;
    return RV_OK;
}

/* How many values range(start, stop, step) has (step != 0). */
static int64_t range_len(int64_t start, int64_t stop, int64_t step)
{
    if (step > 0)
        return stop > start ? (stop - start - 1) / step + 1 : 0;
    return start > stop ? (start - stop - 1) / -step + 1 : 0;
}

/* Reads range's arguments into bounds[0..2] = start, stop, step. */
static rv_status range_args(rv_parser *P, const rv_token *name, const rv_args *a, int64_t *bounds)
{
    if (a->nkw)
        return rv_parse_fail(P, a->kw[0].line, a->kw[0].col, RV_EINVAL, "range() takes no keyword arguments");
    if (a->npos < 1 || a->npos > 3)
        return rv_parse_fail(P, name->line, name->col, RV_EINVAL, "range expected %s, got %zu",
                             a->npos ? "at most 3 arguments" : "at least 1 argument", a->npos);
    int64_t v[3] = {0, 0, 1};
    for (size_t i = 0; i < a->npos; i++) {
        rv_status st = range_int(P, &a->pos[i], &v[i]);
        if (st)
            return st;
    }
    bounds[0] = a->npos == 1 ? 0 : v[0];
    bounds[1] = a->npos == 1 ? v[0] : v[1];
    bounds[2] = v[2];
    if (!bounds[2])
        return rv_parse_fail(P, a->pos[2].line, a->pos[2].col, RV_EINVAL, "range() arg 3 must not be zero");
    return RV_OK;
}

rv_status rv_parse_range(rv_parser *P, const rv_token *name, rv_arg *out)
{
    rv_args a;
    rv_args_init(&a, "range");
    int64_t b[3] = {0, 0, 1};
    rv_status st = rv_parse_arglist(P, NULL, &a);
    if (!st)
        st = range_args(P, name, &a, b);
    rv_args_free(&a);
    if (st)
        return st;
    int64_t n = range_len(b[0], b[1], b[2]);
    if (n > RV_PARSE_MAX_RANGE)
        return rv_parse_fail(P, name->line, name->col, RV_EINVAL,
                             "range() of %lld items is over the limit of %d", (long long)n, RV_PARSE_MAX_RANGE);
    if ((st = rv_parse_charge(P, (size_t)n * sizeof(rv_arg), name->line, name->col)))
        return st;
    out->kind = RV_ARG_LIST;
    if (n && !(out->items = calloc((size_t)n, sizeof *out->items)))
        return rv_parse_oom(P);
    out->n = (size_t)n;
    for (int64_t i = 0; i < n; i++) {
        rv_arg *v = &out->items[i];
        v->kind = RV_ARG_NUM;
        v->is_int = 1;
        v->num = (double)(b[0] + i * b[2]);
        v->line = name->line;
        v->col = name->col;
    }
    return RV_OK;
}

/* ===== Comprehensions ===== */

size_t rv_parse_find_for(const rv_parser *P)
{
    int depth = 0;
    for (size_t j = P->i + 1; j < P->toks.n; j++) {
        const rv_token *t = &P->toks.t[j];
        if (t->kind == RV_TOK_EOF || t->kind == RV_TOK_NEWLINE)
            return 0;
        if (t->kind == RV_TOK_OP && strchr("([{", t->op))
            depth++;
        else if (t->kind == RV_TOK_OP && strchr(")]}", t->op) && depth-- == 0)
            return 0;
        else if (depth == 0 && (rv_tok_is_op(t, ',') || rv_tok_is_word(t, "for")))
            return t->kind == RV_TOK_NAME ? j : 0;
    }
    return 0;
}

/* 'for' NAME 'in' iterable ']': reads the clause (P->i at the 'for'), the
 * variable's name into name and the iterable into *it. */
static rv_status parse_clause(rv_parser *P, const rv_token *open, char *name, size_t cap, rv_arg *it)
{
    char b[64];
    rv_parse_next(P);
    rv_token *var = rv_parse_next(P);
    if (var->kind != RV_TOK_NAME || rv_parse_is_constant(var) || rv_tok_is_word(var, "in"))
        return rv_parse_fail(P, var->line, var->col, RV_EINVAL, "expected a name after 'for', found %s",
                             rv_parse_tok_text(var, b, sizeof b));
    rv_parse_word(var, name, cap);
    rv_token *in = rv_parse_next(P);
    if (rv_tok_is_op(in, ',') || rv_tok_is_op(in, '.'))
        return rv_parse_fail(P, in->line, in->col, RV_EINVAL,
                             "a comprehension binds one plain name ('for k in ...')");
    if (!rv_tok_is_word(in, "in"))
        return rv_parse_fail(P, in->line, in->col, RV_EINVAL, "expected 'in', found %s",
                             rv_parse_tok_text(in, b, sizeof b));
    rv_status st = rv_parse_expr(P, 0, it);
    if (st)
        return st;
    rv_token *t = rv_parse_peek(P);
    if (rv_tok_is_op(t, ']')) {
        rv_parse_next(P);
        if (it->kind == RV_ARG_LIST)
            return RV_OK;
        st = rv_parse_fail(P, it->line, it->col, RV_ETYPE, "a comprehension iterates over a list, not %s",
                           rv_parse_kind_name(it));
    } else if (rv_tok_is_word(t, "if") || rv_tok_is_word(t, "for")) {
        st = rv_parse_fail(P, t->line, t->col, RV_EUNSUPPORTED,
                           "a comprehension takes one 'for' clause and no '%.*s'", (int)t->srclen, t->src);
    } else if (t->kind == RV_TOK_EOF) {
        st = rv_parse_fail(P, open->line, open->col, RV_EINVAL, "'[' was never closed");
    } else {
        st = rv_parse_fail(P, t->line, t->col, RV_EINVAL, "expected ']' after the comprehension, found %s",
                           rv_parse_tok_text(t, b, sizeof b));
    }
    rv_arg_free(it);
    return st;
}

/* Reads expr (from token body to the 'for' at for_at) once per item of it,
 * NAME being bound at P->vars[at]; the values go to *out (a list). */
static rv_status expand(rv_parser *P, rv_class_kind hint, size_t body, size_t for_at, size_t at, rv_arg *it,
                        rv_arg *out)
{
    size_t cap = 0;
    rv_status st = RV_OK;
    for (size_t j = 0; j < it->n && !st; j++) {
        rv_arg_free(&P->vars[at].val);
        P->vars[at].val = it->items[j];
        memset(&it->items[j], 0, sizeof it->items[j]);
        P->i = body;
        rv_arg v;
        if ((st = rv_parse_expr(P, hint, &v)))
            break;
        if (P->i != for_at) {
            rv_arg_free(&v);
            st = rv_parse_unexpected(P, &P->toks.t[P->i < for_at ? P->i : for_at]);
            break;
        }
        st = rv_parse_push(P, &out->items, &out->n, &cap, &v);
    }
    return st;
}

rv_status rv_parse_comprehension(rv_parser *P, rv_class_kind hint, size_t for_at, rv_arg *out)
{
    rv_token *open = rv_parse_next(P);
    size_t body = P->i;
    rv_token *first = rv_parse_peek(P);
    if (rv_tok_is_op(first, '*'))
        return rv_parse_fail(P, first->line, first->col, RV_EINVAL,
                             "'*' cannot unpack in a comprehension's expression");
    if (body == for_at)
        return rv_parse_unexpected(P, first);
    char name[RV_PARSE_MAX_NAME];
    rv_arg it;
    P->i = for_at;
    rv_status st = parse_clause(P, open, name, sizeof name, &it);
    if (st)
        return st;
    size_t end = P->i, at;
    memset(out, 0, sizeof *out);
    out->kind = RV_ARG_LIST;
    out->line = open->line;
    out->col = open->col;
    if (!(st = rv_parse_bind(P, name, &at))) {
        st = expand(P, hint, body, for_at, at, &it, out);
        rv_parse_unbind(P);
    }
    rv_arg_free(&it);
    if (st) {
        rv_arg_free(out);
        return st;
    }
    P->i = end;
    return RV_OK;
}
