/* Shared internals of the server layer (not a public header).
 *
 *   main.c    flags, environment, signals, start and drain
 *   http.c    libmicrohttpd glue: bodies, limits, auth, routing, responses
 *   api.c     Chantilly's endpoints (init, models, predict, learn, metrics, stats)
 *   batch.c   NDJSON batch predict and learn
 *   ops.c     health, readiness, Prometheus text, OpenAPI
 *   state.c   models in memory, kept predictions, log replay, checkpoints
 *   engine.c  the only file that touches models (parse, snapshot, predict, learn)
 *   codec.c   JSON <-> events, targets, predictions; log record encoding
 *   stats.c   call counts and durations; sse.c  server-sent events
 *   schema.c  Chantilly's payload schemas and cerberus's messages
 */
#ifndef RIVULET_SERVER_INTERNAL_H
#define RIVULET_SERVER_INTERNAL_H

#include "rivulet/core.h"
#include "rivulet/server.h"
#include "rivulet/store.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

/* ===== Flavors ===== */

typedef enum { RV_FLAVOR_NONE = 0, RV_FLAVOR_REGRESSION, RV_FLAVOR_BINARY, RV_FLAVOR_MULTICLASS } rv_flavor;
const char *rv_flavor_name(rv_flavor f);
rv_flavor rv_flavor_parse(const char *s);

/* ===== Requests and responses, independent of the HTTP library ===== */

typedef struct rv_req {
    const char *method, *path;
    const char *body;
    size_t body_len;
    const char *(*arg)(void *ctx, const char *name); /* query arguments (may be NULL) */
    void *arg_ctx;
} rv_req;

static inline const char *rv_req_arg(const rv_req *r, const char *name)
{
    return r->arg ? r->arg(r->arg_ctx, name) : NULL;
}

typedef struct rv_resp {
    int status;
    const char *content_type;
    rv_buf body;
    uint64_t wait; /* store ticket to be committed before answering (0 = none) */
    int close;     /* close the connection after the answer (its framing is not trusted) */
    const char *allow;            /* a 405's Allow header: the methods the path answers */
    const char *www_authenticate; /* a 401's WWW-Authenticate header: the scheme to use */
    rv_buf line_tickets;          /* a batch: each answer line's store ticket (u64, 0 = none) */
} rv_resp;                        /* zeroed: an empty answer */

/* Frees r's buffers and leaves it empty, ready for the next answer. */
void rv_resp_clear(rv_resp *r);

