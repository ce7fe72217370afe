/* The SQLite store: the only file in rivulet that speaks SQL.
 *
 * Tables (WAL journal, synchronous=FULL, so a COMMIT that returned is on disk):
 *
 *   log, log1, log2, log3(seq INTEGER PRIMARY KEY, model TEXT, body BLOB)
 *   models(name TEXT PRIMARY KEY, def BLOB, snap BLOB, last_seq INTEGER)
 *   kept(id TEXT PRIMARY KEY, body BLOB, expires INTEGER)
 *   meta(key TEXT PRIMARY KEY, val BLOB)       -- includes 'seq', the counter
 *   format(version INTEGER)                    -- one row: STORE_FORMAT
 *
 * Group commit: writers append an op to a queue under a mutex and get a ticket
 * (a counter shared by all ops; a log event's seq is its ticket, so seqs only
 * grow, with gaps). The committer thread takes the whole queue, runs it in one
 * transaction, records the highest ticket (commit_batch), commits, and
 * wakes the waiters. One fsync thus covers every learn that arrived meanwhile: at 64
 * concurrent clients a commit carries tens of learns. The log events of one
 * commit go into one row (a pack: model column PACK, seq = the pack's last
 * seq, body = per event u64 seq | bytes model | bytes event, rv_buf
 * encoding), so a commit costs one B-tree insert, not one per event; reading
 * unpacks, and trimming by the row's seq only drops fully covered packs.
 *
 * Lazy writes (rv_store_append_lazy: the log records of predicts that change
 * a model, which nobody waits for) do not start a commit on their own: the
 * committer lets them gather for up to LAZY_MS, or LAZY_BYTES, so a stream of
 * such predicts costs one fsync per LAZY_MS instead of one per batch. Any
 * other write, or a wait or check on a ticket not yet committed, makes the
 * queue urgent and it is committed at once, lazy writes included, in order:
 * so an acknowledged learn still covers every predict that came before it,
 * and a kill -9 loses at most the last LAZY_MS of unacknowledged predicts,
 * which leaves the models as if those predicts never happened.
 *
 * The log is four segments (the tables log, log1, log2, log3), written one
 * after the other: appends go to the current one until it holds
 * SEGMENT_ROWS packs and the next is empty, then move on (so each segment
 * holds one run of seqs). A trim empties whole segments whose every row it
 * covers, with a DELETE without WHERE, which SQLite runs as a truncation:
 * a few freelist pages. Deleting the covered rows one by one, as before,
 * rewrote every leaf page it emptied into the WAL: 1,258 pages (5 MB) for
 * 12,500 packs, against 5 for the truncation, and at 39,000 learns/s a
 * trim after 30,000 learns of a model put the learn p99 at 4 ms and after
 * 100,000 at 13 ms (BENCHMARKS.md). Rows a trim covers in a segment it
 * cannot empty stay until it can; replay skips what checkpoints cover.
 *
 * secure_delete=FAST: Debian builds SQLite with SECURE_DELETE, so the trim
 * after each model checkpoint also wrote every page it freed back to the
 * WAL as zeros. FAST still zeroes deleted rows on the pages that remain and
 * leaves freed pages for reuse. The trim's commit fell from 2.5-6 ms to
 * 1.2-2 ms, and every learn queued behind it waits that long (BENCHMARKS.md).
 *
 * Compressed packs: the log is most of what the store writes (every learn's
 * event, about 100 bytes, goes to the WAL and again to the database at a WAL
 * checkpoint), and the events of a pack repeat their model, feature names
 * and much of their values. A pack of at least PACKZ_MIN bytes that deflates
 * (zlib, fastest level) smaller is stored as PACKZ: u32 raw length | the zlib
 * stream, whose Adler-32 lets a read tell a damaged pack. Learns of the M5
 * subset shrink 6.3 times in batches of 280, and about 4 times in commits of
 * 7 single learns (the benchmark's at 41,000/s), for about 2.5 us of the
 * committer's time per 700 bytes. Less to write to the WAL and copy to the
 * database lowered the learn p99 (BENCHMARKS.md). Stores that may hold
 * them say so in the table format (STORE_FORMAT, check_format); a store of
 * a later format is refused rather than misread.
 *
 * If a commit fails the store is poisoned: every later wait reports RV_EIO,
 * since acknowledging learns that might be lost would break the promise.
 *
 * One store, one process: rv_store_open takes an exclusive flock on the
 * database file and holds it until rv_store_close. Two servers on one file
 * would hand out the same seqs and checkpoint stale models over each other's
 * learns. flock does not touch SQLite's own (fcntl) locks, so readers such as
 * rv_store_backup, which takes no flock, still copy a running server's store;
 * the lock's descriptor is closed only after the connection, since closing
 * any descriptor of the file drops the process's fcntl locks on it.
 */
#include "rivulet/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

enum { LAZY_MS = 20, LAZY_BYTES = 4 << 20, SEGMENTS = 4, SEGMENT_ROWS = 1024, PACKZ_MIN = 128,
       PACK_KEEP = 8 << 20 };

/* The format of a store this build writes (the table format); stores
 * without that table, format 0, have no compressed packs. */
enum { STORE_FORMAT = 1 };

static const char *const SEGMENT[SEGMENTS] = {"log", "log1", "log2", "log3"};

