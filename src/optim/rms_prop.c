/* optim.RMSProp(lr=0.1, rho=0.9, eps=1e-8) (creme 0.5.1 optim/rms_prop.py;
 * Hinton's lecture 6e).
 *
 * Per weight it keeps g2, a running average of squared gradients:
 *
 *   g2_i = rho * g2_i + (1 - rho) * g_i ** 2
 *   w_i  = w_i - lr(t) / (g2_i + eps) ** 0.5 * g_i
 */
#include "optim_internal.h"

enum { RHO = 1, EPS };

static void update(double *e, double gi, const double *c)
{
    e[1] = c[RHO] * e[1] + (1 - c[RHO]) * (gi * gi);
    e[0] = e[0] - c[0] / rv_pow_half(e[1] + c[EPS]) * gi;
}

static rv_status step(rv_object *self, rv_weights *w, const rv_linear_grad *grad, uint64_t t,
                      rv_error *err)
{
    const double *p = ((rv_optim_obj *)self)->p;
    double c[] = {rv_scheduler_get(((rv_optimizer *)self)->lr, t), p[RHO], p[EPS]};
    return optim_each_entry(w, grad, update, c, err);
}

static rv_status check(const double *p, const rv_args *a, const char *const *names, rv_error *err)
{
    if (!(p[RHO] >= 0 && p[RHO] <= 1))
        return rv_args_error(a, rv_args_find(a, names, "rho"), err, RV_EINVAL,
                             "argument 'rho' must be in [0, 1]");
    return optim_check_positive(a, names, "eps", p[EPS], err);
}

static const char *const names[] = {"lr", "rho", "eps", NULL};
static const double dflt[] = {0.1, 0.9, 1e-8};
static const optim_spec spec = {.names = names, .dflt = dflt, .n = 3, .lr_first = 1,
                                .check = check};
static const optim_class_ops ops = {.u.optimizer = {.state_size = 1, .step = step}, .spec = &spec};

static rv_object *create(const rv_args *a, rv_error *err);

const rv_class rv_class_optim_rms_prop = {
    .kind = RV_CLASS_OPTIMIZER,
    .module = "optim",
    .name = "RMSProp",
    .doc = "RMSProp: rate divided by the root of a running mean of squared gradients",
    .create = create,
    OPTIM_CLASS_FUNCS,
    .ops = &ops,
};

static rv_object *create(const rv_args *a, rv_error *err)
{
    return optim_create(&rv_class_optim_rms_prop, a, err);
}
