/* optim.Adam(lr=0.1, beta_1=0.9, beta_2=0.999, eps=1e-8) (creme 0.5.1
 * optim/adam.py; Kingma & Ba 2014).
 *
 * Per weight it keeps m (first moment) and v (second moment) beside the
 * weight. At iteration t (steps so far), with bias corrections folded into
 * the rate exactly as creme does:
 *
 *   lr  = lr(t) * (1 - beta_2 ** (t+1)) ** 0.5 / (1 - beta_1 ** (t+1))
 *   m_i = beta_1 * m_i + (1 - beta_1) * g_i
 *   v_i = beta_2 * v_i + (1 - beta_2) * g_i ** 2
 *   w_i = w_i - lr * m_i / (v_i ** 0.5 + eps)
 *
 * `** 0.5` is pow(x, 0.5) (rv_pow_half), `**` with t+1 is pow.
 */
#include "optim_internal.h"

#include <math.h>

enum { BETA_1 = 1, BETA_2, EPS };

static void update(double *e, double gi, const double *c)
{
    double b1 = c[BETA_1], b2 = c[BETA_2];
    e[1] = b1 * e[1] + (1 - b1) * gi;
    e[2] = b2 * e[2] + (1 - b2) * (gi * gi);
    e[0] = e[0] - c[0] * e[1] / (rv_pow_half(e[2]) + c[EPS]);
}

static rv_status step(rv_object *self, rv_weights *w, const rv_linear_grad *grad, uint64_t t,
                      rv_error *err)
{
    const double *p = ((rv_optim_obj *)self)->p;
    double lr = rv_scheduler_get(((rv_optimizer *)self)->lr, t) *
                rv_pow_half(1 - pow(p[BETA_2], (double)(t + 1)));
    double c[] = {lr / (1 - pow(p[BETA_1], (double)(t + 1))), p[BETA_1], p[BETA_2], p[EPS]};
    return optim_each_entry(w, grad, update, c, err);
}

static rv_status check(const double *p, const rv_args *a, const char *const *names, rv_error *err)
{
    for (int i = BETA_1; i <= BETA_2; i++)
        if (!(p[i] >= 0 && p[i] < 1))
            return rv_args_error(a, rv_args_find(a, names, names[i]), err, RV_EINVAL,
                                 "argument '%s' must be in [0, 1)", names[i]);
    return optim_check_positive(a, names, "eps", p[EPS], err);
}

static const char *const names[] = {"lr", "beta_1", "beta_2", "eps", NULL};
static const double dflt[] = {0.1, 0.9, 0.999, 1e-8};
static const optim_spec spec = {.names = names, .dflt = dflt, .n = 4, .lr_first = 1,
                                .check = check};
static const optim_class_ops ops = {.u.optimizer = {.state_size = 2, .step = step}, .spec = &spec};

static rv_object *create(const rv_args *a, rv_error *err);

const rv_class rv_class_optim_adam = {
    .kind = RV_CLASS_OPTIMIZER,
    .module = "optim",
    .name = "Adam",
    .doc = "Adam: per-weight first and second moments with bias correction",
    .create = create,
    OPTIM_CLASS_FUNCS,
    .ops = &ops,
};

static rv_object *create(const rv_args *a, rv_error *err)
{
    return optim_create(&rv_class_optim_adam, a, err);
}
