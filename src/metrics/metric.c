/* The metrics layer's generic entry points (dispatch through rv_metric_ops),
 * rv_metric_new, and the input readers every metric shares (metrics.h says
 * how a pair is read; internal.h lists the readers).
 *
 * Every reader validates everything before the metric changes: a bad pair is
 * RV_ETYPE with a message and leaves the metric as it was. NaN numbers are
 * accepted and propagate as in River (a NaN prediction makes MAE NaN). */
#include "internal.h"

#include <stdio.h>
#include <string.h>

static const rv_metric_ops *metric_ops(const rv_object *o) { return o->cls->ops; }

int rv_is_metric(const rv_object *o) { return o && o->cls->kind == RV_CLASS_METRIC; }

static const rv_object *innermost(const rv_object *m)
{
    const rv_object *in;
    while ((in = rv_metric_rolling_inner(m)))
        m = in;
    return m;
}

rv_status rv_metric_update(rv_object *m, const rv_value *y_true, const rv_prediction *y_pred,
                           rv_error *err)
{
    if (!rv_is_metric(m))
        return rv_error_set(err, RV_EINVAL, "not a metric");
    return metric_ops(m)->update(m, y_true, y_pred, err);
}

rv_status rv_metric_revert(rv_object *m, const rv_value *y_true, const rv_prediction *y_pred,
                           rv_error *err)
{
    if (!rv_is_metric(m) || !metric_ops(m)->revert)
        return rv_error_set(err, RV_EUNSUPPORTED, "%s cannot revert",
                            m ? m->cls->name : "(null)");
    return metric_ops(m)->revert(m, y_true, y_pred, err);
}

double rv_metric_get(const rv_object *m) { return metric_ops(m)->get(m); }

int rv_metric_bigger_is_better(const rv_object *m)
{
    return metric_ops(innermost(m))->bigger_is_better;
}

unsigned rv_metric_works_with(const rv_object *m) { return metric_ops(innermost(m))->works_with; }

rv_status rv_metric_check(const rv_object *m, const rv_value *y_true, const rv_prediction *y_pred,
                          rv_error *err)
{
    unsigned w = rv_metric_works_with(m);
    double a, b;
    int t;
    rv_sym s1, s2;
    if (w & RV_METRIC_REGRESSION)
        return rv_metric_regression_input(y_true, y_pred, &a, &b, err);
    if (w & RV_METRIC_BINARY)
        return rv_metric_binary_input(y_true, y_pred, &t, &a, err);
    return rv_metric_class_input(y_true, y_pred, &s1, &s2, NULL, err);
}

rv_object *rv_metric_new(const char *name, rv_error *err)
{
    const rv_class *c = rv_class_find_kind(name, RV_CLASS_METRIC);
    if (!c || c->kind != RV_CLASS_METRIC) {
        /* the closest metric's name, then all of them: a user guessing names
         * ("MAPE", "mae") learns the choice at once */
        const char *best = rv_class_suggest_kind(name, RV_CLASS_METRIC);
        char names[512] = "";
        size_t used = 0;
        for (const rv_class *const *k = rv_class_all(); *k; k++) {
            if ((*k)->kind != RV_CLASS_METRIC)
                continue;
            int n = snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "", (*k)->name);
            used = n > 0 && used + (size_t)n < sizeof names ? used + (size_t)n : used;
        }
        if (best)
            rv_error_set(err, RV_ENOTFOUND, "unknown metric '%s', did you mean '%s'? (metrics: %s)",
                         name, best, names);
        else
            rv_error_set(err, RV_ENOTFOUND, "unknown metric '%s' (metrics: %s)", name, names);
        return NULL;
    }
    rv_args a;
    rv_args_init(&a, name);
    rv_object *o = c->create(&a, err);
    rv_args_free(&a);
    return o;
}

/* ===== Input readers ===== */

static rv_status missing(const rv_value *y_true, const rv_prediction *y_pred, rv_error *err)
{
    if (!y_true || y_true->kind == RV_NONE)
        return rv_error_set(err, RV_ETYPE, "metric: y_true is missing");
    if (!y_pred || (y_pred->kind != RV_PRED_NUM && y_pred->kind != RV_PRED_PROBA))
        return rv_error_set(err, RV_ETYPE, "metric: the prediction is missing");
    return RV_OK;
}

