/* preprocessing.FeatureHasher: the hashing trick. Follows River
 * (preprocessing/feature_hasher.py, FeatureHasher(n_features=1048576,
 * seed=None)) in shape, not in hash values.
 *
 *   transform: for each feature, in order: a string feature becomes the key
 *              "<name>=<value>" with value 1, a number keeps its name as key;
 *              i = hash(key, seed) mod n_features; out[str(i)] += value.
 *   learn:     nothing (stateless).
 *
 * Output names are the bucket numbers in decimal ("17"), in order of first
 * use within the event, like River's Counter. Colliding features add up.
 *
 * The hash is ours: 64-bit FNV-1a over the key bytes, seeded, then a 64-bit
 * finaliser, so it is the same on every host and run. River salts blake2s
 * with numpy's RNG (random unless seed is given), which cannot be
 * reproduced here, so bucket numbers differ from River's; seed=None means 0.
 *
 * No string work for numeric features in steady state: the bucket of a
 * name and the symbol of a bucket number are memoised (bounded caches, not
 * state). Snapshot: empty. */
#include "rivulet/preprocessing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_MAX (1u << 16)

typedef struct hasher {
    rv_object base;
    long n_features;
    int has_seed;
    long seed;
    rv_map64 bucket_of_name; /* feature sym -> bucket */
    rv_map64 sym_of_bucket;  /* bucket -> output sym */
    rv_buf key;
} hasher;

static const char *const params[] = {"n_features", "seed", NULL};

uint64_t rv_feature_hash(const void *p, size_t n, uint64_t seed)
{
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ULL ^ rv_hash_u64(seed);
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return rv_hash_u64(h);
}

static hasher *alloc(long n_features, int has_seed, long seed)
{
    hasher *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->base.cls = &rv_class_preprocessing_FeatureHasher;
    h->n_features = n_features;
    h->has_seed = has_seed;
    h->seed = seed;
    rv_map64_init(&h->bucket_of_name);
    rv_map64_init(&h->sym_of_bucket);
    rv_buf_init(&h->key);
    return h;
}

static uint64_t bucket(const hasher *h, const void *p, size_t n)
{
    return rv_feature_hash(p, n, (uint64_t)h->seed) % (uint64_t)h->n_features;
}

/* Memoised put into a bounded cache (a full cache is emptied first). */
static uint64_t *cache_put(rv_map64 *m, uint64_t key, uint64_t val)
{
    if (m->n >= CACHE_MAX)
        rv_map64_clear(m);
    return rv_map64_put(m, key, val, NULL);
}

static rv_sym bucket_sym(hasher *h, uint64_t b)
{
    uint64_t *v = rv_map64_get(&h->sym_of_bucket, b);
    if (v)
        return (rv_sym)*v;
    char text[24];
    int len = snprintf(text, sizeof text, "%llu", (unsigned long long)b);
    rv_sym s = rv_sym_intern(text, (size_t)len);
    if (s != RV_SYM_NONE && !cache_put(&h->sym_of_bucket, b, s))
        return RV_SYM_NONE;
    return s;
}

static rv_status add(hasher *h, rv_event *out, uint64_t b, double value)
{
    rv_sym s = bucket_sym(h, b);
    if (s == RV_SYM_NONE)
        return RV_ENOMEM;
    const rv_feature *f = rv_event_get(out, s);
    return rv_event_set_num(out, s, f ? f->num + value : value);
}

static rv_status transform(rv_object *self, const rv_event *x, rv_event *out, rv_error *err)
{
    hasher *h = (hasher *)self;
    rv_event_clear(out);
    for (uint32_t i = 0; i < x->n; i++) {
        const rv_feature *f = &x->items[i];
        uint64_t b;
        double value = 1.0;
        if (f->kind == RV_NUM) {
            value = f->num;
            uint64_t *v = rv_map64_get(&h->bucket_of_name, f->name);
            b = v ? *v : bucket(h, rv_sym_name(f->name), rv_sym_len(f->name));
            if (!v && !cache_put(&h->bucket_of_name, f->name, b))
                goto oom;
        } else {
            rv_buf_reset(&h->key);
            rv_buf_put(&h->key, rv_sym_name(f->name), rv_sym_len(f->name));
            rv_buf_puts(&h->key, "=");
            rv_buf_put(&h->key, f->str, f->len);
            if (h->key.oom)
                goto oom;
            b = bucket(h, h->key.data, h->key.len);
        }
        if (add(h, out, b, value))
            goto oom;
    }
    return RV_OK;
oom:
    return rv_error_set(err, RV_ENOMEM, "FeatureHasher: out of memory");
}

static rv_status learn(rv_object *self, const rv_event *x, const rv_value *y, rv_error *err)
{
    return RV_OK;
}

static rv_object *create(const rv_args *args, rv_error *err)
{
    long n, seed = 0;
    if (rv_args_check(args, params, err) ||
        rv_args_get_int(args, params, "n_features", 1048576, 1, 1L << 40, &n, err))
        return NULL;
    const rv_arg *s = rv_args_find(args, params, "seed");
    int has_seed = s && s->kind != RV_ARG_NONE;
    if (has_seed && rv_args_get_int(args, params, "seed", 0, 0, 1L << 62, &seed, err))
        return NULL;
    hasher *h = alloc(n, has_seed, seed);
    if (!h)
        rv_error_set(err, RV_ENOMEM, "FeatureHasher: out of memory");
    return h ? &h->base : NULL;
}

static rv_object *clone(const rv_object *self, rv_error *err)
{
    const hasher *s = (const hasher *)self;
    hasher *h = alloc(s->n_features, s->has_seed, s->seed);
    if (!h)
        rv_error_set(err, RV_ENOMEM, "FeatureHasher: out of memory");
    return h ? &h->base : NULL;
}

static rv_status save(const rv_object *self, rv_buf *out) { return RV_OK; }

static rv_status load(rv_object *self, rv_reader *in) { return in->status; }

static rv_status describe(const rv_object *self, rv_buf *out)
{
    const hasher *h = (const hasher *)self;
    rv_describer d;
    rv_describe_open(&d, out, self);
    if (h->n_features != 1048576)
        rv_describe_int(&d, "n_features", h->n_features);
    if (h->has_seed)
        rv_describe_int(&d, "seed", h->seed);
    return rv_describe_close(&d);
}

static size_t memory(const rv_object *self)
{
    const hasher *h = (const hasher *)self;
    return sizeof *h + (h->bucket_of_name.cap + h->sym_of_bucket.cap) * 17u + h->key.cap;
}

static void destroy(rv_object *self)
{
    hasher *h = (hasher *)self;
    rv_map64_free(&h->bucket_of_name);
    rv_map64_free(&h->sym_of_bucket);
    rv_buf_free(&h->key);
    free(h);
}

static const rv_estimator_ops ops = {.learn = learn, .transform = transform};

const rv_class rv_class_preprocessing_FeatureHasher = {
    .kind = RV_CLASS_ESTIMATOR,
    .module = "preprocessing",
    .name = "FeatureHasher",
    .flags = RV_F_TRANSFORMER | RV_F_COUNTS_CHANGES, /* stateless: never changes */
    .doc = "Hash features into n_features buckets (River's hashing trick, own hash)",
    .create = create,
    .clone = clone,
    .copy = clone, /* stateless: a copy is a clone */
    .save = save,
    .load = load,
    .describe = describe,
    .memory = memory,
    .destroy = destroy,
    .ops = &ops,
};
