/* GET /api/models/metrics: every model's metrics and every family key's, as
 * rows the dashboard ranks.
 *
 *   {"models": [{"model", "key": str|null, "n", "metrics": {...}}],
 *    "total", "offset", "limit"}
 *
 * A plain model is one row (key null, its own metrics); a family is one row
 * for itself (key null, metrics over all its keys) and one per key (the
 * compact per-key metrics of keymetrics.c). n counts learns.
 *
 * Query: offset (default 0), limit (default all), sort = a metric name, "n",
 * "model" or "key" (default: model order, keys in first-seen order), order =
 * asc|desc (default asc); rows without the sorted metric go last either way.
 * So the worst of 30,490 keys by MAE is ?sort=MAE&order=desc&limit=20.
 *
 * The rows are copied under metrics_mu (a memcpy per key; no JSON), then
 * sorted and encoded outside it, so learns wait for the copy only.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct row {
    const char *model; /* borrowed from the copied names */
    const char *key;   /* NULL for a model's own row */
    uint32_t key_len;
    double n, sortv;
    rv_key_row km;     /* a key's state */
    json_t *metrics;   /* a model's own metrics */
} row;

typedef struct listing {
    row *rows;
    size_t n, cap;
    rv_buf text; /* model names and keys, NUL-separated (rows hold offsets until it is final) */
    int sort_kind; /* 0 none, 1 metric, 2 n, 3 model, 4 key */
    int desc;
    const char *metric;
} listing;

static row *push(listing *l)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        row *nr = realloc(l->rows, cap * sizeof *nr);
        if (!nr)
            return NULL;
        l->rows = nr;
        l->cap = cap;
    }
    row *r = &l->rows[l->n++];
    memset(r, 0, sizeof *r);
    return r;
}

/* Text offsets are stored in the pointers until the copy is complete (the
 * buffer may move while growing). */
static uintptr_t put_text(listing *l, const char *s, size_t len)
{
    uintptr_t at = l->text.len;
    rv_buf_put(&l->text, s, len);
    rv_buf_put(&l->text, "", 1);
    return at;
}

