/* The baseline for `rivulet serve`'s predict: a bare libmicrohttpd server that
 * reads a POST body, parses it with jansson, checks that "features" is an
 * object, and answers {"model": "m", "prediction": 0.0}. No routing, no model,
 * no storage. Issue 5 asks the real server's predict to reach 80% of this
 * server's requests/s, measured in the same run (bench/run-server-bench.sh).
 *
 *   build/opt/bench/bare_server [--port P] [--threads N] [--per-connection]
 *
 * Memory: --memory-limit B sets each connection's MHD memory pool, 8 KiB by
 * default as in `rivulet serve` (src/server/http.c: MHD zeroes the pool per
 * request, so its size is a real cost); 0 keeps MHD's default of 32 KiB.
 *
 * Threading: by default MHD's internal polling thread pool (N threads, default
 * 2, one per core here) on epoll, the model a production MHD server would pick
 * on this machine. --per-connection switches to one thread per connection
 * (poll), so both shapes can be compared. --even-accept accepts on a thread
 * of its own and deals connections out to the pool evenly, as `rivulet
 * serve` does (src/server/acceptor.c); without it the pool's workers race to
 * accept, and which worker (and core) serves which of wrk's connections moves
 * the figure by up to 40% from run to run.
 *
 * Listens on 127.0.0.1 only; prints "listening on 127.0.0.1:PORT" once ready
 * (with --port 0 the kernel picks the port) and runs until SIGINT or SIGTERM.
 * Bodies over 64 KiB get 413; a body that is not JSON or has no "features"
 * object gets 400 with a {"message": ...} body, like the real server. */
#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/acceptor.h"

#define MAX_BODY (64 * 1024)

typedef struct {
    char *data;
    size_t len, cap;
    int too_large;
} body;

static const char ANSWER[] = "{\"model\": \"m\", \"prediction\": 0.0}";

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *text)
{
    struct MHD_Response *r
        = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

/* Appends one chunk of upload data; past MAX_BODY it only remembers that the
 * body was too large, so the connection drains and gets a 413. */
static void body_append(body *b, const char *data, size_t n)
{
    if (b->too_large || b->len + n > MAX_BODY) {
        b->too_large = 1;
        return;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap < b->len + n)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) {
            b->too_large = 1;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
}

/* What the real server does before it touches a model: parse, find the
 * features object. The answer is fixed. */
static enum MHD_Result answer(struct MHD_Connection *c, const body *b)
{
    if (b->too_large)
        return reply(c, 413, "{\"message\": \"The body is too large.\"}");
    json_error_t jerr;
    json_t *doc = json_loadb(b->data ? b->data : "", b->len, 0, &jerr);
    if (!doc)
        return reply(c, 400, "{\"message\": \"The body is not valid JSON.\"}");
    json_t *features = json_object_get(doc, "features");
    enum MHD_Result ret = json_is_object(features)
                              ? reply(c, 200, ANSWER)
                              : reply(c, 400, "{\"message\": \"No features were sent.\"}");
    json_decref(doc);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)url;
    (void)version;
    if (!*con_cls) {
        body *b = calloc(1, sizeof *b);
        if (!b)
            return MHD_NO;
        *con_cls = b;
        return MHD_YES;
    }
    body *b = *con_cls;
    if (*upload_size) {
        body_append(b, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "POST") != 0)
        return reply(c, 405, "{\"message\": \"POST only.\"}");
    return answer(c, b);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    body *b = *con_cls;
    if (b) {
        free(b->data);
        free(b);
        *con_cls = NULL;
    }
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int usage(void)
{
    fputs("usage: bare_server [--port P] [--threads N] [--per-connection | --even-accept]"
          " [--memory-limit B]\n", stderr);
    return 2;
}

int main(int argc, char **argv)
{
    long port = 8090, threads = 2, memory = 8192;
    int per_connection = 0, even_accept = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--memory-limit") && i + 1 < argc)
            memory = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--per-connection"))
            per_connection = 1;
        else if (!strcmp(argv[i], "--even-accept"))
            even_accept = 1;
        else
            return usage();
    }
    if (port < 0 || port > 65535 || threads < 1 || threads > 256 || memory < 0
        || (per_connection && even_accept))
        return usage();
    int listen_fd = -1, bound = (int)port;
    rv_error err = {0};
    if (even_accept && rv_listen_tcp("127.0.0.1", &bound, &listen_fd, &err) != RV_OK) {
        fprintf(stderr, "bare_server: %s\n", err.message);
        return 1;
    }

    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC;
    flags |= per_connection ? MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL : MHD_USE_EPOLL;
    flags |= even_accept ? MHD_USE_NO_LISTEN_SOCKET : 0;
    unsigned pool = per_connection ? 0 : (unsigned)threads;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, &addr,
        MHD_OPTION_THREAD_POOL_SIZE, pool, MHD_OPTION_CONNECTION_LIMIT, 1024u,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, memory ? MHD_OPTION_CONNECTION_MEMORY_LIMIT : MHD_OPTION_END,
        (size_t)memory, MHD_OPTION_END);
    rv_acceptor *acceptor = NULL;
    if (!d || (even_accept && !(acceptor = rv_acceptor_start(listen_fd, d, NULL, 0, NULL, NULL, &err)))) {
        fprintf(stderr, "bare_server: cannot listen on 127.0.0.1:%ld\n", port);
        return 1;
    }
    const union MHD_DaemonInfo *info = even_accept ? NULL : MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    char pool_size[48];
    snprintf(pool_size, sizeof pool_size, memory ? "%ld B" : "MHD default", memory);
    printf("listening on 127.0.0.1:%u (%s, connection pool %s)\n", info ? info->port : (unsigned)bound,
           per_connection ? "thread per connection"
           : even_accept  ? "thread pool, epoll, connections dealt out evenly"
                          : "thread pool, epoll",
           pool_size);
    fflush(stdout);

    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    while (!stop)
        pause();
    rv_acceptor_stop(acceptor);
    MHD_stop_daemon(d);
    return 0;
}
