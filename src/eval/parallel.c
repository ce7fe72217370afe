/* Sharded progressive validation of keyed families (see eval.h).
 *
 * Threads: the calling thread (the feeder) owns shard 0 and runs its rows
 * inline; shards 1..n-1 each have a worker thread. A row goes to shard
 * hash(key) % n, so a key always lands on the same thread.
 *
 * Rows in flight live in a ring of RING slots indexed by row number (the
 * reorder buffer). step(x, y) takes the next slot, copies x and y into it,
 * and either holds it for the feeder (shard 0) or pushes its index on the
 * worker's queue (single producer, single consumer). A processed row's
 * predictions stay in its slot until the feeder reaches it in row order
 * ("drain"): then the metrics are updated and the callback called, exactly
 * as rv_progressive_step does row after row. The feeder blocks only when
 * the ring is full, at finish, and at free.
 *
 * Prefetch: with thousands of keys, a row's members (two M5 pipelines, about
 * 15 KB in some forty allocations) are far from the caches, and a row would
 * wait on one miss after another. So each shard looks one row ahead: before
 * processing a row, it looks up the members of its next row and asks them
 * to prefetch their state (rv_estimator_prefetch), which then arrives while
 * the current row computes. A worker's next row is the next entry of its
 * queue; the feeder holds its latest shard-0 row and runs it at the next
 * shard-0 step (whose event is then known), or before it waits (drain all,
 * a full ring). The lookahead only reads; results do not change.
 *
 * Per shard, rows are processed in row order, and each row resolves its key
 * once, in a shard-local map from key to the members of every family (the
 * family's own locked map is read only on a key's first sight, and when the
 * feeder has just created the member). A member is only ever touched by its
 * shard's thread.
 *
 * Members (family.c's rule: only a learn creates one): the feeder creates
 * the member of a labelled row's key when the family has none, in row
 * order, so the family's key order (hence its snapshot) is the sequential
 * run's whatever the thread count (a sequential run creates members in the
 * order of their keys' first learns, which is the order of their first
 * labelled rows, with or without delay). The member's first operation is
 * then the shard's predict of that row, which is exactly the predict a
 * sequential learn replays on a new member. Per key and family, the shard
 * tracks: NONE (no member: predict with a fresh clone), FRESH (created for
 * this row: predict with it), PENDING (it predicted its creating row but
 * has not learnt it yet, and its predict changes it: later rows predict
 * with a fresh clone, as a sequential run does before the first learn),
 * LIVE (predict and learn with the member).
 *
 * Delay d: rv_progressive_step learns a labelled row when the d-th later
 * labelled row is stepped, right after that row's predict. With L(i) = the
 * number of labelled rows before row i, labelled row i is learned at the
 * step of labelled row L(i) + d. A shard sees only its own rows, so before
 * predicting its row j it learns its waiting rows with L(i) + d < L(j)
 * (their learning step came earlier), and after predicting it learns the
 * one with L(i) + d == L(j) if j is labelled. Each member therefore sees
 * the sequential run's operations in the sequential run's order; operations
 * on different members commute. Waiting rows are copied into a shard-local
 * ring of d + 1 entries (no more can wait at once).
 *
 * Waiting: spin briefly, then sleep on a condition variable. The sleeper
 * sets its `sleeping` flag and re-checks; the waker publishes, then reads
 * the flag (both sequentially consistent), so no wake-up is lost. */
#include "rivulet/compose.h"
#include "rivulet/eval.h"
#include "rivulet/family.h"
#include "rivulet/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING 1024u /* rows in flight */
#define QCAP (2 * RING) /* a worker's queue: rows plus a control entry */
#define SPIN 1000  /* pause loops before sleeping (well under 100 us) */
#define BATCH 32   /* a sleeping worker is woken once this many rows wait */
#define MAX_THREADS 64
enum { CMD_FLUSH = UINT32_MAX, CMD_STOP = UINT32_MAX - 1 };

typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_int sleeping;
} waiter;

/* Cache lines: a row, its predictions, a queue's head and its tail, and the
 * feeder's counters each start a line of their own, so that one thread's
 * writes never evict data the other thread is using (false sharing). */
#define LINE 64

enum { INLINE_FEATURES = 4, INLINE_BYTES = 96, INLINE_MODELS = 2 };

