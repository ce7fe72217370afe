/* The window of recent points behind every nearest-neighbour estimator,
 * its exact search, and the object plumbing the three KNN classes share.
 *
 * Layout: one schema of feature names for the whole window (first-seen
 * order, numeric features only) and each point as a dense row over it.
 *
 *   schema:  [ f0 | f1 | ... | f(n-1) ]          rv_slots
 *   rows:    row r = rows[r*stride .. r*stride+n) doubles, 0 = absent
 *   y:       y[r]
 *   ring:    while filling, point i is row i; once full, the oldest point
 *            is row `head` and a new point overwrites it
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
 * Memory: 30 points x 29 features hold 30*29*8 + 30*8 bytes of data plus a
 * schema of 29 symbols (about 7.3 KiB); rows grow by doubling up to the
 * window. When the schema must grow past the row stride, columns that are
 * zero in every live point (and absent from the new point) are dropped
 * first, so a drifting feature set does not grow the rows without bound.
 * That only moves such a feature to the end of a later query's sum.
 *
 * Search scratch (the dense query, the k best) is thread-local, so the
 * window is never written during a search: concurrent predictions are safe
 * and a thousand idle models carry no scratch.
 *
 * Snapshot: u32 n | n x (u32 len, name) | u32 size | size x (f64 y, n x f64)
 *           oldest point first | u32 nclasses | nclasses x (u32 len, label). */
#include "neighbors/knn.h"

#include <math.h>
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

static const double *row_at(const rv_knn_window *w, uint32_t age)
{
    return w->rows + (size_t)row_of(w, age) * w->stride;
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
    for (uint32_t a = 0; a < w->size; a++) {
        const double *row = row_at(w, a);
        for (uint32_t c = 0; c < old; c++)
            if (row[c] != 0 || isnan(row[c]))
                map[c] = 1;
    }
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
        rows = calloc((size_t)w->cap * stride, sizeof *rows);
        if (!rows)
            goto oom;
        for (uint32_t r = 0; r < w->size; r++)
            for (uint32_t c = 0; c < old; c++)
                if (map[c] != RV_SLOT_NONE)
                    rows[(size_t)r * stride + map[c]] = w->rows[(size_t)r * old + c];
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
    double *rows = realloc(w->rows, (size_t)cap * (w->stride ? w->stride : 1) * sizeof *rows);
    if (!rows)
        return RV_ENOMEM;
    w->rows = rows;
    double *y = realloc(w->y, (size_t)cap * sizeof *y);
    if (!y)
        return RV_ENOMEM;
    w->y = y;
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
    double *row = w->rows + (size_t)r * w->stride;
    memset(row, 0, w->stride * sizeof *row);
    for (uint32_t i = 0; i < x->n; i++)
        if (x->items[i].kind == RV_NUM && slots[i] != RV_SLOT_NONE)
            row[slots[i]] = x->items[i].num;
    w->y[r] = y;
    return RV_OK;
}

/* ===== Search ===== */

static _Thread_local struct {
    double *q;     /* the query, dense over the schema */
    double *extra; /* the query's numeric values outside the schema */
    rv_knn_hit *hits;
    uint32_t qcap, ecap, hcap;
} scratch;

