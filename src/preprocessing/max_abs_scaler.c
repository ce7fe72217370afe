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

static rv_status learn(rv_object *self, const rv_event *x, const rv_value *y, rv_error *err)
{
    rv_scaler *s = (rv_scaler *)self;
    const uint32_t *slots = rv_scaler_learn_slots(s, x);
    if (!slots)
        return rv_error_set(err, RV_ENOMEM, "MaxAbsScaler: out of memory");
    for (uint32_t i = 0; i < x->n; i++) {
        const rv_feature *f = &x->items[i];
        if (f->kind != RV_NUM)
            continue;
        double *st = s->st + slots[i], a = fabs(f->num);
        if (a > *st)
            *st = a;
    }
    return RV_OK;
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
    if (rv_args_check(args, params, err))
        return NULL;
    rv_scaler *s = rv_scaler_alloc(&rv_class_preprocessing_MaxAbsScaler, 1, fresh);
    if (!s)
        rv_error_set(err, RV_ENOMEM, "MaxAbsScaler: out of memory");
    return s ? &s->base : NULL;
}

static const rv_estimator_ops ops = {.learn = learn, .transform = transform};

const rv_class rv_class_preprocessing_MaxAbsScaler = {
    .kind = RV_CLASS_ESTIMATOR,
    .module = "preprocessing",
    .name = "MaxAbsScaler",
    .flags = RV_F_TRANSFORMER,
    .doc = "Scale each feature to [-1, 1] by its running max absolute value (River)",
    .create = create,
    .clone = rv_scaler_clone,
    .copy = rv_scaler_copy,
    .save = rv_scaler_save,
    .load = rv_scaler_load,
    .describe = rv_scaler_describe,
    .memory = rv_scaler_memory,
    .destroy = rv_scaler_destroy,
    .ops = &ops,
};
