/* Checkpoints: off the request path, and per key stripe for families.
 *
 * A learn that logs an event counts it (events and bytes) on its model; once
 * both thresholds pass (at least --checkpoint-every events, and, for a model
 * whose checkpoint passed 1 MB, at least a quarter of that size in log bytes,
 * so that a model of 100 MB is not rewritten every few thousand learns), it
 * wakes the
 * checkpointer thread, which writes that model's checkpoint, then the global
 * metrics, then trims the log below every checkpoint. No request waits for it.
 *
 * Invariant: restart = load every checkpoint, then apply each later log
 * event where the checkpoint does not already cover it, gives exactly the
 * acknowledged state. What "covers" means:
 *   plain model   one seq for the state: the checkpointer holds the model's
 *                 lock for reading while it snapshots (learns wait, predicts
 *                 go on), and takes seq = the last seq handed out, so every
 *                 event of the model <= seq is in the snapshot and every later
 *                 one is > seq;
 *   family        one seq per stripe of keys: the checkpointer walks the 256
 *                 stripes, holding one stripe's lock for reading at a time
 *                 while it saves that stripe's members, so learns of other
 *                 keys proceed and a family of 30,490 keys is never stalled
 *                 as a whole; replay maps an event to its stripe by its key;
 *   metrics       the model's metrics with their own seq, taken under
 *                 metrics_mu (where they change, in log order).
 *
 * Blob, version 2 (version 1, from before, still loads):
 *   u8 2 | u8 kind (0 plain, 1 family)
 *   plain:  u64 state_seq | bytes snapshot
 *   family: bytes snapshot of the empty family | u32 stripes |
 *           per stripe: u64 seq | u32 members | per member: bytes key, bytes state
 *   u64 metrics_seq | metric states | u8 1 | u64 learns counted |
 *   per-key metrics (keymetrics.c; this tail is absent from older blobs)
 * The store row's last_seq is the lowest seq in the blob, so replay starts there.
 */
#include "internal.h"

#include "rivulet/family.h"

#include <stdlib.h>
#include <string.h>

/* ===== Entries ===== */

rv_model_entry *rv_entry_new(rv_server *s, const char *name, rv_object *model, rv_error *err)
{
    rv_model_entry *e = calloc(1, sizeof *e);
    if (e && (e->is_family = rv_is_family(model)))
        e->stripes = malloc(RV_STRIPES * sizeof *e->stripes);
    if (!e || !(e->name = strdup(name)) || (e->is_family && !e->stripes)) {
        if (e) {
            free(e->name);
            free(e->stripes);
        }
        free(e);
        rv_object_free(model);
        rv_error_set(err, RV_ENOMEM, "out of memory");
        return NULL;
    }
    rv_rwshard_init(&e->lock);
    pthread_mutex_init(&e->newkey_mu, NULL);
    for (int i = 0; e->is_family && i < RV_STRIPES; i++)
        pthread_rwlock_init(&e->stripes[i], NULL);
    rv_buf_init(&e->def);
    rv_keym_init(&e->keym);
    e->model = model;
    e->predict_mutates = rv_engine_predict_mutates(model);
    rv_engine_metrics_init(&e->metrics, s->flavor, err);
    if (e->is_family) {
        rv_object *empty = rv_object_clone(model, err);
        rv_status st = empty ? rv_engine_snapshot(empty, &e->def) : RV_ENOMEM;
        rv_object_free(empty);
        if (st != RV_OK || e->def.oom) {
            rv_entry_free(e);
            rv_error_set(err, RV_ENOMEM, "cannot snapshot the family's definition");
            return NULL;
        }
    }
    return e;
}

void rv_entry_free(rv_model_entry *e)
{
    if (!e)
        return;
    rv_object_free(e->model);
    rv_engine_metrics_free(&e->metrics);
    rv_keym_free(&e->keym);
    rv_rwshard_destroy(&e->lock);
    pthread_mutex_destroy(&e->newkey_mu);
    for (int i = 0; e->stripes && i < RV_STRIPES; i++)
        pthread_rwlock_destroy(&e->stripes[i]);
    free(e->stripes);
    free(e->stripe_seq);
    rv_buf_free(&e->def);
    free(e->name);
    free(e);
}

/* ===== Building ===== */