enum { OP_APPEND, OP_CHECKPOINT, OP_DELMODEL, OP_KEEP, OP_FORGET, OP_META, OP_RESET, OP_TRIM };

typedef struct op {
    struct op *next;
    int kind;
    uint64_t ticket;
    int64_t num;    /* last_seq, expires or trim bound */
    char *key;      /* model, id or meta key */
    char *a, *b;    /* payloads */
    size_t alen, blen;
    char bytes[];   /* key, a and b live here: one allocation per op */
} op;

struct rv_store {
    sqlite3 *db;
    pthread_mutex_t mu;   /* the queue and tickets */
    pthread_mutex_t dbmu; /* the connection: committer and readers */
    pthread_cond_t queued, committed;
    op *head, *tail;
    uint64_t next_ticket, done_ticket;
    uint64_t durable_ticket; /* the last ticket of the last commit that succeeded */
    atomic_int failed; /* written under mu; read without it by rv_store_failure */
    int stopping;
    int urgent;              /* the queue holds a write someone waits for */
    size_t queued_bytes;     /* payload bytes queued since the last commit */
    struct timespec lazy_by; /* when the oldest queued lazy write must commit */
    char fail_msg[256];
    int lock_fd; /* holds the flock on the file; -1 for :memory: */
    pthread_t thread;
    char engine[64];
    sqlite3_stmt *st[8];
    sqlite3_stmt *append[SEGMENTS], *clear[SEGMENTS];
    struct segment {
        uint64_t rows, first, last; /* pack rows (any: UINT32_MAX), seqs of the first and last */
    } seg[SEGMENTS];              /* under dbmu, like the connection */
    int cur;                      /* the segment appends go to */
    uint64_t segment_rows;        /* SEGMENT_ROWS, or a test's */
    rv_buf pack;  /* the committer's pack of log events */
    rv_buf packz; /* and its compressed form */
    z_stream z;   /* the committer's deflater, reset per pack */
    int z_ready;
    void (*notify)(void *, uint64_t, int); /* after each commit, outside mu */
    void *notify_ctx;
};

/* The log's tables are made by open_segments. */
static const char *const SCHEMA =
    "CREATE TABLE IF NOT EXISTS models(name TEXT PRIMARY KEY, def BLOB, snap BLOB,"
    " last_seq INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS kept(id TEXT PRIMARY KEY, body BLOB, expires INTEGER);"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, val BLOB);";

static const char *const STMTS[] = {
    [OP_CHECKPOINT] = "INSERT OR REPLACE INTO models(name, def, snap, last_seq) VALUES(?2, ?3, ?4, ?1)",
    [OP_DELMODEL] = "DELETE FROM models WHERE name = ?2",
    [OP_KEEP] = "INSERT OR REPLACE INTO kept(id, body, expires) VALUES(?2, ?3, ?1)",
    [OP_FORGET] = "DELETE FROM kept WHERE id = ?2",
    [OP_META] = "INSERT OR REPLACE INTO meta(key, val) VALUES(?2, ?3)",
    [OP_RESET] = "DELETE FROM models; DELETE FROM kept; DELETE FROM meta WHERE key != 'seq'", /* and the log */
};

/* ===== Committer ===== */

#define PACK "\x01pack"
#define PACKZ "\x01packz"

/* The row to store for the pack in s->pack: its compressed form when that is
 * smaller, else the pack itself; *model is the row's marker. */
static const void *squeeze_pack(rv_store *s, size_t *len, const char **model)
{
    const rv_buf *raw = &s->pack;
    rv_buf *z = &s->packz;
    *model = PACK;
    *len = raw->len;
    if (!s->z_ready || raw->len < PACKZ_MIN || raw->len > UINT32_MAX / 2)
        return raw->data ? raw->data : "";
    uLong bound = deflateBound(&s->z, (uLong)raw->len);
    rv_buf_reset(z);
    if (rv_buf_reserve(z, 4 + bound) != RV_OK || deflateReset(&s->z) != Z_OK)
        return raw->data;
    rv_buf_put_u32(z, (uint32_t)raw->len);
    s->z.next_in = (Bytef *)raw->data;
    s->z.avail_in = (uInt)raw->len;
    s->z.next_out = (Bytef *)z->data + 4;
    s->z.avail_out = (uInt)bound;
    if (deflate(&s->z, Z_FINISH) != Z_STREAM_END || 4 + s->z.total_out >= raw->len)
        return raw->data;
    *model = PACKZ;
    *len = 4 + s->z.total_out;
    return z->data;
}

/* Runs the appends from o on (up to the first other op) as one pack row;
 * returns the op after them. */
static const op *run_pack(rv_store *s, const op *o, int *rc)
{
    rv_buf *b = &s->pack;
    rv_buf_reset(b);
    uint64_t last = 0;
    for (; o && o->kind == OP_APPEND; o = o->next) {
        rv_buf_put_u64(b, o->ticket);
        rv_buf_put_bytes(b, o->key, (uint32_t)strlen(o->key));
        rv_buf_put_bytes(b, o->a, (uint32_t)o->alen);
        last = o->ticket;
    }
    if (b->oom) {
        *rc = SQLITE_NOMEM;
        return o;
    }
    struct segment *g = &s->seg[s->cur];
    int next = (s->cur + 1) % SEGMENTS;
    if (g->rows >= s->segment_rows && s->seg[next].rows == 0)
        g = &s->seg[s->cur = next];
    const char *marker;
    size_t len;
    const void *row = squeeze_pack(s, &len, &marker);
    sqlite3_stmt *st = s->append[s->cur];
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, (int64_t)last);
    sqlite3_bind_text(st, 2, marker, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, row, (int)len, SQLITE_STATIC);
    *rc = sqlite3_step(st);
    sqlite3_reset(st);
    *rc = *rc == SQLITE_DONE ? SQLITE_OK : *rc;
    if (b->cap > PACK_KEEP) { /* a day's batch need not stay allocated */
        rv_buf_free(b);
        rv_buf_free(&s->packz);
    }
    if (*rc == SQLITE_OK) { /* a failed commit poisons the store: counts no longer matter */
        g->first = g->rows++ ? g->first : last;
        g->last = last;
    }
    return o;
}

