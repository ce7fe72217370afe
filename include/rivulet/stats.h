/* stats: univariate running statistics (creme 0.5.1 / River stats module).
 *
 * Each statistic is an rv_object of kind RV_CLASS_STAT whose class ops are an
 * rv_stat_ops. They serve on their own and as the `how=` of feature
 * extraction's Agg and TargetAgg. */
#ifndef RIVULET_STATS_H
#define RIVULET_STATS_H

#include "rivulet/core.h"

typedef struct rv_stat_ops {
    /* add one observation with weight w (1 for unweighted use) */
    void (*update)(rv_object *self, double x, double w);
    /* undo one observation (NULL when the statistic cannot revert) */
    rv_status (*revert)(rv_object *self, double x, double w);
    /* current value; the value of an empty statistic is documented per class */
    double (*get)(const rv_object *self);
    /* creme's name of the statistic as used in feature names, e.g. "mean",
     * "rolling_rollingmean_7" (creme 0.5.1 spelling) */
    void (*name)(const rv_object *self, rv_buf *out);
} rv_stat_ops;

void rv_stat_update(rv_object *stat, double x);
double rv_stat_get(const rv_object *stat);
rv_status rv_stat_revert(rv_object *stat, double x);
void rv_stat_name(const rv_object *stat, rv_buf *out);
int rv_is_stat(const rv_object *o);

/* Rolling windows of a known size expose it, so that feature extraction can
 * share one ring of recent targets among several rolling statistics of the
 * same group (0 for statistics that are not windowed). */
uint32_t rv_stat_window_size(const rv_object *stat);

/* Convenience constructors (NULL on bad arguments, with err set). */
rv_object *rv_stat_new(const char *name, double arg, rv_error *err); /* e.g. ("RollingMean", 7) */

#endif
