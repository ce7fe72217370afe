/* stats.Min, stats.Max and stats.PeakToPeak: running extremes (creme 0.5.1,
 * stats/minimum.py, maximum.py, ptp.py).
 *
 *   update(x): if x < min: min = x;  if x > max: max = x
 *   Min.get = min, Max.get = max, PeakToPeak.get = max - min
 *
 * Empty state (creme): Min +inf, Max -inf, PeakToPeak -inf (= -inf - +inf).
 * NaN never compares, so NaN inputs are ignored. Weights are ignored. Not
 * revertible. Names (creme): "min", "max", "ptp".
 * State saved: min, max (f64); each class keeps both (16 bytes). */
#include "internal.h"

#include <math.h>

typedef struct {
    rv_object obj;
    double min, max;
} extremes_t;

RV_STAT_FLAT(extremes, extremes_t)

static rv_object *extremes_clone(const rv_object *o, rv_error *err)
{
    extremes_t *e = (extremes_t *)rv_stat_alloc(o->cls, sizeof(extremes_t), err);
    if (e) {
        e->min = INFINITY;
        e->max = -INFINITY;
    }
    return (rv_object *)e;
}

static void extremes_update(rv_object *o, double x, double w)
{
    extremes_t *e = (extremes_t *)o;
    if (x < e->min)
        e->min = x;
    if (x > e->max)
        e->max = x;
}

static double min_get(const rv_object *o) { return ((const extremes_t *)o)->min; }
static double max_get(const rv_object *o) { return ((const extremes_t *)o)->max; }
static double ptp_get(const rv_object *o)
{
    return ((const extremes_t *)o)->max - ((const extremes_t *)o)->min;
}

static void min_name(const rv_object *o, rv_buf *out) { rv_buf_puts(out, "min"); }
static void max_name(const rv_object *o, rv_buf *out) { rv_buf_puts(out, "max"); }
static void ptp_name(const rv_object *o, rv_buf *out) { rv_buf_puts(out, "ptp"); }

static rv_status extremes_save(const rv_object *o, rv_buf *out)
{
    rv_buf_put_f64(out, ((const extremes_t *)o)->min);
    return rv_buf_put_f64(out, ((const extremes_t *)o)->max);
}

static rv_status extremes_load(rv_object *o, rv_reader *in)
{
    ((extremes_t *)o)->min = rv_reader_f64(in);
    ((extremes_t *)o)->max = rv_reader_f64(in);
    return in->status;
}

#define EXTREMES_CLASS(NAME, lower)                                                           \
    extern const rv_class rv_class_stats_##NAME;                                                   \
    static rv_object *lower##_create(const rv_args *a, rv_error *err)                              \
    {                                                                                              \
        return rv_stat_create_plain(&rv_class_stats_##NAME, a, err);                                        \
    }                                                                                              \
    static const rv_stat_ops lower##_ops = {extremes_update, NULL, lower##_get, lower##_name};

EXTREMES_CLASS(Min, min)
EXTREMES_CLASS(Max, max)
EXTREMES_CLASS(PeakToPeak, ptp)

const rv_class rv_class_stats_Min = {
    .kind = RV_CLASS_STAT,
    .module = "stats",
    .name = "Min",
    .flags = RV_STAT_F_NOARGS,
    .doc = "Running minimum.",
    .create = min_create,
    RV_STAT_PLAIN_FUNCS(extremes),
    .ops = &min_ops,
};

const rv_class rv_class_stats_Max = {
    .kind = RV_CLASS_STAT,
    .module = "stats",
    .name = "Max",
    .flags = RV_STAT_F_NOARGS,
    .doc = "Running maximum.",
    .create = max_create,
    RV_STAT_PLAIN_FUNCS(extremes),
    .ops = &max_ops,
};

const rv_class rv_class_stats_PeakToPeak = {
    .kind = RV_CLASS_STAT,
    .module = "stats",
    .name = "PeakToPeak",
    .flags = RV_STAT_F_NOARGS,
    .doc = "Running peak to peak (max - min).",
    .create = ptp_create,
    RV_STAT_PLAIN_FUNCS(extremes),
    .ops = &ptp_ops,
};