/* Empties every segment whose rows all have seq <= upto (the top of the
 * file); UINT64_MAX empties the whole log. */
static int trim_segments(rv_store *s, uint64_t upto)
{
    for (int k = 0; k < SEGMENTS; k++) {
        if (!s->seg[k].rows || s->seg[k].last > upto)
            continue;
        int rc = sqlite3_step(s->clear[k]);
        sqlite3_reset(s->clear[k]);
        if (rc != SQLITE_DONE)
            return rc;
        s->seg[k] = (struct segment){0};
    }
    return SQLITE_OK;
}

static int run_op(rv_store *s, const op *o)
{
    if (o->kind == OP_TRIM)
        return trim_segments(s, (uint64_t)o->num);
    if (o->kind == OP_RESET) {
        int rc = trim_segments(s, UINT64_MAX);
        return rc == SQLITE_OK ? sqlite3_exec(s->db, STMTS[OP_RESET], NULL, NULL, NULL) : rc;
    }
    sqlite3_stmt *st = s->st[o->kind];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    int64_t first = o->kind == OP_APPEND ? (int64_t)o->ticket : o->num;
    sqlite3_bind_int64(st, 1, first);
    if (o->key)
        sqlite3_bind_text(st, 2, o->key, -1, SQLITE_STATIC);
    if (o->a)
        sqlite3_bind_blob(st, 3, o->a, (int)o->alen, SQLITE_STATIC);
    if (o->b)
        sqlite3_bind_blob(st, 4, o->b, (int)o->blen, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void free_ops(op *o)
{
    while (o) {
        op *next = o->next;
        free(o);
        o = next;
    }
}

/* The ticket counter must survive restarts (seqs are never reused). When a
 * batch ends with log events, its last pack row's seq is the batch's last
 * ticket and says it; only other batches write the counter to meta, which
 * spares most commits a page (load_counter takes the larger of the two). */
static int commit_batch(rv_store *s, op *batch, uint64_t last)
{
    int rc = sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
    int ends_with_pack = 0;
    for (const op *o = batch; rc == SQLITE_OK && o;) {
        if (o->kind == OP_APPEND) {
            o = run_pack(s, o, &rc);
            ends_with_pack = !o;
        } else {
            rc = run_op(s, o);
            o = o->next;
        }
    }
    if (rc == SQLITE_OK && !ends_with_pack) {
        op counter = {.kind = OP_META, .key = "seq", .a = (char *)&last, .alen = sizeof last};
        rc = run_op(s, &counter);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        pthread_mutex_lock(&s->mu);
        snprintf(s->fail_msg, sizeof s->fail_msg, "store commit failed: %s", sqlite3_errmsg(s->db));
        pthread_mutex_unlock(&s->mu);
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

/* Whether the committer should commit now (caller holds mu). */
static int commit_due(const rv_store *s)
{
    return s->urgent || s->stopping || s->queued_bytes >= LAZY_BYTES;
}

static void *committer(void *arg)
{
    rv_store *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->head && !s->stopping)
            pthread_cond_wait(&s->queued, &s->mu);
        if (!s->head && s->stopping)
            break;
        while (!commit_due(s) && pthread_cond_timedwait(&s->queued, &s->mu, &s->lazy_by) != ETIMEDOUT)
            ;
        op *batch = s->head;
        uint64_t last = s->tail->ticket;
        s->head = s->tail = NULL;
        s->urgent = 0;
        s->queued_bytes = 0;
        pthread_mutex_unlock(&s->mu);
        pthread_mutex_lock(&s->dbmu);
        int rc = s->failed ? SQLITE_ERROR : commit_batch(s, batch, last);
        pthread_mutex_unlock(&s->dbmu);
        free_ops(batch);
        pthread_mutex_lock(&s->mu);
        s->done_ticket = last;
        if (rc == SQLITE_OK)
            s->durable_ticket = last;
        else
            s->failed = 1;
        int failed = s->failed;
        pthread_cond_broadcast(&s->committed);
        if (s->notify) {
            pthread_mutex_unlock(&s->mu);
            s->notify(s->notify_ctx, last, failed);
            pthread_mutex_lock(&s->mu);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* A waiter needs ticket committed: make the queue urgent (caller holds mu). */
static void hurry(rv_store *s, uint64_t ticket)
{
    if (ticket > s->done_ticket && !s->urgent && s->head) {
        s->urgent = 1;
        pthread_cond_signal(&s->queued);
    }
}

static char *put_bytes(char **at, const void *p, size_t n)
{
    if (!p)
        return NULL;
    char *d = *at;
    memcpy(d, p, n);
    *at += n;
    return d;
}

static uint64_t enqueue(rv_store *s, int kind, const char *key, const void *a, size_t alen,
                        const void *b, size_t blen, int64_t num, int lazy)
{
    size_t klen = key ? strlen(key) + 1 : 0;
    op *o = malloc(sizeof *o + klen + alen + blen);
    if (!o)
        return 0;
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->num = num;
    char *at = o->bytes;
    o->key = put_bytes(&at, key, klen);
    o->a = put_bytes(&at, a, alen);
    o->b = put_bytes(&at, b, blen);
    o->alen = alen;
    o->blen = blen;
    pthread_mutex_lock(&s->mu);
    o->ticket = ++s->next_ticket;
    int wake = !s->head || (!lazy && !s->urgent); /* a new queue, or it just became urgent */
    if (s->tail)
        s->tail->next = o;
    else
        s->head = o;
    s->tail = o;
    if (!lazy)
        s->urgent = 1;
    if (lazy && o == s->head) {
        clock_gettime(CLOCK_MONOTONIC, &s->lazy_by);
        s->lazy_by.tv_nsec += LAZY_MS * 1000000L;
        if (s->lazy_by.tv_nsec >= 1000000000L) {
            s->lazy_by.tv_sec++;
            s->lazy_by.tv_nsec -= 1000000000L;
        }
    }
    s->queued_bytes += alen + blen;
    if (wake || s->queued_bytes >= LAZY_BYTES)
        pthread_cond_signal(&s->queued);
    uint64_t t = o->ticket;
    pthread_mutex_unlock(&s->mu);
    return t;
}

uint64_t rv_store_append(rv_store *s, const char *model, const void *p, size_t n)
{
    return enqueue(s, OP_APPEND, model, p, n, NULL, 0, 0, 0);
}

uint64_t rv_store_append_lazy(rv_store *s, const char *model, const void *p, size_t n)
{
    return enqueue(s, OP_APPEND, model, p, n, NULL, 0, 0, 1);
}

uint64_t rv_store_put_checkpoint(rv_store *s, const char *model, const void *def, size_t def_len,
                                 const void *snap, size_t snap_len, uint64_t last_seq)
{
    return enqueue(s, OP_CHECKPOINT, model, def, def_len, snap, snap_len, (int64_t)last_seq, 0);
}

uint64_t rv_store_delete_model(rv_store *s, const char *model)
{
    return enqueue(s, OP_DELMODEL, model, NULL, 0, NULL, 0, 0, 0);
}

uint64_t rv_store_keep(rv_store *s, const char *id, const void *p, size_t n, int64_t expires)
{
    return enqueue(s, OP_KEEP, id, p, n, NULL, 0, expires, 0);
}

uint64_t rv_store_forget(rv_store *s, const char *id)
{
    return enqueue(s, OP_FORGET, id, NULL, 0, NULL, 0, 0, 0);
}

uint64_t rv_store_put_meta(rv_store *s, const char *key, const void *p, size_t n)
{
    return enqueue(s, OP_META, key, p, n, NULL, 0, 0, 0);
}

uint64_t rv_store_reset(rv_store *s)
{
    return enqueue(s, OP_RESET, NULL, NULL, 0, NULL, 0, 0, 0);
}

uint64_t rv_store_trim(rv_store *s, uint64_t upto)
{
    return enqueue(s, OP_TRIM, NULL, NULL, 0, NULL, 0, (int64_t)upto, 0);
}

uint64_t rv_store_last_seq(rv_store *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t t = s->next_ticket;
    pthread_mutex_unlock(&s->mu);
    return t;
}

rv_status rv_store_wait(rv_store *s, uint64_t ticket, rv_error *err)
{
    if (ticket == 0)
        return rv_error_set(err, RV_ENOMEM, "out of memory queueing a store write");
    pthread_mutex_lock(&s->mu);
    hurry(s, ticket);
    while (s->done_ticket < ticket && !s->failed)
        pthread_cond_wait(&s->committed, &s->mu);
    rv_status st = s->failed ? rv_error_set(err, RV_EIO, "%s", s->fail_msg) : RV_OK;
    pthread_mutex_unlock(&s->mu);
    return st;
}

uint64_t rv_store_durable(rv_store *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t t = s->durable_ticket;
    pthread_mutex_unlock(&s->mu);
    return t;
}

rv_status rv_store_failure(rv_store *s, rv_error *err)
{
    if (!atomic_load_explicit(&s->failed, memory_order_relaxed))
        return RV_OK;
    pthread_mutex_lock(&s->mu);
    rv_status st = rv_error_set(err, RV_EIO, "%s", s->fail_msg);
    pthread_mutex_unlock(&s->mu);
    return st;
}

rv_status rv_store_check(rv_store *s, uint64_t ticket, int *done, rv_error *err)
{
    pthread_mutex_lock(&s->mu);
    *done = s->failed || s->done_ticket >= ticket;
    if (!*done)
        hurry(s, ticket); /* the caller parks until it is */
    rv_status st = s->failed ? rv_error_set(err, RV_EIO, "%s", s->fail_msg) : RV_OK;
    pthread_mutex_unlock(&s->mu);
    return st;
}

void rv_store_set_notify(rv_store *s, void (*fn)(void *ctx, uint64_t done, int failed), void *ctx)
{
    pthread_mutex_lock(&s->mu);
    s->notify = fn;
    s->notify_ctx = ctx;
    pthread_mutex_unlock(&s->mu);
}

/* ===== Open and close ===== */

static rv_status sql_fail(rv_store *s, rv_error *err, const char *what)
{
    return rv_error_set(err, RV_EIO, "%s: %s", what, s->db ? sqlite3_errmsg(s->db) : "no database");
}

static rv_status each_row(rv_store *s, const char *sql, int64_t arg, int (*row)(void *, sqlite3_stmt *),
                          void *ctx, rv_error *err);

/* The ticket counter: meta 'seq', or the log's last seq if larger (commit_batch). */
static rv_status load_counter(rv_store *s, rv_error *err)
{
    rv_buf b;
    rv_buf_init(&b);
    int found = 0;
    rv_status st = rv_store_get_meta(s, "seq", &b, &found, err);
    uint64_t seq = 0;
    if (st == RV_OK && found && b.len == sizeof seq)
        memcpy(&seq, b.data, sizeof seq);
    rv_buf_free(&b);
    for (int k = 0; k < SEGMENTS; k++)
        seq = s->seg[k].last > seq ? s->seg[k].last : seq;
    s->next_ticket = s->done_ticket = seq;
    return st;
}

/* A table's extent from its first and last seq (two B-tree descents, where
 * count(*) would read a large log from before the tables whole). Its rows
 * are not counted: a table holding any counts as full, so appends move on
 * from it at the first chance, which costs nothing. */
static int segment_row(void *c, sqlite3_stmt *st)
{
    struct segment *g = c;
    if (sqlite3_column_type(st, 1) == SQLITE_NULL)
        return RV_OK;
    g->first = (uint64_t)sqlite3_column_int64(st, 0);
    g->last = (uint64_t)sqlite3_column_int64(st, 1);
    g->rows = UINT32_MAX;
    return RV_OK;
}

/* Each segment's table (made here, from SEGMENT), statements and extent;
 * appends resume in the segment that holds the last seq. */
static rv_status open_segments(rv_store *s, rv_error *err)
{
    s->segment_rows = SEGMENT_ROWS;
    for (int k = 0; k < SEGMENTS; k++) {
        char sql[128];
        snprintf(sql, sizeof sql, "CREATE TABLE IF NOT EXISTS %s(seq INTEGER PRIMARY KEY, model TEXT NOT NULL,"
                 " body BLOB)", SEGMENT[k]);
        if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
            return sql_fail(s, err, "creating the log");
        snprintf(sql, sizeof sql, "INSERT INTO %s(seq, model, body) VALUES(?1, ?2, ?3)", SEGMENT[k]);
        if (sqlite3_prepare_v2(s->db, sql, -1, &s->append[k], NULL) != SQLITE_OK)
            return sql_fail(s, err, "preparing statements");
        snprintf(sql, sizeof sql, "DELETE FROM %s", SEGMENT[k]);
        if (sqlite3_prepare_v2(s->db, sql, -1, &s->clear[k], NULL) != SQLITE_OK)
            return sql_fail(s, err, "preparing statements");
        snprintf(sql, sizeof sql, "SELECT (SELECT min(seq) FROM %s), (SELECT max(seq) FROM %s) WHERE ?1 = ?1",
                 SEGMENT[k], SEGMENT[k]);
        rv_status st = each_row(s, sql, 0, segment_row, &s->seg[k], err);
        if (st != RV_OK)
            return st;
        if (s->seg[k].last > s->seg[s->cur].last)
            s->cur = k;
    }
    return RV_OK;
}

/* Everything but the committer thread (stopped first, or never started). */
static void store_free(rv_store *s)
{
    rv_buf_free(&s->pack);
    rv_buf_free(&s->packz);
    if (s->z_ready)
        deflateEnd(&s->z);
    for (int k = 0; k < 8; k++)
        sqlite3_finalize(s->st[k]);
    for (int k = 0; k < SEGMENTS; k++) {
        sqlite3_finalize(s->append[k]);
        sqlite3_finalize(s->clear[k]);
    }
    sqlite3_close(s->db);
    if (s->lock_fd >= 0)
        close(s->lock_fd); /* after the connection: see the top of the file */
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->dbmu);
    pthread_cond_destroy(&s->queued);
    pthread_cond_destroy(&s->committed);
    free(s);
}

/* --db naming another application's SQLite file (a typo, a shared data
 * directory) is refused before anything is written to it: the schema below
 * would add rivulet's tables to it, the pragmas switch it to WAL for good,
 * and POST /api/init deletes the rows of any table with our names. A store
 * holds only our four tables; an empty or new file is a new store. */
static rv_status refuse_foreign(rv_store *s, const char *path, rv_error *err)
{
    static const char *const SQL =
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
        " AND name NOT IN ('log', 'log1', 'log2', 'log3', 'models', 'kept', 'meta', 'format')" /* our tables */
        " AND name NOT LIKE 'sqlite!_%' ESCAPE '!'"
        " ORDER BY name LIMIT 1";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, SQL, -1, &st, NULL) != SQLITE_OK)
        return sql_fail(s, err, path);
    int rc = sqlite3_step(st);
    rv_status status = RV_OK;
    if (rc == SQLITE_ROW)
        status = rv_error_set(err, RV_EINVAL,
                              "not a rivulet store: it holds the table '%.100s', which rivulet never makes"
                              " (another program's database?); give --db a new file or a rivulet store",
                              (const char *)sqlite3_column_text(st, 0));
    else if (rc != SQLITE_DONE)
        status = sql_fail(s, err, path);
    sqlite3_finalize(st);
    return status;
}

/* The store's format is the one row of the table format. Builds from before
 * it know no such table and refuse the store as another program's, where
 * the builds of 2026-11-27 before compressed packs would have skipped those
 * packs at replay, and checkpointed the models without their learns. This
 * build refuses a format it does not know, and stamps an older store (no
 * table) with its own, since compressed packs may follow. */
static int format_row(void *c, sqlite3_stmt *st)
{
    *(int64_t *)c = sqlite3_column_int64(st, 0);
    return RV_OK;
}

static rv_status check_format(rv_store *s, const char *path, rv_error *err)
{
    int64_t tables = 0, version = 0;
    rv_status st = each_row(s, "SELECT count(*) FROM sqlite_master WHERE name = 'format' AND ?1 = ?1", 0,
                            format_row, &tables, err);
    if (st == RV_OK && tables)
        st = each_row(s, "SELECT version FROM format WHERE ?1 = ?1 LIMIT 1", 0, format_row, &version, err);
    if (st != RV_OK)
        return st;
    if (version < 0 || version > STORE_FORMAT)
        return rv_error_set(err, RV_EINVAL,
                            "%s has store format %lld, which this build does not know (it reads up to %d):"
                            " a newer rivulet's store? run that version, or restore the backup taken"
                            " before the upgrade", path, (long long)version, STORE_FORMAT);
    if (version == STORE_FORMAT)
        return RV_OK;
    char sql[160];
    snprintf(sql, sizeof sql, "BEGIN; CREATE TABLE IF NOT EXISTS format(version INTEGER NOT NULL);"
             " DELETE FROM format; INSERT INTO format VALUES(%d); COMMIT", STORE_FORMAT);
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK)
        return RV_OK;
    st = sql_fail(s, err, path);
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

/* The exclusive flock that keeps a second process off the store (see the
 * top of the file). SQLite has created the file by now. */
static rv_status lock_file(rv_store *s, const char *path, rv_error *err)
{
    if (strcmp(path, ":memory:") == 0 || path[0] == '\0')
        return RV_OK;
    s->lock_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->lock_fd < 0)
        return rv_error_set(err, RV_EIO, "cannot open %s: %s", path, strerror(errno));
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) == 0)
        return RV_OK;
    if (errno == EWOULDBLOCK)
        return rv_error_set(err, RV_EINVAL,
                            "another process (a rivulet serve?) has the store open; stop it first,"
                            " since two servers on one store overwrite each other's learns");
    return rv_error_set(err, RV_EIO, "cannot lock %s: %s", path, strerror(errno));
}

