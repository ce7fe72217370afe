/* The progress bar: one line on stderr, redrawn in place with '\r', only
 * when stderr is a terminal and --quiet is off (so logs and pipes stay clean).
 *
 *   1.25M rows  412k rows/s  0:03 elapsed  ETA 0:05  [=======>        ] 38%
 *
 * The ETA and the bar need the input's size (a regular file; for gzip the
 * compressed bytes consumed against the compressed size); without it only
 * rows, rate and elapsed time show. rv_progress_update is called per row, so
 * it looks at the clock only every 4096 rows and draws at most 10 times/s.
 */
#include "cli/cli.h"

#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void rv_format_duration(char *out, size_t n, double seconds)
{
    if (!(seconds >= 0) || seconds > 1e7)
        seconds = 0;
    long s = (long)(seconds + 0.5);
    if (s >= 3600)
        snprintf(out, n, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(out, n, "%ld:%02ld", s / 60, s % 60);
}

/* 1234 -> "1234", 12345 -> "12.3k", 1234567 -> "1.23M" */
static void format_count(char *out, size_t n, double x)
{
    if (x < 10000)
        snprintf(out, n, "%.0f", x);
    else if (x < 1e6)
        snprintf(out, n, "%.1fk", x / 1e3);
    else
        snprintf(out, n, "%.2fM", x / 1e6);
}

void rv_progress_init(rv_progress *p, int quiet, uint64_t total_bytes)
{
    p->enabled = !quiet && isatty(STDERR_FILENO);
    p->start = now();
    p->last_draw = p->start;
    p->total_bytes = total_bytes;
    p->drawn = 0;
}

static void draw(rv_progress *p, uint64_t rows, uint64_t bytes, double t)
{
    double elapsed = t - p->start;
    char nrows[32], rate[32], el[32];
    format_count(nrows, sizeof nrows, (double)rows);
    format_count(rate, sizeof rate, elapsed > 0 ? (double)rows / elapsed : 0);
    rv_format_duration(el, sizeof el, elapsed);
    fprintf(stderr, "\r%s rows  %s rows/s  %s elapsed", nrows, rate, el);
    if (p->total_bytes && bytes) {
        double frac = (double)bytes / (double)p->total_bytes;
        if (frac > 1)
            frac = 1;
        char eta[32];
        rv_format_duration(eta, sizeof eta, elapsed * (1 - frac) / frac);
        char bar[26];
        int fill = (int)(frac * 24);
        for (int i = 0; i < 24; i++)
            bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
        bar[24] = '\0';
        fprintf(stderr, "  ETA %s  [%s] %3.0f%%", eta, bar, frac * 100);
    }
    fputs("\033[K", stderr); /* clear the rest of a longer previous line */
    fflush(stderr);
    p->drawn = 1;
    p->last_draw = t;
}

void rv_progress_update(rv_progress *p, uint64_t rows, uint64_t bytes)
{
    if (!p->enabled || (rows & 4095) != 0)
        return;
    double t = now();
    if (t - p->last_draw >= 0.1)
        draw(p, rows, bytes, t);
}

void rv_progress_finish(rv_progress *p)
{
    if (p->enabled && p->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}

double rv_progress_elapsed(const rv_progress *p) { return now() - p->start; }
