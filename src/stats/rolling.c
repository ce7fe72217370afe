/* Rolling statistics over the last window_size values: stats.RollingSum,
 * RollingMean, RollingVar, RollingMin, RollingMax (creme 0.5.1: stats/summing.py
 * L42-86, mean.pyx L61-97, var.pyx RollingVar, minimum.py, maximum.py).
 *
 * All five share one state: the ring of the last k values (internal.h), the
 * incrementally maintained sum (never recomputed, SPEC.md §3) and sum of
 * squares:
 *
 *   update(x):  if full: sum -= oldest;  sos -= oldest * oldest
 *               sum += x;  sos += x * x;  push x (evicting the oldest)
 *
 *   RollingSum.get  = sum                                  (empty: 0)
 *   RollingMean.get = sum / len, 0 when empty              (SPEC.md §3)
 *   RollingVar.get  = c * (sos / len - (sum / len)^2), c = len / (len - ddof)
 *                     if len > ddof else 1; 0 when empty   (creme's formula)
 *   RollingMin.get  = smallest non-NaN value in the window (empty: +inf)
 *   RollingMax.get  = largest non-NaN value in the window  (empty: -inf)
 *
 * NaN: it takes its slot in the window. Min/Max skip it. The running sums
 * become NaN and stay NaN even after the NaN leaves the window, exactly as
 * creme's incremental sum does. Weights are ignored; not revertible.
 * Names (creme): "rolling_rolling<sum|mean|var|min|max>_<k>".
 * State saved: ring (u32 len + len f64), sum, sos (f64). */
#include "internal.h"

#include <math.h>

typedef struct {
    rv_rolling_head h;
    double sum, sos;
    long ddof; /* RollingVar only */
} rolling_t;

static const char *const window_args[] = {"window_size", NULL};
static const char *const var_args[] = {"window_size", "ddof", NULL};

static rv_object *rolling_make(const rv_class *cls, long k, long ddof, rv_error *err)
{
    rolling_t *r = (rolling_t *)rv_stat_alloc(cls, sizeof(rolling_t), err);
    if (!r)
        return NULL;
    r->ddof = ddof;
    if (rv_ring_init(&r->h.w, (uint32_t)k)) {
        free(r);
        rv_error_set(err, RV_ENOMEM, "out of memory creating stats.%s", cls->name);
        return NULL;
    }
    return (rv_object *)r;
}

static rv_object *rolling_create_of(const rv_class *cls, const char *const *names,
                                    const rv_args *a, rv_error *err)
{
    long k, ddof = 1;
    if (rv_args_check(a, names, err) || rv_stat_window_arg(a, names, &k, err))
        return NULL;
    if (names == var_args && rv_args_get_int(a, names, "ddof", 1, 0, 1000000, &ddof, err))
        return NULL;
    return rolling_make(cls, k, ddof, err);
}

static rv_object *rolling_clone(const rv_object *o, rv_error *err)
{
    const rolling_t *r = (const rolling_t *)o;
    return rolling_make(o->cls, r->h.w.cap, r->ddof, err);
}

static rv_object *rolling_copy(const rv_object *o, rv_error *err)
{
    rolling_t *c = (rolling_t *)rv_stat_dup(o, sizeof(rolling_t), err);
    if (c && rv_ring_copy(&c->h.w, &((const rolling_t *)o)->h.w)) {
        free(c);
        rv_error_set(err, RV_ENOMEM, "out of memory copying stats.%s", o->cls->name);
        return NULL;
    }
    return (rv_object *)c;
}

static void rolling_destroy(rv_object *o)
{
    rv_ring_free(&((rolling_t *)o)->h.w);
    free(o);
}

static size_t rolling_memory(const rv_object *o)
{
    return sizeof(rolling_t) + ((const rolling_t *)o)->h.w.cap * sizeof(double);
}

static rv_status rolling_save(const rv_object *o, rv_buf *out)
{
    const rolling_t *r = (const rolling_t *)o;
    rv_ring_save(&r->h.w, out);
    rv_buf_put_f64(out, r->sum);
    return rv_buf_put_f64(out, r->sos);
}

static rv_status rolling_load(rv_object *o, rv_reader *in)
{
    rolling_t *r = (rolling_t *)o;
    if (rv_ring_load(&r->h.w, in))
        return in->status;
    r->sum = rv_reader_f64(in);
    r->sos = rv_reader_f64(in);
    return in->status;
}

static rv_status rolling_describe(const rv_object *o, rv_buf *out)
{
    const rolling_t *r = (const rolling_t *)o;
    rv_describer d;
    rv_describe_open(&d, out, o);
    rv_describe_int(&d, "window_size", (long)r->h.w.cap);
    if (r->ddof != 1)
        rv_describe_int(&d, "ddof", r->ddof);
    return rv_describe_close(&d);
}

