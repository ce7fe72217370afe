/* 28-day forecasts of every series of a panel: the two benchmarks, and the
 * files that carry forecasts.
 *
 *   naive           f(n + h) = y(n)                  (M5 benchmark "Naive")
 *   seasonal naive  f(n + h) = y(n - 7 + (h - 1) % 7 + 1)      ("sNaive")
 *
 * Files: long "id,date,prediction" (one row per series and day; extra
 * columns ignored), or the Kaggle submission "id,F1..Fh" whose F1 is day
 * train_end + 1. A Kaggle submission holds both "_validation" (days
 * 1914..1941) and "_evaluation" (1942..1969) rows: when train_end is 1913 or
 * 1941 the rows of the other half are skipped. Rows for series not in the
 * panel are ignored; a series or day left without a forecast is an error.
 */
#include "m5/csv.h"
#include "rivulet/m5.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

rv_status rv_m5_forecast_init(rv_m5_forecast *f, const rv_m5_panel *p, size_t train_end,
                              size_t horizon, rv_error *err)
{
    memset(f, 0, sizeof *f);
    if (horizon == 0 || horizon > 1000)
        return rv_error_set(err, RV_EINVAL, "forecast horizon %zu out of range", horizon);
    if (train_end > p->n_days) /* the naive forecasts read the last training days */
        return rv_error_set(err, RV_EINVAL, "training ends on day %zu, after the data's last day (%zu)",
                            train_end, p->n_days);
    f->values = malloc(horizon * p->n_series * sizeof *f->values);
    if (!f->values)
        return rv_error_set(err, RV_ENOMEM, "out of memory");
    for (size_t i = 0; i < horizon * p->n_series; i++)
        f->values[i] = NAN;
    f->train_end = train_end;
    f->horizon = horizon;
    f->n_series = p->n_series;
    return RV_OK;
}

void rv_m5_forecast_free(rv_m5_forecast *f)
{
    free(f->values);
    memset(f, 0, sizeof *f);
}

void rv_m5_forecast_naive(const rv_m5_panel *p, rv_m5_forecast *f)
{
    const float *last = rv_m5_panel_day(p, f->train_end);
    for (size_t h = 0; h < f->horizon; h++)
        for (size_t s = 0; s < p->n_series; s++)
            f->values[h * p->n_series + s] = last[s];
}

void rv_m5_forecast_snaive(const rv_m5_panel *p, rv_m5_forecast *f)
{
    for (size_t h = 0; h < f->horizon; h++) {
        const float *src = rv_m5_panel_day(p, f->train_end - 7 + h % 7 + 1);
        for (size_t s = 0; s < p->n_series; s++)
            f->values[h * p->n_series + s] = src[s];
    }
}

/* ===== Files ===== */

static rv_status index_ids(const rv_m5_panel *p, rv_strmap *ix, rv_error *err)
{
    for (size_t s = 0; s < p->n_series; s++)
        if (!rv_strmap_put(ix, p->ids[s], strlen(p->ids[s]), s, NULL))
            return rv_error_set(err, RV_ENOMEM, "out of memory");
    return RV_OK;
}

/* Series index of a forecast row's id, or -1 to skip the row. */
static long row_series(const rv_strmap *ix, const char *id, size_t train_end)
{
    size_t len = strlen(id);
    static const char ev[] = "_evaluation", va[] = "_validation";
    if (len > 11 && strcmp(id + len - 11, ev) == 0) {
        if (train_end == 1913)
            return -1;
        len -= 11;
    } else if (len > 11 && strcmp(id + len - 11, va) == 0) {
        if (train_end == 1941)
            return -1;
        len -= 11;
    }
    uint64_t *v = rv_strmap_get(ix, id, len);
    return v ? (long)*v : -1;
}

