/* compose.Family: one model per value of a key feature (the M5 case: one
 * model per series, tens of thousands of them).
 *
 * State: the prototype (never learns; the template of new members) and a map
 * from key bytes to member. The map is core's rv_strmap: per key it costs one
 * entry (key pointer, length, hash, value: 32 bytes), about two 4-byte slots
 * and the key's own copy, so a member's overhead is a few dozen bytes beside
 * the member itself. Members are separately allocated objects whose
 * addresses never change, which is what lets two threads work on two keys at
 * once: only the map is locked (a pthread rwlock, read-locked for the lookup
 * of an existing key, write-locked to insert), never a member.
 *
 * learn/predict/transform(x): key = str(x[by]); member = map[key], or a fresh
 * clone of the prototype inserted on first sight (by predict too, so that a
 * pipeline learning during predict keeps what it learnt, and so that no two
 * threads ever share the prototype); then the member's own operation on x
 * (the key feature is left in x). A missing key feature is an error
 * (RV_ENOTFOUND) and changes nothing.
 *
 * Saved state: u32 count, then per member in insertion order its key (u32
 * length + bytes) and its state (u32 length + the member class's save).
 * Loading clones the prototype and loads each state into the clone, so a
 * family of 30,490 members loads without parsing any text per member; both
 * run on several threads (family_io.c).
 *
 * Reference: none in creme 0.5.1 (the blog keeps a dict of models by hand);
 * River's closest relative is compose.Grouper, applied to whole models. */
#include "compose/internal.h"
#include "rivulet/family.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct family {
    rv_object base;
    rv_object *proto;
    char *by;
    rv_sym by_sym;
    rv_strmap members; /* key -> (uint64_t)(uintptr_t)rv_object * */
    pthread_rwlock_t lock;
} family;

#define MAX_KEY_LEN (1u << 16)

static family *as_family(const rv_object *o)
{
    return o && o->cls->ops == rv_class_compose_Family.ops ? (family *)o : NULL;
}

static rv_class variants[128];

static rv_object *member_of(uint64_t v) { return (rv_object *)(uintptr_t)v; }

int rv_is_family(const rv_object *o) { return as_family(o) != NULL; }

const rv_object *rv_family_prototype(const rv_object *fam)
{
    family *f = as_family(fam);
    return f ? f->proto : NULL;
}

const char *rv_family_key_feature(const rv_object *fam)
{
    family *f = as_family(fam);
    return f ? f->by : NULL;
}

size_t rv_family_size(const rv_object *fam)
{
    family *f = as_family(fam);
    if (!f)
        return 0;
    pthread_rwlock_rdlock(&f->lock);
    size_t n = rv_strmap_size(&f->members);
    pthread_rwlock_unlock(&f->lock);
    return n;
}

/* ===== Construction ===== */

rv_object *rv_family_new(rv_object *prototype, const char *key_feature, rv_error *err)
{
    if (!rv_is_estimator(prototype)) {
        rv_error_set(err, RV_ETYPE, "compose.Family: the model must be an estimator");
        rv_object_free(prototype);
        return NULL;
    }
    if (!key_feature || !*key_feature) {
        rv_error_set(err, RV_EINVAL, "compose.Family: 'by' must name the key feature");
        rv_object_free(prototype);
        return NULL;
    }
    family *f = calloc(1, sizeof *f);
    if (f)
        f->by = strdup(key_feature);
    if (!f || !f->by || pthread_rwlock_init(&f->lock, NULL) != 0) {
        if (f)
            free(f->by);
        free(f);
        rv_object_free(prototype);
        rv_error_set(err, RV_ENOMEM, "out of memory");
        return NULL;
    }
    /* a family predicts what its members predict, so it takes their kind */
    unsigned kind = rv_estimator_flags(prototype) &
                    (RV_F_TRANSFORMER | RV_F_REGRESSOR | RV_F_CLASSIFIER | RV_F_SUPERVISED |
                     RV_F_BINARY_ONLY | RV_F_MULTICLASS);
    f->base.cls = rv_class_variant(&rv_class_compose_Family, variants, RV_F_COMPOSITE | kind);
    f->proto = prototype;
    f->by_sym = rv_sym_intern_cstr(key_feature);
    rv_strmap_init(&f->members);
    return &f->base;
}

