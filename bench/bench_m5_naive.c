/* Acceptance bench for the synthetic M5 set (issue 7): generates the full set
 * (30,490 series x 1,941 days) in memory, forecasts the last 28 days with
 * naive and seasonal naive, and compares their WRMSSE with the official
 * full-set figures (naive 1.752, sNaive 0.847; within 0.1 is the target).
 * Also prints the properties the generator aims at: series means (median
 * ~1.3, 99th percentile ~60), dollar shares (FOODS 57%, HOUSEHOLD 30%,
 * HOBBIES 13%), the weekday profile and 25 December.
 *
 *   make bench && build/opt/bench/bench_m5_naive [--seed N] [--items N]
 */
#include "rivulet/m5.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void describe(const rv_m5_panel *p)
{
    size_t S = p->n_series;
    double *mean = calloc(S, sizeof *mean), dollars[8] = {0}, wd[8] = {0}, xmas = 0, all = 0;
    size_t *days = calloc(S, sizeof *days), n = 0;
    for (size_t d = 1; d <= p->n_days; d++) {
        const float *y = rv_m5_panel_day(p, d);
        double tot = 0;
        for (size_t s = 0; s < S; s++) {
            if (y[s] > 0 || days[s] > 0)
                mean[s] += y[s], days[s]++;
            double price = rv_m5_panel_price(p, s, d);
            if (!isnan(price))
                dollars[p->key[RV_M5_CAT][s]] += y[s] * price;
            tot += y[s];
        }
        wd[p->calendar[d - 1].wday] += tot;
        all += tot;
        if (p->calendar[d - 1].month == 12 && p->calendar[d - 1].mday == 25)
            xmas += tot;
    }
    for (size_t s = 0; s < S; s++)
        if (days[s])
            mean[n++] = mean[s] / (double)days[s];
    qsort(mean, n, sizeof *mean, cmp_double);
    printf("series mean units/day since first sale: median %.2f, p90 %.2f, p99 %.2f (%zu series)\n",
           mean[n / 2], mean[n * 90 / 100], mean[n * 99 / 100], n);
    double dt = 0;
    for (size_t c = 0; c < p->n_names[RV_M5_CAT]; c++)
        dt += dollars[c];
    printf("dollar shares:");
    for (size_t c = 0; c < p->n_names[RV_M5_CAT]; c++)
        printf(" %s %.1f%%", p->names[RV_M5_CAT][c], 100 * dollars[c] / dt);
    printf("\nweekday profile (mean = 1):");
    for (int w = 1; w <= 7; w++)
        printf(" %.3s %.2f", rv_m5_weekday_name(w), wd[w] / (all / 7));
    printf("\nunits sold on 25 December: %.0f\n", xmas);
    free(mean);
    free(days);
}

int main(int argc, char **argv)
{
    rv_m5_gen_options o = {42, 0, 0, 0};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--seed") == 0)
            o.seed = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--items") == 0)
            o.n_items = strtoull(argv[i + 1], NULL, 10);
    }
    rv_error err = {0};
    rv_m5_panel p;
    double t0 = now();
    if (rv_m5_generate(&o, &p, &err) != RV_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    printf("generated %zu series x %zu days (seed %llu) in %.2f s\n", p.n_series, p.n_days,
           (unsigned long long)o.seed, now() - t0);
    describe(&p);
    static const char *const names[2] = {"naive", "snaive"};
    static const double official[2] = {1.752, 0.847};
    double got[2];
    for (int b = 0; b < 2; b++) {
        rv_m5_forecast f;
        rv_m5_score sc;
        size_t train_end = p.n_days - RV_M5_HORIZON;
        if (rv_m5_forecast_init(&f, &p, train_end, RV_M5_HORIZON, &err) != RV_OK)
            return 1;
        (b == 0 ? rv_m5_forecast_naive : rv_m5_forecast_snaive)(&p, &f);
        double t1 = now();
        if (rv_m5_wrmsse(&p, &f, &sc, &err) != RV_OK) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        printf("%-6s WRMSSE %.3f (official %.3f) in %.2f s; levels:", names[b], sc.wrmsse, official[b],
               now() - t1);
        for (int l = 0; l < RV_M5_LEVELS; l++)
            printf(" %.3f", sc.level[l]);
        printf("\n");
        got[b] = sc.wrmsse;
        rv_m5_forecast_free(&f);
    }
    rv_m5_panel_free(&p);
    int ok = fabs(got[0] - official[0]) <= 0.1 && fabs(got[1] - official[1]) <= 0.1;
    printf("acceptance (both within 0.1 of the official figures): %s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
