/* libmicrohttpd glue: one thread per connection (a blocking SSE stream then
 * costs one thread and nothing else), a cap on connections and an idle
 * timeout, bodies gathered up to the size limit, bearer-token checks, and the
 * hand-off to the router.
 *
 * A request is answered on its first call (before its body is read) when it
 * lacks the token (401), has the wrong one (403), or declares a body over
 * the limit (413); a chunked body that outgrows the limit is drained and
 * answered 413. The token is compared in constant time and never logged.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct conn_ctx {
    rv_buf body;
    int too_large;
} conn_ctx;

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
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)r->status, mr);
    MHD_destroy_response(mr);
    atomic_fetch_add(&s->n_requests, 1);
    if (r->status >= 400 && r->status < 500)
        atomic_fetch_add(&s->n_errors, 1);
    if (s->cfg.verbose)
        fprintf(stderr, "rivulet: %s %s %d\n", method, url, r->status);
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

/* 0 = allowed, else the status to answer. */
static int check_token(rv_server *s, struct MHD_Connection *c)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!h || strncmp(h, "Bearer ", 7) != 0)
        return 401;
    const char *given = h + 7, *want = s->cfg.token;
    size_t gl = strlen(given), wl = strlen(want);
    unsigned char diff = (unsigned char)(gl != wl);
    for (size_t i = 0; i < wl; i++)
        diff |= (unsigned char)(want[i] ^ (i < gl ? given[i] : 0));
    return diff ? 403 : 0;
}

/* ===== SSE ===== */

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

static enum MHD_Result stream(struct MHD_Connection *c, rv_server *s, rv_announcer *a)
{
    rv_listener *l = rv_listen(a);
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
    atomic_fetch_add(&s->n_requests, 1);
    return ok;
}

/* ===== The access handler ===== */

static enum MHD_Result first_call(rv_server *s, struct MHD_Connection *c, const char *url,
                                  const char *method, void **con_cls)
{
    if (s->cfg.token && s->cfg.token[0] && rv_api_needs_auth(method, url)) {
        int status = check_token(s, c);
        if (status)
            return send_message(c, s, method, url, status,
                                status == 401 ? "A bearer token is required." : "The token is wrong.");
    }
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > s->cfg.max_body)
        return send_message(c, s, method, url, 413, "The body is too large.");
    if (strcmp(method, "GET") == 0 && strcmp(url, "/api/stream/metrics") == 0)
        return stream(c, s, s->sse_metrics);
    if (strcmp(method, "GET") == 0 && strcmp(url, "/api/stream/events") == 0)
        return stream(c, s, s->sse_events);
    conn_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return MHD_NO;
    rv_buf_init(&ctx->body);
    *con_cls = ctx;
    return MHD_YES;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)version;
    rv_server *s = cls;
    conn_ctx *ctx = *con_cls;
    if (!ctx)
        return first_call(s, c, url, method, con_cls);
    if (*upload_size) {
        if (!ctx->too_large && ctx->body.len + *upload_size <= s->cfg.max_body)
            rv_buf_put(&ctx->body, upload, *upload_size);
        else
            ctx->too_large = 1;
        *upload_size = 0;
        return MHD_YES;
    }
    if (ctx->too_large)
        return send_message(c, s, method, url, 413, "The body is too large.");
    if (ctx->body.oom)
        return send_message(c, s, method, url, 500, "Out of memory reading the body.");
    rv_req req = {method, url, ctx->body.data, ctx->body.len};
    rv_resp resp = {0};
    rv_buf_init(&resp.body);
    rv_api_dispatch(s, &req, &resp);
    return send_resp(c, s, method, url, &resp);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    conn_ctx *ctx = *con_cls;
    if (ctx) {
        rv_buf_free(&ctx->body);
        free(ctx);
        *con_cls = NULL;
    }
}

int rv_http_start(rv_server *s, rv_error *err)
{
    struct sockaddr_in a4 = {0};
    struct sockaddr_in6 a6 = {0};
    struct sockaddr *addr;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC
                     | MHD_USE_POLL;
    if (inet_pton(AF_INET, s->cfg.host, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons((uint16_t)s->cfg.port);
        addr = (struct sockaddr *)&a4;
    } else if (inet_pton(AF_INET6, s->cfg.host, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((uint16_t)s->cfg.port);
        addr = (struct sockaddr *)&a6;
        flags |= MHD_USE_IPv6;
    } else {
        return rv_error_set(err, RV_EINVAL, "host '%s' is not an IPv4 or IPv6 address", s->cfg.host);
    }
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, (uint16_t)s->cfg.port, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR, addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->cfg.threads, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)s->cfg.timeout_s, MHD_OPTION_NOTIFY_COMPLETED, completed, s,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
    if (!d)
        return rv_error_set(err, RV_EIO, "cannot listen on %s:%d", s->cfg.host, s->cfg.port);
    s->daemon = d;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (info)
        s->cfg.port = info->port;
    return RV_OK;
}

/* Stops accepting, ends the streams, lets requests in flight finish. */
void rv_http_stop(rv_server *s)
{
    if (!s->daemon)
        return;
    MHD_quiesce_daemon(s->daemon);
    rv_announcer_stop(s->sse_events);
    rv_announcer_stop(s->sse_metrics);
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
}
