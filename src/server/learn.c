/* Predict, learn and kept predictions: the paths that change state at run
 * time, and their replay at startup.
 *
 * Locks: a learn of a plain model holds its lock for writing; a learn of a
 * family holds the family's lock for reading and the lock of its key's
 * stripe (one of 256, by key hash) for writing, so learns of other models,
 * and of other keys of a family, proceed. family.c lets different keys run
 * at once (its key map has its own lock, members never move); same-stripe
 * keys wait for each other. Predict takes the same locks for reading (for
 * writing when the model's predict changes it). Whole-family operations
 * (GET of its snapshot) take the family's lock for writing.
 *
 * Learn, under those locks:
 *   1. predict first if no kept prediction came with the event;
 *   2. the model learns (if it refuses, nothing is logged; a predict that
 *      changed the model is logged alone so that replay still matches);
 *   3. under metrics_mu, the model's and the global metrics are updated with
 *      the prediction and the event is appended to the log, so the log's
 *      order is the order in which metrics saw events, and within one key
 *      (or plain model) the order in which the model learnt them;
 *   4. the checkpointer is told (checkpoint.c); the caller waits for the
 *      ticket (group commit), then acknowledges.
 * A predict of a model whose predict changes it is logged too (no target),
 * lazily: the store commits it with the next learn, or within 20 ms; one
 * that changed nothing this time (rv_state_changes did not move: say no
 * MinMaxScaler extreme moved) is not logged at all.
 *
 * Kept predictions: id -> malloc'ed {int64 expires; u32 len; record bytes},
 * mirrored durably by the store; an expired one counts as unknown.
 */
#include "internal.h"

#include "rivulet/family.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct kept_blob {
    int64_t expires;
    uint32_t len;
    char bytes[];
} kept_blob;

/* The metrics of e see one learn (caller holds metrics_mu, or is alone). */
static void count_learn(rv_server *s, rv_model_entry *e, const rv_event *x, const rv_value *y,
                        const rv_prediction *p)
{
    rv_engine_metrics_update(&e->metrics, y, p);
    e->n_learned++;
    const char *key;
    size_t len;
    if (e->is_family && rv_family_key_of(e->model, x, &key, &len, NULL) == RV_OK)
        rv_keym_update(&e->keym, s->flavor, key, len, y, p);
}

static uint64_t log_record(rv_server *s, rv_model_entry *e, const rv_event *x, const rv_value *y,
                           const rv_prediction *p, int predicted, const char *forget_id, int lazy)
{
    rv_buf b;
    rv_buf_init(&b);
    rv_record_encode(&b, e->name, x, y, p, predicted);
    uint64_t t = 0;
    if (!b.oom) {
        pthread_mutex_lock(&s->metrics_mu);
        if (y) {
            count_learn(s, e, x, y, p);
            rv_engine_metrics_update(&s->metrics, y, p);
        }
        t = lazy ? rv_store_append_lazy(s->store, e->name, b.data, b.len)
                 : rv_store_append(s->store, e->name, b.data, b.len);
        if (t)
            e->last_seq = t;
        if (t && forget_id)
            t = rv_store_forget(s->store, forget_id);
        pthread_mutex_unlock(&s->metrics_mu);
    }
    if (t)
        rv_ckpt_note(s, e, b.len);
    rv_buf_free(&b);
    return t;
}

/* The lock a learn or predict of x takes on e, after e->lock (for a family:
 * the stripe of x's key; NULL for a plain model, or an event without a key,
 * which the family refuses without touching any member). */
static pthread_rwlock_t *stripe_for(rv_model_entry *e, const rv_event *x)
{
    const char *key;
    size_t len;
    if (!e->is_family || rv_family_key_of(e->model, x, &key, &len, NULL) != RV_OK)
        return NULL;
    return &e->stripes[rv_stripe_of(key, len)];
}

/* Whether a predict of x could change e: a model whose predict changes it,
 * and for a family only when x's key has a member (an unseen key predicts
 * with a throw-away clone, family.c), so such predicts are not logged and a
 * stream of predicts with new keys grows neither the model nor the log.
 * Called under the locks the predict takes. */