rv_status rv_metric_regression_input(const rv_value *y_true, const rv_prediction *y_pred,
                                     double *y, double *p, rv_error *err)
{
    rv_status s = missing(y_true, y_pred, err);
    if (s)
        return s;
    if (y_true->kind != RV_NUM)
        return rv_error_set(err, RV_ETYPE,
                            "regression metric: y_true '%.*s' is a string, not a number",
                            (int)(y_true->len > 64 ? 64 : y_true->len), y_true->str);
    if (y_pred->kind != RV_PRED_NUM)
        return rv_error_set(err, RV_ETYPE,
                            "regression metric: the prediction holds class probabilities, "
                            "not a number");
    *y = y_true->num;
    *p = y_pred->num;
    return RV_OK;
}

static double proba_of(const rv_prediction *p, rv_sym label)
{
    for (uint32_t i = 0; i < p->n; i++)
        if (p->labels[i] == label)
            return p->proba[i];
    return 0;
}

/* A prediction of a binary classifier: a bare number, or labels True/False. */
static int is_binary(const rv_prediction *p)
{
    if (p->kind == RV_PRED_NUM)
        return 1;
    for (uint32_t i = 0; i < p->n; i++)
        if (p->labels[i] != rv_label_true() && p->labels[i] != rv_label_false())
            return 0;
    return p->n > 0;
}

static double p_true_of(const rv_prediction *p)
{
    return p->kind == RV_PRED_NUM ? p->num : proba_of(p, rv_label_true());
}

/* Python's max(y_pred, key=y_pred.get), which Chantilly and River's
 * predict_one use for the label: the first class listed wins a tie, and
 * binary classifiers list False first ({False: 1 - p, True: p}), so an even
 * 0.5 is a False prediction. */
int rv_metric_predicts_true(const rv_prediction *p)
{
    if (p->kind == RV_PRED_NUM)
        return p->num > 0.5;
    return rv_prediction_argmax(p) == rv_label_true();
}

rv_status rv_metric_binary_input(const rv_value *y_true, const rv_prediction *y_pred, int *truth,
                                 double *p_true, rv_error *err)
{
    rv_status s = missing(y_true, y_pred, err);
    if (s || (s = rv_value_truth(y_true, truth, err)))
        return s;
    *p_true = p_true_of(y_pred);
    return RV_OK;
}

rv_status rv_metric_class_input(const rv_value *y_true, const rv_prediction *y_pred,
                                rv_sym *truth, rv_sym *pred, double *p_of_truth, rv_error *err)
{
    rv_status s = missing(y_true, y_pred, err);
    if (s)
        return s;
    if (is_binary(y_pred)) {
        int t;
        if ((s = rv_value_truth(y_true, &t, err)))
            return s;
        double pt = p_true_of(y_pred);
        *truth = t ? rv_label_true() : rv_label_false();
        *pred = rv_metric_predicts_true(y_pred) ? rv_label_true() : rv_label_false();
        if (p_of_truth)
            *p_of_truth = t ? pt
                            : (y_pred->kind == RV_PRED_NUM ? 1 - pt
                                                           : proba_of(y_pred, rv_label_false()));
        return RV_OK;
    }
    if (y_pred->n == 0)
        return rv_error_set(err, RV_ETYPE, "classification metric: the prediction has no classes");
    *truth = rv_label_of(y_true);
    *pred = rv_prediction_argmax(y_pred);
    if (*truth == RV_SYM_NONE)
        return rv_error_set(err, RV_ENOMEM, "out of memory interning a label");
    if (p_of_truth)
        *p_of_truth = proba_of(y_pred, *truth);
    return RV_OK;
}

/* ===== Allocation ===== */

rv_object *rv_metric_alloc(const rv_class *cls, size_t size, rv_error *err)
{
    rv_object *o = calloc(1, size);
    if (!o) {
        rv_error_set(err, RV_ENOMEM, "out of memory creating metrics.%s", cls->name);
        return NULL;
    }
    o->cls = cls;
    return o;
}

rv_object *rv_metric_dup(const rv_object *o, size_t size, rv_error *err)
{
    rv_object *c = malloc(size);
    if (!c) {
        rv_error_set(err, RV_ENOMEM, "out of memory copying metrics.%s", o->cls->name);
        return NULL;
    }
    memcpy(c, o, size);
    return c;
}

void rv_metric_free_flat(rv_object *o) { free(o); }

rv_object *rv_metric_create_plain(const rv_class *cls, const rv_args *a, rv_error *err)
{
    static const char *const no_args[] = {NULL};
    if (rv_args_check(a, no_args, err))
        return NULL;
    rv_object proto = {cls};
    return cls->clone(&proto, err);
}

rv_status rv_metric_describe_plain(const rv_object *o, rv_buf *out)
{
    rv_describer d;
    rv_describe_open(&d, out, o);
    return rv_describe_close(&d);
}
