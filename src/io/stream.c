/* The stream: opening a file (or stdin), the block buffer, format sniffing,
 * column type options, bad-data messages and the format-independent parts of
 * reading rows. CSV and NDJSON parsing live in csv.c and ndjson.c.
 *
 * Input comes through input.c: read(2), inflated when the data is gzip. A
 * read returns what is there, so rows from a pipe are handed on as soon as
 * their line is complete, while a regular file fills the buffer a block at a
 * time. The buffer starts at 1 MiB and doubles only when a single record does
 * not fit; the readers refuse a record past RV_STREAM_MAX_RECORD, so it never
 * grows past twice that.
 */
#include "io/stream_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RV_STREAM_BLOCK (1u << 20)

/* ===== Options ===== */

void rv_stream_opts_init(rv_stream_opts *o) { memset(o, 0, sizeof *o); }

void rv_stream_opts_free(rv_stream_opts *o)
{
    for (size_t i = 0; i < o->nspecs; i++) {
        free(o->specs[i].name);
        free(o->specs[i].date_format);
    }
    free(o->specs);
    o->specs = NULL;
    o->nspecs = 0;
}

static rv_stream_colspec *find_spec(const rv_stream_opts *o, const char *name, size_t len)
{
    for (size_t i = 0; i < o->nspecs; i++)
        if (strlen(o->specs[i].name) == len && memcmp(o->specs[i].name, name, len) == 0)
            return &o->specs[i];
    return NULL;
}

static rv_status check_date_format(const char *f, rv_error *err)
{
    for (; *f; f++) {
        if (*f != '%')
            continue;
        if (!*++f) /* strchr would find the terminator in the list */
            return rv_error_set(err, RV_EINVAL, "date format: a lone '%%' at the end (write %%%% for"
                                                " a literal '%%')");
        if (!strchr("YmdHMS%", *f))
            return rv_error_set(err, RV_EINVAL,
                                "date format: unsupported directive '%%%c' (use %%Y %%m %%d %%H "
                                "%%M %%S)",
                                *f);
    }
    return RV_OK;
}

rv_status rv_stream_opts_set(rv_stream_opts *o, const char *col, rv_col_type type,
                             const char *date_format, rv_error *err)
{
    if (type == RV_COL_DATE) {
        rv_status st = check_date_format(date_format ? date_format : "", err);
        if (st)
            return st;
    }
    rv_stream_colspec *sp = find_spec(o, col, strlen(col));
    if (!sp) {
        rv_stream_colspec *p = realloc(o->specs, (o->nspecs + 1) * sizeof *p);
        if (!p)
            return rv_error_set(err, RV_ENOMEM, "out of memory");
        o->specs = p;
        sp = &p[o->nspecs++];
        sp->name = strdup(col);
        sp->date_format = NULL;
        if (!sp->name) {
            o->nspecs--;
            return rv_error_set(err, RV_ENOMEM, "out of memory");
        }
    }
    free(sp->date_format);
    sp->date_format = NULL;
    sp->type = type;
    if (type == RV_COL_DATE && !(sp->date_format = strdup(date_format)))
        return rv_error_set(err, RV_ENOMEM, "out of memory");
    return RV_OK;
}

rv_col_type rv_stream_opts_get(const rv_stream_opts *o, const char *col)
{
    rv_stream_colspec *sp = find_spec(o, col, strlen(col));
    return sp ? sp->type : RV_COL_AUTO;
}

/* Splits "COL=VALUE" at its last '=' for types (a column name may hold '='),
 * at its first '=' for dates (a format may hold one). */
static rv_status split_spec(const char *spec, int last, char **col, const char **val,
                            rv_error *err)
{
    const char *eq = last ? strrchr(spec, '=') : strchr(spec, '=');
    if (!eq || eq == spec || !eq[1])
        return rv_error_set(err, RV_EINVAL, "expected COLUMN=VALUE, got '%s'", spec);
    *col = strndup(spec, (size_t)(eq - spec));
    *val = eq + 1;
    return *col ? RV_OK : rv_error_set(err, RV_ENOMEM, "out of memory");
}

rv_status rv_stream_opts_type(rv_stream_opts *o, const char *spec, rv_error *err)
{
    char *col;
    const char *val;
    rv_status st = split_spec(spec, 1, &col, &val, err);
    if (st)
        return st;
    rv_col_type t;
    if (strcmp(val, "int") == 0)
        t = RV_COL_INT;
    else if (strcmp(val, "float") == 0)
        t = RV_COL_FLOAT;
    else if (strcmp(val, "str") == 0)
        t = RV_COL_STR;
    else {
        free(col);
        return rv_error_set(err, RV_EINVAL, "type of '%s': expected int, float or str, got '%s'",
                            spec, val);
    }
    st = rv_stream_opts_set(o, col, t, NULL, err);
    free(col);
    return st;
}

