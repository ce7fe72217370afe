/* compose: pipelines, unions, feature selection, model selection, and the
 * built-in stand-ins for the write-up's Python functions.
 *
 *   compose.Pipeline(*steps, learn_during_predict=True)     written a | b | c
 *   compose.TransformerUnion(*transformers)                  written a + b + c
 *   compose.Select(*names), compose.Discard(*names)
 *   split(on, sep, **parts)       e.g. split('id', '_', item_id=[0, 3], store_id=[3, 5])
 *   dateparts(on, format='%Y-%m-%d', wday=True, day=False, month=False,
 *             year=False, yearday=False)
 *   model_selection.GreedyRegressor(models, metric=metrics.MAE())
 *
 * Pipeline semantics (creme 0.5.1, SPEC.md §1; River with the option off):
 *   learn_during_predict=True (creme 0.5.1, River's learn_during_predict()):
 *     predict/transform: each unsupervised step (each unsupervised part of a
 *       union) learns x, then transforms it; supervised steps only transform.
 *     learn(x, y): each step transforms; supervised steps (parts) then learn
 *       the step's input with y (no target leakage); the final step learns.
 *   learn_during_predict=False (River):
 *     predict/transform: pure.
 *     learn(x, y): unsupervised steps learn x before transforming it;
 *       supervised ones after, as above.
 * A union's output lists the features of its parts in reverse order of the
 * parts (creme's ChainMap), the earliest part winning on a shared name. */
#ifndef RIVULET_COMPOSE_H
#define RIVULET_COMPOSE_H

#include "rivulet/core.h"

/* ===== Pipeline and TransformerUnion ===== */

/* Takes ownership of steps[0..n-1] (also on failure); nested pipelines are
 * flattened into this one (their own learn_during_predict is overridden).
 * Every step but the last must be a transformer. */
rv_object *rv_pipeline_new(rv_object **steps, size_t n, int learn_during_predict, rv_error *err);
/* Takes ownership of parts[0..n-1] (also on failure); nested unions are
 * flattened. Every part must be a transformer. */
rv_object *rv_union_new(rv_object **parts, size_t n, rv_error *err);

int rv_is_pipeline(const rv_object *o);
int rv_is_union(const rv_object *o);
size_t rv_pipeline_len(const rv_object *pipeline);
rv_object *rv_pipeline_step(const rv_object *pipeline, size_t i); /* borrowed */
int rv_pipeline_learns_during_predict(const rv_object *pipeline);
/* Whether predict/transform can change the model's state: a pipeline that
 * learns during predict, possibly nested in a pipeline, a union, a
 * GreedyRegressor or a family (predict_state.c). */
int rv_predict_changes_state(const rv_object *model);
/* predict(x, out) then learn(x, y), bit for bit; in creme mode the steps
 * before the last transform x once instead of twice. */
rv_status rv_pipeline_predict_learn(rv_object *pipeline, const rv_event *x, const rv_value *y,
                                    rv_prediction *out, rv_error *err);
/* The same for any estimator: a pipeline's rv_pipeline_predict_learn, else
 * predict then learn. */
rv_status rv_predict_learn(rv_object *model, const rv_event *x, const rv_value *y, rv_prediction *out,
                           rv_error *err);
size_t rv_union_len(const rv_object *u);
/* Part i (borrowed); NULL for a fused part, which is not kept as an object. */
rv_object *rv_union_part(const rv_object *u, size_t i);
/* How many parts of the union run fused (shared rolling windows), and in how
 * many blocks (one per distinct `by`). */
size_t rv_union_fused_parts(const rv_object *u, size_t *nblocks);

/* ===== Feature selection ===== */

rv_object *rv_select_new(const char *const *names, size_t n, rv_error *err);
rv_object *rv_discard_new(const char *const *names, size_t n, rv_error *err);

/* ===== Built-in functions ===== */

/* split(on, sep, **parts): part p = pieces[lo_p:hi_p] of x[on].split(sep),
 * joined by sep (Python slice rules, negative indices allowed). */
rv_object *rv_split_new(const char *on, const char *sep, const char *const *names,
                        const long (*slices)[2], size_t nparts, rv_error *err);

/* ===== model_selection.GreedyRegressor ===== */

/* Takes ownership of models and metric (metric NULL = metrics.MAE()). */
rv_object *rv_greedy_regressor_new(rv_object **models, size_t n, rv_object *metric, rv_error *err);
size_t rv_greedy_len(const rv_object *g);
size_t rv_greedy_best(const rv_object *g);               /* index of the current best model */
double rv_greedy_metric(const rv_object *g, size_t i);   /* model i's running metric */
rv_object *rv_greedy_model(const rv_object *g, size_t i); /* borrowed */

#endif
