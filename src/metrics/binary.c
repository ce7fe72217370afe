/* Binary classification metrics from a 2 x 2 confusion matrix (River's
 * metrics.Precision, Recall, F1 with pos_val=True):
 *
 *   update: truth = rv_value_truth(y_true), predicted = the argmax class
 *           (rv_metric_predicts_true: a tie at 0.5 is False, as Python's
 *           max over {False: 1 - p, True: p} in Chantilly and River)
 *           tp, fp, fn, tn += 1 in the matching cell; revert subtracts
 *   Precision = tp / (tp + fp)     0 when tp + fp = 0
 *   Recall    = tp / (tp + fn)     0 when tp + fn = 0
 *   F1        = 2 * P * R / (P + R) (River's FBeta with beta = 1), 0 when P + R = 0
 *
 * Empty state: 0. A NaN probability counts as a False prediction (NaN > 0.5
 * is false). State saved: tp, fp, fn, tn (f64). */
#include "internal.h"

typedef struct {
    rv_object obj;
    double tp, fp, fn, tn;
} binary_t;

RV_METRIC_PLAIN(binary, binary_t)

extern const rv_class rv_class_metrics_Precision, rv_class_metrics_Recall, rv_class_metrics_F1;

static rv_status binary_add(rv_object *o, const rv_value *yt, const rv_prediction *yp, double d,
                            rv_error *err)
{
    binary_t *b = (binary_t *)o;
    int t;
    double p;
    rv_status s = rv_metric_binary_input(yt, yp, &t, &p, err);
    if (s)
        return s;
    int pred = rv_metric_predicts_true(yp);
    double *cell = t ? (pred ? &b->tp : &b->fn) : (pred ? &b->fp : &b->tn);
    if (d < 0 && *cell < 1)
        return rv_error_set(err, RV_ESTATE, "metrics.%s: nothing to revert", o->cls->name);
    *cell += d;
    return RV_OK;
}

static rv_status binary_update(rv_object *o, const rv_value *yt, const rv_prediction *yp,
                               rv_error *err)
{
    return binary_add(o, yt, yp, 1, err);
}

static rv_status binary_revert(rv_object *o, const rv_value *yt, const rv_prediction *yp,
                               rv_error *err)
{
    return binary_add(o, yt, yp, -1, err);
}

static double safe_div(double a, double b) { return b == 0 ? 0.0 : a / b; }

static double precision_get(const rv_object *o)
{
    const binary_t *b = (const binary_t *)o;
    return safe_div(b->tp, b->tp + b->fp);
}

static double recall_get(const rv_object *o)
{
    const binary_t *b = (const binary_t *)o;
    return safe_div(b->tp, b->tp + b->fn);
}

static double f1_get(const rv_object *o)
{
    double p = precision_get(o), r = recall_get(o);
    return safe_div(2 * p * r, p + r);
}

static rv_status binary_save(const rv_object *o, rv_buf *out)
{
    const binary_t *b = (const binary_t *)o;
    rv_buf_put_f64(out, b->tp);
    rv_buf_put_f64(out, b->fp);
    rv_buf_put_f64(out, b->fn);
    return rv_buf_put_f64(out, b->tn);
}

static rv_status binary_load(rv_object *o, rv_reader *in)
{
    binary_t *b = (binary_t *)o;
    b->tp = rv_reader_f64(in);
    b->fp = rv_reader_f64(in);
    b->fn = rv_reader_f64(in);
    b->tn = rv_reader_f64(in);
    return in->status;
}

#define BINARY_CREATE(NAME)                                                                        \
    static rv_object *NAME##_create(const rv_args *a, rv_error *err)                               \
    {                                                                                              \
        return rv_metric_create_plain(&rv_class_metrics_##NAME, a, err);                           \
    }
BINARY_CREATE(Precision)
BINARY_CREATE(Recall)
BINARY_CREATE(F1)

#define BINARY_FLAGS (RV_METRIC_CLASSIFICATION | RV_METRIC_BINARY)
static const rv_metric_ops precision_ops = {binary_update, binary_revert, precision_get, 1,
                                            BINARY_FLAGS};
static const rv_metric_ops recall_ops = {binary_update, binary_revert, recall_get, 1, BINARY_FLAGS};
static const rv_metric_ops f1_ops = {binary_update, binary_revert, f1_get, 1, BINARY_FLAGS};

const rv_class rv_class_metrics_Precision = {
    .kind = RV_CLASS_METRIC,
    .module = "metrics",
    .name = "Precision",
    .doc = "Binary precision, tp / (tp + fp).",
    .create = Precision_create,
    RV_METRIC_PLAIN_FUNCS(binary),
    .ops = &precision_ops,
};

const rv_class rv_class_metrics_Recall = {
    .kind = RV_CLASS_METRIC,
    .module = "metrics",
    .name = "Recall",
    .doc = "Binary recall, tp / (tp + fn).",
    .create = Recall_create,
    RV_METRIC_PLAIN_FUNCS(binary),
    .ops = &recall_ops,
};

const rv_class rv_class_metrics_F1 = {
    .kind = RV_CLASS_METRIC,
    .module = "metrics",
    .name = "F1",
    .doc = "Binary F1 score, the harmonic mean of precision and recall.",
    .create = F1_create,
    RV_METRIC_PLAIN_FUNCS(binary),
    .ops = &f1_ops,
};