rv_status rv_stream_opts_date(rv_stream_opts *o, const char *spec, rv_error *err)
{
    char *col;
    const char *val;
    rv_status st = split_spec(spec, 0, &col, &val, err);
    if (st)
        return st;
    st = rv_stream_opts_set(o, col, RV_COL_DATE, val, err);
    free(col);
    return st;
}

rv_col_type rv_stream_spec_of(const rv_stream *s, const char *name, size_t len,
                              const char **date_format)
{
    rv_stream_colspec *sp = find_spec(&s->opts, name, len);
    *date_format = sp ? sp->date_format : NULL;
    return sp ? sp->type : RV_COL_AUTO;
}

/* ===== Messages and conversion ===== */

rv_status rv_stream_bad(rv_stream *s, rv_error *err, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return rv_error_set(err, RV_EINVAL, "%s:%llu: %s", s->name, (unsigned long long)s->row_line,
                        msg);
}

static const char *type_noun(rv_col_type t)
{
    return t == RV_COL_INT ? "an integer" : "a number";
}

rv_status rv_stream_convert(rv_stream *s, rv_sym name, rv_col_type type, const char *date_format,
                            const char *text, size_t len, rv_value *out, rv_error *err)
{
    double x;
    int shown = len > 60 ? 60 : (int)len;
    switch (type) {
    case RV_COL_AUTO:
        *out = rv_parse_decimal(text, len, &x) ? rv_value_num(x) : rv_value_str(text, len);
        return RV_OK;
    case RV_COL_STR:
        *out = rv_value_str(text, len);
        return RV_OK;
    case RV_COL_INT:
    case RV_COL_FLOAT:
        if (type == RV_COL_INT ? rv_parse_integer(text, len, &x) : rv_parse_float(text, len, &x)) {
            *out = rv_value_num(x);
            return RV_OK;
        }
        return rv_stream_bad(s, err, "column '%s': '%.*s' is not %s", rv_sym_name(name), shown,
                             text, type_noun(type));
    case RV_COL_DATE:
        if (rv_parse_date_days(text, len, date_format, &x)) {
            *out = rv_value_num(x);
            return RV_OK;
        }
        return rv_stream_bad(s, err, "column '%s': '%.*s' is not a date in format '%s'",
                             rv_sym_name(name), shown, text, date_format);
    }
    return rv_error_set(err, RV_EINVAL, "bad column type");
}

/* ===== Buffer ===== */

rv_status rv_stream_fill(rv_stream *s, rv_error *err)
{
    if (s->eof)
        return 0;
    if (s->start > 0) {
        memmove(s->buf, s->buf + s->start, s->end - s->start);
        s->end -= s->start;
        s->start = 0;
    }
    if (s->cap - s->end < RV_STREAM_BLOCK / 2) {
        size_t cap = s->cap * 2;
        char *nb = realloc(s->buf, cap + 1);
        if (!nb)
            return rv_error_set(err, RV_ENOMEM, "%s: out of memory for a record of %zu bytes",
                                s->name, s->end);
        s->buf = nb;
        s->cap = cap;
    }
    long n = rv_input_read(&s->in, s->buf + s->end, s->cap - s->end, s->name, err);
    if (n < 0)
        return (rv_status)n;
    if (n == 0)
        s->eof = 1;
    s->end += (size_t)n;
    s->buf[s->end] = '\0';
    return (rv_status)n;
}

rv_status rv_stream_drop_line(rv_stream *s, rv_error *err)
{
    for (;;) {
        char *nl = memchr(s->buf + s->start, '\n', s->end - s->start);
        if (nl || s->eof) {
            s->start = nl ? (size_t)(nl + 1 - s->buf) : s->end;
            s->skip_line = 0;
            return RV_OK;
        }
        s->start = s->end; /* nothing kept, so the buffer does not grow */
        rv_status st = rv_stream_fill(s, err);
        if (st < 0)
            return st;
    }
}

/* ===== Open, read, close ===== */

static rv_status open_input(rv_stream *s, const char *path, rv_error *err)
{
    int fd = strcmp(path, "-") == 0 ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return rv_error_set(err, RV_EIO, "%s: %s", s->name, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        s->total = (uint64_t)st.st_size;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return rv_error_set(err, RV_EIO, "%s: is a directory", s->name);
    }
    rv_input_init(&s->in, fd);
    return RV_OK;
}

/* The first non-blank byte (after a BOM) tells the format. A pipe's first
 * read may hold only blank lines, so reading goes on until that byte is
 * there, the input ends, or a block of blanks is buffered (then CSV). */
static rv_status sniff(rv_stream *s, rv_stream_format *format, rv_error *err)
{
    for (;;) {
        size_t i = s->start;
        if (s->end - i >= 3 && memcmp(s->buf + i, "\xEF\xBB\xBF", 3) == 0)
            i += 3;
        while (i < s->end && strchr(" \t\r\n", s->buf[i]))
            i++;
        if (i < s->end || s->eof || s->end - s->start >= RV_STREAM_BLOCK) {
            *format = i < s->end && s->buf[i] == '{' ? RV_STREAM_NDJSON : RV_STREAM_CSV;
            return RV_OK;
        }
        rv_status st = rv_stream_fill(s, err);
        if (st < 0)
            return st;
    }
}

