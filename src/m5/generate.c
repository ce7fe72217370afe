/* A synthetic stand-in for the full M5 set.
 *
 * Hierarchy: 3,049 items in 7 departments (HOBBIES_1 416, HOBBIES_2 149,
 * HOUSEHOLD_1 532, HOUSEHOLD_2 515, FOODS_1 216, FOODS_2 398, FOODS_3 823,
 * the order of the real file) x 10 stores (CA_1-4, TX_1-3, WI_1-3) = 30,490
 * series, listed store by store as in sales_train_evaluation.csv.
 *
 * Units of series s (item i, store j, category c) on day d:
 *
 *   y ~ NegBin(mean = lambda, size = k_s), lambda = 0 before launch, while out
 *       of stock, and on 25 December (stores closed);
 *   lambda = rate_s * F[j][c][d] * exp(x_s(week)) * season_i(d) * promo(week)
 *
 *   rate_s   = cat_scale[c] * exp(1.45 z_i + 0.55 z_s) * store_size[j]:
 *              heavy-tailed, series means median ~1.3, 99th percentile ~60;
 *   F        = weekday profile (Sat 1.23 Sun 1.16 Fri 1.03 Mon 0.92 Tue-Thu
 *              0.89 on average; its amplitude grows from 0.65 to 1.35 times
 *              that over the years, as the real one does) x yearly seasonality per category x growth x SNAP uplift
 *              on FOODS (CA +10%, TX +16%, WI +24%) x event effects x daily
 *              shocks shared by the country, the state, the store and the
 *              store's category, plus a weekly AR(1) level of each store's
 *              category (what makes aggregates wander week to week);
 *   x_s      = a slow AR(1) level drift, stepped weekly;
 *   promo    = (price / regular price)^-2 on promotion weeks;
 *   stockout = a two-state Markov chain (runs of zeros, ~2 weeks).
 * Prices are per item and state, sticky: the regular price moves rarely, a
 * promotion lasts a week or two. Before a series' launch its price is absent
 * and its units zero (the long leading zeros of the real data).
 *
 * Every random draw comes from a stream keyed by (seed, purpose, index)
 * (random.h), so an item's series are identical whatever size is asked for,
 * and the first n days are identical whatever the number of days.
 */
#include "m5/random.h"
#include "rivulet/m5.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ===== The catalogue ===== */

enum { N_DEPTS = 7, N_STORES = 10, N_CATS = 3, N_ITEMS = 3049 };
enum { HOBBIES = 0, HOUSEHOLD = 1, FOODS = 2 };
static const char *const dept_name[N_DEPTS] = {"HOBBIES_1",   "HOBBIES_2", "HOUSEHOLD_1",
                                               "HOUSEHOLD_2", "FOODS_1",   "FOODS_2", "FOODS_3"};
static const int dept_items[N_DEPTS] = {416, 149, 532, 515, 216, 398, 823};
static const int dept_cat[N_DEPTS] = {HOBBIES, HOBBIES, HOUSEHOLD, HOUSEHOLD, FOODS, FOODS, FOODS};
static const char *const store_name[N_STORES] = {"CA_1", "CA_2", "CA_3", "CA_4", "TX_1",
                                                 "TX_2", "TX_3", "WI_1", "WI_2", "WI_3"};
static const int store_state[N_STORES] = {0, 0, 0, 0, 1, 1, 1, 2, 2, 2};
static const double store_size[N_STORES] = {1.00, 0.75, 1.45, 0.62, 0.80,
                                            1.00, 0.85, 0.75, 0.95, 0.88};

/* ===== Model constants (tuned so that naive and seasonal naive score as on
 * the real set: see bench/bench_m5_naive.c) ===== */

static const double weekday_mult[8] = {0, 1.23, 1.16, 0.92, 0.89, 0.89, 0.89, 1.03};
static const double cat_scale[N_CATS] = {0.68, 0.95, 1.90}; /* units: dollar shares 13/30/57 */
static const double cat_price[N_CATS] = {4.0, 4.8, 2.9};    /* median regular prices */
static const double cat_price_sd[N_CATS] = {0.8, 0.6, 0.5};
static const double cat_season_amp[N_CATS] = {0.08, 0.05, 0.04};
static const double cat_season_peak[N_CATS] = {350, 180, 200}; /* day of year */
static const double snap_uplift[3] = {1.10, 1.16, 1.24};
static const double sd_item = 1.45, sd_series = 0.55;
static const double growth_per_year = 0.07;
static const double shock_nat = 0.030, shock_state = 0.020, shock_store = 0.025,
                    shock_storecat = 0.025;