rv_status rv_store_open(const char *path, rv_store **out, rv_error *err)
{
    *out = NULL;
    rv_store *s = calloc(1, sizeof *s);
    if (!s)
        return rv_error_set(err, RV_ENOMEM, "out of memory");
    s->lock_fd = -1;
    rv_buf_init(&s->pack);
    rv_buf_init(&s->packz);
    /* without a deflater (no memory), packs are stored as they are */
    s->z_ready = deflateInit(&s->z, Z_BEST_SPEED) == Z_OK;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->dbmu, NULL);
    pthread_condattr_t monotonic;
    pthread_condattr_init(&monotonic);
    pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
    pthread_cond_init(&s->queued, &monotonic);
    pthread_condattr_destroy(&monotonic);
    pthread_cond_init(&s->committed, NULL);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    rv_status st = RV_OK;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK
        || sqlite3_busy_timeout(s->db, 5000) != SQLITE_OK)
        st = sql_fail(s, err, path);
    else if ((st = lock_file(s, path, err)) == RV_OK && (st = refuse_foreign(s, path, err)) == RV_OK)
        st = check_format(s, path, err);
    if (st == RV_OK
        && (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=FAST;",
                         NULL, NULL, NULL) != SQLITE_OK
            || sqlite3_exec(s->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK))
        st = sql_fail(s, err, path);
    for (int k = OP_CHECKPOINT; st == RV_OK && k < OP_TRIM; k++)
        if (k != OP_RESET && sqlite3_prepare_v2(s->db, STMTS[k], -1, &s->st[k], NULL) != SQLITE_OK)
            st = sql_fail(s, err, "preparing statements");
    if (st == RV_OK)
        st = open_segments(s, err);
    if (st == RV_OK)
        st = load_counter(s, err);
    if (st != RV_OK) {
        store_free(s);
        return st;
    }
    snprintf(s->engine, sizeof s->engine, "sqlite %s (WAL)", sqlite3_libversion());
    pthread_create(&s->thread, NULL, committer, s);
    *out = s;
    return RV_OK;
}