static rv_status copy_opts(rv_stream *s, const rv_stream_opts *o, rv_error *err)
{
    s->opts = *o;
    s->opts.specs = NULL;
    s->opts.nspecs = 0;
    s->opts.target = NULL;
    for (size_t i = 0; i < o->nspecs; i++) {
        rv_status st = rv_stream_opts_set(&s->opts, o->specs[i].name, o->specs[i].type,
                                          o->specs[i].date_format, err);
        if (st)
            return st;
    }
    if (o->target) {
        if (!(s->target_copy = strdup(o->target)))
            return rv_error_set(err, RV_ENOMEM, "out of memory");
        s->opts.target = s->target_copy;
        s->target_sym = rv_sym_intern_cstr(o->target);
    }
    return RV_OK;
}

rv_stream *rv_stream_open(const char *path, const rv_stream_opts *opts, rv_error *err)
{
    rv_stream_opts none;
    rv_stream_opts_init(&none);
    if (!opts)
        opts = &none;
    rv_stream *s = calloc(1, sizeof *s);
    if (!s) {
        rv_error_set(err, RV_ENOMEM, "out of memory");
        return NULL;
    }
    rv_arena_init(&s->scratch);
    const char *shown = opts->display_name ? opts->display_name
                        : strcmp(path, "-") == 0 ? "<stdin>" : path;
    s->name = strdup(shown);
    s->cap = RV_STREAM_BLOCK;
    s->buf = malloc(s->cap + 1);
    s->delim = opts->delimiter ? opts->delimiter : ',';
    s->line = 1;
    rv_input_init(&s->in, -1);
    rv_status st = !s->name || !s->buf ? rv_error_set(err, RV_ENOMEM, "out of memory")
                                       : copy_opts(s, opts, err);
    if (!st)
        st = open_input(s, path, err);
    if (!st && (st = rv_stream_fill(s, err)) > 0)
        st = RV_OK;
    s->format = opts->format;
    if (!st && !s->format)
        st = sniff(s, &s->format, err);
    if (!st)
        st = s->format == RV_STREAM_NDJSON ? rv_ndjson_init(s, err) : rv_csv_read_header(s, err);
    if (st < 0) {
        rv_stream_close(s);
        return NULL;
    }
    return s;
}

int rv_stream_next(rv_stream *s, rv_event *x, rv_value *y, int *has_y, rv_error *err)
{
    rv_value ydummy;
    int hdummy;
    if (!y)
        y = &ydummy;
    if (!has_y)
        has_y = &hdummy;
    for (;;) {
        rv_event_clear(x);
        *has_y = 0;
        *y = (rv_value){0, NULL, 0, RV_NONE};
        rv_error local;
        int rc = s->format == RV_STREAM_NDJSON ? rv_ndjson_next(s, x, y, has_y, &local)
                                               : rv_csv_next(s, x, y, has_y, &local);
        if (rc == 1) {
            s->rows++;
            return 1;
        }
        if (rc == 0)
            return 0;
        /* Only bad data (RV_EINVAL) is skippable; I/O errors always stop. */
        if (rc != RV_EINVAL || !s->opts.skip_bad) {
            if (err)
                *err = local;
            return rc;
        }
        if (s->skipped++ == 0)
            snprintf(s->first_skip, sizeof s->first_skip, "%s", local.message);
    }
}

uint64_t rv_stream_line(const rv_stream *s) { return s->row_line; }
uint64_t rv_stream_rows(const rv_stream *s) { return s->rows; }
uint64_t rv_stream_skipped(const rv_stream *s) { return s->skipped; }
const char *rv_stream_first_skip(const rv_stream *s) { return s->first_skip; }
uint64_t rv_stream_total_bytes(const rv_stream *s) { return s->total; }
rv_stream_format rv_stream_get_format(const rv_stream *s) { return s->format; }
const char *rv_stream_name(const rv_stream *s) { return s->name; }

void rv_stream_on_wait(rv_stream *s, void (*fn)(void *ctx), void *ctx)
{
    s->in.on_wait = fn;
    s->in.on_wait_ctx = ctx;
}

uint64_t rv_stream_bytes_read(const rv_stream *s)
{
    return rv_input_offset(&s->in);
}

size_t rv_stream_columns(const rv_stream *s, const char *const **names)
{
    *names = s->colnames;
    return s->ncols;
}

void rv_stream_close(rv_stream *s)
{
    if (!s)
        return;
    rv_input_close(&s->in);
    rv_ndjson_release(s);
    free(s->spec_syms);
    rv_arena_free(&s->scratch);
    free(s->cols);
    free(s->colnames);
    free(s->fstart);
    free(s->flen);
    free(s->buf);
    free(s->name);
    free(s->target_copy);
    rv_stream_opts_free(&s->opts);
    free(s);
}
