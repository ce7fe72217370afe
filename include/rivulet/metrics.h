/* metrics: online evaluation metrics (River's metrics module), updated one
 * (y_true, y_pred) pair at a time, and rolling (windowed) forms of each.
 *
 * A metric is an rv_object of kind RV_CLASS_METRIC whose class ops are an
 * rv_metric_ops. */
#ifndef RIVULET_METRICS_H
#define RIVULET_METRICS_H

#include "rivulet/core.h"

enum {
    RV_METRIC_REGRESSION = 1u << 0, /* y_pred.num against a numeric y_true */
    RV_METRIC_CLASSIFICATION = 1u << 1, /* argmax label against y_true's label */
    RV_METRIC_PROBA = 1u << 2, /* uses the probabilities (LogLoss, CrossEntropy, ROCAUC) */
    RV_METRIC_BINARY = 1u << 3 /* binary: truth of y_true against P(True) (Precision, F1, ...) */
};

/* How metrics read their inputs (bad inputs give RV_ETYPE, metric unchanged):
 *  - regression: y_true->num (y_true must be a number) and y_pred->num (the
 *    prediction must be RV_PRED_NUM);
 *  - binary: truth = rv_value_truth(y_true); P(True) = y_pred->num when the
 *    prediction has no labels, else the proba of rv_label_true() (0 when
 *    absent); predicted class = the argmax, a tie going to the class listed first
 *    (False in {False: 1 - p, True: p}; a bare P(True) must exceed 0.5);
 *  - multiclass: rv_label_of(y_true) against rv_prediction_argmax(y_pred). A
 *    binary prediction (no labels, or labels among True/False) is read as in
 *    the binary case, so Accuracy of a binary classifier against 0/1 targets
 *    compares truth values rather than "1" with "True". */

typedef struct rv_metric_ops {
    rv_status (*update)(rv_object *self, const rv_value *y_true, const rv_prediction *y_pred,
                        rv_error *err);
    /* undo an update (NULL when not revertible) */
    rv_status (*revert)(rv_object *self, const rv_value *y_true, const rv_prediction *y_pred,
                        rv_error *err);
    double (*get)(const rv_object *self);
    int bigger_is_better;
    unsigned works_with; /* RV_METRIC_* flags */
} rv_metric_ops;

rv_status rv_metric_update(rv_object *m, const rv_value *y_true, const rv_prediction *y_pred,
                           rv_error *err);
rv_status rv_metric_revert(rv_object *m, const rv_value *y_true, const rv_prediction *y_pred,
                           rv_error *err);
double rv_metric_get(const rv_object *m);
int rv_metric_bigger_is_better(const rv_object *m);
int rv_is_metric(const rv_object *o);
/* RV_METRIC_* flags (those of the wrapped metric for metrics.Rolling). */
unsigned rv_metric_works_with(const rv_object *m);
/* Checks that update(y_true, y_pred) would accept these inputs, without
 * changing anything (RV_OK or RV_ETYPE with a message). */
rv_status rv_metric_check(const rv_object *m, const rv_value *y_true, const rv_prediction *y_pred,
                          rv_error *err);
/* Creates a metric by River name ("MAE", "metrics.RMSE", "Rolling(MAE(), 100)" is
 * built through the parser; here only plain names). */
rv_object *rv_metric_new(const char *name, rv_error *err);

#endif
