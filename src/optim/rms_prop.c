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

static rv_status step(rv_object *self, rv_weights *w, const rv_linear_grad *grad, uint64_t t,
                      rv_error *err)
{
    const double *p = ((rv_optim_obj *)self)->p;
    double rho = p[RHO], eps = p[EPS];
    double lr = rv_scheduler_get(((rv_optimizer *)self)->lr, t);
    uint32_t cur = 0;
    const rv_event *x = grad->x;
    for (uint32_t k = 0; k < x->n; k++) {
        const rv_feature *f = &x->items[k];
        if (!rv_feature_is_linear(f))
            continue;
        double gi;
        double *e = optim_entry(w, f, grad, &cur, &gi);
        if (!e)
            return rv_error_set(err, RV_ENOMEM, "out of memory growing weights");
        e[1] = rho * e[1] + (1 - rho) * (gi * gi);
        e[0] = e[0] - lr / rv_pow_half(e[1] + eps) * gi;
    }
    return RV_OK;
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