/* Every class's name is "rolling_" + its lower-cased class name + "_k". */
static void rolling_name(const rv_object *o, rv_buf *out)
{
    char lower[32];
    size_t i = 0;
    for (const char *p = o->cls->name; *p && i + 1 < sizeof lower; p++)
        lower[i++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    lower[i] = '\0';
    rv_stat_rolling_name(out, lower, ((const rolling_t *)o)->h.w.cap);
}

static void rolling_update(rv_object *o, double x, double w)
{
    rolling_t *r = (rolling_t *)o;
    if (rv_ring_full(&r->h.w)) {
        double old = rv_ring_oldest(&r->h.w);
        r->sum -= old;
        r->sos -= old * old;
    }
    r->sum += x;
    r->sos += x * x;
    rv_ring_push(&r->h.w, x);
}

static double rsum_get(const rv_object *o) { return ((const rolling_t *)o)->sum; }

static double rmean_get(const rv_object *o)
{
    const rolling_t *r = (const rolling_t *)o;
    return r->h.w.len ? r->sum / r->h.w.len : 0;
}

static double rvar_get(const rv_object *o)
{
    const rolling_t *r = (const rolling_t *)o;
    double n = r->h.w.len;
    if (n == 0)
        return 0;
    double mean = r->sum / n;
    double variance = r->sos / n - mean * mean;
    double c = n > (double)r->ddof ? n / (n - (double)r->ddof) : 1;
    return c * variance;
}

static double rmin_get(const rv_object *o)
{
    const rolling_t *r = (const rolling_t *)o;
    double m = INFINITY;
    for (uint32_t i = 0; i < r->h.w.len; i++)
        if (r->h.w.v[i] < m)
            m = r->h.w.v[i];
    return m;
}

static double rmax_get(const rv_object *o)
{
    const rolling_t *r = (const rolling_t *)o;
    double m = -INFINITY;
    for (uint32_t i = 0; i < r->h.w.len; i++)
        if (r->h.w.v[i] > m)
            m = r->h.w.v[i];
    return m;
}

/* The classes differ only in get() (and RollingVar's ddof). */
#define ROLLING_OPS(NAME, lower, names)                                                            \
    extern const rv_class rv_class_stats_##NAME;                                                   \
    static rv_object *lower##_create(const rv_args *a, rv_error *err)                              \
    {                                                                                              \
        return rolling_create_of(&rv_class_stats_##NAME, names, a, err);                           \
    }                                                                                              \
    static const rv_stat_ops lower##_ops = {rolling_update, NULL, lower##_get, rolling_name};

ROLLING_OPS(RollingSum, rsum, window_args)
ROLLING_OPS(RollingMean, rmean, window_args)
ROLLING_OPS(RollingVar, rvar, var_args)
ROLLING_OPS(RollingMin, rmin, window_args)
ROLLING_OPS(RollingMax, rmax, window_args)

const rv_class rv_class_stats_RollingSum = {
    .kind = RV_CLASS_STAT,
    .module = "stats",
    .name = "RollingSum",
    .flags = RV_STAT_F_ROLLING,
    .doc = "Running sum over a window.",
    .create = rsum_create,
    RV_STAT_FUNCS(rolling, rolling_describe, rolling_destroy),
    .ops = &rsum_ops,
};

const rv_class rv_class_stats_RollingMean = {
    .kind = RV_CLASS_STAT,
    .module = "stats",
    .name = "RollingMean",
    .flags = RV_STAT_F_ROLLING,
    .doc = "Running mean over a window (incremental sum, creme 0.5.1).",
    .create = rmean_create,
    RV_STAT_FUNCS(rolling, rolling_describe, rolling_destroy),
    .ops = &rmean_ops,
};

const rv_class rv_class_stats_RollingVar = {
    .kind = RV_CLASS_STAT,
    .module = "stats",
    .name = "RollingVar",
    .flags = RV_STAT_F_ROLLING,
    .doc = "Running variance over a window (creme 0.5.1 formula).",
    .create = rvar_create,
    RV_STAT_FUNCS(rolling, rolling_describe, rolling_destroy),
    .ops = &rvar_ops,
};

const rv_class rv_class_stats_RollingMin = {
    .kind = RV_CLASS_STAT,
    .module = "stats",
    .name = "RollingMin",
    .flags = RV_STAT_F_ROLLING,
    .doc = "Running minimum over a window.",
    .create = rmin_create,
    RV_STAT_FUNCS(rolling, rolling_describe, rolling_destroy),
    .ops = &rmin_ops,
};

const rv_class rv_class_stats_RollingMax = {
    .kind = RV_CLASS_STAT,
    .module = "stats",
    .name = "RollingMax",
    .flags = RV_STAT_F_ROLLING,
    .doc = "Running maximum over a window.",
    .create = rmax_create,
    RV_STAT_FUNCS(rolling, rolling_describe, rolling_destroy),
    .ops = &rmax_ops,
};
