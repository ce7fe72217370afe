/* Server-sent events: one announcer, many listeners.
 *
 * Each listener owns a bounded buffer. rv_announce appends the formatted
 * message ("event: NAME\ndata: JSON\n\n", or without the event line for an
 * unnamed one, which EventSource delivers as "message") to every buffer under one mutex and
 * never waits for a reader: a listener whose buffer would overflow is marked
 * dropped and its stream ends, so a slow reader costs requests nothing but a
 * memcpy. A stream that has sent nothing for the keep-alive interval sends
 * the comment ": keep-alive\n\n" so that proxies and clients see life.
 *
 * Nothing here blocks: a read that finds nothing parks its listener (the
 * HTTP layer suspends the connection, so no thread is held by an idle
 * stream) and whoever has something for it (an announcement, the end, or
 * the ticker thread when a keep-alive is due) unparks it. Park and unpark
 * both run under the announcer's mutex, so an unpark never precedes its
 * park.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct rv_listener {
    rv_listener *next;
    rv_announcer *a;
    char *buf;
    size_t len;
    int dropped, parked;
    uint64_t last_ms; /* when the stream last sent something */
    void (*park)(void *), (*unpark)(void *);
    void *arg;
};

struct rv_announcer {
    pthread_mutex_t mu;
    pthread_cond_t cond; /* the ticker's sleep */
    rv_listener *head;
    atomic_int n;
    int stopped;
    size_t cap;
    int keepalive_ms;
    pthread_t ticker;
    int ticking;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Caller holds a->mu. */
static void unpark(rv_listener *l)
{
    if (l->parked) {
        l->parked = 0;
        l->unpark(l->arg);
    }
}

/* Wakes parked streams whose keep-alive is due, a few times per interval. */
static void *ticker(void *arg)
{
    rv_announcer *a = arg;
    int step = a->keepalive_ms / 4 < 1000 ? a->keepalive_ms / 4 : 1000;
    step = step < 5 ? 5 : step;
    pthread_mutex_lock(&a->mu);
    while (!a->stopped) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += step / 1000;
        until.tv_nsec += (long)(step % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&a->cond, &a->mu, &until);
        uint64_t now = now_ms();
        for (rv_listener *l = a->head; l; l = l->next)
            if (l->parked && (a->stopped || now >= l->last_ms + (uint64_t)a->keepalive_ms))
                unpark(l);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

rv_announcer *rv_announcer_new(size_t buffer_bytes, int keepalive_ms)
{
    rv_announcer *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    pthread_mutex_init(&a->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&a->cond, &attr);
    pthread_condattr_destroy(&attr);
    a->cap = buffer_bytes;
    a->keepalive_ms = keepalive_ms > 0 ? keepalive_ms : 15000;
    a->ticking = pthread_create(&a->ticker, NULL, ticker, a) == 0;
    return a;
}

void rv_announcer_stop(rv_announcer *a)
{
    pthread_mutex_lock(&a->mu);
    a->stopped = 1;
    for (rv_listener *l = a->head; l; l = l->next)
        unpark(l);
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->mu);
    if (a->ticking) {
        pthread_join(a->ticker, NULL);
        a->ticking = 0;
    }
}

/* Called once every stream has closed (the HTTP daemon is stopped). */
void rv_announcer_free(rv_announcer *a)
{
    if (!a)
        return;
    rv_announcer_stop(a);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cond);
    free(a);
}

int rv_announcer_active(const rv_announcer *a)
{
    return atomic_load_explicit(&a->n, memory_order_relaxed) > 0;
}

int rv_announcer_listeners(const rv_announcer *a)
{
    return atomic_load_explicit(&a->n, memory_order_relaxed);
}

void rv_announce(rv_announcer *a, const char *event, const char *data, size_t len)
{
    char head[80];
    int hl = event ? snprintf(head, sizeof head, "event: %s\ndata: ", event)
                   : snprintf(head, sizeof head, "data: ");
    size_t need = (size_t)hl + len + 2;
    pthread_mutex_lock(&a->mu);
    for (rv_listener *l = a->head; l; l = l->next) {
        if (l->dropped)
            continue;
        if (l->len + need > a->cap) {
            l->dropped = 1;
            unpark(l);
            continue;
        }
        memcpy(l->buf + l->len, head, (size_t)hl);
        memcpy(l->buf + l->len + hl, data, len);
        memcpy(l->buf + l->len + hl + len, "\n\n", 2);
        l->len += need;
        unpark(l);
    }
    pthread_mutex_unlock(&a->mu);
}

rv_listener *rv_listen(rv_announcer *a, void (*park)(void *), void (*unpark_fn)(void *), void *arg)
{
    rv_listener *l = calloc(1, sizeof *l);
    if (!l || !(l->buf = malloc(a->cap))) {
        free(l);
        return NULL;
    }
    l->a = a;
    l->park = park;
    l->unpark = unpark_fn;
    l->arg = arg;
    l->last_ms = now_ms();
    pthread_mutex_lock(&a->mu);
    l->next = a->head;
    a->head = l;
    atomic_fetch_add(&a->n, 1);
    pthread_mutex_unlock(&a->mu);
    return l;
}

long rv_listener_read(rv_listener *l, char *buf, size_t cap)
{
    rv_announcer *a = l->a;
    pthread_mutex_lock(&a->mu);
    long out = 0;
    uint64_t now = now_ms();
    if (l->dropped || a->stopped) {
        out = -1;
    } else if (l->len > 0) {
        size_t n = l->len < cap ? l->len : cap;
        memcpy(buf, l->buf, n);
        memmove(l->buf, l->buf + n, l->len - n);
        l->len -= n;
        out = (long)n;
    } else if (now >= l->last_ms + (uint64_t)a->keepalive_ms) {
        static const char ka[] = ": keep-alive\n\n";
        out = cap >= sizeof ka - 1 ? (long)(sizeof ka - 1) : 0;
        memcpy(buf, ka, (size_t)out);
    }
    if (out > 0)
        l->last_ms = now;
    if (out == 0 && !l->parked) {
        l->parked = 1;
        l->park(l->arg);
    }
    pthread_mutex_unlock(&a->mu);
    return out;
}

void rv_listener_close(rv_listener *l)
{
    if (!l)
        return;
    rv_announcer *a = l->a;
    pthread_mutex_lock(&a->mu);
    for (rv_listener **p = &a->head; *p; p = &(*p)->next)
        if (*p == l) {
            *p = l->next;
            break;
        }
    atomic_fetch_sub(&a->n, 1);
    pthread_mutex_unlock(&a->mu);
    free(l->buf);
    free(l);
}
