/* The synthetic M5-like stream that bench_m5_pipelines and
 * bench_family_snapshot feed their families: series ids like FOODS_3_042_CA_1
 * (3 categories, 1000 items, a store per 3000 series), dates from 2011-01-29,
 * and sales from one 64-bit LCG (Knuth's MMIX constants) seeded with 42:
 * 0-6 units, zero on a third of days. Both programs must read the same rows
 * so their MAEs compare, hence one definition. */
#ifndef RV_BENCH_SYNTHETIC_M5_H
#define RV_BENCH_SYNTHETIC_M5_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define SYNTH_SEED 42u

/* The id of series s into buf; its length. */
static inline int synth_series_id(char *buf, size_t n, int s)
{
    return snprintf(buf, n, "FOODS_%d_%03d_CA_%d", 1 + s % 3, s / 3 % 1000, 1 + s / 3000);
}

/* Day t as YYYY-MM-DD into buf (at least 11 bytes). */
static inline void synth_date(char *buf, size_t n, int t)
{
    struct tm tm = {.tm_year = 111, .tm_mon = 0, .tm_mday = 29 + t, .tm_hour = 12};
    timegm(&tm);
    strftime(buf, n, "%Y-%m-%d", &tm);
}

/* The next day's sales from the generator's state. */
static inline double synth_sales(uint64_t *state)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)((*state >> 33) % 7 * ((*state >> 40) % 3 != 0));
}

static inline double synth_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#endif