void rv_store_close(rv_store *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_signal(&s->queued);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    store_free(s);
}

const char *rv_store_engine(const rv_store *s)
{
    return s->engine;
}

/* ===== Reads =====
 * Reads share the committer's connection, serialized by dbmu. The server
 * reads at startup; at run time it serves from memory. */

/* The caller holds dbmu. */
static rv_status each_row_locked(rv_store *s, const char *sql, int64_t arg,
                                 int (*row)(void *, sqlite3_stmt *), void *ctx, rv_error *err)
{
    sqlite3_stmt *st = NULL;
    rv_status status = RV_OK;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        status = sql_fail(s, err, "reading the store");
    } else {
        sqlite3_bind_int64(st, 1, arg);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            if ((status = row(ctx, st)) != RV_OK)
                break;
        if (status == RV_OK && rc != SQLITE_DONE)
            status = sql_fail(s, err, "reading the store");
    }
    sqlite3_finalize(st);
    if (status != RV_OK && err && err->code == RV_OK)
        rv_error_set(err, status, "reading the store was interrupted");
    return status;
}

static rv_status each_row(rv_store *s, const char *sql, int64_t arg, int (*row)(void *, sqlite3_stmt *),
                          void *ctx, rv_error *err)
{
    pthread_mutex_lock(&s->dbmu);
    rv_status status = each_row_locked(s, sql, arg, row, ctx, err);
    pthread_mutex_unlock(&s->dbmu);
    return status;
}

