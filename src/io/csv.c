/* CSV rows (RFC 4180) out of the stream's block buffer.
 *
 * A record is found first, then split into fields in place:
 *
 *   - fast path: the bytes up to the next '\n' hold no '"' opening a field.
 *     The record is that line (minus a trailing '\r') and fields are the
 *     spans between delimiters, found with memchr. Nothing is copied.
 *   - quoted path: a '"' opening a field starts a quoted field that runs to
 *     the next lone '"' (a doubled "" is one quote) and may hold delimiters
 *     and newlines. The record is scanned to its end without writing, then
 *     split, each quoted field unescaped in place (it only shrinks). As in
 *     Python's csv module, a '"' in the middle of an unquoted field is a
 *     plain character, and text after a closing quote is kept.
 *
 * When the buffer ends inside a record, stream.c moves the partial record to
 * the front and reads more, growing the buffer only for a record larger than
 * it; the scan resumes where it stopped. Blank lines are skipped. Line
 * numbers count physical lines, so a row with quoted newlines reports the
 * line where it starts.
 *
 * A quoted field that is never closed, or a record longer than
 * RV_STREAM_MAX_RECORD, is bad data. RFC 4180 lets a quoted field span lines,
 * so an unclosed quote shows only at the end of the input (or at the limit);
 * it is reported at the line where the field opened, and reading resumes on
 * the line after that one, since a stray quote in one row is the likely
 * cause. (A second stray quote further on closes the first one: the rows
 * between then read as one field, which no reader can tell apart from a
 * real multi-line field.)
 */
#include "io/stream_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SCAN_MORE = 0, SCAN_FOUND = 1, SCAN_UNCLOSED = 2 };

/* Looks for the end of the record at b within [b, lim), resuming where the
 * previous call stopped (s->scanned): a record that arrives in many reads is
 * scanned once. A '"' opening a field (at the record's start or after a
 * delimiter) starts a quoted field, which runs to the next lone '"'; any
 * other '"' is a plain character. Returns SCAN_FOUND with *end at the
 * record's '\n' (or at lim when the input ends there), SCAN_MORE when
 * [b, lim) ends inside the record, or SCAN_UNCLOSED when the input ends
 * inside a quoted field. eof: the input ends at lim. */
static int scan_record(rv_stream *s, const char *b, const char *lim, int eof, const char **end)
{
    const char *p = b + s->scanned;
    while (p < lim) {
        if (s->in_quote) {
            const char *q = memchr(p, '"', (size_t)(lim - p));
            if (!q) {
                p = lim;
            } else if (q + 1 == lim && !eof) {
                p = q; /* "" or the closing quote: the next read tells */
                break;
            } else if (q + 1 < lim && q[1] == '"') {
                p = q + 2;
            } else {
                s->in_quote = 0;
                p = q + 1;
            }
            continue;
        }
        const char *nl = memchr(p, '\n', (size_t)(lim - p));
        const char *stop = nl ? nl : lim;
        const char *q = memchr(p, '"', (size_t)(stop - p));
        while (q && q > b && q[-1] != s->delim)
            q = memchr(q + 1, '"', (size_t)(stop - q - 1));
        if (q) {
            s->in_quote = s->has_quotes = 1;
            s->quote_at = (size_t)(q - b);
            p = q + 1;
            continue;
        }
        if (nl) {
            *end = nl;
            return SCAN_FOUND;
        }
        p = lim;
    }
    s->scanned = (size_t)(p - b);
    if (!eof)
        return SCAN_MORE;
    if (s->in_quote)
        return SCAN_UNCLOSED;
    *end = lim;
    return SCAN_FOUND;
}

static void reset_scan(rv_stream *s)
{
    s->scanned = s->quote_at = 0;
    s->in_quote = s->has_quotes = 0;
}

static size_t count_newlines(const char *p, const char *e)
{
    size_t n = 0;
    while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
        n++;
        p++;
    }
    return n;
}

/* Gives up on the record at b: a quoted field in it is never closed, or it
 * runs past RV_STREAM_MAX_RECORD (the scan stopped at lim). The error names
 * the line where the open quoted field began, else the record's first line.
 * Reading resumes on the line after that quote's (else after lim's): a stray
 * quote costs its own row, not the rows after it. */
