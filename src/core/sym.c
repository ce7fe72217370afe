/* Symbol interning: feature names become small integers once, so the hot
 * path compares integers instead of strings.
 *
 * Layout: names live in a two-level table (chunks of 4096 pointers under a
 * fixed directory), so a published name pointer never moves and readers need
 * no lock; writers take a mutex. A string map from name to symbol serves
 * intern and lookup. Symbols are never freed: the set of feature names in a
 * process is small and bounded by the data's schema. */
#include "rivulet/core.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_BITS 12
#define CHUNK_SIZE (1u << CHUNK_BITS)
#define DIR_SIZE 65536u

typedef struct sym_entry {
    char *name;
    size_t len;
} sym_entry;

static _Atomic(sym_entry *) sym_dir[DIR_SIZE];
static rv_strmap sym_index;
static atomic_uint sym_next = 1; /* 0 is RV_SYM_NONE */
static pthread_mutex_t sym_lock = PTHREAD_MUTEX_INITIALIZER;

static sym_entry *sym_slot(rv_sym s)
{
    sym_entry *chunk = atomic_load_explicit(&sym_dir[s >> CHUNK_BITS], memory_order_acquire);
    return chunk ? &chunk[s & (CHUNK_SIZE - 1)] : NULL;
}

rv_sym rv_sym_lookup(const char *s, size_t len)
{
    pthread_mutex_lock(&sym_lock);
    uint64_t *v = rv_strmap_get(&sym_index, s, len);
    rv_sym out = v ? (rv_sym)*v : RV_SYM_NONE;
    pthread_mutex_unlock(&sym_lock);
    return out;
}

rv_sym rv_sym_intern(const char *s, size_t len)
{
    rv_sym out = RV_SYM_NONE;
    pthread_mutex_lock(&sym_lock);
    uint64_t *v = rv_strmap_get(&sym_index, s, len);
    if (v) {
        out = (rv_sym)*v;
        goto done;
    }
    unsigned id = atomic_load(&sym_next);
    if ((id >> CHUNK_BITS) >= DIR_SIZE)
        goto done;
    sym_entry *chunk = atomic_load(&sym_dir[id >> CHUNK_BITS]);
    if (!chunk) {
        chunk = calloc(CHUNK_SIZE, sizeof *chunk);
        if (!chunk)
            goto done;
        atomic_store_explicit(&sym_dir[id >> CHUNK_BITS], chunk, memory_order_release);
    }
    char *copy = malloc(len + 1);
    if (!copy)
        goto done;
    memcpy(copy, s, len);
    copy[len] = '\0';
    int inserted;
    if (!rv_strmap_put(&sym_index, s, len, id, &inserted)) {
        free(copy);
        goto done;
    }
    chunk[id & (CHUNK_SIZE - 1)].name = copy;
    chunk[id & (CHUNK_SIZE - 1)].len = len;
    atomic_store_explicit(&sym_next, id + 1, memory_order_release);
    out = id;
done:
    pthread_mutex_unlock(&sym_lock);
    return out;
}

rv_sym rv_sym_intern_cstr(const char *s) { return rv_sym_intern(s, strlen(s)); }

const char *rv_sym_name(rv_sym s)
{
    if (s == RV_SYM_NONE || s >= atomic_load_explicit(&sym_next, memory_order_acquire))
        return "";
    sym_entry *e = sym_slot(s);
    return e && e->name ? e->name : "";
}

size_t rv_sym_len(rv_sym s)
{
    if (s == RV_SYM_NONE || s >= atomic_load_explicit(&sym_next, memory_order_acquire))
        return 0;
    sym_entry *e = sym_slot(s);
    return e ? e->len : 0;
}

size_t rv_sym_count(void) { return atomic_load(&sym_next) - 1; }
