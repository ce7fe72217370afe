/* Fused TargetAggs of rolling means: one ring of recent targets per group.
 *
 * A TransformerUnion of TargetAgg(by=B, how=RollingMean(k_j)) for several
 * windows k_j over the same `by` B (the M5 union has 7 over item_id and 23
 * over wday) would keep, per group, one deque per TargetAgg: 29 copies of
 * the same recent targets. Here a group keeps the last K = max k_j targets
 * once, plus each rolling mean's own running sum, so that every sum is
 * still updated exactly as creme's RollingMean does it (SPEC.md §3):
 *
 *     update(y):  if len_j == k_j: sum_j -= oldest_j     (oldest of window j)
 *                 sum_j += y
 *     get():      sum_j / len_j, or the empty value (0) when len_j == 0
 *
 * with len_j = min(n, k_j), n the targets seen by the group, and
 * oldest_j = the target seen k_j updates ago = ring[(n - k_j) mod K].
 * All oldest_j are read before y overwrites ring[n mod K] (the oldest of
 * the K window), so no window ever reads a slot already overwritten.
 *
 * One group record, `stride` = 1 + K + m doubles (8-byte words):
 *
 *   word:  0        1 ............... K   K+1 ............... K+m
 *        +--------+-------------------+-------------------------+
 *        | n (u64)| ring[0..K-1]      | sum_0 ... sum_{m-1}     |
 *        +--------+-------------------+-------------------------+
 *                   target i at ring[i mod K]   (in part order)
 *
 * Records of all groups sit back to back in `data`, indexed like the
 * group table's keys. For the M5 union by wday (K = 30, m = 23) a group is
 * 54 words = 432 bytes, versus 23 deques (~ 23 x 30 doubles + headers) for
 * separate TargetAggs; by item_id (K = 7, m = 7) it is 15 words.
 *
 * Edge cases: NaN or inf targets enter the sums as in creme (a NaN sticks
 * until the window drops it: it does not, since the sum is incremental,
 * exactly like creme's). Windows are at least 1. */
#include "compose/fused.h"
#include "rivulet/features.h"

#include <stdlib.h>
#include <string.h>

/* ===== Configuration ===== */

rv_status rv_fused_block_init(rv_fused_block *f, const rv_sym *by, uint32_t nby, rv_sym target_name,
                              double empty)
{
    memset(f, 0, sizeof *f);
    f->by = malloc(nby * sizeof *by);
    if (!f->by)
        return RV_ENOMEM;
    memcpy(f->by, by, nby * sizeof *by);
    f->nby = nby;
    f->target_name = target_name;
    f->empty = empty;
    f->stride = 1;
    return RV_OK;
}

int32_t rv_fused_block_add(rv_fused_block *f, uint32_t k, rv_sym name)
{
    uint32_t *ks = realloc(f->k, (f->m + 1) * sizeof *ks);
    if (!ks)
        return -1;
    f->k = ks;
    rv_sym *names = realloc(f->names, (f->m + 1) * sizeof *names);
    if (!names)
        return -1;
    f->names = names;
    f->k[f->m] = k;
    f->names[f->m] = name;
    if (k > f->K)
        f->K = k;
    f->m++;
    f->stride = 1 + f->K + f->m;
    return (int32_t)f->m - 1;
}

void rv_fused_block_free(rv_fused_block *f)
{
    free(f->by);
    free(f->k);
    free(f->names);
    memset(f, 0, sizeof *f);
}

size_t rv_fused_block_memory(const rv_fused_block *f)
{
    return sizeof *f + f->nby * sizeof *f->by + f->m * (sizeof *f->k + sizeof *f->names);
}

/* ===== State ===== */

void rv_fused_state_init(rv_fused_state *s)
{
    rv_groups_init(&s->groups);
    s->data = NULL;
}

void rv_fused_state_free(rv_fused_state *s)
{
    rv_groups_free(&s->groups);
    free(s->data);
    s->data = NULL;
}

const double *rv_fused_find(const rv_fused_block *f, const rv_fused_state *s, const rv_event *x)
{
    int64_t i = rv_groups_find(&s->groups, rv_group_key(x, f->by, f->nby));
    return i < 0 ? NULL : s->data + (size_t)i * f->stride;
}

