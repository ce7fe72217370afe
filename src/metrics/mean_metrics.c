/* Metrics that are the running mean of a per-pair loss e (River's
 * metrics.base.MeanMetric), kept with creme's Mean recurrence so that the
 * reported value is bit-identical to creme's (SPEC.md §8):
 *
 *   update: n += 1;  mean += (e - mean) / n
 *   revert: n -= 1;  n == 0 -> mean = 0;  else mean -= (e - mean) / n
 *
 *   class         e (per pair)                                      get
 *   MAE           |y - p|                                           mean
 *   MSE           (y - p) * (y - p)                                 mean
 *   RMSE          (y - p) * (y - p)                                 mean ** 0.5 (pow)
 *   SMAPE         2 |y - p| / (|y| + |p|), 0 when both are 0        100 * mean
 *   LogLoss       -log(clamp(P(True)))  or  -log(1 - clamp(P(True)))  mean
 *   CrossEntropy  -log(clamp(P(true class)))                        mean
 *
 * clamp(p) = max(min(p, 1 - 1e-15), 1e-15) as River. CrossEntropy takes the
 * probability of the true class as 0 when the prediction does not list it
 * (River's loop would add nothing, i.e. a zero loss; a missing class is the
 * worst prediction, so we charge the clamped maximum of about 34.5).
 *
 * Empty state: 0. NaN predictions make the mean NaN for good (River too).
 * State saved: n, mean (f64). */
#include "internal.h"

#include <math.h>

typedef struct {
    rv_object obj;
    double n, mean;
} mean_metric_t;

RV_METRIC_PLAIN(mm, mean_metric_t)

extern const rv_class rv_class_metrics_MAE, rv_class_metrics_MSE, rv_class_metrics_RMSE,
    rv_class_metrics_SMAPE, rv_class_metrics_LogLoss, rv_class_metrics_CrossEntropy;

static double clamp_proba(double p)
{
    p = p < 1 - 1e-15 ? p : (isnan(p) ? p : 1 - 1e-15);
    return p > 1e-15 ? p : (isnan(p) ? p : 1e-15);
}

/* The loss of one pair for the metric's class. */
static rv_status loss_of(const rv_object *o, const rv_value *yt, const rv_prediction *yp, double *e,
                         rv_error *err)
{
    const rv_class *c = o->cls;
    double y, p;
    rv_status s;
    if (c == &rv_class_metrics_LogLoss) {
        int t;
        if ((s = rv_metric_binary_input(yt, yp, &t, &p, err)))
            return s;
        p = clamp_proba(p);
        *e = t ? -log(p) : -log(1 - p);
        return RV_OK;
    }
    if (c == &rv_class_metrics_CrossEntropy) {
        rv_sym a, b;
        if ((s = rv_metric_class_input(yt, yp, &a, &b, &p, err)))
            return s;
        *e = -log(clamp_proba(p));
        return RV_OK;
    }
    if ((s = rv_metric_regression_input(yt, yp, &y, &p, err)))
        return s;
    if (c == &rv_class_metrics_MAE)
        *e = fabs(y - p);
    else if (c == &rv_class_metrics_SMAPE) {
        double den = fabs(y) + fabs(p);
        *e = den == 0 ? 0.0 : 2.0 * fabs(y - p) / den;
    } else
        *e = (y - p) * (y - p);
    return RV_OK;
}

static rv_status mm_update(rv_object *o, const rv_value *yt, const rv_prediction *yp, rv_error *err)
{
    mean_metric_t *m = (mean_metric_t *)o;
    double e;
    rv_status s = loss_of(o, yt, yp, &e, err);
    if (s)
        return s;
    m->n += 1;
    m->mean += (e - m->mean) / m->n;
    return RV_OK;
}

static rv_status mm_revert(rv_object *o, const rv_value *yt, const rv_prediction *yp, rv_error *err)
{
    mean_metric_t *m = (mean_metric_t *)o;
    double e;
    rv_status s = loss_of(o, yt, yp, &e, err);
    if (s)
        return s;
    if (m->n < 1)
        return rv_error_set(err, RV_ESTATE, "metrics.%s: nothing to revert", o->cls->name);
    m->n -= 1;
    if (m->n == 0)
        m->mean = 0;
    else
        m->mean -= (e - m->mean) / m->n;
    return RV_OK;
}

