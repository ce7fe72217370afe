/* Readers for the real M5 files, into a panel.
 *
 * Kaggle layout: sales_train_evaluation.csv (or _validation, or any wide
 * file named directly) with id, ..., d_1 .. d_N; sell_prices.csv beside it
 * (store_id, item_id, wm_yr_wk, sell_price), its weeks placed through the
 * calendar.csv beside it when present (else the computed calendar). The
 * hierarchy comes from the ids, not from the other columns.
 * Long layout: a header naming id, date and y (sell_price optional, other
 * columns ignored), one row per series and day in any order; days absent for
 * a series read as 0 units. Dates before 2011-01-29 are rejected.
 *
 * Both read their file twice: once for the ids (and the number of days), once
 * for the values, written straight into the day-major matrix, so that the
 * full set needs no second copy in memory.
 */
#include "m5/csv.h"
#include "rivulet/m5.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MAX_DAYS = 100000 };

typedef struct idlist {
    char **ids;
    size_t n, cap;
    rv_strmap index;
} idlist;

static void idlist_free(idlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->ids[i]);
    free(l->ids);
    rv_strmap_free(&l->index);
}

/* Index of id, added when new; -1 on OOM. */
static long idlist_add(idlist *l, const char *id)
{
    size_t len = strlen(id);
    size_t off[RV_M5_NKEYS], n[RV_M5_NKEYS];
    if (rv_m5_id_parse(id, len, off, n) == 0)
        len = n[RV_M5_ITEM] + 1 + n[RV_M5_STORE]; /* drops _evaluation */
    int inserted = 0;
    uint64_t *v = rv_strmap_put(&l->index, id, len, l->n, &inserted);
    if (!v)
        return -1;
    if (inserted) {
        if (l->n == l->cap) {
            size_t cap = l->cap ? 2 * l->cap : 1024;
            char **ni = realloc(l->ids, cap * sizeof *ni);
            if (!ni)
                return -1;
            l->ids = ni, l->cap = cap;
        }
        if (!(l->ids[l->n] = strndup(id, len)))
            return -1;
        l->n++;
    }
    return (long)*v;
}

static long idlist_find(const idlist *l, const char *id)
{
    size_t len = strlen(id);
    size_t off[RV_M5_NKEYS], n[RV_M5_NKEYS];
    if (rv_m5_id_parse(id, len, off, n) == 0)
        len = n[RV_M5_ITEM] + 1 + n[RV_M5_STORE];
    uint64_t *v = rv_strmap_get(&l->index, id, len);
    return v ? (long)*v : -1;
}

/* ===== Kaggle layout ===== */

static rv_status wide_header(char **f, int n, int *first_d, rv_error *err, const char *path)
{
    *first_d = -1;
    for (int i = 0; i < n; i++)
        if (strncmp(f[i], "d_", 2) == 0) {
            *first_d = i;
            break;
        }
    if (*first_d < 0 || strcmp(f[0], "id") != 0 || strcmp(f[*first_d], "d_1") != 0)
        return rv_error_set(err, RV_EINVAL, "%s: not an M5 wide sales file (id, ..., d_1, d_2, ...)", path);
    return RV_OK;
}

static rv_status read_wide(const char *path, rv_m5_panel *p, idlist *l, rv_error *err)
{
    enum { MAXF = MAX_DAYS + 16 };
    char **f = malloc(MAXF * sizeof *f);
    m5_csv c;
    rv_status st = f ? m5_csv_open(&c, path, err) : rv_error_set(err, RV_ENOMEM, "out of memory");
    if (st != RV_OK) {
        free(f);
        return st;
    }
    int nf = m5_csv_next(&c, f, MAXF, err), d0 = 0;
    st = nf <= 0 || nf > MAXF ? rv_error_set(err, RV_EINVAL, "%s: missing or huge header", path)
                              : wide_header(f, nf, &d0, err, path);
    size_t n_days = (size_t)(nf - d0);
    int k;
    while (st == RV_OK && (k = m5_csv_next(&c, f, MAXF, err)) > 0) /* pass 1: ids */
        if (k != nf)
            st = rv_error_set(err, RV_EINVAL, "%s:%zu: %d fields, the header has %d", path, c.lineno, k, nf);
        else if (idlist_add(l, f[0]) < 0)
            st = rv_error_set(err, RV_ENOMEM, "out of memory");
    m5_csv_close(&c);
    if (st == RV_OK && l->n == 0)
        st = rv_error_set(err, RV_EINVAL, "%s: no series", path);
    if (st == RV_OK)
        st = rv_m5_panel_init(p, (const char *const *)l->ids, l->n, n_days, err);
    if (st == RV_OK)
        st = m5_csv_open(&c, path, err);
    if (st == RV_OK) {
        m5_csv_next(&c, f, MAXF, err);
        while (st == RV_OK && (k = m5_csv_next(&c, f, MAXF, err)) > 0) { /* pass 2: units */
            size_t s = (size_t)idlist_find(l, f[0]);
            for (size_t d = 0; d < n_days && st == RV_OK; d++) {
                double v;
                if (m5_csv_double(f[d0 + (int)d], &v) != 0)
                    st = rv_error_set(err, RV_EINVAL, "%s:%zu: bad units '%s'", path, c.lineno, f[d0 + (int)d]);
                p->units[d * p->n_series + s] = (float)v;
            }
        }
        m5_csv_close(&c);
    }
    free(f);
    return st;
}

