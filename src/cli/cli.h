/* Internals of the `rivulet` command: options shared by the verbs, the data
 * loop (progressive validation or plain scoring over a stream), the progress
 * bar and the adapter to the model layers. */
#ifndef RIVULET_CLI_H
#define RIVULET_CLI_H

#include "rivulet/core.h"
#include "rivulet/io.h"

#include <signal.h>
#include <stdio.h>

/* Exit codes. RV_EXIT_INTERRUPTED follows the shell's 128 + SIGINT. */
enum { RV_EXIT_OK = 0, RV_EXIT_RUNTIME = 1, RV_EXIT_USAGE = 2, RV_EXIT_INTERRUPTED = 130 };

/* Which verbs accept an option (bit mask). */
enum {
    RV_VERB_EVAL = 1u << 0,
    RV_VERB_TRAIN = 1u << 1,
    RV_VERB_PREDICT = 1u << 2,
    RV_VERB_INSPECT = 1u << 3
};

#define RV_CLI_MAX_METRICS 16

typedef struct rv_cli_opts {
    unsigned verb;
    const char *verb_name;
    const char *usage;           /* the verb's --help text */
    const char *target, *key, *out, *predictions;
    const char *metrics[RV_CLI_MAX_METRICS];
    size_t nmetrics;
    long delay;
    long threads;                /* --threads; 0: one per core */
    int skip_bad, quiet, select, help, all_keys;
    rv_stream_opts stream;       /* --type, --parse-date, --skip-bad */
    char **pos;                  /* positional arguments */
    int npos;
} rv_cli_opts;

/* Parses argv (argv[0] is the verb). Returns RV_EXIT_OK, or RV_EXIT_USAGE
 * after printing the problem and a hint to stderr. --help prints the usage
 * to stdout and sets opts->help. */
