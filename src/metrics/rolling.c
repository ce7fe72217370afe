/* metrics.Rolling(metric, window_size): a metric over the last window_size
 * (y_true, y_pred) pairs only (River's utils.Rolling applied to a metric).
 *
 *   update(y, p): check (y, p) against the wrapped metric (a bad pair changes
 *                 nothing); copy it into the free slot; if the window is full,
 *                 metric.revert(oldest) then metric.update(y, p) (River's order,
 *                 which fixes the rounding); the oldest slot becomes the free one
 *   get = metric.get()
 *
 * The wrapped metric must be revertible. Rolling itself cannot revert.
 * Storage: window_size + 1 slots, each owning a copy of y_true's string and of
 * the prediction; slots are reused, so the steady state allocates nothing
 * (unless a longer string or more classes than ever before arrive).
 * If the wrapped update fails after the revert (out of memory only), the
 * oldest pair is put back (best effort) and the error returned.
 *
 * Empty state: the wrapped metric's. State saved: the wrapped metric's state,
 * then u32 len and the pairs oldest first: y (u8 kind, f64 num, u32 length +
 * bytes), prediction (u8 kind, f64 num, u32 n, n x (label bytes, f64 proba)). */
#include "internal.h"

#include <string.h>

typedef struct {
    rv_value y;
    char *ybuf;
    uint32_t ycap;
    rv_prediction p;
} slot_t;

typedef struct {
    rv_object obj;
    rv_object *inner;
    uint32_t k, len, head; /* k = window_size; k + 1 slots */
    slot_t *s;
} rolling_t;

extern const rv_class rv_class_metrics_Rolling;
static const char *const rolling_args[] = {"metric", "window_size", NULL};

const rv_object *rv_metric_rolling_inner(const rv_object *m)
{
    return m && m->cls == &rv_class_metrics_Rolling ? ((const rolling_t *)m)->inner : NULL;
}

static void rolling_destroy(rv_object *o)
{
    rolling_t *r = (rolling_t *)o;
    if (r->s)
        for (uint32_t i = 0; i <= r->k; i++) {
            free(r->s[i].ybuf);
            rv_prediction_free(&r->s[i].p);
        }
    free(r->s);
    rv_object_free(r->inner);
    free(r);
}

/* Takes ownership of inner. */
static rv_object *rolling_make(rv_object *inner, uint32_t k, rv_error *err)
{
    rolling_t *r = (rolling_t *)rv_metric_alloc(&rv_class_metrics_Rolling, sizeof(rolling_t), err);
    if (!r) {
        rv_object_free(inner);
        return NULL;
    }
    r->inner = inner;
    r->k = k;
    r->s = calloc((size_t)k + 1, sizeof *r->s);
    if (!r->s) {
        rolling_destroy((rv_object *)r);
        rv_error_set(err, RV_ENOMEM, "out of memory creating metrics.Rolling");
        return NULL;
    }
    return (rv_object *)r;
}

static rv_object *rolling_create(const rv_args *a, rv_error *err)
{
    rv_object *inner = NULL;
    long k;
    if (rv_args_check(a, rolling_args, err))
        return NULL;
    if (!rv_args_find(a, rolling_args, "window_size")) {
        rv_args_error(a, NULL, err, RV_EINVAL, "missing required argument 'window_size'");
        return NULL;
    }
    if (rv_args_get_int(a, rolling_args, "window_size", 1, 1, RV_METRIC_MAX_WINDOW, &k, err) ||
        rv_args_take_obj(a, rolling_args, "metric", RV_CLASS_METRIC, &inner, err))
        return NULL;
    if (!inner) {
        rv_args_error(a, NULL, err, RV_EINVAL, "missing required argument 'metric'");
        return NULL;
    }
    if (!((const rv_metric_ops *)inner->cls->ops)->revert) {
        rv_args_error(a, rv_args_find(a, rolling_args, "metric"), err, RV_EINVAL,
                      "metrics.%s cannot be rolled: it cannot revert", inner->cls->name);
        rv_object_free(inner);
        return NULL;
    }
    return rolling_make(inner, (uint32_t)k, err);
}

