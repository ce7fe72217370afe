/* Accepting connections on our own thread (acceptor.c), for any
 * libmicrohttpd daemon started with MHD_USE_NO_LISTEN_SOCKET and a thread
 * pool: `rivulet serve` and bench/bare_server use it. */
#ifndef RV_SERVER_ACCEPTOR_H
#define RV_SERVER_ACCEPTOR_H

#include "rivulet/core.h"

#include <stdatomic.h>

typedef struct rv_acceptor rv_acceptor;

/* Binds and listens on host (an IPv4 or IPv6 address) and *port; sets *port
 * to the bound port (the kernel's pick when it was 0) and *fd. */
rv_status rv_listen_tcp(const char *host, int *port, int *fd, rv_error *err);
/* Accepts on listen_fd from a new thread and hands each connection to the
 * daemon (a struct MHD_Daemon *); takes over listen_fd. NULL with err.
 * With open set, it enforces the cap on connections itself: *open counts
 * the connections handed over, a new one past cap is closed unanswered
 * unless make_room (if not NULL) returns 1 for having freed a slot, and
 * the daemon's owner must decrement *open as each connection closes
 * (MHD_CONNECTION_NOTIFY_CLOSED). The daemon's own limit must then be high
 * enough never to refuse one (see acceptor.c). */
rv_acceptor *rv_acceptor_start(int listen_fd, void *daemon, atomic_int *open, int cap,
                               int (*make_room)(void *), void *room_ctx, rv_error *err);
/* Stops accepting, joins the thread, closes the socket, frees. NULL is fine. */
void rv_acceptor_stop(rv_acceptor *a);

#endif