static int give_up_record(rv_stream *s, const char *b, const char *lim, int found, rv_error *err)
{
    int quote = s->in_quote;
    const char *from = quote ? b + s->quote_at : lim;
    uint64_t from_line = s->line + count_newlines(b, from);
    s->row_line = quote ? from_line : s->line;
    s->line = from_line + 1;
    s->start = (size_t)(from - s->buf);
    s->skip_line = 1;
    reset_scan(s);
    unsigned mib = RV_STREAM_MAX_RECORD >> 20;
    if (found == SCAN_UNCLOSED)
        return rv_stream_bad(s, err, "a quoted field opened here is never closed");
    if (quote)
        return rv_stream_bad(s, err, "a quoted field opened here is not closed within %u MiB "
                             "(the longest record read)", mib);
    return rv_stream_bad(s, err, "a record longer than %u MiB (the longest read): no line end "
                         "within it", mib);
}

/* Finds the next record: [*rec, *rec_end) without its line ending. Returns 1,
 * 0 at the end of input, or an error. */
static int next_record(rv_stream *s, char **rec, char **rec_end, int *quoted, rv_error *err)
{
    for (;;) {
        if (s->skip_line) {
            rv_status st = rv_stream_drop_line(s, err);
            if (st < 0)
                return st;
        }
        char *b = s->buf + s->start, *e = s->buf + s->end;
        /* The scan stops past the limit as if the input paused there, so a
         * long record is refused alike however the reads cut it. */
        char *lim = (size_t)(e - b) > RV_STREAM_MAX_RECORD ? b + RV_STREAM_MAX_RECORD + 1 : e;
        const char *end = NULL;
        int found = scan_record(s, b, lim, s->eof && lim == e, &end);
        if (found == SCAN_MORE && (size_t)(lim - b) <= RV_STREAM_MAX_RECORD) {
            rv_status st = rv_stream_fill(s, err);
            if (st < 0)
                return st;
            continue;
        }
        if (b == e)
            return 0;
        if (found != SCAN_FOUND)
            return give_up_record(s, b, lim, found, err);
        s->row_line = s->line;
        *quoted = s->has_quotes;
        s->line += 1 + (*quoted ? count_newlines(b, end) : 0);
        s->start = (size_t)(end - s->buf) + (end < e);
        reset_scan(s);
        *rec = b;
        *rec_end = (char *)end;
        if (*rec_end > *rec && (*rec_end)[-1] == '\r')
            (*rec_end)--;
        return 1;
    }
}

static int add_field(rv_stream *s, size_t *nf, char *p, size_t len)
{
    size_t n = (*nf)++;
    if (n >= s->fcap) {
        size_t cap = 2 * n + 16;
        char **fs = realloc(s->fstart, cap * sizeof *fs);
        if (fs)
            s->fstart = fs;
        size_t *fl = realloc(s->flen, cap * sizeof *fl);
        if (fl)
            s->flen = fl;
        if (!fs || !fl)
            return RV_ENOMEM;
        s->fcap = cap;
    }
    s->fstart[n] = p;
    s->flen[n] = len;
    return RV_OK;
}

static int split_plain(rv_stream *s, char *p, char *e, size_t *nf)
{
    for (;;) {
        char *q = memchr(p, s->delim, (size_t)(e - p));
        if (!q)
            q = e;
        if (*nf < s->fcap) {
            s->fstart[*nf] = p;
            s->flen[(*nf)++] = (size_t)(q - p);
        } else if (add_field(s, nf, p, (size_t)(q - p)))
            return RV_ENOMEM;
        if (q == e)
            return RV_OK;
        p = q + 1;
    }
}

static int split_quoted(rv_stream *s, char *r, char *e, size_t *nf)
{
    for (;;) {
        char *w = r, *fs = r;
        if (r < e && *r == '"') {
            r++;
            while (r < e) {
                if (*r != '"')
                    *w++ = *r++;
                else if (r + 1 < e && r[1] == '"') {
                    *w++ = '"';
                    r += 2;
                } else {
                    r++;
                    break;
                }
            }
        }
        while (r < e && *r != s->delim)
            *w++ = *r++;
        if (add_field(s, nf, fs, (size_t)(w - fs)))
            return RV_ENOMEM;
        if (r >= e)
            return RV_OK;
        r++;
    }
}

/* Reads the next non-blank record and splits it; returns 1, 0 or an error. */
static int next_fields(rv_stream *s, size_t *nf, rv_error *err)
{
    for (;;) {
        char *rec = NULL, *end = NULL;
        int quoted;
        int rc = next_record(s, &rec, &end, &quoted, err);
        if (rc <= 0)
            return rc;
        if (rec == end)
            continue;
        *nf = 0;
        rc = quoted ? split_quoted(s, rec, end, nf) : split_plain(s, rec, end, nf);
        if (rc)
            return rv_error_set(err, RV_ENOMEM, "out of memory");
        return 1;
    }
}

/* "columns: a, b, c" for an error about the header (a static buffer: the
 * message is made at once; at most 400 bytes, then "..."). */
