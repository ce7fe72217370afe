/* The window of recent points behind every nearest-neighbour estimator,
 * its exact search and its snapshot (the rv_knn object is in knn_model.c).
 *
 * Layout: one schema of feature names for the whole window (first-seen
 * order, numeric features only) and each point as a dense row over it.
 *
 *   schema:  [ f0 | f1 | ... | f(n-1) ]          rv_slots
 *   rows:    column-major: feature c of row r is rows[c*cap + r], 0 = absent
 *            (stride columns of cap doubles, then RV_KNN_PAD doubles of
 *            slack so vector loads may run past the last live row)
 *   y:       y[r]
 *   ring:    while filling, point i is row i; once full, the oldest point
 *            is row `head` and a new point overwrites it
 *
 * Column-major so the squared search (knn_sq.c) computes one feature for
 * several points per vector instruction while each point's sum keeps its
 * feature order.
 *
 * A feature absent from a point reads 0, which is exactly creme's
 * a.get(k, 0). The distance from a query q to a point is
 *
 *   sum over schema columns c, in order:  |q_c - row_c| ** p
 *   then over q's numeric features outside the schema, in q's order: |q_f| ** p
 *
 * starting from 0 (creme: Python's sum over set(a) | set(b); we fix the
 * order to feature order, which SPEC.md section 6 validates bit for bit on
 * the M5 reference when every event has the same features). No p-th root
 * here; River's classes take it on the k results.
 *
 * Memory: 30 points x 29 features hold 30*29*8 + 30*8 bytes of data (plus
 * 64 bytes of slack) and a schema of 29 symbols (about 7.4 KiB); rows grow
 * by doubling up to the window, each growth re-laying the columns out. When the schema must grow past the row stride, columns that are
 * zero in every live point (and absent from the new point) are dropped
 * first, so a drifting feature set does not grow the rows without bound.
 * That only moves such a feature to the end of a later query's sum.
 *
 * Search scratch (the dense query, the k best) is thread-local, so the
 * window is never written during a search: concurrent predictions are safe
 * and a thousand idle models carry no scratch. A pthread key frees it when
 * its thread exits.
 *
 * Snapshot: u32 n | n x (u32 len, name) | u32 size | size x (f64 y, n x f64)
 *           oldest point first (knn_model.c appends the class labels). */
#include "neighbors/knn.h"
#include "core/prefetch.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ===== Window ===== */

void rv_knn_window_init(rv_knn_window *w, uint32_t window)
{
    memset(w, 0, sizeof *w);
    rv_slots_init(&w->schema);
    w->window = window;
}

void rv_knn_window_free(rv_knn_window *w)
{
    rv_slots_free(&w->schema);
    free(w->rows);
    free(w->y);
    rv_knn_window_init(w, w->window);
}

/* Physical row of the point of the given age (0 = oldest). */
static uint32_t row_of(const rv_knn_window *w, uint32_t age)
{
    uint32_t r = w->head + age;
    return r >= w->window ? r - w->window : r;
}

/* Feature c of physical row r. */
static double cell(const rv_knn_window *w, uint32_t r, uint32_t c)
{
    return w->rows[(size_t)c * w->cap + r];
}

/* Column-major storage for cap rows of stride columns plus the slack. */
static double *alloc_rows(uint32_t cap, uint32_t stride)
{
    return calloc((size_t)cap * stride + RV_KNN_PAD, sizeof(double));
}

/* Widens rows to hold every schema column, dropping dead columns first.
 * slots: x's resolution before the change (x's columns are always kept). */