static void patch_u32(rv_buf *b, size_t at, uint32_t x)
{
    for (int i = 0; i < 4; i++)
        b->data[at + (size_t)i] = (char)(x >> (8 * i));
}

/* Keys of the family bucketed by stripe; grows as keys appear (keys are only
 * ever appended, and their bytes never move). */
typedef struct buckets {
    const char **key;
    uint32_t *len, *next; /* per key: length, next key of the same stripe */
    uint32_t head[RV_STRIPES], n, cap;
} buckets;

static int buckets_extend(buckets *b, rv_object *fam)
{
    size_t size = rv_family_size(fam);
    for (size_t i = b->n; i < size; i++) {
        if (b->n == b->cap) {
            uint32_t cap = b->cap ? 2 * b->cap : 1024;
            const char **k = realloc(b->key, cap * sizeof *k);
            if (k)
                b->key = k;
            uint32_t *l = realloc(b->len, cap * sizeof *l);
            if (l)
                b->len = l;
            uint32_t *nx = realloc(b->next, cap * sizeof *nx);
            if (nx)
                b->next = nx;
            if (!k || !l || !nx)
                return -1;
            b->cap = cap;
        }
        size_t len;
        const char *k = rv_family_key_at(fam, i, &len);
        if (!k)
            break;
        unsigned st = rv_stripe_of(k, len);
        b->key[b->n] = k;
        b->len[b->n] = (uint32_t)len;
        b->next[b->n] = b->head[st];
        b->head[st] = b->n + 1; /* 0 ends a list */
        b->n++;
    }
    return 0;
}

static rv_status save_stripe(rv_server *s, rv_model_entry *e, buckets *b, unsigned j, rv_buf *out)
{
    pthread_rwlock_rdlock(&e->stripes[j]);
    rv_status st = buckets_extend(b, e->model) == 0 ? RV_OK : RV_ENOMEM;
    e->stripe_seq[j] = rv_store_last_seq(s->store);
    rv_buf_put_u64(out, e->stripe_seq[j]);
    size_t count_at = out->len;
    rv_buf_put_u32(out, 0);
    uint32_t count = 0;
    for (uint32_t k = b->head[j]; k && st == RV_OK && !out->oom; k = b->next[k - 1]) {
        const rv_object *m = rv_family_get(e->model, b->key[k - 1], b->len[k - 1]);
        if (!m)
            continue;
        rv_buf_put_bytes(out, b->key[k - 1], b->len[k - 1]);
        size_t at = out->len;
        rv_buf_put_u32(out, 0);
        st = m->cls->save(m, out);
        if (st == RV_OK && !out->oom)
            patch_u32(out, at, (uint32_t)(out->len - at - 4));
        count++;
    }
    if (!out->oom)
        patch_u32(out, count_at, count);
    pthread_rwlock_unlock(&e->stripes[j]);
    return st != RV_OK ? st : out->oom ? RV_ENOMEM : RV_OK;
}

/* A copy of family e for GET /api/model: members copied stripe by stripe
 * under that stripe's read lock (as checkpoints walk them), so only learns
 * of the stripe being copied wait, then installed in key order in a fresh
 * clone of the family. Each stripe is as of its own moment. */
rv_object *rv_ckpt_family_copy(rv_server *s, rv_model_entry *e, rv_error *err)
{
    (void)s;
    buckets b;
    memset(&b, 0, sizeof b);
    rv_object **copies = NULL;
    uint32_t ncopies = 0;
    rv_status st = RV_OK;
    rv_rwshard_rdlock(&e->lock);
    rv_object *out = rv_object_clone(e->model, err);
    for (unsigned j = 0; out && j < RV_STRIPES && st == RV_OK; j++) {
        pthread_rwlock_rdlock(&e->stripes[j]);
        if (buckets_extend(&b, e->model) != 0)
            st = RV_ENOMEM;
        if (st == RV_OK && b.cap != ncopies) {
            rv_object **nc = realloc(copies, b.cap * sizeof *nc);
            if (nc) {
                memset(nc + ncopies, 0, (b.cap - ncopies) * sizeof *nc);
                copies = nc;
                ncopies = b.cap;
            }
            st = nc ? RV_OK : RV_ENOMEM;
        }
        for (uint32_t k = b.head[j]; k && st == RV_OK; k = b.next[k - 1]) {
            const rv_object *m = rv_family_get(e->model, b.key[k - 1], b.len[k - 1]);
            if (m && !(copies[k - 1] = rv_object_copy(m, err)))
                st = RV_ENOMEM;
        }
        pthread_rwlock_unlock(&e->stripes[j]);
    }
    for (uint32_t k = 0; k < b.n && k < ncopies; k++) { /* keys never move: safe after the walk */
        if (copies[k] && st == RV_OK && out)
            st = rv_family_put(out, b.key[k], b.len[k], copies[k], err);
        else
            rv_object_free(copies[k]);
    }
    rv_rwshard_unlock(&e->lock);
    free(copies);
    free(b.key);
    free(b.len);
    free(b.next);
    if (st != RV_OK || !out) {
        rv_object_free(out);
        if (st == RV_ENOMEM && err && err->code == RV_OK)
            rv_error_set(err, RV_ENOMEM, "out of memory copying the family");
        return NULL;
    }
    return out;
}