static void family_clear(family *f)
{
    for (uint32_t i = 0; i < rv_strmap_capacity_used(&f->members); i++)
        if (rv_strmap_key_at(&f->members, i, NULL))
            rv_object_free(member_of(*rv_strmap_val_at(&f->members, i)));
    rv_strmap_free(&f->members);
    rv_strmap_init(&f->members);
}

static void family_destroy(rv_object *o)
{
    family *f = (family *)o;
    family_clear(f);
    rv_object_free(f->proto);
    pthread_rwlock_destroy(&f->lock);
    free(f->by);
    free(f);
}

static const char *const family_names[] = {"model", "by", NULL};

static rv_object *family_create(const rv_args *args, rv_error *err)
{
    rv_object *proto = NULL;
    const char *by = NULL;
    if (rv_args_check(args, family_names, err) ||
        rv_args_take_obj(args, family_names, "model", RV_CLASS_ESTIMATOR, &proto, err) ||
        rv_args_get_str(args, family_names, "by", NULL, &by, err)) {
        rv_object_free(proto);
        return NULL;
    }
    if (!proto || !by) {
        rv_object_free(proto);
        rv_args_error(args, NULL, err, RV_EINVAL, "argument '%s' is required", proto ? "by" : "model");
        return NULL;
    }
    rv_object *o = rv_family_new(proto, by, err);
    if (!o && err && strncmp(err->message, "line ", 5) != 0 && args->line)
        rv_error_prefix(err, "line %d, column %d", args->line, args->col);
    return o;
}

static rv_object *family_clone(const rv_object *self, rv_error *err)
{
    const family *f = (const family *)self;
    rv_object *p = rv_object_clone(f->proto, err);
    return p ? rv_family_new(p, f->by, err) : NULL;
}

static rv_object *family_copy(const rv_object *self, rv_error *err)
{
    family *f = (family *)self;
    rv_object *c = family_clone(self, err);
    if (!c)
        return NULL;
    pthread_rwlock_rdlock(&f->lock);
    rv_status st = RV_OK;
    for (uint32_t i = 0; i < rv_strmap_capacity_used(&f->members) && !st; i++) {
        uint32_t len;
        const char *k = rv_strmap_key_at(&f->members, i, &len);
        if (!k)
            continue;
        rv_object *m = rv_object_copy(member_of(*rv_strmap_val_at(&f->members, i)), err);
        st = m ? rv_family_put(c, k, len, m, err) : (err ? err->code : RV_ENOMEM);
    }
    pthread_rwlock_unlock(&f->lock);
    if (st) {
        rv_object_free(c);
        return NULL;
    }
    return c;
}

/* ===== Keys and members ===== */

rv_status rv_family_key_of(const rv_object *fam, const rv_event *x, const char **key, size_t *len,
                           rv_error *err)
{
    static _Thread_local char numkey[48];
    family *f = as_family(fam);
    if (!f)
        return rv_error_set(err, RV_EINVAL, "not a compose.Family");
    const rv_feature *ft = rv_event_get(x, f->by_sym);
    if (!ft)
        return rv_error_set(err, RV_ENOTFOUND, "compose.Family: the event has no key feature '%s'",
                            f->by);
    if (ft->kind == RV_STR) {
        *key = ft->str ? ft->str : "";
        *len = ft->len;
        return RV_OK;
    }
    double v = ft->num;
    int n;
    if (isfinite(v) && v == floor(v) && fabs(v) < 1e16) {
        n = snprintf(numkey, sizeof numkey, "%.0f", v == 0 ? 0.0 : v);
    } else {
        rv_buf b = {.data = numkey, .cap = sizeof numkey}; /* fits: at most 24 chars */
        rv_buf_put_pyfloat(&b, v);
        n = (int)b.len;
    }
    *key = numkey;
    *len = (size_t)n;
    return RV_OK;
}

