/* stats.Var: running variance (creme 0.5.1, stats/var.pyx L46-57, which is
 * the StandardScaler's variance of SPEC.md §5).
 *
 *   update(x, w):  old = mean;  n += w;  mean += w * (x - mean) / n
 *                  if n > ddof:  sigma += w * ((x - old) * (x - mean) - sigma) / (n - ddof)
 *   get = sigma   (directly the variance with divisor n - ddof, not M2)
 *
 * With w = 1 this is exactly SPEC.md §5 (`w *` is exact). Note that for
 * ddof >= 2 creme's recurrence is not the textbook variance (sigma starts from
 * the single increment at n = ddof + 1); we keep creme's numbers.
 *
 * revert(x, w) is the algebraic inverse: n' = n - w, the mean is reverted as
 * Mean.revert, and sigma = (sigma * (n - ddof) - w * (x - mean') * (x - mean))
 * / (n' - ddof) when n' > ddof, else 0 (its value before the update). It
 * restores the state up to rounding. n' < 0 is refused (RV_ESTATE).
 *
 * Empty state, one value, constant values: 0.0. NaN: the variance becomes NaN
 * for good (IEEE arithmetic, as in creme). Name: "var".
 * State saved: n, mean, sigma (f64); ddof is a parameter. */
#include "internal.h"

typedef struct {
    rv_object obj;
    long ddof;
    double n, mean, sigma;
} var_t;

RV_STAT_FLAT(var, var_t)

extern const rv_class rv_class_stats_Var;
static const char *const var_args[] = {"ddof", NULL};

static rv_object *var_make(long ddof, rv_error *err)
{
    var_t *v = (var_t *)rv_stat_alloc(&rv_class_stats_Var, sizeof(var_t), err);
    if (v)
        v->ddof = ddof;
    return (rv_object *)v;
}

static rv_object *var_create(const rv_args *a, rv_error *err)
{
    long ddof;
    if (rv_args_check(a, var_args, err) ||
        rv_args_get_int(a, var_args, "ddof", 1, 0, 1000000, &ddof, err))
        return NULL;
    return var_make(ddof, err);
}

static rv_object *var_clone(const rv_object *o, rv_error *err)
{
    return var_make(((const var_t *)o)->ddof, err);
}

static void var_update(rv_object *o, double x, double w)
{
    var_t *v = (var_t *)o;
    double old = v->mean;
    v->n += w;
    if (v->n != 0)
        v->mean += w * (x - v->mean) / v->n;
    if (v->n > (double)v->ddof)
        v->sigma += w * ((x - old) * (x - v->mean) - v->sigma) / (v->n - (double)v->ddof);
}

static rv_status var_revert(rv_object *o, double x, double w)
{
    var_t *v = (var_t *)o;
    double n = v->n - w, ddof = (double)v->ddof;
    if (n < 0)
        return RV_ESTATE;
    if (n == 0) {
        v->n = v->mean = v->sigma = 0;
        return RV_OK;
    }
    double mean = v->mean - w * (x - v->mean) / n;
    if (n > ddof)
        v->sigma = (v->sigma * (v->n - ddof) - w * (x - mean) * (x - v->mean)) / (n - ddof);
    else
        v->sigma = 0;
    v->n = n;
    v->mean = mean;
    return RV_OK;
}

static double var_get(const rv_object *o) { return ((const var_t *)o)->sigma; }

static void var_name(const rv_object *o, rv_buf *out) { rv_buf_puts(out, "var"); }

static rv_status var_save(const rv_object *o, rv_buf *out)
{
    const var_t *v = (const var_t *)o;
    rv_buf_put_f64(out, v->n);
    rv_buf_put_f64(out, v->mean);
    return rv_buf_put_f64(out, v->sigma);
}

static rv_status var_load(rv_object *o, rv_reader *in)
{
    var_t *v = (var_t *)o;
    v->n = rv_reader_f64(in);
    v->mean = rv_reader_f64(in);
    v->sigma = rv_reader_f64(in);
    return in->status;
}

static rv_status var_describe(const rv_object *o, rv_buf *out)
{
    rv_describer d;
    rv_describe_open(&d, out, o);
    if (((const var_t *)o)->ddof != 1)
        rv_describe_int(&d, "ddof", ((const var_t *)o)->ddof);
    return rv_describe_close(&d);
}

static const rv_stat_ops var_ops = {var_update, var_revert, var_get, var_name};

const rv_class rv_class_stats_Var = {
    .kind = RV_CLASS_STAT,
    .module = "stats",
    .name = "Var",
    .flags = RV_STAT_F_REVERT,
    .doc = "Running variance (creme 0.5.1 recurrence, ddof=1 by default).",
    .create = var_create,
    .clone = var_clone,
    .copy = var_copy,
    .save = var_save,
    .load = var_load,
    .describe = var_describe,
    .memory = var_memory,
    .destroy = rv_stat_free_flat,
    .ops = &var_ops,
};
