/* Per-feature scaler plumbing: state arrays indexed by feature slot.
 *
 * Layout of a scaler's state (width w doubles per feature):
 *
 *   slots.names: [ x1      | x2      | ... ]   first-seen order
 *   st:          [ s0..sw-1| s0..sw-1| ... ]   same order
 *
 * Snapshot (little-endian):
 *
 *   u32 n | n x ( u32 len, name bytes | w x f64 )
 *
 * Learning resolves the event's names to slots (one comparison per feature
 * when the layout repeats), so steady-state learning and transforming never
 * allocate; transforming writes nothing in the scaler, so concurrent
 * transforms are safe. Strings are not scaled: they keep no state and pass through. */
#include "preprocessing/scaler.h"
#include "core/prefetch.h"

#include <stdlib.h>
#include <string.h>

rv_scaler *rv_scaler_alloc(const rv_class *cls, uint32_t width, const double *init)
{
    rv_scaler *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->base.cls = cls;
    rv_slots_init(&s->slots);
    s->width = width;
    s->init = init;
    s->with_std = 1;
    return s;
}

/* Makes room for the state of every slot and initialises the new ones. */
static rv_status ensure_state(rv_scaler *s)
{
    uint32_t n = s->slots.n;
    if (n > s->st_cap) {
        uint32_t cap = s->st_cap ? s->st_cap : 4;
        while (cap < n)
            cap *= 2;
        double *p = realloc(s->st, (size_t)cap * s->width * sizeof *p);
        if (!p)
            return RV_ENOMEM;
        s->st = p;
        s->st_cap = cap;
    }
    for (; s->st_n < n; s->st_n++)
        memcpy(s->st + (size_t)s->st_n * s->width, s->init, s->width * sizeof(double));
    return RV_OK;
}

rv_scaler *rv_scaler_create(const rv_class *cls, const rv_args *args, const char *const *params,
                            uint32_t width, const double *init, rv_error *err)
{
    if (rv_args_check(args, params, err))
        return NULL;
    rv_scaler *s = rv_scaler_alloc(cls, width, init);
    if (!s)
        rv_error_set(err, RV_ENOMEM, "%s: out of memory", cls->name);
    return s;
}

const uint32_t *rv_scaler_learn_slots(rv_scaler *s, const rv_event *x)
{
    const uint32_t *slots = rv_slots_resolve(&s->slots, x, RV_SLOTS_ADD_NUM);
    if (!slots || (s->slots.n > s->st_n && ensure_state(s)))
        return NULL;
    return slots;
}

rv_object *rv_scaler_clone(const rv_object *self, rv_error *err)
{
    const rv_scaler *s = (const rv_scaler *)self;
    rv_scaler *c = rv_scaler_alloc(self->cls, s->width, s->init);
    if (!c) {
        rv_error_set(err, RV_ENOMEM, "%s: out of memory", self->cls->name);
        return NULL;
    }
    c->with_std = s->with_std;
    return &c->base;
}

rv_object *rv_scaler_copy(const rv_object *self, rv_error *err)
{
    const rv_scaler *s = (const rv_scaler *)self;
    rv_object *o = rv_scaler_clone(self, err);
    if (!o)
        return NULL;
    rv_scaler *c = (rv_scaler *)o;
    for (uint32_t i = 0; i < s->slots.n; i++)
        if (rv_slots_add(&c->slots, s->slots.names[i]) == RV_SLOT_NONE)
            goto oom;
    if (ensure_state(c))
        goto oom;
    if (s->st_n)
        memcpy(c->st, s->st, (size_t)s->st_n * s->width * sizeof(double));
    return o;
oom:
    rv_object_free(o);
    rv_error_set(err, RV_ENOMEM, "%s: out of memory", self->cls->name);
    return NULL;
}

rv_status rv_scaler_save(const rv_object *self, rv_buf *out)
{
    const rv_scaler *s = (const rv_scaler *)self;
    rv_buf_put_u32(out, s->slots.n);
    for (uint32_t i = 0; i < s->slots.n; i++) {
        rv_buf_put_sym(out, s->slots.names[i]);
        for (uint32_t j = 0; j < s->width; j++)
            rv_buf_put_f64(out, s->st[(size_t)i * s->width + j]);
    }
    return out->oom ? RV_ENOMEM : RV_OK;
}

rv_status rv_scaler_load(rv_object *self, rv_reader *in)
{
    rv_scaler *s = (rv_scaler *)self;
    uint32_t n = rv_reader_count(in, 4 + 8 * (size_t)s->width);
    for (uint32_t i = 0; i < n && in->status == RV_OK; i++) {
        rv_sym name = rv_reader_sym(in);
        if (in->status != RV_OK)
            break;
        if (rv_slots_find(&s->slots, name) != RV_SLOT_NONE) {
            rv_reader_fail(in, "duplicate feature name in scaler state");
            break;
        }
        if (rv_slots_add(&s->slots, name) == RV_SLOT_NONE || ensure_state(s))
            return RV_ENOMEM;
        for (uint32_t j = 0; j < s->width; j++)
            s->st[(size_t)i * s->width + j] = rv_reader_f64(in);
    }
    return in->status;
}

rv_status rv_scaler_describe(const rv_object *self, rv_buf *out)
{
    rv_describer d;
    rv_describe_open(&d, out, self);
    if (!((const rv_scaler *)self)->with_std)
        rv_describe_bool(&d, "with_std", 0);
    return rv_describe_close(&d);
}

size_t rv_scaler_memory(const rv_object *self)
{
    const rv_scaler *s = (const rv_scaler *)self;
    return sizeof *s + rv_slots_memory(&s->slots) + (size_t)s->st_cap * s->width * sizeof(double);
}

void rv_scaler_destroy(rv_object *self)
{
    rv_scaler *s = (rv_scaler *)self;
    rv_slots_free(&s->slots);
    free(s->st);
    free(s);
}

void rv_scaler_prefetch(const rv_object *self)
{
    const rv_scaler *s = (const rv_scaler *)self;
    rv_slots_prefetch(&s->slots);
    rv_prefetch_range(s->st, (size_t)s->st_n * s->width * sizeof *s->st);
}