typedef struct row {
    _Alignas(LINE) atomic_uint done;
    rv_status st;
    const rv_event *xp; /* a worker's row: its copy of the event (xv or x) */
    rv_value y;
    char *ystr;
    uint32_t ycap;
    int has_y;
    uint64_t created; /* bit f: the feeder created family f's member for this row */
    uint64_t existed; /* bit f: family f had the key's member before this row */
    unsigned shard;
    uint64_t lab; /* labelled rows before this one */
    rv_prediction *pred; /* one per model: pred_in, or the heap for more models */
    rv_prediction pred_in[INLINE_MODELS];
    /* a small event is copied into the row's own lines (no heap blocks to
     * pass between the threads); larger ones into x */
    rv_event xv;
    rv_feature xitems[INLINE_FEATURES];
    char xstr[INLINE_BYTES];
    rv_event x;
} row;

typedef struct pending {
    rv_event x;
    rv_value y;
    char *ystr;
    uint32_t ycap;
    uint64_t lab;
    size_t member; /* index of the key's members in the shard */
} pending;

typedef struct shard {
    _Alignas(LINE) struct rv_progressive_par *pp;
    unsigned id;
    pthread_t thread;
    int started;
    uint32_t *q;
    _Alignas(LINE) atomic_uint_fast64_t qhead; /* written by the feeder */
    _Alignas(LINE) uint64_t qtail;             /* the worker's own */
    waiter w;
    rv_strmap keys;   /* key -> index into members / nmodels */
    rv_object **mem;  /* nmodels members per key */
    uint8_t *mst;     /* their states (NONE, FRESH, PENDING, LIVE) */
    size_t nkeys, capkeys;
    pending *pend;    /* ring of delay + 1 */
    uint32_t phead, pn;
    rv_error err;     /* first error of this shard */
    int failed;
} shard;

enum { M_NONE, M_FRESH, M_PENDING, M_LIVE };

#define MAX_MODELS 64 /* row.created is a bit set */

struct rv_progressive_par {
    rv_object *const *families;
    size_t nmodels;
    uint64_t mutates; /* bit f: family f's predict changes its members */
    rv_strmap known;  /* the feeder's: keys every family has a member of (stays so) */
    rv_object *const *metrics;
    size_t nmetrics;
    uint32_t delay;
    int fuse; /* predict and learn each member in turn (distinct families) */
    unsigned nthreads;
    row *ring;
    row *held; /* shard 0's latest row, not run yet (see rv_progressive_par_step) */
    _Alignas(LINE) uint64_t head, tail, labeled, count;
    shard *shards;
    waiter fw;            /* the feeder sleeps here */
    atomic_uint acks;     /* flushes done by workers */
    rv_progressive_cb cb;
    void *ctx;
    int failed;
    rv_error err;
};

/* ===== Waiting ===== */

static void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void waiter_init(waiter *w)
{
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    atomic_init(&w->sleeping, 0);
}

static void waiter_destroy(waiter *w)
{
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
}

static void waiter_wake(waiter *w)
{
    if (atomic_load(&w->sleeping)) {
        pthread_mutex_lock(&w->mu);
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
    }
}

static void waiter_wait(waiter *w, int (*ready)(const void *), const void *arg)
{
    for (int i = 0; i < SPIN; i++) {
        if (ready(arg))
            return;
        relax();
    }
    pthread_mutex_lock(&w->mu);
    atomic_store(&w->sleeping, 1);
    while (!ready(arg))
        pthread_cond_wait(&w->cv, &w->mu);
    atomic_store(&w->sleeping, 0);
    pthread_mutex_unlock(&w->mu);
}

/* Zeroed memory starting a cache line, in whole lines (free() releases it). */
static void *zalloc_lines(size_t n)
{
    n = (n + LINE - 1) / LINE * LINE;
    void *p = aligned_alloc(LINE, n ? n : LINE);
    if (p)
        memset(p, 0, n ? n : LINE);
    return p;
}

/* ===== Copies ===== */

static rv_status copy_y(rv_value *dst, char **buf, uint32_t *cap, const rv_value *y)
{
    *dst = *y;
    if (y->kind != RV_STR)
        return RV_OK;
    if (y->len + 1 > *cap) {
        char *p = realloc(*buf, y->len + 1);
        if (!p)
            return RV_ENOMEM;
        *buf = p;
        *cap = y->len + 1;
    }
    if (y->len)
        memcpy(*buf, y->str, y->len);
    (*buf)[y->len] = '\0';
    dst->str = *buf;
    return RV_OK;
}

