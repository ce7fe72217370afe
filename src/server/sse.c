/* Server-sent events: one announcer, many listeners.
 *
 * Each listener owns a bounded buffer. rv_announce appends the formatted
 * message ("event: NAME\ndata: JSON\n\n") to every buffer under one mutex and
 * never waits for a reader: a listener whose buffer would overflow is marked
 * dropped and its stream ends, so a slow reader costs requests nothing but a
 * memcpy. A reader that finds nothing within the keep-alive interval sends
 * the comment ": keep-alive\n\n" so that proxies and clients see life.
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
    int dropped;
};

struct rv_announcer {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    rv_listener *head;
    atomic_int n;
    int stopped;
    size_t cap;
    int keepalive_ms;
};

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
    return a;
}

void rv_announcer_stop(rv_announcer *a)
{
    pthread_mutex_lock(&a->mu);
    a->stopped = 1;
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->mu);
}

/* Called once every stream has closed (the HTTP daemon is stopped). */
void rv_announcer_free(rv_announcer *a)
{
    if (!a)
        return;
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cond);
    free(a);
}

int rv_announcer_active(const rv_announcer *a)
{
    return atomic_load_explicit(&a->n, memory_order_relaxed) > 0;
}

void rv_announce(rv_announcer *a, const char *event, const char *data, size_t len)
{
    char head[80];
    int hl = snprintf(head, sizeof head, "event: %s\ndata: ", event);
    size_t need = (size_t)hl + len + 2;
    pthread_mutex_lock(&a->mu);
    for (rv_listener *l = a->head; l; l = l->next) {
        if (l->dropped)
            continue;
        if (l->len + need > a->cap) {
            l->dropped = 1;
            continue;
        }
        memcpy(l->buf + l->len, head, (size_t)hl);
        memcpy(l->buf + l->len + hl, data, len);
        memcpy(l->buf + l->len + hl + len, "\n\n", 2);
        l->len += need;
    }
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->mu);
}

rv_listener *rv_listen(rv_announcer *a)
{
    rv_listener *l = calloc(1, sizeof *l);
    if (!l || !(l->buf = malloc(a->cap))) {
        free(l);
        return NULL;
    }
    l->a = a;
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
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += a->keepalive_ms / 1000;
    until.tv_nsec += (long)(a->keepalive_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&a->mu);
    int rc = 0;
    while (l->len == 0 && !l->dropped && !a->stopped && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&a->cond, &a->mu, &until);
    long out;
    if (l->dropped || a->stopped) {
        out = -1;
    } else if (l->len == 0) {
        static const char ka[] = ": keep-alive\n\n";
        out = cap >= sizeof ka - 1 ? (long)(sizeof ka - 1) : 0;
        memcpy(buf, ka, (size_t)out);
    } else {
        size_t n = l->len < cap ? l->len : cap;
        memcpy(buf, l->buf, n);
        memmove(l->buf, l->buf + n, l->len - n);
        l->len -= n;
        out = (long)n;
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
