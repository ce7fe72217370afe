/* A small HTTP/1.1 load generator for loopback: one thread, epoll, N
 * keep-alive connections, one fixed POST body.
 *
 *   loadgen -p PORT [-u /api/predict] [-c 64] [-d 10] [-R RATE] [-n MAX]
 *           [-b BODY.json | -k predict|learn]
 *
 * Two modes:
 * - max throughput (no -R): every connection keeps one request in flight for
 *   D seconds; requests/s counts the responses completed within D.
 * - fixed rate (-R RATE): request i is due at start + i/RATE (open loop). A
 *   due request goes out on the first idle connection; if none is idle it
 *   waits, and its latency is counted from when it was due, not from when it
 *   was sent, so a slow server cannot hide its stalls by slowing the client
 *   down (wrk2's "coordinated omission" correction). The time from send to
 *   answer is reported too. Debian's wrk has no rate limit, hence this tool.
 * Latency percentiles (nearest rank over every completed request): p50, p90,
 * p99, p99.9 and max, in microseconds.
 *
 * Always bounded: D <= 600 s, at most MAX requests (default 20,000,000), at
 * most 1024 connections, 2 s of grace for answers in flight at the end, and a
 * bounded number of reconnects. Connects to 127.0.0.1 only.
 *
 * The built-in bodies are an M5-like event with the write-up's fields, the id
 * and date from which its pipelines derive item_id, store_id and the weekday:
 *   predict: {"features": {"id": "HOBBIES_1_001_CA_1", "date": "2016-01-04"}}
 *   learn:   the same plus "ground_truth": 3
 *
 * The last line of output is machine readable for scripts:
 *   RESULT rps=... n=... non2xx=... errors=... p50_us=... p90_us=... p99_us=...
 *          p999_us=... max_us=... rate=... send_p99_us=...
 * Exit status: 0 when every request got a 2xx, 1 otherwise, 2 on bad usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IN_CAP 16384
#define MAX_CONNS 1024
#define GRACE_S 2.0

static const char PREDICT_BODY[]
    = "{\"features\": {\"id\": \"HOBBIES_1_001_CA_1\", \"date\": \"2016-01-04\"}}";
static const char LEARN_BODY[] = "{\"features\": {\"id\": \"HOBBIES_1_001_CA_1\", \"date\": "
                                 "\"2016-01-04\"}, \"ground_truth\": 3}";

typedef struct {
    int fd;
    int busy;         /* a request is in flight */
    size_t sent;      /* bytes of the request written so far */
    double t_due;     /* when the request was due (fixed rate) or sent (max) */
    double t_sent;
    char in[IN_CAP];
    size_t in_len;
    long body_left;   /* -1 until the response headers are parsed */
    int status;
    int close_after;  /* the server said Connection: close */
    int want_out;     /* registered for EPOLLOUT: a write was cut short */
} conn;

typedef struct {
    double *v;
    size_t n, cap, max;
} samples;

typedef struct {
    /* options */
    int port, nconns;
    double duration, rate;
    long max_requests;
    const char *path;
    /* request */
    char *req;
    size_t req_len;
    /* state */
    int ep;
    conn *conns;
    int *idle;
    int nidle;
    long issued, completed, completed_in_time, non2xx, errors, reconnects;
    double t_start, t_end;
    int running;
    samples lat, send_lat;
} loadgen;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void samples_add(samples *s, double x)
{
    if (s->n == s->cap) {
        if (s->cap >= s->max)
            return;
        size_t cap = s->cap ? s->cap * 2 : 65536;
        if (cap > s->max)
            cap = s->max;
        double *p = realloc(s->v, cap * sizeof *p);
        if (!p)
            die("realloc");
        s->v = p;
        s->cap = cap;
    }
    s->v[s->n++] = x;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the smallest sample with at least p of them at or below it. */
static double percentile(const samples *s, double p)
{
    if (!s->n)
        return NAN;
    size_t k = (size_t)ceil(p * (double)s->n);
    return s->v[k ? k - 1 : 0];
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die(path);
    char *buf = malloc(1 << 20);
    if (!buf)
        die("malloc");
    *len = fread(buf, 1, 1 << 20, f);
    if (!feof(f)) {
        fprintf(stderr, "loadgen: %s is over 1 MiB\n", path);
        exit(2);
    }
    fclose(f);
    while (*len && (buf[*len - 1] == '\n' || buf[*len - 1] == '\r'))
        (*len)--;
    return buf;
}

static void build_request(loadgen *g, const char *body, size_t body_len)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     g->path, g->port, body_len);
    if (n < 0 || (size_t)n >= sizeof head) {
        fputs("loadgen: path too long\n", stderr);
        exit(2);
    }
    g->req_len = (size_t)n + body_len;
    g->req = malloc(g->req_len);
    if (!g->req)
        die("malloc");
    memcpy(g->req, head, (size_t)n);
    memcpy(g->req + n, body, body_len);
}