/* Copies x into r for its worker: into the row itself when small. */
static rv_status copy_x(row *r, const rv_event *x)
{
    size_t used = 0;
    int fits = x->n <= INLINE_FEATURES;
    for (uint32_t i = 0; fits && i < x->n; i++) {
        const rv_feature *f = &x->items[i];
        r->xitems[i] = *f;
        if (f->kind != RV_STR)
            continue;
        if (f->len >= INLINE_BYTES - used) {
            fits = 0;
            break;
        }
        if (f->len)
            memcpy(r->xstr + used, f->str, f->len);
        r->xstr[used + f->len] = '\0';
        r->xitems[i].str = r->xstr + used;
        used += f->len + 1;
    }
    if (fits) {
        r->xv.items = r->xitems;
        r->xv.n = r->xv.cap = x->n;
        r->xv.strings.head = NULL;
        r->xp = &r->xv;
        return RV_OK;
    }
    r->xp = &r->x;
    return rv_event_copy(&r->x, x);
}

/* ===== A shard's work ===== */

/* Index of the members of x's key in sh, resolving them on first sight and
 * when the feeder created them for row r. */
static rv_status members_of(shard *sh, const rv_event *x, const row *r, size_t *idx, rv_error *err)
{
    const rv_progressive_par *pp = sh->pp;
    const char *key;
    size_t len;
    rv_status st = rv_family_key_of(pp->families[0], x, &key, &len, err);
    if (st)
        return st;
    uint64_t *v = rv_strmap_get(&sh->keys, key, len);
    if (v) {
        *idx = (size_t)*v;
    } else {
        if (sh->nkeys == sh->capkeys) {
            size_t cap = sh->capkeys ? 2 * sh->capkeys : 64;
            rv_object **m = realloc(sh->mem, cap * pp->nmodels * sizeof *m);
            if (m)
                sh->mem = m;
            uint8_t *ms = m ? realloc(sh->mst, cap * pp->nmodels) : NULL;
            if (!ms)
                return rv_error_set(err, RV_ENOMEM, "out of memory");
            sh->mst = ms;
            sh->capkeys = cap;
        }
        size_t base = sh->nkeys * pp->nmodels;
        for (size_t f = 0; f < pp->nmodels; f++) { /* not the family's map now: the feeder runs ahead */
            int had = r->existed >> f & 1;
            sh->mem[base + f] = had ? rv_family_get(pp->families[f], key, len) : NULL;
            sh->mst[base + f] = had ? M_LIVE : M_NONE;
        }
        int inserted;
        if (!rv_strmap_put(&sh->keys, key, len, sh->nkeys, &inserted))
            return rv_error_set(err, RV_ENOMEM, "out of memory");
        *idx = sh->nkeys++;
    }
    for (size_t f = 0; r->created && f < pp->nmodels; f++) {
        size_t at = *idx * pp->nmodels + f;
        if (r->created >> f & 1) {
            sh->mem[at] = rv_family_get(pp->families[f], key, len);
            sh->mst[at] = M_FRESH;
        }
    }
    return RV_OK;
}

/* Model f's prediction of x, by the key's member or, before its first learn,
 * as a new member would predict (see the states above). */
static rv_status predict_one(shard *sh, size_t at, size_t f, const rv_event *x, rv_prediction *out,
                             rv_error *err)
{
    const rv_progressive_par *pp = sh->pp;
    switch (sh->mst[at]) {
    case M_LIVE:
        return rv_estimator_predict(sh->mem[at], x, out, err);
    case M_FRESH:
        sh->mst[at] = (pp->mutates >> f & 1) ? M_PENDING : M_LIVE;
        return rv_estimator_predict(sh->mem[at], x, out, err);
    default:
        return rv_family_predict_new(pp->families[f], x, out, err);
    }
}

static rv_status learn_all(shard *sh, size_t idx, const rv_event *x, const rv_value *y, rv_error *err)
{
    size_t base = idx * sh->pp->nmodels;
    for (size_t f = 0; f < sh->pp->nmodels; f++) {
        if (!sh->mem[base + f] || sh->mst[base + f] == M_NONE || sh->mst[base + f] == M_FRESH)
            return rv_error_set(err, RV_ESTATE, "parallel progressive validation: a learn without its member");
        sh->mst[base + f] = M_LIVE;
        rv_status st = rv_estimator_learn(sh->mem[base + f], x, y, err);
        if (st)
            return st;
    }
    return RV_OK;
}