struct meta_ctx { rv_buf *out; int *found; };
static int meta_row(void *c, sqlite3_stmt *st)
{
    struct meta_ctx *m = c;
    *m->found = 1;
    return rv_buf_put(m->out, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
}

rv_status rv_store_get_meta(rv_store *s, const char *key, rv_buf *out, int *found, rv_error *err)
{
    *found = 0;
    struct meta_ctx m = {out, found};
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&s->dbmu);
    rv_status status = RV_OK;
    if (sqlite3_prepare_v2(s->db, "SELECT val FROM meta WHERE key = ?1", -1, &st, NULL) != SQLITE_OK)
        status = sql_fail(s, err, "reading meta");
    else {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            status = meta_row(&m, st);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->dbmu);
    return status;
}

struct model_ctx { rv_store_model_fn fn; void *ctx; };
static int model_row(void *c, sqlite3_stmt *st)
{
    struct model_ctx *m = c;
    return m->fn(m->ctx, (const char *)sqlite3_column_text(st, 0), sqlite3_column_blob(st, 1),
                 (size_t)sqlite3_column_bytes(st, 1), sqlite3_column_blob(st, 2),
                 (size_t)sqlite3_column_bytes(st, 2), (uint64_t)sqlite3_column_int64(st, 3));
}

rv_status rv_store_each_model(rv_store *s, rv_store_model_fn fn, void *ctx, rv_error *err)
{
    struct model_ctx m = {fn, ctx};
    return each_row(s, "SELECT name, def, snap, last_seq FROM models WHERE ?1 = ?1 ORDER BY name",
                    0, model_row, &m, err);
}