static rv_status relayout(rv_knn_window *w, const rv_event *x, const uint32_t *slots)
{
    uint32_t n = w->schema.n, old = w->stride, kept = 0;
    uint32_t *map = malloc((size_t)n * sizeof *map); /* old column -> new, or NONE */
    rv_sym *names = malloc((size_t)n * sizeof *names);
    double *rows = NULL;
    if (!map || !names)
        goto oom;
    for (uint32_t c = 0; c < n; c++)
        map[c] = c >= old; /* new columns come from x */
    for (uint32_t i = 0; i < x->n; i++)
        if (x->items[i].kind == RV_NUM && slots[i] != RV_SLOT_NONE)
            map[slots[i]] = 1;
    for (uint32_t r = 0; r < w->size; r++)
        for (uint32_t c = 0; c < old; c++)
            if (cell(w, r, c) != 0 || isnan(cell(w, r, c)))
                map[c] = 1;
    for (uint32_t c = 0; c < n; c++) {
        if (map[c]) {
            names[kept] = w->schema.names[c];
            map[c] = kept++;
        } else {
            map[c] = RV_SLOT_NONE;
        }
    }
    uint32_t stride = kept <= old ? old : (old && kept < old + old / 4 ? old + old / 4 : kept);
    if (w->cap) {
        rows = alloc_rows(w->cap, stride);
        if (!rows)
            goto oom;
        for (uint32_t c = 0; c < old; c++)
            if (map[c] != RV_SLOT_NONE)
                memcpy(rows + (size_t)map[c] * w->cap, w->rows + (size_t)c * w->cap,
                       w->size * sizeof *rows);
        free(w->rows);
        w->rows = rows;
    }
    if (kept < n) {
        rv_slots_clear(&w->schema);
        for (uint32_t c = 0; c < kept; c++)
            if (rv_slots_add(&w->schema, names[c]) == RV_SLOT_NONE)
                goto oom; /* cannot fail: the names array only shrank */
    }
    w->stride = stride;
    free(map);
    free(names);
    return RV_OK;
oom:
    free(map);
    free(names);
    return RV_ENOMEM;
}

static rv_status grow(rv_knn_window *w)
{
    uint32_t cap = w->cap ? w->cap * 2 : 4;
    if (cap > w->window)
        cap = w->window;
    double *y = realloc(w->y, (size_t)cap * sizeof *y);
    if (!y)
        return RV_ENOMEM;
    w->y = y;
    double *rows = alloc_rows(cap, w->stride);
    if (!rows)
        return RV_ENOMEM;
    for (uint32_t c = 0; c < w->stride && w->cap; c++)
        memcpy(rows + (size_t)c * cap, w->rows + (size_t)c * w->cap, w->size * sizeof *rows);
    free(w->rows);
    w->rows = rows;
    w->cap = cap;
    return RV_OK;
}

rv_status rv_knn_window_push(rv_knn_window *w, const rv_event *x, double y)
{
    const uint32_t *slots = rv_slots_resolve(&w->schema, x, RV_SLOTS_ADD_NUM);
    if (!slots)
        return RV_ENOMEM;
    if (w->schema.n > w->stride) {
        if (relayout(w, x, slots) ||
            !(slots = rv_slots_resolve(&w->schema, x, RV_SLOTS_FIND)))
            return RV_ENOMEM;
    }
    if (w->size == w->cap && w->size < w->window && grow(w))
        return RV_ENOMEM;
    uint32_t r;
    if (w->size < w->window) {
        r = w->size++;
    } else {
        r = w->head;
        w->head = w->head + 1 == w->window ? 0 : w->head + 1;
    }
    double *row = w->rows + r; /* feature c at row[c * cap] */
    for (uint32_t c = 0; c < w->stride; c++)
        row[(size_t)c * w->cap] = 0.0;
    for (uint32_t i = 0; i < x->n; i++)
        if (x->items[i].kind == RV_NUM && slots[i] != RV_SLOT_NONE)
            row[(size_t)slots[i] * w->cap] = x->items[i].num;
    w->y[r] = y;
    return RV_OK;
}

void rv_knn_prefetch(const rv_object *self)
{
    const rv_knn_window *w = &((const rv_knn *)self)->win;
    rv_slots_prefetch(&w->schema);
    if (w->rows) /* the search reads rows in groups of 8, into the slack */
        rv_prefetch_range(w->rows, ((size_t)w->schema.n * w->cap + RV_KNN_PAD) * sizeof *w->rows);
    rv_prefetch_range(w->y, w->size * sizeof *w->y);
}

/* ===== Search ===== */

static _Thread_local struct {
    double *q;     /* the query, dense over the schema */
    double *extra; /* the query's numeric values outside the schema */
    rv_knn_hit *hits;
    double *dist;  /* distance of each physical row */
    uint32_t qcap, ecap, hcap, dcap;
} scratch;

/* A pthread key frees a thread's scratch when the thread exits. */
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_release(void *unused)
{
    free(scratch.q);
    free(scratch.extra);
    free(scratch.hits);
    free(scratch.dist);
    memset(&scratch, 0, sizeof scratch);
}

static void scratch_make_key(void) { pthread_key_create(&scratch_key, scratch_release); }

