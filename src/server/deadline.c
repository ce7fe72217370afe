/* Slow clients: a deadline for receiving each request, and eviction of the
 * longest-waiting connection when the cap is reached.
 *
 * libmicrohttpd's --timeout closes a connection only after that long with no
 * byte at all. A client that sends its headers one byte every few seconds
 * (slowloris), or a body at a trickle, therefore held its connection for
 * ever, and 256 such clients (the default cap) locked everyone else out.
 *
 * Each connection's clock goes through three phases:
 *
 *   WAITING  from the connection's opening, or the previous answer, until
 *            the request's headers are in (libmicrohttpd's first call)
 *   BODY     until the body is in whole
 *   SERVING  until the answer is out: no deadline here (a learn waiting for
 *            its commit, an event stream, a slow reader of a big answer,
 *            which the idle timeout still covers)
 *
 * WAITING and BODY must end within timeout_s of the phase's start, plus one
 * second for every RV_MIN_BODY_RATE bytes of body received, so a big upload
 * at a normal pace is never cut and a trickle is. An idle keep-alive
 * connection is WAITING too, and closes when libmicrohttpd's idle timeout
 * would have closed it. The thread below checks every clock 4 times a second
 * and shuts a late connection down (shutdown(2), so libmicrohttpd sees the
 * peer gone and closes it itself, with no answer: the client stopped
 * sending one).
 *
 * At the cap the acceptor asks for room (rv_deadlines_evict): the connection
 * that has been WAITING longest, if for over a second, is shut down and the
 * new one takes its place. Connections that are receiving a body or being
 * served are never evicted. So a client pool kept open but idle gives way to
 * new clients, as nginx reuses idle keep-alive connections, and a crowd of
 * slow senders cannot hold every slot.
 *
 * The worker and this thread race for a connection: a request may come in
 * just as its connection is found late. Phases change by compare-and-swap
 * and SHUT is final, so exactly one wins: a connection shut down is never
 * served (its answer could not be sent, and the client could not tell that
 * a learn was made), and one being served is never shut down.
 *
 * Safety of the descriptor: libmicrohttpd reports a connection closed
 * (MHD_CONNECTION_NOTIFY_CLOSED, which untracks it under the same mutex)
 * before it closes the descriptor, so a shutdown never reaches a descriptor
 * reused by a later connection.
 */
#include "internal.h"
#include "server/deadline.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

/* Body bytes per second a request must at least average (16 KiB/s: a
 * 64 MiB batch may take over an hour; a slowloris must send continuously). */
#define RV_MIN_BODY_RATE 16384.0
#define EVICT_MIN_WAIT_NS 1000000000LL
#define CHECK_EVERY_NS 250000000LL

struct rv_deadlines {
    pthread_mutex_t mu;
    pthread_cond_t wake;
    rv_conn_clock head; /* sentinel of a circular list */
    int64_t timeout_ns;
    int stop;
    pthread_t thread;
    _Atomic uint64_t n_expired, n_evicted;
};

static int64_t now_ns(void)
{
    return (int64_t)rv_now_ns(); /* the server's clock (stats.c), signed for the arithmetic below */
}

/* ===== The clocks ===== */

/* Moves c to phase unless it was shut down: the deadline thread and the
 * worker race for a connection, and exactly one of them wins it. */
static int enter(rv_conn_clock *c, int phase)
{
    int was = atomic_load(&c->phase);
    while (was != RV_CONN_SHUT && !atomic_compare_exchange_weak(&c->phase, &was, phase))
        ;
    return was != RV_CONN_SHUT;
}

int rv_conn_clock_headers(rv_conn_clock *c)
{
    atomic_store(&c->since_ns, now_ns());
    return enter(c, RV_CONN_BODY);
}

void rv_conn_clock_body(rv_conn_clock *c, uint64_t n)
{
    atomic_fetch_add(&c->body_bytes, n);
}

int rv_conn_clock_serving(rv_conn_clock *c)
{
    return enter(c, RV_CONN_SERVING);
}

void rv_conn_clock_next(rv_conn_clock *c)
{
    atomic_store(&c->body_bytes, 0);
    atomic_store(&c->since_ns, now_ns());
    enter(c, RV_CONN_WAITING);
}

void rv_deadlines_track(rv_deadlines *d, rv_conn_clock *c, int fd)
{
    c->fd = fd;
    atomic_init(&c->body_bytes, 0);
    atomic_init(&c->since_ns, now_ns());
    atomic_init(&c->phase, RV_CONN_WAITING);
    pthread_mutex_lock(&d->mu);
    c->next = d->head.next;
    c->prev = &d->head;
    c->next->prev = c;
    d->head.next = c;
    pthread_mutex_unlock(&d->mu);
}

