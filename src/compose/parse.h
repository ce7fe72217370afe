/* Internal: the parser of model definitions, shared by its files.
 *
 *   parse.c        tokens, errors, values, the budget, names in scope,
 *                  statements and rv_model_parse
 *   parse_expr.c   expressions: | + unary, brackets, star items, literals
 *   parse_call.c   names and calls: registry lookup, argument lists, float()
 *   parse_iter.c   range() and list comprehensions
 *
 * Values are rv_arg (core.h). Every value the parser makes is charged to a
 * per-parse budget (RV_PARSE_MAX_BYTES) before or as it is made, so that
 * hostile text (nested comprehensions, names copied into ever larger lists)
 * ends in an error instead of exhausting memory or time. */
#ifndef RIVULET_COMPOSE_PARSE_H
#define RIVULET_COMPOSE_PARSE_H

#include "compose/lex.h"

#include <string.h>

#define RV_PARSE_MAX_DEPTH 64          /* nesting of expressions */
#define RV_PARSE_MAX_NAME 256          /* bytes of a dotted name */
#define RV_PARSE_MAX_RANGE 100000      /* items of one range() */
#define RV_PARSE_MAX_BYTES (64u << 20) /* values made by one parse, cumulative */

typedef struct rv_parse_var {
    char *name;
    rv_arg val;
} rv_parse_var;

typedef struct rv_parser {
    rv_tokens toks;
    size_t i;
    int depth;
    rv_error *err;
    rv_parse_var *vars; /* definitions, then comprehension variables (innermost last) */
    size_t nvars, cap;
    size_t spent;       /* bytes charged so far */
} rv_parser;

/* ===== Tokens (parse.c) ===== */

static inline rv_token *rv_parse_peek(rv_parser *P) { return &P->toks.t[P->i]; }

static inline rv_token *rv_parse_peek2(rv_parser *P)
{
    return P->toks.t[P->i].kind == RV_TOK_EOF ? &P->toks.t[P->i] : &P->toks.t[P->i + 1];
}

static inline rv_token *rv_parse_next(rv_parser *P)
{
    rv_token *t = &P->toks.t[P->i];
    if (t->kind != RV_TOK_EOF)
        P->i++;
    return t;
}

static inline int rv_tok_is_op(const rv_token *t, char c) { return t->kind == RV_TOK_OP && t->op == c; }

/* A NAME token spelling exactly w (keywords such as 'for' are names here). */
static inline int rv_tok_is_word(const rv_token *t, const char *w)
{
    return t->kind == RV_TOK_NAME && t->srclen == strlen(w) && memcmp(t->src, w, t->srclen) == 0;
}

/* Sets err to "line L, column C: <message>" and returns code. */
rv_status rv_parse_fail(rv_parser *P, int line, int col, rv_status code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
rv_status rv_parse_unexpected(rv_parser *P, const rv_token *t);
const char *rv_parse_tok_text(const rv_token *t, char *buf, size_t cap);
/* After an item inside brackets opened by `open`: consumes ',' (returns 1)
 * or the matching closer (returns 0); anything else sets err (-1). */
int rv_parse_comma_or_close(rv_parser *P, const rv_token *open, char close);
/* The code of the error already set (RV_EINVAL if none). */
rv_status rv_parse_code(const rv_parser *P);

/* ===== Values (parse.c) ===== */

const char *rv_parse_kind_name(const rv_arg *a); /* "a number", "a list", ... */
rv_status rv_parse_oom(rv_parser *P);
/* Charges bytes to the budget; an error at (line, col) once it is spent. */
rv_status rv_parse_charge(rv_parser *P, size_t bytes, int line, int col);
/* Deep copy of src, charged to the budget before anything is allocated. */
rv_status rv_parse_copy(rv_parser *P, rv_arg *dst, const rv_arg *src, int line, int col);
/* Deep copy without charge (err may be NULL). */
rv_status rv_parse_arg_copy(rv_arg *dst, const rv_arg *src, rv_error *err);
/* Appends *v to a growing array (moving it; *v is zeroed, or freed on error). */
rv_status rv_parse_push(rv_parser *P, rv_arg **items, size_t *n, size_t *cap, rv_arg *v);
void rv_parse_free_items(rv_arg *items, size_t n);

/* ===== Names in scope (parse.c) ===== */

rv_parse_var *rv_parse_find_var(rv_parser *P, const char *name);
/* Pushes a name bound to None (a comprehension's variable); its index in *at. */
rv_status rv_parse_bind(rv_parser *P, const char *name, size_t *at);
void rv_parse_unbind(rv_parser *P); /* pops the last pushed name */
/* Copies a NAME token's text into buf (truncated to cap - 1 bytes). */
void rv_parse_word(const rv_token *t, char *buf, size_t cap);
/* True, False and None cannot be assigned or bound. */
int rv_parse_is_constant(const rv_token *t);

/* ===== Expressions (parse_expr.c, parse_call.c, parse_iter.c) ===== */

rv_status rv_parse_expr(rv_parser *P, rv_class_kind hint, rv_arg *out);
/* A name: a constant, a defined name, a call, float(), range(). */
rv_status rv_parse_name(rv_parser *P, rv_class_kind hint, rv_arg *out);
/* '(' arguments ')' into args, '*list' unpacked; cls (or NULL) gives hints. */
rv_status rv_parse_arglist(rv_parser *P, const rv_class *cls, rv_args *args);
/* Moves the items of the list *v (written after the '*' token star) to the
 * end of items; frees *v. An error when *v is not a list. */
rv_status rv_parse_unpack(rv_parser *P, const rv_token *star, rv_arg *v, rv_arg **items, size_t *n,
                          size_t *cap);
/* range(...) after its name: the list of its ints. */
rv_status rv_parse_range(rv_parser *P, const rv_token *name, rv_arg *out);
/* The index of the 'for' making the '[' at P->i a comprehension, or 0. */
size_t rv_parse_find_for(const rv_parser *P);
/* '[' expr 'for' NAME 'in' expr ']', with the 'for' at token index for_at. */
rv_status rv_parse_comprehension(rv_parser *P, rv_class_kind hint, size_t for_at, rv_arg *out);

#endif
