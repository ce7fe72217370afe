/* Internal: the tokenizer of model definitions (see lex.c) and the parser's
 * test seam. Not part of the public API. */
#ifndef RIVULET_COMPOSE_LEX_H
#define RIVULET_COMPOSE_LEX_H

#include "rivulet/core.h"

typedef enum {
    RV_TOK_EOF = 0,
    RV_TOK_NEWLINE, /* end of a statement: a newline outside brackets, or ';' */
    RV_TOK_NAME,
    RV_TOK_NUM,
    RV_TOK_STR,
    RV_TOK_OP       /* one of ( ) [ ] { } , = : | + - . * */
} rv_tok_kind;

typedef struct rv_token {
    rv_tok_kind kind;
    int line, col;      /* 1-based, columns count bytes */
    const char *src;    /* the token's text in the input */
    size_t srclen;
    char op;            /* RV_TOK_OP */
    int is_int;         /* RV_TOK_NUM written without '.' or exponent */
    double num;         /* RV_TOK_NUM */
    char *str;          /* RV_TOK_STR: decoded bytes (malloc'ed, NUL-terminated) */
    size_t len;         /* of str */
} rv_token;

typedef struct rv_tokens {
    rv_token *t;
    size_t n, cap;
} rv_tokens;

/* Splits text into tokens ending with one RV_TOK_EOF. On error (a bad
 * character, an unterminated string, a malformed number) fills err with
 * "line L, column C: ..." and returns its code; the tokens are freed. */
rv_status rv_lex(const char *text, size_t len, rv_tokens *out, rv_error *err);
void rv_tokens_free(rv_tokens *toks);

/* Test seam: replaces the registry lookup of class names (NULL restores it),
 * so tests can parse calls of probe classes that live in the test binary. */
typedef const rv_class *(*rv_parse_lookup_fn)(const char *qualified_name, rv_class_kind hint);
void rv_parse_set_lookup(rv_parse_lookup_fn fn);

#endif
