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

#endif
