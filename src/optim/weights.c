/* rv_weights: the sparse weight vector of linear models.
 *
 * Semantics follow creme 0.5.1's `collections.defaultdict` of weights: keys
 * keep insertion order (which fixes the summation order of dot products),
 * reading a missing key does not create it, writing does.
 *
 * Layout (see optim.h): parallel arrays keys[] and data[] (stride doubles per
 * entry: the weight, then its optimizer state), grown by doubling from 4, so
 * a 29-feature model holds 32 entries: 128 + 256 bytes with plain SGD. Small
 * vectors are searched linearly from a cursor (the position after the last
 * hit), which in a pipeline's steady state hits first time, every time. From
 * RV_WEIGHTS_INDEX_MIN entries on, an open-addressing index of entry+1
 * (0 = empty) keeps lookups O(1) for wide sparse inputs.
 *
 * Binary form:
 *   u32 stride | u32 n | n x ( sym name: u32 len + bytes | stride x f64 )
 */
#include "rivulet/optim.h"

#include <stdlib.h>
#include <string.h>

void rv_weights_init(rv_weights *w, uint32_t state_size)
{
    memset(w, 0, sizeof *w);
    w->stride = 1 + state_size;
}

void rv_weights_free(rv_weights *w)
{
    free(w->keys);
    free(w->data);
    free(w->index);
    uint32_t stride = w->stride;
    memset(w, 0, sizeof *w);
    w->stride = stride;
}

void rv_weights_clear(rv_weights *w) { rv_weights_free(w); }

static uint32_t slot_of(rv_sym key, uint32_t icap) { return (uint32_t)rv_hash_u64(key) & (icap - 1); }

static void index_insert(rv_weights *w, uint32_t i)
{
    uint32_t s = slot_of(w->keys[i], w->icap);
    while (w->index[s])
        s = (s + 1) & (w->icap - 1);
    w->index[s] = i + 1;
}

/* (Re)builds the index so that it stays at most half full. */
static rv_status index_rebuild(rv_weights *w, uint32_t need)
{
    uint32_t icap = 64;
    while (icap < 2 * need)
        icap *= 2;
    uint32_t *idx = calloc(icap, sizeof *idx);
    if (!idx)
        return RV_ENOMEM;
    free(w->index);
    w->index = idx;
    w->icap = icap;
    for (uint32_t i = 0; i < w->n; i++)
        index_insert(w, i);
    return RV_OK;
}

uint32_t rv_weights_find(const rv_weights *w, rv_sym key, uint32_t *cursor)
{
    if (cursor && *cursor < w->n && w->keys[*cursor] == key)
        return (*cursor)++;
    uint32_t hit = RV_WEIGHTS_NONE;
    if (w->index) {
        for (uint32_t s = slot_of(key, w->icap); w->index[s]; s = (s + 1) & (w->icap - 1))
            if (w->keys[w->index[s] - 1] == key) {
                hit = w->index[s] - 1;
                break;
            }
    } else {
        for (uint32_t i = 0; i < w->n; i++)
            if (w->keys[i] == key) {
                hit = i;
                break;
            }
    }
    if (cursor && hit != RV_WEIGHTS_NONE)
        *cursor = hit + 1;
    return hit;
}

static rv_status grow(rv_weights *w)
{
    uint32_t cap = w->cap ? 2 * w->cap : 4;
    if (cap > UINT32_MAX / 2 / w->stride)
        return RV_ENOMEM;
    rv_sym *keys = realloc(w->keys, cap * sizeof *keys);
    if (!keys)
        return RV_ENOMEM;
    w->keys = keys;
    double *data = realloc(w->data, (size_t)cap * w->stride * sizeof *data);
    if (!data)
        return RV_ENOMEM;
    w->data = data;
    w->cap = cap;
    return RV_OK;
}

static double *append(rv_weights *w, rv_sym key, double init)
{
    if (w->n == w->cap && grow(w))
        return NULL;
    if (w->n + 1 >= RV_WEIGHTS_INDEX_MIN && 2 * (w->n + 1) > w->icap &&
        index_rebuild(w, w->n + 1))
        return NULL;
    uint32_t i = w->n++;
    w->keys[i] = key;
    double *e = rv_weights_at(w, i);
    e[0] = init;
    for (uint32_t k = 1; k < w->stride; k++)
        e[k] = 0.0;
    if (w->index)
        index_insert(w, i);
    return e;
}

double *rv_weights_slot(rv_weights *w, rv_sym key, double init, uint32_t *cursor)
{
    uint32_t i = rv_weights_find(w, key, cursor);
    if (i != RV_WEIGHTS_NONE)
        return rv_weights_at(w, i);
    double *e = append(w, key, init);
    if (e && cursor)
        *cursor = w->n;
    return e;
}

double rv_weights_get(const rv_weights *w, rv_sym key, double dflt)
{
    uint32_t i = rv_weights_find(w, key, NULL);
    return i == RV_WEIGHTS_NONE ? dflt : rv_weights_at(w, i)[0];
}

rv_status rv_weights_copy(rv_weights *dst, const rv_weights *src)
{
    rv_weights tmp;
    rv_weights_init(&tmp, src->stride - 1);
    for (uint32_t i = 0; i < src->n; i++) {
        double *e = append(&tmp, src->keys[i], 0.0);
        if (!e) {
            rv_weights_free(&tmp);
            return RV_ENOMEM;
        }
        memcpy(e, rv_weights_at(src, i), src->stride * sizeof *e);
    }
    rv_weights_free(dst);
    *dst = tmp;
    return RV_OK;
}

size_t rv_weights_memory(const rv_weights *w)
{
    return (size_t)w->cap * (sizeof(rv_sym) + w->stride * sizeof(double)) +
           (size_t)w->icap * sizeof(uint32_t);
}

rv_status rv_weights_save(const rv_weights *w, rv_buf *out)
{
    rv_buf_put_u32(out, w->stride);
    rv_buf_put_u32(out, w->n);
    for (uint32_t i = 0; i < w->n; i++) {
        rv_buf_put_sym(out, w->keys[i]);
        const double *e = rv_weights_at(w, i);
        for (uint32_t k = 0; k < w->stride; k++)
            rv_buf_put_f64(out, e[k]);
    }
    return out->oom ? RV_ENOMEM : RV_OK;
}

rv_status rv_weights_load(rv_weights *w, rv_reader *in)
{
    uint32_t stride = rv_reader_u32(in);
    if (in->status == RV_OK && stride != w->stride)
        rv_reader_fail(in, "weight vector has the wrong number of state values");
    /* each entry holds at least a 4-byte name length and stride doubles */
    uint32_t n = rv_reader_count(in, 4 + (size_t)w->stride * 8);
    rv_weights_clear(w);
    for (uint32_t i = 0; i < n && in->status == RV_OK; i++) {
        rv_sym key = rv_reader_sym(in);
        if (in->status != RV_OK)
            break;
        if (rv_weights_find(w, key, NULL) != RV_WEIGHTS_NONE) {
            rv_reader_fail(in, "duplicate weight name");
            break;
        }
        double *e = append(w, key, 0.0);
        if (!e)
            return RV_ENOMEM;
        for (uint32_t k = 0; k < w->stride; k++)
            e[k] = rv_reader_f64(in);
    }
    return in->status;
}