/* ===== Connections ===== */

static void conn_open(loadgen *g, conn *c)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket");
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)g->port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
        die("connect to 127.0.0.1");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
        die("fcntl");
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
        die("epoll_ctl");
    c->fd = fd;
    c->busy = 0;
    c->in_len = 0;
    c->want_out = 0;
}

static void set_idle(loadgen *g, conn *c)
{
    c->busy = 0;
    g->idle[g->nidle++] = (int)(c - g->conns);
}

static void conn_send(loadgen *g, conn *c, double due);

/* A connection with nothing in flight: at max rate it sends again at once;
 * at a fixed rate it waits in the idle list for the next due request. */
static void conn_ready(loadgen *g, conn *c)
{
    c->busy = 0;
    if (g->running && g->rate <= 0 && g->issued < g->max_requests)
        conn_send(g, c, now());
    else
        set_idle(g, c);
}

/* Drops a broken connection (its request, if any, counts as an error) and
 * opens a fresh one; gives up after too many. */
static void conn_reset(loadgen *g, conn *c)
{
    if (c->busy)
        g->errors++;
    epoll_ctl(g->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    if (++g->reconnects > 4L * g->nconns + 16) {
        fprintf(stderr, "loadgen: too many broken connections (%ld), giving up\n", g->reconnects);
        exit(1);
    }
    conn_open(g, c);
    conn_ready(g, c);
}

static void conn_write(loadgen *g, conn *c)
{
    while (c->sent < g->req_len) {
        ssize_t n = write(c->fd, g->req + c->sent, g->req_len - c->sent);
        if (n < 0 && errno == EAGAIN) {
            if (!c->want_out) {
                struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
                epoll_ctl(g->ep, EPOLL_CTL_MOD, c->fd, &ev);
                c->want_out = 1;
            }
            return;
        }
        if (n < 0) {
            conn_reset(g, c);
            return;
        }
        c->sent += (size_t)n;
    }
    if (c->want_out) { /* a syscall saved per request: most writes go out whole */
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(g->ep, EPOLL_CTL_MOD, c->fd, &ev);
        c->want_out = 0;
    }
}

static void conn_send(loadgen *g, conn *c, double due)
{
    c->busy = 1;
    c->sent = 0;
    c->body_left = -1;
    c->in_len = 0;
    c->close_after = 0;
    c->t_due = due;
    c->t_sent = now();
    g->issued++;
    conn_write(g, c);
}

/* ===== Responses ===== */

/* Parses the status line and the headers we care about. Returns the header
 * length, 0 if incomplete, -1 if the response is not one we can follow. */
static long parse_head(conn *c)
{
    char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (!end)
        return c->in_len == IN_CAP ? -1 : 0;
    *end = '\0';
    if (strncmp(c->in, "HTTP/1.", 7) != 0 || strlen(c->in) < 12)
        return -1;
    c->status = atoi(c->in + 9);
    c->body_left = -1;
    for (char *line = strstr(c->in, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        char *h = line + 2;
        if (!strncasecmp(h, "Content-Length:", 15))
            c->body_left = strtol(h + 15, NULL, 10);
        else if (!strncasecmp(h, "Transfer-Encoding:", 18))
            return -1; /* chunked answers are not expected from these servers */
        else if (!strncasecmp(h, "Connection:", 11) && strcasestr(h, "close"))
            c->close_after = 1;
    }
    if (c->body_left < 0)
        return -1;
    return end + 4 - c->in;
}

static void on_complete(loadgen *g, conn *c)
{
    double t = now();
    g->completed++;
    if (t <= g->t_end)
        g->completed_in_time++;
    if (c->status < 200 || c->status > 299)
        g->non2xx++;
    samples_add(&g->lat, (t - c->t_due) * 1e6);
    samples_add(&g->send_lat, (t - c->t_sent) * 1e6);
    c->busy = 0;
    if (c->close_after) {
        g->reconnects--; /* a polite close is no failure */
        conn_reset(g, c);
        return;
    }
    conn_ready(g, c);
}

static void conn_read(loadgen *g, conn *c)
{
    for (;;) {
        size_t room = IN_CAP - c->in_len;
        ssize_t n = read(c->fd, c->in + c->in_len, room);
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0 || !c->busy) {
            conn_reset(g, c);
            return;
        }
        c->in_len += (size_t)n;
        if (c->body_left < 0) {
            long head = parse_head(c);
            if (head < 0) {
                fprintf(stderr, "loadgen: unexpected response\n");
                conn_reset(g, c);
                return;
            }
            if (head == 0)
                continue;
            long extra = (long)c->in_len - head;
            c->body_left -= extra;
        } else {
            c->body_left -= n;
        }
        c->in_len = 0; /* the body's bytes are not kept */
        if (c->body_left < 0) {
            fprintf(stderr, "loadgen: more bytes than announced\n");
            conn_reset(g, c);
            return;
        }
        if (c->body_left == 0) {
            on_complete(g, c);
            return;
        }
    }
}

/* ===== The run ===== */

/* Fixed rate: hands every request that is due to an idle connection.
 * Returns when the next one is due if a connection is idle to take it, or
 * +inf when only an answer can let the run go on. */
static double dispatch(loadgen *g)
{
    double t = now();
    while (g->issued < g->max_requests) {
        double due = g->t_start + (double)g->issued / g->rate;
        if (due >= g->t_end || !g->nidle)
            return INFINITY;
        if (due > t)
            return due;
        conn_send(g, &g->conns[g->idle[--g->nidle]], due);
    }
    return INFINITY;
}

static void run(loadgen *g)
{
    struct epoll_event evs[256];
    g->t_start = now();
    g->t_end = g->t_start + g->duration;
    g->running = 1;
    if (g->rate <= 0) {
        while (g->nidle && g->issued < g->max_requests)
            conn_send(g, &g->conns[g->idle[--g->nidle]], now());
    }
    double deadline = g->t_end;
    for (;;) {
        double t = now();
        if (g->running && t >= g->t_end) {
            g->running = 0;
            deadline = t + GRACE_S;
        }
        double wake = deadline;
        if (g->running && g->rate > 0) {
            double due = dispatch(g);
            if (due < wake)
                wake = due;
        }
        if (!g->running && (g->nidle == g->nconns || t >= deadline))
            break;
        /* The wait ends when the next request is due, to the nanosecond
         * (epoll_pwait2, no timer to arm), or at most 100 ms on. */
        double wait = wake - now();
        wait = wait < 0 ? 0 : wait > 0.1 ? 0.1 : wait;
        struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
        int n = epoll_pwait2(g->ep, evs, 256, &ts, NULL);
        if (n < 0 && errno == ENOSYS) /* before Linux 5.11: whole milliseconds, rounded up */
            n = epoll_wait(g->ep, evs, 256, (int)ceil(wait * 1e3));
        if (n < 0 && errno != EINTR)
            die("epoll_pwait2");
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (evs[i].events & EPOLLOUT)
                conn_write(g, c);
            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                conn_read(g, c);
        }
    }
    for (int i = 0; i < g->nconns; i++)
        if (g->conns[i].busy)
            g->errors++; /* no answer within the grace period */
}

