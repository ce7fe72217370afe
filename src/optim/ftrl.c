/* optim.FTRLProximal(alpha=0.05, beta=1.0, l1=0.0, l2=1.0): follow the
 * regularised leader, proximal form (creme 0.5.1 optim/ftrl.py; McMahan et
 * al. 2013, "Ad click prediction: a view from the trenches").
 *
 * State per feature: z_i and n_i, kept in the optimizer's own table (keyed in
 * gradient order), because FTRL does not create a weight until |z_i| > l1:
 * the model's weight vector must only hold the weights creme would hold, in
 * the order creme would create them (it decides the dot-product order).
 * For each feature i of the gradient, in order:
 *
 *   if |z_i| > l1:  w_i = -((beta + n_i ** 0.5) / alpha + l2) ** -1 * (z_i - sign(z_i) * l1)
 *   s   = ((n_i + g_i ** 2) ** 0.5 - n_i ** 0.5) / alpha
 *   z_i = z_i + g_i - s * w_i          (w_i = 0 when absent)
 *   n_i = n_i + g_i ** 2
 *
 * creme runs the first line over all features, then the rest; each feature
 * only touches its own values, so one pass per feature gives the same
 * numbers. g_i is computed before the step from the old weight. There is no
 * learning-rate schedule (alpha plays that part).
 */
#include "optim_internal.h"

#include <math.h>

enum { ALPHA, BETA, L1, L2 };

static double sign(double z) { return z > 0 ? 1.0 : z < 0 ? -1.0 : z; }

static rv_status step(rv_object *self, rv_weights *w, const rv_linear_grad *grad, uint64_t t,
                      rv_error *err)
{
    rv_optim_obj *o = (rv_optim_obj *)self;
    const double *p = o->p;
    uint32_t wcur = 0, zcur = 0;
    const rv_event *x = grad->x;
    for (uint32_t k = 0; k < x->n; k++) {
        const rv_feature *f = &x->items[k];
        if (!rv_feature_is_linear(f))
            continue;
        uint32_t wi = rv_weights_find(w, f->name, &wcur);
        double *we = wi == RV_WEIGHTS_NONE ? NULL : rv_weights_at(w, wi);
        double gi = rv_linear_grad_at(grad, f->num, we ? we[0] : 0.0);
        double *zn = rv_weights_slot(o->aux, f->name, 0.0, &zcur);
        if (!zn)
            return rv_error_set(err, RV_ENOMEM, "out of memory growing FTRL state");
        double z = zn[0], n = zn[1];
        if (fabs(z) > p[L1]) {
            double v = -pow((p[BETA] + rv_pow_half(n)) / p[ALPHA] + p[L2], -1.0) *
                       (z - sign(z) * p[L1]);
            if (!we && !(we = rv_weights_slot(w, f->name, v, &wcur)))
                return rv_error_set(err, RV_ENOMEM, "out of memory growing weights");
            we[0] = v;
        }
        double s = (rv_pow_half(n + gi * gi) - rv_pow_half(n)) / p[ALPHA];
        zn[0] = z + (gi - s * (we ? we[0] : 0.0));
        zn[1] = n + gi * gi;
    }
    (void)t;
    return RV_OK;
}

static rv_status check(const double *p, const rv_args *a, const char *const *names, rv_error *err)
{
    if (optim_check_positive(a, names, "alpha", p[ALPHA], err))
        return err ? err->code : RV_EINVAL;
    for (int i = BETA; i <= L2; i++)
        if (!(p[i] >= 0))
            return rv_args_error(a, rv_args_find(a, names, names[i]), err, RV_EINVAL,
                                 "argument '%s' must not be negative", names[i]);
    return RV_OK;
}

static const char *const names[] = {"alpha", "beta", "l1", "l2", NULL};
static const double dflt[] = {0.05, 1.0, 0.0, 1.0};
static const optim_spec spec = {.names = names, .dflt = dflt, .n = 4, .aux_state = 1,
                                .check = check};
static const optim_class_ops ops = {.u.optimizer = {.state_size = 0, .step = step}, .spec = &spec};

static rv_object *create(const rv_args *a, rv_error *err);

const rv_class rv_class_optim_ftrl_proximal = {
    .kind = RV_CLASS_OPTIMIZER,
    .module = "optim",
    .name = "FTRLProximal",
    .doc = "FTRL-Proximal: per-feature z and n, weights in closed form with L1 and L2",
    .create = create,
    OPTIM_CLASS_FUNCS,
    .ops = &ops,
};

static rv_object *create(const rv_args *a, rv_error *err)
{
    return optim_create(&rv_class_optim_ftrl_proximal, a, err);
}
