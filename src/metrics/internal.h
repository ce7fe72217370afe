/* Machinery shared by the metrics of src/metrics/: reading (y_true, y_pred)
 * pairs the way metrics.h documents, and allocation of flat metrics. */
#ifndef RIVULET_METRICS_INTERNAL_H
#define RIVULET_METRICS_INTERNAL_H

#include "rivulet/metrics.h"

#include <stdlib.h>

/* Largest Rolling window accepted from arguments. */
#define RV_METRIC_MAX_WINDOW 10000000L

rv_status rv_metric_regression_input(const rv_value *y_true, const rv_prediction *y_pred,
                                     double *y, double *p, rv_error *err);
/* The predicted class of a binary prediction is True (argmax, ties to the
 * class listed first; a bare P(True) must exceed 0.5). */
int rv_metric_predicts_true(const rv_prediction *p);
rv_status rv_metric_binary_input(const rv_value *y_true, const rv_prediction *y_pred, int *truth,
                                 double *p_true, rv_error *err);
/* Class labels; *p_of_truth (may be NULL) receives the predicted probability
 * of the true class (0 when the prediction does not list it). */
rv_status rv_metric_class_input(const rv_value *y_true, const rv_prediction *y_pred,
                                rv_sym *truth, rv_sym *pred, double *p_of_truth, rv_error *err);

rv_object *rv_metric_alloc(const rv_class *cls, size_t size, rv_error *err);
rv_object *rv_metric_dup(const rv_object *o, size_t size, rv_error *err);
void rv_metric_free_flat(rv_object *o);
rv_status rv_metric_describe_plain(const rv_object *o, rv_buf *out);
/* The metric wrapped by metrics.Rolling (NULL for any other metric). */
const rv_object *rv_metric_rolling_inner(const rv_object *m);

/* create() of a metric without parameters: checks that a is empty, then the
 * class's own clone() of a bare object of class cls. */
rv_object *rv_metric_create_plain(const rv_class *cls, const rv_args *a, rv_error *err);

/* Copy and memory of a metric whose struct holds no pointers. */
#define RV_METRIC_FLAT(prefix, type)                                                               \
    static rv_object *prefix##_copy(const rv_object *o, rv_error *err)                            \
    {                                                                                              \
        return rv_metric_dup(o, sizeof(type), err);                                                \
    }                                                                                              \
    static size_t prefix##_memory(const rv_object *o)                                             \
    {                                                                                              \
        (void)o;                                                                                   \
        return sizeof(type);                                                                       \
    }

/* RV_METRIC_FLAT plus clone() for a metric whose fresh state is all zeros. */
#define RV_METRIC_PLAIN(prefix, type)                                                              \
    RV_METRIC_FLAT(prefix, type)                                                                   \
    static rv_object *prefix##_clone(const rv_object *o, rv_error *err)                           \
    {                                                                                              \
        return rv_metric_alloc(o->cls, sizeof(type), err);                                         \
    }

/* The class entries of a flat metric without parameters, from its
 * prefix_clone, _copy, _save, _load and _memory. */
#define RV_METRIC_PLAIN_FUNCS(prefix)                                                              \
    .clone = prefix##_clone, .copy = prefix##_copy, .save = prefix##_save,                         \
    .load = prefix##_load, .describe = rv_metric_describe_plain, .memory = prefix##_memory,        \
    .destroy = rv_metric_free_flat

#endif