static void report(loadgen *g)
{
    qsort(g->lat.v, g->lat.n, sizeof(double), cmp_double);
    qsort(g->send_lat.v, g->send_lat.n, sizeof(double), cmp_double);
    double rps = (double)g->completed_in_time / g->duration;
    printf("loadgen: 127.0.0.1:%d POST %s, %d connections, %.1f s, ", g->port, g->path, g->nconns,
           g->duration);
    if (g->rate > 0)
        printf("fixed rate %.0f/s\n", g->rate);
    else
        printf("max rate\n");
    printf("  requests %ld answered (%.1f/s), non-2xx %ld, errors %ld\n", g->completed, rps,
           g->non2xx, g->errors);
    printf("  latency%s (us): p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f  max %.0f\n",
           g->rate > 0 ? " from due time" : "", percentile(&g->lat, 0.5),
           percentile(&g->lat, 0.9), percentile(&g->lat, 0.99), percentile(&g->lat, 0.999),
           percentile(&g->lat, 1.0));
    if (g->rate > 0) {
        printf("  latency from send (us): p50 %.0f  p99 %.0f  p99.9 %.0f\n",
               percentile(&g->send_lat, 0.5), percentile(&g->send_lat, 0.99),
               percentile(&g->send_lat, 0.999));
        if (rps < 0.95 * g->rate)
            printf("  WARNING: achieved %.0f/s, below the asked %.0f/s\n", rps, g->rate);
    }
    printf("RESULT rps=%.1f n=%ld non2xx=%ld errors=%ld p50_us=%.1f p90_us=%.1f p99_us=%.1f "
           "p999_us=%.1f max_us=%.1f rate=%.0f send_p99_us=%.1f\n",
           rps, g->completed, g->non2xx, g->errors, percentile(&g->lat, 0.5),
           percentile(&g->lat, 0.9), percentile(&g->lat, 0.99), percentile(&g->lat, 0.999),
           percentile(&g->lat, 1.0), g->rate, percentile(&g->send_lat, 0.99));
}