static const char *header_list(const rv_stream *s, size_t nf)
{
    static _Thread_local char list[440];
    size_t used = (size_t)snprintf(list, sizeof list, "columns:");
    for (size_t i = 0; i < nf && used < 400; i++) {
        int n = snprintf(list + used, sizeof list - used, "%s %s", i ? "," : "", s->colnames[i]);
        used += n > 0 ? (size_t)n : 0;
    }
    if (used >= 400)
        snprintf(list + 400, sizeof list - 400, " ...");
    return list;
}
static rv_status setup_columns(rv_stream *s, size_t nf, rv_error *err)
{
    s->cols = calloc(nf ? nf : 1, sizeof *s->cols);
    s->colnames = calloc(nf ? nf : 1, sizeof *s->colnames);
    if (!s->cols || !s->colnames)
        return rv_error_set(err, RV_ENOMEM, "out of memory");
    int found_target = s->opts.target == NULL;
    for (size_t i = 0; i < nf; i++) {
        const char *name = s->fstart[i];
        size_t len = s->flen[i];
        if (i == 0 && len >= 3 && memcmp(name, "\xEF\xBB\xBF", 3) == 0) {
            name += 3;
            len -= 3;
        }
        rv_stream_col *c = &s->cols[i];
        c->sym = rv_sym_intern(name, len);
        if (c->sym == RV_SYM_NONE)
            return rv_error_set(err, RV_ENOMEM, "out of memory");
        for (size_t j = 0; j < i; j++)
            if (s->cols[j].sym == c->sym)
                return rv_error_set(err, RV_EINVAL, "%s:%llu: duplicate column '%s' in the header",
                                    s->name, (unsigned long long)s->row_line, rv_sym_name(c->sym));
        s->colnames[i] = rv_sym_name(c->sym);
        c->type = rv_stream_spec_of(s, name, len, &c->date_format);
        c->is_target = c->sym == s->target_sym && s->opts.target;
        found_target |= c->is_target;
    }
    if (!found_target)
        return rv_error_set(err, RV_ENOTFOUND, "%s: no target column '%s' in the header (%s)",
                            s->name, s->opts.target, header_list(s, nf));
    for (size_t k = 0; k < s->opts.nspecs; k++) {
        rv_sym sym = rv_sym_intern_cstr(s->opts.specs[k].name);
        int known = 0;
        for (size_t i = 0; i < nf; i++)
            known |= s->cols[i].sym == sym;
        if (!known)
            return rv_error_set(err, RV_ENOTFOUND, "%s: no column '%s' in the header (%s)", s->name,
                                s->opts.specs[k].name, header_list(s, nf));
    }
    s->ncols = nf;
    return RV_OK;
}

rv_status rv_csv_read_header(rv_stream *s, rv_error *err)
{
    size_t nf = 0;
    int rc = next_fields(s, &nf, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return rv_error_set(err, RV_EINVAL, "%s: empty file (no header row)", s->name);
    return setup_columns(s, nf, err);
}

int rv_csv_next(rv_stream *s, rv_event *x, rv_value *y, int *has_y, rv_error *err)
{
    size_t nf;
    int rc = next_fields(s, &nf, err);
    if (rc <= 0)
        return rc;
    if (nf != s->ncols)
        return rv_stream_bad(s, err, "expected %zu fields, found %zu", s->ncols, nf);
    for (size_t i = 0; i < nf; i++) {
        size_t len = s->flen[i];
        if (len == 0)
            continue;
        const rv_stream_col *c = &s->cols[i];
        const char *text = s->fstart[i];
        rv_value v;
        double num;
        if (c->type == RV_COL_AUTO && !c->is_target) {
            /* The common case, kept free of calls beyond the parse. */
            rv_status st = rv_parse_decimal(text, len, &num) ? rv_event_push_num(x, c->sym, num)
                                                             : rv_event_push_str(x, c->sym, text, len);
            if (st)
                return rv_error_set(err, RV_ENOMEM, "out of memory");
            continue;
        }
        rv_status st = rv_stream_convert(s, c->sym, c->type, c->date_format, text, len, &v, err);
        if (st)
            return st;
        if (c->is_target) {
            if (v.kind == RV_NUM && !isfinite(v.num)) /* a bad row --skip-bad can skip */
                return rv_stream_bad(s, err, "the target '%s' is not a finite number",
                                     rv_sym_name(c->sym));
            *y = v;
            *has_y = 1;
        } else if (v.kind == RV_NUM ? rv_event_push_num(x, c->sym, v.num)
                                    : rv_event_push_str(x, c->sym, v.str, v.len)) {
            return rv_error_set(err, RV_ENOMEM, "out of memory");
        }
    }
    return 1;
}