static rv_status learn_oldest(shard *sh, rv_error *err)
{
    pending *p = &sh->pend[sh->phead];
    sh->phead = sh->phead + 1 == sh->pp->delay + 1 ? 0 : sh->phead + 1;
    sh->pn--;
    return learn_all(sh, p->member, &p->x, &p->y, err);
}

/* Learns the waiting rows whose learning step is at or before labelled row
 * `lab` (strictly before when `before`). */
static rv_status learn_due(shard *sh, uint64_t lab, int before, rv_error *err)
{
    uint32_t d = sh->pp->delay;
    while (sh->pn) {
        uint64_t due = sh->pend[sh->phead].lab + d;
        if (before ? due >= lab : due > lab)
            break;
        rv_status st = learn_oldest(sh, err);
        if (st)
            return st;
    }
    return RV_OK;
}

static rv_status enqueue(shard *sh, size_t idx, const rv_event *x, const row *r)
{
    uint32_t n = sh->pp->delay + 1, at = sh->phead + sh->pn;
    pending *p = &sh->pend[at >= n ? at - n : at];
    if (rv_event_copy(&p->x, x) || copy_y(&p->y, &p->ystr, &p->ycap, &r->y))
        return RV_ENOMEM;
    p->lab = r->lab;
    p->member = idx;
    sh->pn++;
    return RV_OK;
}

/* Predicts row r (event x) with every model, then learns as the delay says. */
static rv_status process(shard *sh, row *r, const rv_event *x, rv_error *err)
{
    const rv_progressive_par *pp = sh->pp;
    size_t idx = 0;
    rv_status st = members_of(sh, x, r, &idx, err);
    if (!st && pp->delay)
        st = learn_due(sh, r->lab, 1, err);
    if (st)
        return st;
    size_t base = idx * pp->nmodels;
    if (!pp->delay && r->has_y && pp->fuse) {
        /* members are distinct objects, so predict-learn per member equals
         * predicting all then learning all; a labelled row always has its
         * members (the feeder creates them), fresh or live, and a fresh
         * member predicting x first is the family's rule for a first learn */
        for (size_t f = 0; f < pp->nmodels && !st; f++) {
            rv_object *mf = sh->mem[base + f];
            if (!mf || sh->mst[base + f] == M_NONE)
                return rv_error_set(err, RV_ESTATE, "parallel progressive validation: a learn without its member");
            sh->mst[base + f] = M_LIVE;
            st = rv_predict_learn(mf, x, &r->y, &r->pred[f], err);
        }
        return st;
    }
    for (size_t f = 0; f < pp->nmodels && !st; f++)
        st = predict_one(sh, idx * pp->nmodels + f, f, x, &r->pred[f], err);
    if (st || !r->has_y)
        return st;
    if (!pp->delay)
        return learn_all(sh, idx, x, &r->y, err);
    if ((st = learn_due(sh, r->lab, 0, err)))
        return st;
    return enqueue(sh, idx, x, r) ? rv_error_set(err, RV_ENOMEM, "out of memory") : RV_OK;
}

static rv_status flush_shard(shard *sh, rv_error *err)
{
    while (sh->pn) {
        rv_status st = learn_oldest(sh, err);
        if (st)
            return st;
    }
    return RV_OK;
}

/* Starts loading the state of the members of x's key, when the shard has
 * met the key: x is the shard's next row, whose misses then overlap with the
 * current row's work. Reads the shard's map, writes nothing. */
static void prefetch_members(shard *sh, const rv_event *x)
{
    const rv_progressive_par *pp = sh->pp;
    const char *key;
    size_t len;
    if (rv_family_key_of(pp->families[0], x, &key, &len, NULL))
        return;
    uint64_t *v = rv_strmap_get(&sh->keys, key, len);
    if (!v)
        return;
    rv_object *const *m = sh->mem + *v * pp->nmodels;
    for (size_t f = 0; f < pp->nmodels; f++)
        __builtin_prefetch(m[f]);
    for (size_t f = 0; f < pp->nmodels; f++)
        rv_estimator_prefetch(m[f]);
}

/* Runs r on its shard, recording the shard's first error; prefetches the
 * members of the shard's next row (event next, NULL if not known yet). */
