/* Group tables shared by feature_extraction and the fused TargetAggs of a
 * TransformerUnion: group keys (64-bit hashes, see rv_group_key) in
 * insertion order, looked up by a linear scan while there are few of them
 * (the M5 case holds 1 or 7) and through an open-addressing index beyond.
 * The owner keeps its per-group payload in parallel arrays indexed like keys
 * and grows them to `cap` when rv_groups_add changes it. */
#ifndef RIVULET_FEATURES_GROUPS_H
#define RIVULET_FEATURES_GROUPS_H

#include "rivulet/core.h"

#define RV_GROUPS_SCAN 16 /* up to this many groups, no index is built */

typedef struct rv_groups {
    uint64_t *keys;  /* insertion order */
    uint32_t n, cap;
    uint32_t *index; /* entry + 1, 0 = empty; NULL while n <= RV_GROUPS_SCAN */
    uint32_t icap;
} rv_groups;

void rv_groups_init(rv_groups *g);
void rv_groups_free(rv_groups *g);
/* Index of key, or -1 when unseen. */
int64_t rv_groups_find(const rv_groups *g, uint64_t key);
/* Appends an unseen key; returns its index, -1 on OOM. The capacity grows
 * by one up to RV_GROUPS_SCAN (no slack for the common few-group case), then
 * by half. */
int64_t rv_groups_add(rv_groups *g, uint64_t key);
/* Deep copy. */
rv_status rv_groups_copy(rv_groups *dst, const rv_groups *src);
size_t rv_groups_memory(const rv_groups *g);
/* The capacity rv_groups_add will grow to next. */
uint32_t rv_groups_next_cap(const rv_groups *g);

#endif
