/* Hash maps.
 *
 * rv_map64: open addressing with linear probing over parallel key/value
 * arrays, load factor at most 1/2, deletion by backward shift (no
 * tombstones), keys hashed with a 64-bit finalizer.
 *
 * rv_strmap: an insertion-ordered entry array plus an index of slots (entry
 * number + 1, 0 = empty, DEAD = deleted), like CPython's compact dict, so
 * that iteration follows insertion order. */
#include "rivulet/core.h"

#include <stdlib.h>
#include <string.h>

/* ===== rv_map64 ===== */

void rv_map64_init(rv_map64 *m) { memset(m, 0, sizeof *m); }

void rv_map64_free(rv_map64 *m)
{
    free(m->keys);
    free(m->vals);
    free(m->used);
    memset(m, 0, sizeof *m);
}

void rv_map64_clear(rv_map64 *m)
{
    if (m->used)
        memset(m->used, 0, m->cap);
    m->n = 0;
}

static uint32_t find64(const rv_map64 *m, uint64_t key, int *found)
{
    uint32_t mask = m->cap - 1, i = (uint32_t)rv_hash_u64(key) & mask;
    while (m->used[i]) {
        if (m->keys[i] == key) {
            *found = 1;
            return i;
        }
        i = (i + 1) & mask;
    }
    *found = 0;
    return i;
}

uint64_t *rv_map64_get(const rv_map64 *m, uint64_t key)
{
    if (!m->n)
        return NULL;
    int found;
    uint32_t i = find64(m, key, &found);
    return found ? &m->vals[i] : NULL;
}

static int rehash64(rv_map64 *m, uint32_t cap)
{
    rv_map64 nm = {calloc(cap, 8), calloc(cap, 8), calloc(cap, 1), 0, cap};
    if (!nm.keys || !nm.vals || !nm.used) {
        rv_map64_free(&nm);
        return -1;
    }
    for (uint32_t i = 0; i < m->cap; i++)
        if (m->used[i]) {
            int found;
            uint32_t j = find64(&nm, m->keys[i], &found);
            nm.used[j] = 1;
            nm.keys[j] = m->keys[i];
            nm.vals[j] = m->vals[i];
            nm.n++;
        }
    rv_map64_free(m);
    *m = nm;
    return 0;
}

uint64_t *rv_map64_put(rv_map64 *m, uint64_t key, uint64_t init, int *inserted)
{
    if ((m->n + 1) * 2 > m->cap && rehash64(m, m->cap ? m->cap * 2 : 8))
        return NULL;
    int found;
    uint32_t i = find64(m, key, &found);
    if (inserted)
        *inserted = !found;
    if (!found) {
        m->used[i] = 1;
        m->keys[i] = key;
        m->vals[i] = init;
        m->n++;
    }
    return &m->vals[i];
}

int rv_map64_del(rv_map64 *m, uint64_t key)
{
    if (!m->n)
        return 0;
    int found;
    uint32_t mask = m->cap - 1, i = find64(m, key, &found);
    if (!found)
        return 0;
    m->used[i] = 0;
    m->n--;
    /* backward shift: pull later members of the probe run into the hole */
    for (uint32_t j = (i + 1) & mask; m->used[j]; j = (j + 1) & mask) {
        uint32_t home = (uint32_t)rv_hash_u64(m->keys[j]) & mask;
        int movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
        if (movable) {
            m->keys[i] = m->keys[j];
            m->vals[i] = m->vals[j];
            m->used[i] = 1;
            m->used[j] = 0;
            i = j;
        }
    }
    return 1;
}

/* ===== rv_strmap ===== */

#define DEAD UINT32_MAX

uint64_t rv_hash_bytes(const void *p, size_t n)
{
    /* FNV-1a over 8-byte words, finished with the 64-bit mixer */
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ULL ^ n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        h = (h ^ w) * 0x100000001b3ULL;
        h ^= h >> 29;
        b += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, b, n);
    h = (h ^ w) * 0x100000001b3ULL;
    return rv_hash_u64(h);
}

