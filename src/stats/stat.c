/* The stats layer's generic entry points (dispatch through rv_stat_ops), the
 * convenience constructor rv_stat_new, and the helpers every statistic shares
 * (see internal.h): allocation, window arguments, names, the value ring.
 *
 * Feature-name fragments follow creme 0.5.1 (creme/stats/base.pyx): a
 * statistic is named by its lower-cased class name ("mean", "var", "count",
 * "sum", "min", "max", "quantile"), a rolling one by
 * f"rolling_{lower-cased class}_{window_size}" ("rolling_rollingmean_7",
 * "rolling_rollingsum_3", "rolling_rollingvar_5", "rolling_rollingmin_4",
 * "rolling_rollingmax_4", "rolling_rollingquantile_10"); a few override it:
 * PeakToPeak is "ptp", EWMean "ewm_<alpha>", EWVar "ewv_<alpha>" (alpha as
 * Python's float repr, e.g. "ewm_0.5"). */
#include "internal.h"

#include <math.h>
#include <string.h>

static const rv_stat_ops *stat_ops(const rv_object *o) { return o->cls->ops; }

int rv_is_stat(const rv_object *o) { return o && o->cls->kind == RV_CLASS_STAT; }

void rv_stat_update(rv_object *stat, double x) { stat_ops(stat)->update(stat, x, 1.0); }

void rv_stat_update_weighted(rv_object *stat, double x, double w)
{
    stat_ops(stat)->update(stat, x, w);
}

double rv_stat_get(const rv_object *stat) { return stat_ops(stat)->get(stat); }

rv_status rv_stat_revert(rv_object *stat, double x)
{
    if (!stat_ops(stat)->revert)
        return RV_EUNSUPPORTED;
    return stat_ops(stat)->revert(stat, x, 1.0);
}

void rv_stat_name(const rv_object *stat, rv_buf *out) { stat_ops(stat)->name(stat, out); }

/* Rolling statistics start with an rv_rolling_head; the flag tells which. */
uint32_t rv_stat_window_size(const rv_object *stat)
{
    if (!rv_is_stat(stat) || !(stat->cls->flags & RV_STAT_F_ROLLING))
        return 0;
    return ((const rv_rolling_head *)(const void *)stat)->w.cap;
}

rv_object *rv_stat_new(const char *name, double arg, rv_error *err)
{
    const rv_class *c = rv_class_find_kind(name, RV_CLASS_STAT);
    if (!c || c->kind != RV_CLASS_STAT) {
        rv_error_set(err, RV_ENOTFOUND, "unknown statistic '%s'", name);
        return NULL;
    }
    rv_args a;
    rv_args_init(&a, name);
    if (!isnan(arg) && !(c->flags & RV_STAT_F_NOARGS)) {
        if (arg == floor(arg) && fabs(arg) < 1e15)
            rv_args_add_int(&a, NULL, (long)arg);
        else
            rv_args_add_num(&a, NULL, arg);
    }
    rv_object *o = c->create(&a, err);
    rv_args_free(&a);
    return o;
}

/* ===== Shared helpers ===== */

rv_object *rv_stat_alloc(const rv_class *cls, size_t size, rv_error *err)
{
    rv_object *o = calloc(1, size);
    if (!o) {
        rv_error_set(err, RV_ENOMEM, "out of memory creating stats.%s", cls->name);
        return NULL;
    }
    o->cls = cls;
    return o;
}

rv_object *rv_stat_dup(const rv_object *o, size_t size, rv_error *err)
{
    rv_object *c = malloc(size);
    if (!c) {
        rv_error_set(err, RV_ENOMEM, "out of memory copying stats.%s", o->cls->name);
        return NULL;
    }
    memcpy(c, o, size);
    return c;
}

void rv_stat_free_flat(rv_object *o) { free(o); }

rv_status rv_stat_describe_plain(const rv_object *o, rv_buf *out)
{
    rv_describer d;
    rv_describe_open(&d, out, o);
    return rv_describe_close(&d);
}

rv_object *rv_stat_create_plain(const rv_class *cls, const rv_args *a, rv_error *err)
{
    static const char *const no_args[] = {NULL};
    if (rv_args_check(a, no_args, err))
        return NULL;
    rv_object proto = {cls};
    return cls->clone(&proto, err);
}

rv_status rv_stat_window_arg(const rv_args *a, const char *const *names, long *out, rv_error *err)
{
    if (!rv_args_find(a, names, "window_size"))
        return rv_args_error(a, NULL, err, RV_EINVAL, "missing required argument 'window_size'");
    return rv_args_get_int(a, names, "window_size", 1, 1, RV_STAT_MAX_WINDOW, out, err);
}

void rv_stat_rolling_name(rv_buf *out, const char *lower, uint32_t k)
{
    rv_buf_printf(out, "rolling_%s_%u", lower, (unsigned)k);
}

/* ===== Ring ===== */

rv_status rv_ring_init(rv_ring *r, uint32_t cap)
{
    r->v = malloc((cap ? cap : 1) * sizeof *r->v);
    r->cap = cap;
    r->len = r->head = 0;
    return r->v ? RV_OK : RV_ENOMEM;
}

void rv_ring_free(rv_ring *r)
{
    free(r->v);
    r->v = NULL;
}

rv_status rv_ring_copy(rv_ring *dst, const rv_ring *src)
{
    if (rv_ring_init(dst, src->cap))
        return RV_ENOMEM;
    memcpy(dst->v, src->v, src->cap * sizeof *src->v);
    dst->len = src->len;
    dst->head = src->head;
    return RV_OK;
}

void rv_ring_save(const rv_ring *r, rv_buf *out)
{
    rv_buf_put_u32(out, r->len);
    for (uint32_t i = 0; i < r->len; i++)
        rv_buf_put_f64(out, rv_ring_at(r, i));
}

rv_status rv_ring_load(rv_ring *r, rv_reader *in)
{
    uint32_t n = rv_reader_count(in, 8);
    if (n > r->cap)
        rv_reader_fail(in, "window holds more values than its size");
    if (in->status)
        return in->status;
    r->len = r->head = 0;
    for (uint32_t i = 0; i < n; i++)
        rv_ring_push(r, rv_reader_f64(in));
    return in->status;
}