/* wm_yr_wk -> week index (day (d - 1) / 7), from calendar.csv when present. */
static rv_status week_map(const char *dir, const rv_m5_panel *p, rv_map64 *weeks, rv_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/calendar.csv", dir);
    m5_csv c;
    if (access(path, R_OK) == 0 && m5_csv_open(&c, path, err) == RV_OK) {
        char *f[20];
        int n = m5_csv_next(&c, f, 20, err), iw = m5_csv_column(f, n, "wm_yr_wk"),
            id = m5_csv_column(f, n, "d");
        rv_status st = iw < 0 || id < 0 ? rv_error_set(err, RV_EINVAL, "%s: no wm_yr_wk or d column", path)
                                        : RV_OK;
        while (st == RV_OK && (n = m5_csv_next(&c, f, 20, err)) > 0) {
            long d = n > id && strncmp(f[id], "d_", 2) == 0 ? atol(f[id] + 2) : 0;
            if (d >= 1 && !rv_map64_put(weeks, (uint64_t)atol(f[iw]), (uint64_t)(d - 1) / 7, NULL))
                st = rv_error_set(err, RV_ENOMEM, "out of memory");
        }
        m5_csv_close(&c);
        return st;
    }
    for (size_t d = 1; d <= p->n_days; d += 7)
        if (!rv_map64_put(weeks, (uint64_t)p->calendar[d - 1].wm_yr_wk, (d - 1) / 7, NULL))
            return rv_error_set(err, RV_ENOMEM, "out of memory");
    return RV_OK;
}

static rv_status read_prices(const char *dir, rv_m5_panel *p, const idlist *l, rv_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/sell_prices.csv", dir);
    if (access(path, R_OK) != 0)
        return RV_OK; /* prices are optional: without them weights cannot be computed */
    rv_map64 weeks;
    rv_map64_init(&weeks);
    rv_status st = week_map(dir, p, &weeks, err);
    m5_csv c;
    if (st == RV_OK)
        st = m5_csv_open(&c, path, err);
    if (st != RV_OK) {
        rv_map64_free(&weeks);
        return st;
    }
    char *f[8], id[256];
    int n = m5_csv_next(&c, f, 8, err);
    int is = m5_csv_column(f, n, "store_id"), ii = m5_csv_column(f, n, "item_id"),
        iw = m5_csv_column(f, n, "wm_yr_wk"), ip = m5_csv_column(f, n, "sell_price");
    if (is < 0 || ii < 0 || iw < 0 || ip < 0)
        st = rv_error_set(err, RV_EINVAL, "%s: needs store_id,item_id,wm_yr_wk,sell_price", path);
    while (st == RV_OK && (n = m5_csv_next(&c, f, 8, err)) > 0) {
        if (n < 4)
            continue;
        snprintf(id, sizeof id, "%s_%s", f[ii], f[is]);
        long s = idlist_find(l, id);
        uint64_t *w = rv_map64_get(&weeks, (uint64_t)atol(f[iw]));
        double price;
        if (s < 0 || !w || *w >= p->n_weeks || m5_csv_double(f[ip], &price) != 0)
            continue;
        p->prices[*w * p->n_series + (size_t)s] = (float)price;
    }
    m5_csv_close(&c);
    rv_map64_free(&weeks);
    return st;
}

