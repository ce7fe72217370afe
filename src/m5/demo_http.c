/* The demo's side of the HTTP API: a minimal HTTP/1.1 client over a raw
 * socket, and the `rivulet serve` child process it talks to.
 *
 * The client opens one connection per request (Connection: close), sends
 * the body with its Content-Length, and reads until the server closes; a
 * chunked answer is de-chunked. It speaks only to 127.0.0.1. That is all the
 * demo needs (a few dozen large NDJSON batches), and it keeps the demo free
 * of new dependencies.
 *
 * The server runs as a forked child calling rv_serve_main, exactly what
 * `rivulet serve` runs, on a port of 127.0.0.1 (0: any free one, read back
 * from --port-file) with its stderr in a log file of a temporary directory,
 * shown if it fails to start. The child gets SIGTERM if the demo dies. */
#include "m5/demo.h"

#include "rivulet/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double demo_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ===== Ctrl-C ===== */

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig) { stop_signal = sig; }

void demo_catch_signals(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_stop; /* no SA_RESTART: blocking calls return EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int demo_stopped(void) { return stop_signal != 0; }

/* ===== Client ===== */

void demo_resp_free(demo_resp *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* De-chunks body[0..n) in place; returns the new length, or -1 if malformed. */
static long dechunk(char *body, size_t n)
{
    size_t in = 0, out = 0;
    for (;;) {
        char *end;
        unsigned long sz = strtoul(body + in, &end, 16);
        char *crlf = strstr(end, "\r\n");
        if (end == body + in || !crlf)
            return -1;
        in = (size_t)(crlf + 2 - body);
        if (sz == 0)
            return (long)out;
        if (sz > n - in)
            return -1;
        memmove(body + out, body + in, sz);
        out += sz;
        in += sz + 2; /* the chunk's trailing CRLF */
        if (in > n)
            return -1;
    }
}

/* Splits a raw answer into status and body (moved into out). */
static rv_status parse_answer(char *raw, size_t n, demo_resp *out, rv_error *err)
{
    char *sep = strstr(raw, "\r\n\r\n");
    if (!sep || sscanf(raw, "HTTP/1.%*d %d", &out->status) != 1)
        return rv_error_set(err, RV_EIO, "the server sent no valid HTTP answer");
    *sep = '\0';
    int chunked = 0;
    for (char *h = strstr(raw, "\r\n"); h; h = strstr(h + 2, "\r\n"))
        if (strncasecmp(h + 2, "transfer-encoding:", 18) == 0 && strstr(h + 20, "chunked"))
            chunked = 1;
    size_t blen = n - (size_t)(sep + 4 - raw);
    memmove(raw, sep + 4, blen);
    raw[blen] = '\0';
    if (chunked) {
        long l = dechunk(raw, blen);
        if (l < 0)
            return rv_error_set(err, RV_EIO, "the server sent a malformed chunked body");
        blen = (size_t)l;
        raw[blen] = '\0';
    }
    out->body = raw;
    out->len = blen;
    return RV_OK;
}

rv_status demo_http(int port, const char *method, const char *path, const char *content_type,
                    const char *body, size_t len, double timeout_s, demo_resp *out, rv_error *err)
{
    memset(out, 0, sizeof *out);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return rv_error_set(err, RV_EIO, "socket: %s", strerror(errno));
    struct timeval tv = {(time_t)timeout_s, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int e = errno;
        close(fd);
        return rv_error_set(err, RV_EIO, "cannot connect to 127.0.0.1:%d: %s", port, strerror(e));
    }
    char head[512];
    int hl = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n"
                      "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
                      method, path, port, content_type ? content_type : "application/json", len);
    if (send_all(fd, head, (size_t)hl) != 0 || (len && send_all(fd, body, len) != 0)) {
        int e = errno;
        close(fd);
        return rv_error_set(err, RV_EIO, "%s %s: sending failed: %s", method, path, strerror(e));
    }
    size_t cap = 1 << 16, n = 0;
    char *raw = malloc(cap + 1);
    double deadline = demo_now() + timeout_s;
    for (;;) {
        if (n == cap) {
            char *g = realloc(raw, 2 * cap + 1);
            if (!g)
                break;
            raw = g;
            cap *= 2;
        }
        ssize_t r = raw ? recv(fd, raw + n, cap - n, 0) : -1;
        if (r < 0 && errno == EINTR && !stop_signal && demo_now() < deadline)
            continue;
        if (r <= 0) {
            if (r < 0)
                n = 0; /* timeout or reset: the answer is incomplete */
            break;
        }
        n += (size_t)r;
    }
    close(fd);
    if (!raw || n == 0) {
        free(raw);
        return rv_error_set(err, RV_EIO, "%s %s: no answer from the server within %.0f s", method,
                            path, timeout_s);
    }
    raw[n] = '\0';
    rv_status st = parse_answer(raw, n, out, err);
    if (st != RV_OK)
        free(raw);
    return st;
}

/* ===== The server child ===== */

/* 0 if 127.0.0.1:port can be bound now, else errno. */
static int port_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int e = bind(fd, (struct sockaddr *)&a, sizeof a) == 0 ? 0 : errno;
    close(fd);
    return e;
}

