/* libmicrohttpd glue: a pool of --workers threads (default: twice the cores), each
 * running its own epoll loop and fed connections by acceptor.c, which spreads
 * them evenly; a cap on connections, an idle timeout and a deadline for
 * receiving each request (deadline.c, which also frees slots at the cap),
 * bodies gathered up to the size limit, bearer-token checks, and the
 * hand-off to the router.
 *
 * No pool thread ever waits. A request whose answer needs a store commit
 * (a learn, a kept predict) is suspended with its answer ready and resumed
 * by the store's committer once the commit is durable (park list below); an
 * idle SSE stream is suspended by its listener (sse.c) and resumed when
 * there is something to send. Suspended connections still count toward the
 * cap and do not time out.
 *
 * A request is answered on its first call (before its body is read) when it
 * lacks the token (401), has the wrong one (403), or declares a body over
 * the limit (413); a chunked body that outgrows the limit is drained and
 * answered 413. The token is compared in constant time and never logged.
 */
#include "internal.h"
#include "server/acceptor.h"
#include "server/deadline.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Each connection's memory pool (request line, headers, read buffer). MHD
 * zeroes the pool after every request, and at its default of 32 KiB that
 * alone cost more than parsing the request (and pushed the rest out of the
 * L1 cache): 8 KiB lifted predict from ~105k to ~150k requests/s on this
 * machine. It still takes about 6 KiB of headers (more gets 431); bodies
 * stream through it in chunks and are gathered below. */
#define RV_CONN_MEMORY 8192

typedef struct conn_ctx {
    rv_buf body;
    int too_large;
    struct MHD_Connection *conn;
    rv_resp resp;  /* an answer waiting for resp.wait to commit */
    int has_resp;
    int tracked;         /* clock is in s->deadlines */
    rv_conn_clock clock; /* the deadline for receiving each request */
} conn_ctx;

static conn_ctx *socket_ctx(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* One line per request for --verbose. The path arrives decoded (%0A is a
 * newline), so bytes below 0x20 or 0x7f are written as \xNN: a client must
 * not be able to forge log lines. Long paths are cut. */
static void log_request(const char *method, const char *url, int status)
{
    char path[512];
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)url; *p && n + 5 < sizeof path; p++) {
        if (*p < 0x20 || *p == 0x7f || *p == '\\')
            n += (size_t)snprintf(path + n, 5, "\\x%02x", *p);
        else
            path[n++] = (char)*p;
    }
    path[n] = '\0';
    fprintf(stderr, "rivulet: %s %s %d\n", method, path, status);
}

static enum MHD_Result send_resp(struct MHD_Connection *c, rv_server *s, const char *method,
                                 const char *url, rv_resp *r)
{
    struct MHD_Response *mr;
    if (r->body.len == 0) {
        mr = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        rv_buf_free(&r->body);
    } else {
        mr = MHD_create_response_from_buffer(r->body.len, r->body.data, MHD_RESPMEM_MUST_FREE);
        if (mr)
            rv_buf_init(&r->body); /* MHD owns the bytes now */
        else
            rv_buf_free(&r->body);
    }
    if (!mr)
        return MHD_NO;
    if (r->content_type && r->status != 204)
        MHD_add_response_header(mr, "Content-Type", r->content_type);
    if (r->close)
        MHD_add_response_header(mr, "Connection", "close");
    if (r->allow)
        MHD_add_response_header(mr, "Allow", r->allow);
    if (r->www_authenticate)
        MHD_add_response_header(mr, "WWW-Authenticate", r->www_authenticate);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)r->status, mr);
    MHD_destroy_response(mr);
    rv_counter_add(&s->n_requests);
    if (r->status >= 400 && r->status < 500)
        rv_counter_add(&s->n_errors);
    if (s->cfg.verbose)
        log_request(method, url, r->status);
    return ok;
}

static enum MHD_Result send_message(struct MHD_Connection *c, rv_server *s, const char *method,
                                    const char *url, int status, const char *msg)
{
    rv_resp r = {0};
    rv_buf_init(&r.body);
    rv_resp_message(&r, status, "%s", msg);
    return send_resp(c, s, method, url, &r);
}

