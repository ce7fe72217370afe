/* Writers for the M5 layouts.
 *
 * Kaggle: sales_train_evaluation.csv (id with "_evaluation", item_id,
 * dept_id, cat_id, store_id, state_id, d_1 .. d_N, one row per series in
 * panel order), calendar.csv (the organisers' columns, with d_1 .. d_N) and
 * sell_prices.csv (store_id, item_id, wm_yr_wk, sell_price for the weeks an
 * item is on sale, store by store).
 * Long: id,date,y,sell_price,snap,event_name_1,event_type_1,event_name_2,
 * event_type_2, one row per series and day, sorted by date then id, the
 * layout of ../shared/data/m5/tiny_m5_train.csv.gz.
 */
#include "m5/csv.h"
#include "rivulet/m5.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Prices are whole cents: written as 9.58, 0.5, 3 (no float noise). */
static void put_price(rv_buf *b, double price)
{
    if (isnan(price))
        return;
    long c = lround(price * 100.0);
    rv_buf_printf(b, "%ld", c / 100);
    if (c % 100) {
        if (c % 10)
            rv_buf_printf(b, ".%02ld", c % 100);
        else
            rv_buf_printf(b, ".%ld", c % 100 / 10);
    }
}

static const char *key_name(const rv_m5_panel *p, int k, size_t s) { return p->names[k][p->key[k][s]]; }

static rv_status write_sales(const rv_m5_panel *p, const char *path, rv_error *err)
{
    m5_out o;
    rv_status st = m5_out_open(&o, path, err);
    if (st != RV_OK)
        return st;
    rv_buf_puts(&o.b, "id,item_id,dept_id,cat_id,store_id,state_id");
    for (size_t d = 1; d <= p->n_days; d++)
        rv_buf_printf(&o.b, ",d_%zu", d);
    rv_buf_puts(&o.b, "\n");
    for (size_t s = 0; s < p->n_series && st == RV_OK; s++) {
        rv_buf_printf(&o.b, "%s_evaluation,%s,%s,%s,%s,%s", p->ids[s], key_name(p, RV_M5_ITEM, s),
                      key_name(p, RV_M5_DEPT, s), key_name(p, RV_M5_CAT, s),
                      key_name(p, RV_M5_STORE, s), key_name(p, RV_M5_STATE, s));
        for (size_t d = 1; d <= p->n_days; d++) {
            rv_buf_put(&o.b, ",", 1);
            m5_out_num(&o.b, rv_m5_panel_day(p, d)[s]);
        }
        rv_buf_puts(&o.b, "\n");
        st = m5_out_flush(&o, 0, err);
    }
    rv_status cst = m5_out_close(&o, err);
    return st != RV_OK ? st : cst;
}

static rv_status write_calendar(const rv_m5_panel *p, const char *path, rv_error *err)
{
    m5_out o;
    rv_status st = m5_out_open(&o, path, err);
    if (st != RV_OK)
        return st;
    rv_buf_puts(&o.b, "date,wm_yr_wk,weekday,wday,month,year,d,event_name_1,event_type_1,"
                      "event_name_2,event_type_2,snap_CA,snap_TX,snap_WI\n");
    for (size_t d = 1; d <= p->n_days; d++) {
        const rv_m5_day *c = &p->calendar[d - 1];
        char date[11];
        rv_m5_date_of_day((long)d, date);
        rv_buf_printf(&o.b, "%s,%d,%s,%d,%d,%d,d_%zu,%s,%s,%s,%s,%d,%d,%d\n", date, c->wm_yr_wk,
                      rv_m5_weekday_name(c->wday), c->wday, c->month, c->year, d,
                      c->event_name[0] ? c->event_name[0] : "", c->event_type[0] ? c->event_type[0] : "",
                      c->event_name[1] ? c->event_name[1] : "", c->event_type[1] ? c->event_type[1] : "",
                      c->snap[0], c->snap[1], c->snap[2]);
    }
    return m5_out_close(&o, err);
}

