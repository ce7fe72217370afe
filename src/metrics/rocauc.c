/* metrics.ROCAUC(n_thresholds=10): River's approximate area under the ROC
 * curve (metrics/roc_auc.py).
 *
 *   thresholds t_i = i / (n - 1), i = 0..n-1, with t_0 -= 1e-7, t_{n-1} += 1e-7
 *   update: p = P(True) (binary reading, metrics.h), truth = rv_value_truth(y_true)
 *           for each i: confusion matrix i gets (truth, p > t_i); revert subtracts
 *   get: tpr_i = tp / (tp + fn), fpr_i = fp / (fp + tn) (0 when undefined);
 *        AUC = -trapz(tpr, x=fpr) = -sum_i (fpr_{i+1} - fpr_i) * (tpr_{i+1} + tpr_i) / 2
 *        with the terms added as numpy's add.reduce does (pairwise, 8 lanes),
 *        so that the value matches np.trapz / scipy's.
 *
 * n_thresholds is in [2, 1024]. Empty state: 0. A NaN probability is never above a threshold (a negative
 * prediction everywhere). Not exact: the exact AUC would
 * need every score kept; 10 thresholds is River's default trade-off.
 * State saved: u32 n, then per threshold tp, fp, fn, tn (f64). */
#include "internal.h"

#include <string.h>

typedef struct {
    double t, tp, fp, fn, tn;
} roc_cell;

typedef struct {
    rv_object obj;
    uint32_t n;
    roc_cell *c;
} roc_t;

extern const rv_class rv_class_metrics_ROCAUC;
/* get() sums its terms on the stack; more thresholds would not add accuracy
 * worth the memory per metric. */
#define ROC_MAX 1024
static const char *const roc_args[] = {"n_thresholds", NULL};

static void roc_destroy(rv_object *o)
{
    free(((roc_t *)o)->c);
    free(o);
}

static rv_object *roc_make(uint32_t n, rv_error *err)
{
    roc_t *r = (roc_t *)rv_metric_alloc(&rv_class_metrics_ROCAUC, sizeof(roc_t), err);
    if (!r)
        return NULL;
    r->n = n;
    r->c = calloc(n, sizeof *r->c);
    if (!r->c) {
        free(r);
        rv_error_set(err, RV_ENOMEM, "out of memory creating metrics.ROCAUC");
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++)
        r->c[i].t = (double)i / (double)(n - 1);
    r->c[0].t -= 1e-7;
    r->c[n - 1].t += 1e-7;
    return (rv_object *)r;
}

static rv_object *roc_create(const rv_args *a, rv_error *err)
{
    long n;
    if (rv_args_check(a, roc_args, err) ||
        rv_args_get_int(a, roc_args, "n_thresholds", 10, 2, ROC_MAX, &n, err))
        return NULL;
    return roc_make((uint32_t)n, err);
}

static rv_object *roc_clone(const rv_object *o, rv_error *err)
{
    return roc_make(((const roc_t *)o)->n, err);
}

static rv_object *roc_copy(const rv_object *o, rv_error *err)
{
    const roc_t *r = (const roc_t *)o;
    roc_t *c = (roc_t *)roc_make(r->n, err);
    if (c)
        memcpy(c->c, r->c, r->n * sizeof *r->c);
    return (rv_object *)c;
}

static size_t roc_memory(const rv_object *o)
{
    return sizeof(roc_t) + ((const roc_t *)o)->n * sizeof(roc_cell);
}

static rv_status roc_add(rv_object *o, const rv_value *yt, const rv_prediction *yp, double d,
                         rv_error *err)
{
    roc_t *r = (roc_t *)o;
    int t;
    double p;
    rv_status s = rv_metric_binary_input(yt, yp, &t, &p, err);
    if (s)
        return s;
    if (d < 0 && r->c[0].tp + r->c[0].fp + r->c[0].fn + r->c[0].tn < 1)
        return rv_error_set(err, RV_ESTATE, "metrics.ROCAUC: nothing to revert");
    for (uint32_t i = 0; i < r->n; i++) {
        roc_cell *c = &r->c[i];
        int pred = p > c->t;
        *(t ? (pred ? &c->tp : &c->fn) : (pred ? &c->fp : &c->tn)) += d;
    }
    return RV_OK;
}

static rv_status roc_update(rv_object *o, const rv_value *yt, const rv_prediction *yp, rv_error *err)
{
    return roc_add(o, yt, yp, 1, err);
}

static rv_status roc_revert(rv_object *o, const rv_value *yt, const rv_prediction *yp, rv_error *err)
{
    return roc_add(o, yt, yp, -1, err);
}

static double safe_div(double a, double b) { return b == 0 ? 0.0 : a / b; }

static double roc_get(const rv_object *o)
{
    const roc_t *r = (const roc_t *)o;
    double t[ROC_MAX - 1] = {0}, fpr_prev = 0, tpr_prev = 0;
    for (uint32_t i = 0; i < r->n; i++) {
        const roc_cell *c = &r->c[i];
        double tpr = safe_div(c->tp, c->tp + c->fn), fpr = safe_div(c->fp, c->fp + c->tn);
        if (i)
            t[i - 1] = (fpr - fpr_prev) * (tpr + tpr_prev) / 2.0;
        fpr_prev = fpr;
        tpr_prev = tpr;
    }
    return -rv_np_sum(t, r->n - 1);
}

static rv_status roc_save(const rv_object *o, rv_buf *out)
{
    const roc_t *r = (const roc_t *)o;
    rv_buf_put_u32(out, r->n);
    for (uint32_t i = 0; i < r->n; i++) {
        rv_buf_put_f64(out, r->c[i].tp);
        rv_buf_put_f64(out, r->c[i].fp);
        rv_buf_put_f64(out, r->c[i].fn);
        rv_buf_put_f64(out, r->c[i].tn);
    }
    return out->oom ? RV_ENOMEM : RV_OK;
}

static rv_status roc_load(rv_object *o, rv_reader *in)
{
    roc_t *r = (roc_t *)o;
    if (rv_reader_u32(in) != r->n && in->status == RV_OK)
        rv_reader_fail(in, "ROCAUC: snapshot has another number of thresholds");
    for (uint32_t i = 0; i < r->n && in->status == RV_OK; i++) {
        r->c[i].tp = rv_reader_f64(in);
        r->c[i].fp = rv_reader_f64(in);
        r->c[i].fn = rv_reader_f64(in);
        r->c[i].tn = rv_reader_f64(in);
    }
    return in->status;
}

static rv_status roc_describe(const rv_object *o, rv_buf *out)
{
    rv_describer d;
    rv_describe_open(&d, out, o);
    if (((const roc_t *)o)->n != 10)
        rv_describe_int(&d, "n_thresholds", ((const roc_t *)o)->n);
    return rv_describe_close(&d);
}

static const rv_metric_ops roc_ops = {roc_update, roc_revert, roc_get, 1,
                                      RV_METRIC_CLASSIFICATION | RV_METRIC_BINARY |
                                          RV_METRIC_PROBA};

const rv_class rv_class_metrics_ROCAUC = {
    .kind = RV_CLASS_METRIC,
    .module = "metrics",
    .name = "ROCAUC",
    .doc = "Approximate area under the ROC curve (River, n_thresholds=10).",
    .create = roc_create,
    .clone = roc_clone,
    .copy = roc_copy,
    .save = roc_save,
    .load = roc_load,
    .describe = roc_describe,
    .memory = roc_memory,
    .destroy = roc_destroy,
    .ops = &roc_ops,
};