static rv_status build_family(rv_server *s, rv_model_entry *e, rv_buf *blob, uint64_t *low)
{
    if (!e->stripe_seq && !(e->stripe_seq = calloc(RV_STRIPES, sizeof *e->stripe_seq)))
        return RV_ENOMEM;
    rv_buf_put_bytes(blob, e->def.data, (uint32_t)e->def.len);
    rv_buf_put_u32(blob, RV_STRIPES);
    buckets b;
    memset(&b, 0, sizeof b);
    rv_status st = RV_OK;
    rv_rwshard_rdlock(&e->lock); /* learns of the family go on */
    for (unsigned j = 0; j < RV_STRIPES && st == RV_OK; j++) {
        st = save_stripe(s, e, &b, j, blob);
        if (j == 0 || e->stripe_seq[j] < *low)
            *low = e->stripe_seq[j];
    }
    rv_rwshard_unlock(&e->lock);
    free(b.key);
    free(b.len);
    free(b.next);
    return st;
}

rv_status rv_ckpt_build(rv_server *s, rv_model_entry *e, rv_buf *blob, rv_error *err)
{
    atomic_store(&e->since_n, 0);
    atomic_store(&e->since_bytes, 0);
    rv_buf_put_u8(blob, 2);
    rv_buf_put_u8(blob, (uint8_t)e->is_family);
    uint64_t low = 0;
    rv_status st;
    if (e->is_family) {
        st = build_family(s, e, blob, &low);
    } else {
        rv_buf snap;
        rv_buf_init(&snap);
        rv_rwshard_rdlock(&e->lock); /* learns of this model wait; predicts go on */
        e->state_seq = low = rv_store_last_seq(s->store);
        st = rv_engine_snapshot(e->model, &snap);
        rv_rwshard_unlock(&e->lock);
        rv_buf_put_u64(blob, e->state_seq);
        rv_buf_put_bytes(blob, snap.data, (uint32_t)snap.len);
        rv_buf_free(&snap);
    }
    pthread_mutex_lock(&s->metrics_mu);
    e->metrics_seq = rv_store_last_seq(s->store);
    rv_buf_put_u64(blob, e->metrics_seq);
    if (st == RV_OK)
        st = rv_engine_metrics_save(&e->metrics, blob);
    rv_buf_put_u8(blob, 1); /* learn count and per-key metrics, as of metrics_seq */
    rv_buf_put_u64(blob, e->n_learned);
    if (st == RV_OK)
        st = rv_keym_save(&e->keym, blob);
    pthread_mutex_unlock(&s->metrics_mu);
    if (st == RV_OK && blob->oom)
        st = RV_ENOMEM;
    if (st != RV_OK) {
        atomic_fetch_add(&e->since_n, 1); /* keep the log: the checkpoint is not written */
        return rv_error_set(err, st, "cannot checkpoint model '%s'", e->name);
    }
    e->ckpt_low = low < e->metrics_seq ? low : e->metrics_seq;
    e->ckpt_bytes = blob->len;
    return RV_OK;
}

uint64_t rv_ckpt_write(rv_server *s, rv_model_entry *e)
{
    rv_buf blob;
    rv_buf_init(&blob);
    uint64_t t = 0, low_before = e->ckpt_low;
    if (rv_ckpt_build(s, e, &blob, NULL) == RV_OK)
        t = rv_store_put_checkpoint(s->store, e->name, NULL, 0, blob.data, blob.len, e->ckpt_low);
    if (!t) { /* not queued (out of memory): the log must keep what the stored checkpoint lacks */
        e->ckpt_low = low_before;
        atomic_fetch_add(&e->since_n, 1);
    }
    rv_buf_free(&blob);
    return t;
}

