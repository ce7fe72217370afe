/* Feature slots: feature names mapped to dense indices in first-seen order.
 *
 * Estimators with per-feature state (scalers, the KNN window's schema) keep
 * that state in arrays indexed by slot, so the hot path never hashes a name.
 *
 *   names:  [ x1 | x2 | x3 | ... ]      slot -> name, first-seen order
 *   index:  rv_map64 name -> slot       only once more than LINEAR_MAX names
 *
 * rv_slots_resolve maps every feature of an event to its slot. Two fast
 * paths cover pipelines, where every event has the same layout:
 *   - identity: the event's names are the first slots' names, in order;
 *   - extension: the same, followed by names never seen (the first event).
 * Both answer with a shared read-only table 0, 1, 2, ... so a window of a
 * thousand KNN models holds no resolution buffer at all. Other layouts fall
 * back to one lookup per feature into a scratch array owned by the slots. */
#include "rivulet/core.h"

#include <stdlib.h>
#include <string.h>

#define LINEAR_MAX 32u

#define I4(b) (b), (b) + 1, (b) + 2, (b) + 3
#define I16(b) I4(b), I4((b) + 4), I4((b) + 8), I4((b) + 12)
#define I64(b) I16(b), I16((b) + 16), I16((b) + 32), I16((b) + 48)
static const uint32_t iota[256] = {I64(0u), I64(64u), I64(128u), I64(192u)};
#define IOTA_N (sizeof iota / sizeof *iota)

void rv_slots_init(rv_slots *s)
{
    memset(s, 0, sizeof *s);
    rv_map64_init(&s->index);
}

void rv_slots_free(rv_slots *s)
{
    free(s->names);
    free(s->scratch);
    rv_map64_free(&s->index);
    rv_slots_init(s);
}

void rv_slots_clear(rv_slots *s)
{
    s->n = 0;
    rv_map64_clear(&s->index);
}

uint32_t rv_slots_find(const rv_slots *s, rv_sym name)
{
    if (s->n <= LINEAR_MAX) {
        for (uint32_t i = 0; i < s->n; i++)
            if (s->names[i] == name)
                return i;
        return RV_SLOT_NONE;
    }
    uint64_t *v = rv_map64_get(&s->index, name);
    return v ? (uint32_t)*v : RV_SLOT_NONE;
}

/* Appends a name known to be absent. */
static uint32_t slots_append(rv_slots *s, rv_sym name)
{
    if (s->n == RV_SLOT_NONE - 1)
        return RV_SLOT_NONE;
    if (s->n == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 4;
        rv_sym *p = realloc(s->names, (size_t)cap * sizeof *p);
        if (!p)
            return RV_SLOT_NONE;
        s->names = p;
        s->cap = cap;
    }
    uint32_t slot = s->n;
    s->names[s->n++] = name;
    if (s->n == LINEAR_MAX + 1) { /* switch to the map: index every name */
        for (uint32_t i = 0; i < s->n; i++)
            if (!rv_map64_put(&s->index, s->names[i], i, NULL))
                goto oom;
    } else if (s->n > LINEAR_MAX && !rv_map64_put(&s->index, name, slot, NULL)) {
        goto oom;
    }
    return slot;
oom:
    s->n--;
    rv_map64_clear(&s->index);
    if (s->n > LINEAR_MAX) /* rebuild what we had; best effort */
        for (uint32_t i = 0; i < s->n; i++)
            rv_map64_put(&s->index, s->names[i], i, NULL);
    return RV_SLOT_NONE;
}

uint32_t rv_slots_add(rv_slots *s, rv_sym name)
{
    uint32_t slot = rv_slots_find(s, name);
    return slot != RV_SLOT_NONE ? slot : slots_append(s, name);
}

static int may_add(int mode, const rv_feature *f)
{
    return mode == RV_SLOTS_ADD || (mode == RV_SLOTS_ADD_NUM && f->kind == RV_NUM);
}

/* Length of the prefix of x whose names are the first slots' names. */
static uint32_t identity_prefix(const rv_slots *s, const rv_event *x)
{
    uint32_t m = x->n < s->n ? x->n : s->n, i = 0;
    const rv_feature *it = x->items;
    const rv_sym *nm = s->names;
    /* four names per test: one branch instead of four on the usual match */
    while (i + 4 <= m && !((it[i].name ^ nm[i]) | (it[i + 1].name ^ nm[i + 1]) |
                           (it[i + 2].name ^ nm[i + 2]) | (it[i + 3].name ^ nm[i + 3])))
        i += 4;
    while (i < m && it[i].name == nm[i])
        i++;
    return i;
}

const uint32_t *rv_slots_resolve(rv_slots *s, const rv_event *x, int mode)
{
    uint32_t pre = identity_prefix(s, x);
    if (pre == x->n && x->n <= IOTA_N)
        return iota;
    /* extension: known prefix then only brand-new, addable names */
    if (pre == s->n && x->n <= IOTA_N && mode != RV_SLOTS_FIND) {
        uint32_t i = pre;
        for (; i < x->n; i++) {
            const rv_feature *f = &x->items[i];
            if (!may_add(mode, f) || rv_slots_find(s, f->name) != RV_SLOT_NONE)
                break; /* not addable, or a repeated name: take the slow path */
            if (slots_append(s, f->name) == RV_SLOT_NONE)
                return NULL;
        }
        if (i == x->n)
            return iota;
    }
    if (x->n > s->scratch_cap) {
        uint32_t *p = realloc(s->scratch, (size_t)x->n * sizeof *p);
        if (!p)
            return NULL;
        s->scratch = p;
        s->scratch_cap = x->n;
    }
    for (uint32_t i = 0; i < x->n; i++) {
        const rv_feature *f = &x->items[i];
        uint32_t slot = i < pre ? i : rv_slots_find(s, f->name);
        if (slot == RV_SLOT_NONE && may_add(mode, f) &&
            (slot = slots_append(s, f->name)) == RV_SLOT_NONE)
            return NULL;
        s->scratch[i] = slot;
    }
    return s->scratch;
}

size_t rv_slots_memory(const rv_slots *s)
{
    return (size_t)s->cap * sizeof *s->names + (size_t)s->scratch_cap * sizeof *s->scratch +
           (size_t)s->index.cap * 17;
}