rv_status demo_port_check(int port, rv_error *err)
{
    int e = port ? port_free(port) : 0;
    if (e == EADDRINUSE)
        return rv_error_set(err, RV_EIO,
                            "port %d of 127.0.0.1 is busy (another server?): choose another with "
                            "--port, or --port 0 for any free port",
                            port);
    if (e)
        return rv_error_set(err, RV_EIO, "cannot use port %d of 127.0.0.1: %s", port, strerror(e));
    return RV_OK;
}

/* The last lines of the server's log, for an error message. */
static void log_tail(const demo_server *s, char *out, size_t cap)
{
    char path[300];
    snprintf(path, sizeof path, "%s/server.log", s->dir);
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "rivulet serve:", 14) == 0 || out[0] == '\0')
            snprintf(out, cap, "%s", line);
    fclose(f);
    out[strcspn(out, "\n")] = '\0';
}

static void child_run(const demo_server *s, int port, size_t max_body, long checkpoint_every)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the demo */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    char log[300], sport[16], sbody[32], sckpt[32];
    snprintf(log, sizeof log, "%s/server.log", s->dir);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
        dup2(fd, 2);
        close(fd);
    }
    snprintf(sport, sizeof sport, "%d", port);
    snprintf(sbody, sizeof sbody, "%zu", max_body);
    snprintf(sckpt, sizeof sckpt, "%ld", checkpoint_every);
    const char *argv[] = {"serve", "--host", "127.0.0.1", "--port", sport, "--db", s->db,
                          "--port-file", s->port_file, "--max-body", sbody,
                          "--checkpoint-every", sckpt, NULL};
    _exit(rv_serve_main(13, (char **)argv));
}

rv_status demo_server_start(demo_server *s, int port, const char *db, size_t max_body,
                            long checkpoint_every, rv_error *err)
{
    memset(s, 0, sizeof *s);
    s->pid = -1;
    if (demo_port_check(port, err) != RV_OK)
        return err->code;
    const char *tmp = getenv("TMPDIR");
    snprintf(s->dir, sizeof s->dir, "%s/rivulet-demo-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(s->dir))
        return rv_error_set(err, RV_EIO, "cannot create a temporary directory: %s", strerror(errno));
    s->own_db = !db;
    snprintf(s->db, sizeof s->db, "%s", db ? db : "");
    if (!db)
        snprintf(s->db, sizeof s->db, "%s/rivulet.db", s->dir);
    snprintf(s->port_file, sizeof s->port_file, "%s/port", s->dir);
    fflush(NULL);
    s->pid = fork();
    if (s->pid < 0)
        return rv_error_set(err, RV_EIO, "fork: %s", strerror(errno));
    if (s->pid == 0)
        child_run(s, port, max_body, checkpoint_every);
    for (double end = demo_now() + 60; demo_now() < end; usleep(10000)) {
        FILE *f = fopen(s->port_file, "r");
        if (f) {
            int ok = fscanf(f, "%d", &s->port) == 1;
            fclose(f);
            if (ok)
                return RV_OK;
        }
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            char why[512];
            log_tail(s, why, sizeof why);
            s->pid = -1;
            return rv_error_set(err, RV_EIO, "the server did not start%s%s", why[0] ? ": " : "", why);
        }
    }
    return rv_error_set(err, RV_EIO, "the server did not start listening within 60 s");
}

static void remove_dir(demo_server *s)
{
    if (!s->dir[0])
        return;
    const char *names[] = {"server.log", "port", "rivulet.db", "rivulet.db-wal", "rivulet.db-shm"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (i >= 2 && !s->own_db)
            break;
        char path[300];
        snprintf(path, sizeof path, "%s/%s", s->dir, names[i]);
        unlink(path);
    }
    rmdir(s->dir);
    s->dir[0] = '\0';
}

int demo_server_stop(demo_server *s, int sig)
{
    int status = 0;
    if (s->pid > 0) {
        if (sig)
            kill(s->pid, sig);
        int st;
        while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
            ;
        status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        s->pid = -1;
    }
    remove_dir(s);
    return status;
}

int demo_server_wait(demo_server *s)
{
    int st = 0;
    if (stop_signal)
        return demo_server_stop(s, SIGTERM);
    while (waitpid(s->pid, &st, 0) < 0) {
        if (errno != EINTR)
            break;
        if (stop_signal) /* Ctrl-C reaches the child too; a kill may reach only us */
            return demo_server_stop(s, SIGTERM);
    }
    s->pid = -1;
    remove_dir(s);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