static int predict_changes(rv_model_entry *e, const rv_event *x)
{
    if (!e->predict_mutates)
        return 0;
    const char *key;
    size_t len;
    if (!e->is_family || rv_family_key_of(e->model, x, &key, &len, NULL) != RV_OK)
        return 1;
    return rv_family_get(e->model, key, len) != NULL;
}

/* Tests only (--test-slow-learn-ms): a learn of an event with a feature
 * named "slow" sleeps holding its locks, to show what it does not block. */
static void test_delay(rv_server *s, const rv_event *x)
{
    if (s->cfg.test_learn_delay_ms > 0 && rv_event_get(x, rv_sym_intern_cstr("slow"))) {
        struct timespec ts = {s->cfg.test_learn_delay_ms / 1000,
                              (long)(s->cfg.test_learn_delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* --max-family-keys: whether a learn of x may go ahead; when it would
 * create a key, *held says newkey_mu is held (the size check and the
 * creation must not interleave with another stripe's). Replay does not
 * check: the log holds only learns that were accepted. */
static rv_status admit_new_key(rv_server *s, rv_model_entry *e, const rv_event *x, int *held,
                               rv_error *err)
{
    const char *key;
    size_t len;
    *held = 0;
    if (!e->is_family || !s->cfg.max_family_keys ||
        rv_family_key_of(e->model, x, &key, &len, NULL) != RV_OK || rv_family_get(e->model, key, len))
        return RV_OK;
    pthread_mutex_lock(&e->newkey_mu);
    if (rv_family_size(e->model) < s->cfg.max_family_keys) {
        *held = 1;
        return RV_OK;
    }
    pthread_mutex_unlock(&e->newkey_mu);
    return rv_error_set(err, RV_ESTATE, "The family '%s' already has %zu keys (--max-family-keys); "
                        "refusing a new key.", e->name, s->cfg.max_family_keys);
}

rv_status rv_state_learn(rv_server *s, rv_model_entry *e, const rv_event *x, const rv_value *y,
                         const rv_prediction *pred, rv_prediction *used, const char *forget_id,
                         uint64_t *ticket, rv_error *err)
{
    rv_prediction own;
    rv_prediction_init(&own);
    *ticket = 0;
    pthread_rwlock_t *stripe = NULL;
    if (e->is_family) {
        rv_rwshard_rdlock(&e->lock);
        if ((stripe = stripe_for(e, x)))
            pthread_rwlock_wrlock(stripe);
    } else {
        rv_rwshard_wrlock(&e->lock);
    }
    int held;
    rv_status st = admit_new_key(s, e, x, &held, err);
    int changes = predict_changes(e, x); /* before the learn creates a member */
    if (st) {
        if (stripe)
            pthread_rwlock_unlock(stripe);
        rv_rwshard_unlock(&e->lock);
        return st;
    }
    if (!pred) {
        st = rv_engine_predict(e->model, x, &own, err);
        pred = &own;
    }
    int predicted = pred == &own;
    if (st == RV_OK && (st = rv_engine_learn(e->model, x, y, err)) == RV_OK) {
        test_delay(s, x);
        *ticket = log_record(s, e, x, y, pred, predicted, forget_id, 0);
        if (!*ticket)
            st = rv_error_set(err, RV_ENOMEM, "out of memory logging the event");
        else if (used) /* for the announcement only: out of memory there fails nothing */
            (void)rv_prediction_copy(used, pred);
    } else if (predicted && changes && own.kind) { /* a refused first learn leaves no member */
        *ticket = log_record(s, e, x, NULL, &own, 1, NULL, 0);
    }
    if (held)
        pthread_mutex_unlock(&e->newkey_mu);
    if (stripe)
        pthread_rwlock_unlock(stripe);
    rv_rwshard_unlock(&e->lock);
    rv_prediction_free(&own);
    return st;
}

/* A creme-mode model learns during predict, yet once warm most predicts
 * change nothing (a MinMaxScaler that has seen every feature and whose
 * extremes hold). Those run frozen under the read lock, concurrently, with no
 * log record; a predict that would change state is refused before writing
 * anything and runs again under the write lock, and so do the next
 * THAW_PREDICTS (a StandardScaler pipeline, which changes on every predict,
 * pays one refused try in THAW_PREDICTS + 1). Returns 1 when it answered. */
enum { THAW_PREDICTS = 32 };

static int predict_frozen(rv_model_entry *e, const rv_event *x, rv_prediction *out, rv_status *st,
                          rv_error *err)
{
    if (atomic_load_explicit(&e->thaw_for, memory_order_relaxed) > 0) {
        atomic_fetch_sub_explicit(&e->thaw_for, 1, memory_order_relaxed);
        return 0;
    }
    rv_rwshard_rdlock(&e->lock);
    rv_state_frozen = 1;
    rv_state_refused = 0;
    *st = rv_engine_predict(e->model, x, out, err);
    rv_state_frozen = 0;
    rv_rwshard_unlock(&e->lock);
    if (!rv_state_refused)
        return 1;
    atomic_store_explicit(&e->thaw_for, THAW_PREDICTS, memory_order_relaxed);
    rv_prediction_free(out);
    rv_prediction_init(out);
    *err = (rv_error){0};
    return 0;
}

rv_status rv_state_predict(rv_server *s, rv_model_entry *e, const rv_event *x, rv_prediction *out,
                           rv_error *err)
{
    rv_status st;
    if (!e->is_family && e->predict_mutates && predict_frozen(e, x, out, &st, err))
        return st;
    pthread_rwlock_t *stripe = NULL;
    if (e->is_family) {
        rv_rwshard_rdlock(&e->lock);
        if ((stripe = stripe_for(e, x)) && e->predict_mutates)
            pthread_rwlock_wrlock(stripe);
        else if (stripe)
            pthread_rwlock_rdlock(stripe);
    } else if (e->predict_mutates) {
        rv_rwshard_wrlock(&e->lock);
    } else {
        rv_rwshard_rdlock(&e->lock);
    }
    int changes = predict_changes(e, x);
    unsigned long before = rv_state_changes;
    st = rv_engine_predict(e->model, x, out, err);
    if (st == RV_OK && changes && rv_state_changes != before) /* else replay needs nothing */
        log_record(s, e, x, NULL, out, 1, NULL, 1); /* nobody waits for it */
    if (stripe)
        pthread_rwlock_unlock(stripe);
    rv_rwshard_unlock(&e->lock);
    return st;
}

/* ===== Kept predictions ===== */

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

/* Forgets every kept prediction for which drop holds, durably; the caller
 * holds kept_mu. Returns the last forget's ticket (0 if none). */
static uint64_t forget_kept_where(rv_server *s, int (*drop)(const kept_blob *, const void *),
                                  const void *ctx)
{
    uint64_t t = 0;
    for (uint32_t i = 0; i < rv_strmap_capacity_used(&s->kept); i++) {
        uint32_t len;
        const char *key = rv_strmap_key_at(&s->kept, i, &len);
        if (!key)
            continue;
        kept_blob *k = (kept_blob *)(uintptr_t)*rv_strmap_val_at(&s->kept, i);
        if (drop(k, ctx)) {
            t = rv_store_forget(s->store, key);
            free(k);
            rv_strmap_del(&s->kept, key, len);
        }
    }
    return t;
}

static int expired(const kept_blob *k, const void *now)
{
    return k->expires && k->expires <= *(const int64_t *)now;
}

static void sweep_expired(rv_server *s)
{
    int64_t now = now_s();
    forget_kept_where(s, expired, &now);
}

static rv_status kept_insert(rv_server *s, const char *id, const void *p, size_t n, int64_t expires)
{
    kept_blob *k = malloc(sizeof *k + n);
    if (!k)
        return RV_ENOMEM;
    k->expires = expires;
    k->len = (uint32_t)n;
    memcpy(k->bytes, p, n);
    int inserted;
    uint64_t *slot = rv_strmap_put(&s->kept, id, strlen(id), 0, &inserted);
    if (!slot) {
        free(k);
        return RV_ENOMEM;
    }
    if (!inserted)
        free((void *)(uintptr_t)*slot);
    *slot = (uint64_t)(uintptr_t)k;
    return RV_OK;
}

/* RV_ESTATE when --max-kept predictions are kept already (predicts need no
 * token, and each kept one is a row on disk for --keep-ttl: without a cap a
 * client could fill the disk); an id kept already is replaced, as before. */
rv_status rv_state_keep(rv_server *s, const char *id, const rv_buf *record, uint64_t *ticket)
{
    int64_t expires = s->cfg.keep_ttl_s > 0 ? now_s() + s->cfg.keep_ttl_s : 0;
    *ticket = 0;
    pthread_mutex_lock(&s->kept_mu);
    static unsigned long keeps;
    static int64_t swept_when_full; /* a full table is swept at most once a second */
    int full = s->cfg.max_kept && rv_strmap_size(&s->kept) >= s->cfg.max_kept;
    if (++keeps % 4096 == 0 || (full && now_s() != swept_when_full)) {
        swept_when_full = full ? now_s() : swept_when_full;
        sweep_expired(s);
    }
    if (s->cfg.max_kept && rv_strmap_size(&s->kept) >= s->cfg.max_kept
        && !rv_strmap_get(&s->kept, id, strlen(id))) {
        pthread_mutex_unlock(&s->kept_mu);
        return RV_ESTATE;
    }
    rv_status st = kept_insert(s, id, record->data, record->len, expires);
    *ticket = st == RV_OK ? rv_store_keep(s->store, id, record->data, record->len, expires) : 0;
    pthread_mutex_unlock(&s->kept_mu);
    return st;
}

char *rv_state_take(rv_server *s, const char *id, size_t *len, int64_t *expires)
{
    pthread_mutex_lock(&s->kept_mu);
    uint64_t *slot = rv_strmap_get(&s->kept, id, strlen(id));
    kept_blob *k = slot ? (kept_blob *)(uintptr_t)*slot : NULL;
    char *out = NULL;
    if (k) {
        rv_strmap_del(&s->kept, id, strlen(id));
        if (!k->expires || k->expires > now_s()) {
            out = malloc(k->len ? k->len : 1);
            if (out)
                memcpy(out, k->bytes, k->len);
            *len = k->len;
            *expires = k->expires;
        } else {
            rv_store_forget(s->store, id);
        }
        free(k);
    }
    pthread_mutex_unlock(&s->kept_mu);
    return out;
}

/* Forgets every prediction kept for the model named model, which is being
 * replaced or deleted (the caller holds models_lock for writing, so no
 * predict keeps another meanwhile): a learn by their ids would score the
 * old model's prediction in the new model's metrics. Returns the last
 * forget's ticket (0 if none). */
static int made_by(const kept_blob *k, const void *model)
{
    uint32_t len;
    const char *name = rv_record_model(k->bytes, k->len, &len);
    return name && len == strlen(model) && memcmp(name, model, len) == 0;
}

uint64_t rv_state_forget_kept_of(rv_server *s, const char *model)
{
    pthread_mutex_lock(&s->kept_mu);
    uint64_t t = forget_kept_where(s, made_by, model);
    pthread_mutex_unlock(&s->kept_mu);
    return t;
}

/* Returns a taken prediction whose learn failed (a model name that is not
 * the one that predicted, say) as the store still has it: with its own
 * expiry, since a fresh one let each refused learn extend the prediction's
 * life in memory (and only there: a restart read the old one). A predict
 * that kept the same id meanwhile wrote its record to the store, so it
 * stays. The caller holds models_lock, so that a reset or a delete of the
 * model waiting for it forgets what is put back. */
void rv_state_put_back(rv_server *s, const char *id, char *bytes, size_t len, int64_t expires)
{
    pthread_mutex_lock(&s->kept_mu);
    if (!rv_strmap_get(&s->kept, id, strlen(id)))
        kept_insert(s, id, bytes, len, expires);
    pthread_mutex_unlock(&s->kept_mu);
    free(bytes);
}

/* ===== Startup: checkpoints, then the log ===== */

static rv_status load_model(void *ctx, const char *name, const void *def, size_t def_len,
                            const void *snap, size_t snap_len, uint64_t last_seq)
{
    rv_server *s = ctx;
    rv_error err = {0};
    (void)def;
    (void)def_len;
    rv_model_entry *e = rv_ckpt_load(s, name, snap, snap_len, last_seq, &err);
    if (!e) {
        fprintf(stderr, "rivulet: model '%s' cannot be restored: %s\n", name, err.message);
        return err.code == RV_ENOMEM ? RV_ENOMEM : RV_OK; /* the others still load */
    }
    if (s->n_models == s->cap_models) {
        size_t cap = s->cap_models ? 2 * s->cap_models : 16;
        rv_model_entry **nm = realloc(s->models, cap * sizeof *nm);
        if (!nm) {
            rv_entry_free(e);
            return RV_ENOMEM;
        }
        s->models = nm;
        s->cap_models = cap;
    }
    s->models[s->n_models++] = e; /* rows come sorted by name */
    return RV_OK;
}

/* Applies a logged event where its checkpoint does not cover it. A learn
 * whose prediction was made inside the learn is replayed as predict-then-
 * learn for models whose predict changes them; a logged predict (no target)
 * is replayed as a predict. Replayed events count toward the next checkpoint,
 * so the log is kept until one covers them. */
static rv_status replay_event(void *ctx, uint64_t seq, const char *model, const void *p, size_t n)
{
    rv_server *s = ctx;
    rv_record r;
    rv_record_init(&r);
    rv_error err = {0};
    if (rv_record_decode(&r, p, n, &err) == RV_OK) {
        if (r.has_y && seq > s->metrics_seq)
            rv_engine_metrics_update(&s->metrics, &r.y, &r.pred);
        rv_model_entry *e = rv_state_find(s, model);
        if (e && r.has_y && seq > e->metrics_seq)
            count_learn(s, e, &r.x, &r.y, &r.pred);
        if (e && !rv_ckpt_covers(e, &r.x, seq)) {
            rv_prediction scratch;
            rv_prediction_init(&scratch);
            if (!r.has_y || (r.predicted && e->predict_mutates))
                rv_engine_predict(e->model, &r.x, &scratch, &err);
            if (r.has_y)
                rv_engine_learn(e->model, &r.x, &r.y, &err);
            rv_prediction_free(&scratch);
        }
        if (e && seq > e->ckpt_low) {
            e->last_seq = seq;
            atomic_fetch_add(&e->since_n, 1);
            atomic_fetch_add(&e->since_bytes, n);
        }
    }
    rv_record_free(&r);
    return RV_OK;
}

static rv_status load_kept(void *ctx, const char *id, const void *p, size_t n, int64_t expires)
{
    rv_server *s = ctx;
    if (expires && expires <= now_s()) {
        rv_store_forget(s->store, id);
        return RV_OK;
    }
    return kept_insert(s, id, p, n, expires);
}

static char *meta_text(rv_server *s, const char *key, rv_error *err)
{
    rv_buf b;
    rv_buf_init(&b);
    int found = 0;
    char *out = NULL;
    if (rv_store_get_meta(s->store, key, &b, &found, err) == RV_OK && found && b.len)
        out = strndup(b.data, b.len);
    rv_buf_free(&b);
    return out;
}

rv_status rv_state_open(rv_server *s, rv_error *err)
{
    rv_rwshard_init(&s->models_lock);
    pthread_mutex_init(&s->metrics_mu, NULL);
    pthread_mutex_init(&s->kept_mu, NULL);
    rv_strmap_init(&s->kept);
    char *flavor = meta_text(s, "flavor", err);
    s->flavor = rv_flavor_parse(flavor);
    free(flavor);
    s->default_model = meta_text(s, "default", err);
    rv_engine_metrics_init(&s->metrics, s->flavor, err);
    rv_buf b;
    rv_buf_init(&b);
    int found = 0;
    rv_store_get_meta(s->store, "metrics", &b, &found, err);
    if (found) {
        rv_reader in;
        rv_reader_init(&in, b.data, b.len);
        s->metrics_seq = rv_reader_u64(&in);
        rv_engine_metrics_load(&s->metrics, &in);
    }
    rv_buf_free(&b);
    rv_status st = rv_store_each_model(s->store, load_model, s, err);
    uint64_t low = s->metrics_seq;
    for (size_t i = 0; i < s->n_models; i++)
        low = s->models[i]->ckpt_low < low ? s->models[i]->ckpt_low : low;
    if (st == RV_OK)
        st = rv_store_each_event(s->store, low, replay_event, s, err);
    if (st == RV_OK)
        st = rv_store_each_kept(s->store, load_kept, s, err);
    rv_ckpt_start(s);
    return st;
}
