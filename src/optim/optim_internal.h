/* Shared machinery of the optim classes (not public).
 *
 * Every optim class is "a few float parameters" (and, for optimizers, a
 * learning-rate scheduler, an iteration counter and for FTRL a table of its
 * own). One spec per class describes the parameters; generic create, clone,
 * copy, save, load, describe, memory and destroy work from it, so each class
 * file holds only its math. */
#ifndef RIVULET_OPTIM_INTERNAL_H
#define RIVULET_OPTIM_INTERNAL_H

#include "rivulet/optim.h"

typedef struct optim_spec {
    const char *const *names; /* River signature, NULL-terminated, positional order */
    const double *dflt;       /* default of each parameter (for lr: the number) */
    uint32_t n;               /* number of parameters */
    int lr_first;             /* names[0] is a learning-rate scheduler (optimizers) */
    int aux_state;            /* optimizer keeps its own table (FTRL): per-key doubles, 0 = none */
    /* validates parameters once read (NULL: any finite value goes) */
    rv_status (*check)(const double *p, const rv_args *a, const char *const *names, rv_error *err);
    rv_object *singleton;     /* shared instance for classes without parameters */
} optim_spec;

/* Each optim class's ops pointer points at one of these, so that the
 * generic functions find the spec from the object alone. */
typedef struct optim_class_ops {
    union {
        rv_optimizer_ops optimizer;
        rv_scheduler_ops scheduler;
        rv_loss_ops loss;
        rv_initializer_ops initializer;
    } u;
    const optim_spec *spec;
} optim_class_ops;

/* A scheduler, loss or initializer. */
typedef struct rv_param_obj {
    rv_object base;
    double p[];
} rv_param_obj;

/* An optimizer. */
typedef struct rv_optim_obj {
    rv_optimizer h;
    rv_weights *aux; /* FTRL's (z, n) per key; NULL for the others */
    double p[];
} rv_optim_obj;

static inline const double *optim_params(const rv_object *o)
{
    return o->cls->kind == RV_CLASS_OPTIMIZER ? ((const rv_optim_obj *)o)->p
                                              : ((const rv_param_obj *)o)->p;
}

rv_object *optim_create(const rv_class *cls, const rv_args *a, rv_error *err);
rv_object *optim_clone(const rv_object *self, rv_error *err);
rv_object *optim_copy(const rv_object *self, rv_error *err);
rv_status optim_save(const rv_object *self, rv_buf *out);
rv_status optim_load(rv_object *self, rv_reader *in);
rv_status optim_describe(const rv_object *self, rv_buf *out);
size_t optim_memory(const rv_object *self);
void optim_destroy(rv_object *self);

/* Validators shared by several classes (p indexes are positions in names). */
rv_status optim_check_positive(const rv_args *a, const char *const *names, const char *name,
                               double v, rv_error *err);

extern const rv_class rv_class_optim_schedulers_constant;

/* For optimizers that keep state beside each weight: the entry (weight then
 * state) of feature f, created at grad->init when absent, and in *gi the
 * feature's gradient computed from the weight *before* creation (creme reads
 * weights.get(i, 0) for the L2 term, then `w[i] -= ...` creates w[i]).
 * NULL on OOM. */
double *optim_entry(rv_weights *w, const rv_feature *f, const rv_linear_grad *grad,
                    uint32_t *cursor, double *gi);

/* Update rule of a per-weight optimizer: entry e (weight then state) given
 * the feature's gradient gi and the step's constants c (the rate first). */
typedef void (*optim_update_fn)(double *e, double gi, const double *c);

/* The loop of SGD, AdaGrad, RMSProp and Adam: u on the entry of each linear
 * feature of the gradient, in order. Inline so that u is called directly. */
static inline rv_status optim_each_entry(rv_weights *w, const rv_linear_grad *grad,
                                         optim_update_fn u, const double *c, rv_error *err)
{
    uint32_t cur = 0;
    const rv_event *x = grad->x;
    for (uint32_t k = 0; k < x->n; k++) {
        const rv_feature *f = &x->items[k];
        if (!rv_feature_is_linear(f))
            continue;
        double gi, *e;
        if (cur < w->n && w->keys[cur] == f->name) { /* next weight: the steady state */
            e = rv_weights_at(w, cur++);
            gi = rv_linear_grad_at(grad, f->num, e[0]);
        } else
            e = optim_entry(w, f, grad, &cur, &gi);
        if (!e)
            return rv_error_set(err, RV_ENOMEM, "out of memory growing weights");
        u(e, gi, c);
    }
    return RV_OK;
}

/* The generic entries of a class definition, after its ops. */
#define OPTIM_CLASS_FUNCS                                                                     \
    .clone = optim_clone, .copy = optim_copy, .save = optim_save,              \
    .load = optim_load, .describe = optim_describe, .memory = optim_memory,                    \
    .destroy = optim_destroy

#endif
