/* The M5 panel: series ids, their hierarchy, units and prices in memory.
 *
 * An id reads ITEM_STORE, ITEM = CAT_D_NNN and STORE = ST_N, e.g.
 * HOBBIES_1_001_CA_1: item HOBBIES_1_001, dept HOBBIES_1, cat HOBBIES,
 * store CA_1, state CA. The Kaggle files add "_evaluation" or "_validation",
 * which is dropped. The hierarchy is parsed from the underscores: the store
 * is what follows the second-last one, the dept what precedes the item's
 * last one, the cat what precedes the first one.
 *
 * Layout: units is day-major (row d - 1 holds every series' units of day d),
 * because both the metric and the per-series models stream day by day, as
 * the long files are sorted by date then id. prices is week-major likewise.
 */
#include "rivulet/m5.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static size_t strip_suffix(const char *id, size_t len)
{
    static const char *const sfx[2] = {"_evaluation", "_validation"};
    for (int i = 0; i < 2; i++) {
        size_t n = strlen(sfx[i]);
        if (len > n && memcmp(id + len - n, sfx[i], n) == 0)
            return len - n;
    }
    return len;
}

int rv_m5_id_parse(const char *id, size_t len, size_t off[RV_M5_NKEYS], size_t n[RV_M5_NKEYS])
{
    len = strip_suffix(id, len);
    size_t us[8], k = 0;
    for (size_t i = 0; i < len && k < 8; i++)
        if (id[i] == '_')
            us[k++] = i;
    if (k < 3)
        return -1;
    size_t store_at = us[k - 2] + 1; /* ST_N */
    size_t item_end = us[k - 2];
    size_t dept_end = us[k - 3];     /* last underscore of the item */
    if (dept_end == 0 || us[0] == 0 || store_at >= len)
        return -1;
    off[RV_M5_ITEM] = 0, n[RV_M5_ITEM] = item_end;
    off[RV_M5_DEPT] = 0, n[RV_M5_DEPT] = k >= 4 ? dept_end : item_end;
    off[RV_M5_CAT] = 0, n[RV_M5_CAT] = us[0];
    off[RV_M5_STORE] = store_at, n[RV_M5_STORE] = len - store_at;
    off[RV_M5_STATE] = store_at, n[RV_M5_STATE] = us[k - 1] - store_at;
    return 0;
}

void rv_m5_panel_free(rv_m5_panel *p)
{
    if (!p)
        return;
    for (size_t s = 0; p->ids && s < p->n_series; s++)
        free(p->ids[s]);
    free(p->ids);
    for (int k = 0; k < RV_M5_NKEYS; k++) {
        for (size_t i = 0; p->names[k] && i < p->n_names[k]; i++)
            free(p->names[k][i]);
        free(p->names[k]);
        free(p->key[k]);
    }
    free(p->units);
    free(p->prices);
    free(p->calendar);
    memset(p, 0, sizeof *p);
}

/* Index of name in the distinct names of key k, added when new. */
static long name_index(rv_strmap *m, rv_m5_panel *p, int k, const char *s, size_t len)
{
    int inserted = 0;
    uint64_t *slot = rv_strmap_put(m, s, len, p->n_names[k], &inserted);
    if (!slot)
        return -1;
    if (inserted) {
        char *copy = malloc(len + 1);
        if (!copy)
            return -1;
        memcpy(copy, s, len);
        copy[len] = '\0';
        p->names[k][p->n_names[k]++] = copy;
    }
    return (long)*slot;
}

static rv_status parse_hierarchy(rv_m5_panel *p, rv_error *err)
{
    rv_strmap maps[RV_M5_NKEYS];
    for (int k = 0; k < RV_M5_NKEYS; k++)
        rv_strmap_init(&maps[k]);
    rv_status st = RV_OK;
    for (size_t s = 0; s < p->n_series && st == RV_OK; s++) {
        size_t off[RV_M5_NKEYS], n[RV_M5_NKEYS];
        const char *id = p->ids[s];
        if (rv_m5_id_parse(id, strlen(id), off, n) != 0) {
            st = rv_error_set(err, RV_EINVAL, "series id '%s' is not ITEM_STORE (e.g. HOBBIES_1_001_CA_1)", id);
            break;
        }
        for (int k = 0; k < RV_M5_NKEYS; k++) {
            long ix = name_index(&maps[k], p, k, id + off[k], n[k]);
            if (ix < 0) {
                st = rv_error_set(err, RV_ENOMEM, "out of memory");
                break;
            }
            p->key[k][s] = (uint32_t)ix;
        }
    }
    for (int k = 0; k < RV_M5_NKEYS; k++)
        rv_strmap_free(&maps[k]);
    return st;
}