static const double week_amp_start = 0.65, week_amp_end = 1.35; /* weekday effect grows */
static const double storecat_phi = 0.9, storecat_sd = 0.02; /* weekly AR(1), log level */
static const double drift_phi = 0.99, drift_sd = 0.04; /* weekly AR(1) on log level */
static const double disp_median = 1.0, disp_sd = 0.6; /* variance / mean - 1 */
static const double stockout_in = 0.003, stockout_out = 0.07;
static const double p_launched = 0.6; /* items on sale from day 1 */

enum { S_ITEM = 1, S_SERIES, S_PRICE, S_SHOCK };

/* An event's multiplier for a category. */
static double event_mult(const char *name, int cat)
{
    if (!name)
        return 1.0;
    static const struct { const char *name; double m[N_CATS]; } fx[] = {
        {"Thanksgiving", {0.70, 0.72, 0.80}}, {"NewYear", {0.85, 0.85, 0.90}},
        {"SuperBowl", {1.00, 1.00, 1.08}},    {"Easter", {0.95, 0.93, 1.00}},
        {"IndependenceDay", {1.02, 0.97, 1.06}}, {"Halloween", {1.12, 1.00, 1.03}},
        {"LaborDay", {1.00, 1.00, 1.05}},     {"MemorialDay", {1.00, 1.02, 1.05}},
        {"ValentinesDay", {1.06, 1.00, 1.02}}, {"Mother's day", {1.03, 0.98, 0.97}},
        {"Father's day", {1.03, 1.00, 0.98}},
    };
    for (size_t i = 0; i < sizeof fx / sizeof fx[0]; i++)
        if (strcmp(fx[i].name, name) == 0)
            return fx[i].m[cat];
    return 1.0;
}

/* ===== Shared daily factors F[store][cat][day] ===== */

static void daily_factors(uint64_t seed, const rv_m5_day *cal, size_t n_days, float *F)
{
    /* Shocks are drawn for the whole calendar so that a shorter panel is a
     * prefix of a longer one. */
    size_t N = RV_M5_CALENDAR_DAYS > n_days ? RV_M5_CALENDAR_DAYS : n_days;
    double *nat = malloc(N * sizeof *nat), *st = malloc(3 * N * sizeof *st);
    double *sto = malloc(N_STORES * N * sizeof *sto), *sc = malloc(N_STORES * N_CATS * N * sizeof *sc);
    rv_m5_rng r;
    rv_m5_rng_seed(&r, seed, S_SHOCK, 0);
    double level[N_STORES * N_CATS] = {0};
    for (size_t d = 0; d < N; d++) {
        nat[d] = shock_nat * rv_m5_normal(&r);
        for (int s = 0; s < 3; s++)
            st[s * N + d] = shock_state * rv_m5_normal(&r);
        for (int j = 0; j < N_STORES; j++) {
            sto[j * N + d] = shock_store * rv_m5_normal(&r);
            for (int c = 0; c < N_CATS; c++) {
                double *lv = &level[j * N_CATS + c];
                if (d % 7 == 0)
                    *lv = storecat_phi * *lv + storecat_sd * rv_m5_normal(&r);
                sc[(j * N_CATS + c) * N + d] = *lv + shock_storecat * rv_m5_normal(&r);
            }
        }
    }
    for (size_t d = 0; d < n_days; d++) {
        const rv_m5_day *c = &cal[d];
        double doy = (double)(d + 28) - 365.25 * floor((double)(d + 28) / 365.25); /* d_1 = day 28 */
        int closed = c->month == 12 && c->mday == 25;
        for (int cat = 0; cat < N_CATS; cat++) {
            double amp = week_amp_start + (week_amp_end - week_amp_start) * (double)d / RV_M5_TRAIN_DAYS;
            double base = (1.0 + amp * (weekday_mult[c->wday] - 1.0)) * exp(growth_per_year * (double)d / 365.25) *
                          (1.0 + cat_season_amp[cat] *
                                     cos(6.283185307179586 * (doy - cat_season_peak[cat]) / 365.25)) *
                          event_mult(c->event_name[0], cat) * event_mult(c->event_name[1], cat);
            for (int j = 0; j < N_STORES; j++) {
                int s = store_state[j];
                double m = base * (cat == FOODS && c->snap[s] ? snap_uplift[s] : 1.0);
                m *= exp(nat[d] + st[s * N + d] + sto[j * N + d] + sc[(j * N_CATS + cat) * N + d]);
                F[((size_t)j * N_CATS + cat) * n_days + d] = closed ? 0.0f : (float)m;
            }
        }
    }
    free(nat), free(st), free(sto), free(sc);
}

/* ===== One item ===== */

typedef struct item_params {
    int dept, cat, num; /* num: 1-based within the department */
    double z, season_amp, season_peak, price;
    long launch;
} item_params;

