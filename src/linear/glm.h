/* The generalised linear model shared by LinearRegression and
 * LogisticRegression (not public; creme 0.5.1 linear_model/glm.py GLM). */
#ifndef RIVULET_GLM_H
#define RIVULET_GLM_H

#include "linear_internal.h"

typedef struct rv_glm {
    rv_linear_head h; /* intercept and weights (stride 1 + optimizer state) */
    rv_object *optimizer, *loss, *intercept_lr, *initializer;
    double l2, intercept_init, clip;
    double init; /* the initializer's value, cached for the hot path */
} rv_glm;

/* What differs between the GLM classes' defaults. */
typedef struct glm_defaults {
    rv_object *(*optimizer)(rv_error *err); /* the default optimizer, built fresh */
    const char *loss;                        /* default loss class name */
} glm_defaults;

rv_object *glm_create(const rv_class *cls, const glm_defaults *d, const rv_args *a, rv_error *err);
rv_object *glm_clone(const rv_object *self, rv_error *err);
rv_object *glm_copy(const rv_object *self, rv_error *err);
rv_status glm_save(const rv_object *self, rv_buf *out);
rv_status glm_load(rv_object *self, rv_reader *in);
rv_status glm_describe_with(const rv_object *self, const glm_defaults *d, rv_buf *out);
size_t glm_memory(const rv_object *self);
void glm_destroy(rv_object *self);
/* The estimator ops' prefetch: weights in the order a dot product reads
 * them (the index is only for misses), and the optimizer and loss objects. */
void glm_prefetch(const rv_object *self);
rv_status glm_learn(rv_object *self, const rv_event *x, const rv_value *y, rv_error *err);
/* The class entries of a GLM class, beside its create, describe and ops. */
#define GLM_CLASS_FUNCS                                                                            \
    .clone = glm_clone, .copy = glm_copy, .save = glm_save, .load = glm_load,                     \
    .memory = glm_memory, .destroy = glm_destroy

/* weights . x + intercept in creme's order */
double glm_raw(const rv_glm *m, const rv_event *x);

#endif
