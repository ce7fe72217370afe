/* The server's state in memory, and how it is rebuilt from the store.
 *
 * Models live in an array sorted by name, guarded by models_lock (the table:
 * write-locked only to add, replace or delete a model, and then only after
 * ckpt_mu, so that the checkpointer never sees an entry freed under it);
 * each model has its own locks for predict and learn (learn.c).
 *
 * Checkpoint blob of a model:  see checkpoint.c
 * Meta "metrics" (global):     u64 seq | metric states
 * Meta "flavor", "default":    text
 *
 * Startup (learn.c): flavor, default, global metrics; every model from its
 * checkpoint; then the log from the oldest checkpoint on, each event applied
 * where the checkpoint it would change does not cover it.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

const char *rv_flavor_name(rv_flavor f)
{
    switch (f) {
    case RV_FLAVOR_REGRESSION: return "regression";
    case RV_FLAVOR_BINARY: return "binary";
    case RV_FLAVOR_MULTICLASS: return "multiclass";
    default: return "";
    }
}

rv_flavor rv_flavor_parse(const char *s)
{
    for (rv_flavor f = RV_FLAVOR_REGRESSION; f <= RV_FLAVOR_MULTICLASS; f++)
        if (s && strcmp(s, rv_flavor_name(f)) == 0)
            return f;
    return RV_FLAVOR_NONE;
}

/* ===== The table ===== */