void rv_strmap_init(rv_strmap *m) { memset(m, 0, sizeof *m); }

void rv_strmap_free(rv_strmap *m)
{
    for (uint32_t i = 0; i < m->n; i++)
        free(m->entries[i].key);
    free(m->entries);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static uint32_t findstr(const rv_strmap *m, const char *key, size_t len, uint64_t h, int *found)
{
    uint32_t mask = m->cap - 1, i = (uint32_t)h & mask, first_dead = DEAD;
    for (;;) {
        uint32_t s = m->slots[i];
        if (s == 0)
            break;
        if (s == DEAD) {
            if (first_dead == DEAD)
                first_dead = i;
        } else {
            const struct rv_strmap_entry *e = &m->entries[s - 1];
            if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0) {
                *found = 1;
                return i;
            }
        }
        i = (i + 1) & mask;
    }
    *found = 0;
    return first_dead != DEAD ? first_dead : i;
}

uint64_t *rv_strmap_get(const rv_strmap *m, const char *key, size_t len)
{
    if (!m->cap)
        return NULL;
    int found;
    uint32_t i = findstr(m, key, len, rv_hash_bytes(key, len), &found);
    return found ? &m->entries[m->slots[i] - 1].val : NULL;
}

static int reindex(rv_strmap *m, uint32_t cap)
{
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    for (uint32_t k = 0; k < m->n; k++) {
        if (!m->entries[k].key)
            continue;
        uint32_t i = (uint32_t)m->entries[k].hash & (cap - 1);
        while (slots[i])
            i = (i + 1) & (cap - 1);
        slots[i] = k + 1;
    }
    return 0;
}

uint64_t *rv_strmap_put(rv_strmap *m, const char *key, size_t len, uint64_t init, int *inserted)
{
    if ((m->n + 1) * 2 > m->cap && reindex(m, m->cap ? m->cap * 2 : 16))
        return NULL;
    uint64_t h = rv_hash_bytes(key, len);
    int found;
    uint32_t i = findstr(m, key, len, h, &found);
    if (inserted)
        *inserted = !found;
    if (found)
        return &m->entries[m->slots[i] - 1].val;
    if (m->n == m->ecap) {
        uint32_t ecap = m->ecap ? m->ecap * 2 : 8;
        struct rv_strmap_entry *e = realloc(m->entries, ecap * sizeof *e);
        if (!e)
            return NULL;
        m->entries = e;
        m->ecap = ecap;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, key, len);
    copy[len] = '\0';
    struct rv_strmap_entry *e = &m->entries[m->n];
    e->key = copy;
    e->len = (uint32_t)len;
    e->hash = h;
    e->val = init;
    m->slots[i] = ++m->n;
    return &e->val;
}

int rv_strmap_del(rv_strmap *m, const char *key, size_t len)
{
    if (!m->cap)
        return 0;
    int found;
    uint32_t i = findstr(m, key, len, rv_hash_bytes(key, len), &found);
    if (!found)
        return 0;
    struct rv_strmap_entry *e = &m->entries[m->slots[i] - 1];
    free(e->key);
    e->key = NULL;
    m->slots[i] = DEAD;
    m->ndead++;
    return 1;
}

uint32_t rv_strmap_size(const rv_strmap *m) { return m->n - m->ndead; }
uint32_t rv_strmap_capacity_used(const rv_strmap *m) { return m->n; }

const char *rv_strmap_key_at(const rv_strmap *m, uint32_t i, uint32_t *len)
{
    if (i >= m->n)
        return NULL;
    if (len)
        *len = m->entries[i].len;
    return m->entries[i].key;
}

uint64_t *rv_strmap_val_at(rv_strmap *m, uint32_t i) { return i < m->n ? &m->entries[i].val : NULL; }
