/* stats: univariate running statistics (creme 0.5.1 / River stats module).
 *
 * Each statistic is an rv_object of kind RV_CLASS_STAT whose class ops are an
 * rv_stat_ops. They serve on their own and as the `how=` of feature
 * extraction's Agg and TargetAgg. */
#ifndef RIVULET_STATS_H
#define RIVULET_STATS_H

#include "rivulet/core.h"

/* Class flags of statistics (rv_class.flags). */
enum {
    RV_STAT_F_NOARGS = 1u << 8,  /* takes no parameter (rv_stat_new ignores its arg) */
    RV_STAT_F_ROLLING = 1u << 9, /* a window of the last window_size values */
    RV_STAT_F_REVERT = 1u << 10  /* ops.revert undoes an update */
};

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

/* The wrappers below are NULL-safe about nothing: stat must be a statistic
 * (rv_is_stat). update/revert use weight 1. revert returns RV_EUNSUPPORTED for
 * statistics that cannot undo (rolling, exponential, extremes, quantiles). */
void rv_stat_update(rv_object *stat, double x);
void rv_stat_update_weighted(rv_object *stat, double x, double w);
double rv_stat_get(const rv_object *stat);
rv_status rv_stat_revert(rv_object *stat, double x);
void rv_stat_name(const rv_object *stat, rv_buf *out);
int rv_is_stat(const rv_object *o);

/* Rolling windows of a known size expose it, so that feature extraction can
 * share one ring of recent targets among several rolling statistics of the
 * same group (0 for statistics that are not windowed). */
uint32_t rv_stat_window_size(const rv_object *stat);

/* Convenience constructor (NULL on bad arguments, with err set): name is a
 * River class name, arg the first parameter (window_size, q, alpha or ddof),
 * e.g. ("RollingMean", 7), ("Quantile", 0.9). arg NaN means "defaults"; it is
 * ignored by classes without parameters (Count, Sum, Mean, Min, Max, PeakToPeak). */
rv_object *rv_stat_new(const char *name, double arg, rv_error *err);

#endif
