/* `rivulet serve`: flags and environment, startup, and a clean drain.
 *
 * Order of startup: open the store, rebuild the state (checkpoints, then the
 * log), listen, mark ready. SIGTERM or SIGINT: not ready, stop accepting,
 * end the streams, finish requests in flight, write final checkpoints, close
 * the store. Signals are blocked in every thread and taken by sigwait here,
 * so no handler runs inside a request.
 */
#include "internal.h"

#include <signal.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct flag {
    const char *name, *env;
    int is_num;
    const char **str;
    long *num;
    long lo, hi;
    const char *arg, *help; /* help NULL: an older name, not listed */
} flag;

static const char EXAMPLE[] =
    "Each flag can also be set in the environment as RIVULET_<FLAG> (RIVULET_PORT=8000,\n"
    "RIVULET_TOKEN=...; a flag wins over its variable). --verbose logs each request.\n"
    "example: rivulet serve --port 8000 --db /var/lib/rivulet/rivulet.db  (see docs/api.md)\n";

static void usage(FILE *out, const flag *flags, size_t nf)
{
    fputs("usage: rivulet serve [--FLAG VALUE]... [--verbose]\n", out);
    for (size_t i = 0; i < nf; i++) {
        if (!flags[i].help)
            continue;
        char left[48];
        snprintf(left, sizeof left, "--%s %s", flags[i].name, flags[i].arg);
        fprintf(out, "  %-26s %s\n", left, flags[i].help);
    }
    fputs(EXAMPLE, out);
}

