/* rivulet m5: the M5 forecasting data set and its metric.
 *
 *   calendar   the competition's calendar (d_1 = 2011-01-29 .. d_1969 and
 *              beyond), computed from rules: Walmart weeks, US events, SNAP.
 *   panel      series ids with their hierarchy (item, dept, cat, store,
 *              state), a days x series matrix of units and weekly prices.
 *   generate   a deterministic synthetic stand-in for the full M5 set.
 *   read/write the Kaggle layout (sales wide + calendar + sell_prices) and
 *              the long CSV format (id,date,y,sell_price,snap,events...).
 *   wrmsse     the organisers' metric over the 12 aggregation levels.
 *
 * Days are numbered as M5 numbers them: day 1 is d_1 (2011-01-29, a
 * Saturday); row r of a panel's matrices is day r + 1. Price weeks are
 * Walmart weeks (Saturday to Friday), so day d lies in week (d - 1) / 7.
 */
#ifndef RIVULET_M5_H
#define RIVULET_M5_H

#include "rivulet/core.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ===== Calendar ===== */

#define RV_M5_CALENDAR_DAYS 1969 /* d_1 .. d_1969 = 2011-01-29 .. 2016-06-19 */
#define RV_M5_TRAIN_DAYS 1941    /* days in sales_train_evaluation.csv */
#define RV_M5_HORIZON 28

enum { RV_M5_CA = 0, RV_M5_TX = 1, RV_M5_WI = 2, RV_M5_NSTATES = 3 };

typedef struct rv_m5_day {
    int year, month, mday;
    int wday;     /* M5's numbering: 1 = Saturday, 2 = Sunday, .. 7 = Friday */
    int wm_yr_wk; /* e.g. 11101 for the first week */
    const char *event_name[2]; /* NULL when none; static strings */
    const char *event_type[2];
    uint8_t snap[RV_M5_NSTATES]; /* CA, TX, WI */
} rv_m5_day;

/* Fills out[0..n_days-1] with days d_1 .. d_n_days. */
void rv_m5_calendar_fill(rv_m5_day *out, size_t n_days);
/* "Saturday".."Friday" for wday 1..7. */
const char *rv_m5_weekday_name(int wday);
/* Day number of a YYYY-MM-DD date into *day (d_1 = 2011-01-29; earlier
 * dates give <= 0); returns 0, or -1 on a malformed date. */
int rv_m5_day_of_date(const char *s, size_t len, long *day);
/* Writes "YYYY-MM-DD" (11 bytes with the NUL) for day d. */
void rv_m5_date_of_day(long d, char out[11]);
/* Which state an "XX_n" store or "XX" state string names; -1 if none. */
int rv_m5_state_index(const char *s, size_t len);

/* ===== Panel ===== */

enum { RV_M5_ITEM = 0, RV_M5_DEPT, RV_M5_CAT, RV_M5_STORE, RV_M5_STATE, RV_M5_NKEYS };

typedef struct rv_m5_panel {
    size_t n_series, n_days, n_weeks; /* n_weeks = ceil(n_days / 7) */
    char **ids;                       /* "HOBBIES_1_001_CA_1", no _evaluation suffix */
    uint32_t *key[RV_M5_NKEYS];       /* per series: index into names[k] */
    char **names[RV_M5_NKEYS];        /* distinct items, depts, cats, stores, states */
    size_t n_names[RV_M5_NKEYS];
    float *units;  /* n_days x n_series, day-major: units[(d - 1) * n_series + s] */
    float *prices; /* n_weeks x n_series, NaN when not on sale that week */
    rv_m5_day *calendar; /* n_days entries */
} rv_m5_panel;

/* Allocates an empty panel for these ids (hierarchy parsed from each id,
 * units 0, prices NaN). ids are copied. */
rv_status rv_m5_panel_init(rv_m5_panel *p, const char *const *ids, size_t n_series, size_t n_days,
                           rv_error *err);
void rv_m5_panel_free(rv_m5_panel *p);
/* Price of series s on day d (1-based), NaN if none. */
static inline double rv_m5_panel_price(const rv_m5_panel *p, size_t s, size_t d)
{
    return p->prices[((d - 1) / 7) * p->n_series + s];
}
static inline float *rv_m5_panel_day(const rv_m5_panel *p, size_t d)
{
    return p->units + (d - 1) * p->n_series;
}
/* Index of a series id (suffix _evaluation/_validation ignored), or -1. */
long rv_m5_panel_find(const rv_m5_panel *p, const char *id, size_t len);
/* Splits "CAT_D_NNN_ST_N" into its hierarchy; returns 0 on success. Each
 * out[k] receives the length of the prefix/suffix naming key k. */
