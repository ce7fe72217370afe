/* Group tables and group keys (see groups.h and features.h).
 *
 * A key is folded from the `by` features in order:
 *     h = mix(h ^ tag ^ part)   with part = hash(bytes) for strings,
 *                                      bits(x) for numbers (NaN canonical),
 *                                      a constant for a missing feature.
 * The tag keeps "1" (a string) and 1.0 (a number) apart. Lookups scan the
 * key array while it is short: for a handful of groups that is a few
 * compares on one cache line, cheaper than hashing again. */
#include "features/groups.h"
#include "rivulet/features.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

uint64_t rv_group_key(const rv_event *x, const rv_sym *by, uint32_t nby)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (uint32_t i = 0; i < nby; i++) {
        const rv_feature *f = rv_event_get(x, by[i]);
        uint64_t part;
        if (!f)
            part = 0x5bd1e9955bd1e995ULL;
        else if (f->kind == RV_STR)
            part = rv_hash_bytes(f->str, f->len) ^ 0x2545f4914f6cdd1dULL;
        else {
            double v = isnan(f->num) ? NAN : f->num;
            memcpy(&part, &v, sizeof part);
        }
        h = rv_hash_u64(h ^ part) + i;
    }
    return h;
}

void rv_groups_init(rv_groups *g) { memset(g, 0, sizeof *g); }

void rv_groups_free(rv_groups *g)
{
    free(g->keys);
    free(g->index);
    memset(g, 0, sizeof *g);
}

static uint32_t slot_of(uint64_t key, uint32_t icap) { return (uint32_t)(key ^ (key >> 32)) & (icap - 1); }

int64_t rv_groups_find(const rv_groups *g, uint64_t key)
{
    if (!g->index) {
        for (uint32_t i = 0; i < g->n; i++)
            if (g->keys[i] == key)
                return i;
        return -1;
    }
    for (uint32_t s = slot_of(key, g->icap);; s = (s + 1) & (g->icap - 1)) {
        uint32_t e = g->index[s];
        if (!e)
            return -1;
        if (g->keys[e - 1] == key)
            return e - 1;
    }
}

static int reindex(rv_groups *g, uint32_t icap)
{
    uint32_t *index = calloc(icap, sizeof *index);
    if (!index)
        return -1;
    for (uint32_t i = 0; i < g->n; i++) {
        uint32_t s = slot_of(g->keys[i], icap);
        while (index[s])
            s = (s + 1) & (icap - 1);
        index[s] = i + 1;
    }
    free(g->index);
    g->index = index;
    g->icap = icap;
    return 0;
}

uint32_t rv_groups_next_cap(const rv_groups *g)
{
    return g->cap < RV_GROUPS_SCAN ? g->cap + 1 : g->cap + g->cap / 2;
}

int64_t rv_groups_add(rv_groups *g, uint64_t key)
{
    if (g->n == UINT32_MAX - 1)
        return -1;
    if (g->n == g->cap) {
        uint32_t cap = rv_groups_next_cap(g);
        uint64_t *keys = realloc(g->keys, cap * sizeof *keys);
        if (!keys)
            return -1;
        g->keys = keys;
        g->cap = cap;
    }
    g->keys[g->n++] = key;
    if (g->n > RV_GROUPS_SCAN && (uint64_t)g->n * 2 > g->icap) {
        uint32_t icap = 64;
        while (icap < g->n * 2u)
            icap *= 2;
        if (reindex(g, icap)) {
            g->n--;
            return -1;
        }
    } else if (g->index) {
        uint32_t s = slot_of(key, g->icap);
        while (g->index[s])
            s = (s + 1) & (g->icap - 1);
        g->index[s] = g->n;
    }
    return g->n - 1;
}

rv_status rv_groups_copy(rv_groups *dst, const rv_groups *src)
{
    rv_groups_init(dst);
    if (src->cap) {
        dst->keys = malloc(src->cap * sizeof *dst->keys);
        if (!dst->keys)
            return RV_ENOMEM;
        memcpy(dst->keys, src->keys, src->n * sizeof *dst->keys);
    }
    dst->n = src->n;
    dst->cap = src->cap;
    if (src->index) {
        dst->index = malloc(src->icap * sizeof *dst->index);
        if (!dst->index) {
            rv_groups_free(dst);
            return RV_ENOMEM;
        }
        memcpy(dst->index, src->index, src->icap * sizeof *dst->index);
        dst->icap = src->icap;
    }
    return RV_OK;
}

size_t rv_groups_memory(const rv_groups *g)
{
    return g->cap * sizeof *g->keys + g->icap * sizeof *g->index;
}
