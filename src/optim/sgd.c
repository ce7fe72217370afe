/* optim.SGD(lr=0.01): plain stochastic gradient descent (creme 0.5.1
 * optim/sgd.py).
 *
 *   for each feature i of the gradient, in order:  w_i <- w_i - lr(t) * g_i
 *
 * with lr(t) the scheduler's rate at iteration t (steps taken so far); a
 * number for lr means schedulers.Constant(number). No per-weight state.
 * A weight seen for the first time starts at the initializer's value.
 */
#include "optim_internal.h"

static void update(double *e, double gi, const double *c) { e[0] = e[0] - c[0] * gi; }

static rv_status step(rv_object *self, rv_weights *w, const rv_linear_grad *grad, uint64_t t,
                      rv_error *err)
{
    double lr = rv_scheduler_get(((rv_optimizer *)self)->lr, t);
    return optim_each_entry(w, grad, update, &lr, err);
}

static const char *const names[] = {"lr", NULL};
static const double dflt[] = {0.01};
static const optim_spec spec = {.names = names, .dflt = dflt, .n = 1, .lr_first = 1};
static const optim_class_ops ops = {.u.optimizer = {.state_size = 0, .step = step}, .spec = &spec};

static rv_object *create(const rv_args *a, rv_error *err);

const rv_class rv_class_optim_sgd = {
    .kind = RV_CLASS_OPTIMIZER,
    .module = "optim",
    .name = "SGD",
    .doc = "Stochastic gradient descent: w -= lr(t) * g",
    .create = create,
    OPTIM_CLASS_FUNCS,
    .ops = &ops,
};

static rv_object *create(const rv_args *a, rv_error *err)
{
    return optim_create(&rv_class_optim_sgd, a, err);
}