static int parse_num(const char *text, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (!*text || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int apply(const flag *f, const char *value, int from_env)
{
    if (!f->help && from_env) /* rivulet eval and m5 demo take --threads for threads */
        fprintf(stderr, "rivulet serve: %s is the older name of RIVULET_MAX_CONNECTIONS, a cap on open"
                        " connections; worker threads are RIVULET_WORKERS\n", f->env);
    else if (!f->help)
        fprintf(stderr, "rivulet serve: --%s is the older name of --max-connections, a cap on open"
                        " connections; worker threads are --workers\n", f->name);
    if (!f->is_num) {
        *f->str = value;
        return 0;
    }
    if (parse_num(value, f->lo, f->hi, f->num) != 0) {
        fprintf(stderr, "rivulet serve: --%s wants a number in [%ld, %ld], not '%s'\n", f->name, f->lo,
                f->hi, value);
        return -1;
    }
    return 0;
}

/* Twice the cores: a worker waiting for a model's lock, or busy with a long
 * request, holds up the connections placed on it, and on a machine shared
 * with its clients a worker preempted by one of them does too; spare
 * workers keep the cores busy meanwhile. On 2 cores with wrk, 4 workers
 * served 190-199k predicts/s where 2 served 150-155k, 6 served 180-183k;
 * learns and their p99 did not change (BENCHMARKS.md). */
static long default_workers(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores > 0 ? (2 * cores < 1024 ? 2 * cores : 1024) : 2;
}

static int parse_flags(rv_config *c, int argc, char **argv)
{
    long port = 5000, max_connections = 256, max_body = 64l << 20, timeout = 30, ttl = 604800,
         every = 10000, max_keys = 0, keepalive = 15000, delay = 0, workers = default_workers(),
         max_kept = 1000000, max_names = 1000000, max_streams = -1, segment_rows = 0;
    const char *host = "127.0.0.1", *db = "./rivulet.db", *token = NULL, *port_file = NULL;
    const flag flags[] = {
        {"host", "RIVULET_HOST", 0, &host, NULL, 0, 0, "H", "address to bind, IPv4 or IPv6 (127.0.0.1)"},
        {"port", "RIVULET_PORT", 1, NULL, &port, 0, 65535, "P", "port; 0 takes a free one (5000)"},
        {"db", "RIVULET_DB", 0, &db, NULL, 0, 0, "PATH", "the store, a SQLite file (./rivulet.db)"},
        /* the cap's first name, still read; first, so the new name wins */
        {"threads", "RIVULET_THREADS", 1, NULL, &max_connections, 1, 100000, "N", NULL},
        {"max-connections", "RIVULET_MAX_CONNECTIONS", 1, NULL, &max_connections, 1, 100000, "N",
         "connections open at once; at the cap a new one takes the slot of one idle > 1 s (256)"},
        {"workers", "RIVULET_WORKERS", 1, NULL, &workers, 1, 1024, "N", "worker threads (twice the cores)"},
        {"token", "RIVULET_TOKEN", 0, &token, NULL, 0, 0, "T",
         "bearer token that changes need (none: anyone may change models)"},
        {"max-body", "RIVULET_MAX_BODY", 1, NULL, &max_body, 1, 1l << 40, "BYTES",
         "larger request bodies get 413 (64 MiB)"},
        {"timeout", "RIVULET_TIMEOUT", 1, NULL, &timeout, 1, 86400, "S",
         "idle connections close after S s, and a request must arrive within it (30)"},
        {"keep-ttl", "RIVULET_KEEP_TTL", 1, NULL, &ttl, 0, 1l << 40, "S",
         "predictions kept for their ground truth expire after S s; 0: never (604800)"},
        {"max-kept", "RIVULET_MAX_KEPT", 1, NULL, &max_kept, 0, 1l << 40, "N",
         "predictions kept at once; one more is 429; 0: no cap (1000000)"},
        {"checkpoint-every", "RIVULET_CHECKPOINT_EVERY", 1, NULL, &every, 1, 1l << 40, "N",
         "learns per model between checkpoints of it (10000)"},
        {"sse-keepalive-ms", "RIVULET_SSE_KEEPALIVE_MS", 1, NULL, &keepalive, 10, 3600000, "MS",
         "keep-alive comment on idle event streams this often (15000)"},
        {"max-streams", "RIVULET_MAX_STREAMS", 1, NULL, &max_streams, 0, 100000, "N",
         "event streams open at once; 0: no limit (half of --max-connections)"},
        {"max-family-keys", "RIVULET_MAX_FAMILY_KEYS", 1, NULL, &max_keys, 0, 1l << 40, "N",
         "keys per keyed family; a learn past it is 400; 0: no cap (0)"},
        {"max-feature-names", "RIVULET_MAX_FEATURE_NAMES", 1, NULL, &max_names, 0, 1l << 40, "N",
         "distinct feature names, kept for the process's life; 0: no cap (1000000)"},
        {"port-file", "RIVULET_PORT_FILE", 0, &port_file, NULL, 0, 0, "PATH",
         "write the bound port there once listening (none)"},
        {"test-slow-learn-ms", "RIVULET_TEST_SLOW_LEARN_MS", 1, NULL, &delay, 0, 60000, "MS",
         "tests only: learns of events with a feature `slow` take this long (0)"},
        {"test-log-segment-rows", "RIVULET_TEST_LOG_SEGMENT_ROWS", 1, NULL, &segment_rows, 0, 1l << 30, "N",
         "tests only: commits per log segment, so that they turn sooner (1024)"},
    };
    size_t nf = sizeof flags / sizeof flags[0];
    for (size_t i = 0; i < nf; i++) {
        const char *env = getenv(flags[i].env);
        /* an empty variable counts as unset, but for the token: RIVULET_TOKEN=
         * is refused below rather than silently run without one */
        if (env && (*env || flags[i].str == &token) && apply(&flags[i], env, 1) != 0)
            return -1;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--verbose") == 0) {
            c->verbose = 1;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout, flags, nf);
            return 1;
        }
        size_t k = 0;
        const char *value = NULL;
        for (; k < nf; k++) {
            size_t len = strlen(flags[k].name);
            if (strncmp(a, "--", 2) == 0 && strncmp(a + 2, flags[k].name, len) == 0) {
                if (a[2 + len] == '=')
                    value = a + 3 + len;
                else if (a[2 + len] == '\0' && i + 1 < argc)
                    value = argv[++i];
                else
                    continue;
                break;
            }
        }
        if (k == nf) {
            fprintf(stderr, "rivulet serve: unknown or incomplete flag '%s'\nTry 'rivulet serve --help'.\n", a);
            return -1;
        }
        if (apply(&flags[k], value, 0) != 0)
            return -1;
    }
    /* RIVULET_TOKEN="$UNSET_VAR" must not turn the guard off unnoticed, and
     * libmicrohttpd trims header values, so spaces at either end could never
     * be sent */
    size_t tl = token ? strlen(token) : 0;
    if (token && (!tl || isspace((unsigned char)token[0]) || isspace((unsigned char)token[tl - 1]))) {
        fprintf(stderr, "rivulet serve: the token is empty or starts or ends with a space; give"
                        " another --token or RIVULET_TOKEN, or leave both unset to run without one\n");
        return -1;
    }
    c->host = host;
    c->port = (int)port;
    c->db = db;
    c->max_connections = (int)max_connections;
    c->workers = workers > 0 ? (int)workers : 1;
    c->token = token && *token ? token : NULL;
    c->max_body = (size_t)max_body;
    c->timeout_s = (int)timeout;
    c->keep_ttl_s = (int)ttl;
    c->max_kept = (size_t)max_kept;
    c->checkpoint_every = (int)every;
    c->sse_keepalive_ms = (int)keepalive;
    /* streams never time out nor give way at the cap (deadline.c): by default
     * they may take half the connections, so the API stays reachable */
    c->max_streams = max_streams >= 0 ? (int)max_streams : (int)(max_connections + 1) / 2;
    c->port_file = port_file;
    c->max_family_keys = (size_t)max_keys;
    c->max_feature_names = (size_t)max_names;
    c->test_learn_delay_ms = (int)delay;
    c->test_segment_rows = (unsigned)segment_rows;
    return 0;
}

