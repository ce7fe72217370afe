/* Machinery shared by the statistics of src/stats/: allocation of flat
 * (pointer-free) statistics, argument helpers, feature-name fragments, and the
 * ring of the last k values that every rolling statistic keeps.
 *
 * Ring layout (cap = window_size, len <= cap values, head = oldest):
 *
 *     v: [ .. | oldest | next | .. | newest | .. ]   indices mod cap
 *              ^head
 *
 * Saved as: u32 len, then len f64 values oldest first. */
#ifndef RIVULET_STATS_INTERNAL_H
#define RIVULET_STATS_INTERNAL_H

#include "rivulet/stats.h"

#include <stdlib.h>

/* Largest window accepted from arguments or snapshots (64 MiB of doubles). */
#define RV_STAT_MAX_WINDOW 8000000L

/* calloc(size) with o->cls = cls; NULL with err set on OOM. */
rv_object *rv_stat_alloc(const rv_class *cls, size_t size, rv_error *err);
/* malloc + memcpy of a statistic that holds no pointers. */
rv_object *rv_stat_dup(const rv_object *o, size_t size, rv_error *err);
void rv_stat_free_flat(rv_object *o);

/* Copy and memory of a statistic whose struct holds no pointers. */
#define RV_STAT_FLAT(prefix, type)                                                                 \
    static rv_object *prefix##_copy(const rv_object *o, rv_error *err)                            \
    {                                                                                              \
        return rv_stat_dup(o, sizeof(type), err);                                                  \
    }                                                                                              \
    static size_t prefix##_memory(const rv_object *o)                                             \
    {                                                                                              \
        (void)o;                                                                                   \
        return sizeof(type);                                                                       \
    }

/* describe() of a statistic without parameters: "stats.Name()". */
rv_status rv_stat_describe_plain(const rv_object *o, rv_buf *out);
/* create() of a statistic without parameters: checks that a is empty, then
 * the class's own clone() of a bare object of class cls (same fresh state). */
rv_object *rv_stat_create_plain(const rv_class *cls, const rv_args *a, rv_error *err);

/* RV_STAT_FLAT plus clone() for a statistic without parameters whose fresh
 * state is all zeros. */
#define RV_STAT_PLAIN(prefix, type)                                                                \
    RV_STAT_FLAT(prefix, type)                                                                     \
    static rv_object *prefix##_clone(const rv_object *o, rv_error *err)                           \
    {                                                                                              \
        return rv_stat_alloc(o->cls, sizeof(type), err);                                           \
    }

/* The class entries of a statistic, from its prefix_clone, _copy, _save,
 * _load and _memory and the given describe and destroy. */
#define RV_STAT_FUNCS(prefix, describe_fn, destroy_fn)                                             \
    .clone = prefix##_clone, .copy = prefix##_copy, .save = prefix##_save,                         \
    .load = prefix##_load, .describe = describe_fn, .memory = prefix##_memory,                     \
    .destroy = destroy_fn
/* ... of a flat statistic without parameters. */
#define RV_STAT_PLAIN_FUNCS(prefix) RV_STAT_FUNCS(prefix, rv_stat_describe_plain, rv_stat_free_flat)

/* Required window_size argument: an integer in [1, RV_STAT_MAX_WINDOW]. */
rv_status rv_stat_window_arg(const rv_args *a, const char *const *names, long *out, rv_error *err);
/* Appends creme's rolling name: "rolling_<lower>_<k>". */
void rv_stat_rolling_name(rv_buf *out, const char *lower, uint32_t k);
/* Checks that a statistic being loaded has the expected class. */
static inline int rv_stat_is(const rv_object *o, const rv_class *cls) { return o && o->cls == cls; }

/* ===== Ring of the last k values ===== */

typedef struct rv_ring {
    double *v;
    uint32_t cap, len, head;
} rv_ring;

rv_status rv_ring_init(rv_ring *r, uint32_t cap); /* RV_ENOMEM */
void rv_ring_free(rv_ring *r);
rv_status rv_ring_copy(rv_ring *dst, const rv_ring *src); /* dst uninitialised */
static inline int rv_ring_full(const rv_ring *r) { return r->len == r->cap; }
static inline double rv_ring_oldest(const rv_ring *r) { return r->v[r->head]; }
/* The i-th value, oldest first (i < len). */
static inline double rv_ring_at(const rv_ring *r, uint32_t i)
{
    uint32_t j = r->head + i;
    return r->v[j >= r->cap ? j - r->cap : j];
}
/* Appends x, evicting the oldest value when full. */
static inline void rv_ring_push(rv_ring *r, double x)
{
    uint32_t j = r->head + r->len;
    if (j >= r->cap)
        j -= r->cap;
    r->v[j] = x;
    if (r->len == r->cap)
        r->head = r->head + 1 == r->cap ? 0 : r->head + 1;
    else
        r->len++;
}
/* Every rolling statistic (flag RV_STAT_F_ROLLING) starts with this header,
 * which is how rv_stat_window_size finds its window. */
typedef struct rv_rolling_head {
    rv_object obj;
    rv_ring w;
} rv_rolling_head;

void rv_ring_save(const rv_ring *r, rv_buf *out);
/* Reads values saved by rv_ring_save into a ring of the same capacity. */
rv_status rv_ring_load(rv_ring *r, rv_reader *in);

#endif
