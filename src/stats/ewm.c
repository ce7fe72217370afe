/* stats.EWMean and stats.EWVar: exponentially weighted mean and variance
 * (creme 0.5.1, stats/ewmean.py and stats/ewvar.py).
 *
 *   EWMean: mean = alpha * x + (1 - alpha) * mean   if mean != 0
 *                = x                                 if mean == 0
 *           (creme's `... if self.mean else x`: a running mean that is exactly
 *           0 restarts at the next value; kept for parity)
 *   EWVar:  an EWMean of x and an EWMean of x * x;  get = sq_mean - mean * mean
 *
 * Parameter alpha in (0, 1], default 0.5 (creme). Weights are ignored. Not
 * revertible. Empty state: 0 for both. NaN: the statistic becomes NaN for good
 * (a NaN mean is "truthy" in Python too). Names (creme): "ewm_<alpha>" and
 * "ewv_<alpha>" with alpha as Python's float repr ("ewm_0.5").
 * State saved: mean, sq_mean (f64). */
#include "internal.h"

typedef struct {
    rv_object obj;
    double alpha, mean, sq_mean;
} ewm_t;

RV_STAT_FLAT(ewm, ewm_t)

static const char *const ewm_args[] = {"alpha", NULL};

static rv_object *ewm_make(const rv_class *cls, double alpha, rv_error *err)
{
    ewm_t *e = (ewm_t *)rv_stat_alloc(cls, sizeof(ewm_t), err);
    if (e)
        e->alpha = alpha;
    return (rv_object *)e;
}

static rv_object *ewm_create_of(const rv_class *cls, const rv_args *a, rv_error *err)
{
    double alpha;
    if (rv_args_check(a, ewm_args, err) ||
        rv_args_get_num(a, ewm_args, "alpha", 0.5, &alpha, err))
        return NULL;
    if (!(alpha > 0 && alpha <= 1)) {
        rv_args_error(a, rv_args_find(a, ewm_args, "alpha"), err, RV_EINVAL,
                      "alpha must be in (0, 1], not %g", alpha);
        return NULL;
    }
    return ewm_make(cls, alpha, err);
}

static rv_object *ewm_clone(const rv_object *o, rv_error *err)
{
    return ewm_make(o->cls, ((const ewm_t *)o)->alpha, err);
}

static double ewm_step(double alpha, double mean, double x)
{
    return mean != 0 ? alpha * x + (1. - alpha) * mean : x;
}

static void ewm_update(rv_object *o, double x, double w)
{
    ewm_t *e = (ewm_t *)o;
    e->mean = ewm_step(e->alpha, e->mean, x);
    e->sq_mean = ewm_step(e->alpha, e->sq_mean, x * x);
}

static double ewmean_get(const rv_object *o) { return ((const ewm_t *)o)->mean; }

static double ewvar_get(const rv_object *o)
{
    const ewm_t *e = (const ewm_t *)o;
    return e->sq_mean - e->mean * e->mean;
}

static void ewmean_name(const rv_object *o, rv_buf *out)
{
    rv_buf_puts(out, "ewm_");
    rv_buf_put_pyfloat(out, ((const ewm_t *)o)->alpha);
}

static void ewvar_name(const rv_object *o, rv_buf *out)
{
    rv_buf_puts(out, "ewv_");
    rv_buf_put_pyfloat(out, ((const ewm_t *)o)->alpha);
}

static rv_status ewm_save(const rv_object *o, rv_buf *out)
{
    const ewm_t *e = (const ewm_t *)o;
    rv_buf_put_f64(out, e->mean);
    return rv_buf_put_f64(out, e->sq_mean);
}

static rv_status ewm_load(rv_object *o, rv_reader *in)
{
    ewm_t *e = (ewm_t *)o;
    e->mean = rv_reader_f64(in);
    e->sq_mean = rv_reader_f64(in);
    return in->status;
}

static rv_status ewm_describe(const rv_object *o, rv_buf *out)
{
    rv_describer d;
    rv_describe_open(&d, out, o);
    if (((const ewm_t *)o)->alpha != 0.5)
        rv_describe_num(&d, "alpha", ((const ewm_t *)o)->alpha);
    return rv_describe_close(&d);
}

/* ===== EWMean ===== */

extern const rv_class rv_class_stats_EWMean;

static rv_object *ewmean_create(const rv_args *a, rv_error *err)
{
    return ewm_create_of(&rv_class_stats_EWMean, a, err);
}

static const rv_stat_ops ewmean_ops = {ewm_update, NULL, ewmean_get, ewmean_name};

const rv_class rv_class_stats_EWMean = {
    .kind = RV_CLASS_STAT,
    .module = "stats",
    .name = "EWMean",
    .doc = "Exponentially weighted mean (creme 0.5.1).",
    .create = ewmean_create,
    RV_STAT_FUNCS(ewm, ewm_describe, rv_stat_free_flat),
    .ops = &ewmean_ops,
};

/* ===== EWVar ===== */

extern const rv_class rv_class_stats_EWVar;

static rv_object *ewvar_create(const rv_args *a, rv_error *err)
{
    return ewm_create_of(&rv_class_stats_EWVar, a, err);
}

static const rv_stat_ops ewvar_ops = {ewm_update, NULL, ewvar_get, ewvar_name};

const rv_class rv_class_stats_EWVar = {
    .kind = RV_CLASS_STAT,
    .module = "stats",
    .name = "EWVar",
    .doc = "Exponentially weighted variance (creme 0.5.1).",
    .create = ewvar_create,
    RV_STAT_FUNCS(ewm, ewm_describe, rv_stat_free_flat),
    .ops = &ewvar_ops,
};
