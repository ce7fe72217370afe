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
 * One group record, `stride` 8-byte words:
 *
 *   word:  0        1 ............. m   m+1 ...........................
 *        +--------+-------------------+-------------------------------+
 *        | n (u64)| sum_0 ... sum_m-1 | ring[0..K-1]                  |
 *        +--------+-------------------+-------------------------------+
 *                   (in part order)     target i at ring[i mod K];
 *                                       floats while every target seen
 *                                       is exactly a float (sales counts),
 *                                       else doubles ("wide")
 *
 * Records of all groups sit back to back in `data`, indexed like the
 * group table's keys. The first target that a float cannot hold exactly
 * widens every record of the block's state (once), so values never change:
 * the ring only ever holds exact copies. For the M5 union by wday (K = 30,
 * m = 23) a group is 1 + 23 + 15 = 39 words = 312 bytes (54 words wide),
 * versus 23 separate deques of up to 30 doubles; by item_id (K = 7, m = 7)
 * it is 12 words.
 *
 * Edge cases: NaN or inf targets enter the sums as in creme (a NaN sticks
 * until the window drops it: it does not, since the sum is incremental,
 * exactly like creme's). Windows are at least 1. */
#include "compose/fused.h"
#include "core/prefetch.h"
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

static uint32_t stride_of(const rv_fused_block *f, int wide)
{
    return 1 + f->m + (wide ? f->K : (f->K + 1) / 2);
}

void rv_fused_state_init(const rv_fused_block *f, rv_fused_state *s)
{
    rv_groups_init(&s->groups);
    s->data = NULL;
    s->wide = 0;
    s->stride = stride_of(f, 0);
}

void rv_fused_state_free(rv_fused_state *s)
{
    rv_groups_free(&s->groups);
    free(s->data);
    s->data = NULL;
}

static int fits_float(double y) { return (double)(float)y == y || y != y; }

static double ring_get(const rv_fused_block *f, const rv_fused_state *s, const double *rec, uint32_t i)
{
    const double *ring = rec + 1 + f->m;
    return s->wide ? ring[i] : (double)((const float *)ring)[i];
}

static void ring_set(const rv_fused_block *f, const rv_fused_state *s, double *rec, uint32_t i, double y)
{
    double *ring = rec + 1 + f->m;
    if (s->wide)
        ring[i] = y;
    else
        ((float *)ring)[i] = (float)y;
}

/* Converts every record to a ring of doubles (values unchanged). */
static rv_status widen(const rv_fused_block *f, rv_fused_state *s)
{
    uint32_t ns = stride_of(f, 1);
    double *d = malloc(((size_t)s->groups.cap ? s->groups.cap : 1) * ns * sizeof *d);
    if (!d)
        return RV_ENOMEM;
    for (uint32_t g = 0; g < s->groups.n; g++) {
        const double *old = s->data + (size_t)g * s->stride;
        double *rec = d + (size_t)g * ns;
        memcpy(rec, old, (1 + f->m) * sizeof *rec);
        for (uint32_t i = 0; i < f->K; i++)
            rec[1 + f->m + i] = ring_get(f, s, old, i);
    }
    free(s->data);
    s->data = d;
    s->stride = ns;
    s->wide = 1;
    return RV_OK;
}

const double *rv_fused_find_key(const rv_fused_state *s, uint64_t key)
{
    int64_t i = rv_groups_find(&s->groups, key);
    return i < 0 ? NULL : s->data + (size_t)i * s->stride;
}

const double *rv_fused_find(const rv_fused_block *f, const rv_fused_state *s, const rv_event *x)
{
    return rv_fused_find_key(s, rv_group_key(x, f->by, f->nby));
}

static double *add_group(rv_fused_state *s, uint64_t key)
{
    if (s->groups.n == s->groups.cap) {
        size_t cap = rv_groups_next_cap(&s->groups);
        double *d = realloc(s->data, cap * s->stride * sizeof *d);
        if (!d)
            return NULL;
        s->data = d;
    }
    int64_t i = rv_groups_add(&s->groups, key);
    if (i < 0)
        return NULL;
    double *rec = s->data + (size_t)i * s->stride;
    memset(rec, 0, s->stride * sizeof *rec); /* n = 0, sums = 0.0 (creme: int 0) */
    return rec;
}

rv_status rv_fused_learn(const rv_fused_block *f, rv_fused_state *s, const rv_event *x, double y,
                         rv_error *err)
{
    return rv_fused_learn_key(f, s, rv_group_key(x, f->by, f->nby), y, err);
}

rv_status rv_fused_learn_key(const rv_fused_block *f, rv_fused_state *s, uint64_t key, double y,
                             rv_error *err)
{
    if (!s->wide && !fits_float(y) && widen(f, s))
        return rv_error_set(err, RV_ENOMEM, "out of memory");
    int64_t i = rv_groups_find(&s->groups, key);
    double *rec = i >= 0 ? s->data + (size_t)i * s->stride : add_group(s, key);
    if (!rec)
        return rv_error_set(err, RV_ENOMEM, "out of memory");
    uint64_t n;
    memcpy(&n, rec, sizeof n);
    double *sums = rec + 1;
    const uint32_t K = f->K, m = f->m, *kk = f->k;
    uint32_t pos = (uint32_t)(n % K);
    /* window j full: drop its oldest first, as creme; the ring's width is
     * tested once, outside the loop */
    if (s->wide) {
        const double *ring = rec + 1 + m;
        for (uint32_t j = 0; j < m; j++) {
            uint32_t k = kk[j];
            if (n >= k)
                sums[j] -= ring[pos >= k ? pos - k : pos + K - k];
            sums[j] += y;
        }
    } else {
        const float *ring = (const float *)(rec + 1 + m);
        for (uint32_t j = 0; j < m; j++) {
            uint32_t k = kk[j];
            if (n >= k)
                sums[j] -= (double)ring[pos >= k ? pos - k : pos + K - k];
            sums[j] += y;
        }
    }
    ring_set(f, s, rec, pos, y);
    n++;
    memcpy(rec, &n, sizeof n);
    return RV_OK;
}

rv_status rv_fused_state_copy(const rv_fused_block *f, rv_fused_state *dst, const rv_fused_state *src)
{
    rv_fused_state_free(dst);
    dst->wide = src->wide;
    dst->stride = src->stride;
    if (rv_groups_copy(&dst->groups, &src->groups))
        return RV_ENOMEM;
    if (src->groups.cap) {
        dst->data = malloc((size_t)src->groups.cap * src->stride * sizeof(double));
        if (!dst->data)
            return RV_ENOMEM;
        memcpy(dst->data, src->data, (size_t)src->groups.n * src->stride * sizeof(double));
    }
    return RV_OK;
}

/* Layout (independent of the ring's width): u32 ngroups, then per group:
 * u64 key, u64 n, m f64 sums, K f64 ring. */
void rv_fused_save(const rv_fused_block *f, const rv_fused_state *s, rv_buf *out)
{
    rv_buf_put_u32(out, s->groups.n);
    for (uint32_t g = 0; g < s->groups.n; g++) {
        const double *rec = s->data + (size_t)g * s->stride;
        uint64_t n;
        memcpy(&n, rec, sizeof n);
        rv_buf_put_u64(out, s->groups.keys[g]);
        rv_buf_put_u64(out, n);
        rv_buf_put_f64s(out, rec + 1, f->m);
        if (s->wide)
            rv_buf_put_f64s(out, rec + 1 + f->m, f->K);
        else
            for (uint32_t i = 0; i < f->K; i++)
                rv_buf_put_f64(out, ring_get(f, s, rec, i));
    }
}

rv_status rv_fused_load(const rv_fused_block *f, rv_fused_state *s, rv_reader *in)
{
    uint32_t n = rv_reader_count(in, 8 * (size_t)(2 + f->m + f->K));
    for (uint32_t g = 0; g < n && in->status == RV_OK; g++) {
        uint64_t key = rv_reader_u64(in), count = rv_reader_u64(in);
        if (in->status)
            break;
        if (rv_groups_find(&s->groups, key) >= 0) {
            rv_reader_fail(in, "duplicate group in fused TargetAgg state");
            break;
        }
        double *rec = add_group(s, key);
        if (!rec)
            return RV_ENOMEM;
        memcpy(rec, &count, sizeof count);
        rv_reader_f64s(in, rec + 1, f->m);
        for (uint32_t i = 0; i < f->K; i++) {
            double y = rv_reader_f64(in);
            if (!s->wide && !fits_float(y)) {
                if (widen(f, s))
                    return RV_ENOMEM;
                rec = s->data + (size_t)g * s->stride;
            }
            ring_set(f, s, rec, i, y);
        }
    }
    return in->status;
}

size_t rv_fused_state_memory(const rv_fused_block *f, const rv_fused_state *s)
{
    return rv_groups_memory(&s->groups) + (size_t)s->groups.cap * s->stride * sizeof(double);
}

void rv_fused_prefetch(const rv_fused_state *s)
{
    if (s->groups.index)
        return;
    rv_prefetch_range(s->groups.keys, s->groups.n * sizeof *s->groups.keys);
    rv_prefetch_range(s->data, (size_t)s->groups.n * s->stride * sizeof *s->data);
}
