/* preprocessing.MaxAbsScaler: scale each numeric feature to [-1, 1] by its
 * running maximum absolute value, without centring (sparsity survives).
 * Follows River (preprocessing/scale.py MaxAbsScaler, stats.AbsMax); creme
 * 0.5.1 has no such class.
 *
 * State per feature: abs_max (starts at 0).
 *
 *   learn:      if |v| > abs_max: abs_max = |v|
 *   transform:  out = v / abs_max if abs_max else 0.0   (River's safe_div)
 *
 * Edge cases: a feature never learned, or only zeros, transforms to 0.0;
 * NaN is never greater, so it leaves abs_max alone (and transforms to NaN);
 * string features keep no state and pass through unchanged. */
#include "preprocessing/scaler.h"
#include "rivulet/preprocessing.h"

#include <math.h>

static const double fresh[1] = {0.0};
static const char *const params[] = {NULL};

static int update(double *st, double v)
{
    double a = fabs(v);
    if (!(a > *st))
        return 0;
    *st = a;
    return 1;
}

static rv_status learn(rv_object *self, const rv_event *x, const rv_value *y, rv_error *err)
{
    return rv_scaler_learn_counting((rv_scaler *)self, x, update, err);
}

static double scale(const rv_scaler *s, const double *st, double v)
{
    return *st != 0 ? v / *st : 0.0;
}

static rv_status transform(rv_object *self, const rv_event *x, rv_event *out, rv_error *err)
{
    return rv_scaler_transform((rv_scaler *)self, x, out, scale, err);
}

static rv_object *create(const rv_args *args, rv_error *err)
{
    rv_scaler *s =
        rv_scaler_create(&rv_class_preprocessing_MaxAbsScaler, args, params, 1, fresh, err);
    return s ? &s->base : NULL;
}

static const rv_estimator_ops ops = {.learn = learn, .transform = transform,
                                      .prefetch = rv_scaler_prefetch};

const rv_class rv_class_preprocessing_MaxAbsScaler = {
    .kind = RV_CLASS_ESTIMATOR,
    .module = "preprocessing",
    .name = "MaxAbsScaler",
    .flags = RV_F_TRANSFORMER | RV_F_COUNTS_CHANGES,
    .doc = "Scale each feature to [-1, 1] by its running max absolute value (River)",
    .create = create,
    RV_SCALER_CLASS_OPS,
    .ops = &ops,
};
