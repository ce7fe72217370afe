/* io: streaming readers that turn CSV and NDJSON files into events.
 *
 * A stream yields one rv_event (the features) and, when a target column is
 * named and present, one rv_value (the target) per row:
 *
 *   rv_stream_opts o;
 *   rv_stream_opts_init(&o);
 *   o.target = "y";
 *   rv_stream *s = rv_stream_open("data.csv.gz", &o, &err);
 *   rv_event x; rv_value y; int has_y, rc;
 *   rv_event_init(&x);
 *   while ((rc = rv_stream_next(s, &x, &y, &has_y, &err)) == 1)
 *       ...;                       // rc 0 = end, < 0 = error (err says where)
 *   rv_stream_close(s);
 *
 * Formats. CSV: a header row, then RFC 4180 rows (fields quoted with '"',
 * "" inside quotes for a quote, quoted fields may hold delimiters and
 * newlines; a trailing '\r' is dropped; blank lines are skipped). NDJSON: one
 * JSON object per line (numbers are numbers, strings strings, true/false 1/0,
 * null an absent feature; nested arrays/objects are an error). Either may be
 * gzip-compressed (recognised by its magic bytes, not its name). The path "-"
 * reads standard input. The format is sniffed: a first non-blank byte '{'
 * means NDJSON, anything else CSV (or set opts.format). A record (a CSV row,
 * quoted newlines included, or an NDJSON line) holds at most 16 MiB.
 *
 * Pipes. Input is read as it arrives: from a pipe or terminal (`tail -f
 * data.csv | ...`, a process writing a row a second) rv_stream_next returns
 * a row as soon as its line is complete, without waiting for more data.
 *
 * Values. An empty field is an absent feature. By default a field that reads
 * fully as a decimal number ("12", "-3.5e2", " 7 ") is a number, anything else
 * a string (so "nan", "inf", "0x1F" stay strings). A column can be forced:
 * int (integer syntax only), float (anything strtod reads fully, nan and inf
 * included) or str (kept as text, never converted).
 *
 * Dates. Without any option a date is a string, which the model's own
 * dateparts(...) parses: that is the usual River way and costs nothing here.
 * A date column declared with rv_stream_opts_date ("date=%Y-%m-%d", formats of
 * %Y %m %d %H %M %S %% and literal characters) is validated and converted to
 * a number: days since 1970-01-01 (UTC, proleptic Gregorian), with the time
 * of day as a fraction. A value that does not match is a bad-data error.
 *
 * Lifetimes. Feature names are interned once (from the CSV header). String
 * values, in the event and in *y, point into the stream's buffer and stay
 * valid until the next rv_stream_next or rv_stream_close. Reading allocates
 * nothing per row in steady state.
 *
 * Errors. Bad data names the file, the line where the row starts and the
 * column: "data.csv:1042: column 'y': 'abc' is not a number". With
 * opts.skip_bad such rows are counted (rv_stream_skipped), the first message
 * is kept (rv_stream_first_skip), and reading goes on. A quoted field that is
 * never closed is bad data reported at the line where it opened ("data.csv:12:
 * a quoted field opened here is never closed"), and reading resumes on the
 * line after that one; so is a record past the 16 MiB limit (resuming after
 * the line of its open quote, else of the point where the limit fell).
 * Without skip_bad, rv_stream_next may be
 * called again after bad data and goes on the same way. I/O errors and a bad
 * header always stop the stream.
 */
#ifndef RIVULET_IO_H
#define RIVULET_IO_H

#include "rivulet/core.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { RV_STREAM_AUTO = 0, RV_STREAM_CSV, RV_STREAM_NDJSON } rv_stream_format;

typedef enum {
    RV_COL_AUTO = 0, /* number if it reads fully as a decimal number, else string */
    RV_COL_INT,
    RV_COL_FLOAT,
    RV_COL_STR,
    RV_COL_DATE      /* days since 1970-01-01 from a strptime-like format */
} rv_col_type;

typedef struct rv_stream_colspec {
    char *name;
    rv_col_type type;
    char *date_format; /* RV_COL_DATE only */
} rv_stream_colspec;

