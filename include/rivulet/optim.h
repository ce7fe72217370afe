/* optim: what linear models are made of (creme 0.5.1 / River optim module).
 *
 *   optimizers    optim.SGD, Adam, AdaGrad, RMSProp, FTRLProximal
 *                 (RV_CLASS_OPTIMIZER, ops rv_optimizer_ops)
 *   schedulers    optim.schedulers.Constant, InverseScaling
 *                 (RV_CLASS_SCHEDULER, ops rv_scheduler_ops)
 *   losses        optim.losses.Squared, Absolute, Huber, Log
 *                 (RV_CLASS_LOSS, ops rv_loss_ops)
 *   initializers  optim.initializers.Zeros, Constant
 *                 (RV_CLASS_INITIALIZER, ops rv_initializer_ops)
 *
 * and rv_weights, the compact sparse weight vector they update.
 *
 * An optimizer object holds its own iteration counter (creme's
 * `n_iterations`), so each model owns a clone of its optimizer, as creme's
 * deep copies do. Per-weight optimizer state (Adam's m and v, AdaGrad's and
 * RMSProp's g2) lives in the weight vector beside each weight, not in tables
 * of the optimizer, so a model with 29 weights costs a few hundred bytes.
 */
#ifndef RIVULET_OPTIM_H
#define RIVULET_OPTIM_H

#include "rivulet/core.h"

#include <math.h>

/* ===== Sparse weight vector ===== */

/* Weights keyed by feature symbol, in insertion order (the order creme's
 * dict would iterate them: it decides dot-product summation order).
 *
 *   keys  [k0][k1][k2] ...                    n entries, cap slots
 *   data  [w0 s0.. ][w1 s1.. ][w2 s2.. ] ...  stride doubles per entry:
 *                                             the weight, then the
 *                                             optimizer's state for it
 *   index open-addressing table of entry+1, only built once n reaches
 *         RV_WEIGHTS_INDEX_MIN (small vectors are searched from a cursor)
 *
 * Lookups take a cursor: the position after the previous hit. When events
 * present features in the same order as the weights (the steady state of a
 * pipeline) every lookup hits at the cursor, with no hashing at all. */
#define RV_WEIGHTS_INDEX_MIN 48
#define RV_WEIGHTS_NONE UINT32_MAX

typedef struct rv_weights {
    rv_sym *keys;
    double *data;
    uint32_t *index;
    uint32_t n, cap, icap;
    uint32_t stride; /* 1 + state doubles per weight */
} rv_weights;

void rv_weights_init(rv_weights *w, uint32_t state_size);
void rv_weights_free(rv_weights *w);
void rv_weights_clear(rv_weights *w); /* keeps stride, drops entries */
rv_status rv_weights_copy(rv_weights *dst, const rv_weights *src);
/* Position of key, or RV_WEIGHTS_NONE. cursor (may be NULL) is tried first
 * and left just after the hit. */
uint32_t rv_weights_find(const rv_weights *w, rv_sym key, uint32_t *cursor);
/* The entry of key (weight then state), appended with weight `init` and zero
 * state if absent; NULL on OOM. Pointers are valid until the next append. */
double *rv_weights_slot(rv_weights *w, rv_sym key, double init, uint32_t *cursor);
static inline double *rv_weights_at(const rv_weights *w, uint32_t i) { return w->data + (size_t)i * w->stride; }
/* The weight of key, or dflt when absent. */
double rv_weights_get(const rv_weights *w, rv_sym key, double dflt);
size_t rv_weights_memory(const rv_weights *w); /* heap bytes */
/* Binary form: u32 stride, u32 n, then n x (sym, stride f64). Load checks
 * the stride, duplicate keys and counts against the bytes left. */
rv_status rv_weights_save(const rv_weights *w, rv_buf *out);
rv_status rv_weights_load(rv_weights *w, rv_reader *in);

/* Which features linear models use: numbers that are finite. Strings are
 * skipped (creme would fail on them) and so are NaN and infinities, which
 * would otherwise turn every weight they touch into NaN for good: such a
 * feature is treated as missing from the event. */
