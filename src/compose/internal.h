/* Shared internals of the compose layer. */
#ifndef RIVULET_COMPOSE_INTERNAL_H
#define RIVULET_COMPOSE_INTERNAL_H

#include "rivulet/core.h"

/* Scratch events: a per-thread stack of events that keep their capacity, so
 * that pipelines and unions transform without allocating in steady state and
 * without holding per-instance buffers (thousands of keyed pipelines share
 * them). Pointers returned stay valid until popped. */
rv_event *rv_scratch_push(void);      /* NULL on OOM */
void rv_scratch_pop(uint32_t n);

/* Learning of a union's parts, as a pipeline drives it: supervised parts with
 * (x, y), or unsupervised parts with x alone. */
enum { RV_PARTS_SUPERVISED = 1, RV_PARTS_UNSUPERVISED = 2 };
rv_status rv_union_learn_parts(rv_object *u, const rv_event *x, const rv_value *y, int which,
                               rv_error *err);
int rv_union_has_parts(const rv_object *u, int which);
/* The group keys of a union's fused blocks, computed by a transform and
 * reused by the supervised learn of the same event (n = 0: not kept). */
enum { RV_UNION_KEYS = 4 };
typedef struct rv_union_keys {
    uint32_t n;
    uint64_t key[RV_UNION_KEYS];
} rv_union_keys;
/* transform, keeping the blocks' group keys of x in k */
rv_status rv_union_transform_keys(rv_object *u, const rv_event *x, rv_event *out, rv_union_keys *k,
                                  rv_error *err);
/* rv_union_learn_parts(u, x, y, RV_PARTS_SUPERVISED) for the x that k was
 * computed from: the keys are not computed again */
rv_status rv_union_learn_sup_keys(rv_object *u, const rv_event *x, const rv_value *y,
                                  const rv_union_keys *k, rv_error *err);

/* A class variant with the same behaviour and different flags (pipelines and
 * unions take theirs from their steps). */
const rv_class *rv_class_variant(const rv_class *base, rv_class *table, unsigned flags);

/* A family's members, saved and loaded on several threads (family_io.c).
 * save writes u32 count, then per member its key and state (u32 length +
 * the class's save). load calls install(ctx, key, len, model, in) in input
 * order; install owns model, and on failure (non-zero) has set in's error
 * (duplicate key) or returns RV_ENOMEM. */
typedef int (*rv_family_install)(void *ctx, const char *key, uint32_t len, rv_object *model,
                                 rv_reader *in);
rv_status rv_family_save_members(rv_strmap *members, rv_buf *out);
rv_status rv_family_load_members(const rv_object *proto, rv_reader *in, rv_family_install install,
                                 void *ctx);

/* A part's state framed as u32 length + the class's save, written in place
 * (the length patched in after): no per-part buffer, which matters at 30,490
 * pipelines. Pipelines and unions save their steps and parts this way.
 * save returns RV_OK, RV_ENOMEM or RV_EINVAL (state over 4 GiB). load returns
 * RV_ENOMEM, RV_EINVAL when o rejects its bytes or leaves some unread (the
 * caller says which part in in's error), else RV_OK, also when the frame
 * itself could not be read (in's error is then set). */
rv_status rv_part_save(const rv_object *o, rv_buf *out);
rv_status rv_part_load(rv_object *o, rv_reader *in);

#endif