struct event_ctx {
    rv_store_event_fn fn;
    void *ctx;
    uint64_t after;
    rv_buf raw;   /* a compressed pack, inflated */
    rv_error *err;
};

/* What unpack and unpack_z return for a pack that does not read back:
 * event_row reports it (RV_EIO) rather than guessing. */
enum { DAMAGED = -1 };

/* Calls fn for each event of a pack with seq > after. */
static int unpack(struct event_ctx *e, const unsigned char *p, size_t n)
{
    char model[4097];
    rv_reader in;
    rv_reader_init(&in, p, n);
    while (in.pos < in.len) {
        uint32_t ml = 0, bl = 0;
        uint64_t seq = rv_reader_u64(&in);
        const char *m = rv_reader_bytes(&in, &ml, sizeof model - 1);
        const char *body = rv_reader_bytes(&in, &bl, UINT32_MAX);
        if (in.status != RV_OK)
            return DAMAGED;
        memcpy(model, m, ml);
        model[ml] = '\0';
        if (seq > e->after) {
            int st = e->fn(e->ctx, seq, model, body, bl);
            if (st != RV_OK)
                return st;
        }
    }
    return RV_OK;
}

/* A compressed pack (PACKZ): its stated length bounds the allocation, since
 * deflate expands at most 1032 times (zlib's maximum ratio), so a larger
 * claim is damage; so is a stream that fails its check or ends elsewhere. */
static int unpack_z(struct event_ctx *e, const unsigned char *p, size_t n)
{
    rv_reader in;
    rv_reader_init(&in, p, n);
    uint32_t raw = rv_reader_u32(&in);
    if (in.status != RV_OK || raw == 0 || raw / 1032 > n)
        return DAMAGED;
    rv_buf_reset(&e->raw);
    if (rv_buf_reserve(&e->raw, raw) != RV_OK)
        return RV_ENOMEM;
    uLongf got = raw;
    uLong used = (uLong)(n - 4);
    if (uncompress2((Bytef *)e->raw.data, &got, p + 4, &used) != Z_OK || got != raw || used != n - 4)
        return DAMAGED;
    return unpack(e, (const unsigned char *)e->raw.data, raw);
}

static int event_row(void *c, sqlite3_stmt *st)
{
    struct event_ctx *e = c;
    const char *model = (const char *)sqlite3_column_text(st, 1);
    const unsigned char *body = sqlite3_column_blob(st, 2);
    size_t n = (size_t)sqlite3_column_bytes(st, 2);
    int status = RV_OK;
    if (model && strcmp(model, PACK) == 0)
        status = unpack(e, body, n);
    else if (model && strcmp(model, PACKZ) == 0)
        status = unpack_z(e, body, n);
    else
        return e->fn(e->ctx, (uint64_t)sqlite3_column_int64(st, 0), model, body, n);
    if (status != DAMAGED)
        return status;
    return rv_error_set(e->err, RV_EIO, "the store's log is damaged: the pack ending at seq %lld does not"
                        " read back; restore a backup", (long long)sqlite3_column_int64(st, 0));
}