static rv_object *rolling_clone(const rv_object *o, rv_error *err)
{
    const rolling_t *r = (const rolling_t *)o;
    rv_object *inner = rv_object_clone(r->inner, err);
    return inner ? rolling_make(inner, r->k, err) : NULL;
}

/* Copies (y, p) into slot s, reusing its buffers. */
static rv_status slot_set(slot_t *s, const rv_value *y, const rv_prediction *p)
{
    if (y->kind == RV_STR && y->len > s->ycap) {
        char *b = realloc(s->ybuf, y->len);
        if (!b)
            return RV_ENOMEM;
        s->ybuf = b;
        s->ycap = y->len;
    }
    if (rv_prediction_copy(&s->p, p))
        return RV_ENOMEM;
    s->y = *y;
    if (y->kind == RV_STR) {
        if (y->len)
            memcpy(s->ybuf, y->str, y->len);
        s->y.str = s->ybuf;
    }
    return RV_OK;
}

static slot_t *slot_at(const rolling_t *r, uint32_t i) /* i-th oldest, i <= len */
{
    uint32_t j = r->head + i;
    return &r->s[j > r->k ? j - r->k - 1 : j];
}

static rv_status rolling_update(rv_object *o, const rv_value *yt, const rv_prediction *yp,
                                rv_error *err)
{
    rolling_t *r = (rolling_t *)o;
    rv_status s = rv_metric_check(r->inner, yt, yp, err);
    if (s)
        return s;
    slot_t *fresh = slot_at(r, r->len);
    if (slot_set(fresh, yt, yp))
        return rv_error_set(err, RV_ENOMEM, "out of memory in metrics.Rolling");
    slot_t *old = r->len == r->k ? slot_at(r, 0) : NULL;
    if (old && (s = rv_metric_revert(r->inner, &old->y, &old->p, err)))
        return s;
    if ((s = rv_metric_update(r->inner, &fresh->y, &fresh->p, err))) {
        if (old)
            rv_metric_update(r->inner, &old->y, &old->p, NULL);
        return s;
    }
    if (old)
        r->head = r->head == r->k ? 0 : r->head + 1;
    else
        r->len++;
    return RV_OK;
}

static double rolling_get(const rv_object *o) { return rv_metric_get(((const rolling_t *)o)->inner); }

static rv_object *rolling_copy(const rv_object *o, rv_error *err)
{
    const rolling_t *r = (const rolling_t *)o;
    rv_object *inner = rv_object_copy(r->inner, err);
    rolling_t *c = inner ? (rolling_t *)rolling_make(inner, r->k, err) : NULL;
    if (!c)
        return NULL;
    for (uint32_t i = 0; i < r->len; i++)
        if (slot_set(&c->s[i], &slot_at(r, i)->y, &slot_at(r, i)->p)) {
            rolling_destroy((rv_object *)c);
            rv_error_set(err, RV_ENOMEM, "out of memory copying metrics.Rolling");
            return NULL;
        }
    c->len = r->len;
    return (rv_object *)c;
}

static size_t rolling_memory(const rv_object *o)
{
    const rolling_t *r = (const rolling_t *)o;
    size_t m = sizeof *r + ((size_t)r->k + 1) * sizeof *r->s + rv_object_memory(r->inner);
    for (uint32_t i = 0; i <= r->k; i++)
        m += r->s[i].ycap + r->s[i].p.cap * (sizeof(rv_sym) + sizeof(double));
    return m;
}

