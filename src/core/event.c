/* Events: insertion-ordered features, as Python dicts keep them. Lookups are
 * linear scans while an event holds at most RV_EVENT_SCAN_MAX features (tens
 * is the usual size, and a scan of a few cache lines beats hashing there).
 * Past that, every change keeps a hash index of the names whole, so that a
 * client's event of 200,000 features costs linear time, not quadratic (it
 * took 19 s and held a worker). rv_event_get only reads the index, so
 * threads may share a const event. The index holds only positions (4 bytes
 * a slot; the names are the items'), where rv_map64 would copy every key and
 * value beside them. */
#include "rivulet/core.h"

#include <stdlib.h>
#include <string.h>

void rv_event_init(rv_event *e)
{
    memset(e, 0, sizeof *e);
    rv_arena_init(&e->strings);
}

void rv_event_free(rv_event *e)
{
    free(e->items);
    free(e->slots);
    rv_arena_free(&e->strings);
    memset(e, 0, sizeof *e);
}

void rv_event_clear(rv_event *e)
{
    e->n = 0; /* the index is rebuilt when the event next grows past RV_EVENT_SCAN_MAX */
    rv_arena_reset(&e->strings);
}

static uint32_t slot_of(rv_sym name, uint32_t cap)
{
    return (uint32_t)(name * 2654435761u) & (cap - 1);
}

/* The index slot holding name, or the empty slot where it would go. */
static uint32_t probe(const rv_event *e, rv_sym name)
{
    uint32_t i = slot_of(name, e->slot_cap);
    while (e->slots[i] && e->items[e->slots[i] - 1].name != name)
        i = (i + 1) & (e->slot_cap - 1);
    return i;
}

static void index_put(rv_event *e, uint32_t pos)
{
    uint32_t i = probe(e, e->items[pos].name);
    if (!e->slots[i]) /* a pushed duplicate: lookups find the first, as a scan does */
        e->slots[i] = pos + 1;
}

/* Makes the index cover all n items (a table at most half full), or frees it
 * when the event is small again. */
static rv_status reindex(rv_event *e)
{
    if (e->n <= RV_EVENT_SCAN_MAX) {
        free(e->slots);
        e->slots = NULL;
        e->slot_cap = 0;
        return RV_OK;
    }
    uint32_t cap = 64;
    while (cap < 2 * e->n)
        cap *= 2;
    if (cap != e->slot_cap) {
        uint32_t *p = malloc(cap * sizeof *p);
        if (!p)
            return RV_ENOMEM;
        free(e->slots);
        e->slots = p;
        e->slot_cap = cap;
    }
    memset(e->slots, 0, cap * sizeof *e->slots);
    for (uint32_t i = 0; i < e->n; i++)
        index_put(e, i);
    return RV_OK;
}

/* Appends a feature named name (its value unset) and indexes it. */
static rv_feature *append(rv_event *e, rv_sym name)
{
    if (e->n == e->cap) {
        uint32_t cap = e->cap ? e->cap * 2 : 16;
        rv_feature *p = realloc(e->items, cap * sizeof *p);
        if (!p)
            return NULL;
        e->items = p;
        e->cap = cap;
    }
    rv_feature *f = &e->items[e->n++];
    f->name = name;
    if (e->n > RV_EVENT_SCAN_MAX) {
        if (e->n == RV_EVENT_SCAN_MAX + 1 || !e->slots || 2 * e->n > e->slot_cap) {
            if (reindex(e) != RV_OK) {
                e->n--;
                return NULL;
            }
        } else {
            index_put(e, e->n - 1);
        }
    }
    return f;
}

static rv_feature *find(const rv_event *e, rv_sym name)
{
    if (e->n > RV_EVENT_SCAN_MAX && e->slots) {
        uint32_t i = probe(e, name);
        return e->slots[i] ? &e->items[e->slots[i] - 1] : NULL;
    }
    for (uint32_t i = 0; i < e->n; i++)
        if (e->items[i].name == name)
            return &e->items[i];
    return NULL;
}