static rv_status open_store(rv_server *s, rv_error *err)
{
    rv_status st = rv_store_open(s->cfg.db, &s->store, err);
    if (st == RV_OK && s->cfg.test_segment_rows)
        rv_store_set_segment_rows(s->store, s->cfg.test_segment_rows);
    return st;
}

/* Replaced whole, so a reader polling for it never sees half a number. */
static void write_port_file(const char *path, int port)
{
    rv_file_replace f;
    if (rv_file_replace_open(&f, path, 0666, NULL) != RV_OK)
        return;
    char text[16];
    int n = snprintf(text, sizeof text, "%d\n", port);
    int ok = write(f.fd, text, (size_t)n) == n;
    ok &= close(f.fd) == 0;
    rv_file_replace_end(&f, ok, 0, NULL);
}

int rv_serve_main(int argc, char **argv)
{
    rv_server *s = calloc(1, sizeof *s);
    if (!s)
        return 1;
    int rc = parse_flags(&s->cfg, argc, argv);
    if (rc != 0) {
        free(s);
        return rc < 0 ? 2 : 0;
    }
    rv_codec_set_name_limit(s->cfg.max_feature_names);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    rv_error err = {0};
    s->started_ns = rv_now_ns();
    rv_timing_init(&s->t_predict);
    rv_timing_init(&s->t_learn);
    s->sse_events = rv_announcer_new(1 << 20, s->cfg.sse_keepalive_ms);
    s->sse_metrics = rv_announcer_new(1 << 20, s->cfg.sse_keepalive_ms);
    int status = 1;
    if (!s->sse_events || !s->sse_metrics)
        fprintf(stderr, "rivulet serve: out of memory\n");
    else if (open_store(s, &err) != RV_OK)
        fprintf(stderr, "rivulet serve: cannot open %s: %s\n", s->cfg.db, err.message);
    else if (rv_state_open(s, &err) != RV_OK)
        fprintf(stderr, "rivulet serve: cannot restore %s: %s\n", s->cfg.db, err.message);
    else if (rv_http_start(s, &err) != RV_OK)
        fprintf(stderr, "rivulet serve: %s\n", err.message);
    else {
        atomic_store(&s->ready, 1);
        fprintf(stderr, "rivulet: serving on http://%s:%d (store %s, %zu models)\n", s->cfg.host,
                s->cfg.port, s->cfg.db, s->n_models);
        if (s->cfg.port_file)
            write_port_file(s->cfg.port_file, s->cfg.port);
        int sig = 0;
        sigwait(&set, &sig);
        atomic_store(&s->draining, 1);
        fprintf(stderr, "rivulet: draining after signal %d\n", sig);
        rv_http_stop(s);
        status = 0;
    }
    if (s->store) {
        rv_state_close(s);
        rv_store_close(s->store);
    }
    rv_announcer_free(s->sse_events);
    rv_announcer_free(s->sse_metrics);
    free(s);
    return status;
}
