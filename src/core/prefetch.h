/* Software prefetch of estimator state (rv_estimator_prefetch, core.h).
 *
 * A keyed family holds one model per series, and thousands of them are far
 * larger than the caches: each row then starts with cache and TLB misses on
 * its model's dozen or so allocations, one after the other, as the code
 * reaches them. A caller that knows the next row's model asks it to
 * prefetch; each class starts the loads of its own arrays here, and the
 * misses overlap with the current row's work. Only pointers and sizes are
 * read; nothing is written, and values never change. */
#ifndef RIVULET_CORE_PREFETCH_H
#define RIVULET_CORE_PREFETCH_H

#include "rivulet/core.h"

#define RV_CACHE_LINE 64
/* Arrays are prefetched up to this many bytes: a larger state gains little
 * from a hint, and would evict what the current row is using. */
#define RV_PREFETCH_MAX 16384

/* Every cache line of [p, p + n), n capped at RV_PREFETCH_MAX (nothing for
 * p NULL). */
static inline void rv_prefetch_range(const void *p, size_t n)
{
    if (!p)
        return;
    uintptr_t a = (uintptr_t)p & ~(uintptr_t)(RV_CACHE_LINE - 1);
    uintptr_t end = (uintptr_t)p + (n < RV_PREFETCH_MAX ? n : RV_PREFETCH_MAX);
    for (; a < end; a += RV_CACHE_LINE)
        __builtin_prefetch((const void *)a);
}

/* The names rv_slots_find_at and rv_slots_resolve compare. */
static inline void rv_slots_prefetch(const rv_slots *s)
{
    rv_prefetch_range(s->names, s->n * sizeof *s->names);
}

#endif
