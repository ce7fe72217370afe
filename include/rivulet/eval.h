/* eval: progressive validation (River's evaluate.progressive_val_score,
 * creme 0.5.1's model_selection.progressive_val_score, SPEC.md §8), one
 * event at a time so that the CLI and the server can stream.
 *
 * Each step: predict x; update every metric with (y, prediction); then learn
 * (x, y). With a delay d > 0, the pair (x, y) is learned d steps later,
 * after the predictions of the d following events (labels that arrive
 * late); the pair is deep-copied while it waits. */
#ifndef RIVULET_EVAL_H
#define RIVULET_EVAL_H

#include "rivulet/core.h"

typedef struct rv_progressive rv_progressive;

/* model and metrics are borrowed and must outlive pv. */
rv_progressive *rv_progressive_new(rv_object *model, rv_object **metrics, size_t nmetrics,
                                   uint32_t delay, rv_error *err);
/* predict, update metrics, then learn (now, or `delay` steps later). y NULL
 * (or kind RV_NONE): predict only. pred_out may be NULL. */
rv_status rv_progressive_step(rv_progressive *pv, const rv_event *x, const rv_value *y,
                              rv_prediction *pred_out, rv_error *err);
/* Learns every pair still waiting (end of stream). */
rv_status rv_progressive_flush(rv_progressive *pv, rv_error *err);
uint64_t rv_progressive_count(const rv_progressive *pv); /* steps taken */
void rv_progressive_free(rv_progressive *pv);

/* ===== Sharded progressive validation of keyed families =====
 *
 * The same evaluation over one or more compose.Family models that share one
 * key feature (e.g. the KNN and the linear pipeline of the M5 pair, both by
 * 'id'), spread over nthreads threads: the calling thread and nthreads - 1
 * workers. Each key is hashed to one shard (one thread), so a key's member
 * sees exactly the operations, in exactly the order, of a sequential run of
 * rv_progressive_step on each family; the metrics are updated by the calling
 * thread in the original row order. Every prediction and metric is therefore
 * bit-identical to the sequential run, whatever nthreads.
 *
 * Rows are copied into a bounded ring (no allocation per row once warm);
 * the caller blocks when the ring is full. Results arrive in row order,
 * possibly a few hundred rows after their step: through the callback, and
 * in the metrics once rv_progressive_par_finish returns.
 *
 * Errors: the first failing row (in row order) is reported by the step or
 * finish that notices it, as "row N: ..." (N counted from 1); from then on
 * every call returns that error (rows after it may have been processed).
 * Members are created as a sequential run creates them (family.h: only a
 * learn does), by the calling thread in row order, so a family's key order
 * and snapshot do not depend on nthreads; a key that is only predicted gets
 * no member. While the evaluator exists, the families' members must not be
 * replaced or removed (rv_family_put/take), nor the families used elsewhere. */
typedef struct rv_progressive_par rv_progressive_par;

/* Called in row order (row counted from 0) for each model m of each row. */
typedef void (*rv_progressive_cb)(void *ctx, uint64_t row, size_t m, const rv_value *y,
                                  const rv_prediction *pred);

/* families[nmodels] and metrics[nmodels * nmetrics] (model m's metrics are
 * metrics[m * nmetrics .. m * nmetrics + nmetrics - 1]) are borrowed.
 * nthreads >= 1 (1: no thread is started, the plain sequential loop). */
rv_progressive_par *rv_progressive_new_parallel(rv_object *const *families, size_t nmodels,
                                                rv_object *const *metrics, size_t nmetrics,
                                                uint32_t delay, unsigned nthreads, rv_error *err);
void rv_progressive_par_set_callback(rv_progressive_par *pp, rv_progressive_cb cb, void *ctx);
/* Queues one row (x and y are copied; y NULL or RV_NONE: predict only). */
rv_status rv_progressive_par_step(rv_progressive_par *pp, const rv_event *x, const rv_value *y,
                                  rv_error *err);
/* Waits for every queued row and reports it (metrics, callback), as when the
 * input pauses; more steps may follow. */
rv_status rv_progressive_par_drain(rv_progressive_par *pp, rv_error *err);
/* Waits for every queued row, updates the metrics, then learns every pair
 * still waiting for its delay (end of stream). More steps may follow. */
rv_status rv_progressive_par_finish(rv_progressive_par *pp, rv_error *err);
uint64_t rv_progressive_par_count(const rv_progressive_par *pp); /* rows stepped */
void rv_progressive_par_free(rv_progressive_par *pp);           /* stops the workers */

#endif
