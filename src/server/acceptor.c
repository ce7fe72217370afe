/* The listening socket, and one thread that accepts on it.
 *
 * Why not let libmicrohttpd accept: in its thread pool every worker polls
 * the same listening socket and whichever is awake wins the accept. A client
 * that opens its connections in a burst (wrk, a Python pool, the M5 demo)
 * often lands them all on one worker, and then one core serves everything
 * while the other idles (with wrk and 64 connections, durable learns went
 * from 63-65k/s to 76k/s once spread evenly). Here the acceptor hands each
 * connection to the pool with MHD_add_connection, which places it on worker
 * (fd % workers) if that one has room, and consecutive connections get
 * consecutive descriptors: a burst is split evenly. The thread sleeps in accept(); it costs nothing per request.
 *
 * The price: a worker busy with a long request (a big batch, a learn waiting
 * for its model's lock) still gets its share of new connections, which wait
 * for it, where libmicrohttpd's race would have let an idle worker take
 * them. Clients keep their connections (keep-alive), so placement is paid
 * once per connection; --workers above the cores softens the wait.
 *
 * The cap on connections is kept here, not by libmicrohttpd: when
 * MHD_add_connection meets a worker at its share of MHD_OPTION_CONNECTION_LIMIT
 * in a thread pool, libmicrohttpd 0.9.75 (Debian 12) deadlocks both workers
 * on their own mutexes (found with --max-connections 4 and six connections at once).
 * So the server gives the daemon a limit it never reaches and counts open
 * connections itself: a connection past the cap is closed unanswered, as
 * libmicrohttpd's own accept does, unless the owner's make_room hook frees a
 * slot for it (rivulet serve shuts down a connection long idle: deadline.c).
 * The slot frees when libmicrohttpd closes that connection, so the count
 * may pass the cap by the evictions in flight, never by more than the cap.
 * Stopping shuts the socket down, which wakes the blocked accept(); nothing
 * is accepted after rv_acceptor_stop.
 */
#include "server/acceptor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct rv_acceptor {
    int fd;
    struct MHD_Daemon *daemon;
    atomic_int *open; /* connections handed over and not closed yet (NULL: no cap) */
    int cap;
    int (*make_room)(void *); /* at the cap: 1 if it freed a slot (NULL: none) */
    void *room_ctx;
    atomic_int stop;
    pthread_t thread;
};

rv_status rv_listen_tcp(const char *host, int *port, int *fd_out, rv_error *err)
{
    struct sockaddr_storage ss = {0};
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    socklen_t len;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)*port);
        len = sizeof *a4;
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)*port);
        len = sizeof *a6;
    } else {
        return rv_error_set(err, RV_EINVAL, "host '%s' is not an IPv4 or IPv6 address", host);
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), on = 1;
    if (fd < 0)
        return rv_error_set(err, RV_EIO, "cannot make a socket: %s", strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on); /* restart over TIME_WAIT */
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        close(fd);
        return rv_error_set(err, RV_EIO, "cannot listen on %s:%d: %s", host, *port, strerror(e));
    }
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        *port = ntohs(ss.ss_family == AF_INET ? a4->sin_port : a6->sin6_port);
    *fd_out = fd;
    return RV_OK;
}

static void *accept_loop(void *arg)
{
    rv_acceptor *a = arg;
    while (!atomic_load(&a->stop)) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof peer;
        int c = accept4(a->fd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
        if (c >= 0) {
            int n_open = a->open ? atomic_fetch_add(a->open, 1) : 0;
            /* an evicted connection frees its slot only once its worker
             * closes it, and a busy worker may not for a while: evictions
             * admit at most cap more, so the daemon's limit (twice the cap
             * per worker) is never met */
            if (a->open && n_open >= a->cap
                && !(a->make_room && n_open < 2 * a->cap && a->make_room(a->room_ctx))) {
                atomic_fetch_sub(a->open, 1);
                close(c);
            } else if (MHD_add_connection(a->daemon, c, (struct sockaddr *)&peer, len) != MHD_YES && a->open) {
                atomic_fetch_sub(a->open, 1); /* it closed c */
            }
        } else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            struct timespec ts = {0, 10 * 1000000L}; /* out of descriptors: let some close */
            nanosleep(&ts, NULL);
        } else if (errno != EINTR && errno != ECONNABORTED && errno != EPROTO && errno != EPERM) {
            break; /* shut down by rv_acceptor_stop, or the socket is unusable */
        }
    }
    return NULL;
}

rv_acceptor *rv_acceptor_start(int listen_fd, void *daemon, atomic_int *open, int cap,
                               int (*make_room)(void *), void *room_ctx, rv_error *err)
{
    rv_acceptor *a = calloc(1, sizeof *a);
    if (a) {
        a->fd = listen_fd;
        a->daemon = daemon;
        a->open = open;
        a->cap = cap;
        a->make_room = make_room;
        a->room_ctx = room_ctx;
        atomic_init(&a->stop, 0);
    }
    if (!a || pthread_create(&a->thread, NULL, accept_loop, a) != 0) {
        close(listen_fd);
        free(a);
        rv_error_set(err, RV_ENOMEM, "cannot start the accept thread");
        return NULL;
    }
    return a;
}

void rv_acceptor_stop(rv_acceptor *a)
{
    if (!a)
        return;
    atomic_store(&a->stop, 1);
    shutdown(a->fd, SHUT_RDWR); /* wakes the blocked accept() with an error */
    pthread_join(a->thread, NULL);
    close(a->fd);
    free(a);
}