static void run_row(shard *sh, row *r, const rv_event *x, const rv_event *next)
{
    rv_error e = {0};
    if (next && !sh->failed)
        prefetch_members(sh, next);
    r->st = sh->failed ? RV_EINVAL : process(sh, r, x, &e);
    if (r->st && !sh->failed) {
        sh->failed = 1;
        sh->err = e;
        if (!sh->err.code)
            sh->err.code = r->st;
    }
}

static int queue_ready(const void *arg)
{
    const shard *sh = arg;
    return atomic_load(&((shard *)sh)->qhead) != sh->qtail;
}

/* The event of the next row in sh's queue, NULL if none has arrived yet. */
static const rv_event *next_row(shard *sh)
{
    if (!queue_ready(sh))
        return NULL;
    uint32_t e = sh->q[sh->qtail % QCAP];
    return e < RING ? sh->pp->ring[e].xp : NULL;
}

static void *worker(void *arg)
{
    shard *sh = arg;
    rv_progressive_par *pp = sh->pp;
    for (;;) {
        waiter_wait(&sh->w, queue_ready, sh);
        uint32_t e = sh->q[sh->qtail % QCAP];
        sh->qtail++;
        if (e == CMD_STOP)
            break;
        if (e == CMD_FLUSH) {
            rv_error err = {0};
            if (!sh->failed && flush_shard(sh, &err)) {
                sh->failed = 1;
                sh->err = err;
            }
            atomic_fetch_add(&pp->acks, 1);
        } else {
            row *r = &pp->ring[e];
            run_row(sh, r, r->xp, next_row(sh));
            atomic_store(&r->done, 1);
            /* a waiting feeder is woken every BATCH rows, or when this
             * worker runs dry (so it always is, eventually) */
            if (sh->qtail % BATCH && queue_ready(sh))
                continue;
        }
        waiter_wake(&pp->fw);
    }
    return NULL;
}

/* Queues e for sh's worker. A sleeping worker is woken only for a batch of
 * rows (or a command): one wake-up per row would cost a system call each. */
static void push(shard *sh, uint32_t e, int now)
{
    uint64_t h = atomic_load_explicit(&sh->qhead, memory_order_relaxed);
    sh->q[h % QCAP] = e;
    atomic_store(&sh->qhead, h + 1);
    if (now || (h + 1) % BATCH == 0)
        waiter_wake(&sh->w);
}

/* Wakes every sleeping worker: before the feeder itself waits. */
static void kick(rv_progressive_par *pp)
{
    for (unsigned s = 1; s < pp->nthreads; s++)
        waiter_wake(&pp->shards[s].w);
}

/* ===== The feeder ===== */

static rv_status fail(rv_progressive_par *pp, uint64_t rowno, const rv_error *e, rv_error *err)
{
    if (!pp->failed) {
        pp->failed = 1;
        pp->err.code = e->code ? e->code : RV_EINVAL;
        snprintf(pp->err.message, sizeof pp->err.message, "row %llu: %.480s",
                 (unsigned long long)rowno + 1, e->message);
    }
    if (err)
        *err = pp->err;
    return pp->err.code;
}

static int row_done(const void *arg) { return atomic_load(&((row *)arg)->done) != 0; }

/* Runs the feeder's held row, prefetching for next (NULL: none). */
static void run_held(rv_progressive_par *pp, const rv_event *next)
{
    row *h = pp->held;
    if (!h)
        return;
    pp->held = NULL;
    run_row(&pp->shards[0], h, h->xp, next);
    atomic_store_explicit(&h->done, 1, memory_order_relaxed);
}

/* Reports finished rows in row order; with `all`, waits for every row. */
static void drain(rv_progressive_par *pp, int all)
{
    if (all)
        run_held(pp, NULL);
    while (pp->tail < pp->head) {
        row *r = &pp->ring[pp->tail % RING];
        if (!row_done(r)) {
            if (!all)
                return;
            kick(pp);
            waiter_wait(&pp->fw, row_done, r);
        }
        uint64_t no = pp->tail++;
        if (pp->failed)
            continue;
        if (r->st) {
            fail(pp, no, &pp->shards[r->shard].err, NULL);
            continue;
        }
        for (size_t f = 0; f < pp->nmodels; f++) {
            if (r->has_y && !rv_prediction_is_empty(&r->pred[f])) {
                for (size_t i = 0; i < pp->nmetrics; i++) {
                    rv_error e = {0};
                    if (rv_metric_update(pp->metrics[f * pp->nmetrics + i], &r->y, &r->pred[f], &e)) {
                        fail(pp, no, &e, NULL);
                        break;
                    }
                }
            }
            if (pp->cb && !pp->failed)
                pp->cb(pp->ctx, no, f, r->has_y ? &r->y : NULL, &r->pred[f]);
        }
    }
}