/* Reads the rows of an open file whose header is in hdr[0..nh-1]. */
static rv_status read_rows(m5_csv *c, char **hdr, int nh, const rv_m5_panel *p, size_t train_end,
                           rv_m5_forecast *f, rv_error *err)
{
    int i_id = m5_csv_column(hdr, nh, "id"), i_date = m5_csv_column(hdr, nh, "date");
    int i_pred = m5_csv_column(hdr, nh, "prediction"), wide = m5_csv_column(hdr, nh, "F1") >= 0;
    if (i_id < 0 || (!wide && (i_date < 0 || i_pred < 0)))
        return rv_error_set(err, RV_EINVAL, "%s: expected id,date,prediction or id,F1..F28", c->path);
    int f1 = wide ? m5_csv_column(hdr, nh, "F1") : 0;
    size_t horizon = wide ? (size_t)(nh - f1) : RV_M5_HORIZON;
    if (train_end == 0)
        train_end = p->n_days > horizon ? p->n_days - horizon : 0;
    rv_status st = rv_m5_forecast_init(f, p, train_end, horizon, err);
    rv_strmap ix;
    rv_strmap_init(&ix);
    if (st == RV_OK)
        st = index_ids(p, &ix, err);
    char *row[64];
    int n;
    while (st == RV_OK && (n = m5_csv_next(c, row, 64, err)) > 0) {
        long s = n == nh ? row_series(&ix, row[i_id], train_end) : -1;
        if (n != nh)
            st = rv_error_set(err, RV_EINVAL, "%s:%zu: %d fields, expected %d", c->path, c->lineno, n, nh);
        if (s < 0)
            continue;
        for (size_t h = 0; h < (wide ? horizon : 1) && st == RV_OK; h++) {
            long d = (long)(train_end + 1 + h);
            const char *val = wide ? row[f1 + (int)h] : row[i_pred];
            if (!wide && rv_m5_day_of_date(row[i_date], strlen(row[i_date]), &d) != 0)
                st = rv_error_set(err, RV_EINVAL, "%s:%zu: bad date", c->path, c->lineno);
            double v;
            if (st == RV_OK && m5_csv_double(val, &v) != 0)
                st = rv_error_set(err, RV_EINVAL, "%s:%zu: bad prediction '%s'", c->path, c->lineno, val);
            if (st == RV_OK && d > (long)train_end && d <= (long)(train_end + horizon))
                f->values[(size_t)(d - (long)train_end - 1) * p->n_series + (size_t)s] = v;
        }
    }
    rv_strmap_free(&ix);
    for (size_t i = 0; st == RV_OK && i < horizon * p->n_series; i++)
        if (isnan(f->values[i])) {
            char date[11];
            rv_m5_date_of_day((long)(train_end + 1 + i / p->n_series), date);
            st = rv_error_set(err, RV_EINVAL, "%s: no forecast for %s on %s", c->path,
                              p->ids[i % p->n_series], date);
        }
    if (st != RV_OK)
        rv_m5_forecast_free(f);
    return st;
}

rv_status rv_m5_forecast_read(const char *path, const rv_m5_panel *p, size_t train_end,
                              rv_m5_forecast *f, rv_error *err)
{
    memset(f, 0, sizeof *f);
    m5_csv c;
    rv_status st = m5_csv_open(&c, path, err);
    if (st != RV_OK)
        return st;
    char *hdr[64];
    int nh = m5_csv_next(&c, hdr, 64, err);
    char *copy[64];
    /* The header's fields live in the read buffer, which the next line may
     * move: keep copies. */
    for (int i = 0; i < nh && i < 64; i++)
        copy[i] = strdup(hdr[i]);
    if (nh <= 0 || nh > 64)
        st = rv_error_set(err, RV_EINVAL, "%s: missing header or more than 64 columns", path);
    else
        st = read_rows(&c, copy, nh, p, train_end, f, err);
    for (int i = 0; i < nh && i < 64; i++)
        free(copy[i]);
    m5_csv_close(&c);
    return st;
}

rv_status rv_m5_forecast_write(const rv_m5_forecast *f, const rv_m5_panel *p, const char *path,
                               rv_error *err)
{
    m5_out o;
    rv_status st = m5_out_open(&o, path, err);
    if (st != RV_OK)
        return st;
    rv_buf_puts(&o.b, "id,date,prediction\n");
    for (size_t h = 0; h < f->horizon && st == RV_OK; h++) {
        char date[11];
        rv_m5_date_of_day((long)(f->train_end + 1 + h), date);
        for (size_t s = 0; s < p->n_series; s++) {
            rv_buf_printf(&o.b, "%s,%s,", p->ids[s], date);
            rv_buf_put_double(&o.b, f->values[h * p->n_series + s]);
            rv_buf_puts(&o.b, "\n");
        }
        st = m5_out_flush(&o, 0, err);
    }
    rv_status cst = m5_out_close(&o, err);
    return st != RV_OK ? st : cst;
}
