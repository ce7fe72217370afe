/* Shared plumbing of the per-feature scalers (StandardScaler, MinMaxScaler,
 * MaxAbsScaler): state is `width` doubles per feature slot, slots follow
 * first-seen order (rv_slots), and clone/copy/save/load/memory/destroy are
 * the same for all three. Each scaler's own file holds its math. */
#ifndef RIVULET_PREPROCESSING_SCALER_H
#define RIVULET_PREPROCESSING_SCALER_H

#include "rivulet/core.h"

#include <string.h>

typedef struct rv_scaler {
    rv_object base;
    rv_slots slots;     /* numeric features ever learned */
    double *st;         /* width doubles per slot, slot-major */
    uint32_t st_n;      /* slots whose state is initialised */
    uint32_t st_cap;    /* slots the st array can hold */
    uint32_t width;     /* doubles of state per feature (<= RV_SCALER_MAX_WIDTH) */
    const double *init; /* state of a feature never learned */
    int with_std;       /* StandardScaler's parameter; unused by the others */
} rv_scaler;

#define RV_SCALER_MAX_WIDTH 4

/* A fresh scaler of class cls (NULL on OOM). */
rv_scaler *rv_scaler_alloc(const rv_class *cls, uint32_t width, const double *init);
/* create of every scaler: checks args against params, then a fresh scaler
 * (NULL with err set). The caller reads its own arguments after. */
rv_scaler *rv_scaler_create(const rv_class *cls, const rv_args *args, const char *const *params,
                            uint32_t width, const double *init, rv_error *err);
/* Slots of x for learning: numeric features never seen get a slot and the
 * initial state. NULL on OOM. */
const uint32_t *rv_scaler_learn_slots(rv_scaler *s, const rv_event *x);
/* Per-feature learning rule: updates one feature's state st with value v. */
typedef void (*rv_scaler_update_fn)(double *st, double v);
/* learn of every scaler: u on the state of each numeric feature of x.
 * Inline so that the compiler can call u directly on the hot path. */
static inline rv_status rv_scaler_learn(rv_scaler *s, const rv_event *x, rv_scaler_update_fn u,
                                        rv_error *err)
{
    const uint32_t *slots = rv_scaler_learn_slots(s, x);
    if (!slots)
        return rv_error_set(err, RV_ENOMEM, "%s: out of memory", s->base.cls->name);
    for (uint32_t i = 0; i < x->n; i++)
        if (x->items[i].kind == RV_NUM)
            u(s->st + (size_t)slots[i] * s->width, x->items[i].num);
    return RV_OK;
}
/* A learning rule that says whether it changed st. */
typedef int (*rv_scaler_change_fn)(double *st, double v);
/* Whether learning x would add a feature or change a state (reads only). */
static inline int rv_scaler_would_change(const rv_scaler *s, const rv_event *x, rv_scaler_change_fn u)
{
    for (uint32_t i = 0; i < x->n; i++) {
        if (x->items[i].kind != RV_NUM)
            continue;
        uint32_t slot = rv_slots_find_at(&s->slots, x, i);
        if (slot == RV_SLOT_NONE)
            return 1;
        double st[RV_SCALER_MAX_WIDTH];
        memcpy(st, s->st + (size_t)slot * s->width, s->width * sizeof *st);
        if (u(st, x->items[i].num))
            return 1;
    }
    return 0;
}
/* learn of a scaler flagged RV_F_COUNTS_CHANGES: like rv_scaler_learn, and
 * counts rv_state_changes once if a feature was new or u changed a state.
 * Frozen (rv_state_frozen), it writes nothing: it refuses if it would
 * change something, else succeeds, having learned what it already knew. */
static inline rv_status rv_scaler_learn_counting(rv_scaler *s, const rv_event *x, rv_scaler_change_fn u,
                                                 rv_error *err)
{
    if (rv_state_frozen)
        return rv_scaler_would_change(s, x, u) ? rv_state_refuse(&s->base, err) : RV_OK;
    uint32_t known = s->slots.n;
    const uint32_t *slots = rv_scaler_learn_slots(s, x);
    if (!slots)
        return rv_error_set(err, RV_ENOMEM, "%s: out of memory", s->base.cls->name);
    int changed = s->slots.n != known;
    for (uint32_t i = 0; i < x->n; i++)
        if (x->items[i].kind == RV_NUM)
            changed |= u(s->st + (size_t)slots[i] * s->width, x->items[i].num);
    rv_state_changes += changed != 0;
    return RV_OK;
}
/* State of the feature in slot (the initial state for RV_SLOT_NONE). */
static inline const double *rv_scaler_state(const rv_scaler *s, uint32_t slot)
{
    return slot == RV_SLOT_NONE ? s->init : s->st + (size_t)slot * s->width;
}
/* Writes x into out with every numeric value replaced by f(state, value);
 * strings pass through unchanged (borrowed from x). */
typedef double (*rv_scaler_fn)(const rv_scaler *s, const double *st, double v);
/* Inline so that f is called directly; out starts as a shallow copy of x
 * (one memcpy), then each numeric value is replaced in place. */
static inline rv_status rv_scaler_transform(rv_scaler *s, const rv_event *x, rv_event *out,
                                            rv_scaler_fn f, rv_error *err)
{
    if (rv_event_assign(out, x))
        return rv_error_set(err, RV_ENOMEM, "%s: out of memory", s->base.cls->name);
    for (uint32_t i = 0; i < x->n; i++) {
        rv_feature *ft = &out->items[i];
        if (ft->kind == RV_NUM)
            ft->num = f(s, rv_scaler_state(s, rv_slots_find_at(&s->slots, x, i)), ft->num);
    }
    return RV_OK;
}

/* Generic class operations. */
rv_object *rv_scaler_clone(const rv_object *self, rv_error *err);
rv_object *rv_scaler_copy(const rv_object *self, rv_error *err);
rv_status rv_scaler_save(const rv_object *self, rv_buf *out);
rv_status rv_scaler_load(rv_object *self, rv_reader *in);
/* River text; with_std=False is written when unset (only StandardScaler has it). */
rv_status rv_scaler_describe(const rv_object *self, rv_buf *out);
size_t rv_scaler_memory(const rv_object *self);
/* The estimator ops' prefetch of every scaler: slot names and state. */
void rv_scaler_prefetch(const rv_object *self);
void rv_scaler_destroy(rv_object *self);

/* The class operations above, for the rv_class of each scaler. */
#define RV_SCALER_CLASS_OPS                                                                        \
    .clone = rv_scaler_clone, .copy = rv_scaler_copy, .save = rv_scaler_save,                     \
    .load = rv_scaler_load, .describe = rv_scaler_describe, .memory = rv_scaler_memory,           \
    .destroy = rv_scaler_destroy

/* creme's safe_div: a when b == 0, else a / b (preprocessing/scale.py L20). */
static inline double rv_safe_div(double a, double b) { return b == 0 ? a : a / b; }

#endif
