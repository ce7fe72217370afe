/* stats.Mean: weighted running mean (creme 0.5.1, stats/mean.pyx L42-57).
 *
 *   update(x, w): n += w;  mean += w * (x - mean) / n
 *   revert(x, w): n -= w;  n == 0 -> mean = 0;  else mean -= w * (x - mean) / n
 *   get = mean
 *
 * This exact expression (not sum/n) is what creme and River's MAE use, so
 * metrics.MAE and TargetAgg(how=Mean()) reproduce creme's values bit for bit.
 * With w = 1 the `w *` is exact and the update is SPEC.md §5's.
 *
 * Empty state: 0.0. A revert that would make n negative is refused
 * (RV_ESTATE, state unchanged), as creme raises ValueError. NaN: the mean
 * becomes NaN for good (IEEE arithmetic, as in creme). Name: "mean".
 * State saved: n, mean (f64). */
#include "internal.h"

typedef struct {
    rv_object obj;
    double n, mean;
} mean_t;

RV_STAT_PLAIN(mean, mean_t)

extern const rv_class rv_class_stats_Mean;

static rv_object *mean_create(const rv_args *a, rv_error *err)
{
    return rv_stat_create_plain(&rv_class_stats_Mean, a, err);
}

static void mean_update(rv_object *o, double x, double w)
{
    mean_t *m = (mean_t *)o;
    m->n += w;
    if (m->n != 0)
        m->mean += w * (x - m->mean) / m->n;
}

static rv_status mean_revert(rv_object *o, double x, double w)
{
    mean_t *m = (mean_t *)o;
    double n = m->n - w;
    if (n < 0)
        return RV_ESTATE;
    m->n = n;
    if (n == 0)
        m->mean = 0;
    else
        m->mean -= w * (x - m->mean) / n;
    return RV_OK;
}

static double mean_get(const rv_object *o) { return ((const mean_t *)o)->mean; }

static void mean_name(const rv_object *o, rv_buf *out) { rv_buf_puts(out, "mean"); }

static rv_status mean_save(const rv_object *o, rv_buf *out)
{
    const mean_t *m = (const mean_t *)o;
    rv_buf_put_f64(out, m->n);
    return rv_buf_put_f64(out, m->mean);
}

static rv_status mean_load(rv_object *o, rv_reader *in)
{
    mean_t *m = (mean_t *)o;
    m->n = rv_reader_f64(in);
    m->mean = rv_reader_f64(in);
    return in->status;
}

static const rv_stat_ops mean_ops = {mean_update, mean_revert, mean_get, mean_name};

const rv_class rv_class_stats_Mean = {
    .kind = RV_CLASS_STAT,
    .module = "stats",
    .name = "Mean",
    .flags = RV_STAT_F_NOARGS | RV_STAT_F_REVERT,
    .doc = "Running mean.",
    .create = mean_create,
    RV_STAT_PLAIN_FUNCS(mean),
    .ops = &mean_ops,
};
