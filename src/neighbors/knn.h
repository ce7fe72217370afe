/* Shared machinery of the nearest-neighbour estimators: the window of
 * recent points, exact search, and the object plumbing common to creme's
 * KNeighborsRegressor and River's KNNRegressor and KNNClassifier. */
#ifndef RIVULET_NEIGHBORS_KNN_H
#define RIVULET_NEIGHBORS_KNN_H

#include "rivulet/core.h"

/* The last `window` points, as dense rows over one schema of feature names
 * (first-seen order); a feature absent from a point is 0 in its row. */
typedef struct rv_knn_window {
    rv_slots schema;  /* numeric feature names; column c is schema.names[c] */
    double *rows;     /* column-major: feature c of row r at rows[c * cap + r] */
    double *y;        /* target of each row (a class index for classifiers) */
    uint32_t stride;  /* doubles per row, >= schema.n */
    uint32_t cap;     /* rows allocated, <= window */
    uint32_t size;    /* rows in use */
    uint32_t head;    /* physical row of the oldest point once full */
    uint32_t window;  /* maximum number of points */
} rv_knn_window;

/* Doubles of slack after the last column, so vector loads may read past
 * the last row. */
#define RV_KNN_PAD 8

typedef struct rv_knn_hit {
    double d; /* distance (power sum: no p-th root) */
    double y;
} rv_knn_hit;

void rv_knn_window_init(rv_knn_window *w, uint32_t window);
void rv_knn_window_free(rv_knn_window *w);
/* Appends (x, y), evicting the oldest point when full. */
rv_status rv_knn_window_push(rv_knn_window *w, const rv_event *x, double y);
/* The min(k, size) points nearest to x by sum |x_f - p_f| ** p (no root),
 * sorted by distance, ties oldest first (a stable sort). The array is
 * thread-local scratch, valid until the next call on this thread; *n gets
 * the count; NULL on OOM. Never writes to w. */
const rv_knn_hit *rv_knn_window_nearest(const rv_knn_window *w, const rv_event *x, double p,
                                        uint32_t k, uint32_t *n);
/* knn_sq.c: with p = 2, dist[r] for every physical row r, bit-identical
 * to the sum of rv_pow_two terms wherever row r could be among the k
 * nearest (others may be off by a few ulps, never enough to enter the k
 * nearest). q is the dense query, extra its values outside the schema.
 * Returns 0 (nothing written) when this CPU or window has no fast path. */
int rv_knn_sq_distances(const rv_knn_window *w, const double *q, const double *extra,
                        uint32_t ne, uint32_t k, double *dist);
/* Test hook: 0 disables the fast path of rv_knn_sq_distances (every
 * search takes the portable rv_pow_two loop), 1 restores it. */
void rv_knn_sq_enable(int on);

rv_status rv_knn_window_copy(rv_knn_window *dst, const rv_knn_window *src);
rv_status rv_knn_window_save(const rv_knn_window *w, rv_buf *out);
/* Into a freshly initialised window; validates sizes against w->window. */
rv_status rv_knn_window_load(rv_knn_window *w, rv_reader *in);
size_t rv_knn_window_memory(const rv_knn_window *w);

/* One object type for the three classes; each uses the fields it needs. */
typedef struct rv_knn {
    rv_object base;
    rv_knn_window win;
    long k, leaf_size; /* window_size is win.window */
    double p;
    int weighted;    /* creme regressor, River classifier */
    int aggregation; /* River regressor: RV_KNN_MEAN, ... */
    int softmax;     /* River classifier */
    rv_sym *classes; /* River classifier: labels in first-seen order */
    uint32_t nclasses, ccap;
} rv_knn;
enum { RV_KNN_MEAN, RV_KNN_MEDIAN, RV_KNN_WEIGHTED_MEAN };

rv_knn *rv_knn_alloc(const rv_class *cls, long k, long window_size);
/* Checks args against names and reads n_neighbors, window_size, p and (when
 * names lists them) leaf_size and weighted; NULL with err set on a bad argument or OOM.
 * The caller reads its own remaining arguments after. */
rv_knn *rv_knn_create(const rv_class *cls, const rv_args *args, const char *const *names,
                      long window_dflt, rv_error *err);
/* Describes n_neighbors, window_size, leaf_size, p and weighted where not
 * default. */
void rv_knn_describe_common(rv_describer *d, const rv_knn *m, long window_dflt);
/* learn of the regressors: (x, numeric y) joins the window. */
rv_status rv_knn_learn_number(rv_object *self, const rv_event *x, const rv_value *y,
                              rv_error *err);
/* sum(y_i / d_i) / sum(1 / d_i) left to right; d_i is the hit's power sum,
 * or its p-th root (rv_knn_root) when root is set. */
double rv_knn_weighted_mean(const rv_knn_hit *hits, uint32_t n, double p, int root);
/* Numeric target of a regressor (RV_ETYPE otherwise). */
rv_status rv_knn_target(const rv_knn *m, const rv_value *y, double *out, rv_error *err);
/* Index of a class label, adding it (first-seen order) if new. */
rv_status rv_knn_class_index(rv_knn *m, rv_sym label, uint32_t *index);
/* Minkowski distance from a power sum: s ** (1 / p), as Python computes it. */
double rv_knn_root(double s, double p);
/* The estimator ops' prefetch of the KNN classes: the window's schema, its
 * used rows (every cache line a search reads) and targets. */
void rv_knn_prefetch(const rv_object *self);
rv_object *rv_knn_clone(const rv_object *self, rv_error *err);
rv_object *rv_knn_copy(const rv_object *self, rv_error *err);
rv_status rv_knn_save(const rv_object *self, rv_buf *out);
rv_status rv_knn_load(rv_object *self, rv_reader *in);
size_t rv_knn_memory(const rv_object *self);
void rv_knn_destroy(rv_object *self);
/* The class entries of a KNN class, beside its create, describe and ops. */
#define RV_KNN_CLASS_FUNCS                                                                         \
    .clone = rv_knn_clone, .copy = rv_knn_copy, .save = rv_knn_save, .load = rv_knn_load,         \
    .memory = rv_knn_memory, .destroy = rv_knn_destroy

#endif
