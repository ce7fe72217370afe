/* linear_model.LogisticRegression (creme 0.5.1 linear_model/glm.py), a
 * binary GLM (glm.c) with creme 0.5.1's defaults:
 *
 *   optimizer optim.SGD(0.01), loss optim.losses.Log(), l2 = 0, intercept = 0,
 *   intercept_lr = 0.01, clip_gradient = 1e12, initializer Zeros()
 *
 * Targets are truth values (True/False, 1/0, "true"/"false": rv_value_truth).
 * predict(x): p = sigmoid(raw(x)) (creme's sigmoid: 0 below -30, 1 above 30),
 * returned as {False: 1 - p, True: p} with num = p; 0.5 before learning.
 */
#include "glm.h"

static rv_object *default_optimizer(rv_error *err)
{
    return rv_optim_new("optim.SGD", RV_CLASS_OPTIMIZER, (double[]){0.01}, 1, err);
}

static const glm_defaults defaults = {.optimizer = default_optimizer, .loss = "optim.losses.Log"};

static rv_status predict(rv_object *self, const rv_event *x, rv_prediction *out, rv_error *err)
{
    rv_glm *m = (rv_glm *)self;
    if (rv_linear_predict_proba(out, rv_loss_mean_func(m->loss, glm_raw(m, x))))
        return rv_error_set(err, RV_ENOMEM, "out of memory writing a prediction");
    return RV_OK;
}

static rv_status describe(const rv_object *self, rv_buf *out)
{
    return glm_describe_with(self, &defaults, out);
}

static rv_object *create(const rv_args *a, rv_error *err);

static const linear_class_ops ops = {
    .est = {.learn = glm_learn, .predict = predict, .prefetch = glm_prefetch},
    .binary = 1,
};

const rv_class rv_class_linear_model_logistic_regression = {
    .kind = RV_CLASS_ESTIMATOR,
    .module = "linear_model",
    .name = "LogisticRegression",
    .flags = RV_F_CLASSIFIER | RV_F_BINARY_ONLY,
    .doc = "Binary logistic regression trained online by a gradient optimizer",
    .create = create,
    .describe = describe,
    GLM_CLASS_FUNCS,
    .ops = &ops,
};

static rv_object *create(const rv_args *a, rv_error *err)
{
    return glm_create(&rv_class_linear_model_logistic_regression, &defaults, a, err);
}
