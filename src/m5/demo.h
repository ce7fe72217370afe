/* Internal pieces of `rivulet m5 demo` (src/m5/demo*.c).
 *
 *   demo_http.c  a minimal HTTP/1.1 client over a raw socket, and the
 *                `rivulet serve` child process the demo talks to.
 *   demo_warm.c  the write-up's two pipelines, the keyed family of
 *                GreedyRegressor([knn, lm]) built from them, the threaded
 *                warm-up and the members' own forecasts.
 *   demo.c       options and the eight stages. */
#ifndef RIVULET_M5_DEMO_H
#define RIVULET_M5_DEMO_H

#include "rivulet/m5.h"

#include <stddef.h>
#include <sys/types.h>

/* `rivulet m5 demo ...`; argv[0] is "demo". */
int rv_m5_demo_main(int argc, char **argv);

double demo_now(void);

/* SIGINT and SIGTERM set a flag (demo_stopped) instead of killing the
 * demo, so that a Ctrl-C at any stage still stops the server child and
 * removes the temporary store. The server child restores the defaults. */
void demo_catch_signals(void);
int demo_stopped(void);

/* ===== HTTP client ===== */

typedef struct demo_resp {
    int status;
    char *body; /* NUL-terminated, malloc'ed */
    size_t len;
} demo_resp;

/* One request on its own connection to 127.0.0.1:port (Connection: close);
 * the response body is de-chunked if needed. Fails (RV_EIO) on a connection
 * error or when no complete answer came within timeout_s. */
rv_status demo_http(int port, const char *method, const char *path, const char *content_type,
                    const char *body, size_t len, double timeout_s, demo_resp *out, rv_error *err);
void demo_resp_free(demo_resp *r);

/* ===== The server child ===== */

typedef struct demo_server {
    pid_t pid;
    int port;
    char dir[128];        /* temporary directory (port file; db when none given) */
    char db[4200];
    char port_file[200];
    int own_db;           /* the database lives in dir and is removed with it */
} demo_server;

/* Fails with a clear message when 127.0.0.1:port (port > 0) is taken. */
rv_status demo_port_check(int port, rv_error *err);
/* Forks a child that runs rv_serve_main on 127.0.0.1:port (0 = any free
 * port) with the database db (NULL = a temporary one), and waits until it
 * listens. A busy port or a server that exits at startup is an error that
 * says so. */
rv_status demo_server_start(demo_server *s, int port, const char *db, size_t max_body,
                            long checkpoint_every, rv_error *err);
/* Waits for the child to exit; with sig != 0 sends it first. Returns the
 * child's exit status. Removes the temporary directory. */
int demo_server_stop(demo_server *s, int sig);
/* Serves until SIGINT/SIGTERM reaches this process (then forwarded to the
 * child) or the child exits; returns the child's exit status. Needs
 * demo_catch_signals. */
int demo_server_wait(demo_server *s);

/* ===== Models ===== */

/* The pipelines' definitions: examples/m5/knn.river and lm.river (static). */
const char *demo_pipeline_text(int knn);

typedef struct demo_warm {
    rv_object *family;     /* compose.Family(GreedyRegressor([knn, lm]), by='id') */
    rv_object **members;   /* per series: its GreedyRegressor (borrowed from family) */
    size_t n_series, train_end;
    char (*dates)[11];     /* "YYYY-MM-DD" of days 1 .. n_days */
    int threads;
    int progress;          /* draw a progress bar on stderr */
} demo_warm;

/* Parses the family and installs one member per series of p, in order. */
rv_status demo_warm_init(demo_warm *w, const rv_m5_panel *p, size_t train_end, int threads,
                         rv_error *err);
void demo_warm_free(demo_warm *w);
/* Learns days 1 .. train_end of every series (each GreedyRegressor runs
 * progressive validation of its two pipelines: predict, score, learn). */
rv_status demo_warm_run(demo_warm *w, const rv_m5_panel *p, rv_error *err);
/* Forecasts of days train_end + 1 .. + horizon by member model m (0 knn,
 * 1 lm) of each series, computed on copies so the family is unchanged;
 * f_best gets the forecast of each series' selected model. */
rv_status demo_member_forecasts(demo_warm *w, const rv_m5_panel *p, rv_m5_forecast *f_knn,
                                rv_m5_forecast *f_lm, rv_m5_forecast *f_best, rv_error *err);

#endif