/* The shard of a key hash. The feeder also copies, scores and reorders, so
 * its shard 0 takes 15/16 of an even share of the 1024 hash buckets and the
 * workers split the rest (M5 pipelines, 2 threads on an idle machine: 7/8
 * left the worker the bottleneck, 582k rows/s; 15/16 gave 610-624k; an
 * even split, 591k). */
static unsigned shard_of(const rv_progressive_par *pp, uint64_t h)
{
    uint32_t b = (uint32_t)(h % 1024), n = pp->nthreads, first = 1024 / n * 15 / 16;
    return b < first ? 0 : 1 + (b - first) % (n - 1);
}

/* Which members of the row's key exist now, and for a labelled row, the
 * missing ones, created now in row order (their first operation will be the
 * shard's predict of this row). The shard reads "existed" on a key's first
 * sight rather than the family's map, which later rows may have grown. */
static rv_status create_members(rv_progressive_par *pp, int has_y, const char *key, size_t len,
                                uint64_t *existed, uint64_t *created, rv_error *err)
{
    if (rv_strmap_get(&pp->known, key, len)) { /* the common case: no family lookup, no lock */
        *existed = pp->nmodels == MAX_MODELS ? ~(uint64_t)0 : ((uint64_t)1 << pp->nmodels) - 1;
        return RV_OK;
    }
    for (size_t f = 0; f < pp->nmodels; f++) {
        if (rv_family_get(pp->families[f], key, len)) {
            *existed |= (uint64_t)1 << f;
            continue;
        }
        if (!has_y)
            continue;
        if (!rv_family_member(pp->families[f], key, len, NULL, err))
            return err->code ? err->code : RV_ENOMEM;
        *created |= (uint64_t)1 << f;
    }
    int inserted;
    uint64_t all = pp->nmodels == MAX_MODELS ? ~(uint64_t)0 : ((uint64_t)1 << pp->nmodels) - 1;
    if ((*existed | *created) == all && !rv_strmap_put(&pp->known, key, len, 1, &inserted))
        return rv_error_set(err, RV_ENOMEM, "out of memory");
    return RV_OK;
}

rv_status rv_progressive_par_step(rv_progressive_par *pp, const rv_event *x, const rv_value *y,
                                  rv_error *err)
{
    if (pp->failed)
        return fail(pp, 0, NULL, err);
    const char *key;
    size_t len;
    rv_error e = {0};
    if (rv_family_key_of(pp->families[0], x, &key, &len, &e)) {
        drain(pp, 1); /* an earlier row's error comes first */
        return fail(pp, pp->head, &e, err);
    }
    unsigned s = pp->nthreads == 1 ? 0 : shard_of(pp, rv_hash_bytes(key, len));
    int has_y = y && y->kind != RV_NONE;
    uint64_t existed = 0, created = 0; /* before drain: a callback may reuse key's buffer */
    if (create_members(pp, has_y, key, len, &existed, &created, &e)) {
        drain(pp, 1);
        return fail(pp, pp->head, &e, err);
    }
    if (pp->head - pp->tail == RING) {
        row *oldest = &pp->ring[pp->tail % RING];
        if (oldest == pp->held)
            run_held(pp, NULL);
        if (!row_done(oldest)) {
            kick(pp);
            waiter_wait(&pp->fw, row_done, oldest);
        }
        drain(pp, 0);
    }
    row *r = &pp->ring[pp->head % RING];
    r->has_y = has_y;
    r->created = created;
    r->existed = existed;
    r->shard = s;
    r->lab = pp->labeled;
    r->st = RV_OK;
    atomic_store_explicit(&r->done, 0, memory_order_relaxed);
    if ((r->has_y && copy_y(&r->y, &r->ystr, &r->ycap, y)) || copy_x(r, x)) {
        e.code = RV_ENOMEM;
        snprintf(e.message, sizeof e.message, "out of memory");
        drain(pp, 1);
        return fail(pp, pp->head, &e, err);
    }
    pp->labeled += r->has_y;
    pp->count++;
    uint64_t no = pp->head++;
    if (s == 0) {
        run_held(pp, r->xp);
        pp->held = r;
    } else {
        push(&pp->shards[s], (uint32_t)(no % RING), 0);
    }
    drain(pp, 0);
    return pp->failed ? fail(pp, 0, NULL, err) : RV_OK;
}

