/* metrics.R2: coefficient of determination (River's metrics.R2).
 *
 *   state: n, the running mean of y and its Welford sum of squares m2
 *          (so that the total sum of squares TSS = m2), and the residual sum
 *          of squares RSS = sum (y - p) * (y - p)
 *   update: n += 1; old = mean; mean += (y - mean) / n; m2 += (y - old) * (y - mean);
 *           rss += (y - p) * (y - p)
 *   revert: the exact inverse of each step (up to rounding); n = 0 resets
 *   get = 1 - rss / tss   when n > 1 and tss != 0, else 0 (River)
 *
 * NaN predictions make R2 NaN for good. State saved: n, mean, m2, rss (f64). */
#include "internal.h"

typedef struct {
    rv_object obj;
    double n, mean, m2, rss;
} r2_t;

RV_METRIC_PLAIN(r2, r2_t)

extern const rv_class rv_class_metrics_R2;

static rv_object *r2_create(const rv_args *a, rv_error *err)
{
    return rv_metric_create_plain(&rv_class_metrics_R2, a, err);
}

static rv_status r2_update(rv_object *o, const rv_value *yt, const rv_prediction *yp, rv_error *err)
{
    r2_t *r = (r2_t *)o;
    double y, p;
    rv_status s = rv_metric_regression_input(yt, yp, &y, &p, err);
    if (s)
        return s;
    double old = r->mean;
    r->n += 1;
    r->mean += (y - r->mean) / r->n;
    r->m2 += (y - old) * (y - r->mean);
    r->rss += (y - p) * (y - p);
    return RV_OK;
}

static rv_status r2_revert(rv_object *o, const rv_value *yt, const rv_prediction *yp, rv_error *err)
{
    r2_t *r = (r2_t *)o;
    double y, p;
    rv_status s = rv_metric_regression_input(yt, yp, &y, &p, err);
    if (s)
        return s;
    if (r->n < 1)
        return rv_error_set(err, RV_ESTATE, "metrics.R2: nothing to revert");
    double n = r->n - 1;
    if (n == 0) {
        r->n = r->mean = r->m2 = r->rss = 0;
        return RV_OK;
    }
    double old = r->mean - (y - r->mean) / n;
    r->m2 -= (y - old) * (y - r->mean);
    r->mean = old;
    r->n = n;
    r->rss -= (y - p) * (y - p);
    return RV_OK;
}

static double r2_get(const rv_object *o)
{
    const r2_t *r = (const r2_t *)o;
    if (r->n > 1 && r->m2 != 0)
        return 1 - r->rss / r->m2;
    return 0;
}

static rv_status r2_save(const rv_object *o, rv_buf *out)
{
    const r2_t *r = (const r2_t *)o;
    rv_buf_put_f64(out, r->n);
    rv_buf_put_f64(out, r->mean);
    rv_buf_put_f64(out, r->m2);
    return rv_buf_put_f64(out, r->rss);
}

static rv_status r2_load(rv_object *o, rv_reader *in)
{
    r2_t *r = (r2_t *)o;
    r->n = rv_reader_f64(in);
    r->mean = rv_reader_f64(in);
    r->m2 = rv_reader_f64(in);
    r->rss = rv_reader_f64(in);
    return in->status;
}

static const rv_metric_ops r2_ops = {r2_update, r2_revert, r2_get, 1, RV_METRIC_REGRESSION};

const rv_class rv_class_metrics_R2 = {
    .kind = RV_CLASS_METRIC,
    .module = "metrics",
    .name = "R2",
    .doc = "Coefficient of determination (1 - RSS / TSS).",
    .create = r2_create,
    RV_METRIC_PLAIN_FUNCS(r2),
    .ops = &r2_ops,
};
