/* stats.RollingQuantile(q, window_size): exact quantile of the last
 * window_size values, River's definition (stats/quantile.py RollingQuantile,
 * linear interpolation as numpy's default):
 *
 *   m = number of values in the window, s = those values sorted
 *   idx = q * (m - 1);  lo = floor(idx);  hi = min(lo + 1, m - 1)
 *   get = s[lo] + (s[hi] - s[lo]) * (idx - lo)
 *
 * creme 0.5.1's RollingQuantile(window_size, quantile) took the nearest rank
 * s[int(round(q * m + 0.5)) - 1] instead; we follow River's signature and
 * semantics (the name fragment stays creme's: "rolling_rollingquantile_<k>").
 *
 * State: the ring of the last k values (in arrival order, for eviction) and
 * the same values kept sorted (binary search + memmove, O(k) per update, no
 * allocation). NaN takes its slot in the ring but is left out of the sorted
 * values, so the quantile is over the non-NaN values of the window. Empty (or
 * all NaN): 0 (creme's empty Quantile). q in [0, 1]. Not revertible.
 * State saved: the ring only (u32 len + len f64); the sorted copy is rebuilt. */
#include "internal.h"

#include <math.h>
#include <string.h>

typedef struct {
    rv_rolling_head h;
    double q;
    double *sorted;
    uint32_t m;
} rquantile_t;

extern const rv_class rv_class_stats_RollingQuantile;
static const char *const rq_args[] = {"q", "window_size", NULL};

static void rq_destroy(rv_object *o)
{
    rquantile_t *r = (rquantile_t *)o;
    rv_ring_free(&r->h.w);
    free(r->sorted);
    free(r);
}

static rv_object *rq_make(double q, long k, rv_error *err)
{
    rquantile_t *r =
        (rquantile_t *)rv_stat_alloc(&rv_class_stats_RollingQuantile, sizeof(rquantile_t), err);
    if (!r)
        return NULL;
    r->q = q;
    r->sorted = malloc((size_t)k * sizeof *r->sorted);
    if (rv_ring_init(&r->h.w, (uint32_t)k) || !r->sorted) {
        rq_destroy((rv_object *)r);
        rv_error_set(err, RV_ENOMEM, "out of memory creating stats.RollingQuantile");
        return NULL;
    }
    return (rv_object *)r;
}

static rv_object *rq_create(const rv_args *a, rv_error *err)
{
    double q;
    long k;
    if (rv_args_check(a, rq_args, err) || rv_stat_window_arg(a, rq_args, &k, err))
        return NULL;
    if (!rv_args_find(a, rq_args, "q")) {
        rv_args_error(a, NULL, err, RV_EINVAL, "missing required argument 'q'");
        return NULL;
    }
    if (rv_args_get_num(a, rq_args, "q", 0.5, &q, err))
        return NULL;
    if (!(q >= 0 && q <= 1)) {
        rv_args_error(a, rv_args_find(a, rq_args, "q"), err, RV_EINVAL,
                      "q must be between 0 and 1, not %g", q);
        return NULL;
    }
    return rq_make(q, k, err);
}

static rv_object *rq_clone(const rv_object *o, rv_error *err)
{
    const rquantile_t *r = (const rquantile_t *)o;
    return rq_make(r->q, r->h.w.cap, err);
}

static rv_object *rq_copy(const rv_object *o, rv_error *err)
{
    const rquantile_t *r = (const rquantile_t *)o;
    rquantile_t *c = (rquantile_t *)rq_clone(o, err);
    if (!c)
        return NULL;
    memcpy(c->h.w.v, r->h.w.v, r->h.w.cap * sizeof(double));
    c->h.w.len = r->h.w.len;
    c->h.w.head = r->h.w.head;
    memcpy(c->sorted, r->sorted, r->m * sizeof(double));
    c->m = r->m;
    return (rv_object *)c;
}

/* First index whose value is > x (upper) or >= x (lower). */
static uint32_t bound(const double *s, uint32_t m, double x, int upper)
{
    uint32_t lo = 0, hi = m;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (upper ? s[mid] <= x : s[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void sorted_insert(rquantile_t *r, double x)
{
    uint32_t i = bound(r->sorted, r->m, x, 1);
    memmove(r->sorted + i + 1, r->sorted + i, (r->m - i) * sizeof(double));
    r->sorted[i] = x;
    r->m++;
}

static void sorted_remove(rquantile_t *r, double x)
{
    uint32_t i = bound(r->sorted, r->m, x, 0);
    if (i < r->m && r->sorted[i] == x) {
        memmove(r->sorted + i, r->sorted + i + 1, (r->m - i - 1) * sizeof(double));
        r->m--;
    }
}

static void rq_update(rv_object *o, double x, double w)
{
    rquantile_t *r = (rquantile_t *)o;
    if (rv_ring_full(&r->h.w) && !isnan(rv_ring_oldest(&r->h.w)))
        sorted_remove(r, rv_ring_oldest(&r->h.w));
    if (!isnan(x))
        sorted_insert(r, x);
    rv_ring_push(&r->h.w, x);
}

static double rq_get(const rv_object *o)
{
    const rquantile_t *r = (const rquantile_t *)o;
    if (!r->m)
        return 0;
    double idx = r->q * (double)(r->m - 1);
    uint32_t lo = (uint32_t)floor(idx), hi = lo + 1 > r->m - 1 ? r->m - 1 : lo + 1;
    return r->sorted[lo] + (r->sorted[hi] - r->sorted[lo]) * (idx - lo);
}

static void rq_name(const rv_object *o, rv_buf *out)
{
    rv_stat_rolling_name(out, "rollingquantile", ((const rquantile_t *)o)->h.w.cap);
}

static rv_status rq_save(const rv_object *o, rv_buf *out)
{
    rv_ring_save(&((const rquantile_t *)o)->h.w, out);
    return out->oom ? RV_ENOMEM : RV_OK;
}

static rv_status rq_load(rv_object *o, rv_reader *in)
{
    rquantile_t *r = (rquantile_t *)o;
    r->m = 0;
    if (rv_ring_load(&r->h.w, in))
        return in->status;
    for (uint32_t i = 0; i < r->h.w.len; i++)
        if (!isnan(rv_ring_at(&r->h.w, i)))
            sorted_insert(r, rv_ring_at(&r->h.w, i));
    return RV_OK;
}

static rv_status rq_describe(const rv_object *o, rv_buf *out)
{
    const rquantile_t *r = (const rquantile_t *)o;
    rv_describer d;
    rv_describe_open(&d, out, o);
    rv_describe_num(&d, "q", r->q);
    rv_describe_int(&d, "window_size", (long)r->h.w.cap);
    return rv_describe_close(&d);
}

static size_t rq_memory(const rv_object *o)
{
    return sizeof(rquantile_t) + 2 * ((const rquantile_t *)o)->h.w.cap * sizeof(double);
}

static const rv_stat_ops rq_ops = {rq_update, NULL, rq_get, rq_name};

const rv_class rv_class_stats_RollingQuantile = {
    .kind = RV_CLASS_STAT,
    .module = "stats",
    .name = "RollingQuantile",
    .flags = RV_STAT_F_ROLLING,
    .doc = "Exact quantile over a window (River's interpolation).",
    .create = rq_create,
    .clone = rq_clone,
    .copy = rq_copy,
    .save = rq_save,
    .load = rq_load,
    .describe = rq_describe,
    .memory = rq_memory,
    .destroy = rq_destroy,
    .ops = &rq_ops,
};
