/* Loss functions (creme 0.5.1 optim/losses.pyx), module "optim.losses".
 * y_pred is the model's raw output; gradients are with respect to it.
 *
 *   Squared()         L = (p - y)^2            dL/dp = 2 * (p - y)
 *   Absolute()        L = |p - y|              dL/dp = 1 if p > y else -1
 *   Huber(epsilon=0.1)
 *                     r = p - y
 *                     L = r^2 / 2 if |r| <= eps else eps * |r| - eps^2 / 2
 *                     dL/dp = r if |r| <= eps else sign(r) * eps
 *   Log(weight_pos=1.0, weight_neg=1.0)        binary: y in {0, 1} -> s in {-1, +1}
 *                     z = p * s, weight w by class
 *                     L = w * log(1 + e^-z)   (w * e^-z above z = 18, w * -z below -18)
 *                     dL/dp = w * -s / (e^z + 1)  (w * e^-z * -s above 18, w * -s below -18)
 *
 * mean_func (the inverse link) is the identity for the regression losses and
 * creme's sigmoid for Log. Absolute returns -1 when p == y (creme does).
 */
#include "optim_internal.h"

#include <math.h>

double rv_loss_eval(const rv_object *loss, double y_true, double y_pred)
{
    return ((const rv_loss_ops *)loss->cls->ops)->eval(loss, y_true, y_pred);
}

double rv_loss_gradient(const rv_object *loss, double y_true, double y_pred)
{
    return ((const rv_loss_ops *)loss->cls->ops)->gradient(loss, y_true, y_pred);
}

double rv_loss_mean_func(const rv_object *loss, double y_pred)
{
    return ((const rv_loss_ops *)loss->cls->ops)->mean_func(loss, y_pred);
}

int rv_loss_is_binary(const rv_object *loss) { return ((const rv_loss_ops *)loss->cls->ops)->binary; }

double rv_sigmoid(double x)
{
    if (x < -30)
        return 0.0;
    if (x > 30)
        return 1.0;
    return 1 / (1 + exp(-x));
}

static double identity(const rv_object *self, double p)
{
    (void)self;
    return p;
}

static double sigmoid_mean(const rv_object *self, double p)
{
    (void)self;
    return rv_sigmoid(p);
}

static const char *const no_names[] = {NULL};

/* ===== Squared ===== */

static double squared_eval(const rv_object *self, double y, double p)
{
    (void)self;
    return (p - y) * (p - y);
}

static double squared_gradient(const rv_object *self, double y, double p)
{
    (void)self;
    return 2. * (p - y);
}

static rv_object *loss_create(const rv_class *cls, const rv_args *a, rv_error *err)
{
    return optim_create(cls, a, err);
}

extern const rv_class rv_class_optim_losses_squared;
static rv_object squared_instance = {&rv_class_optim_losses_squared};
static const optim_spec squared_spec = {.names = no_names, .singleton = &squared_instance};
static const optim_class_ops squared_ops = {
    .u.loss = {.eval = squared_eval, .gradient = squared_gradient, .mean_func = identity},
    .spec = &squared_spec};

static rv_object *squared_create(const rv_args *a, rv_error *err)
{
    return loss_create(&rv_class_optim_losses_squared, a, err);
}

const rv_class rv_class_optim_losses_squared = {
    .kind = RV_CLASS_LOSS,
    .module = "optim.losses",
    .name = "Squared",
    .doc = "Squared loss (p - y)^2, gradient 2 (p - y)",
    .create = squared_create,
    OPTIM_CLASS_FUNCS,
    .ops = &squared_ops,
};

/* ===== Absolute ===== */

static double absolute_eval(const rv_object *self, double y, double p)
{
    (void)self;
    return fabs(p - y);
}

static double absolute_gradient(const rv_object *self, double y, double p)
{
    (void)self;
    return p > y ? 1.0 : -1.0;
}

extern const rv_class rv_class_optim_losses_absolute;
static rv_object absolute_instance = {&rv_class_optim_losses_absolute};
static const optim_spec absolute_spec = {.names = no_names, .singleton = &absolute_instance};
static const optim_class_ops absolute_ops = {
    .u.loss = {.eval = absolute_eval, .gradient = absolute_gradient, .mean_func = identity},
    .spec = &absolute_spec};