static int acks_ready(const void *arg)
{
    const rv_progressive_par *pp = arg;
    return atomic_load(&((rv_progressive_par *)pp)->acks) == pp->nthreads - 1;
}

rv_status rv_progressive_par_drain(rv_progressive_par *pp, rv_error *err)
{
    drain(pp, 1);
    return pp->failed ? fail(pp, 0, NULL, err) : RV_OK;
}

rv_status rv_progressive_par_finish(rv_progressive_par *pp, rv_error *err)
{
    drain(pp, 1);
    if (pp->failed)
        return fail(pp, 0, NULL, err);
    atomic_store(&pp->acks, 0);
    for (unsigned s = 1; s < pp->nthreads; s++)
        push(&pp->shards[s], CMD_FLUSH, 1);
    rv_error e = {0};
    shard *s0 = &pp->shards[0];
    if (!s0->failed && flush_shard(s0, &e)) {
        s0->failed = 1;
        s0->err = e;
    }
    waiter_wait(&pp->fw, acks_ready, pp);
    for (unsigned s = 0; s < pp->nthreads; s++)
        if (pp->shards[s].failed) /* a flush failure: no row to blame but the last */
            return fail(pp, pp->head ? pp->head - 1 : 0, &pp->shards[s].err, err);
    return RV_OK;
}

/* ===== Life cycle ===== */

static void shard_free(shard *sh, uint32_t delay)
{
    rv_strmap_free(&sh->keys);
    free(sh->mem);
    free(sh->mst);
    if (sh->pend)
        for (uint32_t i = 0; i <= delay; i++) {
            rv_event_free(&sh->pend[i].x);
            free(sh->pend[i].ystr);
        }
    free(sh->pend);
    free(sh->q);
    waiter_destroy(&sh->w);
}

void rv_progressive_par_free(rv_progressive_par *pp)
{
    if (!pp)
        return;
    if (pp->ring && pp->shards) {
        drain(pp, 1); /* no worker may still hold a row */
        for (unsigned s = 1; s < pp->nthreads; s++)
            if (pp->shards[s].started) {
                push(&pp->shards[s], CMD_STOP, 1);
                pthread_join(pp->shards[s].thread, NULL);
            }
    }
    if (pp->shards)
        for (unsigned s = 0; s < pp->nthreads; s++)
            shard_free(&pp->shards[s], pp->delay);
    if (pp->ring)
        for (uint32_t i = 0; i < RING; i++) {
            rv_event_free(&pp->ring[i].x);
            free(pp->ring[i].ystr);
            for (size_t f = 0; pp->ring[i].pred && f < pp->nmodels; f++)
                rv_prediction_free(&pp->ring[i].pred[f]);
            if (pp->ring[i].pred != pp->ring[i].pred_in)
                free(pp->ring[i].pred);
        }
    free(pp->ring);
    free(pp->shards);
    rv_strmap_free(&pp->known);
    waiter_destroy(&pp->fw);
    free(pp);
}

static rv_status check_args(rv_object *const *families, size_t nmodels, rv_object *const *metrics,
                            size_t nmetrics, unsigned nthreads, rv_error *err)
{
    if (!families || nmodels == 0)
        return rv_error_set(err, RV_EINVAL, "parallel progressive validation needs a family");
    if (nmodels > MAX_MODELS)
        return rv_error_set(err, RV_EINVAL, "parallel progressive validation: at most %d families",
                            MAX_MODELS);
    if (nthreads < 1 || nthreads > MAX_THREADS)
        return rv_error_set(err, RV_EINVAL, "threads must be between 1 and %d", MAX_THREADS);
    for (size_t f = 0; f < nmodels; f++) {
        if (!rv_is_family(families[f]) ||
            !(rv_estimator_flags(rv_family_prototype(families[f])) &
              (RV_F_REGRESSOR | RV_F_CLASSIFIER)))
            return rv_error_set(err, RV_EINVAL,
                                "parallel progressive validation: model %zu is not a compose.Family "
                                "of regressors or classifiers",
                                f + 1);
        if (strcmp(rv_family_key_feature(families[f]), rv_family_key_feature(families[0])) != 0)
            return rv_error_set(err, RV_EINVAL,
                                "parallel progressive validation: the families must share one key "
                                "('%s' vs '%s')",
                                rv_family_key_feature(families[0]), rv_family_key_feature(families[f]));
    }
    for (size_t i = 0; i < nmodels * nmetrics; i++)
        if (!metrics[i] || metrics[i]->cls->kind != RV_CLASS_METRIC)
            return rv_error_set(err, RV_EINVAL, "progressive validation: item %zu is not a metric",
                                i + 1);
    return RV_OK;
}

