/* Rows per second of the CSV stream reader on a 3-column numeric file.
 *
 *   make bench && build/opt/bench/bench_csv [ROWS] [FILE]
 *
 * Writes FILE (default /tmp/rv-bench.csv) with ROWS rows (default 5,000,000)
 * of "x,z,y" (two features and a target), then reads it back through
 * rv_stream_next three times and reports the best rows/s. The figure covers
 * I/O, CSV splitting, number conversion and event building: everything the
 * CLI pays before the model sees an event. */
#include "rivulet/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    long rows = argc > 1 ? atol(argv[1]) : 5000000;
    const char *path = argc > 2 ? argv[2] : "/tmp/rv-bench.csv";
    FILE *f = fopen(path, "w");
    if (!f)
        return perror(path), 1;
    fputs("x,z,y\n", f);
    for (long i = 0; i < rows; i++)
        fprintf(f, "%ld,%.3f,%ld\n", i % 1000, (double)(i % 9973) / 7.0, i % 37);
    fclose(f);

    rv_stream_opts o;
    rv_stream_opts_init(&o);
    o.target = "y";
    double best = 0, check = 0;
    for (int rep = 0; rep < 3; rep++) {
        rv_error err;
        rv_stream *s = rv_stream_open(path, &o, &err);
        if (!s)
            return fprintf(stderr, "%s\n", err.message), 1;
        rv_event x;
        rv_event_init(&x);
        rv_value y;
        int has_y, rc;
        double t0 = now(), sum = 0;
        while ((rc = rv_stream_next(s, &x, &y, &has_y, &err)) == 1)
            sum += y.num + x.items[0].num;
        double dt = now() - t0;
        if (rc < 0)
            return fprintf(stderr, "%s\n", err.message), 1;
        double rate = (double)rv_stream_rows(s) / dt;
        if (rate > best)
            best = rate;
        check = sum;
        rv_event_free(&x);
        rv_stream_close(s);
    }
    printf("bench_csv: %ld rows, best of 3: %.2f M rows/s (checksum %.0f)\n", rows, best / 1e6,
           check);
    remove(path);
    return 0;
}
