/* Learning-rate schedules (creme 0.5.1 optim/schedulers.py), module
 * "optim.schedulers". A schedule maps the optimizer's iteration count t
 * (steps taken so far, from 0) to a rate; it has no state of its own.
 *
 *   Constant(learning_rate)                 lr(t) = learning_rate
 *   InverseScaling(learning_rate, power=0.5) lr(t) = learning_rate / (t + 1) ** power
 *
 * InverseScaling uses pow((double)(t + 1), power), as Python's float power
 * does; creme 0.5.1's default LinearRegression optimizer is
 * SGD(InverseScaling(0.01, power=0.25)).
 */
#include "optim_internal.h"

#include <math.h>

double rv_scheduler_get(const rv_object *sched, uint64_t t)
{
    const rv_scheduler_ops *ops = sched->cls->ops;
    return ops->get(sched, t);
}

/* ===== Constant ===== */

static double constant_get(const rv_object *self, uint64_t t)
{
    (void)t;
    return ((const rv_param_obj *)self)->p[0];
}

static const char *const constant_names[] = {"learning_rate", NULL};
static const double constant_dflt[] = {NAN};
static const optim_spec constant_spec = {.names = constant_names, .dflt = constant_dflt, .n = 1};
static const optim_class_ops constant_ops = {.u.scheduler = {.get = constant_get},
                                             .spec = &constant_spec};

static rv_object *constant_create(const rv_args *a, rv_error *err);

const rv_class rv_class_optim_schedulers_constant = {
    .kind = RV_CLASS_SCHEDULER,
    .module = "optim.schedulers",
    .name = "Constant",
    .doc = "Constant learning rate",
    .create = constant_create,
    OPTIM_CLASS_FUNCS,
    .ops = &constant_ops,
};

static rv_object *constant_create(const rv_args *a, rv_error *err)
{
    return optim_create(&rv_class_optim_schedulers_constant, a, err);
}

/* ===== InverseScaling ===== */

static double inverse_get(const rv_object *self, uint64_t t)
{
    const double *p = ((const rv_param_obj *)self)->p;
    return p[0] / pow((double)(t + 1), p[1]);
}

static const char *const inverse_names[] = {"learning_rate", "power", NULL};
static const double inverse_dflt[] = {NAN, 0.5};
static const optim_spec inverse_spec = {.names = inverse_names, .dflt = inverse_dflt, .n = 2};
static const optim_class_ops inverse_ops = {.u.scheduler = {.get = inverse_get},
                                            .spec = &inverse_spec};

static rv_object *inverse_create(const rv_args *a, rv_error *err);

const rv_class rv_class_optim_schedulers_inverse_scaling = {
    .kind = RV_CLASS_SCHEDULER,
    .module = "optim.schedulers",
    .name = "InverseScaling",
    .doc = "Learning rate decaying as learning_rate / (t + 1) ** power",
    .create = inverse_create,
    OPTIM_CLASS_FUNCS,
    .ops = &inverse_ops,
};

static rv_object *inverse_create(const rv_args *a, rv_error *err)
{
    return optim_create(&rv_class_optim_schedulers_inverse_scaling, a, err);
}