static void item_of(uint64_t seed, int g, item_params *ip)
{
    int dep = 0, first = 0;
    while (g >= first + dept_items[dep])
        first += dept_items[dep++];
    ip->dept = dep;
    ip->cat = dept_cat[dep];
    ip->num = g - first + 1;
    rv_m5_rng r;
    rv_m5_rng_seed(&r, seed, S_ITEM, (uint64_t)g);
    ip->z = rv_m5_normal(&r);
    ip->season_amp = 0.15 * rv_m5_unif(&r);
    ip->season_peak = 365.25 * rv_m5_unif(&r);
    ip->price = cat_price[ip->cat] * exp(cat_price_sd[ip->cat] * rv_m5_normal(&r));
    double u = rv_m5_unif(&r), v = rv_m5_unif(&r);
    /* Later launches are rarer: the square skews them towards the start. */
    ip->launch = u < p_launched ? 1 : 1 + (long)(1850.0 * v * v);
}

/* Sticky weekly prices of an item in a state, and the promotion multiplier
 * of demand; both n_weeks long. */
static void price_path(uint64_t seed, int g, int state, const item_params *ip, size_t n_weeks,
                       float *price, float *promo)
{
    rv_m5_rng r;
    rv_m5_rng_seed(&r, seed, S_PRICE, (uint64_t)g * 3 + (uint64_t)state);
    double regular = ip->price * (1.0 + 0.04 * (rv_m5_unif(&r) - 0.5));
    int promo_left = 0;
    double promo_cut = 1.0;
    for (size_t w = 0; w < n_weeks; w++) {
        if (rv_m5_unif(&r) < 1.0 / 90) /* a permanent price change */
            regular *= 1.0 + (rv_m5_unif(&r) < 0.7 ? 1 : -1) * (0.03 + 0.07 * rv_m5_unif(&r));
        if (promo_left == 0 && rv_m5_unif(&r) < 0.02) {
            promo_left = 1 + (rv_m5_unif(&r) < 0.4);
            promo_cut = 0.70 + 0.2 * rv_m5_unif(&r);
        }
        double p = regular * (promo_left ? promo_cut : 1.0);
        double cents = floor(p * 100.0) + (p < 1.0 ? 0 : 0); /* prices end in .x8 or so: keep cents */
        cents = cents - fmod(cents, 10.0) + 8.0;
        price[w] = (float)(cents / 100.0);
        promo[w] = (float)(promo_left ? pow(promo_cut, -2.0) : 1.0);
        if (promo_left)
            promo_left--;
    }
}

/* Units of one series into y[0..n_days-1]; prices into price[0..n_weeks-1]. */
static void series_of(uint64_t seed, int g, int j, const item_params *ip, const float *F,
                      size_t n_days, const float *wprice, const float *promo, float *y,
                      float *price)
{
    rv_m5_rng r;
    rv_m5_rng_seed(&r, seed, S_SERIES, (uint64_t)g * N_STORES + (uint64_t)j);
    double rate = cat_scale[ip->cat] * store_size[j] * exp(sd_item * ip->z + sd_series * rv_m5_normal(&r));
    double excess = disp_median * exp(disp_sd * rv_m5_normal(&r));
    long launch = ip->launch;
    if (launch > 1 || rv_m5_unif(&r) < 0.3)
        launch += (long)(-60.0 * log(rv_m5_unif(&r)));
    double x = 0.0;
    int out = 0;
    const float *Fs = F + ((size_t)j * N_CATS + (size_t)ip->cat) * n_days;
    size_t n_weeks = (n_days + 6) / 7;
    long launch_week = (launch - 1) / 7;
    for (size_t w = 0; w < n_weeks; w++)
        price[w] = (long)w >= launch_week ? wprice[w] : NAN;
    for (size_t d = 0; d < n_days; d++) {
        if (d % 7 == 0)
            x = drift_phi * x + drift_sd * rv_m5_normal(&r);
        if ((long)d + 1 < launch || isnan(price[d / 7])) {
            y[d] = 0;
            continue;
        }
        out = out ? rv_m5_unif(&r) >= stockout_out : rv_m5_unif(&r) < stockout_in;
        double doy = (double)(d + 28);
        double season = 1.0 + ip->season_amp * cos(6.283185307179586 * (doy - ip->season_peak) / 365.25);
        double lambda = out ? 0.0 : rate * Fs[d] * exp(x) * season * promo[d / 7];
        y[d] = (float)rv_m5_negbin(&r, lambda, lambda / excess + 0.02);
    }
}

/* ===== The panel ===== */

typedef struct job {
    uint64_t seed;
    size_t n_days, n_items, n_series;
    const int *items; /* global item index of each chosen item */
    const float *F;
    rv_m5_panel *p;
    int part, parts;
    int failed;
} job;

/* Items are split between threads in two contiguous halves (so that the two
 * never write to the same cache lines of the day-major matrix). */