void rv_deadlines_untrack(rv_deadlines *d, rv_conn_clock *c)
{
    pthread_mutex_lock(&d->mu);
    if (c->next) {
        c->prev->next = c->next;
        c->next->prev = c->prev;
        c->next = c->prev = NULL;
    }
    pthread_mutex_unlock(&d->mu);
}

/* ===== Enforcing ===== */

/* Under mu: stops the connection if it is still in phase `from` (the
 * worker may have just moved it to SERVING: then it is served, not shut);
 * libmicrohttpd closes it on its next read. 1 if it did. */
static int shut(rv_conn_clock *c, int from)
{
    if (!atomic_compare_exchange_strong(&c->phase, &from, RV_CONN_SHUT))
        return 0;
    shutdown(c->fd, SHUT_RDWR);
    return 1;
}

/* The phase c is late in (WAITING or BODY), or -1. */
static int late(const rv_deadlines *d, const rv_conn_clock *c, int64_t now)
{
    int phase = atomic_load(&c->phase);
    if (phase != RV_CONN_WAITING && phase != RV_CONN_BODY)
        return -1;
    double allowed = (double)d->timeout_ns + 1e9 * (double)atomic_load(&c->body_bytes) / RV_MIN_BODY_RATE;
    return (double)(now - atomic_load(&c->since_ns)) > allowed ? phase : -1;
}

static void *enforce(void *arg)
{
    rv_deadlines *d = arg;
    pthread_mutex_lock(&d->mu);
    while (!d->stop) {
        int64_t now = now_ns();
        for (rv_conn_clock *c = d->head.next; c != &d->head; c = c->next) {
            int phase = late(d, c, now);
            if (phase >= 0 && shut(c, phase))
                atomic_fetch_add(&d->n_expired, 1);
        }
        int64_t at = now + CHECK_EVERY_NS;
        struct timespec ts = {(time_t)(at / 1000000000LL), (long)(at % 1000000000LL)};
        pthread_cond_timedwait(&d->wake, &d->mu, &ts);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

int rv_deadlines_evict(void *arg)
{
    rv_deadlines *d = arg;
    int64_t now = now_ns();
    pthread_mutex_lock(&d->mu);
    rv_conn_clock *oldest = NULL;
    for (rv_conn_clock *c = d->head.next; c != &d->head; c = c->next)
        if (atomic_load(&c->phase) == RV_CONN_WAITING && now - atomic_load(&c->since_ns) > EVICT_MIN_WAIT_NS
            && (!oldest || atomic_load(&c->since_ns) < atomic_load(&oldest->since_ns)))
            oldest = c;
    int done = oldest && shut(oldest, RV_CONN_WAITING);
    if (done)
        atomic_fetch_add(&d->n_evicted, 1);
    pthread_mutex_unlock(&d->mu);
    return done;
}

uint64_t rv_deadlines_expired(rv_deadlines *d)
{
    return atomic_load(&d->n_expired);
}

uint64_t rv_deadlines_evicted(rv_deadlines *d)
{
    return atomic_load(&d->n_evicted);
}

/* ===== Life ===== */

rv_deadlines *rv_deadlines_start(int timeout_s, rv_error *err)
{
    rv_deadlines *d = calloc(1, sizeof *d);
    if (!d) {
        rv_error_set(err, RV_ENOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&d->mu, NULL);
    pthread_condattr_t monotonic;
    pthread_condattr_init(&monotonic);
    pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
    pthread_cond_init(&d->wake, &monotonic);
    pthread_condattr_destroy(&monotonic);
    d->head.next = d->head.prev = &d->head;
    d->timeout_ns = (int64_t)timeout_s * 1000000000LL;
    if (pthread_create(&d->thread, NULL, enforce, d) != 0) {
        pthread_cond_destroy(&d->wake);
        pthread_mutex_destroy(&d->mu);
        free(d);
        rv_error_set(err, RV_ENOMEM, "cannot start the deadline thread");
        return NULL;
    }
    return d;
}

void rv_deadlines_stop(rv_deadlines *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    d->stop = 1;
    pthread_cond_signal(&d->wake);
    pthread_mutex_unlock(&d->mu);
    pthread_join(d->thread, NULL);
    pthread_cond_destroy(&d->wake);
    pthread_mutex_destroy(&d->mu);
    free(d);
}