/* ===== Loading ===== */

static rv_status load_family_members(rv_model_entry *e, rv_reader *in)
{
    uint32_t n = rv_reader_u32(in);
    if (n != RV_STRIPES)
        rv_reader_fail(in, "stripe count");
    const rv_object *proto = rv_family_prototype(e->model);
    for (uint32_t j = 0; j < n && in->status == RV_OK; j++) {
        e->stripe_seq[j] = rv_reader_u64(in);
        uint32_t count = rv_reader_count(in, 8);
        for (uint32_t i = 0; i < count && in->status == RV_OK; i++) {
            uint32_t klen, slen;
            const char *key = rv_reader_bytes(in, &klen, 1u << 16);
            const char *state = rv_reader_bytes(in, &slen, UINT32_MAX);
            if (in->status != RV_OK)
                break;
            if (rv_stripe_of(key, klen) != j || rv_family_get(e->model, key, klen)) {
                rv_reader_fail(in, "family key in the wrong stripe, or twice");
                break;
            }
            rv_object *m = rv_object_clone(proto, NULL);
            rv_reader sub;
            rv_reader_init(&sub, state, slen);
            if (!m || m->cls->load(m, &sub) != RV_OK || sub.status != RV_OK || sub.pos != sub.len) {
                rv_object_free(m);
                rv_reader_fail(in, "family member state");
            } else if (rv_family_put(e->model, key, klen, m, NULL) != RV_OK) {
                rv_reader_fail(in, "out of memory adding a family member");
            }
        }
    }
    return in->status;
}

static rv_object *load_snapshot(rv_reader *in, rv_error *err)
{
    uint32_t len = 0;
    const char *bytes = rv_reader_bytes(in, &len, UINT32_MAX);
    return in->status == RV_OK ? rv_engine_load(bytes, len, err) : NULL;
}

rv_model_entry *rv_ckpt_load(rv_server *s, const char *name, const void *blob, size_t n,
                             uint64_t row_seq, rv_error *err)
{
    rv_reader in;
    rv_reader_init(&in, blob, n);
    uint8_t version = rv_reader_u8(&in);
    uint8_t kind = version == 2 ? rv_reader_u8(&in) : 0;
    uint64_t state_seq = version == 2 && kind == 0 ? rv_reader_u64(&in) : row_seq;
    if (version != 1 && version != 2)
        rv_reader_fail(&in, "checkpoint version");
    rv_object *m = load_snapshot(&in, err);
    if (!m) {
        if (in.status != RV_OK)
            rv_error_set(err, RV_ECORRUPT, "%s", in.what);
        return NULL;
    }
    if ((kind == 1) != (version == 2 && rv_is_family(m))) {
        rv_object_free(m);
        rv_error_set(err, RV_ECORRUPT, "checkpoint kind does not match its model");
        return NULL;
    }
    rv_model_entry *e = rv_entry_new(s, name, m, err);
    if (!e)
        return NULL;
    e->state_seq = state_seq;
    if (kind == 1 && (!(e->stripe_seq = calloc(RV_STRIPES, sizeof *e->stripe_seq))
                      || load_family_members(e, &in) != RV_OK)) {
        rv_error_set(err, RV_ECORRUPT, "%s", in.status ? in.what : "out of memory");
        rv_entry_free(e);
        return NULL;
    }
    e->metrics_seq = version == 2 ? rv_reader_u64(&in) : row_seq;
    rv_engine_metrics_load(&e->metrics, &in);
    if (in.status == RV_OK && in.pos < in.len && rv_reader_u8(&in) == 1) { /* absent before */
        e->n_learned = rv_reader_u64(&in);
        rv_keym_load(&e->keym, &in);
    }
    e->last_seq = e->ckpt_low = row_seq;
    e->ckpt_bytes = n;
    return e;
}

