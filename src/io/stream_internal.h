/* Internals shared by the stream readers (stream.c, csv.c, ndjson.c). */
#ifndef RIVULET_IO_STREAM_INTERNAL_H
#define RIVULET_IO_STREAM_INTERNAL_H

#include "rivulet/io.h"

#include <zlib.h>

typedef struct rv_stream_col {
    rv_sym sym;
    rv_col_type type;
    const char *date_format; /* borrowed from the stream's opts copy */
    int is_target;
} rv_stream_col;

struct rv_stream {
    gzFile gz;
    char *name;
    rv_stream_opts opts; /* deep copy: specs and target owned */
    char *target_copy;
    rv_sym target_sym;
    rv_stream_format format;
    char delim;

    /* The block buffer: bytes [start, end) are read but not yet consumed;
     * buf has cap + 1 bytes so a NUL always fits after the data. */
    char *buf;
    size_t cap, start, end;
    int eof;

    uint64_t line;     /* line number of the byte at buf[start] */
    uint64_t row_line; /* line where the last returned row starts */
    uint64_t rows, skipped;
    uint64_t total;
    char first_skip[512];

    /* CSV: columns from the header, and the field spans of the current row. */
    size_t ncols;
    rv_stream_col *cols;
    const char **colnames;
    char **fstart;
    size_t *flen;
    size_t fcap; /* capacity of fstart and flen */

    /* NDJSON: the current parsed object (values borrow from it), the specs
     * as symbols, and scratch for numbers printed as strings. */
    void *json;
    rv_sym *spec_syms;
    rv_arena scratch;
};

/* Reads more input after compacting the buffer (growing it when a record
 * fills it). Returns bytes added (> 0), 0 at end of input, or RV_EIO. */
rv_status rv_stream_fill(rv_stream *s, rv_error *err);
/* Records a bad-data error for the row starting at s->row_line. */
rv_status rv_stream_bad(rv_stream *s, rv_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Converts one field's text by its column type and appends it to x (or
 * stores it in *y for the target). Empty text is an absent value. */
rv_status rv_stream_convert(rv_stream *s, rv_sym name, rv_col_type type, const char *date_format,
                            const char *text, size_t len, rv_value *out, rv_error *err);
/* The type and date format declared for a column. */
rv_col_type rv_stream_spec_of(const rv_stream *s, const char *name, size_t len,
                              const char **date_format);

rv_status rv_csv_read_header(rv_stream *s, rv_error *err);
int rv_csv_next(rv_stream *s, rv_event *x, rv_value *y, int *has_y, rv_error *err);
rv_status rv_ndjson_init(rv_stream *s, rv_error *err);
int rv_ndjson_next(rv_stream *s, rv_event *x, rv_value *y, int *has_y, rv_error *err);
void rv_ndjson_release(rv_stream *s);

#endif
