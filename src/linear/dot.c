/* Dot products between weights and events, in creme 0.5.1's summation order
 * (utils/math.py `dot`), and the helpers every linear model shares.
 *
 *   dot(a, b) = sum(a[i] * b[i] for i in a if i in b)   if len(a) < len(b)
 *             = sum(a[i] * b[i] for i in b if i in a)   otherwise
 *
 * The sum starts at the integer 0 and runs left to right; 0 + t == t for
 * every double t but -0.0, where both Python and C give 0.0, so starting
 * from 0.0 here is exact. Only the numeric, finite features of the event
 * count, both for len() and for membership (see linear.h).
 *
 * Lookups use cursors: when the event lists features in the weights' order,
 * every lookup succeeds at the cursor and the product is a single pass.
 */
#include "linear_internal.h"

uint32_t rv_linear_count(const rv_event *x)
{
    uint32_t n = 0;
    for (uint32_t k = 0; k < x->n; k++)
        n += rv_feature_is_linear(&x->items[k]);
    return n;
}

/* The usable feature named key, trying *cursor first. */
static const rv_feature *find_feature(const rv_event *x, rv_sym key, uint32_t *cursor)
{
    uint32_t start = *cursor < x->n ? *cursor : 0;
    for (uint32_t step = 0; step < x->n; step++) {
        uint32_t k = start + step < x->n ? start + step : start + step - x->n;
        if (x->items[k].name == key) {
            *cursor = k + 1;
            return rv_feature_is_linear(&x->items[k]) ? &x->items[k] : NULL;
        }
    }
    return NULL;
}

static double over_weights(const rv_weights *w, const rv_event *x)
{
    double sum = 0.0;
    uint32_t cur = 0;
    for (uint32_t i = 0; i < w->n; i++) {
        const rv_feature *f = find_feature(x, w->keys[i], &cur);
        if (f)
            sum += rv_weights_at(w, i)[0] * f->num;
    }
    return sum;
}

static double over_event(const rv_weights *w, const rv_event *x)
{
    double sum = 0.0;
    uint32_t cur = 0;
    for (uint32_t k = 0; k < x->n; k++) {
        const rv_feature *f = &x->items[k];
        if (!rv_feature_is_linear(f))
            continue;
        uint32_t i = rv_weights_find(w, f->name, &cur);
        if (i != RV_WEIGHTS_NONE)
            sum += rv_weights_at(w, i)[0] * f->num;
    }
    return sum;
}

/* The steady state: x's usable features are exactly the weights, in their
 * order. Then both loops below add the same products in the same order, so
 * one pass does it; *ok = 0 when the layouts differ. */
static double in_step(const rv_weights *w, const rv_event *x, int *ok)
{
    double sum = 0.0;
    uint32_t j = 0, n = w->n;
    const rv_sym *keys = w->keys;
    for (uint32_t k = 0; k < x->n; k++) {
        const rv_feature *f = &x->items[k];
        if (!rv_feature_is_linear(f))
            continue;
        if (j == n || keys[j] != f->name) {
            *ok = 0;
            return 0.0;
        }
        sum += rv_weights_at(w, j++)[0] * f->num;
    }
    *ok = j == n;
    return sum;
}

double rv_linear_dot(const rv_weights *w, const rv_event *x, int weights_first)
{
    int ok;
    double fast = in_step(w, x, &ok);
    if (ok)
        return fast;
    uint32_t nx = rv_linear_count(x);
    int iterate_weights = weights_first ? w->n < nx : !(nx < w->n);
    return iterate_weights ? over_weights(w, x) : over_event(w, x);
}

rv_status rv_linear_target(const rv_value *y, int binary, double *out, rv_error *err)
{
    if (!y)
        return rv_error_set(err, RV_EINVAL, "a linear model needs a target to learn");
    if (binary) {
        int truth;
        if (rv_value_truth(y, &truth, err))
            return err ? err->code : RV_ETYPE;
        *out = truth;
        return RV_OK;
    }
    if (y->kind != RV_NUM)
        return rv_error_set(err, RV_ETYPE, "a regressor needs a numeric target");
    if (!isfinite(y->num))
        return rv_error_set(err, RV_EINVAL, "target is not finite (%g)", y->num);
    *out = y->num;
    return RV_OK;
}

rv_status rv_linear_predict_proba(rv_prediction *out, double p)
{
    rv_prediction_clear(out);
    if (rv_prediction_set_proba(out, rv_label_false(), 1. - p) ||
        rv_prediction_set_proba(out, rv_label_true(), p))
        return RV_ENOMEM;
    out->num = p;
    return RV_OK;
}

/* ===== Accessors of linear.h ===== */

int rv_is_linear(const rv_object *o)
{
    extern const rv_class rv_class_linear_model_linear_regression,
        rv_class_linear_model_logistic_regression, rv_class_linear_model_pa_regressor,
        rv_class_linear_model_pa_classifier;
    return o && (o->cls == &rv_class_linear_model_linear_regression ||
                 o->cls == &rv_class_linear_model_logistic_regression ||
                 o->cls == &rv_class_linear_model_pa_regressor ||
                 o->cls == &rv_class_linear_model_pa_classifier);
}

const rv_weights *rv_linear_weights(const rv_object *model)
{
    return rv_is_linear(model) ? &((const rv_linear_head *)model)->w : NULL;
}

double rv_linear_intercept(const rv_object *model)
{
    return rv_is_linear(model) ? ((const rv_linear_head *)model)->intercept : NAN;
}

double rv_linear_raw(const rv_object *model, const rv_event *x)
{
    if (!rv_is_linear(model))
        return NAN;
    const rv_linear_head *h = (const rv_linear_head *)model;
    int weights_first = !((const linear_class_ops *)model->cls->ops)->passive;
    return rv_linear_dot(&h->w, x, weights_first) + h->intercept;
}
