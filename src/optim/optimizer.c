/* Entry points shared by all optimizers (creme 0.5.1 optim/base.py).
 *
 * An optimizer updates a weight vector from a gradient, then counts the
 * iteration: `update_after_pred` = `_update_after_pred(w, g)` followed by
 * `n_iterations += 1`. Its learning rate at any time is
 * `lr.get(n_iterations)`. Linear models read the counter too: creme updates
 * the intercept with `intercept_lr.get(optimizer.n_iterations)` before the
 * weights step, so both use the count of steps taken so far.
 */
#include "optim_internal.h"

#include <math.h>

int rv_is_optimizer(const rv_object *o) { return o && o->cls->kind == RV_CLASS_OPTIMIZER; }

static const rv_optimizer_ops *ops_of(const rv_object *o) { return o->cls->ops; }

uint32_t rv_optimizer_state_size(const rv_object *opt) { return ops_of(opt)->state_size; }

rv_status rv_optimizer_step(rv_object *opt, rv_weights *w, const rv_linear_grad *grad,
                            rv_error *err)
{
    if (!rv_is_optimizer(opt))
        return rv_error_set(err, RV_EINVAL, "not an optimizer");
    if (w->stride != 1 + ops_of(opt)->state_size)
        return rv_error_set(err, RV_EINVAL, "%s: weight vector holds %u state values, expected %u",
                            opt->cls->name, w->stride - 1, ops_of(opt)->state_size);
    rv_optimizer *h = (rv_optimizer *)opt;
    rv_status s = ops_of(opt)->step(opt, w, grad, h->n_iterations, err);
    if (s == RV_OK)
        h->n_iterations++;
    return s;
}

uint64_t rv_optimizer_iterations(const rv_object *opt)
{
    return ((const rv_optimizer *)opt)->n_iterations;
}

double rv_optimizer_learning_rate(const rv_object *opt)
{
    const rv_optimizer *h = (const rv_optimizer *)opt;
    return h->lr ? rv_scheduler_get(h->lr, h->n_iterations) : NAN;
}

double *optim_entry(rv_weights *w, const rv_feature *f, const rv_linear_grad *grad,
                    uint32_t *cursor, double *gi)
{
    uint32_t i = rv_weights_find(w, f->name, cursor);
    if (i != RV_WEIGHTS_NONE) {
        double *e = rv_weights_at(w, i);
        *gi = rv_linear_grad_at(grad, f->num, e[0]);
        return e;
    }
    *gi = rv_linear_grad_at(grad, f->num, 0.0);
    return rv_weights_slot(w, f->name, grad->init, cursor);
}