static void *run_job(void *arg)
{
    job *jb = arg;
    size_t n_weeks = (jb->n_days + 6) / 7, S = jb->p->n_series;
    float *y = malloc(jb->n_days * sizeof *y), *pr = malloc(n_weeks * sizeof *pr);
    float *wp = malloc(3 * n_weeks * sizeof *wp), *promo = malloc(3 * n_weeks * sizeof *promo);
    size_t lo = jb->n_items * (size_t)jb->part / (size_t)jb->parts;
    size_t hi = jb->n_items * (size_t)(jb->part + 1) / (size_t)jb->parts;
    if (!y || !pr || !wp || !promo)
        jb->failed = 1, hi = lo;
    for (size_t i = lo; i < hi; i++) {
        item_params ip;
        item_of(jb->seed, jb->items[i], &ip);
        for (int st = 0; st < 3; st++)
            price_path(jb->seed, jb->items[i], st, &ip, n_weeks, wp + st * n_weeks, promo + st * n_weeks);
        for (int j = 0; j < N_STORES; j++) {
            size_t s = (size_t)j * jb->n_items + i;
            if (s >= S)
                continue;
            int st = store_state[j];
            series_of(jb->seed, jb->items[i], j, &ip, jb->F, jb->n_days, wp + st * n_weeks,
                      promo + st * n_weeks, y, pr);
            for (size_t d = 0; d < jb->n_days; d++)
                jb->p->units[d * S + s] = y[d];
            for (size_t w = 0; w < n_weeks; w++)
                jb->p->prices[w * S + s] = pr[w];
        }
    }
    free(y), free(pr), free(wp), free(promo);
    return NULL;
}

/* Evenly spread choice of n of the 3,049 items (all departments represented). */
static void choose_items(size_t n, int *items)
{
    for (size_t i = 0; i < n; i++)
        items[i] = (int)((i * (size_t)N_ITEMS + (size_t)N_ITEMS / 2) / n);
}

static char *series_id(int g, int j)
{
    item_params ip;
    int dep = 0, first = 0;
    while (g >= first + dept_items[dep])
        first += dept_items[dep++];
    ip.num = g - first + 1;
    char *id = malloc(32);
    if (id)
        snprintf(id, 32, "%s_%03d_%s", dept_name[dep], ip.num, store_name[j]);
    return id;
}

rv_status rv_m5_generate(const rv_m5_gen_options *o, rv_m5_panel *out, rv_error *err)
{
    size_t n_days = o->n_days ? o->n_days : RV_M5_TRAIN_DAYS;
    size_t n_items = o->n_items ? o->n_items : N_ITEMS;
    if (o->n_series)
        n_items = (o->n_series + N_STORES - 1) / N_STORES;
    if (n_items > N_ITEMS || n_days > RV_M5_CALENDAR_DAYS)
        return rv_error_set(err, RV_EINVAL, "at most %d items (%d series) and %d days", N_ITEMS,
                            N_ITEMS * N_STORES, RV_M5_CALENDAR_DAYS);
    size_t n_series = o->n_series ? o->n_series : n_items * N_STORES;
    int *items = malloc(n_items * sizeof *items);
    char **ids = calloc(n_series, sizeof *ids);
    float *F = malloc((size_t)N_STORES * N_CATS * n_days * sizeof *F);
    rv_status st = items && ids && F ? RV_OK : rv_error_set(err, RV_ENOMEM, "out of memory");
    if (st == RV_OK) {
        choose_items(n_items, items);
        /* Store by store, as the Kaggle file lists them. */
        for (size_t s = 0; s < n_series && st == RV_OK; s++)
            if (!(ids[s] = series_id(items[s % n_items], (int)(s / n_items))))
                st = rv_error_set(err, RV_ENOMEM, "out of memory");
    }
    if (st == RV_OK)
        st = rv_m5_panel_init(out, (const char *const *)ids, n_series, n_days, err);
    if (st == RV_OK) {
        uint64_t seed = o->seed;
        daily_factors(seed, out->calendar, n_days, F);
        job jobs[2];
        pthread_t th[2];
        for (int t = 0; t < 2; t++) {
            jobs[t] = (job){seed, n_days, n_items, n_series, items, F, out, t, 2, 0};
        }
        int started = pthread_create(&th[1], NULL, run_job, &jobs[1]) == 0;
        run_job(&jobs[0]);
        if (started)
            pthread_join(th[1], NULL);
        else
            run_job(&jobs[1]);
        if (jobs[0].failed || jobs[1].failed) {
            rv_m5_panel_free(out);
            st = rv_error_set(err, RV_ENOMEM, "out of memory");
        }
    }
    for (size_t s = 0; ids && s < n_series; s++)
        free(ids[s]);
    free(ids), free(items), free(F);
    return st;
}