static rv_feature *find_or_add(rv_event *e, rv_sym name)
{
    rv_feature *f = find(e, name);
    return f ? f : append(e, name);
}

static void fill_num(rv_feature *f, double x)
{
    f->kind = RV_NUM;
    f->num = x;
    f->str = NULL;
    f->len = 0;
}

static void fill_str(rv_feature *f, const char *s, size_t len)
{
    f->kind = RV_STR;
    f->num = 0;
    f->str = s;
    f->len = (uint32_t)len;
}

rv_status rv_event_set_num(rv_event *e, rv_sym name, double x)
{
    rv_feature *f = find_or_add(e, name);
    if (!f)
        return RV_ENOMEM;
    fill_num(f, x);
    return RV_OK;
}

rv_status rv_event_set_str(rv_event *e, rv_sym name, const char *s, size_t len)
{
    rv_feature *f = find_or_add(e, name);
    if (!f)
        return RV_ENOMEM;
    fill_str(f, s, len);
    return RV_OK;
}

rv_status rv_event_set_str_copy(rv_event *e, rv_sym name, const char *s, size_t len)
{
    char *copy = rv_arena_strdup(&e->strings, s, len);
    if (!copy)
        return RV_ENOMEM;
    return rv_event_set_str(e, name, copy, len);
}

rv_status rv_event_set_value(rv_event *e, rv_sym name, const rv_value *v)
{
    if (v->kind == RV_STR)
        return rv_event_set_str(e, name, v->str, v->len);
    return rv_event_set_num(e, name, v->num);
}

rv_status rv_event_push_num(rv_event *e, rv_sym name, double x)
{
    rv_feature *f = append(e, name);
    if (!f)
        return RV_ENOMEM;
    fill_num(f, x);
    return RV_OK;
}

rv_status rv_event_push_str(rv_event *e, rv_sym name, const char *s, size_t len)
{
    rv_feature *f = append(e, name);
    if (!f)
        return RV_ENOMEM;
    fill_str(f, s, len);
    return RV_OK;
}

const rv_feature *rv_event_get(const rv_event *e, rv_sym name)
{
    return find(e, name);
}

int rv_event_remove(rv_event *e, rv_sym name)
{
    rv_feature *f = find(e, name);
    if (!f)
        return 0;
    uint32_t i = (uint32_t)(f - e->items);
    memmove(&e->items[i], &e->items[i + 1], (e->n - i - 1) * sizeof *e->items);
    e->n--;
    if (e->slots && reindex(e) != RV_OK) { /* positions moved; a scan is right meanwhile */
        free(e->slots);
        e->slots = NULL;
        e->slot_cap = 0;
    }
    return 1;
}

rv_status rv_event_assign(rv_event *dst, const rv_event *src)
{
    if (dst == src)
        return RV_OK;
    rv_event_clear(dst);
    if (src->n > dst->cap) {
        rv_feature *p = realloc(dst->items, src->n * sizeof *p);
        if (!p)
            return RV_ENOMEM;
        dst->items = p;
        dst->cap = src->n;
    }
    if (src->n)
        memcpy(dst->items, src->items, src->n * sizeof *src->items);
    dst->n = src->n;
    return dst->n > RV_EVENT_SCAN_MAX ? reindex(dst) : RV_OK;
}

rv_status rv_event_copy(rv_event *dst, const rv_event *src)
{
    if (dst == src)
        return RV_OK;
    if (rv_event_assign(dst, src))
        return RV_ENOMEM;
    for (uint32_t i = 0; i < dst->n; i++) {
        rv_feature *f = &dst->items[i];
        if (f->kind == RV_STR) {
            char *copy = rv_arena_strdup(&dst->strings, f->str ? f->str : "", f->len);
            if (!copy)
                return RV_ENOMEM;
            f->str = copy;
        }
    }
    return RV_OK;
}

rv_value rv_feature_value(const rv_feature *f)
{
    rv_value v = {f->num, f->str, f->len, f->kind};
    return v;
}