static inline int rv_feature_is_linear(const rv_feature *f) { return f->kind == RV_NUM && isfinite(f->num); }

/* ===== Gradients ===== */

/* The gradient of a generalised linear model, in the form creme's GLM builds
 * it: for every usable feature i of x, in x order,
 *     grad_i = x_i * g + 2 * l2 * w_i
 * with w_i the weight before the step (0 when absent). Weights a step
 * creates start at `init` (the initializer's value). */
typedef struct rv_linear_grad {
    const rv_event *x;
    double g;
    double l2;
    double init;
} rv_linear_grad;

/* grad_i for feature value xi and current weight (absent: pass 0). */
static inline double rv_linear_grad_at(const rv_linear_grad *gr, double xi, double wi)
{
    return xi * gr->g + 2. * gr->l2 * wi;
}

/* ===== Optimizers ===== */

typedef struct rv_optimizer_ops {
    /* doubles of per-weight state kept in rv_weights beside each weight */
    uint32_t state_size;
    /* One step of creme's `_update_after_pred` at iteration t (the counter
     * before this step). Does not advance the counter. */
    rv_status (*step)(rv_object *self, rv_weights *w, const rv_linear_grad *grad, uint64_t t,
                      rv_error *err);
} rv_optimizer_ops;

/* Every optimizer object starts with this header. */
typedef struct rv_optimizer {
    rv_object base;
    rv_object *lr;         /* learning-rate scheduler (NULL for FTRLProximal) */
    uint64_t n_iterations; /* steps taken */
} rv_optimizer;

int rv_is_optimizer(const rv_object *o);
uint32_t rv_optimizer_state_size(const rv_object *opt);
/* Steps then advances the iteration counter (creme's update_after_pred). */
rv_status rv_optimizer_step(rv_object *opt, rv_weights *w, const rv_linear_grad *grad,
                            rv_error *err);
uint64_t rv_optimizer_iterations(const rv_object *opt);
/* The learning rate at the current iteration, lr.get(n_iterations). */
double rv_optimizer_learning_rate(const rv_object *opt);

/* ===== Learning-rate schedulers ===== */

typedef struct rv_scheduler_ops {
    double (*get)(const rv_object *self, uint64_t t); /* learning rate at iteration t */
} rv_scheduler_ops;

double rv_scheduler_get(const rv_object *sched, uint64_t t);

/* ===== Losses ===== */

typedef struct rv_loss_ops {
    int binary; /* y_true is a truth value, 0 or 1; y_pred a logit */
    double (*eval)(const rv_object *self, double y_true, double y_pred);
    double (*gradient)(const rv_object *self, double y_true, double y_pred);
    /* inverse link: identity for regression, sigmoid for binary losses */
    double (*mean_func)(const rv_object *self, double y_pred);
} rv_loss_ops;

double rv_loss_eval(const rv_object *loss, double y_true, double y_pred);
double rv_loss_gradient(const rv_object *loss, double y_true, double y_pred);
double rv_loss_mean_func(const rv_object *loss, double y_pred);
int rv_loss_is_binary(const rv_object *loss);
/* creme 0.5.1's utils.math.sigmoid: 0 below -30, 1 above 30, else 1/(1+e^-x). */
double rv_sigmoid(double x);

/* ===== Initializers ===== */

typedef struct rv_initializer_ops {
    double (*value)(const rv_object *self); /* the starting value of a new weight */
} rv_initializer_ops;

double rv_initializer_value(const rv_object *init);

/* ===== Construction from C ===== */

/* Creates an optim object by (qualified) name, preferring the given kind,
 * from positional numbers: rv_optim_new("schedulers.InverseScaling",
 * RV_CLASS_SCHEDULER, (double[]){0.01, 0.25}, 2, err). */
rv_object *rv_optim_new(const char *name, rv_class_kind kind, const double *args, size_t nargs,
                        rv_error *err);
/* An optimizer whose first argument is a scheduler; takes ownership of lr
 * (freed on failure): rv_optimizer_new("SGD", sched, err). */
rv_object *rv_optimizer_new(const char *name, rv_object *lr, rv_error *err);

#endif
