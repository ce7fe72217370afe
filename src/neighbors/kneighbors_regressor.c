/* neighbors.KNeighborsRegressor: creme 0.5.1's k-nearest-neighbours
 * regressor (creme/neighbors/knn.py L8-94, utils/math.py L167-178), bit for
 * bit as SPEC.md section 6 states it.
 *
 *   learn:    append (x, y) to a window of the last window_size points (x is
 *             stored as given: a scaler before it scales with its state of
 *             that time, and the point is never rescaled).
 *   distance: d = sum over features of |x_f - p_f| ** p, NO p-th root (with
 *             p = 2 it is the squared Euclidean distance), summed in feature
 *             order (see knn.c); an absent feature counts as 0. `**` is
 *             Python's pow: for p = 2 that is rv_pow_two, not d * d (glibc's
 *             pow(d, 2.0) misrounds about 1 square in 1,200).
 *   predict:  distances to every point, oldest first; stable sort (ties keep
 *             the oldest first); the first min(k, size) points:
 *               empty window            -> 0.0
 *               nearest d == 0          -> that point's y (the oldest match)
 *               weighted (default)      -> sum(y_i / d_i) / sum(1 / d_i)
 *               uniform                 -> sum(y_i) / k, dividing by k even
 *                                          with fewer points (creme's bug,
 *                                          golden case knn_p1_uniform)
 *             sums run left to right in sorted order.
 *
 * NaN distances sort after all others (creme's sort would be undefined);
 * NaN or inf features never crash, they just give NaN or inf distances.
 * String features are ignored (creme would raise). A string target is an
 * error (RV_ETYPE). Differs from River's KNNRegressor (true distance,
 * aggregation_method); that class is in knn_regressor.c. */
#include "neighbors/knn.h"
#include "rivulet/neighbors.h"

#include <math.h>

static const char *const params[] = {"n_neighbors", "window_size", "p", "weighted", NULL};

static rv_status predict(rv_object *self, const rv_event *x, rv_prediction *out, rv_error *err)
{
    rv_knn *m = (rv_knn *)self;
    uint32_t n;
    const rv_knn_hit *hits = rv_knn_window_nearest(&m->win, x, m->p, (uint32_t)m->k, &n);
    if (!hits)
        return rv_error_set(err, RV_ENOMEM, "KNeighborsRegressor: out of memory");
    double pred = 0.0;
    if (n > 0 && hits[0].d == 0) {
        pred = hits[0].y;
    } else if (n > 0 && m->weighted) {
        pred = rv_knn_weighted_mean(hits, n, m->p, 0);
    } else if (n > 0) {
        double sum = 0.0;
        for (uint32_t i = 0; i < n; i++)
            sum += hits[i].y;
        pred = sum / (double)m->k;
    }
    rv_prediction_set_num(out, pred);
    return RV_OK;
}

static rv_object *create(const rv_args *args, rv_error *err)
{
    rv_knn *m = rv_knn_create(&rv_class_neighbors_KNeighborsRegressor, args, params, 50, err);
    return m ? &m->base : NULL;
}

static rv_status describe(const rv_object *self, rv_buf *out)
{
    const rv_knn *m = (const rv_knn *)self;
    rv_describer d;
    rv_describe_open(&d, out, self);
    rv_knn_describe_common(&d, m, 50);
    return rv_describe_close(&d);
}

static const rv_estimator_ops ops = {.learn = rv_knn_learn_number, .predict = predict,
                                      .prefetch = rv_knn_prefetch};

const rv_class rv_class_neighbors_KNeighborsRegressor = {
    .kind = RV_CLASS_ESTIMATOR,
    .module = "neighbors",
    .name = "KNeighborsRegressor",
    .flags = RV_F_REGRESSOR,
    .doc = "creme 0.5.1 k-nearest neighbours over a window (squared distance for p=2)",
    .create = create,
    .describe = describe,
    RV_KNN_CLASS_FUNCS,
    .ops = &ops,
};
