/* stats.Count and stats.Sum: running totals (creme 0.5.1, stats/count.py and
 * stats/summing.py).
 *
 *   Count: n += 1 on every update (the value and the weight are ignored, as
 *          creme's Count.update(x=None)); get = n; revert: n -= 1.
 *   Sum:   sum += x (weights ignored, as creme's Sum); get = sum; revert: sum -= x.
 *
 * Empty state: 0. NaN: Count counts it; Sum becomes NaN for good (IEEE
 * arithmetic, as in creme), and reverting the NaN does not bring it back.
 * Names (creme): "count", "sum". State saved: one f64. */
#include "internal.h"

typedef struct {
    rv_object obj;
    double v;
} total_t;

RV_STAT_PLAIN(total, total_t)

static rv_status total_save(const rv_object *o, rv_buf *out)
{
    return rv_buf_put_f64(out, ((const total_t *)o)->v);
}

static rv_status total_load(rv_object *o, rv_reader *in)
{
    ((total_t *)o)->v = rv_reader_f64(in);
    return in->status;
}

static double total_get(const rv_object *o) { return ((const total_t *)o)->v; }

/* ===== Count ===== */

extern const rv_class rv_class_stats_Count;

static rv_object *count_create(const rv_args *a, rv_error *err)
{
    return rv_stat_create_plain(&rv_class_stats_Count, a, err);
}

static void count_update(rv_object *o, double x, double w) { ((total_t *)o)->v += 1; }

static rv_status count_revert(rv_object *o, double x, double w)
{
    ((total_t *)o)->v -= 1;
    return RV_OK;
}

static void count_name(const rv_object *o, rv_buf *out) { rv_buf_puts(out, "count"); }

static const rv_stat_ops count_ops = {count_update, count_revert, total_get, count_name};

const rv_class rv_class_stats_Count = {
    .kind = RV_CLASS_STAT,
    .module = "stats",
    .name = "Count",
    .flags = RV_STAT_F_NOARGS | RV_STAT_F_REVERT,
    .doc = "Running count of observations.",
    .create = count_create,
    RV_STAT_PLAIN_FUNCS(total),
    .ops = &count_ops,
};

/* ===== Sum ===== */

extern const rv_class rv_class_stats_Sum;

static rv_object *sum_create(const rv_args *a, rv_error *err)
{
    return rv_stat_create_plain(&rv_class_stats_Sum, a, err);
}

static void sum_update(rv_object *o, double x, double w) { ((total_t *)o)->v += x; }

static rv_status sum_revert(rv_object *o, double x, double w)
{
    ((total_t *)o)->v -= x;
    return RV_OK;
}

static void sum_name(const rv_object *o, rv_buf *out) { rv_buf_puts(out, "sum"); }

static const rv_stat_ops sum_ops = {sum_update, sum_revert, total_get, sum_name};

const rv_class rv_class_stats_Sum = {
    .kind = RV_CLASS_STAT,
    .module = "stats",
    .name = "Sum",
    .flags = RV_STAT_F_NOARGS | RV_STAT_F_REVERT,
    .doc = "Running sum.",
    .create = sum_create,
    RV_STAT_PLAIN_FUNCS(total),
    .ops = &sum_ops,
};
