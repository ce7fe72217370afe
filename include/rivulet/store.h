/* store: where the server keeps what it must not lose.
 *
 * The shape is a log plus checkpoints, so that another engine (a replicated
 * stream and a key-value bucket) can replace SQLite later:
 *
 *   log         every acknowledged learn, appended with a sequence number
 *               (1, 2, 3, ... over the whole store, never reused);
 *   checkpoints one per model: its definition and snapshot bytes, and the
 *               sequence number of the last log event they cover;
 *   kept        predictions made with an id, waiting for their ground truth;
 *   meta        small named values (flavor, default model, metric state).
 *
 * Restart = load every checkpoint, then replay the log after it.
 *
 * Writes go through one committer thread that gathers whatever is queued into
 * one transaction (group commit): a caller enqueues, gets its sequence number
 * at once, and waits for rv_store_wait(seq) before acknowledging. Payloads are
 * opaque bytes: the store knows nothing of events or models. No SQL exists
 * outside src/store/.
 */
#ifndef RIVULET_STORE_H
#define RIVULET_STORE_H

#include "rivulet/core.h"

typedef struct rv_store rv_store;

/* Opens (creating if needed) the store at path; ":memory:" is not durable. */
rv_status rv_store_open(const char *path, rv_store **out, rv_error *err);
/* Commits what is queued, stops the committer and closes. NULL-safe. */
void rv_store_close(rv_store *s);
/* Copies the store at path into out_path, a file that must not exist yet,
 * while a server may be using it: the copy holds everything committed when
 * the copy began, and `rivulet serve --db out_path` starts from it. Sets
 * *bytes to the copy's size. */
rv_status rv_store_backup(const char *path, const char *out_path, long long *bytes, rv_error *err);
/* Human description of the engine, e.g. "sqlite 3.40.1 (WAL)". */
const char *rv_store_engine(const rv_store *s);

/* ===== Queued writes (group commit) ===== */

/* Each returns the ticket to pass to rv_store_wait (0 on failure). */
uint64_t rv_store_append(rv_store *s, const char *model, const void *p, size_t n);
/* An append nobody will wait for soon (a predict's record): it may wait up to
 * 20 ms for other writes to share its commit; a wait on it, or any other
 * write, commits it at once. Order with other writes is kept. */
uint64_t rv_store_append_lazy(rv_store *s, const char *model, const void *p, size_t n);
uint64_t rv_store_put_checkpoint(rv_store *s, const char *model, const void *def, size_t def_len,
                                 const void *snap, size_t snap_len, uint64_t last_seq);
uint64_t rv_store_delete_model(rv_store *s, const char *model);
uint64_t rv_store_keep(rv_store *s, const char *id, const void *p, size_t n, int64_t expires);
uint64_t rv_store_forget(rv_store *s, const char *id);
uint64_t rv_store_put_meta(rv_store *s, const char *key, const void *p, size_t n);
/* Drops everything (models, log, kept, meta). */
uint64_t rv_store_reset(rv_store *s);
/* Blocks until the write with this ticket (and all before it) is committed.
 * RV_EIO if the commit failed. */
rv_status rv_store_wait(rv_store *s, uint64_t ticket, rv_error *err);
/* Without blocking: *done = 1 once the write with this ticket is committed
 * (or the store failed, which returns RV_EIO). */
rv_status rv_store_check(rv_store *s, uint64_t ticket, int *done, rv_error *err);
/* RV_OK while every commit has succeeded; once one has failed, RV_EIO with
 * the reason, and every later write is refused. Cheap: no lock until then. */
rv_status rv_store_failure(rv_store *s, rv_error *err);
/* Every write with a ticket up to this one is durable (after a failure, the
 * writes of the commits before it are, and no later ones). */
uint64_t rv_store_durable(rv_store *s);
/* fn(ctx, done, failed) runs on the committer thread after every commit,
 * with no store lock held: an event loop parks waiters and resumes them
 * from here instead of blocking a thread per waiter. NULL fn = none. */
void rv_store_set_notify(rv_store *s, void (*fn)(void *ctx, uint64_t done, int failed), void *ctx);

/* ===== Reads (at startup, or of committed data) ===== */

rv_status rv_store_get_meta(rv_store *s, const char *key, rv_buf *out, int *found, rv_error *err);

typedef rv_status (*rv_store_model_fn)(void *ctx, const char *name, const void *def, size_t def_len,
                                       const void *snap, size_t snap_len, uint64_t last_seq);
rv_status rv_store_each_model(rv_store *s, rv_store_model_fn fn, void *ctx, rv_error *err);

typedef rv_status (*rv_store_event_fn)(void *ctx, uint64_t seq, const char *model, const void *p,
                                       size_t n);
/* Log events with seq > after, in order. */
rv_status rv_store_each_event(rv_store *s, uint64_t after, rv_store_event_fn fn, void *ctx,
                              rv_error *err);

typedef rv_status (*rv_store_kept_fn)(void *ctx, const char *id, const void *p, size_t n,
                                      int64_t expires);
rv_status rv_store_each_kept(rv_store *s, rv_store_kept_fn fn, void *ctx, rv_error *err);

/* Lets go of log events with seq <= upto (covered by every checkpoint): the
 * store drops them a segment at a time, so some may still be read back. */
uint64_t rv_store_trim(rv_store *s, uint64_t upto);
/* Tests only: packs per log segment (default 1024), to see segments turn. */
void rv_store_set_segment_rows(rv_store *s, unsigned rows);
/* The largest sequence number handed out so far. */
uint64_t rv_store_last_seq(rv_store *s);

#endif
