/* Tokenizer of model definitions: the lexical subset of Python that River
 * users write when they define a model.
 *
 *   names       [A-Za-z_][A-Za-z0-9_]*   (dots are separate '.' tokens)
 *   numbers     12  1_000  0.5  .5  5.  1e-3  2.5E+10   (sign is an operator)
 *   strings     '...' or "..." with an optional r/R prefix; escapes \\ \' \"
 *               \n \t \r \0 \a \b \f \v \xHH \uHHHH \UHHHHHHHH and
 *               backslash-newline; \x, \u, \U give the code point in UTF-8,
 *               like Python 3 str literals do
 *   operators   ( ) [ ] { } , = : | + - . *   ('*' unpacks; '**' is two)
 *   comments    '#' to the end of the line
 *   newlines    end a statement only outside brackets (as in Python);
 *               ';' ends one too; a backslash at the end of a line joins it
 *               to the next
 *
 * Every token remembers its line and column (1-based, in bytes) so that the
 * parser's errors point at the place. Unknown characters, unterminated
 * strings and malformed numbers are errors here. */
#include "compose/lex.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct lexer {
    const char *s;
    size_t len, pos;
    int line;
    size_t line_start;
    int depth; /* brackets open (never below 0: the parser reports strays) */
    rv_tokens *out;
    rv_error *err;
} lexer;

static int col_of(const lexer *L, size_t pos) { return (int)(pos - L->line_start) + 1; }

static rv_status lex_error(lexer *L, size_t pos, const char *what, char c)
{
    if (c)
        return rv_error_set(L->err, RV_EINVAL, "line %d, column %d: %s '%c'", L->line,
                            col_of(L, pos), what, c);
    return rv_error_set(L->err, RV_EINVAL, "line %d, column %d: %s", L->line, col_of(L, pos), what);
}

static rv_token *push(lexer *L, rv_tok_kind kind, size_t start)
{
    rv_tokens *o = L->out;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        rv_token *t = realloc(o->t, cap * sizeof *t);
        if (!t) {
            rv_error_set(L->err, RV_ENOMEM, "out of memory reading the model definition");
            return NULL;
        }
        o->t = t;
        o->cap = cap;
    }
    rv_token *t = &o->t[o->n++];
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->line = L->line;
    t->col = col_of(L, start);
    t->src = L->s + start;
    t->srclen = L->pos - start;
    return t;
}

static void newline(lexer *L)
{
    L->line++;
    L->line_start = L->pos;
}

/* ===== Numbers ===== */

static rv_status lex_number(lexer *L)
{
    size_t start = L->pos;
    char buf[128] = "";
    size_t n = 0;
    int is_int = 1;
    const char *s = L->s;
    for (; L->pos < L->len; L->pos++) {
        char c = s[L->pos];
        if (isdigit((unsigned char)c)) {
        } else if (c == '_' && n && isdigit((unsigned char)buf[n - 1])) {
            continue;
        } else if (c == '.' && is_int) {
            is_int = 0;
        } else if ((c == 'e' || c == 'E') && !strpbrk(buf, "eE")) {
            is_int = 0;
            if (n >= sizeof buf - 2)
                break;
            buf[n++] = c;
            buf[n] = '\0';
            if (L->pos + 1 < L->len && (s[L->pos + 1] == '+' || s[L->pos + 1] == '-'))
                buf[n++] = s[++L->pos];
            continue;
        } else {
            break;
        }
        if (n >= sizeof buf - 1)
            return lex_error(L, start, "number too long", 0);
        buf[n++] = c;
        buf[n] = '\0';
    }
    buf[n] = '\0';
    char *end;
    double x = strtod(buf, &end);
    if (*end || (L->pos < L->len && (isalnum((unsigned char)s[L->pos]) || s[L->pos] == '_')))
        return lex_error(L, start, "invalid number", 0);
    rv_token *t = push(L, RV_TOK_NUM, start);
    if (!t)
        return RV_ENOMEM;
    t->num = x;
    t->is_int = is_int;
    return RV_OK;
}

/* ===== Strings ===== */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void put_utf8(rv_buf *b, uint32_t cp)
{
    unsigned char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (unsigned char)(0xc0 | cp >> 6);
        u[1] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (unsigned char)(0xe0 | cp >> 12);
        u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
        u[2] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (unsigned char)(0xf0 | cp >> 18);
        u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
        u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
        u[3] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    rv_buf_put(b, u, n);
}

/* One escape after a backslash at L->pos; appends its bytes to b. */
static rv_status lex_escape(lexer *L, rv_buf *b)
{
    size_t at = L->pos - 1;
    char c = L->s[L->pos++];
    const char *simple = "n\nt\tr\r0\0a\ab\bf\fv\v\\\\''\"\"";
    for (const char *p = simple; p < simple + 22; p += 2)
        if (*p == c) {
            rv_buf_put(b, p + 1, 1);
            return RV_OK;
        }
    if (c == '\n') {
        newline(L);
        return RV_OK;
    }
    int digits = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
    if (!digits) { /* Python keeps unknown escapes as written */
        rv_buf_put(b, "\\", 1);
        rv_buf_put(b, &c, 1);
        return RV_OK;
    }
    uint32_t cp = 0;
    for (int i = 0; i < digits; i++) {
        int h = L->pos < L->len ? hexval(L->s[L->pos]) : -1;
        if (h < 0)
            return lex_error(L, at, "truncated \\x, \\u or \\U escape in a string", 0);
        cp = cp << 4 | (uint32_t)h;
        L->pos++;
    }
    if (cp > 0x10ffff)
        return lex_error(L, at, "escape beyond the last Unicode code point", 0);
    put_utf8(b, cp);
    return RV_OK;
}

