/* A tiny HTTP/1.1 client over raw sockets for the server's end-to-end tests,
 * and helpers that run `rivulet serve` (rv_serve_main) in a forked child on a
 * free port of 127.0.0.1 with a temporary database. Every wait is bounded. */
#ifndef RIVULET_TEST_SERVER_CLIENT_H
#define RIVULET_TEST_SERVER_CLIENT_H

#include "rivulet/server.h"
#include "support.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

typedef struct test_server {
    pid_t pid;
    int port;
    char dir[256], db[300], port_file[300];
} test_server;

typedef struct http_resp {
    int status;
    char *head; /* status line and headers, NUL-terminated */
    char *body; /* NUL-terminated */
    size_t len;
    json_t *json;
} http_resp;

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static inline int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads until EOF or timeout; returns bytes read (buffer malloc'ed). */
static inline char *read_until_close(int fd, size_t *len, int timeout_ms)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    double end = now_s() + timeout_ms / 1000.0;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        int left = (int)((end - now_s()) * 1000);
        if (left <= 0 || poll(&p, 1, left) <= 0)
            break;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
        ssize_t r = recv(fd, buf + n, cap - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static inline void http_free(http_resp *r)
{
    free(r->head);
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

/* One request on its own connection; extra_headers end with \r\n. */
static inline int http_req(int port, const char *method, const char *path, const char *extra_headers,
                           const char *body, size_t blen, http_resp *out)
{
    memset(out, 0, sizeof *out);
    int fd = tcp_connect(port);
    if (fd < 0)
        return -1;
    char head[1024];
    int hl = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%sContent-Length: %zu\r\n\r\n",
                      method, path, extra_headers ? extra_headers : "", body ? blen : 0);
    if (write_all(fd, head, (size_t)hl) != 0 || (body && write_all(fd, body, blen) != 0)) {
        close(fd);
        return -1;
    }
    size_t n;
    char *raw = read_until_close(fd, &n, 10000);
    close(fd);
    char *sep = strstr(raw, "\r\n\r\n");
    if (!sep || sscanf(raw, "HTTP/1.%*d %d", &out->status) != 1) {
        free(raw);
        return -1;
    }
    out->len = n - (size_t)(sep + 4 - raw);
    out->body = malloc(out->len + 1);
    memcpy(out->body, sep + 4, out->len);
    out->body[out->len] = '\0';
    out->head = strndup(raw, (size_t)(sep - raw));
    free(raw);
    json_error_t e;
    out->json = json_loadb(out->body, out->len, JSON_DECODE_ANY, &e);
    return 0;
}

static inline int http_json(int port, const char *method, const char *path, const char *body,
                            http_resp *out)
{
    return http_req(port, method, path, NULL, body, body ? strlen(body) : 0, out);
}

/* The value of header name (any case) in out, "" when absent. */
static inline const char *resp_header(const http_resp *r, const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    size_t nl = strlen(name);
    for (const char *p = r->head ? strstr(r->head, "\r\n") : NULL; p; p = strstr(p + 2, "\r\n"))
        if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':') {
            const char *v = p + 3 + nl, *end = strstr(v, "\r\n");
            while (*v == ' ')
                v++;
            snprintf(out, cap, "%.*s", (int)(end ? end - v : (long)strlen(v)), v);
            break;
        }
    return out;
}

static inline const char *resp_message(const http_resp *r)
{
    return json_string_value(json_object_get(r->json, "message"));
}

/* Whether r carries Chantilly's error body: {"message": text}, or
 * {"message": {field: [...]}} for a payload its schema refuses. */
static inline int resp_has_message(const http_resp *r)
{
    json_t *m = json_object_get(r->json, "message");
    return json_is_string(m) || json_is_object(m);
}

/* The first of cerberus's messages for field in a schema refusal (400
 * {"message": {field: [msg, ...]}}, as Chantilly answers), or NULL. */
static inline const char *resp_field_message(const http_resp *r, const char *field)
{
    json_t *why = json_object_get(json_object_get(r->json, "message"), field);
    return json_string_value(json_array_get(why, 0));
}

static inline void server_start_args(test_server *ts, const char *const *extra, int fresh)
{
    if (fresh) {
        snprintf(ts->dir, sizeof ts->dir, "/tmp/rivulet-test-XXXXXX");
        cr_assert_not_null(mkdtemp(ts->dir));
        snprintf(ts->db, sizeof ts->db, "%s/rivulet.db", ts->dir);
        snprintf(ts->port_file, sizeof ts->port_file, "%s/port", ts->dir);
    }
    unlink(ts->port_file);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
        const char *argv[32] = {"serve", "--port", "0", "--db", ts->db, "--port-file", ts->port_file,
                                "--sse-keepalive-ms", "100"};
        int argc = 9;
        for (int i = 0; extra && extra[i] && argc < 31; i++)
            argv[argc++] = extra[i];
        _exit(rv_serve_main(argc, (char **)argv));
    }
    ts->pid = pid;
    double end = now_s() + 20;
    ts->port = 0;
    while (now_s() < end) {
        FILE *f = fopen(ts->port_file, "r");
        if (f) {
            int ok = fscanf(f, "%d", &ts->port) == 1;
            fclose(f);
            if (ok)
                return;
        }
        if (waitpid(pid, NULL, WNOHANG) == pid)
            cr_assert_fail("the server exited at startup");
        usleep(10000);
    }
    kill(pid, SIGKILL);
    cr_assert_fail("the server did not start within 20 s");
}