static int reserve(void **p, uint32_t *cap, uint32_t n, size_t size)
{
    if (n <= *cap)
        return 0;
    if (!scratch.qcap && !scratch.ecap && !scratch.hcap && !scratch.dcap) { /* this thread's first search */
        pthread_once(&scratch_once, scratch_make_key);
        pthread_setspecific(scratch_key, &scratch);
    }
    void *q = realloc(*p, (size_t)n * size);
    if (!q)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

/* Strict order of distances with NaN after everything (never crashes,
 * never reorders equal distances). */
static int before(double a, double b) { return a < b || (isnan(b) && !isnan(a)); }

static void insert(rv_knn_hit *hits, uint32_t *m, uint32_t k, double d, double y)
{
    uint32_t j = *m;
    if (j == k) {
        if (!before(d, hits[k - 1].d))
            return;
        j = k - 1;
    } else {
        (*m)++;
    }
    while (j > 0 && before(d, hits[j - 1].d)) {
        hits[j] = hits[j - 1];
        j--;
    }
    hits[j].d = d;
    hits[j].y = y;
}

/* insert() for points taken newest first, when no distance is NaN. Forward
 * insertion with before() is a stable sort by distance cut to k, i.e. the
 * k least (d, age) pairs in that order; any insertion order gives the same
 * k, and a point older than every kept one goes before equal distances
 * (<=). Newest first is cheaper: recent points tend to be the nearest, so
 * older ones mostly land at the end or are dropped at once. */
static void insert_older(rv_knn_hit *hits, uint32_t *m, uint32_t k, double d, double y)
{
    uint32_t j = *m;
    if (j == k) {
        if (!(d <= hits[k - 1].d))
            return;
        j = k - 1;
    } else {
        (*m)++;
    }
    while (j > 0 && d <= hits[j - 1].d) {
        hits[j] = hits[j - 1];
        j--;
    }
    hits[j].d = d;
    hits[j].y = y;
}

/* Sum of |q_c - row_c| ** p over the columns, then |extra_e| ** p, left to
 * right from 0; the row is physical row r of the column-major store. */
static double power_sum(const rv_knn_window *w, const double *q, uint32_t r, uint32_t n,
                        const double *extra, uint32_t ne, double p)
{
    const double *row = w->rows + r; /* feature c at row[c * cap] */
    size_t cap = w->cap;
    double s = 0.0;
    if (p == 2) {
        for (uint32_t c = 0; c < n; c++)
            s += rv_pow_two(q[c] - row[c * cap]); /* creme's |d| ** 2 is pow (core/numeric.c) */
        for (uint32_t e = 0; e < ne; e++)
            s += rv_pow_two(extra[e]);
    } else if (p == 1) {
        for (uint32_t c = 0; c < n; c++)
            s += fabs(q[c] - row[c * cap]);
        for (uint32_t e = 0; e < ne; e++)
            s += fabs(extra[e]);
    } else {
        for (uint32_t c = 0; c < n; c++)
            s += rv_abs_pow(q[c] - row[c * cap], p);
        for (uint32_t e = 0; e < ne; e++)
            s += rv_abs_pow(extra[e], p);
    }
    return s;
}

const rv_knn_hit *rv_knn_window_nearest(const rv_knn_window *w, const rv_event *x, double p,
                                        uint32_t k, uint32_t *n)
{
    uint32_t cols = w->schema.n, ne = 0, m = 0;
    *n = 0;
    if (reserve((void **)&scratch.q, &scratch.qcap, cols + 1, sizeof(double)) ||
        reserve((void **)&scratch.extra, &scratch.ecap, x->n + 1, sizeof(double)) ||
        reserve((void **)&scratch.hits, &scratch.hcap, k + 1, sizeof(rv_knn_hit)) ||
        reserve((void **)&scratch.dist, &scratch.dcap, w->size + 1, sizeof(double)))
        return NULL;
    double *q = scratch.q, *extra = scratch.extra, *dist = scratch.dist;
    memset(q, 0, cols * sizeof *q);
    for (uint32_t i = 0; i < x->n; i++) {
        if (x->items[i].kind != RV_NUM)
            continue;
        uint32_t c = rv_slots_find_at(&w->schema, x, i);
        if (c == RV_SLOT_NONE)
            extra[ne++] = x->items[i].num;
        else
            q[c] = x->items[i].num;
    }
    if (k == 0)
        return scratch.hits;
    /* dist[r]: the distance of physical row r, exact wherever it can rank
     * among the k nearest (knn_sq.c may leave farther rows approximate) */
    if (!(p == 2 && rv_knn_sq_distances(w, q, extra, ne, k, dist)))
        for (uint32_t r = 0; r < w->size; r++)
            dist[r] = power_sum(w, q, r, cols, extra, ne, p);
    int nan = 0;
    for (uint32_t r = 0; r < w->size; r++)
        nan |= isnan(dist[r]);
    if (nan)
        for (uint32_t a = 0; a < w->size; a++) {
            uint32_t r = row_of(w, a);
            insert(scratch.hits, &m, k, dist[r], w->y[r]);
        }
    else
        for (uint32_t a = w->size; a-- > 0;) {
            uint32_t r = row_of(w, a);
            insert_older(scratch.hits, &m, k, dist[r], w->y[r]);
        }
    *n = m;
    return scratch.hits;
}

rv_status rv_knn_window_copy(rv_knn_window *dst, const rv_knn_window *src)
{
    rv_knn_window_init(dst, src->window);
    for (uint32_t c = 0; c < src->schema.n; c++)
        if (rv_slots_add(&dst->schema, src->schema.names[c]) == RV_SLOT_NONE)
            return RV_ENOMEM;
    dst->stride = src->stride;
    if (src->cap) {
        dst->rows = alloc_rows(src->cap, src->stride);
        dst->y = malloc((size_t)src->cap * sizeof(double));
        if (!dst->rows || !dst->y)
            return RV_ENOMEM;
        memcpy(dst->rows, src->rows, (size_t)src->cap * src->stride * sizeof(double));
        memcpy(dst->y, src->y, (size_t)src->size * sizeof(double));
    }
    dst->cap = src->cap;
    dst->size = src->size;
    dst->head = src->head;
    return RV_OK;
}

size_t rv_knn_window_memory(const rv_knn_window *w)
{
    return rv_slots_memory(&w->schema) +
           ((size_t)w->cap * (w->stride + 1) + (w->cap ? RV_KNN_PAD : 0)) * sizeof(double);
}

rv_status rv_knn_window_save(const rv_knn_window *w, rv_buf *out)
{
    rv_buf_put_u32(out, w->schema.n);
    for (uint32_t c = 0; c < w->schema.n; c++)
        rv_buf_put_sym(out, w->schema.names[c]);
    rv_buf_put_u32(out, w->size);
    /* Points are saved row by row (y, then the features), gathered from the
     * column-major store 64 values at a time. */
    double tmp[65];
    for (uint32_t a = 0; a < w->size; a++) {
        uint32_t r = row_of(w, a), k = 1;
        tmp[0] = w->y[r];
        for (uint32_t c = 0; c < w->schema.n; c++) {
            tmp[k++] = cell(w, r, c);
            if (k == 65 || c + 1 == w->schema.n) {
                rv_buf_put_f64s(out, tmp, k);
                k = 0;
            }
        }
        if (k)
            rv_buf_put_f64s(out, tmp, k);
    }
    return out->oom ? RV_ENOMEM : RV_OK;
}

rv_status rv_knn_window_load(rv_knn_window *w, rv_reader *in)
{
    uint32_t n = rv_reader_count(in, 4);
    for (uint32_t c = 0; c < n && in->status == RV_OK; c++) {
        rv_sym name = rv_reader_sym(in);
        if (in->status == RV_OK && rv_slots_find(&w->schema, name) != RV_SLOT_NONE)
            rv_reader_fail(in, "duplicate feature name in KNN window");
        else if (in->status == RV_OK && rv_slots_add(&w->schema, name) == RV_SLOT_NONE)
            return RV_ENOMEM;
    }
    uint32_t size = rv_reader_count(in, 8 * ((size_t)n + 1));
    if (in->status != RV_OK)
        return in->status;
    if (size > w->window) {
        rv_reader_fail(in, "KNN window holds more points than window_size");
        return in->status;
    }
    w->stride = n;
    w->cap = size;
    if (size) {
        w->rows = alloc_rows(size, n);
        w->y = malloc((size_t)size * sizeof(double));
        if (!w->rows || !w->y)
            return RV_ENOMEM;
    }
    double tmp[64];
    for (uint32_t r = 0; r < size; r++) {
        w->y[r] = rv_reader_f64(in);
        for (uint32_t c0 = 0; c0 < n; c0 += 64) { /* 64 values at a time, scattered */
            uint32_t k = n - c0 < 64 ? n - c0 : 64;
            rv_reader_f64s(in, tmp, k);
            for (uint32_t c = 0; c < k; c++)
                w->rows[(size_t)(c0 + c) * size + r] = tmp[c];
        }
    }
    w->size = size;
    return in->status;
}