typedef struct framing {
    size_t content_length, transfer_encoding; /* how many of each header */
    const char *unknown_coding;               /* a Transfer-Encoding other than chunked */
} framing;

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    framing *f = cls;
    f->content_length += strcasecmp(key, "Content-Length") == 0;
    if (strcasecmp(key, "Transfer-Encoding") == 0) {
        f->transfer_encoding++;
        if (!value || strcasecmp(value, "chunked") != 0)
            f->unknown_coding = value ? value : "";
    }
    return MHD_YES;
}

/* Whether the body's framing can be trusted, in one pass over the headers
 * on every request: 0, or the status to answer (and close the connection).
 * - 400: the length is ambiguous, with two Content-Length headers (the
 *   first would win, and the rest of the body be read as the next request)
 *   or one with Transfer-Encoding. A proxy in front may frame such a
 *   request differently, which is how requests are smuggled past it.
 * - 501: a Transfer-Encoding other than chunked (gzip, "gzip, chunked").
 *   libmicrohttpd 0.9.75 then reads the body until the client closes, so
 *   the client waited for the idle timeout with no answer. */
static int bad_framing(struct MHD_Connection *c, const char **coding)
{
    framing f = {0, 0, NULL};
    MHD_get_connection_values(c, MHD_HEADER_KIND, count_framing, &f);
    *coding = f.unknown_coding;
    if (f.content_length > 1 || (f.content_length && f.transfer_encoding) || f.transfer_encoding > 1)
        return 400;
    return f.unknown_coding ? 501 : 0;
}

/* 0 = allowed, else the status to answer. The scheme is matched in any
 * case and may be followed by several spaces, as RFC 9110 (11.1, 11.4)
 * allows: "bearer <token>", which some clients send, got 401 "A bearer
 * token is required." while it carried the right token. */
static int check_token(rv_server *s, struct MHD_Connection *c)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return 401;
    const char *given = h + 7, *want = s->cfg.token;
    while (*given == ' ')
        given++;
    size_t gl = strlen(given), wl = strlen(want);
    unsigned char diff = (unsigned char)(gl != wl);
    for (size_t i = 0; i < wl; i++)
        diff |= (unsigned char)(want[i] ^ (i < gl ? given[i] : 0));
    return diff ? 403 : 0;
}

/* ===== SSE ===== */

static void sse_park(void *conn)
{
    MHD_suspend_connection(conn);
}

static void sse_unpark(void *conn)
{
    MHD_resume_connection(conn);
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    long n = rv_listener_read(cls, buf, max);
    return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : (ssize_t)n;
}

static void sse_free(void *cls)
{
    rv_listener_close(cls);
}

static enum MHD_Result stream(struct MHD_Connection *c, rv_server *s, rv_announcer *a, const char *url)
{
    if (s->cfg.max_streams
        && rv_announcer_listeners(s->sse_events) + rv_announcer_listeners(s->sse_metrics) >= s->cfg.max_streams) {
        rv_resp r = {0};
        rv_buf_init(&r.body);
        rv_resp_message(&r, 503, "%d event streams are open, the most this server allows (--max-streams):"
                                 " close one, or try again later.", s->cfg.max_streams);
        return send_resp(c, s, "GET", url, &r);
    }
    rv_listener *l = rv_listen(a, sse_park, sse_unpark, c);
    if (!l)
        return MHD_NO;
    struct MHD_Response *mr = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, l, sse_free);
    if (!mr) {
        rv_listener_close(l);
        return MHD_NO;
    }
    MHD_add_response_header(mr, "Content-Type", "text/event-stream");
    MHD_add_response_header(mr, "Cache-Control", "no-cache");
    enum MHD_Result ok = MHD_queue_response(c, 200, mr);
    MHD_destroy_response(mr);
    rv_counter_add(&s->n_requests);
    return ok;
}

/* ===== Requests waiting for a commit ===== */

/* The committer's hook: resumes every parked request whose write is durable
 * (all of them if the store failed; they then answer 500). */