static int reserve(void **p, uint32_t *cap, uint32_t n, size_t size)
{
    if (n <= *cap)
        return 0;
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

static double power_sum(const double *q, const double *row, uint32_t n, const double *extra,
                        uint32_t ne, double p)
{
    double s = 0.0;
    if (p == 2) {
        for (uint32_t c = 0; c < n; c++) {
            double d = q[c] - row[c];
            s += rv_pow_two(d); /* creme's |d| ** 2 is pow, not d * d (core/numeric.c) */
        }
        for (uint32_t e = 0; e < ne; e++)
            s += rv_pow_two(extra[e]);
    } else if (p == 1) {
        for (uint32_t c = 0; c < n; c++)
            s += fabs(q[c] - row[c]);
        for (uint32_t e = 0; e < ne; e++)
            s += fabs(extra[e]);
    } else {
        for (uint32_t c = 0; c < n; c++)
            s += rv_abs_pow(q[c] - row[c], p);
        for (uint32_t e = 0; e < ne; e++)
            s += rv_abs_pow(extra[e], p);
    }
    return s;
}

/* power_sum with p = 2 for four rows at once; each row's sum keeps its own
 * left-to-right order, so the results are identical to four calls. */
static void squared_sum4(const double *q, const double *rows, uint32_t stride, const uint32_t *r,
                         uint32_t n, const double *extra, uint32_t ne, double *out)
{
    const double *r0 = rows + (size_t)r[0] * stride, *r1 = rows + (size_t)r[1] * stride;
    const double *r2 = rows + (size_t)r[2] * stride, *r3 = rows + (size_t)r[3] * stride;
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    for (uint32_t c = 0; c < n; c++) {
        double d0 = q[c] - r0[c], d1 = q[c] - r1[c], d2 = q[c] - r2[c], d3 = q[c] - r3[c];
        s0 += rv_pow_two(d0);
        s1 += rv_pow_two(d1);
        s2 += rv_pow_two(d2);
        s3 += rv_pow_two(d3);
    }
    for (uint32_t e = 0; e < ne; e++) {
        double v = rv_pow_two(extra[e]);
        s0 += v;
        s1 += v;
        s2 += v;
        s3 += v;
    }
    out[0] = s0;
    out[1] = s1;
    out[2] = s2;
    out[3] = s3;
}

const rv_knn_hit *rv_knn_window_nearest(const rv_knn_window *w, const rv_event *x, double p,
                                        uint32_t k, uint32_t *n)
{
    uint32_t cols = w->schema.n, ne = 0, m = 0;
    *n = 0;
    if (reserve((void **)&scratch.q, &scratch.qcap, cols + 1, sizeof(double)) ||
        reserve((void **)&scratch.extra, &scratch.ecap, x->n + 1, sizeof(double)) ||
        reserve((void **)&scratch.hits, &scratch.hcap, k + 1, sizeof(rv_knn_hit)))
        return NULL;
    double *q = scratch.q, *extra = scratch.extra;
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
    uint32_t a = 0;
    if (p == 2 && k > 0) /* four points at a time: independent sums overlap in the pipeline */
        for (; a + 4 <= w->size; a += 4) {
            uint32_t r[4];
            double d[4];
            for (int j = 0; j < 4; j++)
                r[j] = row_of(w, a + (uint32_t)j);
            squared_sum4(q, w->rows, w->stride, r, cols, extra, ne, d);
            for (int j = 0; j < 4; j++)
                insert(scratch.hits, &m, k, d[j], w->y[r[j]]);
        }
    for (; a < w->size && k > 0; a++) {
        uint32_t r = row_of(w, a);
        const double *row = w->rows + (size_t)r * w->stride;
        insert(scratch.hits, &m, k, power_sum(q, row, cols, extra, ne, p), w->y[r]);
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
        dst->rows = malloc((size_t)src->cap * (src->stride ? src->stride : 1) * sizeof(double));
        dst->y = malloc((size_t)src->cap * sizeof(double));
        if (!dst->rows || !dst->y)
            return RV_ENOMEM;
        memcpy(dst->rows, src->rows, (size_t)src->size * src->stride * sizeof(double));
        memcpy(dst->y, src->y, (size_t)src->size * sizeof(double));
    }
    dst->cap = src->cap;
    dst->size = src->size;
    dst->head = src->head;
    return RV_OK;
}

size_t rv_knn_window_memory(const rv_knn_window *w)
{
    return rv_slots_memory(&w->schema) + (size_t)w->cap * (w->stride + 1) * sizeof(double);
}

/* ===== Object plumbing shared by the three classes ===== */

rv_knn *rv_knn_alloc(const rv_class *cls, long k, long window_size)
{
    rv_knn *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->base.cls = cls;
    m->k = k;
    m->window_size = window_size;
    m->leaf_size = 30;
    m->p = 2;
    m->weighted = 1;
    m->softmax = 1;
    rv_knn_window_init(&m->win, (uint32_t)window_size);
    return m;
}

rv_status rv_knn_common_args(const rv_args *args, const char *const *names, long window_dflt,
                             long *k, long *window, double *p, rv_error *err)
{
    if (rv_args_get_int(args, names, "n_neighbors", 5, 1, 1L << 20, k, err) ||
        rv_args_get_int(args, names, "window_size", window_dflt, 1, 1L << 26, window, err) ||
        rv_args_get_num(args, names, "p", 2, p, err))
        return err ? err->code : RV_EINVAL;
    if (!(*p > 0) || isinf(*p))
        return rv_args_error(args, rv_args_find(args, names, "p"), err, RV_EINVAL,
                             "p must be a positive number");
    return RV_OK;
}

rv_status rv_knn_target(const rv_knn *m, const rv_value *y, double *out, rv_error *err)
{
    if (!y || y->kind != RV_NUM)
        return rv_error_set(err, y ? RV_ETYPE : RV_EINVAL, "%s: the target must be a number",
                            m->base.cls->name);
    *out = y->num;
    return RV_OK;
}

double rv_knn_root(double s, double p)
{
    if (p == 1)
        return s;
    if (p == 2)
        return rv_pow_half(s); /* Python's s ** (1 / 2) is pow(s, 0.5) */
    return pow(s, 1.0 / p);
}

rv_object *rv_knn_clone(const rv_object *self, rv_error *err)
{
    const rv_knn *s = (const rv_knn *)self;
    rv_knn *m = rv_knn_alloc(self->cls, s->k, s->window_size);
    if (!m) {
        rv_error_set(err, RV_ENOMEM, "%s: out of memory", self->cls->name);
        return NULL;
    }
    m->leaf_size = s->leaf_size;
    m->p = s->p;
    m->weighted = s->weighted;
    m->aggregation = s->aggregation;
    m->softmax = s->softmax;
    return &m->base;
}

static rv_status add_class(rv_knn *m, rv_sym label)
{
    if (m->nclasses == m->ccap) {
        uint32_t cap = m->ccap ? m->ccap * 2 : 4;
        rv_sym *p = realloc(m->classes, cap * sizeof *p);
        if (!p)
            return RV_ENOMEM;
        m->classes = p;
        m->ccap = cap;
    }
    m->classes[m->nclasses++] = label;
    return RV_OK;
}

rv_status rv_knn_class_index(rv_knn *m, rv_sym label, uint32_t *index)
{
    for (uint32_t i = 0; i < m->nclasses; i++)
        if (m->classes[i] == label) {
            *index = i;
            return RV_OK;
        }
    *index = m->nclasses;
    return add_class(m, label);
}

rv_object *rv_knn_copy(const rv_object *self, rv_error *err)
{
    const rv_knn *s = (const rv_knn *)self;
    rv_object *o = rv_knn_clone(self, err);
    if (!o)
        return NULL;
    rv_knn *m = (rv_knn *)o;
    rv_knn_window_free(&m->win);
    rv_status st = rv_knn_window_copy(&m->win, &s->win);
    for (uint32_t i = 0; st == RV_OK && i < s->nclasses; i++)
        st = add_class(m, s->classes[i]);
    if (st) {
        rv_object_free(o);
        rv_error_set(err, RV_ENOMEM, "%s: out of memory", self->cls->name);
        return NULL;
    }
    return o;
}

rv_status rv_knn_save(const rv_object *self, rv_buf *out)
{
    const rv_knn *m = (const rv_knn *)self;
    const rv_knn_window *w = &m->win;
    rv_buf_put_u32(out, w->schema.n);
    for (uint32_t c = 0; c < w->schema.n; c++)
        rv_buf_put_sym(out, w->schema.names[c]);
    rv_buf_put_u32(out, w->size);
    for (uint32_t a = 0; a < w->size; a++) {
        uint32_t r = row_of(w, a);
        rv_buf_put_f64(out, w->y[r]);
        for (uint32_t c = 0; c < w->schema.n; c++)
            rv_buf_put_f64(out, w->rows[(size_t)r * w->stride + c]);
    }
    rv_buf_put_u32(out, m->nclasses);
    for (uint32_t i = 0; i < m->nclasses; i++)
        rv_buf_put_sym(out, m->classes[i]);
    return out->oom ? RV_ENOMEM : RV_OK;
}

static rv_status load_window(rv_knn_window *w, rv_reader *in)
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
        w->rows = malloc((size_t)size * (n ? n : 1) * sizeof(double));
        w->y = malloc((size_t)size * sizeof(double));
        if (!w->rows || !w->y)
            return RV_ENOMEM;
    }
    for (uint32_t r = 0; r < size; r++) {
        w->y[r] = rv_reader_f64(in);
        for (uint32_t c = 0; c < n; c++)
            w->rows[(size_t)r * n + c] = rv_reader_f64(in);
    }
    w->size = size;
    return in->status;
}