rv_status rv_store_each_event(rv_store *s, uint64_t after, rv_store_event_fn fn, void *ctx,
                              rv_error *err)
{
    struct event_ctx e = {fn, ctx, after, {0}, err};
    int order[SEGMENTS], n = 0;
    pthread_mutex_lock(&s->dbmu); /* no commit between the tables, so one consistent read */
    for (int k = 0; k < SEGMENTS; k++) {
        int at = n++;
        for (; at > 0 && s->seg[order[at - 1]].first > s->seg[k].first; at--)
            order[at] = order[at - 1];
        order[at] = k;
    }
    rv_status st = RV_OK;
    for (int i = 0; i < n && st == RV_OK; i++) {
        char sql[96];
        snprintf(sql, sizeof sql, "SELECT seq, model, body FROM %s WHERE seq > ?1 ORDER BY seq",
                 SEGMENT[order[i]]);
        st = each_row_locked(s, sql, (int64_t)after, event_row, &e, err);
    }
    pthread_mutex_unlock(&s->dbmu);
    rv_buf_free(&e.raw);
    return st;
}

void rv_store_set_segment_rows(rv_store *s, unsigned rows)
{
    pthread_mutex_lock(&s->dbmu);
    s->segment_rows = rows ? rows : 1;
    pthread_mutex_unlock(&s->dbmu);
}

struct kept_ctx { rv_store_kept_fn fn; void *ctx; };
static int kept_row(void *c, sqlite3_stmt *st)
{
    struct kept_ctx *k = c;
    return k->fn(k->ctx, (const char *)sqlite3_column_text(st, 0), sqlite3_column_blob(st, 1),
                 (size_t)sqlite3_column_bytes(st, 1), sqlite3_column_int64(st, 2));
}

rv_status rv_store_each_kept(rv_store *s, rv_store_kept_fn fn, void *ctx, rv_error *err)
{
    struct kept_ctx k = {fn, ctx};
    return each_row(s, "SELECT id, body, expires FROM kept WHERE ?1 = ?1", 0, kept_row, &k, err);
}

/* ===== Backup ===== */

/* Whether db holds rivulet's four tables. */
static int is_rivulet_store(sqlite3 *db, rv_status *status, const char *path, rv_error *err)
{
    sqlite3_stmt *st = NULL;
    int tables = -1;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                               " AND name IN ('log', 'models', 'kept', 'meta')", -1, &st, NULL) == SQLITE_OK
        && sqlite3_step(st) == SQLITE_ROW)
        tables = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (tables < 0)
        *status = rv_error_set(err, RV_EIO, "cannot read the store %s: %s", path, sqlite3_errmsg(db));
    else if (tables != 4)
        *status = rv_error_set(err, RV_EINVAL, "%s is not a rivulet store (it lacks the log, models, kept"
                                               " and meta tables)", path);
    return tables == 4;
}

/* Copies src's pages into a new file at out_path; removes it on failure. */
static rv_status copy_pages(sqlite3 *src, const char *path, const char *out_path, rv_error *err)
{
    sqlite3 *dst = NULL;
    rv_status status = RV_OK;
    if (sqlite3_open_v2(out_path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        status = rv_error_set(err, RV_EIO, "cannot create %s: %s", out_path, sqlite3_errmsg(dst));
    } else {
        sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
        int rc = b ? sqlite3_backup_step(b, -1) : SQLITE_ERROR;
        if (b)
            sqlite3_backup_finish(b);
        if (rc != SQLITE_DONE)
            status = rv_error_set(err, RV_EIO, "copying %s to %s failed: %s", path, out_path,
                                  sqlite3_errmsg(dst));
    }
    if (sqlite3_close(dst) != SQLITE_OK && status == RV_OK)
        status = rv_error_set(err, RV_EIO, "closing %s failed", out_path);
    if (status != RV_OK)
        unlink(out_path); /* no half copy left behind */
    return status;
}

/* SQLite's online backup copies the pages of one read transaction: in WAL
 * mode that snapshot never blocks the server's commits, which go on while
 * the copy runs (only its WAL cannot restart until the copy ends). */
rv_status rv_store_backup(const char *path, const char *out_path, long long *bytes, rv_error *err)
{
    *bytes = 0;
    if (access(out_path, F_OK) == 0)
        return rv_error_set(err, RV_EINVAL, "%s exists already: give the copy a new file", out_path);
    if (access(path, F_OK) != 0) /* SQLite would create it */
        return rv_error_set(err, RV_EIO, "cannot open the store %s: %s", path, strerror(errno));
    sqlite3 *src = NULL;
    rv_status status = RV_OK;
    if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        status = rv_error_set(err, RV_EIO, "cannot open the store %s: %s", path, sqlite3_errmsg(src));
    } else {
        sqlite3_busy_timeout(src, 5000);
        if (is_rivulet_store(src, &status, path, err))
            status = copy_pages(src, path, out_path, err);
    }
    sqlite3_close(src);
    struct stat sb;
    if (status == RV_OK && stat(out_path, &sb) == 0)
        *bytes = (long long)sb.st_size;
    return status;
}
