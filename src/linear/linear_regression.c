/* linear_model.LinearRegression (creme 0.5.1 linear_model/glm.py), a GLM
 * (glm.c) with creme 0.5.1's defaults:
 *
 *   optimizer     optim.SGD(optim.schedulers.InverseScaling(0.01, power=0.25))
 *                 i.e. lr(t) = 0.01 / (t + 1) ** 0.25
 *   loss          optim.losses.Squared()   (gradient 2 * (raw - y))
 *   l2 = 0, intercept = 0, intercept_lr = 0.01 (Constant), clip_gradient = 1e12,
 *   initializer   optim.initializers.Zeros()
 *
 * predict(x) = loss.mean_func(raw(x)) = raw(x) for the regression losses:
 * 0.0 before anything is learned. See glm.c for the update rule, dot.c for
 * the summation order, linear.h for strings, NaN and infinite features.
 * Example: `linear_model.LinearRegression(optimizer=optim.SGD(lr=0.005),
 * intercept_lr=0.001)` is the linear model of the M5 write-up.
 */
#include "glm.h"

static rv_object *default_optimizer(rv_error *err)
{
    rv_object *sched = rv_optim_new("optim.schedulers.InverseScaling", RV_CLASS_SCHEDULER,
                                    (double[]){0.01, 0.25}, 2, err);
    return sched ? rv_optimizer_new("optim.SGD", sched, err) : NULL;
}

static const glm_defaults defaults = {.optimizer = default_optimizer, .loss = "optim.losses.Squared"};

static rv_status predict(rv_object *self, const rv_event *x, rv_prediction *out, rv_error *err)
{
    rv_glm *m = (rv_glm *)self;
    rv_prediction_set_num(out, rv_loss_mean_func(m->loss, glm_raw(m, x)));
    return RV_OK;
}

static rv_status describe(const rv_object *self, rv_buf *out)
{
    return glm_describe_with(self, &defaults, out);
}

static rv_object *create(const rv_args *a, rv_error *err);

static const linear_class_ops ops = {
    .est = {.learn = glm_learn, .predict = predict, .prefetch = glm_prefetch},
    .binary = 0,
};

const rv_class rv_class_linear_model_linear_regression = {
    .kind = RV_CLASS_ESTIMATOR,
    .module = "linear_model",
    .name = "LinearRegression",
    .flags = RV_F_REGRESSOR,
    .doc = "Linear regression trained online by a gradient optimizer (creme 0.5.1's defaults: "
           "SGD(InverseScaling(0.01, power=0.25)), where River's is SGD(0.01))",
    .create = create,
    .describe = describe,
    GLM_CLASS_FUNCS,
    .ops = &ops,
};

static rv_object *create(const rv_args *a, rv_error *err)
{
    return glm_create(&rv_class_linear_model_linear_regression, &defaults, a, err);
}