static double mm_get(const rv_object *o) { return ((const mean_metric_t *)o)->mean; }
static double rmse_get(const rv_object *o) { return rv_pow_half(mm_get(o)); }
static double smape_get(const rv_object *o) { return 100 * mm_get(o); }

static rv_status mm_save(const rv_object *o, rv_buf *out)
{
    rv_buf_put_f64(out, ((const mean_metric_t *)o)->n);
    return rv_buf_put_f64(out, ((const mean_metric_t *)o)->mean);
}

static rv_status mm_load(rv_object *o, rv_reader *in)
{
    mean_metric_t *m = (mean_metric_t *)o;
    m->n = rv_reader_f64(in);
    m->mean = rv_reader_f64(in);
    if (in->status == RV_OK && !(m->n >= 0))
        rv_reader_fail(in, "negative count");
    return in->status;
}

#define MM_CREATE(NAME)                                                                            \
    static rv_object *NAME##_create(const rv_args *a, rv_error *err)                               \
    {                                                                                              \
        return rv_metric_create_plain(&rv_class_metrics_##NAME, a, err);                             \
    }
MM_CREATE(MAE)
MM_CREATE(MSE)
MM_CREATE(RMSE)
MM_CREATE(SMAPE)
MM_CREATE(LogLoss)
MM_CREATE(CrossEntropy)

static const rv_metric_ops mae_ops = {mm_update, mm_revert, mm_get, 0, RV_METRIC_REGRESSION};
static const rv_metric_ops rmse_ops = {mm_update, mm_revert, rmse_get, 0, RV_METRIC_REGRESSION};
static const rv_metric_ops smape_ops = {mm_update, mm_revert, smape_get, 0, RV_METRIC_REGRESSION};
static const rv_metric_ops logloss_ops = {mm_update, mm_revert, mm_get, 0,
                                          RV_METRIC_CLASSIFICATION | RV_METRIC_BINARY |
                                              RV_METRIC_PROBA};
static const rv_metric_ops xent_ops = {mm_update, mm_revert, mm_get, 0,
                                       RV_METRIC_CLASSIFICATION | RV_METRIC_PROBA};

const rv_class rv_class_metrics_MAE = {
    .kind = RV_CLASS_METRIC,
    .module = "metrics",
    .name = "MAE",
    .doc = "Mean absolute error.",
    .create = MAE_create,
    RV_METRIC_PLAIN_FUNCS(mm),
    .ops = &mae_ops,
};

const rv_class rv_class_metrics_MSE = {
    .kind = RV_CLASS_METRIC,
    .module = "metrics",
    .name = "MSE",
    .doc = "Mean squared error.",
    .create = MSE_create,
    RV_METRIC_PLAIN_FUNCS(mm),
    .ops = &mae_ops,
};

const rv_class rv_class_metrics_RMSE = {
    .kind = RV_CLASS_METRIC,
    .module = "metrics",
    .name = "RMSE",
    .doc = "Root mean squared error.",
    .create = RMSE_create,
    RV_METRIC_PLAIN_FUNCS(mm),
    .ops = &rmse_ops,
};

const rv_class rv_class_metrics_SMAPE = {
    .kind = RV_CLASS_METRIC,
    .module = "metrics",
    .name = "SMAPE",
    .doc = "Symmetric mean absolute percentage error (0 when y and the prediction are 0).",
    .create = SMAPE_create,
    RV_METRIC_PLAIN_FUNCS(mm),
    .ops = &smape_ops,
};

const rv_class rv_class_metrics_LogLoss = {
    .kind = RV_CLASS_METRIC,
    .module = "metrics",
    .name = "LogLoss",
    .doc = "Binary logarithmic loss.",
    .create = LogLoss_create,
    RV_METRIC_PLAIN_FUNCS(mm),
    .ops = &logloss_ops,
};

const rv_class rv_class_metrics_CrossEntropy = {
    .kind = RV_CLASS_METRIC,
    .module = "metrics",
    .name = "CrossEntropy",
    .doc = "Multiclass logarithmic loss.",
    .create = CrossEntropy_create,
    RV_METRIC_PLAIN_FUNCS(mm),
    .ops = &xent_ops,
};
