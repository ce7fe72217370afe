/* Line-by-line reading and writing of the M5 CSV files, plain or gzip
 * (zlib's gz functions read either transparently). The M5 files never quote
 * fields, so a line is split at every comma. */
#ifndef RIVULET_M5_CSV_H
#define RIVULET_M5_CSV_H

#include "rivulet/core.h"

#include <stdio.h>
#include <zlib.h>

typedef struct m5_csv {
    gzFile f;
    const char *path;
    char *buf;
    size_t cap, len, pos;
    size_t lineno;
    int eof;
} m5_csv;

rv_status m5_csv_open(m5_csv *c, const char *path, rv_error *err);
void m5_csv_close(m5_csv *c);
/* Next line split in place: fields[i] NUL-terminated; returns the number of
 * fields (at most max; extra fields are counted but not stored), 0 at end of
 * file, negative on a read error. A line ending in \r\n is accepted. */
int m5_csv_next(m5_csv *c, char **fields, int max, rv_error *err);
/* Index of a header column, or -1. */
int m5_csv_column(char **fields, int n, const char *name);
/* Parses a whole field as a finite double; returns 0 on success. An empty
 * field gives NAN and 1. */
int m5_csv_double(const char *s, double *out);

/* Buffered writer (gzip when the path ends in .gz). */
typedef struct m5_out {
    FILE *f;
    gzFile gz;
    rv_buf b;
} m5_out;

rv_status m5_out_open(m5_out *o, const char *path, rv_error *err);
rv_status m5_out_flush(m5_out *o, int force, rv_error *err); /* writes when the buffer is large */
rv_status m5_out_close(m5_out *o, rv_error *err);
/* Appends the shortest decimal text of a count or price (integers without ".0"). */
void m5_out_num(rv_buf *b, double x);

#endif
