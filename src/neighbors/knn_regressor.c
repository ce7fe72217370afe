/* neighbors.KNNRegressor: River's k-nearest-neighbours regressor with exact
 * search (River 0.7-0.10 signature: KNNRegressor(n_neighbors=5,
 * window_size=1000, leaf_size=30, p=2, aggregation_method='mean')).
 *
 *   learn:    append (x, y) to the window of the last window_size points.
 *   distance: true Minkowski distance (sum |x_f - p_f| ** p) ** (1 / p),
 *             an absent feature counting as 0, summed in feature order.
 *   predict:  the min(k, size) nearest, ties oldest first:
 *               empty window       -> 0.0
 *               nearest d == 0     -> that point's y
 *               'mean'             -> numpy's mean (pairwise sum / n)
 *               'median'           -> numpy's median (mean of the two middle
 *                                     values when n is even; NaN if any NaN)
 *               'weighted_mean'    -> sum(y_i / d_i) / sum(1 / d_i)
 *
 * River searched with scipy's cKDTree over positional arrays; here the
 * search is exact and by feature name, and leaf_size is accepted but has no
 * effect. NaN/inf features never crash; string features are ignored. */
#include "neighbors/knn.h"
#include "rivulet/neighbors.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const params[] = {"n_neighbors", "window_size", "leaf_size", "p",
                                     "aggregation_method", NULL};
static const char *const methods[] = {"mean", "median", "weighted_mean"};

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

static double median(double *v, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (isnan(v[i]))
            return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    if (n % 2)
        return v[n / 2];
    double mid[2] = {v[n / 2 - 1], v[n / 2]};
    return rv_np_sum(mid, 2) / 2;
}

static double aggregate(const rv_knn *m, const rv_knn_hit *hits, uint32_t n, double *ys)
{
    for (uint32_t i = 0; i < n; i++)
        ys[i] = hits[i].y;
    if (m->aggregation == RV_KNN_MEAN)
        return rv_np_sum(ys, n) / n;
    if (m->aggregation == RV_KNN_MEDIAN)
        return median(ys, n);
    return rv_knn_weighted_mean(hits, n, m->p, 1);
}

static rv_status predict(rv_object *self, const rv_event *x, rv_prediction *out, rv_error *err)
{
    rv_knn *m = (rv_knn *)self;
    uint32_t n;
    const rv_knn_hit *hits = rv_knn_window_nearest(&m->win, x, m->p, (uint32_t)m->k, &n);
    double small[64], *ys = !hits ? NULL : n <= 64 ? small : malloc(n * sizeof *ys);
    if (!ys)
        return rv_error_set(err, RV_ENOMEM, "KNNRegressor: out of memory");
    double pred = 0.0;
    if (n > 0)
        pred = rv_knn_root(hits[0].d, m->p) == 0 ? hits[0].y : aggregate(m, hits, n, ys);
    if (ys != small)
        free(ys);
    rv_prediction_set_num(out, pred);
    return RV_OK;
}

static rv_object *create(const rv_args *args, rv_error *err)
{
    const char *method;
    rv_knn *m = rv_knn_create(&rv_class_neighbors_KNNRegressor, args, params, 1000, err);
    if (!m || rv_args_get_str(args, params, "aggregation_method", "mean", &method, err))
        goto fail;
    m->aggregation = -1;
    for (int i = 0; i < 3; i++)
        if (strcmp(method, methods[i]) == 0)
            m->aggregation = i;
    if (m->aggregation >= 0)
        return &m->base;
    rv_args_error(args, rv_args_find(args, params, "aggregation_method"), err, RV_EINVAL,
                  "must be 'mean', 'median' or 'weighted_mean', not '%s'", method);
fail:
    if (m)
        rv_knn_destroy(&m->base);
    return NULL;
}

static rv_status describe(const rv_object *self, rv_buf *out)
{
    const rv_knn *m = (const rv_knn *)self;
    rv_describer d;
    rv_describe_open(&d, out, self);
    rv_knn_describe_common(&d, m, 1000);
    if (m->aggregation != RV_KNN_MEAN)
        rv_describe_str(&d, "aggregation_method", methods[m->aggregation]);
    return rv_describe_close(&d);
}

static const rv_estimator_ops ops = {.learn = rv_knn_learn_number, .predict = predict,
                                      .prefetch = rv_knn_prefetch};

const rv_class rv_class_neighbors_KNNRegressor = {
    .kind = RV_CLASS_ESTIMATOR,
    .module = "neighbors",
    .name = "KNNRegressor",
    .flags = RV_F_REGRESSOR,
    .doc = "River k-nearest neighbours regressor (exact search, Minkowski distance)",
    .create = create,
    .describe = describe,
    RV_KNN_CLASS_FUNCS,
    .ops = &ops,
};