static rv_status lex_string(lexer *L, int raw)
{
    size_t start = L->pos - (raw ? 1 : 0);
    int line0 = L->line, col0 = col_of(L, start);
    char q = L->s[L->pos++];
    if (L->pos + 1 < L->len && L->s[L->pos] == q && L->s[L->pos + 1] == q)
        return lex_error(L, start, "triple-quoted strings are not supported", 0);
    rv_buf b;
    rv_buf_init(&b);
    rv_status st = RV_OK;
    for (;;) {
        if (L->pos >= L->len || L->s[L->pos] == '\n') {
            rv_buf_free(&b);
            return rv_error_set(L->err, RV_EINVAL, "line %d, column %d: unterminated string",
                                line0, col0);
        }
        char c = L->s[L->pos++];
        if (c == q)
            break;
        if (c == '\\' && L->pos < L->len) {
            if (raw) {
                rv_buf_put(&b, &c, 1);
                c = L->s[L->pos++];
                if (c == '\n')
                    newline(L);
            } else if ((st = lex_escape(L, &b)) != RV_OK) {
                rv_buf_free(&b);
                return st;
            } else {
                continue;
            }
        }
        rv_buf_put(&b, &c, 1);
    }
    rv_token *t = b.oom ? NULL : push(L, RV_TOK_STR, start);
    if (!t) {
        rv_buf_free(&b);
        return rv_error_set(L->err, RV_ENOMEM, "out of memory reading a string");
    }
    t->line = line0;
    t->col = col0;
    rv_buf_cstr(&b);
    t->str = b.data ? b.data : calloc(1, 1);
    t->len = b.len;
    return t->str ? RV_OK : rv_error_set(L->err, RV_ENOMEM, "out of memory");
}

/* ===== Driver ===== */

static rv_status lex_one(lexer *L)
{
    const char *s = L->s;
    char c = s[L->pos];
    size_t start = L->pos;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
        L->pos++;
    } else if (c == '#') {
        while (L->pos < L->len && s[L->pos] != '\n')
            L->pos++;
    } else if (c == '\\' && L->pos + 1 < L->len && (s[L->pos + 1] == '\n' || s[L->pos + 1] == '\r')) {
        L->pos += s[L->pos + 1] == '\r' && L->pos + 2 < L->len && s[L->pos + 2] == '\n' ? 3 : 2;
        newline(L);
    } else if (c == '\n' || c == ';') {
        L->pos++;
        size_t n = L->out->n;
        if (L->depth == 0 && n && L->out->t[n - 1].kind != RV_TOK_NEWLINE &&
            !push(L, RV_TOK_NEWLINE, start))
            return RV_ENOMEM;
        if (c == '\n')
            newline(L);
    } else if (isdigit((unsigned char)c) ||
               (c == '.' && L->pos + 1 < L->len && isdigit((unsigned char)s[L->pos + 1]))) {
        return lex_number(L);
    } else if (c == '\'' || c == '"') {
        return lex_string(L, 0);
    } else if ((c == 'r' || c == 'R') && L->pos + 1 < L->len &&
               (s[L->pos + 1] == '\'' || s[L->pos + 1] == '"')) {
        L->pos++;
        return lex_string(L, 1);
    } else if (isalpha((unsigned char)c) || c == '_') {
        while (L->pos < L->len && (isalnum((unsigned char)s[L->pos]) || s[L->pos] == '_'))
            L->pos++;
        return push(L, RV_TOK_NAME, start) ? RV_OK : RV_ENOMEM;
    } else if (c && strchr("()[]{},=:|+-.*", c)) {
        L->pos++;
        if (strchr("([{", c))
            L->depth++;
        else if (strchr(")]}", c) && L->depth > 0)
            L->depth--;
        rv_token *t = push(L, RV_TOK_OP, start);
        if (!t)
            return RV_ENOMEM;
        t->op = c;
    } else if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f) {
        return lex_error(L, start, "unexpected character", c);
    } else {
        return rv_error_set(L->err, RV_EINVAL, "line %d, column %d: unexpected byte 0x%02x",
                            L->line, col_of(L, start), (unsigned char)c);
    }
    return RV_OK;
}

rv_status rv_lex(const char *text, size_t len, rv_tokens *out, rv_error *err)
{
    memset(out, 0, sizeof *out);
    lexer L = {.s = text, .len = len, .line = 1, .out = out, .err = err};
    rv_status st = RV_OK;
    while (st == RV_OK && L.pos < L.len)
        st = lex_one(&L);
    if (st == RV_OK && !push(&L, RV_TOK_EOF, L.pos))
        st = RV_ENOMEM;
    if (st != RV_OK)
        rv_tokens_free(out);
    return st;
}

void rv_tokens_free(rv_tokens *toks)
{
    for (size_t i = 0; i < toks->n; i++)
        free(toks->t[i].str);
    free(toks->t);
    memset(toks, 0, sizeof *toks);
}