int rv_m5_id_parse(const char *id, size_t len, size_t off[RV_M5_NKEYS], size_t n[RV_M5_NKEYS]);

/* ===== Synthetic data ===== */

typedef struct rv_m5_gen_options {
    uint64_t seed;   /* default 42 */
    size_t n_items;  /* 0 = all 3,049 items (x 10 stores) */
    size_t n_series; /* 0 = n_items x 10; otherwise keeps the first n_series */
    size_t n_days;   /* 0 = 1,941 (the evaluation file's length); at most 1,969 */
} rv_m5_gen_options;

/* Generates the synthetic panel. Identical for a seed on every machine;
 * an item's series are the same whatever the size options. */
rv_status rv_m5_generate(const rv_m5_gen_options *o, rv_m5_panel *out, rv_error *err);

/* ===== Files ===== */

/* Writes sales_train_evaluation.csv, calendar.csv and sell_prices.csv in dir. */
rv_status rv_m5_write_kaggle(const rv_m5_panel *p, const char *dir, rv_error *err);
/* Writes the long format (gzip when path ends in .gz), sorted by date then id. */
rv_status rv_m5_write_long(const rv_m5_panel *p, const char *path, rv_error *err);
/* Reads a Kaggle directory (sales_train_evaluation.csv, or _validation, or
 * the file named directly; calendar.csv and sell_prices.csv beside it). */
rv_status rv_m5_read_kaggle(const char *path, rv_m5_panel *out, rv_error *err);
/* Reads the long format, plain or gzip (id, date, y; sell_price optional). */
rv_status rv_m5_read_long(const char *path, rv_m5_panel *out, rv_error *err);
/* Either of the above: a directory or a wide file -> Kaggle, else long. */
rv_status rv_m5_read(const char *path, rv_m5_panel *out, rv_error *err);
/* Copies the units and known prices of days 1 .. from->n_days from `from`
 * into p (series matched by id; each of p's must be in `from`): a training
 * file laid over a truth file that holds only the horizon makes one panel. */
rv_status rv_m5_panel_overlay(rv_m5_panel *p, const rv_m5_panel *from, rv_error *err);

/* ===== Forecasts and the metric ===== */

/* Forecasts of days train_end + 1 .. train_end + horizon for every series of
 * a panel: values[h * n_series + s] (day-major like the panel). */
typedef struct rv_m5_forecast {
    size_t train_end, horizon, n_series;
    double *values;
} rv_m5_forecast;

rv_status rv_m5_forecast_init(rv_m5_forecast *f, const rv_m5_panel *p, size_t train_end,
                              size_t horizon, rv_error *err);
void rv_m5_forecast_free(rv_m5_forecast *f);
/* Naive: every day repeats day train_end. */
void rv_m5_forecast_naive(const rv_m5_panel *p, rv_m5_forecast *f);
/* Seasonal naive: day train_end + h repeats day train_end - 7 + ((h - 1) mod 7) + 1. */
void rv_m5_forecast_snaive(const rv_m5_panel *p, rv_m5_forecast *f);
/* Reads id,date,prediction (long) or id,F1..Fh (Kaggle submission) for p. */
rv_status rv_m5_forecast_read(const char *path, const rv_m5_panel *p, size_t train_end,
                              rv_m5_forecast *f, rv_error *err);
rv_status rv_m5_forecast_write(const rv_m5_forecast *f, const rv_m5_panel *p, const char *path,
                               rv_error *err);

#define RV_M5_LEVELS 12
typedef struct rv_m5_score {
    double wrmsse;                     /* sum over levels of level[l] / 12 */
    double level[RV_M5_LEVELS];        /* weighted RMSSE of each level (weights sum to 1) */
    size_t level_series[RV_M5_LEVELS]; /* 1, 3, 10, 3, 7, 9, 21, 30, 70, 3049, 9147, 30490 */
    size_t zero_scale;                 /* series left out: no change after their first sale */
} rv_m5_score;

extern const char *const rv_m5_level_names[RV_M5_LEVELS];

/* WRMSSE of forecast f against p's days f->train_end + 1 .. + horizon, with
 * scales from days 1 .. train_end and weights from the dollar sales of days
 * train_end - 27 .. train_end. */
rv_status rv_m5_wrmsse(const rv_m5_panel *p, const rv_m5_forecast *f, rv_m5_score *out,
                       rv_error *err);
/* Level-12 weight of series s (its share of dollar sales over the last 28
 * training days), and its dollar sales there. */
double rv_m5_dollar_sales(const rv_m5_panel *p, size_t s, size_t train_end);

/* ===== Command line ===== */

/* `rivulet m5 generate|score ...`; argv[0] is "m5". */
int rv_m5_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif
