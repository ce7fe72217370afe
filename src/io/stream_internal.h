/* Internals shared by the stream readers (stream.c, csv.c, ndjson.c). */
#ifndef RIVULET_IO_STREAM_INTERNAL_H
#define RIVULET_IO_STREAM_INTERNAL_H

#include "rivulet/io.h"

#include <zlib.h>

/* The longest record (a CSV row, quoted newlines included, or an NDJSON line)
 * a stream reads. Past it the record is bad data rather than a buffer that
 * grows with the file: a quote that is never closed would otherwise make the
 * rest of the file one field, held in memory. Far above any real row, so that
 * only such mistakes meet it; the buffer stays under twice this size. */
#define RV_STREAM_MAX_RECORD (16u << 20)

/* The input: a file descriptor read with read(2), inflated when the data is
 * gzip (input.c). */
typedef struct rv_input {
    int fd;
    int gzip;      /* 1 gzip, 0 plain, -1 until the first bytes tell */
    int in_member; /* inside a gzip member (its trailer not yet read) */
    int ended;     /* end of the data seen: no more reads */
    int zlib_ready;
    z_stream z;
    unsigned char *zbuf; /* compressed bytes: z.next_in points into it */
    size_t zcap;
    uint64_t fd_bytes;   /* bytes read from fd */
    int may_wait;        /* not a regular file: a read can wait for a producer */
    void (*on_wait)(void *ctx); /* rv_stream_on_wait */
    void *on_wait_ctx;
} rv_input;

void rv_input_init(rv_input *in, int fd);
/* Reads at most cap bytes into dst, returning as soon as some are available
 * (a pipe's partial data included): the count (> 0), 0 at the end of the
 * input, or a negative rv_status with err set ("NAME: ..."). */
long rv_input_read(rv_input *in, char *dst, size_t cap, const char *name, rv_error *err);
/* Bytes of the file consumed (compressed bytes for gzip). */
uint64_t rv_input_offset(const rv_input *in);
void rv_input_close(rv_input *in); /* closes the descriptor */

typedef struct rv_stream_col {
    rv_sym sym;
    rv_col_type type;
    const char *date_format; /* borrowed from the stream's opts copy */
    int is_target;
} rv_stream_col;

struct rv_stream {
    rv_input in;
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

    /* The search for the end of the record at buf[start], kept across
     * refills so that a record arriving in many reads is scanned once.
     * Offsets count from start (the buffer is compacted under them). */
    size_t scanned;   /* bytes of the record already scanned */
    size_t quote_at;  /* CSV: where the quoted field still open began */
    int in_quote;     /* CSV: the scan stopped inside a quoted field */
    int has_quotes;   /* CSV: the record holds a quoted field */
    int skip_line;    /* a record was given up: drop input through the next '\n' */

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
/* Drops input through the next '\n' (reading as needed) and clears
 * s->skip_line: a reader that gave up on a record sets it, so that reading
 * resumes on the next line. Returns RV_OK or an I/O error. */
rv_status rv_stream_drop_line(rv_stream *s, rv_error *err);
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