static rv_object *absolute_create(const rv_args *a, rv_error *err)
{
    return loss_create(&rv_class_optim_losses_absolute, a, err);
}

const rv_class rv_class_optim_losses_absolute = {
    .kind = RV_CLASS_LOSS,
    .module = "optim.losses",
    .name = "Absolute",
    .doc = "Absolute loss |p - y|, gradient sign(p - y)",
    .create = absolute_create,
    OPTIM_CLASS_FUNCS,
    .ops = &absolute_ops,
};

/* ===== Huber ===== */

static double huber_eval(const rv_object *self, double y, double p)
{
    double eps = ((const rv_param_obj *)self)->p[0], r = p - y, ar = fabs(r);
    return ar <= eps ? 0.5 * r * r : eps * ar - 0.5 * eps * eps;
}

static double huber_gradient(const rv_object *self, double y, double p)
{
    double eps = ((const rv_param_obj *)self)->p[0], r = p - y;
    if (fabs(r) <= eps)
        return r;
    return r > 0.0 ? eps : -eps;
}

static rv_status huber_check(const double *p, const rv_args *a, const char *const *names,
                             rv_error *err)
{
    return optim_check_positive(a, names, "epsilon", p[0], err);
}

static const char *const huber_names[] = {"epsilon", NULL};
static const double huber_dflt[] = {0.1};
static const optim_spec huber_spec = {.names = huber_names, .dflt = huber_dflt, .n = 1,
                                      .check = huber_check};
static const optim_class_ops huber_ops = {
    .u.loss = {.eval = huber_eval, .gradient = huber_gradient, .mean_func = identity},
    .spec = &huber_spec};

extern const rv_class rv_class_optim_losses_huber;
static rv_object *huber_create(const rv_args *a, rv_error *err)
{
    return loss_create(&rv_class_optim_losses_huber, a, err);
}

const rv_class rv_class_optim_losses_huber = {
    .kind = RV_CLASS_LOSS,
    .module = "optim.losses",
    .name = "Huber",
    .doc = "Huber loss: squared within epsilon, absolute beyond",
    .create = huber_create,
    OPTIM_CLASS_FUNCS,
    .ops = &huber_ops,
};

/* ===== Log ===== */

/* Maps a truth value to creme's sign and class weight. */
static double log_sign(const rv_object *self, double y, double *weight)
{
    const double *w = ((const rv_param_obj *)self)->p;
    *weight = y == 0 ? w[1] : w[0];
    return y == 0 ? -1.0 : 1.0;
}

static double log_eval(const rv_object *self, double y, double p)
{
    double weight, s = log_sign(self, y, &weight), z = p * s;
    if (z > 18.)
        return weight * exp(-z);
    if (z < -18.)
        return weight * -z;
    return weight * log(1. + exp(-z));
}

static double log_gradient(const rv_object *self, double y, double p)
{
    double weight, s = log_sign(self, y, &weight), z = p * s;
    if (z > 18.)
        return weight * exp(-z) * -s;
    if (z < -18.)
        return weight * -s;
    return weight * -s / (exp(z) + 1.);
}

static rv_status log_check(const double *p, const rv_args *a, const char *const *names,
                           rv_error *err)
{
    for (int i = 0; i < 2; i++)
        if (!(p[i] >= 0))
            return rv_args_error(a, rv_args_find(a, names, names[i]), err, RV_EINVAL,
                                 "argument '%s' must not be negative", names[i]);
    return RV_OK;
}

static const char *const log_names[] = {"weight_pos", "weight_neg", NULL};
static const double log_dflt[] = {1.0, 1.0};
static const optim_spec log_spec = {.names = log_names, .dflt = log_dflt, .n = 2,
                                    .check = log_check};
static const optim_class_ops log_ops = {
    .u.loss = {.binary = 1, .eval = log_eval, .gradient = log_gradient, .mean_func = sigmoid_mean},
    .spec = &log_spec};

extern const rv_class rv_class_optim_losses_log;
static rv_object *log_create(const rv_args *a, rv_error *err)
{
    return loss_create(&rv_class_optim_losses_log, a, err);
}

const rv_class rv_class_optim_losses_log = {
    .kind = RV_CLASS_LOSS,
    .module = "optim.losses",
    .name = "Log",
    .doc = "Logistic loss of a logit for binary targets",
    .create = log_create,
    OPTIM_CLASS_FUNCS,
    .ops = &log_ops,
};