static size_t lower_bound(rv_server *s, const char *name)
{
    size_t lo = 0, hi = s->n_models;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(s->models[mid]->name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

rv_model_entry *rv_state_find(rv_server *s, const char *name)
{
    if (!name)
        name = s->default_model;
    if (!name)
        return NULL;
    size_t i = lower_bound(s, name);
    return i < s->n_models && strcmp(s->models[i]->name, name) == 0 ? s->models[i] : NULL;
}

/* Inserts or replaces; the caller holds models_lock for writing. */
static rv_status table_put(rv_server *s, rv_model_entry *e, rv_error *err)
{
    size_t i = lower_bound(s, e->name);
    if (i < s->n_models && strcmp(s->models[i]->name, e->name) == 0) {
        rv_entry_free(s->models[i]);
        s->models[i] = e;
        return RV_OK;
    }
    if (s->n_models == s->cap_models) {
        size_t cap = s->cap_models ? 2 * s->cap_models : 16;
        rv_model_entry **m = realloc(s->models, cap * sizeof *m);
        if (!m)
            return rv_error_set(err, RV_ENOMEM, "out of memory");
        s->models = m;
        s->cap_models = cap;
    }
    memmove(s->models + i + 1, s->models + i, (s->n_models - i) * sizeof *s->models);
    s->models[i] = e;
    s->n_models++;
    return RV_OK;
}

static void table_clear(rv_server *s)
{
    for (size_t i = 0; i < s->n_models; i++)
        rv_entry_free(s->models[i]);
    s->n_models = 0;
    free(s->default_model);
    s->default_model = NULL;
}

/* ===== Models: add, replace, delete ===== */

rv_status rv_state_put_model(rv_server *s, const char *name, rv_object *model, rv_error *err)
{
    pthread_mutex_lock(&s->ckpt_mu);
    rv_rwshard_wrlock(&s->models_lock);
    rv_model_entry *e = rv_entry_new(s, name, model, err);
    rv_status st = e ? RV_OK : RV_ENOMEM;
    uint64_t t = 0;
    if (e) {
        /* No learn of this name runs now (they hold models_lock), so the
         * checkpoint covers every event logged under the name so far. */
        e->last_seq = rv_store_last_seq(s->store);
        t = rv_ckpt_write(s, e);
        if (!t)
            st = rv_error_set(err, RV_EIO, "could not snapshot the model");
    }
    if (st == RV_OK && (st = table_put(s, e, err)) == RV_OK) {
        char *d = strdup(name);
        free(s->default_model);
        s->default_model = d;
        t = rv_store_put_meta(s->store, "default", name, strlen(name));
        uint64_t f = rv_state_forget_kept_of(s, name); /* those of a model this one replaces */
        t = f > t ? f : t;
    } else if (e) {
        rv_entry_free(e);
    }
    rv_rwshard_unlock(&s->models_lock);
    pthread_mutex_unlock(&s->ckpt_mu);
    return st == RV_OK ? rv_store_wait(s->store, t, err) : st;
}

rv_status rv_state_delete_model(rv_server *s, const char *name, rv_error *err)
{
    pthread_mutex_lock(&s->ckpt_mu);
    rv_rwshard_wrlock(&s->models_lock);
    size_t i = lower_bound(s, name);
    if (i >= s->n_models || strcmp(s->models[i]->name, name) != 0) {
        rv_rwshard_unlock(&s->models_lock);
        pthread_mutex_unlock(&s->ckpt_mu);
        return rv_error_set(err, RV_ENOTFOUND, "No model named '%s'.", name);
    }
    rv_entry_free(s->models[i]);
    memmove(s->models + i, s->models + i + 1, (s->n_models - i - 1) * sizeof *s->models);
    s->n_models--;
    uint64_t t = rv_store_delete_model(s->store, name);
    if (s->default_model && strcmp(s->default_model, name) == 0) {
        free(s->default_model);
        s->default_model = NULL;
        t = rv_store_put_meta(s->store, "default", "", 0);
    }
    uint64_t f = rv_state_forget_kept_of(s, name);
    t = f > t ? f : t;
    rv_rwshard_unlock(&s->models_lock);
    pthread_mutex_unlock(&s->ckpt_mu);
    return rv_store_wait(s->store, t, err);
}

rv_status rv_state_reset(rv_server *s, rv_flavor f, rv_error *err)
{
    pthread_mutex_lock(&s->ckpt_mu);
    rv_rwshard_wrlock(&s->models_lock);
    table_clear(s);
    pthread_mutex_lock(&s->kept_mu);
    for (uint32_t i = 0; i < rv_strmap_capacity_used(&s->kept); i++)
        if (rv_strmap_key_at(&s->kept, i, NULL))
            free((void *)(uintptr_t)*rv_strmap_val_at(&s->kept, i));
    rv_strmap_free(&s->kept);
    rv_strmap_init(&s->kept);
    pthread_mutex_unlock(&s->kept_mu);
    rv_store_reset(s->store);
    s->flavor = f;
    const char *name = rv_flavor_name(f);
    rv_store_put_meta(s->store, "flavor", name, strlen(name));
    pthread_mutex_lock(&s->metrics_mu);
    rv_engine_metrics_free(&s->metrics);
    rv_engine_metrics_init(&s->metrics, f, err);
    uint64_t t = rv_ckpt_metrics(s);
    pthread_mutex_unlock(&s->metrics_mu);
    rv_timing_reset(&s->t_predict);
    rv_timing_reset(&s->t_learn);
    rv_rwshard_unlock(&s->models_lock);
    pthread_mutex_unlock(&s->ckpt_mu);
    return rv_store_wait(s->store, t, err);
}

/* Final checkpoints, so that the next start replays nothing, then frees the
 * state. No request runs any more. */
void rv_state_close(rv_server *s)
{
    rv_ckpt_stop(s);
    pthread_mutex_lock(&s->ckpt_mu);
    for (size_t i = 0; i < s->n_models; i++)
        if (atomic_load(&s->models[i]->since_n) > 0)
            rv_ckpt_write(s, s->models[i]);
    rv_store_wait(s->store, rv_ckpt_metrics_and_trim(s), NULL);
    rv_rwshard_wrlock(&s->models_lock);
    table_clear(s);
    free(s->models);
    s->models = NULL;
    rv_engine_metrics_free(&s->metrics);
    for (uint32_t i = 0; i < rv_strmap_capacity_used(&s->kept); i++)
        if (rv_strmap_key_at(&s->kept, i, NULL))
            free((void *)(uintptr_t)*rv_strmap_val_at(&s->kept, i));
    rv_strmap_free(&s->kept);
    rv_rwshard_unlock(&s->models_lock);
    pthread_mutex_unlock(&s->ckpt_mu);
}