static void on_commit(void *cls, uint64_t done, int failed)
{
    rv_server *s = cls;
    if (failed && !atomic_exchange(&s->store_failure_told, 1)) {
        rv_error err = {0};
        rv_store_failure(s->store, &err);
        fprintf(stderr, "rivulet: %s; learns and model changes are refused, and /healthz and /readyz"
                        " answer 503, until the server restarts (it then reloads what was durable)\n",
                err.message);
    }
    pthread_mutex_lock(&s->park_mu);
    for (size_t i = 0; i < s->n_parked;) {
        conn_ctx *ctx = s->parked[i];
        if (failed || ctx->resp.wait <= done) {
            s->parked[i] = s->parked[--s->n_parked];
            MHD_resume_connection(ctx->conn);
        } else {
            i++;
        }
    }
    pthread_mutex_unlock(&s->park_mu);
}

/* 1 = parked (the answer goes out on resume), 0 = committed already, -1 = no
 * room to park (the caller then waits). */
static int park(rv_server *s, conn_ctx *ctx)
{
    int done = 0, out = 0;
    pthread_mutex_lock(&s->park_mu);
    rv_store_check(s->store, ctx->resp.wait, &done, NULL);
    if (!done) {
        if (s->n_parked == s->cap_parked) {
            size_t cap = s->cap_parked ? 2 * s->cap_parked : 64;
            void **np = realloc(s->parked, cap * sizeof *np);
            if (np) {
                s->parked = np;
                s->cap_parked = cap;
            }
        }
        if (s->n_parked < s->cap_parked) {
            s->parked[s->n_parked++] = ctx;
            MHD_suspend_connection(ctx->conn);
            out = 1;
        } else {
            out = -1;
        }
    }
    pthread_mutex_unlock(&s->park_mu);
    return out;
}

/* Sends the held answer, or 500 if its commit failed. The store reports
 * its failure to every check, also for a write that a commit before the
 * failure made durable (the request waited for its worker meanwhile): that
 * one keeps its answer, as a client told 500 sends it again. */
static enum MHD_Result answer_held(struct MHD_Connection *c, rv_server *s, const char *method,
                                   const char *url, conn_ctx *ctx)
{
    rv_error err = {0};
    int done = 0;
    ctx->has_resp = 0;
    if (rv_store_check(s->store, ctx->resp.wait, &done, &err) != RV_OK || !done) {
        if (!done)
            rv_store_wait(s->store, ctx->resp.wait, &err);
        if (err.code != RV_OK) {
            uint64_t durable = rv_store_durable(s->store);
            if (ctx->resp.line_tickets.len)
                rv_batch_mark_lost(&ctx->resp, durable, err.message);
            else if (ctx->resp.wait > durable)
                rv_resp_message(&ctx->resp, 500, "%s", err.message);
            ctx->resp.wait = 0;
        }
    }
    return send_resp(c, s, method, url, &ctx->resp);
}

/* ===== The access handler ===== */

static enum MHD_Result first_call(rv_server *s, struct MHD_Connection *c, const char *url,
                                  const char *method, void **con_cls)
{
    conn_ctx *ctx = socket_ctx(c); /* made when the connection opened */
    /* answered here (a stream: for as long as it lasts), or told below that
     * a body comes; not at all if the deadlines shut the connection down as
     * its headers came in */
    if (!ctx || !rv_conn_clock_serving(&ctx->clock))
        return MHD_NO;
    const char *coding;
    int framing_status = bad_framing(c, &coding);
    if (framing_status) {
        rv_resp r = {.close = 1};
        rv_buf_init(&r.body);
        if (framing_status == 400)
            rv_resp_message(&r, 400, "The body's length is ambiguous: send one Content-Length, or"
                                     " Transfer-Encoding: chunked alone.");
        else
            rv_resp_message(&r, 501, "Transfer-Encoding '%.60s' is not supported: send the body with"
                                     " Content-Length, or Transfer-Encoding: chunked.", coding);
        return send_resp(c, s, method, url, &r);
    }
    if (s->cfg.token && s->cfg.token[0] && rv_api_changes_state(method, url)) {
        int status = check_token(s, c);
        if (status) {
            /* a 401 names the scheme to use (RFC 9110, 11.6.1) */
            rv_resp r = {.www_authenticate = status == 401 ? "Bearer" : NULL};
            rv_buf_init(&r.body);
            rv_resp_message(&r, status, "%s",
                            status == 401 ? "A bearer token is required." : "The token is wrong.");
            return send_resp(c, s, method, url, &r);
        }
    }
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > s->cfg.max_body)
        return send_message(c, s, method, url, 413, "The body is too large.");
    if (strcmp(method, "HEAD") == 0 && strncmp(url, "/api/stream/", 12) == 0
        && (strcmp(url + 12, "metrics") == 0 || strcmp(url + 12, "events") == 0)) {
        rv_resp r = {.status = 200, .content_type = "text/event-stream"}; /* no listener for HEAD */
        rv_buf_init(&r.body);
        return send_resp(c, s, method, url, &r);
    }
    if (strcmp(method, "GET") == 0 && strcmp(url, "/api/stream/metrics") == 0)
        return stream(c, s, s->sse_metrics, url);
    if (strcmp(method, "GET") == 0 && strcmp(url, "/api/stream/events") == 0)
        return stream(c, s, s->sse_events, url);
    rv_conn_clock_headers(&ctx->clock);
    *con_cls = ctx;
    return MHD_YES;
}