int rv_cli_parse(int argc, char **argv, unsigned verb, const char *usage, rv_cli_opts *opts);
void rv_cli_opts_free(rv_cli_opts *opts);
/* Prints "rivulet VERB: message" and the --help hint; returns RV_EXIT_USAGE. */
int rv_cli_usage_error(const rv_cli_opts *opts, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints "rivulet: message" to stderr; returns RV_EXIT_RUNTIME. */
int rv_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ===== Ctrl-C ===== */

/* Installs a SIGINT handler that only sets a flag (the next Ctrl-C kills). */
void rv_cli_catch_interrupt(void);
int rv_cli_interrupted(void);

/* ===== Progress bar (progress.c) ===== */

typedef struct rv_progress {
    int enabled;
    double start, last_draw;
    uint64_t total_bytes;
    int drawn;
} rv_progress;

/* Enabled only when stderr is a terminal and quiet is 0. */
void rv_progress_init(rv_progress *p, int quiet, uint64_t total_bytes);
/* Cheap to call per row: draws at most ten times a second. */
void rv_progress_update(rv_progress *p, uint64_t rows, uint64_t bytes);
void rv_progress_finish(rv_progress *p);
double rv_progress_elapsed(const rv_progress *p);
/* "1:02:03" or "2:03" */
void rv_format_duration(char *out, size_t n, double seconds);

/* ===== Model layer adapter (engine.c) ===== */

/* Loads a definition or snapshot file. */
rv_object *rv_cli_load_model(const char *path, rv_error *err);
/* Wraps a model in a keyed family (takes ownership of model). */
rv_object *rv_cli_family(rv_object *model, const char *key, rv_error *err);
/* Best-of selection over candidates (takes ownership of all, and of metric). */
rv_object *rv_cli_select(rv_object **models, size_t n, rv_object *metric, rv_error *err);
rv_status rv_cli_save(const rv_object *model, const char *path, rv_error *err);
/* Prints what inspect shows beyond the definition: keys, candidates' metrics,
 * the choice per key of a family of selections (every key with all_keys). */
void rv_cli_describe_state(const rv_object *model, int all_keys, FILE *out);

/* Metrics and progressive validation, through the eval layer. */
typedef struct rv_cli_pv rv_cli_pv;
rv_object *rv_cli_metric_new(const char *name, rv_error *err);
double rv_cli_metric_get(const rv_object *m);
int rv_cli_metric_bigger_is_better(const rv_object *m);
rv_status rv_cli_metric_update(rv_object *m, const rv_value *y, const rv_prediction *p,
                               rv_error *err);
/* Borrows model and metrics. */
rv_cli_pv *rv_cli_pv_new(rv_object *model, rv_object **metrics, size_t n, long delay,
                         rv_error *err);
rv_status rv_cli_pv_step(rv_cli_pv *pv, const rv_event *x, const rv_value *y, rv_prediction *out,
                         rv_error *err);
/* Learns the pairs still waiting for their delay (end of stream). */
rv_status rv_cli_pv_flush(rv_cli_pv *pv, rv_error *err);
void rv_cli_pv_free(rv_cli_pv *pv);

/* Sharded progressive validation of a keyed family on nthreads threads
 * (eval.h): results come back in row order through cb, bit-identical to
 * the sequential loop. */
typedef struct rv_cli_par rv_cli_par;
typedef void (*rv_cli_par_cb)(void *ctx, uint64_t row, const rv_value *y,
                              const rv_prediction *pred);
rv_cli_par *rv_cli_par_new(rv_object *family, rv_object **metrics, size_t n, long delay,
                           unsigned nthreads, rv_cli_par_cb cb, void *ctx, rv_error *err);
rv_status rv_cli_par_step(rv_cli_par *pp, const rv_event *x, const rv_value *y, rv_error *err);
/* Waits for every row, then learns the pairs still waiting for their delay. */
rv_status rv_cli_par_finish(rv_cli_par *pp, rv_error *err);
/* Reports every row queued so far (the input is waiting). */
rv_status rv_cli_par_drain(rv_cli_par *pp, rv_error *err);
void rv_cli_par_free(rv_cli_par *pp);
/* The key feature of a keyed family (borrowed), NULL for any other model. */
const char *rv_cli_family_key(const rv_object *model);
/* Whether model is a keyed family (compose.Family). */
int rv_cli_is_family(const rv_object *model);
/* The number of cores online (at least 1). */
unsigned rv_cli_cores(void);

/* ===== The data loop (run.c) ===== */

typedef struct rv_cli_run {
    rv_object *model;     /* borrowed */
    int learn;            /* 1: progressive validation; 0: predict only */
    rv_object **metrics;  /* owned; nmetrics of them */
    size_t nmetrics;
    FILE *predictions;    /* NULL for none */
    /* filled by the run */
    uint64_t rows, scored, skipped;
    int interrupted;
    double seconds;
    rv_sym key;           /* RV_SYM_NONE when not keyed */
    int binary_target;    /* the model is a binary classifier: targets are truth values */
    void *per_key;        /* per-key summary state */
} rv_cli_run;

/* Creates the metrics named in opts (default MAE for regressors, Accuracy for
 * classifiers); RV_EXIT_* code. */
int rv_cli_make_metrics(const rv_cli_opts *opts, const rv_object *model, rv_cli_run *run);
/* Opens DATA with opts, loops, and fills run. Returns an RV_EXIT_* code
 * (errors already printed). */
int rv_cli_run_data(rv_cli_run *run, rv_cli_opts *opts, const char *data);
/* Prints the overall metrics (and the per-key summary) to out. */
void rv_cli_print_summary(const rv_cli_run *run, FILE *out);
void rv_cli_run_free(rv_cli_run *run);

/* ===== Shared by the verbs (build.c) ===== */

/* Loads paths[0..n-1] (several need --select), wraps in a family for --key. */
int rv_cli_build_model(rv_cli_opts *opts, char **paths, int n, rv_object **out);
/* The start of a verb taking two positionals, MODEL DATA (named `what` in
 * the error): parses argv, checks the count and, when need_target, --target,
 * then loads the model. Returns an RV_EXIT_* code; 0 with *model NULL and
 * opts->help set when help was asked. */
int rv_cli_open_model(int argc, char **argv, unsigned verb, const char *usage,
                      const char *what, int need_target, rv_cli_opts *opts, rv_object **model);
/* Prints a model-loading error as "PATH:LINE:COL: what" when it has a
 * position; returns RV_EXIT_RUNTIME. */
int rv_cli_fail_model(const char *path, const char *msg);
/* stdout for NULL or "-"; NULL with *code set on failure. */
/* RV_EXIT_USAGE (said) when the output path is one of the inputs (same
 * file, by device and inode): predictions are written while the data is
 * read, and over a model they destroy it. (train's snapshot may replace its
 * input: it is written whole, after the data, and renamed into place.) */
int rv_cli_check_output(const rv_cli_opts *opts, const char *path);
FILE *rv_cli_open_output(const rv_cli_opts *opts, const char *path, int *code);
/* RV_EXIT_RUNTIME (said) when path's directory cannot take a new file, or
 * path is a directory: train learns first and saves last, and found out
 * only after the whole run. */
int rv_cli_check_out_dir(const char *path);
/* keep = 0 (the run failed) discards a file written by rv_cli_open_output */
int rv_cli_close_output(FILE *f, const char *path, int keep);

/* ===== Verbs ===== */

int rv_cli_eval_main(int argc, char **argv);
int rv_cli_train_main(int argc, char **argv);
int rv_cli_predict_main(int argc, char **argv);
int rv_cli_inspect_main(int argc, char **argv);
int rv_cli_list_main(int argc, char **argv);
int rv_cli_backup_main(int argc, char **argv);

#endif
