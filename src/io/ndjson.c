/* NDJSON rows: one JSON object per line, decoded by jansson.
 *
 * Values: numbers are numbers (every number is decoded as a double, so
 * integers beyond 64 bits read as strtod would), strings are strings, true
 * and false are 1 and 0, null is an absent feature. Arrays and objects as
 * values are bad data. Features keep the object's key order (jansson keeps
 * insertion order). Column types apply as in CSV: a forced int/float/date
 * parses a string value; a forced str prints a number with the shortest
 * round-trip text. String values borrow from the decoded object, which is
 * kept until the next row. Blank lines are skipped.
 */
#include "io/stream_internal.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

rv_status rv_ndjson_init(rv_stream *s, rv_error *err)
{
    s->spec_syms = calloc(s->opts.nspecs ? s->opts.nspecs : 1, sizeof *s->spec_syms);
    if (!s->spec_syms)
        return rv_error_set(err, RV_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->opts.nspecs; i++)
        s->spec_syms[i] = rv_sym_intern_cstr(s->opts.specs[i].name);
    return RV_OK;
}

void rv_ndjson_release(rv_stream *s)
{
    if (s->json) {
        json_decref((json_t *)s->json);
        s->json = NULL;
    }
}

/* The next non-blank line [*line, *end); 1, 0 at the end, or an error. A
 * line past RV_STREAM_MAX_RECORD is bad data, and reading resumes after it. */
static int next_line(rv_stream *s, char **line, char **end, rv_error *err)
{
    for (;;) {
        if (s->skip_line) {
            rv_status st = rv_stream_drop_line(s, err);
            if (st < 0)
                return st;
        }
        char *b = s->buf + s->start, *e = s->buf + s->end;
        /* Searched as far as the limit, from where the last search stopped. */
        char *lim = (size_t)(e - b) > RV_STREAM_MAX_RECORD ? b + RV_STREAM_MAX_RECORD + 1 : e;
        char *nl = memchr(b + s->scanned, '\n', (size_t)(lim - b) - s->scanned);
        if (!nl && !(s->eof && lim == e)) {
            s->scanned = (size_t)(lim - b);
            if ((size_t)(lim - b) <= RV_STREAM_MAX_RECORD) {
                rv_status st = rv_stream_fill(s, err);
                if (st < 0)
                    return st;
                continue;
            }
            s->scanned = 0;
            s->row_line = s->line++;
            s->start = (size_t)(lim - s->buf);
            s->skip_line = 1;
            return rv_stream_bad(s, err, "a line longer than %u MiB (the longest read)",
                                 RV_STREAM_MAX_RECORD >> 20);
        }
        s->scanned = 0;
        if (b == e)
            return 0;
        char *stop = nl ? nl : e;
        s->row_line = s->line++;
        s->start = (size_t)(stop - s->buf) + (nl != NULL);
        char *p = b;
        while (p < stop && strchr(" \t\r", *p))
            p++;
        if (p == stop)
            continue;
        *line = b;
        *end = stop;
        return 1;
    }
}

static rv_col_type spec_for(const rv_stream *s, rv_sym sym, const char **date_format)
{
    for (size_t i = 0; i < s->opts.nspecs; i++)
        if (s->spec_syms[i] == sym) {
            *date_format = s->opts.specs[i].date_format;
            return s->opts.specs[i].type;
        }
    *date_format = NULL;
    return RV_COL_AUTO;
}

/* One JSON value to an rv_value; *absent for null. */
static rv_status json_value(rv_stream *s, rv_sym sym, json_t *v, rv_value *out, int *absent,
                            rv_error *err)
{
    const char *fmt;
    rv_col_type type = spec_for(s, sym, &fmt);
    *absent = 0;
    if (json_is_null(v)) {
        *absent = 1;
        return RV_OK;
    }
    if (json_is_string(v)) {
        size_t len = json_string_length(v);
        if (len == 0) {
            *absent = 1;
            return RV_OK;
        }
        /* A string stays a string unless the column is typed. */
        rv_col_type t = type == RV_COL_AUTO ? RV_COL_STR : type;
        return rv_stream_convert(s, sym, t, fmt, json_string_value(v), len, out, err);
    }
    if (json_is_number(v) || json_is_boolean(v)) {
        double x = json_is_number(v) ? json_number_value(v) : json_is_true(v);
        if (type == RV_COL_INT && (x != floor(x) || !(fabs(x) <= 9007199254740992.0))) /* 2^53 */
            return rv_stream_bad(s, err, "column '%s': %.17g is not an integer exact as a double"
                                 " (at most 2^53)", rv_sym_name(sym), x);
        if (type == RV_COL_DATE)
            return rv_stream_bad(s, err, "column '%s': a number is not a date in format '%s'",
                                 rv_sym_name(sym), fmt);
        if (type != RV_COL_STR) {
            *out = rv_value_num(x);
            return RV_OK;
        }
        rv_buf b;
        rv_buf_init(&b);
        rv_buf_put_double(&b, x);
        char *copy = b.oom ? NULL : rv_arena_strdup(&s->scratch, b.data, b.len);
        size_t len = b.len;
        rv_buf_free(&b);
        if (!copy)
            return rv_error_set(err, RV_ENOMEM, "out of memory");
        *out = rv_value_str(copy, len);
        return RV_OK;
    }
    return rv_stream_bad(s, err, "field '%s': nested %s values are not supported",
                         rv_sym_name(sym), json_is_array(v) ? "array" : "object");
}

int rv_ndjson_next(rv_stream *s, rv_event *x, rv_value *y, int *has_y, rv_error *err)
{
    char *line = NULL, *end = NULL;
    int rc = next_line(s, &line, &end, err);
    if (rc <= 0)
        return rc;
    rv_ndjson_release(s);
    rv_arena_reset(&s->scratch);
    json_error_t jerr;
    /* a key twice is refused, as a CSV column twice is: which one counts is a guess */
    json_t *obj = json_loadb(line, (size_t)(end - line),
                             JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_REJECT_DUPLICATES, &jerr);
    if (!obj)
        return rv_stream_bad(s, err, "invalid JSON at column %d: %s", jerr.column, jerr.text);
    s->json = obj;
    if (!json_is_object(obj))
        return rv_stream_bad(s, err, "expected a JSON object");
    const char *key;
    size_t klen;
    json_t *v;
    json_object_keylen_foreach(obj, key, klen, v)
    {
        rv_sym sym = rv_sym_intern(key, klen);
        if (sym == RV_SYM_NONE)
            return rv_error_set(err, RV_ENOMEM, "out of memory");
        rv_value val;
        int absent;
        rv_status st = json_value(s, sym, v, &val, &absent, err);
        if (st)
            return st;
        if (absent)
            continue;
        if (sym == s->target_sym && s->opts.target) {
            if (val.kind == RV_NUM && !isfinite(val.num)) /* 1e400: a bad row --skip-bad can skip */
                return rv_stream_bad(s, err, "the target '%s' is not a finite number", rv_sym_name(sym));
            *y = val;
            *has_y = 1;
        } else if (rv_event_set_value(x, sym, &val)) {
            return rv_error_set(err, RV_ENOMEM, "out of memory");
        }
    }
    return 1;
}