rv_status rv_knn_load(rv_object *self, rv_reader *in)
{
    rv_knn *m = (rv_knn *)self;
    rv_status st = load_window(&m->win, in);
    if (st)
        return st;
    uint32_t n = rv_reader_count(in, 4);
    if (n && !(self->cls->flags & RV_F_CLASSIFIER))
        rv_reader_fail(in, "class labels in the state of a regressor");
    for (uint32_t i = 0; i < n && in->status == RV_OK; i++) {
        uint32_t at;
        rv_sym label = rv_reader_sym(in);
        if (in->status != RV_OK)
            break;
        if (rv_knn_class_index(m, label, &at))
            return RV_ENOMEM;
        if (at != i)
            rv_reader_fail(in, "duplicate class label in KNN state");
    }
    if (in->status == RV_OK && (self->cls->flags & RV_F_CLASSIFIER))
        for (uint32_t r = 0; r < m->win.size; r++) {
            double y = m->win.y[r];
            if (!(y >= 0 && y < m->nclasses && y == floor(y))) {
                rv_reader_fail(in, "KNN point with an unknown class");
                break;
            }
        }
    return in->status;
}

size_t rv_knn_memory(const rv_object *self)
{
    const rv_knn *m = (const rv_knn *)self;
    return sizeof *m + rv_knn_window_memory(&m->win) + m->ccap * sizeof(rv_sym);
}

void rv_knn_destroy(rv_object *self)
{
    rv_knn *m = (rv_knn *)self;
    rv_knn_window_free(&m->win);
    free(m->classes);
    free(m);
}
