/* Weight initializers (creme 0.5.1 optim/initializers.py), module
 * "optim.initializers": the value a weight starts at when a model first
 * writes it.
 *
 *   Zeros()          0.0
 *   Constant(value)  value
 *
 * Note creme's GLM reads a missing weight as 0 (weights.get(i, 0)) in the L2
 * term even with a Constant initializer; the initializer only applies when
 * the weight is created by the optimizer step. The linear models follow that.
 */
#include "optim_internal.h"

#include <math.h>

double rv_initializer_value(const rv_object *init)
{
    const rv_initializer_ops *ops = init->cls->ops;
    return ops->value(init);
}

/* ===== Zeros ===== */

static double zeros_value(const rv_object *self)
{
    (void)self;
    return 0.0;
}

extern const rv_class rv_class_optim_initializers_zeros;
static rv_object zeros_instance = {&rv_class_optim_initializers_zeros};
static const char *const zeros_names[] = {NULL};
static const optim_spec zeros_spec = {.names = zeros_names, .n = 0, .singleton = &zeros_instance};
static const optim_class_ops zeros_ops = {.u.initializer = {.value = zeros_value},
                                          .spec = &zeros_spec};

static rv_object *zeros_create(const rv_args *a, rv_error *err);

const rv_class rv_class_optim_initializers_zeros = {
    .kind = RV_CLASS_INITIALIZER,
    .module = "optim.initializers",
    .name = "Zeros",
    .doc = "New weights start at 0",
    .create = zeros_create,
    OPTIM_CLASS_FUNCS,
    .ops = &zeros_ops,
};

static rv_object *zeros_create(const rv_args *a, rv_error *err)
{
    return optim_create(&rv_class_optim_initializers_zeros, a, err);
}

/* ===== Constant ===== */

static double constant_value(const rv_object *self) { return ((const rv_param_obj *)self)->p[0]; }

static const char *const constant_names[] = {"value", NULL};
static const double constant_dflt[] = {NAN};
static const optim_spec constant_spec = {.names = constant_names, .dflt = constant_dflt, .n = 1};
static const optim_class_ops constant_ops = {.u.initializer = {.value = constant_value},
                                             .spec = &constant_spec};

static rv_object *constant_create(const rv_args *a, rv_error *err);

const rv_class rv_class_optim_initializers_constant = {
    .kind = RV_CLASS_INITIALIZER,
    .module = "optim.initializers",
    .name = "Constant",
    .doc = "New weights start at a given value",
    .create = constant_create,
    OPTIM_CLASS_FUNCS,
    .ops = &constant_ops,
};

static rv_object *constant_create(const rv_args *a, rv_error *err)
{
    return optim_create(&rv_class_optim_initializers_constant, a, err);
}