rv_object *rv_family_get(rv_object *fam, const char *key, size_t len)
{
    family *f = as_family(fam);
    if (!f)
        return NULL;
    pthread_rwlock_rdlock(&f->lock);
    uint64_t *v = rv_strmap_get(&f->members, key, len);
    rv_object *m = v ? member_of(*v) : NULL;
    pthread_rwlock_unlock(&f->lock);
    return m;
}

rv_status rv_family_put(rv_object *fam, const char *key, size_t len, rv_object *model, rv_error *err)
{
    family *f = as_family(fam);
    rv_status st = RV_OK;
    if (!f || !rv_is_estimator(model) || len > MAX_KEY_LEN) {
        rv_object_free(model);
        return rv_error_set(err, RV_EINVAL, "compose.Family: bad family, member or key (%zu bytes)", len);
    }
    pthread_rwlock_wrlock(&f->lock);
    int inserted;
    uint64_t *v = rv_strmap_put(&f->members, key, len, 0, &inserted);
    if (!v) {
        st = rv_error_set(err, RV_ENOMEM, "out of memory adding a family member");
        rv_object_free(model);
    } else {
        if (!inserted)
            rv_object_free(member_of(*v));
        *v = (uint64_t)(uintptr_t)model;
    }
    pthread_rwlock_unlock(&f->lock);
    return st;
}

rv_object *rv_family_take(rv_object *fam, const char *key, size_t len)
{
    family *f = as_family(fam);
    if (!f)
        return NULL;
    pthread_rwlock_wrlock(&f->lock);
    uint64_t *v = rv_strmap_get(&f->members, key, len);
    rv_object *m = v ? member_of(*v) : NULL;
    if (m)
        rv_strmap_del(&f->members, key, len);
    pthread_rwlock_unlock(&f->lock);
    return m;
}

const char *rv_family_key_at(const rv_object *fam, size_t i, size_t *len)
{
    family *f = as_family(fam);
    if (!f)
        return NULL;
    pthread_rwlock_rdlock(&f->lock);
    const char *k = NULL;
    uint32_t klen = 0, used = rv_strmap_capacity_used(&f->members);
    if (used == rv_strmap_size(&f->members)) { /* no removed keys: direct */
        if (i < used)
            k = rv_strmap_key_at(&f->members, (uint32_t)i, &klen);
    } else {
        for (uint32_t j = 0, live = 0; j < used && !k; j++) {
            const char *kj = rv_strmap_key_at(&f->members, j, &klen);
            if (kj && live++ == i)
                k = kj;
        }
    }
    pthread_rwlock_unlock(&f->lock);
    if (len)
        *len = k ? klen : 0;
    return k;
}

rv_object *rv_family_member(rv_object *fam, const char *key, size_t len, rv_error *err)
{
    family *f = as_family(fam);
    if (!f) {
        rv_error_set(err, RV_EINVAL, "not a compose.Family");
        return NULL;
    }
    rv_object *m = rv_family_get(fam, key, len);
    if (m)
        return m;
    if (len > MAX_KEY_LEN) {
        rv_error_set(err, RV_EINVAL, "compose.Family: key of %zu bytes is too long", len);
        return NULL;
    }
    rv_object *fresh = rv_object_clone(f->proto, err);
    if (!fresh)
        return NULL;
    pthread_rwlock_wrlock(&f->lock);
    int inserted;
    uint64_t *v = rv_strmap_put(&f->members, key, len, (uint64_t)(uintptr_t)fresh, &inserted);
    m = v ? member_of(*v) : NULL; /* another thread may have inserted it meanwhile */
    pthread_rwlock_unlock(&f->lock);
    if (!v)
        rv_error_set(err, RV_ENOMEM, "out of memory adding a family member");
    if (!v || !inserted)
        rv_object_free(fresh);
    return m;
}

