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

RV_STAT_FLAT(total, total_t)

static const char *const no_args[] = {NULL};

static rv_status total_save(const rv_object *o, rv_buf *out)
{
    return rv_buf_put_f64(out, ((const total_t *)o)->v);
}

static rv_status total_load(rv_object *o, rv_reader *in)
{
    ((total_t *)o)->v = rv_reader_f64(in);
    return in->status;
}

static rv_object *total_clone(const rv_object *o, rv_error *err)
{
    return rv_stat_alloc(o->cls, sizeof(total_t), err);
}

static double total_get(const rv_object *o) { return ((const total_t *)o)->v; }

/* ===== Count ===== */

extern const rv_class rv_class_stats_Count;

static rv_object *count_create(const rv_args *a, rv_error *err)
{
    if (rv_args_check(a, no_args, err))
        return NULL;
    return rv_stat_alloc(&rv_class_stats_Count, sizeof(total_t), err);
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
    .clone = total_clone,
    .copy = total_copy,
    .save = total_save,
    .load = total_load,
    .describe = rv_stat_describe_plain,
    .memory = total_memory,
    .destroy = rv_stat_free_flat,
    .ops = &count_ops,
};

/* ===== Sum ===== */

extern const rv_class rv_class_stats_Sum;

static rv_object *sum_create(const rv_args *a, rv_error *err)
{
    if (rv_args_check(a, no_args, err))
        return NULL;
    return rv_stat_alloc(&rv_class_stats_Sum, sizeof(total_t), err);
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
    .clone = total_clone,
    .copy = total_copy,
    .save = total_save,
    .load = total_load,
    .describe = rv_stat_describe_plain,
    .memory = total_memory,
    .destroy = rv_stat_free_flat,
    .ops = &sum_ops,
};