rv_status rv_m5_read_kaggle(const char *path, rv_m5_panel *out, rv_error *err)
{
    char dir[4096], sales[4200];
    struct stat sb;
    memset(out, 0, sizeof *out);
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        snprintf(dir, sizeof dir, "%s", path);
        snprintf(sales, sizeof sales, "%s/sales_train_evaluation.csv", dir);
        if (access(sales, R_OK) != 0)
            snprintf(sales, sizeof sales, "%s/sales_train_validation.csv", dir);
    } else {
        snprintf(sales, sizeof sales, "%s", path);
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(dir, sizeof dir, ".");
    }
    idlist l = {0};
    rv_strmap_init(&l.index);
    rv_status st = read_wide(sales, out, &l, err);
    if (st == RV_OK)
        st = read_prices(dir, out, &l, err);
    idlist_free(&l);
    if (st != RV_OK)
        rv_m5_panel_free(out);
    return st;
}

/* ===== Long layout ===== */

typedef struct long_cols { int id, date, y, price, n; } long_cols;

static rv_status long_header(m5_csv *c, char **f, long_cols *lc, rv_error *err)
{
    int n = m5_csv_next(c, f, 32, err);
    lc->n = n;
    lc->id = m5_csv_column(f, n, "id");
    lc->date = m5_csv_column(f, n, "date");
    lc->y = m5_csv_column(f, n, "y");
    lc->price = m5_csv_column(f, n, "sell_price");
    if (n <= 0 || lc->id < 0 || lc->date < 0 || lc->y < 0)
        return rv_error_set(err, RV_EINVAL, "%s: the header must name id, date and y", c->path);
    return RV_OK;
}

rv_status rv_m5_read_long(const char *path, rv_m5_panel *out, rv_error *err)
{
    memset(out, 0, sizeof *out);
    idlist l = {0};
    rv_strmap_init(&l.index);
    char *f[32];
    long_cols lc;
    m5_csv c;
    long max_day = 0;
    rv_status st = m5_csv_open(&c, path, err);
    if (st == RV_OK)
        st = long_header(&c, f, &lc, err);
    int n;
    while (st == RV_OK && (n = m5_csv_next(&c, f, 32, err)) > 0) { /* pass 1: ids, days */
        long d = 0; /* unset when the row has the wrong number of fields */
        if (n != lc.n || rv_m5_day_of_date(f[lc.date], strlen(f[lc.date]), &d) != 0 || d < 1 || d > MAX_DAYS)
            st = rv_error_set(err, RV_EINVAL, "%s:%zu: bad row (fields or date)", path, c.lineno);
        else if (idlist_add(&l, f[lc.id]) < 0)
            st = rv_error_set(err, RV_ENOMEM, "out of memory");
        max_day = d > max_day ? d : max_day;
    }
    if (c.f)
        m5_csv_close(&c);
    if (st == RV_OK && l.n == 0)
        st = rv_error_set(err, RV_EINVAL, "%s: no rows", path);
    if (st == RV_OK)
        st = rv_m5_panel_init(out, (const char *const *)l.ids, l.n, (size_t)max_day, err);
    if (st == RV_OK && (st = m5_csv_open(&c, path, err)) == RV_OK) {
        long_header(&c, f, &lc, err);
        while (st == RV_OK && (n = m5_csv_next(&c, f, 32, err)) > 0) { /* pass 2: values */
            long d;
            rv_m5_day_of_date(f[lc.date], strlen(f[lc.date]), &d);
            size_t s = (size_t)idlist_find(&l, f[lc.id]);
            double y, price = NAN;
            if (m5_csv_double(f[lc.y], &y) != 0)
                st = rv_error_set(err, RV_EINVAL, "%s:%zu: bad y '%s'", path, c.lineno, f[lc.y]);
            else if (lc.price >= 0 && m5_csv_double(f[lc.price], &price) < 0)
                st = rv_error_set(err, RV_EINVAL, "%s:%zu: bad sell_price", path, c.lineno);
            out->units[(size_t)(d - 1) * out->n_series + s] = (float)y;
            if (!isnan(price))
                out->prices[(size_t)(d - 1) / 7 * out->n_series + s] = (float)price;
        }
        m5_csv_close(&c);
    }
    idlist_free(&l);
    if (st != RV_OK)
        rv_m5_panel_free(out);
    return st;
}

rv_status rv_m5_read(const char *path, rv_m5_panel *out, rv_error *err)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return rv_m5_read_kaggle(path, out, err);
    m5_csv c;
    rv_status st = m5_csv_open(&c, path, err);
    if (st != RV_OK)
        return st;
    char *f[8];
    int n = m5_csv_next(&c, f, 8, err);
    int wide = n > 1 && m5_csv_column(f, n < 8 ? n : 8, "d_1") >= 0;
    m5_csv_close(&c);
    return wide ? rv_m5_read_kaggle(path, out, err) : rv_m5_read_long(path, out, err);
}
