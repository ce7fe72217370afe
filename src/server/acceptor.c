/* The listening socket, and one thread that accepts on it.
 *
 * Why not let libmicrohttpd accept: in its thread pool every worker polls
 * the same listening socket and whichever is awake wins the accept. A client
 * that opens its connections in a burst (wrk, a Python pool, the M5 demo)
 * often lands them all on one worker, and then one core serves everything
 * while the other idles: measured with wrk and 64 connections, runs where one
 * worker got every connection gave 131-142k predicts/s, runs where both got
 * some gave 160-186k. Here the acceptor hands each connection to the pool with
 * MHD_add_connection, which places it on worker (fd % workers) that has room,
 * and consecutive connections get consecutive descriptors: a burst is split
 * evenly. The thread sleeps in accept(); it costs nothing per request.
 *
 * Over the connection cap, MHD_add_connection closes the new socket (as
 * libmicrohttpd's own accept does). Stopping shuts the socket down, which
 * wakes the blocked accept(); nothing is accepted after rv_acceptor_stop.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

rv_status rv_acceptor_listen(rv_server *s, rv_error *err)
{
    struct sockaddr_storage ss = {0};
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    socklen_t len;
    if (inet_pton(AF_INET, s->cfg.host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)s->cfg.port);
        len = sizeof *a4;
    } else if (inet_pton(AF_INET6, s->cfg.host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)s->cfg.port);
        len = sizeof *a6;
    } else {
        return rv_error_set(err, RV_EINVAL, "host '%s' is not an IPv4 or IPv6 address", s->cfg.host);
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
        return rv_error_set(err, RV_EIO, "cannot listen on %s:%d: %s", s->cfg.host, s->cfg.port, strerror(e));
    }
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) /* the kernel's pick for --port 0 */
        s->cfg.port = ntohs(ss.ss_family == AF_INET ? a4->sin_port : a6->sin6_port);
    s->listen_fd = fd;
    return RV_OK;
}

static void *accept_loop(void *arg)
{
    rv_server *s = arg;
    while (!atomic_load(&s->accept_stop)) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof peer;
        int c = accept4(s->listen_fd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
        if (c >= 0) {
            MHD_add_connection(s->daemon, c, (struct sockaddr *)&peer, len); /* closes c on failure */
        } else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            struct timespec ts = {0, 10 * 1000000L}; /* out of descriptors: let some close */
            nanosleep(&ts, NULL);
        } else if (errno != EINTR && errno != ECONNABORTED && errno != EPROTO && errno != EPERM) {
            break; /* shut down by rv_acceptor_stop, or the socket is unusable */
        }
    }
    return NULL;
}

rv_status rv_acceptor_start(rv_server *s, rv_error *err)
{
    atomic_store(&s->accept_stop, 0);
    if (pthread_create(&s->accept_thread, NULL, accept_loop, s) != 0)
        return rv_error_set(err, RV_ENOMEM, "cannot start the accept thread");
    s->accepting = 1;
    return RV_OK;
}

void rv_acceptor_stop(rv_server *s)
{
    if (s->listen_fd < 0)
        return;
    atomic_store(&s->accept_stop, 1);
    shutdown(s->listen_fd, SHUT_RDWR); /* wakes the blocked accept() with an error */
    if (s->accepting)
        pthread_join(s->accept_thread, NULL);
    s->accepting = 0;
    close(s->listen_fd);
    s->listen_fd = -1;
}