static int shard_init(rv_progressive_par *pp, shard *sh, unsigned id)
{
    sh->pp = pp;
    sh->id = id;
    rv_strmap_init(&sh->keys);
    atomic_init(&sh->qhead, 0);
    waiter_init(&sh->w);
    if (pp->delay) {
        if (!(sh->pend = calloc((size_t)pp->delay + 1, sizeof *sh->pend)))
            return -1;
        for (uint32_t i = 0; i <= pp->delay; i++)
            rv_event_init(&sh->pend[i].x);
    }
    return id && !(sh->q = malloc(QCAP * sizeof *sh->q)) ? -1 : 0;
}

rv_progressive_par *rv_progressive_new_parallel(rv_object *const *families, size_t nmodels,
                                                rv_object *const *metrics, size_t nmetrics,
                                                uint32_t delay, unsigned nthreads, rv_error *err)
{
    if (check_args(families, nmodels, metrics, nmetrics, nthreads, err))
        return NULL;
    if (delay == UINT32_MAX) {
        rv_error_set(err, RV_EINVAL, "delay too large");
        return NULL;
    }
    rv_progressive_par *pp = zalloc_lines(sizeof *pp);
    if (!pp) {
        rv_error_set(err, RV_ENOMEM, "out of memory");
        return NULL;
    }
    waiter_init(&pp->fw);
    atomic_init(&pp->acks, 0);
    pp->families = families;
    pp->nmodels = nmodels;
    rv_strmap_init(&pp->known);
    for (size_t f = 0; f < nmodels; f++)
        pp->mutates |= (uint64_t)(rv_predict_changes_state(families[f]) != 0) << f;
    pp->fuse = 1; /* the same family twice shares members: keep the order */
    for (size_t f = 0; f < nmodels; f++)
        for (size_t g = 0; g < f; g++)
            if (families[f] == families[g])
                pp->fuse = 0;
    pp->metrics = metrics;
    pp->nmetrics = nmetrics;
    pp->delay = delay;
    pp->nthreads = nthreads;
    pp->ring = zalloc_lines(RING * sizeof *pp->ring);
    pp->shards = zalloc_lines(nthreads * sizeof *pp->shards);
    int bad = !pp->ring || !pp->shards;
    for (uint32_t i = 0; !bad && i < RING; i++) {
        row *r = &pp->ring[i];
        rv_event_init(&r->x);
        atomic_init(&r->done, 0);
        r->pred = nmodels <= INLINE_MODELS ? r->pred_in : calloc(nmodels, sizeof *r->pred);
        if (!r->pred)
            bad = 1;
        for (size_t f = 0; !bad && f < nmodels; f++)
            rv_prediction_init(&r->pred[f]);
    }
    unsigned inited = 0;
    for (; !bad && inited < nthreads; inited++)
        bad = shard_init(pp, &pp->shards[inited], inited);
    if (bad) {
        if (pp->shards) /* shards past `inited` are zeroed: give them live waiters to destroy */
            for (unsigned s = inited; s < nthreads; s++)
                waiter_init(&pp->shards[s].w);
        rv_progressive_par_free(pp);
        rv_error_set(err, RV_ENOMEM, "out of memory");
        return NULL;
    }
    for (unsigned s = 1; s < nthreads; s++) {
        if (pthread_create(&pp->shards[s].thread, NULL, worker, &pp->shards[s]) != 0) {
            rv_progressive_par_free(pp);
            rv_error_set(err, RV_ESTATE, "cannot start a worker thread");
            return NULL;
        }
        pp->shards[s].started = 1;
    }
    return pp;
}

void rv_progressive_par_set_callback(rv_progressive_par *pp, rv_progressive_cb cb, void *ctx)
{
    pp->cb = cb;
    pp->ctx = ctx;
}

uint64_t rv_progressive_par_count(const rv_progressive_par *pp) { return pp->count; }