rv_status rv_m5_panel_init(rv_m5_panel *p, const char *const *ids, size_t n_series, size_t n_days,
                           rv_error *err)
{
    memset(p, 0, sizeof *p);
    if (n_series == 0 || n_days == 0)
        return rv_error_set(err, RV_EINVAL, "an M5 panel needs at least one series and one day");
    p->n_series = n_series;
    p->n_days = n_days;
    p->n_weeks = (n_days + 6) / 7;
    p->ids = calloc(n_series, sizeof *p->ids);
    p->units = calloc(n_days * n_series, sizeof *p->units);
    p->prices = malloc(p->n_weeks * n_series * sizeof *p->prices);
    p->calendar = malloc(n_days * sizeof *p->calendar);
    int ok = p->ids && p->units && p->prices && p->calendar;
    for (int k = 0; ok && k < RV_M5_NKEYS; k++) {
        p->key[k] = calloc(n_series, sizeof *p->key[k]);
        p->names[k] = calloc(n_series, sizeof *p->names[k]);
        ok = p->key[k] && p->names[k];
    }
    for (size_t s = 0; ok && s < n_series; s++) {
        size_t len = strip_suffix(ids[s], strlen(ids[s]));
        p->ids[s] = malloc(len + 1);
        if (!(ok = p->ids[s] != NULL))
            break;
        memcpy(p->ids[s], ids[s], len);
        p->ids[s][len] = '\0';
    }
    if (!ok) {
        rv_m5_panel_free(p);
        return rv_error_set(err, RV_ENOMEM, "out of memory for a %zu x %zu panel", n_days, n_series);
    }
    for (size_t i = 0; i < p->n_weeks * n_series; i++)
        p->prices[i] = NAN;
    rv_m5_calendar_fill(p->calendar, n_days);
    rv_status st = parse_hierarchy(p, err);
    if (st != RV_OK)
        rv_m5_panel_free(p);
    return st;
}

long rv_m5_panel_find(const rv_m5_panel *p, const char *id, size_t len)
{
    /* Linear scans are too slow for 30,490 ids; callers that look up many
     * ids build an rv_strmap (see panel_index). This one is for single ids. */
    len = strip_suffix(id, len);
    for (size_t s = 0; s < p->n_series; s++)
        if (strncmp(p->ids[s], id, len) == 0 && p->ids[s][len] == '\0')
            return (long)s;
    return -1;
}

rv_status rv_m5_panel_overlay(rv_m5_panel *p, const rv_m5_panel *from, rv_error *err)
{
    if (from->n_days > p->n_days)
        return rv_error_set(err, RV_EINVAL, "the training data (%zu days) outlasts the truth (%zu days)",
                            from->n_days, p->n_days);
    rv_strmap ix;
    rv_strmap_init(&ix);
    rv_status st = RV_OK;
    for (size_t s = 0; st == RV_OK && s < from->n_series; s++)
        if (!rv_strmap_put(&ix, from->ids[s], strlen(from->ids[s]), s, NULL))
            st = rv_error_set(err, RV_ENOMEM, "out of memory");
    for (size_t s = 0; st == RV_OK && s < p->n_series; s++) {
        uint64_t *v = rv_strmap_get(&ix, p->ids[s], strlen(p->ids[s]));
        if (!v) {
            st = rv_error_set(err, RV_ENOTFOUND, "series %s is not in the training data", p->ids[s]);
            break;
        }
        size_t f = (size_t)*v;
        for (size_t d = 1; d <= from->n_days; d++)
            p->units[(d - 1) * p->n_series + s] = from->units[(d - 1) * from->n_series + f];
        for (size_t w = 0; w < from->n_weeks; w++) {
            float price = from->prices[w * from->n_series + f];
            if (!isnan(price))
                p->prices[w * p->n_series + s] = price;
        }
    }
    rv_strmap_free(&ix);
    return st;
}