static double *add_group(const rv_fused_block *f, rv_fused_state *s, uint64_t key)
{
    if (s->groups.n == s->groups.cap) {
        size_t cap = rv_groups_next_cap(&s->groups);
        double *d = realloc(s->data, cap * f->stride * sizeof *d);
        if (!d)
            return NULL;
        s->data = d;
    }
    int64_t i = rv_groups_add(&s->groups, key);
    if (i < 0)
        return NULL;
    double *rec = s->data + (size_t)i * f->stride;
    memset(rec, 0, f->stride * sizeof *rec); /* n = 0, sums = 0.0 (creme: int 0) */
    return rec;
}

rv_status rv_fused_learn(const rv_fused_block *f, rv_fused_state *s, const rv_event *x, double y,
                         rv_error *err)
{
    uint64_t key = rv_group_key(x, f->by, f->nby);
    int64_t i = rv_groups_find(&s->groups, key);
    double *rec = i >= 0 ? s->data + (size_t)i * f->stride : add_group(f, s, key);
    if (!rec)
        return rv_error_set(err, RV_ENOMEM, "out of memory");
    uint64_t n;
    memcpy(&n, rec, sizeof n);
    double *ring = rec + 1, *sums = rec + 1 + f->K;
    const uint32_t K = f->K;
    uint32_t pos = (uint32_t)(n % K);
    for (uint32_t j = 0; j < f->m; j++) {
        uint32_t k = f->k[j];
        if (n >= k) { /* window j is full: drop its oldest first, as creme */
            uint32_t old = pos >= k ? pos - k : pos + K - k;
            sums[j] -= ring[old];
        }
        sums[j] += y;
    }
    ring[pos] = y;
    n++;
    memcpy(rec, &n, sizeof n);
    return RV_OK;
}

rv_status rv_fused_state_copy(const rv_fused_block *f, rv_fused_state *dst, const rv_fused_state *src)
{
    rv_fused_state_free(dst);
    if (rv_groups_copy(&dst->groups, &src->groups))
        return RV_ENOMEM;
    if (src->groups.cap) {
        dst->data = malloc((size_t)src->groups.cap * f->stride * sizeof(double));
        if (!dst->data)
            return RV_ENOMEM;
        memcpy(dst->data, src->data, (size_t)src->groups.n * f->stride * sizeof(double));
    }
    return RV_OK;
}

/* Layout: u32 ngroups, then per group: u64 key, u64 n, K f64 ring, m f64 sums. */
void rv_fused_save(const rv_fused_block *f, const rv_fused_state *s, rv_buf *out)
{
    rv_buf_put_u32(out, s->groups.n);
    for (uint32_t g = 0; g < s->groups.n; g++) {
        const double *rec = s->data + (size_t)g * f->stride;
        uint64_t n;
        memcpy(&n, rec, sizeof n);
        rv_buf_put_u64(out, s->groups.keys[g]);
        rv_buf_put_u64(out, n);
        for (uint32_t w = 1; w < f->stride; w++)
            rv_buf_put_f64(out, rec[w]);
    }
}

rv_status rv_fused_load(const rv_fused_block *f, rv_fused_state *s, rv_reader *in)
{
    uint32_t n = rv_reader_count(in, 8 * (size_t)(f->stride + 1));
    for (uint32_t g = 0; g < n && in->status == RV_OK; g++) {
        uint64_t key = rv_reader_u64(in), count = rv_reader_u64(in);
        if (in->status)
            break;
        if (rv_groups_find(&s->groups, key) >= 0) {
            rv_reader_fail(in, "duplicate group in fused TargetAgg state");
            break;
        }
        double *rec = add_group(f, s, key);
        if (!rec)
            return RV_ENOMEM;
        memcpy(rec, &count, sizeof count);
        for (uint32_t w = 1; w < f->stride; w++)
            rec[w] = rv_reader_f64(in);
    }
    return in->status;
}

size_t rv_fused_state_memory(const rv_fused_block *f, const rv_fused_state *s)
{
    return rv_groups_memory(&s->groups) + (size_t)s->groups.cap * f->stride * sizeof(double);
}
