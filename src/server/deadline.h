/* Deadlines for receiving a request, and room for new connections when the
 * cap is reached (deadline.c). One rv_conn_clock per connection, embedded
 * in its context; every call is thread-safe. */
#ifndef RV_SERVER_DEADLINE_H
#define RV_SERVER_DEADLINE_H

#include "rivulet/core.h"

#include <stdatomic.h>
#include <stdint.h>

enum { RV_CONN_WAITING, RV_CONN_BODY, RV_CONN_SERVING, RV_CONN_SHUT };

typedef struct rv_conn_clock {
    struct rv_conn_clock *prev, *next; /* the tracked list, under its mutex */
    int fd;
    _Atomic int64_t since_ns;   /* when the awaited request could begin (CLOCK_MONOTONIC) */
    _Atomic uint64_t body_bytes; /* of the request being received */
    atomic_int phase;           /* RV_CONN_*; SHUT for good once shut down */
} rv_conn_clock;

typedef struct rv_deadlines rv_deadlines;

/* Starts the thread that enforces timeout_s (see deadline.c). NULL with err. */
rv_deadlines *rv_deadlines_start(int timeout_s, rv_error *err);
/* Stops the thread and frees; every clock must have been untracked. */
void rv_deadlines_stop(rv_deadlines *d);

/* A connection opened on fd: its first request's clock starts now. */
void rv_deadlines_track(rv_deadlines *d, rv_conn_clock *c, int fd);
/* The connection is closing; c is never touched again. Call this before
 * the descriptor is closed, so that a shutdown cannot hit its next owner. */
void rv_deadlines_untrack(rv_deadlines *d, rv_conn_clock *c);

/* The request's headers are in and its body is arriving. 0 if the
 * connection was shut down meanwhile: the caller must not serve it. */
int rv_conn_clock_headers(rv_conn_clock *c);
/* n more bytes of its body arrived: each buys time (RV_MIN_BODY_RATE). */
void rv_conn_clock_body(rv_conn_clock *c, uint64_t n);
/* The request is in whole: it is being served, with no deadline (a learn
 * waiting for its commit, an event stream, a long batch). 0 if the
 * connection was shut down meanwhile: the caller must not serve it, since
 * its answer could not be sent and the client could not tell it was done. */
int rv_conn_clock_serving(rv_conn_clock *c);
/* Its answer went out: the next request's clock starts now. */
void rv_conn_clock_next(rv_conn_clock *c);

/* For the acceptor at the cap: shuts down the connection that has waited
 * longest for a request's headers, if one has waited over a second (an idle
 * keep-alive connection, or a client sending its headers a byte at a time).
 * 1 if it did, so a new connection can take the slot. */
int rv_deadlines_evict(void *d);

/* Connections shut down so far for missing their deadline, and to make room. */
uint64_t rv_deadlines_expired(rv_deadlines *d);
uint64_t rv_deadlines_evicted(rv_deadlines *d);

#endif