/* The member for x's key, created from the prototype on first sight. */
static rv_object *member_for(family *f, const rv_event *x, rv_error *err)
{
    const char *key;
    size_t len;
    if (rv_family_key_of(&f->base, x, &key, &len, err))
        return NULL;
    return rv_family_member(&f->base, key, len, err);
}

/* ===== Estimator operations ===== */

static rv_status family_learn(rv_object *self, const rv_event *x, const rv_value *y, rv_error *err)
{
    rv_object *m = member_for((family *)self, x, err);
    return m ? rv_estimator_learn(m, x, y, err) : (err ? err->code : RV_EINVAL);
}

static rv_status family_transform(rv_object *self, const rv_event *x, rv_event *out, rv_error *err)
{
    rv_object *m = member_for((family *)self, x, err);
    return m ? rv_estimator_transform(m, x, out, err) : (err ? err->code : RV_EINVAL);
}

static rv_status family_predict(rv_object *self, const rv_event *x, rv_prediction *out, rv_error *err)
{
    rv_object *m = member_for((family *)self, x, err);
    return m ? rv_estimator_predict(m, x, out, err) : (err ? err->code : RV_EINVAL);
}

/* ===== State ===== */

static rv_status family_save(const rv_object *self, rv_buf *out)
{
    family *f = (family *)self;
    pthread_rwlock_rdlock(&f->lock);
    rv_status st = rv_family_save_members(&f->members, out);
    pthread_rwlock_unlock(&f->lock);
    return st;
}

static int install_member(void *ctx, const char *key, uint32_t len, rv_object *m, rv_reader *in)
{
    family *f = ctx;
    if (rv_strmap_get(&f->members, key, len)) {
        rv_object_free(m);
        rv_reader_fail(in, "duplicate family key");
        return -1;
    }
    if (rv_family_put(&f->base, key, len, m, NULL)) {
        rv_reader_fail(in, "out of memory adding a family member");
        return -1;
    }
    return 0;
}

/* Members load on several threads (family_io.c). */
static rv_status family_load(rv_object *self, rv_reader *in)
{
    family *f = (family *)self;
    family_clear(f);
    rv_status st = rv_family_load_members(f->proto, in, install_member, f);
    if (st != RV_OK || in->status != RV_OK)
        family_clear(f);
    return st ? st : in->status;
}


static rv_status family_describe(const rv_object *self, rv_buf *out)
{
    const family *f = (const family *)self;
    rv_describer d;
    rv_describe_open(&d, out, self);
    rv_describe_obj(&d, NULL, f->proto);
    rv_describe_str(&d, "by", f->by);
    return rv_describe_close(&d);
}

static size_t family_memory(const rv_object *self)
{
    family *f = (family *)self;
    pthread_rwlock_rdlock(&f->lock);
    const rv_strmap *m = &f->members;
    size_t bytes = sizeof *f + strlen(f->by) + 1 + rv_object_memory(f->proto) +
                   (size_t)m->cap * sizeof *m->slots + (size_t)m->ecap * sizeof *m->entries;
    for (uint32_t i = 0; i < rv_strmap_capacity_used(m); i++) {
        uint32_t len;
        if (rv_strmap_key_at(m, i, &len))
            bytes += len + 1 + rv_object_memory(member_of(m->entries[i].val));
    }
    pthread_rwlock_unlock(&f->lock);
    return bytes;
}

static const rv_estimator_ops family_ops = {
    .learn = family_learn,
    .transform = family_transform,
    .predict = family_predict,
};

const rv_class rv_class_compose_Family = {
    .kind = RV_CLASS_ESTIMATOR,
    .module = "compose",
    .name = "Family",
    .flags = RV_F_COMPOSITE,
    .doc = "One clone of a model per value of a key feature (by='id').",
    .create = family_create,
    .clone = family_clone,
    .copy = family_copy,
    .save = family_save,
    .load = family_load,
    .describe = family_describe,
    .memory = family_memory,
    .destroy = family_destroy,
    .ops = &family_ops,
};