/* One conn_ctx per connection, reused by its requests (keep-alive clients
 * send thousands): made on open, reset after each request, freed on close. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    rv_server *s = cls;
    conn_ctx *ctx = *socket_context;
    if (code == MHD_CONNECTION_NOTIFY_STARTED && !ctx) {
        ctx = calloc(1, sizeof *ctx);
        const union MHD_ConnectionInfo *fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (ctx) {
            rv_buf_init(&ctx->body); /* ctx->resp is empty, zeroed */
            ctx->conn = c;
            if (fd && s->deadlines) {
                rv_deadlines_track(s->deadlines, &ctx->clock, fd->connect_fd);
                ctx->tracked = 1;
            }
        }
        *socket_context = ctx;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        atomic_fetch_sub(&s->open_conns, 1); /* acceptor.c counted it in */
        if (ctx) {
            if (ctx->tracked) /* before libmicrohttpd closes the descriptor */
                rv_deadlines_untrack(s->deadlines, &ctx->clock);
            rv_buf_free(&ctx->body);
            rv_resp_clear(&ctx->resp);
            free(ctx);
            *socket_context = NULL;
        }
    }
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decodes %XX in a path or query argument, in place, as libmicrohttpd would,
 * except %00: decoded, it would end the C string there, so that
 * /api/model/good%00x named model "good" (DELETE removed it). Left as is, it
 * is a name no model has, and the client gets 400 or 404. */
static size_t unescape_keep_nul(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    char *out = s;
    for (const char *in = s; *in;) {
        int hi, lo;
        if (in[0] == '%' && (hi = hex_digit(in[1])) >= 0 && (lo = hex_digit(in[2])) >= 0
            && (hi | lo)) {
            *out++ = (char)(hi * 16 + lo);
            in += 3;
        } else {
            *out++ = *in++;
        }
    }
    *out = '\0';
    return (size_t)(out - s);
}

