/* Fused rolling means of a TransformerUnion (see fused.c for the layout).
 *
 * rv_fused_block is configuration (shared, immutable once built);
 * rv_fused_state is one union instance's learned state for that block. */
#ifndef RIVULET_COMPOSE_FUSED_H
#define RIVULET_COMPOSE_FUSED_H

#include "rivulet/core.h"
#include "features/groups.h"

typedef struct rv_fused_block {
    uint32_t nby;
    rv_sym *by;
    rv_sym target_name;
    uint32_t m;      /* rolling means in the block */
    uint32_t K;      /* ring length: the largest window */
    uint32_t *k;     /* window of each rolling mean */
    rv_sym *names;   /* feature of each rolling mean */
    double empty;    /* value of a rolling mean on an empty window (0) */
} rv_fused_block;

typedef struct rv_fused_state {
    rv_groups groups;
    double *data;    /* groups.cap records of `stride` doubles */
    uint32_t stride; /* 1 + m + ring words (K/2 rounded up narrow, K wide) */
    uint8_t wide;    /* ring of doubles (else floats, while every target fits) */
} rv_fused_state;

rv_status rv_fused_block_init(rv_fused_block *f, const rv_sym *by, uint32_t nby, rv_sym target_name,
                              double empty);
/* Adds a rolling mean of window k emitting `name`; returns its slot, -1 on OOM. */
int32_t rv_fused_block_add(rv_fused_block *f, uint32_t k, rv_sym name);
void rv_fused_block_free(rv_fused_block *f);
size_t rv_fused_block_memory(const rv_fused_block *f);

void rv_fused_state_init(const rv_fused_block *f, rv_fused_state *s);
void rv_fused_state_free(rv_fused_state *s);
/* The record of x's group, NULL when the group is unseen. */
const double *rv_fused_find(const rv_fused_block *f, const rv_fused_state *s, const rv_event *x);
/* Value of rolling mean `slot` in a record (NULL: unseen group). */
static inline double rv_fused_value(const rv_fused_block *f, const double *rec, uint32_t slot)
{
    if (!rec)
        return f->empty;
    uint64_t n;
    __builtin_memcpy(&n, rec, sizeof n);
    uint64_t len = n < f->k[slot] ? n : f->k[slot];
    return len ? rec[1 + slot] / (double)len : f->empty;
}
rv_status rv_fused_learn(const rv_fused_block *f, rv_fused_state *s, const rv_event *x, double y,
                         rv_error *err);
/* rv_fused_learn for an event whose group key (rv_group_key) is `key` */
rv_status rv_fused_learn_key(const rv_fused_block *f, rv_fused_state *s, uint64_t key, double y,
                             rv_error *err);
/* The record of the group with that key, NULL when unseen. */
const double *rv_fused_find_key(const rv_fused_state *s, uint64_t key);
rv_status rv_fused_state_copy(const rv_fused_block *f, rv_fused_state *dst, const rv_fused_state *src);
void rv_fused_save(const rv_fused_block *f, const rv_fused_state *s, rv_buf *out);
rv_status rv_fused_load(const rv_fused_block *f, rv_fused_state *s, rv_reader *in);
/* Prefetches the group table and the records while the table is scanned
 * (few groups: all of them are small); a larger table, nothing. */
void rv_fused_prefetch(const rv_fused_state *s);
size_t rv_fused_state_memory(const rv_fused_block *f, const rv_fused_state *s);

#endif
