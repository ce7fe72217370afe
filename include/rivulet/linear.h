/* linear: linear models (creme 0.5.1 / River linear_model module).
 *
 *   linear_model.LinearRegression(optimizer, loss, l2, intercept, intercept_lr,
 *                                 clip_gradient, initializer)     regressor
 *   linear_model.LogisticRegression(same signature)               binary classifier
 *   linear_model.PARegressor(C, mode, eps, learn_intercept)       regressor
 *   linear_model.PAClassifier(C, mode, learn_intercept)           binary classifier
 *
 * They are estimators (rv_estimator_ops): create them by name through the
 * registry (rv_create) and drive them with rv_estimator_learn/predict.
 *
 * Features: linear models use the numeric, finite features of an event.
 * String features are ignored (creme would fail on them), and so are NaN
 * and infinite values, treated as missing so that one bad value cannot turn
 * the weights into NaN for good. A feature never seen weighs 0 until learned.
 * Targets: regressors need a finite number; classifiers a truth value
 * (rv_value_truth); anything else is rejected without changing the model.
 * Classifiers predict {False: 1 - p, True: p} and set num = p = P(True).
 */
#ifndef RIVULET_LINEAR_H
#define RIVULET_LINEAR_H

#include "rivulet/core.h"
#include "rivulet/optim.h"

/* True for the four linear models above. */
int rv_is_linear(const rv_object *o);
/* The learned weights (insertion order) and intercept of a linear model. */
const rv_weights *rv_linear_weights(const rv_object *model);
double rv_linear_intercept(const rv_object *model);
/* The model's raw output for x: weights . x + intercept, summed in creme's
 * order (see src/linear/dot.c). */
double rv_linear_raw(const rv_object *model, const rv_event *x);

#endif