static inline void server_start(test_server *ts)
{
    server_start_args(ts, NULL, 1);
}

/* Sends sig and waits (bounded) for the exit; returns the exit status. */
static inline int server_stop(test_server *ts, int sig)
{
    /* kill(0 or -1, sig) would signal the whole process group (make and
     * every other test): only ever signal a child we started and have not
     * reaped yet */
    pid_t pid = ts->pid;
    if (pid <= 0)
        return -1;
    ts->pid = 0;
    kill(pid, sig);
    double end = now_s() + 20;
    int st = 0;
    while (now_s() < end) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        usleep(5000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    cr_assert_fail("the server did not stop within 20 s");
    return -1;
}

static inline void server_cleanup(test_server *ts)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", ts->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", ts->dir);
}

/* Opens a stream and waits (bounded) for its headers. */
static inline int open_stream(int port, const char *path)
{
    int fd = tcp_connect(port);
    cr_assert_geq(fd, 0);
    char req[200];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    cr_assert_eq(write_all(fd, req, (size_t)n), 0);
    char buf[4096];
    size_t len = 0;
    double end = now_s() + 5;
    while (now_s() < end && !memmem(buf, len, "\r\n\r\n", 4) && len < sizeof buf) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 100) > 0) {
            ssize_t r = recv(fd, buf + len, 1, 0); /* byte by byte: stop at the headers */
            cr_assert_gt(r, 0, "stream closed before its headers");
            len += (size_t)r;
        }
    }
    cr_assert(memmem(buf, len, "text/event-stream", 17), "no event stream: %.*s", (int)len, buf);
    return fd;
}

/* Sends GET /healthz on fd and says whether a 200 came back within 2 s. */
static inline int healthz_answers(int fd)
{
    const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    if (write_all(fd, req, sizeof req - 1) != 0)
        return 0;
    char buf[64] = {0};
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 2000) <= 0)
        return 0;
    ssize_t r = recv(fd, buf, sizeof buf - 1, 0);
    return r > 0 && strstr(buf, " 200 ") != NULL;
}

/* POST /api/learn/batch with body (NDJSON); every line must be learned. */
static inline void learn_batch_ok(int port, const char *body, size_t len)
{
    http_resp r;
    cr_assert_eq(http_req(port, "POST", "/api/learn/batch", NULL, body, len, &r), 0);
    cr_assert_eq(r.status, 200);
    cr_assert_null(strstr(r.body, "\"status\":4"), "%s", r.body);
    http_free(&r);
}

/* Sends method path with body (JSON, or NULL) and asserts the answer's status. */
static inline void expect_answer(int port, const char *method, const char *path, const char *body, int want)
{
    http_resp r;
    cr_assert_eq(http_json(port, method, path, body, &r), 0);
    cr_assert_eq(r.status, want, "%s %s %s -> %d, wanted %d: %s", method, path, body ? body : "", r.status,
                 want, r.body);
    http_free(&r);
}

#endif
