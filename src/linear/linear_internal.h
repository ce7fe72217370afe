/* Shared by the linear models (not public). */
#ifndef RIVULET_LINEAR_INTERNAL_H
#define RIVULET_LINEAR_INTERNAL_H

#include "rivulet/linear.h"

/* creme's utils.math.dot(a, b) between a weight vector and an event: the
 * sum runs over the shorter of the two (ties: over the second), in that
 * one's order, keeping only keys present in both. weights_first says whether
 * the weights are creme's `a` (GLM: dot(weights, x)) or `b` (PA: dot(x, weights)). */
double rv_linear_dot(const rv_weights *w, const rv_event *x, int weights_first);
/* Number of features a linear model uses in x (rv_feature_is_linear). */
uint32_t rv_linear_count(const rv_event *x);

/* Every linear model starts with this, so that the accessors of linear.h
 * work on all of them. */
typedef struct rv_linear_head {
    rv_object base;
    double intercept;
    rv_weights w;
} rv_linear_head;

/* Estimator ops of linear classes, extended with what differs between them. */
typedef struct linear_class_ops {
    rv_estimator_ops est;
    int binary;      /* classifier: target is a truth value, prediction is a probability */
    int passive;     /* PA model (else GLM) */
} linear_class_ops;

/* Reads the target as creme would see it: a truth value (0/1) for binary
 * models, else a finite number. */
rv_status rv_linear_target(const rv_value *y, int binary, double *out, rv_error *err);
/* Writes p = P(True) as {False: 1 - p, True: p} with num = p. */
rv_status rv_linear_predict_proba(rv_prediction *out, double p);

#endif