static double metric_of_json(json_t *m, const char *name)
{
    json_t *v = json_object_get(m, name);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void copy_model(rv_server *s, listing *l, rv_model_entry *e)
{
    row *r = push(l);
    if (!r)
        return;
    uintptr_t name = put_text(l, e->name, strlen(e->name));
    r->model = (const char *)name;
    r->n = (double)e->n_learned;
    r->metrics = rv_metrics_to_json(&e->metrics);
    for (uint32_t i = 0; e->is_family && i < rv_strmap_capacity_used(&e->keym.idx); i++) {
        uint32_t len;
        const char *key = rv_strmap_key_at(&e->keym.idx, i, &len);
        if (!key || !(r = push(l)))
            continue;
        r->model = (const char *)name;
        r->key = (const char *)put_text(l, key, len);
        r->key_len = len;
        r->km = e->keym.rows[*rv_strmap_val_at(&e->keym.idx, i)];
        r->n = r->km.n;
    }
    (void)s;
}

static int metric_index(rv_flavor f, const char *name)
{
    for (int i = 0; rv_keym_name(f, i); i++)
        if (strcmp(rv_keym_name(f, i), name) == 0)
            return i;
    return -1;
}

static listing *sorting; /* qsort has no context argument; guarded by sort_mu */
static pthread_mutex_t sort_mu = PTHREAD_MUTEX_INITIALIZER;

static int cmp(const void *pa, const void *pb)
{
    const row *a = pa, *b = pb;
    int k = sorting->sort_kind, sign = sorting->desc ? -1 : 1;
    if (k == 1 || k == 2) {
        int na = isnan(a->sortv), nb = isnan(b->sortv);
        if (na || nb)
            return na - nb; /* missing last */
        return a->sortv < b->sortv ? -sign : a->sortv > b->sortv ? sign : 0;
    }
    int c = strcmp(a->model, b->model);
    if (k == 4 || c == 0) {
        if (!a->key || !b->key)
            c = c ? c : (!a->key) ? (b->key ? -1 : 0) : 1;
        else
            c = c ? c : strcmp(a->key, b->key);
    }
    return sign * c;
}

static long query_long(const rv_req *req, const char *name, long dflt)
{
    const char *v = rv_req_arg(req, name);
    if (!v || !*v)
        return dflt;
    char *end;
    long x = strtol(v, &end, 10);
    return *end || x < 0 ? -1 : x;
}

void rv_models_metrics(rv_server *s, const rv_req *req, rv_resp *resp)
{
    listing l = {0};
    rv_buf_init(&l.text);
    long offset = query_long(req, "offset", 0), limit = query_long(req, "limit", -2);
    const char *sort = rv_req_arg(req, "sort"), *order = rv_req_arg(req, "order");
    if (offset < 0 || limit == -1)
        return rv_resp_message(resp, 400, "offset and limit are whole numbers.");
    if (order && strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0)
        return rv_resp_message(resp, 400, "order is asc or desc.");
    l.desc = order && strcmp(order, "desc") == 0;
    rv_rwshard_rdlock(&s->models_lock);
    rv_flavor f = s->flavor;
    pthread_mutex_lock(&s->metrics_mu);
    if (sort && *sort && strcmp(sort, "n") && strcmp(sort, "model") && strcmp(sort, "key")) {
        int known = 0; /* one of the flavor's metrics */
        for (int i = 0; i < s->metrics.n && !known; i++)
            known = s->metrics.names[i] && strcmp(s->metrics.names[i], sort) == 0;
        if (!known) {
            pthread_mutex_unlock(&s->metrics_mu);
            rv_rwshard_unlock(&s->models_lock);
            rv_buf_free(&l.text);
            return rv_resp_message(resp, 400, "sort is n, model, key or one of the flavor's metrics"
                                              " (see GET /api/metrics), not '%.100s'.", sort);
        }
    }
    for (size_t i = 0; i < s->n_models; i++)
        copy_model(s, &l, s->models[i]);
    pthread_mutex_unlock(&s->metrics_mu);
    rv_rwshard_unlock(&s->models_lock);
    for (size_t i = 0; i < l.n; i++) { /* offsets to pointers, now that text is final */
        l.rows[i].model = l.text.data + (uintptr_t)l.rows[i].model;
        if (l.rows[i].key)
            l.rows[i].key = l.text.data + (uintptr_t)l.rows[i].key;
    }
    if (sort && *sort) {
        int mi = metric_index(f, sort);
        l.sort_kind = strcmp(sort, "n") == 0 ? 2 : strcmp(sort, "model") == 0 ? 3
                      : strcmp(sort, "key") == 0 ? 4 : 1;
        for (size_t i = 0; i < l.n; i++) {
            row *r = &l.rows[i];
            r->sortv = l.sort_kind == 2 ? r->n
                       : r->n == 0 ? NAN /* no learn yet: no metric to rank by (its 0 is not a score) */
                       : r->key ? (mi >= 0 ? rv_keym_value(&r->km, f, mi) : NAN)
                                : metric_of_json(r->metrics, sort);
        }
        pthread_mutex_lock(&sort_mu);
        sorting = &l;
        if (l.n > 1) /* rows is NULL when there are none, and qsort must not see NULL */
            qsort(l.rows, l.n, sizeof *l.rows, cmp);
        pthread_mutex_unlock(&sort_mu);
    }
    size_t from = (size_t)offset < l.n ? (size_t)offset : l.n;
    size_t to = limit < 0 || from + (size_t)limit > l.n ? l.n : from + (size_t)limit;
    json_t *arr = json_array();
    for (size_t i = from; i < to; i++) {
        row *r = &l.rows[i];
        json_t *m = r->key ? rv_keym_to_json(&r->km, f) : json_incref(r->metrics);
        json_array_append_new(arr, json_pack("{s:s,s:o,s:I,s:o}", "model", r->model, "key",
                                             r->key ? json_stringn(r->key, r->key_len) : json_null(),
                                             "n", (json_int_t)r->n, "metrics", m));
    }
    for (size_t i = 0; i < l.n; i++)
        json_decref(l.rows[i].metrics);
    json_t *out = json_pack("{s:o,s:I,s:I,s:o}", "models", arr, "total", (json_int_t)l.n, "offset",
                            (json_int_t)offset, "limit", limit < 0 ? json_null() : json_integer(limit));
    free(l.rows);
    rv_buf_free(&l.text);
    rv_resp_json(resp, 200, out);
}