static rv_status write_prices(const rv_m5_panel *p, const char *path, rv_error *err)
{
    m5_out o;
    rv_status st = m5_out_open(&o, path, err);
    if (st != RV_OK)
        return st;
    rv_buf_puts(&o.b, "store_id,item_id,wm_yr_wk,sell_price\n");
    for (size_t s = 0; s < p->n_series && st == RV_OK; s++) {
        for (size_t w = 0; w < p->n_weeks; w++) {
            double price = p->prices[w * p->n_series + s];
            if (isnan(price))
                continue;
            rv_buf_printf(&o.b, "%s,%s,%d,", key_name(p, RV_M5_STORE, s), key_name(p, RV_M5_ITEM, s),
                          p->calendar[w * 7].wm_yr_wk);
            put_price(&o.b, price);
            rv_buf_puts(&o.b, "\n");
        }
        st = m5_out_flush(&o, 0, err);
    }
    rv_status cst = m5_out_close(&o, err);
    return st != RV_OK ? st : cst;
}

rv_status rv_m5_write_kaggle(const rv_m5_panel *p, const char *dir, rv_error *err)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return rv_error_set(err, RV_EIO, "%s: %s", dir, strerror(errno));
    size_t n = strlen(dir) + 64;
    char *path = malloc(n);
    if (!path)
        return rv_error_set(err, RV_ENOMEM, "out of memory");
    snprintf(path, n, "%s/sales_train_evaluation.csv", dir);
    rv_status st = write_sales(p, path, err);
    if (st == RV_OK) {
        snprintf(path, n, "%s/calendar.csv", dir);
        st = write_calendar(p, path, err);
    }
    if (st == RV_OK) {
        snprintf(path, n, "%s/sell_prices.csv", dir);
        st = write_prices(p, path, err);
    }
    free(path);
    return st;
}

typedef struct { const char *id; size_t s; } id_ref;
static int by_id(const void *a, const void *b)
{
    return strcmp(((const id_ref *)a)->id, ((const id_ref *)b)->id);
}

rv_status rv_m5_write_long(const rv_m5_panel *p, const char *path, rv_error *err)
{
    id_ref *order = malloc(p->n_series * sizeof *order);
    if (!order)
        return rv_error_set(err, RV_ENOMEM, "out of memory");
    for (size_t s = 0; s < p->n_series; s++)
        order[s] = (id_ref){p->ids[s], s};
    qsort(order, p->n_series, sizeof *order, by_id);
    m5_out o;
    rv_status st = m5_out_open(&o, path, err);
    if (st == RV_OK)
        rv_buf_puts(&o.b, "id,date,y,sell_price,snap,event_name_1,event_type_1,event_name_2,event_type_2\n");
    for (size_t d = 1; d <= p->n_days && st == RV_OK; d++) {
        const rv_m5_day *c = &p->calendar[d - 1];
        char date[11], tail[160];
        rv_m5_date_of_day((long)d, date);
        snprintf(tail, sizeof tail, ",%s,%s,%s,%s\n", c->event_name[0] ? c->event_name[0] : "",
                 c->event_type[0] ? c->event_type[0] : "", c->event_name[1] ? c->event_name[1] : "",
                 c->event_type[1] ? c->event_type[1] : "");
        const float *y = rv_m5_panel_day(p, d);
        for (size_t i = 0; i < p->n_series; i++) {
            size_t s = order[i].s;
            int state = rv_m5_state_index(key_name(p, RV_M5_STATE, s), 2);
            rv_buf_puts(&o.b, p->ids[s]);
            rv_buf_put(&o.b, ",", 1);
            rv_buf_put(&o.b, date, 10);
            rv_buf_put(&o.b, ",", 1);
            m5_out_num(&o.b, y[s]);
            rv_buf_put(&o.b, ",", 1);
            put_price(&o.b, rv_m5_panel_price(p, s, d));
            rv_buf_puts(&o.b, state >= 0 && c->snap[state] ? ",1" : ",0");
            rv_buf_puts(&o.b, tail);
        }
        st = m5_out_flush(&o, 0, err);
    }
    if (o.f || o.gz) {
        rv_status cst = m5_out_close(&o, err);
        st = st != RV_OK ? st : cst;
    }
    free(order);
    return st;
}