void rv_resp_json(rv_resp *r, int status, json_t *j);        /* steals j */
void rv_resp_message(rv_resp *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* {"message": msg}, with any byte of msg that is not UTF-8 (a cut character,
 * a client's bytes) spelled '?', so that the message is never lost. */
json_t *rv_json_message(const char *msg);
/* JSON text into out with each real respelt as Python's repr (admin.c). */
rv_status rv_json_respell_reals(const char *text, size_t len, rv_buf *out);
/* json_dumps, compact, with reals as Python's repr; free() it. */
char *rv_json_text(const json_t *j);
/* Why jansson refused a text (a body or a batch line), with a hint for NaN. */
void rv_json_problem(const json_error_t *e, const char *text, size_t len, char *out, size_t cap);
void rv_resp_error(rv_resp *r, const rv_error *err);          /* 400/404/500 by code */

/* ===== Engine: the model-facing part ===== */

#define RV_MAX_METRICS 8
typedef struct rv_metric_set {
    int n;
    const char *names[RV_MAX_METRICS];
    rv_object *m[RV_MAX_METRICS];
} rv_metric_set;

/* Builds a model from an upload: a snapshot's bytes, or a definition's text. */
rv_object *rv_engine_load(const char *body, size_t len, rv_error *err);
rv_status rv_engine_check_flavor(const rv_object *model, rv_flavor f, rv_error *err);
rv_status rv_engine_snapshot(const rv_object *model, rv_buf *out);
int rv_engine_predict_mutates(const rv_object *model);
rv_status rv_engine_predict(rv_object *model, const rv_event *x, rv_prediction *out, rv_error *err);
rv_status rv_engine_learn(rv_object *model, const rv_event *x, const rv_value *y, rv_error *err);
rv_status rv_engine_metrics_init(rv_metric_set *ms, rv_flavor f, rv_error *err);
void rv_engine_metrics_free(rv_metric_set *ms);
void rv_engine_metrics_update(rv_metric_set *ms, const rv_value *y, const rv_prediction *p);
rv_status rv_engine_metrics_save(const rv_metric_set *ms, rv_buf *out);
rv_status rv_engine_metrics_load(rv_metric_set *ms, rv_reader *in);

/* ===== Codec ===== */

/* JSON object of features -> event (strings copied into the event). A name
 * never seen before is refused (RV_EINVAL) once the process keeps `limit`
 * names (rv_codec_set_name_limit; 0, the default, is no limit). */
rv_status rv_json_to_event(const json_t *j, rv_event *out, rv_error *err);
void rv_codec_set_name_limit(size_t limit);
json_t *rv_event_to_json(const rv_event *e);
/* A ground truth for the flavor: regression a number; classes a label
 * (true/false become "True"/"False"). String storage borrows from j. */
rv_status rv_json_to_target(const json_t *j, rv_flavor f, rv_value *out, rv_error *err);
json_t *rv_prediction_to_json(const rv_prediction *p);
json_t *rv_metrics_to_json(const rv_metric_set *ms);

/* Log and kept records: model name, features, optional target, prediction. */
typedef struct rv_record {
    const char *model; /* borrowed from the bytes decoded */
    uint32_t model_len;
    rv_event x;
    int has_y;
    int predicted; /* the prediction was made within the learn */
    rv_value y;
    rv_prediction pred;
} rv_record;
void rv_record_init(rv_record *r);
void rv_record_free(rv_record *r);
rv_status rv_record_encode(rv_buf *out, const char *model, const rv_event *x, const rv_value *y,
                           const rv_prediction *p, int predicted);
rv_status rv_record_decode(rv_record *r, const void *p, size_t n, rv_error *err);
/* The model name a record starts with, without decoding the rest (NULL if
 * the record is malformed); *len is its length. */
const char *rv_record_model(const void *p, size_t n, uint32_t *len);

/* ===== Stats ===== */

/* Per-thread slots (rv_thread_slot) for what every request updates, each on
 * its own cache lines: two workers never share a line or a lock for it. */
#define RV_THREAD_SLOTS 8
typedef struct rv_timing_shard {
    _Alignas(64) pthread_mutex_t mu;
    uint64_t n;
    double mean, ewm;
    uint64_t last;         /* when its latest call ended (rv_now_ns) */
    uint64_t hist[64 * 4]; /* log2 buckets with 4 sub-buckets */
} rv_timing_shard;
typedef struct rv_timing {
    rv_timing_shard shard[RV_THREAD_SLOTS];
} rv_timing;
/* A counter bumped by every request: one slot per worker thread, each on
 * its own cache line (rv_thread_slot), summed when read. */
typedef struct rv_counter {
    struct { _Alignas(64) atomic_ullong n; } slot[RV_THREAD_SLOTS];
} rv_counter;
unsigned rv_thread_slot(void); /* this thread's slot, < RV_THREAD_SLOTS */
static inline void rv_counter_add(rv_counter *c)
{
    atomic_fetch_add_explicit(&c->slot[rv_thread_slot()].n, 1, memory_order_relaxed);
}
static inline unsigned long long rv_counter_get(rv_counter *c)
{
    unsigned long long n = 0;
    for (int i = 0; i < RV_THREAD_SLOTS; i++)
        n += atomic_load_explicit(&c->slot[i].n, memory_order_relaxed);
    return n;
}
/* A reader-writer lock split by worker slot, for what every request reads
 * and almost nothing writes (the models table: uploads, deletes, init). A
 * reader locks only its own slot's lock, on its own cache line, so readers
 * on two cores never pass a line back and forth; a writer locks every slot,
 * in order. rv_rwshard_unlock knows which it was: while a reader holds its
 * slot no writer can hold them all, so write_held reads 0 for it. */
typedef struct rv_rwshard {
    struct { _Alignas(64) pthread_rwlock_t l; } slot[RV_THREAD_SLOTS];
    atomic_int write_held;
} rv_rwshard;
static inline void rv_rwshard_init(rv_rwshard *r)
{
    for (int i = 0; i < RV_THREAD_SLOTS; i++)
        pthread_rwlock_init(&r->slot[i].l, NULL);
    atomic_init(&r->write_held, 0);
}
static inline void rv_rwshard_destroy(rv_rwshard *r)
{
    for (int i = 0; i < RV_THREAD_SLOTS; i++)
        pthread_rwlock_destroy(&r->slot[i].l);
}
static inline void rv_rwshard_rdlock(rv_rwshard *r)
{
    pthread_rwlock_rdlock(&r->slot[rv_thread_slot()].l);
}
static inline void rv_rwshard_wrlock(rv_rwshard *r)
{
    for (int i = 0; i < RV_THREAD_SLOTS; i++)
        pthread_rwlock_wrlock(&r->slot[i].l);
    atomic_store(&r->write_held, 1);
}
static inline void rv_rwshard_unlock(rv_rwshard *r)
{
    if (!atomic_load(&r->write_held)) {
        pthread_rwlock_unlock(&r->slot[rv_thread_slot()].l);
        return;
    }
    atomic_store(&r->write_held, 0);
    for (int i = RV_THREAD_SLOTS - 1; i >= 0; i--)
        pthread_rwlock_unlock(&r->slot[i].l);
}
void rv_timing_init(rv_timing *t);
/* A call that ran from start to end (rv_now_ns). */
void rv_timing_add(rv_timing *t, uint64_t start, uint64_t end);
/* The calls so far, merged over the shards (n, sum of durations). */
void rv_timing_totals(rv_timing *t, uint64_t *n, double *sum_ns);
void rv_timing_reset(rv_timing *t);
json_t *rv_timing_to_json(rv_timing *t);
uint64_t rv_now_ns(void);
void rv_humanize_ns(uint64_t ns, char *out, size_t cap);

/* ===== Server-sent events ===== */

typedef struct rv_announcer rv_announcer;
typedef struct rv_listener rv_listener;
rv_announcer *rv_announcer_new(size_t buffer_bytes, int keepalive_ms);
void rv_announcer_free(rv_announcer *a);
void rv_announcer_stop(rv_announcer *a);          /* ends every stream */
int rv_announcer_active(const rv_announcer *a);   /* any listener? (cheap) */
int rv_announcer_listeners(const rv_announcer *a); /* how many */
/* event NULL: an unnamed message (a browser's onmessage, sseclient's "message"). */
void rv_announce(rv_announcer *a, const char *event, const char *data, size_t len);
/* A listener whose reads found nothing is parked: park(arg) runs (the HTTP
 * layer suspends the connection) and later unpark(arg) (it resumes it),
 * when there is something to send, a keep-alive is due, or the stream ends. */
rv_listener *rv_listen(rv_announcer *a, void (*park)(void *), void (*unpark)(void *), void *arg);
/* Never blocks: fills buf with queued SSE bytes or a due keep-alive comment
 * and returns how many; 0 = nothing now (the listener is parked); -1 = the
 * stream is over. */
long rv_listener_read(rv_listener *l, char *buf, size_t cap);
void rv_listener_close(rv_listener *l);

/* ===== Per-key metrics of families (keymetrics.c) ===== */

typedef struct rv_key_row {
    double n, m1, m2, m3, tp, fp, fn;
} rv_key_row;
typedef struct rv_key_metrics {
    rv_strmap idx; /* key -> row index, in first-seen order */
    rv_key_row *rows;
    uint32_t n, cap;
} rv_key_metrics;
void rv_keym_init(rv_key_metrics *k);
void rv_keym_free(rv_key_metrics *k);
void rv_keym_update(rv_key_metrics *k, rv_flavor f, const char *key, size_t len, const rv_value *y,
                    const rv_prediction *p);
const char *rv_keym_name(rv_flavor f, int i); /* NULL past the last */
double rv_keym_value(const rv_key_row *r, rv_flavor f, int i);
json_t *rv_keym_to_json(const rv_key_row *r, rv_flavor f);
rv_status rv_keym_save(const rv_key_metrics *k, rv_buf *out);
rv_status rv_keym_load(rv_key_metrics *k, rv_reader *in);

/* ===== Server state ===== */

/* Locks of a model (see learn.c): a plain model's learn holds `lock` for
 * writing; a family's learn holds `lock` for reading and its key's stripe for
 * writing, so other keys proceed. Predicts hold them for reading (for
 * writing where predict changes the model). The per-model metrics and
 * last_seq change only under s->metrics_mu, in log order. */
#define RV_STRIPES 256
#define RV_BATCH_MAX_LINES 1000000 /* per NDJSON batch (api.c); M5's daily update is 30,490 */
typedef struct rv_model_entry {
    char *name;
    rv_rwshard lock;           /* split by worker slot: predicts on two cores share no line */
    pthread_rwlock_t *stripes; /* families only: RV_STRIPES locks by key hash */
    pthread_mutex_t newkey_mu; /* families: held by a learn creating a key (--max-family-keys) */
    rv_object *model;
    int predict_mutates, is_family;
    atomic_int thaw_for; /* predicts left that skip the frozen first try (learn.c) */
    rv_buf def;                /* families: snapshot of the empty family */
    rv_metric_set metrics;
    rv_key_metrics keym;       /* families: per key (under metrics_mu) */
    uint64_t n_learned;        /* learns counted by the metrics (under metrics_mu) */
    uint64_t last_seq;         /* last log event of this model */
    /* The stored checkpoint: the lowest seq it covers (state and metrics),
     * and what replay compares each event with. */
    uint64_t ckpt_low, state_seq, metrics_seq;
    uint64_t *stripe_seq;      /* families: per stripe, from the checkpoint */
    uint64_t ckpt_bytes;       /* size of the last checkpoint */
    atomic_ullong since_n, since_bytes; /* logged since the last checkpoint began */
    atomic_int ckpt_wanted;
} rv_model_entry;

/* The stripe of a family key: FNV-1a (32-bit) of its bytes mod RV_STRIPES.
 * Part of the checkpoint format: replay maps events to stripes with it. */
static inline unsigned rv_stripe_of(const char *key, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    return h % RV_STRIPES;
}

typedef struct rv_config {
    const char *host;
    int port;
    const char *db;
    int max_connections;  /* the cap on open connections */
    int workers;          /* libmicrohttpd's thread pool on epoll */
    const char *token;
    size_t max_body;
    int timeout_s;
    int keep_ttl_s;       /* kept predictions expire after this (0 = never) */
    size_t max_kept;      /* at most this many kept at once (0 = no cap) */
    int checkpoint_every; /* learns per model between checkpoints (at least) */
    size_t max_family_keys; /* a learn creating key n + 1 of a family is refused (0 = unlimited) */
    size_t max_feature_names; /* a request naming feature n + 1 of the process is refused (0 = unlimited) */
    int test_learn_delay_ms; /* tests only: learns of events with a feature 'slow' sleep this long */
    unsigned test_segment_rows; /* tests only: commits per log segment (0: the store's) */
    int sse_keepalive_ms;
    int max_streams;      /* open event streams at most (0 = no limit) */
    int verbose;          /* log each request (never the token) */
    const char *port_file;
} rv_config;

typedef struct rv_server {
    rv_config cfg;
    rv_store *store;
    rv_rwshard models_lock;       /* the table; each entry has its own lock */
    rv_model_entry **models;
    size_t n_models, cap_models;
    char *default_model;
    rv_flavor flavor;
    pthread_mutex_t metrics_mu;   /* global metrics and log order */
    rv_metric_set metrics;
    uint64_t metrics_seq;
    pthread_mutex_t kept_mu;
    rv_strmap kept;               /* id -> malloc'ed {int64 expires, u32 len, bytes} */
    rv_timing t_predict, t_learn;
    rv_announcer *sse_events, *sse_metrics;
    void *daemon;
    struct rv_acceptor *acceptor; /* acceptor.c: ours, not libmicrohttpd's */
    atomic_int open_conns;        /* connections open, for the cap (acceptor.c) */
    struct rv_deadlines *deadlines; /* slow and idle connections (deadline.c) */
    pthread_mutex_t park_mu;      /* requests waiting for a commit (http.c) */
    void **parked;
    size_t n_parked, cap_parked;
    uint64_t started_ns;
    pthread_mutex_t ckpt_mu;      /* one checkpoint at a time; table changes wait for it */
    pthread_mutex_t wake_mu;
    pthread_cond_t wake;
    int ckpt_pending, ckpt_stop;
    pthread_t ckpt_thread;
    int ckpt_running;
    atomic_ullong n_checkpoints;  /* written by the checkpointer */
    atomic_int ready, draining;
    atomic_int store_failure_told; /* the store's failure was logged (http.c) */
    rv_counter n_requests, n_errors;
    atomic_ulong name_counter; /* concurrent unnamed uploads each take their own */
} rv_server;

rv_status rv_state_open(rv_server *s, rv_error *err);  /* load checkpoints, replay */
void rv_state_close(rv_server *s);                     /* final checkpoints */
rv_status rv_state_reset(rv_server *s, rv_flavor f, rv_error *err);
/* Finds a model by name (NULL = default) with models_lock held for reading by
 * the caller. */
rv_model_entry *rv_state_find(rv_server *s, const char *name);
rv_status rv_state_put_model(rv_server *s, const char *name, rv_object *model, rv_error *err);
rv_status rv_state_delete_model(rv_server *s, const char *name, rv_error *err);

/* ===== Checkpoints (checkpoint.c) ===== */

/* Builds e's checkpoint blob and records what it covers in e; the caller
 * holds ckpt_mu (or is alone). Takes e's locks itself, briefly per stripe. */
rv_status rv_ckpt_build(rv_server *s, rv_model_entry *e, rv_buf *blob, rv_error *err);
/* A copy of family e taken stripe by stripe (no whole-family stop). */
rv_object *rv_ckpt_family_copy(rv_server *s, rv_model_entry *e, rv_error *err);
/* Builds and queues e's checkpoint; returns the store ticket (0 = failed). */
uint64_t rv_ckpt_write(rv_server *s, rv_model_entry *e);
/* Restores a model from its blob (either version); NULL with err on failure.
 * Sets the entry's replay bounds. */
rv_model_entry *rv_ckpt_load(rv_server *s, const char *name, const void *blob, size_t n,
                             uint64_t row_seq, rv_error *err);
/* Whether replay must apply a log event of e with this seq to the model. */
int rv_ckpt_covers(rv_model_entry *e, const rv_event *x, uint64_t seq);
/* Global metrics checkpoint, then trims the log below every checkpoint. */
uint64_t rv_ckpt_metrics_and_trim(rv_server *s);
uint64_t rv_ckpt_metrics(rv_server *s); /* caller holds metrics_mu */
/* After a logged event: asks the checkpointer for e when due. */
void rv_ckpt_note(rv_server *s, rv_model_entry *e, size_t bytes);
void rv_ckpt_start(rv_server *s);
void rv_ckpt_stop(rv_server *s);
/* Entry life: the table owns entries; create and free here. */
rv_model_entry *rv_entry_new(rv_server *s, const char *name, rv_object *model, rv_error *err);
void rv_entry_free(rv_model_entry *e);
/* Kept predictions: keep stores a copy; take removes it (RV_ENOTFOUND if
 * absent or expired) and hands back the record bytes (malloc'ed). */
uint64_t rv_state_forget_kept_of(rv_server *s, const char *model);
rv_status rv_state_keep(rv_server *s, const char *id, const rv_buf *record, uint64_t *ticket);
char *rv_state_take(rv_server *s, const char *id, size_t *len, int64_t *expires);
void rv_state_put_back(rv_server *s, const char *id, char *bytes, size_t len, int64_t expires);

/* Learn one event on an entry (write-locked by this call): updates metrics
 * with the prediction (predicting first when pred is NULL), learns, logs.
 * used (NULL: not wanted) gets a copy of the prediction the metrics saw.
 * *ticket is what to wait for before acknowledging. */
rv_status rv_state_learn(rv_server *s, rv_model_entry *e, const rv_event *x, const rv_value *y,
                         const rv_prediction *pred, rv_prediction *used, const char *forget_id,
                         uint64_t *ticket, rv_error *err);
rv_status rv_state_predict(rv_server *s, rv_model_entry *e, const rv_event *x, rv_prediction *out,
                           rv_error *err);

/* ===== Handlers ===== */

void rv_api_dispatch(rv_server *s, const rv_req *req, rv_resp *resp);
int rv_api_changes_state(const char *method, const char *path);
/* One predict or learn from a parsed payload: returns the HTTP status and
 * sets *result (the answer, or {"message"}); *ticket is the store write to
 * wait for before answering (0 = none). A predict given direct may instead
 * write a numeric answer straight into it, leaving *result NULL. */
int rv_api_predict_one(rv_server *s, json_t *payload, json_t **result, rv_resp *direct,
                       uint64_t *ticket);
int rv_api_learn_one(rv_server *s, json_t *payload, json_t **result, uint64_t *ticket);
/* A batch whose commit failed: the lines whose writes are not durable
 * (ticket past durable) become {"message": why, "status": 500}; the lines
 * committed before the failure keep their answers. */
void rv_batch_mark_lost(rv_resp *resp, uint64_t durable, const char *why);
void rv_batch(rv_server *s, const rv_req *req, rv_resp *resp, int learn);
void rv_ops_healthz(rv_server *s, rv_resp *resp);
void rv_models_metrics(rv_server *s, const rv_req *req, rv_resp *resp);
void rv_ops_readyz(rv_server *s, rv_resp *resp);
void rv_ops_prometheus(rv_server *s, rv_resp *resp);
void rv_ops_openapi(rv_server *s, rv_resp *resp);
int rv_http_start(rv_server *s, rv_error *err);
void rv_http_stop(rv_server *s);

#endif
