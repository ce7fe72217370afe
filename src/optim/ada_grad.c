/* optim.AdaGrad(lr=0.1, eps=1e-8) (creme 0.5.1 optim/ada_grad.py; Duchi,
 * Hazan & Singer 2011).
 *
 * Per weight it keeps g2, the sum of squared gradients, beside the weight:
 *
 *   g2_i = g2_i + g_i ** 2
 *   w_i  = w_i - lr(t) / (g2_i + eps) ** 0.5 * g_i
 */
#include "optim_internal.h"

enum { EPS = 1 };

static void update(double *e, double gi, const double *c)
{
    e[1] = e[1] + gi * gi;
    e[0] = e[0] - c[0] / rv_pow_half(e[1] + c[EPS]) * gi;
}

static rv_status step(rv_object *self, rv_weights *w, const rv_linear_grad *grad, uint64_t t,
                      rv_error *err)
{
    double c[] = {rv_scheduler_get(((rv_optimizer *)self)->lr, t), ((rv_optim_obj *)self)->p[EPS]};
    return optim_each_entry(w, grad, update, c, err);
}

static rv_status check(const double *p, const rv_args *a, const char *const *names, rv_error *err)
{
    return optim_check_positive(a, names, "eps", p[EPS], err);
}

static const char *const names[] = {"lr", "eps", NULL};
static const double dflt[] = {0.1, 1e-8};
static const optim_spec spec = {.names = names, .dflt = dflt, .n = 2, .lr_first = 1,
                                .check = check};
static const optim_class_ops ops = {.u.optimizer = {.state_size = 1, .step = step}, .spec = &spec};

static rv_object *create(const rv_args *a, rv_error *err);

const rv_class rv_class_optim_ada_grad = {
    .kind = RV_CLASS_OPTIMIZER,
    .module = "optim",
    .name = "AdaGrad",
    .doc = "AdaGrad: rate divided by the root of the summed squared gradients",
    .create = create,
    OPTIM_CLASS_FUNCS,
    .ops = &ops,
};

static rv_object *create(const rv_args *a, rv_error *err)
{
    return optim_create(&rv_class_optim_ada_grad, a, err);
}
