/* Events: insertion-ordered features, as Python dicts keep them. Lookups are
 * linear scans: events hold tens of features, and a scan of a few cache lines
 * beats hashing at that size. */
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
    rv_arena_free(&e->strings);
    memset(e, 0, sizeof *e);
}

void rv_event_clear(rv_event *e)
{
    e->n = 0;
    rv_arena_reset(&e->strings);
}

static rv_feature *grow(rv_event *e)
{
    if (e->n == e->cap) {
        uint32_t cap = e->cap ? e->cap * 2 : 16;
        rv_feature *p = realloc(e->items, cap * sizeof *p);
        if (!p)
            return NULL;
        e->items = p;
        e->cap = cap;
    }
    return &e->items[e->n++];
}

static rv_feature *find_or_add(rv_event *e, rv_sym name)
{
    for (uint32_t i = 0; i < e->n; i++)
        if (e->items[i].name == name)
            return &e->items[i];
    rv_feature *f = grow(e);
    if (f)
        f->name = name;
    return f;
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
    rv_feature *f = grow(e);
    if (!f)
        return RV_ENOMEM;
    f->name = name;
    fill_num(f, x);
    return RV_OK;
}

rv_status rv_event_push_str(rv_event *e, rv_sym name, const char *s, size_t len)
{
    rv_feature *f = grow(e);
    if (!f)
        return RV_ENOMEM;
    f->name = name;
    fill_str(f, s, len);
    return RV_OK;
}

const rv_feature *rv_event_get(const rv_event *e, rv_sym name)
{
    for (uint32_t i = 0; i < e->n; i++)
        if (e->items[i].name == name)
            return &e->items[i];
    return NULL;
}

int rv_event_remove(rv_event *e, rv_sym name)
{
    for (uint32_t i = 0; i < e->n; i++)
        if (e->items[i].name == name) {
            memmove(&e->items[i], &e->items[i + 1], (e->n - i - 1) * sizeof *e->items);
            e->n--;
            return 1;
        }
    return 0;
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
    return RV_OK;
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
