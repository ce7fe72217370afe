/* WRMSSE, the M5 accuracy metric, as the organisers define it (M5
 * Competitors' Guide, 2020, section "Point forecasts" and "Weighting").
 *
 * The bottom series (item x store) are summed into 12 levels:
 *
 *   1 total   2 state   3 store   4 cat   5 dept   6 state x cat
 *   7 state x dept   8 store x cat   9 store x dept   10 item
 *   11 item x state   12 item x store        (42,840 series on the full set)
 *
 * Forecasts are summed the same way (bottom-up). For each series of each level:
 *
 *   RMSSE = sqrt( (1/h) sum_{t=n+1}^{n+h} (y_t - f_t)^2
 *                 / ( 1/(n-t0) sum_{t=t0+1}^{n} (y_t - y_{t-1})^2 ) )
 *
 * where n = train_end and t0 is the series' first day with a non-zero sale:
 * the scale is the in-sample one-step naive error from the first sale on.
 * Its weight is its dollar sales (units x sell price) over days n-27 .. n,
 * as a share of the level's; WRMSSE = sum over levels (1/12) sum w RMSSE.
 *
 * Edge case: a series whose scale is zero (never sold, or sold the same every
 * day after its first sale) has no RMSSE; it is left out (counted in
 * zero_scale). This never happens on the full real set.
 *
 * The computation streams day by day over the day-major panel, holding only
 * per-series accumulators (42,840 of them on the full set).
 */
#include "rivulet/m5.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const rv_m5_level_names[RV_M5_LEVELS] = {
    "total", "state", "store", "cat", "dept", "state x cat", "state x dept", "store x cat",
    "store x dept", "item", "item x state", "item x store"};

/* Keys whose combination defines each level (-1 ends the list). */
static const int level_keys[RV_M5_LEVELS][2] = {
    {-1, -1},           {RV_M5_STATE, -1}, {RV_M5_STORE, -1},         {RV_M5_CAT, -1},
    {RV_M5_DEPT, -1},   {RV_M5_STATE, RV_M5_CAT}, {RV_M5_STATE, RV_M5_DEPT}, {RV_M5_STORE, RV_M5_CAT},
    {RV_M5_STORE, RV_M5_DEPT}, {RV_M5_ITEM, -1}, {RV_M5_ITEM, RV_M5_STATE}, {RV_M5_ITEM, RV_M5_STORE}};

/* Fills map[s * 12 + l] with the aggregate index (over all levels) of series
 * s at level l; returns the number of aggregates, sizes per level in out. */
static size_t build_map(const rv_m5_panel *p, uint32_t *map, rv_m5_score *out)
{
    size_t base = 0;
    rv_map64 m;
    for (int l = 0; l < RV_M5_LEVELS; l++) {
        rv_map64_init(&m);
        size_t n = 0;
        for (size_t s = 0; s < p->n_series; s++) {
            uint64_t key = 0;
            for (int i = 0; i < 2 && level_keys[l][i] >= 0; i++)
                key = key << 32 | p->key[level_keys[l][i]][s];
            int inserted = 0;
            uint64_t *v = rv_map64_put(&m, key, n, &inserted);
            if (!v) {
                rv_map64_free(&m);
                return 0;
            }
            n += (size_t)inserted;
            map[s * RV_M5_LEVELS + (size_t)l] = (uint32_t)(base + *v);
        }
        rv_map64_free(&m);
        out->level_series[l] = n;
        base += n;
    }
    return base;
}

/* agg[k] = sum of x over the bottom series of aggregate k. */
static void aggregate(const uint32_t *map, size_t n_series, size_t n_agg, const float *x,
                      const double *xd, double *agg)
{
    memset(agg, 0, n_agg * sizeof *agg);
    for (size_t s = 0; s < n_series; s++) {
        double v = x ? (double)x[s] : xd[s];
        const uint32_t *m = map + s * RV_M5_LEVELS;
        for (int l = 0; l < RV_M5_LEVELS; l++)
            agg[m[l]] += v;
    }
}

double rv_m5_dollar_sales(const rv_m5_panel *p, size_t s, size_t train_end)
{
    double sum = 0.0;
    for (size_t d = train_end > 27 ? train_end - 27 : 1; d <= train_end && d <= p->n_days; d++) {
        double price = rv_m5_panel_price(p, s, d), y = rv_m5_panel_day(p, d)[s];
        if (!isnan(price) && y != 0.0)
            sum += y * price;
    }
    return sum;
}

typedef struct acc {
    double *agg, *prev, *ssd, *dollars, *sqerr, *tmp;
    size_t *cnt;
    uint8_t *started;
} acc;