int rv_ckpt_covers(rv_model_entry *e, const rv_event *x, uint64_t seq)
{
    if (!e->is_family || !e->stripe_seq)
        return seq <= e->state_seq;
    const char *key;
    size_t len;
    if (rv_family_key_of(e->model, x, &key, &len, NULL) != RV_OK)
        return 1; /* an event without a key never changed the family */
    return seq <= e->stripe_seq[rv_stripe_of(key, len)];
}

/* ===== Global metrics and trimming ===== */

uint64_t rv_ckpt_metrics(rv_server *s)
{
    rv_buf b;
    rv_buf_init(&b);
    s->metrics_seq = rv_store_last_seq(s->store);
    rv_buf_put_u64(&b, s->metrics_seq);
    rv_engine_metrics_save(&s->metrics, &b);
    uint64_t t = b.oom ? 0 : rv_store_put_meta(s->store, "metrics", b.data, b.len);
    rv_buf_free(&b);
    return t;
}

/* A model with nothing logged since its checkpoint began holds nothing back:
 * every event of it is covered. The caller holds ckpt_mu. */
uint64_t rv_ckpt_metrics_and_trim(rv_server *s)
{
    pthread_mutex_lock(&s->metrics_mu);
    uint64_t t = rv_ckpt_metrics(s), low = s->metrics_seq;
    rv_rwshard_rdlock(&s->models_lock);
    for (size_t i = 0; i < s->n_models; i++) {
        rv_model_entry *e = s->models[i];
        if (atomic_load(&e->since_n) > 0 && e->ckpt_low < low)
            low = e->ckpt_low;
    }
    rv_rwshard_unlock(&s->models_lock);
    pthread_mutex_unlock(&s->metrics_mu);
    return t ? rv_store_trim(s->store, low) : 0;
}

/* ===== The checkpointer thread ===== */

void rv_ckpt_note(rv_server *s, rv_model_entry *e, size_t bytes)
{
    uint64_t n = atomic_fetch_add(&e->since_n, 1) + 1;
    uint64_t b = atomic_fetch_add(&e->since_bytes, bytes) + bytes;
    if (n < (uint64_t)s->cfg.checkpoint_every || (e->ckpt_bytes > (1u << 20) && b < e->ckpt_bytes / 4)
        || !s->ckpt_running)
        return;
    if (atomic_exchange(&e->ckpt_wanted, 1))
        return;
    pthread_mutex_lock(&s->wake_mu);
    s->ckpt_pending = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->wake_mu);
}

/* Entries cannot be freed while ckpt_mu is held: every table change takes it. */
static rv_model_entry *next_wanted(rv_server *s)
{
    rv_model_entry *e = NULL;
    rv_rwshard_rdlock(&s->models_lock);
    for (size_t i = 0; i < s->n_models && !e; i++)
        if (atomic_exchange(&s->models[i]->ckpt_wanted, 0))
            e = s->models[i];
    rv_rwshard_unlock(&s->models_lock);
    return e;
}

static void *checkpointer(void *arg)
{
    rv_server *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->wake_mu);
        while (!s->ckpt_pending && !s->ckpt_stop)
            pthread_cond_wait(&s->wake, &s->wake_mu);
        int stop = s->ckpt_stop;
        s->ckpt_pending = 0;
        pthread_mutex_unlock(&s->wake_mu);
        if (stop)
            break;
        pthread_mutex_lock(&s->ckpt_mu);
        int wrote = 0;
        for (rv_model_entry *e; (e = next_wanted(s));)
            wrote += rv_ckpt_write(s, e) != 0;
        atomic_fetch_add(&s->n_checkpoints, (unsigned)wrote);
        if (wrote)
            rv_ckpt_metrics_and_trim(s);
        pthread_mutex_unlock(&s->ckpt_mu);
    }
    return NULL;
}

void rv_ckpt_start(rv_server *s)
{
    pthread_mutex_init(&s->ckpt_mu, NULL);
    pthread_mutex_init(&s->wake_mu, NULL);
    pthread_cond_init(&s->wake, NULL);
    s->ckpt_running = pthread_create(&s->ckpt_thread, NULL, checkpointer, s) == 0;
}

/* Stops the thread after the checkpoint in progress, if any. */
void rv_ckpt_stop(rv_server *s)
{
    if (!s->ckpt_running)
        return;
    pthread_mutex_lock(&s->wake_mu);
    s->ckpt_stop = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->wake_mu);
    pthread_join(s->ckpt_thread, NULL);
    s->ckpt_running = 0;
}