static int usage(void)
{
    fputs("usage: loadgen -p PORT [-u PATH] [-c CONNS] [-d SECONDS] [-R RATE] [-n MAX]\n"
          "               [-b BODY_FILE | -k predict|learn]\n",
          stderr);
    return 2;
}

int main(int argc, char **argv)
{
    loadgen g = {.port = 0, .nconns = 64, .duration = 10, .max_requests = 20000000};
    const char *body_file = NULL, *kind = "predict";
    g.path = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "p:u:c:d:R:n:b:k:")) != -1) {
        switch (opt) {
        case 'p': g.port = atoi(optarg); break;
        case 'u': g.path = optarg; break;
        case 'c': g.nconns = atoi(optarg); break;
        case 'd': g.duration = atof(optarg); break;
        case 'R': g.rate = atof(optarg); break;
        case 'n': g.max_requests = atol(optarg); break;
        case 'b': body_file = optarg; break;
        case 'k': kind = optarg; break;
        default: return usage();
        }
    }
    int learn = !strcmp(kind, "learn");
    if (optind != argc || g.port < 1 || g.port > 65535 || g.nconns < 1 || g.nconns > MAX_CONNS
        || !(g.duration > 0 && g.duration <= 600) || !(g.rate >= 0 && g.rate <= 1e7)
        || g.max_requests < 1 || g.max_requests > 100000000 || (!learn && strcmp(kind, "predict")))
        return usage();
    if (!g.path)
        g.path = learn ? "/api/learn" : "/api/predict";
    if (body_file) {
        size_t len;
        char *body = read_file(body_file, &len);
        build_request(&g, body, len);
        free(body);
    } else {
        const char *body = learn ? LEARN_BODY : PREDICT_BODY;
        build_request(&g, body, strlen(body));
    }
    /* The request count bounds the latency arrays; at a fixed rate, so does the rate. */
    if (g.rate > 0 && g.rate * g.duration + 1 < (double)g.max_requests)
        g.max_requests = (long)(g.rate * g.duration) + 1;
    g.lat.max = g.send_lat.max = (size_t)g.max_requests;

    prctl(PR_SET_TIMERSLACK, 1UL); /* wake up on time for due requests */
    g.ep = epoll_create1(EPOLL_CLOEXEC);
    if (g.ep < 0)
        die("epoll");
    g.conns = calloc((size_t)g.nconns, sizeof *g.conns);
    g.idle = calloc((size_t)g.nconns, sizeof *g.idle);
    if (!g.conns || !g.idle)
        die("calloc");
    for (int i = 0; i < g.nconns; i++) {
        conn_open(&g, &g.conns[i]);
        set_idle(&g, &g.conns[i]);
    }
    run(&g);
    report(&g);
    int rc = g.non2xx || g.errors || !g.completed ? 1 : 0;
    for (int i = 0; i < g.nconns; i++)
        close(g.conns[i].fd);
    close(g.ep);
    free(g.conns);
    free(g.idle);
    free(g.req);
    free(g.lat.v);
    free(g.send_lat.v);
    return rc;
}