static rv_status rolling_save(const rv_object *o, rv_buf *out)
{
    const rolling_t *r = (const rolling_t *)o;
    rv_status s = r->inner->cls->save(r->inner, out);
    if (s)
        return s;
    rv_buf_put_u32(out, r->len);
    for (uint32_t i = 0; i < r->len; i++) {
        const slot_t *sl = slot_at(r, i);
        rv_buf_put_u8(out, sl->y.kind);
        rv_buf_put_f64(out, sl->y.num);
        rv_buf_put_bytes(out, sl->y.kind == RV_STR ? sl->y.str : "", sl->y.kind == RV_STR ? sl->y.len : 0);
        rv_buf_put_u8(out, sl->p.kind);
        rv_buf_put_f64(out, sl->p.num);
        rv_buf_put_u32(out, sl->p.n);
        for (uint32_t j = 0; j < sl->p.n; j++) {
            rv_buf_put_sym(out, sl->p.labels[j]);
            rv_buf_put_f64(out, sl->p.proba[j]);
        }
    }
    return out->oom ? RV_ENOMEM : RV_OK;
}

/* Reads one saved pair into a temporary value and prediction. */
static void read_pair(rv_reader *in, rv_value *y, rv_prediction *p)
{
    y->kind = rv_reader_u8(in);
    y->num = rv_reader_f64(in);
    y->str = rv_reader_bytes(in, &y->len, UINT32_MAX);
    if (y->kind > RV_STR)
        rv_reader_fail(in, "Rolling: bad value kind");
    rv_prediction_clear(p);
    uint8_t kind = rv_reader_u8(in);
    double num = rv_reader_f64(in);
    uint32_t n = rv_reader_count(in, 4 + 8);
    for (uint32_t j = 0; j < n && in->status == RV_OK; j++) {
        rv_sym label = rv_reader_sym(in);
        double pr = rv_reader_f64(in);
        if (in->status == RV_OK && rv_prediction_set_proba(p, label, pr))
            rv_reader_fail(in, "Rolling: out of memory");
    }
    p->kind = kind;
    p->num = num;
}

static rv_status rolling_load(rv_object *o, rv_reader *in)
{
    rolling_t *r = (rolling_t *)o;
    rv_status s = r->inner->cls->load(r->inner, in);
    if (s || in->status)
        return s ? s : in->status;
    uint32_t len = rv_reader_count(in, 1 + 8 + 4 + 1 + 8 + 4);
    if (len > r->k)
        rv_reader_fail(in, "Rolling: more pairs than the window holds");
    rv_prediction p;
    rv_prediction_init(&p);
    r->len = r->head = 0;
    for (uint32_t i = 0; i < len && in->status == RV_OK; i++) {
        rv_value y;
        read_pair(in, &y, &p);
        if (in->status == RV_OK && slot_set(&r->s[i], &y, &p))
            rv_reader_fail(in, "Rolling: out of memory");
        r->len = in->status == RV_OK ? i + 1 : r->len;
    }
    rv_prediction_free(&p);
    return in->status;
}

static rv_status rolling_describe(const rv_object *o, rv_buf *out)
{
    const rolling_t *r = (const rolling_t *)o;
    rv_describer d;
    rv_describe_open(&d, out, o);
    rv_describe_obj(&d, NULL, r->inner);
    rv_describe_int(&d, "window_size", (long)r->k);
    return rv_describe_close(&d);
}

/* bigger_is_better and works_with come from the wrapped metric (metric.c). */
static const rv_metric_ops rolling_ops = {rolling_update, NULL, rolling_get, 0, 0};

const rv_class rv_class_metrics_Rolling = {
    .kind = RV_CLASS_METRIC,
    .module = "metrics",
    .name = "Rolling",
    .doc = "A metric over the last window_size pairs (River's utils.Rolling).",
    .create = rolling_create,
    .clone = rolling_clone,
    .copy = rolling_copy,
    .save = rolling_save,
    .load = rolling_load,
    .describe = rolling_describe,
    .memory = rolling_memory,
    .destroy = rolling_destroy,
    .ops = &rolling_ops,
};
