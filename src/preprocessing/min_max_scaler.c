/* preprocessing.MinMaxScaler: scale each numeric feature to [0, 1] by its
 * running minimum and maximum. Follows creme 0.5.1 (preprocessing/scale.py
 * L158-236) bit for bit (SPEC.md section 5).
 *
 * State per feature: min (starts at +inf) and max (starts at -inf).
 *
 *   learn:      if v < min: min = v;  if v > max: max = v
 *   transform:  out = safe_div(v - min, max - min)
 *
 * Edge cases:
 *   - one observation or constant values: max - min = 0, out = v - min;
 *   - a feature never learned: (v - inf) / (-inf - inf) = NaN, as in creme
 *     (a pipeline that learns before transforming never meets this);
 *   - NaN is never below or above anything, so it leaves min and max alone;
 *   - string features keep no state and pass through unchanged. */
#include "preprocessing/scaler.h"
#include "rivulet/preprocessing.h"

#include <math.h>

enum { MIN, MAX };
static const double fresh[2] = {INFINITY, -INFINITY};
static const char *const params[] = {NULL};

static int update(double *st, double v)
{
    int changed = 0;
    if (v < st[MIN]) {
        st[MIN] = v;
        changed = 1;
    }
    if (v > st[MAX]) {
        st[MAX] = v;
        changed = 1;
    }
    return changed;
}

/* Counts its own changes (RV_F_COUNTS_CHANGES): once every feature has been
 * seen, most learns move no extreme, so most predicts of a creme-mode
 * pipeline through it change nothing and need no log record. */
static rv_status learn(rv_object *self, const rv_event *x, const rv_value *y, rv_error *err)
{
    return rv_scaler_learn_counting((rv_scaler *)self, x, update, err);
}

static double scale(const rv_scaler *s, const double *st, double v)
{
    return rv_safe_div(v - st[MIN], st[MAX] - st[MIN]);
}

static rv_status transform(rv_object *self, const rv_event *x, rv_event *out, rv_error *err)
{
    return rv_scaler_transform((rv_scaler *)self, x, out, scale, err);
}

static rv_object *create(const rv_args *args, rv_error *err)
{
    rv_scaler *s =
        rv_scaler_create(&rv_class_preprocessing_MinMaxScaler, args, params, 2, fresh, err);
    return s ? &s->base : NULL;
}

static const rv_estimator_ops ops = {.learn = learn, .transform = transform,
                                      .prefetch = rv_scaler_prefetch};

const rv_class rv_class_preprocessing_MinMaxScaler = {
    .kind = RV_CLASS_ESTIMATOR,
    .module = "preprocessing",
    .name = "MinMaxScaler",
    .flags = RV_F_TRANSFORMER | RV_F_COUNTS_CHANGES,
    .doc = "Scale each feature to [0, 1] by its running min and max (creme 0.5.1)",
    .create = create,
    RV_SCALER_CLASS_OPS,
    .ops = &ops,
};