typedef struct rv_stream_opts {
    rv_stream_format format;
    char delimiter;           /* CSV field separator; ',' when 0 */
    const char *target;       /* target column (removed from the features); NULL for none */
    int skip_bad;             /* count and skip rows with bad data instead of failing */
    const char *display_name; /* name used in messages; default the path ("<stdin>" for "-") */
    size_t nspecs;            /* per-column types, filled by the two functions below */
    rv_stream_colspec *specs;
} rv_stream_opts;

void rv_stream_opts_init(rv_stream_opts *o);
void rv_stream_opts_free(rv_stream_opts *o);
/* "COL=int", "COL=float" or "COL=str" (as given to --type). A later spec for
 * the same column replaces an earlier one. */
rv_status rv_stream_opts_type(rv_stream_opts *o, const char *spec, rv_error *err);
/* "COL=FORMAT" (as given to --parse-date), e.g. "date=%Y-%m-%d". */
rv_status rv_stream_opts_date(rv_stream_opts *o, const char *spec, rv_error *err);
/* Sets one column's type directly (used to force a numeric target). */
rv_status rv_stream_opts_set(rv_stream_opts *o, const char *col, rv_col_type type,
                             const char *date_format, rv_error *err);
/* The type set for a column, RV_COL_AUTO if none. */
rv_col_type rv_stream_opts_get(const rv_stream_opts *o, const char *col);

typedef struct rv_stream rv_stream;

/* Opens path ("-" for stdin) and reads the CSV header. opts is copied. */
rv_stream *rv_stream_open(const char *path, const rv_stream_opts *opts, rv_error *err);
/* Reads the next row into *x (cleared first) and *y. Returns 1 for a row, 0 at
 * the end, or a negative rv_status with err set. *has_y is 0 when there is no
 * target column or the row's target is empty/null. y may be NULL. */
int rv_stream_next(rv_stream *s, rv_event *x, rv_value *y, int *has_y, rv_error *err);
/* The line where the last row returned starts (1 = the CSV header). */
uint64_t rv_stream_line(const rv_stream *s);
/* Rows returned so far, and rows skipped as bad (skip_bad mode). */
uint64_t rv_stream_rows(const rv_stream *s);
uint64_t rv_stream_skipped(const rv_stream *s);
/* The message of the first skipped row, "" if none. */
const char *rv_stream_first_skip(const rv_stream *s);
/* Bytes consumed from the file (compressed bytes for gzip), and the file's
 * size when known (a regular file), else 0: together they give an ETA. */
uint64_t rv_stream_bytes_read(const rv_stream *s);
uint64_t rv_stream_total_bytes(const rv_stream *s);
/* The format in use, and the column names of a CSV (header order, target
 * included); NDJSON streams have no fixed columns (returns 0). */
rv_stream_format rv_stream_get_format(const rv_stream *s);
size_t rv_stream_columns(const rv_stream *s, const char *const **names);
const char *rv_stream_name(const rv_stream *s);
/* fn(ctx) runs before a read that would wait for its producer (a pipe with
 * nothing in it yet), never for a regular file: the moment to flush what
 * was written for the rows before, so a slow producer's rows are answered
 * as they come. NULL fn: no call. */
void rv_stream_on_wait(rv_stream *s, void (*fn)(void *ctx), void *ctx);
void rv_stream_close(rv_stream *s); /* NULL-safe */

/* ===== Conversions, shared with other readers ===== */

/* Reads s[0..n) fully as a decimal number (surrounding blanks allowed; no nan,
 * inf or hex). Returns 1 and sets *out, else 0. Correctly rounded. */
int rv_parse_decimal(const char *s, size_t n, double *out);
/* Integer syntax only ([+-]digits); 1 on success. */
int rv_parse_integer(const char *s, size_t n, double *out);
/* Anything strtod reads fully (nan, inf included); 1 on success. */
int rv_parse_float(const char *s, size_t n, double *out);
/* Parses s[0..n) with a strptime-like format (%Y %m %d %H %M %S %%) into days
 * since 1970-01-01; 1 on success, 0 if it does not match or is not a date. */
int rv_parse_date_days(const char *s, size_t n, const char *format, double *out);

#ifdef __cplusplus
}
#endif
#endif