static void acc_free(acc *a)
{
    free(a->agg), free(a->prev), free(a->ssd), free(a->dollars), free(a->sqerr), free(a->tmp);
    free(a->cnt), free(a->started);
}

static int acc_init(acc *a, size_t n)
{
    a->agg = calloc(n, sizeof(double));
    a->prev = calloc(n, sizeof(double));
    a->ssd = calloc(n, sizeof(double));
    a->dollars = calloc(n, sizeof(double));
    a->sqerr = calloc(n, sizeof(double));
    a->tmp = calloc(n, sizeof(double));
    a->cnt = calloc(n, sizeof(size_t));
    a->started = calloc(n, 1);
    return a->agg && a->prev && a->ssd && a->dollars && a->sqerr && a->tmp && a->cnt && a->started;
}

/* Scales and weights from the training days 1 .. n. */
static void train_pass(const rv_m5_panel *p, const uint32_t *map, size_t n_agg, size_t n, acc *a)
{
    double *dollar_day = malloc(p->n_series * sizeof *dollar_day);
    for (size_t d = 1; d <= n; d++) {
        const float *y = rv_m5_panel_day(p, d);
        aggregate(map, p->n_series, n_agg, y, NULL, a->agg);
        for (size_t k = 0; k < n_agg; k++) {
            double v = a->agg[k];
            if (a->started[k]) {
                double diff = v - a->prev[k];
                a->ssd[k] += diff * diff;
                a->cnt[k]++;
            } else if (v != 0.0) {
                a->started[k] = 1;
            }
            a->prev[k] = v;
        }
        if (d + 28 > n && dollar_day) {
            for (size_t s = 0; s < p->n_series; s++) {
                double price = rv_m5_panel_price(p, s, d);
                dollar_day[s] = isnan(price) || y[s] == 0.0f ? 0.0 : (double)y[s] * price;
            }
            aggregate(map, p->n_series, n_agg, NULL, dollar_day, a->tmp);
            for (size_t k = 0; k < n_agg; k++)
                a->dollars[k] += a->tmp[k];
        }
    }
    free(dollar_day);
}

rv_status rv_m5_wrmsse(const rv_m5_panel *p, const rv_m5_forecast *f, rv_m5_score *out,
                       rv_error *err)
{
    memset(out, 0, sizeof *out);
    size_t n = f->train_end, h = f->horizon;
    if (f->n_series != p->n_series)
        return rv_error_set(err, RV_EINVAL, "forecast has %zu series, panel %zu", f->n_series, p->n_series);
    if (n < 2 || h == 0 || n + h > p->n_days)
        return rv_error_set(err, RV_EINVAL,
                            "need training days 1..%zu and truth for days %zu..%zu, panel has %zu days", n,
                            n + 1, n + h, p->n_days);
    uint32_t *map = malloc(p->n_series * RV_M5_LEVELS * sizeof *map);
    acc a = {0};
    size_t n_agg = map ? build_map(p, map, out) : 0;
    if (!map || n_agg == 0 || !acc_init(&a, n_agg)) {
        free(map);
        acc_free(&a);
        return rv_error_set(err, RV_ENOMEM, "out of memory");
    }
    train_pass(p, map, n_agg, n, &a);
    for (size_t t = 0; t < h; t++) {
        aggregate(map, p->n_series, n_agg, rv_m5_panel_day(p, n + 1 + t), NULL, a.agg);
        aggregate(map, p->n_series, n_agg, NULL, f->values + t * p->n_series, a.tmp);
        for (size_t k = 0; k < n_agg; k++) {
            double e = a.agg[k] - a.tmp[k];
            a.sqerr[k] += e * e;
        }
    }
    rv_status st = RV_OK;
    size_t k = 0;
    for (int l = 0; l < RV_M5_LEVELS; l++) {
        double total = 0.0, sum = 0.0;
        for (size_t i = 0; i < out->level_series[l]; i++)
            total += a.dollars[k + i];
        for (size_t i = 0; i < out->level_series[l]; i++, k++) {
            double scale = a.cnt[k] ? a.ssd[k] / (double)a.cnt[k] : 0.0;
            if (!(scale > 0.0)) {
                out->zero_scale++;
                continue;
            }
            sum += a.dollars[k] / total * sqrt(a.sqerr[k] / (double)h / scale);
        }
        if (!(total > 0.0))
            st = rv_error_set(err, RV_EINVAL, "no dollar sales in the last 28 training days (days %zu..%zu)",
                              n > 27 ? n - 27 : 1, n);
        out->level[l] = sum;
        out->wrmsse += sum / RV_M5_LEVELS;
    }
    free(map);
    acc_free(&a);
    return st;
}