static const char *query_arg(void *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

/* The path of a request target in absolute form ("http://host:port/api/x",
 * as a client configured with a proxy sends it), which RFC 9112 says a
 * server must accept; libmicrohttpd passes it whole. Any other target as is. */
static const char *origin_form(const char *url)
{
    if (url[0] == '/')
        return url;
    size_t scheme = strncasecmp(url, "http://", 7) == 0 ? 7 : strncasecmp(url, "https://", 8) == 0 ? 8 : 0;
    if (!scheme)
        return url;
    const char *path = strchr(url + scheme, '/');
    return path ? path : "/";
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)version;
    rv_server *s = cls;
    conn_ctx *ctx = *con_cls;
    url = origin_form(url);
    if (!ctx)
        return first_call(s, c, url, method, con_cls);
    if (ctx->has_resp) /* resumed after its commit */
        return answer_held(c, s, method, url, ctx);
    if (*upload_size) {
        rv_conn_clock_body(&ctx->clock, *upload_size);
        if (!ctx->too_large && ctx->body.len + *upload_size <= s->cfg.max_body)
            rv_buf_put(&ctx->body, upload, *upload_size);
        else
            ctx->too_large = 1;
        *upload_size = 0;
        return MHD_YES;
    }
    if (!rv_conn_clock_serving(&ctx->clock)) /* shut down as its body ended: not run */
        return MHD_NO;
    if (ctx->too_large)
        return send_message(c, s, method, url, 413, "The body is too large.");
    if (ctx->body.oom)
        return send_message(c, s, method, url, 500, "Out of memory reading the body.");
    /* HEAD is routed as GET: libmicrohttpd sends the headers and no body */
    rv_req req = {strcmp(method, "HEAD") == 0 ? "GET" : method, url, ctx->body.data, ctx->body.len,
                  query_arg, c};
    rv_resp *resp = &ctx->resp;
    rv_api_dispatch(s, &req, resp);
    if (resp->wait) {
        ctx->has_resp = 1;
        int parked = park(s, ctx);
        if (parked > 0)
            return MHD_YES;
        return answer_held(c, s, method, url, ctx);
    }
    return send_resp(c, s, method, url, resp);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)toe;
    conn_ctx *ctx = *con_cls;
    if (!ctx) { /* answered on its first call: only the clock to restart */
        if ((ctx = socket_ctx(c)))
            rv_conn_clock_next(&ctx->clock);
        return;
    }
    /* ready for the connection's next request; a big body's buffer is not kept */
    rv_conn_clock_next(&ctx->clock);
    if (ctx->body.cap > 65536) {
        rv_buf_free(&ctx->body);
        rv_buf_init(&ctx->body);
    }
    rv_buf_reset(&ctx->body);
    rv_resp_clear(&ctx->resp);
    ctx->too_large = ctx->has_resp = 0;
    *con_cls = NULL;
}

int rv_http_start(rv_server *s, rv_error *err)
{
    pthread_mutex_init(&s->park_mu, NULL);
    rv_store_set_notify(s->store, on_commit, s);
    atomic_init(&s->open_conns, 0);
    int fd;
    rv_status st = rv_listen_tcp(s->cfg.host, &s->cfg.port, &fd, err);
    if (st != RV_OK)
        return st;
    if (!(s->deadlines = rv_deadlines_start(s->cfg.timeout_s, err))) {
        close(fd);
        return err->code;
    }
    /* Connections come from acceptor.c, which spreads them over the workers. */
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME
                     | MHD_USE_NO_LISTEN_SOCKET;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, handle, s,
        /* acceptor.c keeps the cap; each worker's share holds all of them
         * twice over (evicted connections close while new ones come in:
         * acceptor.c), with room for connections closing */
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)((2 * s->cfg.max_connections + 64) * s->cfg.workers),
        MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)s->cfg.timeout_s, MHD_OPTION_NOTIFY_COMPLETED, completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)s->cfg.workers,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)RV_CONN_MEMORY,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape_keep_nul, NULL,
        MHD_OPTION_END);
    if (!d) {
        close(fd);
        rv_deadlines_stop(s->deadlines);
        s->deadlines = NULL;
        return rv_error_set(err, RV_EIO, "cannot start the HTTP workers on %s:%d", s->cfg.host, s->cfg.port);
    }
    if (!(s->acceptor = rv_acceptor_start(fd, d, &s->open_conns, s->cfg.max_connections, rv_deadlines_evict,
                                          s->deadlines, err))) {
        MHD_stop_daemon(d);
        rv_deadlines_stop(s->deadlines);
        s->deadlines = NULL;
        return err->code;
    }
    s->daemon = d;
    return RV_OK;
}

/* Stops accepting, ends the streams, lets requests in flight finish. */
void rv_http_stop(rv_server *s)
{
    if (!s->daemon)
        return;
    rv_acceptor_stop(s->acceptor);
    s->acceptor = NULL;
    rv_announcer_stop(s->sse_events);
    rv_announcer_stop(s->sse_metrics);
    /* Suspended connections must be resumed before the daemon stops: parked
     * requests come back as their commits land (the committer still runs). */
    for (int i = 0; i < 10000; i++) {
        pthread_mutex_lock(&s->park_mu);
        size_t n = s->n_parked;
        pthread_mutex_unlock(&s->park_mu);
        if (!n)
            break;
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    rv_deadlines_stop(s->deadlines); /* every connection is closed, so untracked */
    s->deadlines = NULL;
    rv_store_set_notify(s->store, NULL, NULL);
    free(s->parked);
    s->parked = NULL;
    pthread_mutex_destroy(&s->park_mu);
}
