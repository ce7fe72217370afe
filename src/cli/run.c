/* The data loop shared by eval, train and predict: read a stream row by row,
 * step progressive validation (or only predict), write the predictions CSV,
 * keep a per-key summary for keyed models, draw the progress bar, stop
 * cleanly on Ctrl-C, and print the summary.
 *
 * Predictions CSV: "row,y,prediction" (",key" appended for keyed models);
 * row counts data rows from 1 (skipped bad rows do not count); numbers are
 * written with rv_buf_put_double, the shortest text that reads back to the
 * same double; an absent target is an empty field; a classifier's
 * prediction is its most probable label.
 *
 * Per-key summary: each key gets a clone of the first metric, updated with
 * the same (y, prediction) pairs as the overall one at prediction time; the
 * summary gives the number of keys, rows per key, the mean of the per-key
 * metric, and the five worst keys.
 */
#include "cli/cli.h"
#include "rivulet/metrics.h"

#include <stdlib.h>
#include <string.h>

typedef struct key_stat {
    uint64_t n;      /* rows with a target */
    uint64_t scored; /* of which the metric saw (not a classifier's empty first answer) */
    rv_object *metric;
} key_stat;

typedef struct per_key {
    rv_strmap index; /* key text -> position in stats */
    rv_buf scratch;  /* a numeric key's text */
    key_stat *stats;
    size_t n, cap;
} per_key;

int rv_cli_make_metrics(const rv_cli_opts *opts, const rv_object *model, rv_cli_run *run)
{
    const char *dflt = rv_estimator_flags(model) & RV_F_CLASSIFIER ? "Accuracy" : "MAE";
    size_t n = opts->nmetrics ? opts->nmetrics : 1;
    run->metrics = calloc(n, sizeof *run->metrics);
    if (!run->metrics)
        return rv_cli_fail("out of memory");
    for (size_t i = 0; i < n; i++) {
        rv_error err = {0};
        const char *name = opts->nmetrics ? opts->metrics[i] : dflt;
        run->metrics[i] = rv_cli_metric_new(name, &err);
        if (!run->metrics[i])
            return err.code == RV_ENOTFOUND || err.code == RV_EINVAL
                       ? rv_cli_usage_error(opts, "--metric %s: %s", name, err.message)
                       : rv_cli_fail("%s", err.message);
        run->nmetrics++;
        /* a regressor's numbers scored by Accuracy were cut at 0.5 into
         * classes, and a classifier's labels by MAE failed on the first row */
        unsigned works = rv_metric_works_with(run->metrics[i]), flags = rv_estimator_flags(model);
        if ((flags & RV_F_REGRESSOR) && !(works & RV_METRIC_REGRESSION))
            return rv_cli_usage_error(opts, "--metric %s scores classifiers, and the model is a"
                                            " regressor", name);
        if ((flags & RV_F_CLASSIFIER) && !(works & (RV_METRIC_CLASSIFICATION | RV_METRIC_PROBA
                                                    | RV_METRIC_BINARY)))
            return rv_cli_usage_error(opts, "--metric %s scores regressors, and the model is a"
                                            " classifier", name);
    }
    return RV_EXIT_OK;
}

/* ===== Per-key summary ===== */

static const char *key_text(per_key *pk, const rv_feature *f, size_t *len)
{
    if (f->kind == RV_STR) {
        *len = f->len;
        return f->str;
    }
    rv_buf_reset(&pk->scratch);
    rv_buf_put_double(&pk->scratch, f->num);
    *len = pk->scratch.len;
    return pk->scratch.oom ? "" : pk->scratch.data;
}

/* The position of the row's key in the summary (added on first sight), or
 * NO_KEY when the run is not keyed or the row lacks the key feature. */
#define NO_KEY UINT32_MAX

static rv_status per_key_index(rv_cli_run *run, const rv_event *x, uint32_t *idx, rv_error *err)
{
    per_key *pk = run->per_key;
    const rv_feature *f = pk ? rv_event_get(x, run->key) : NULL;
    *idx = NO_KEY;
    if (!f)
        return RV_OK;
    size_t len;
    const char *k = key_text(pk, f, &len);
    int inserted;
    uint64_t *slot = rv_strmap_put(&pk->index, k, len, pk->n, &inserted);
    if (!slot)
        return rv_error_set(err, RV_ENOMEM, "out of memory");
    if (inserted) {
        if (pk->n == pk->cap) {
            size_t cap = pk->cap ? 2 * pk->cap : 64;
            key_stat *st = realloc(pk->stats, cap * sizeof *st);
            if (!st)
                return rv_error_set(err, RV_ENOMEM, "out of memory");
            pk->stats = st;
            pk->cap = cap;
        }
        pk->stats[pk->n].n = pk->stats[pk->n].scored = 0;
        pk->stats[pk->n].metric = NULL;
        if (run->nmetrics && !(pk->stats[pk->n].metric = rv_object_clone(run->metrics[0], err)))
            return err->code;
        pk->n++;
    }
    *idx = (uint32_t)*slot;
    return RV_OK;
}

/* Scores a labelled row for its key, with the same pair as the overall metrics. */
static rv_status per_key_score(rv_cli_run *run, uint32_t idx, const rv_value *y,
                               const rv_prediction *pred, rv_error *err)
{
    per_key *pk = run->per_key;
    if (idx == NO_KEY || !pk || !pk->stats[idx].metric)
        return RV_OK;
    pk->stats[idx].n++;
    if (rv_prediction_is_empty(pred))
        return RV_OK;
    pk->stats[idx].scored++;
    return rv_cli_metric_update(pk->stats[idx].metric, y, pred, err);
}

static void per_key_free(per_key *pk)
{
    if (!pk)
        return;
    for (size_t i = 0; i < pk->n; i++)
        rv_object_free(pk->stats[i].metric);
    free(pk->stats);
    rv_strmap_free(&pk->index);
    rv_buf_free(&pk->scratch);
    free(pk);
}

/* ===== Predictions CSV ===== */

static void put_csv_text(rv_buf *b, const char *s, size_t len)
{
    if (!memchr(s, ',', len) && !memchr(s, '"', len) && !memchr(s, '\n', len) &&
        !memchr(s, '\r', len)) {
        rv_buf_put(b, s, len);
        return;
    }
    rv_buf_put(b, "\"", 1);
    for (size_t i = 0; i < len; i++)
        rv_buf_put(b, s[i] == '"' ? "\"\"" : &s[i], s[i] == '"' ? 2 : 1);
    rv_buf_put(b, "\"", 1);
}

static void put_value(rv_buf *b, const rv_value *v)
{
    if (v->kind == RV_NUM)
        rv_buf_put_double(b, v->num);
    else if (v->kind == RV_STR)
        put_csv_text(b, v->str, v->len);
}

static void put_prediction(rv_buf *b, const rv_prediction *p)
{
    if (p->kind == RV_PRED_NUM) {
        rv_buf_put_double(b, p->num);
    } else if (p->kind == RV_PRED_PROBA) {
        rv_sym label = rv_prediction_argmax(p);
        if (label != RV_SYM_NONE)
            put_csv_text(b, rv_sym_name(label), rv_sym_len(label));
    }
}

/* One CSV row; y NULL for a row without target, idx the key's position. */
static void write_prediction(rv_cli_run *run, rv_buf *b, uint64_t row, const rv_value *y,
                             const rv_prediction *pred, uint32_t idx)
{
    rv_buf_printf(b, "%llu,", (unsigned long long)row);
    if (y)
        put_value(b, y);
    rv_buf_put(b, ",", 1);
    put_prediction(b, pred);
    if (run->key != RV_SYM_NONE) {
        rv_buf_put(b, ",", 1);
        if (idx != NO_KEY) {
            uint32_t len;
            const char *k = rv_strmap_key_at(&((per_key *)run->per_key)->index, idx, &len);
            put_csv_text(b, k, len);
        }
    }
    rv_buf_put(b, "\n", 1);
    if (b->len >= (1u << 16)) {
        fwrite(b->data, 1, b->len, run->predictions);
        rv_buf_reset(b);
    }
}

/* ===== The loop ===== */

/* Key positions of the rows in flight in the sharded evaluation, in row
 * order (results come back in row order, a few hundred rows late). */
typedef struct key_fifo {
    uint32_t *q;
    size_t head, n, cap;
} key_fifo;

static int fifo_push(key_fifo *f, uint32_t v)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 1024;
        uint32_t *q = malloc(cap * sizeof *q);
        if (!q)
            return -1;
        for (size_t i = 0; i < f->n; i++)
            q[i] = f->q[(f->head + i) % f->cap];
        free(f->q);
        f->q = q;
        f->head = 0;
        f->cap = cap;
    }
    f->q[(f->head + f->n++) % f->cap] = v;
    return 0;
}

static uint32_t fifo_pop(key_fifo *f)
{
    if (!f->n)
        return NO_KEY;
    uint32_t v = f->q[f->head];
    f->head = (f->head + 1) % f->cap;
    f->n--;
    return v;
}

typedef struct loop_state {
    rv_cli_run *run;
    rv_stream *s;
    rv_event x;
    rv_value y;
    rv_prediction pred;
    rv_buf out;
    rv_cli_pv *pv;    /* sequential progressive validation */
    rv_cli_par *par;  /* or sharded, for a family on several threads */
    key_fifo keys;
    rv_error cb_err;  /* the first failure inside the callback */
    rv_progress bar;
} loop_state;

/* A binary classifier's target must be a truth value: 0, 1, true, false.
 * The library reads any other number as true (creme did the same), so a
 * regression target given to a binary classifier scored Accuracy 1. */
static int binary_target_ok(const rv_value *y)
{
    if (y->kind == RV_NUM)
        return y->num == 0 || y->num == 1;
    int truth;
    return rv_value_truth(y, &truth, NULL) == RV_OK;
}

static int step_row(rv_cli_run *run, loop_state *ls, int has_y)
{
    rv_error err = {0};
    uint32_t idx;
    run->rows++;
    if (has_y && run->binary_target && !binary_target_ok(&ls->y)) {
        rv_buf text;
        rv_buf_init(&text);
        put_value(&text, &ls->y);
        int code = rv_cli_fail("%s:%llu: the target of a binary classifier is 0 or 1, true or false; "
                               "got %s (%s)",
                               rv_stream_name(ls->s), (unsigned long long)rv_stream_line(ls->s),
                               rv_buf_cstr(&text),
                               ls->y.kind == RV_NUM ? "a regression target? use a regressor"
                                                    : "one of several classes? use a multiclass "
                                                      "classifier, such as neighbors.KNNClassifier");
        rv_buf_free(&text);
        return code;
    }
    rv_status st = per_key_index(run, &ls->x, &idx, &err);
    if (!st && ls->par) {
        if (fifo_push(&ls->keys, idx))
            return rv_cli_fail("out of memory");
        st = rv_cli_par_step(ls->par, &ls->x, has_y ? &ls->y : NULL, &err);
        if (!st && ls->cb_err.code)
            err = ls->cb_err, st = err.code;
        if (st) /* the failing row may be an earlier one: the message names it */
            return rv_cli_fail("%s: %s", rv_stream_name(ls->s), err.message);
        return RV_EXIT_OK;
    }
    rv_prediction_clear(&ls->pred);
    if (!st && run->learn) /* a row without target is only predicted */
        st = rv_cli_pv_step(ls->pv, &ls->x, has_y ? &ls->y : NULL, &ls->pred, &err);
    else if (!st)
        st = rv_estimator_predict(run->model, &ls->x, &ls->pred, &err);
    if (!st && run->learn && has_y) {
        run->scored++;
        st = per_key_score(run, idx, &ls->y, &ls->pred, &err);
    }
    if (st)
        return rv_cli_fail("%s:%llu: %s", rv_stream_name(ls->s),
                           (unsigned long long)rv_stream_line(ls->s), err.message);
    if (run->predictions)
        write_prediction(run, &ls->out, run->rows, has_y ? &ls->y : NULL, &ls->pred, idx);
    return RV_EXIT_OK;
}

/* A row's result from the sharded evaluation, in row order (row from 0). */
static void on_result(void *ctx, uint64_t row, const rv_value *y, const rv_prediction *pred)
{
    loop_state *ls = ctx;
    rv_cli_run *run = ls->run;
    uint32_t idx = fifo_pop(&ls->keys);
    if (ls->cb_err.code)
        return;
    int has_y = y && y->kind != RV_NONE;
    if (has_y) {
        run->scored++;
        per_key_score(run, idx, y, pred, &ls->cb_err);
    }
    if (run->predictions)
        write_prediction(run, &ls->out, row + 1, has_y ? y : NULL, pred, idx);
}

/* Before the input waits for its producer: what the rows so far gave goes
 * out, so predictions for a slow pipe come as its rows do. The sharded
 * evaluation first reports the rows it holds; a failure there is reported
 * by the next step. */
static void flush_predictions(void *ctx)
{
    loop_state *ls = ctx;
    if (ls->par) {
        rv_error err = {0};
        (void)rv_cli_par_drain(ls->par, &err);
    }
    if (ls->out.len) {
        fwrite(ls->out.data, 1, ls->out.len, ls->run->predictions);
        rv_buf_reset(&ls->out);
    }
    fflush(ls->run->predictions);
}

static int loop(rv_cli_run *run, loop_state *ls, int quiet)
{
    rv_error err = {0};
    int rc = 0, has_y;
    rv_progress_init(&ls->bar, quiet, rv_stream_total_bytes(ls->s));
    while (!(run->interrupted = rv_cli_interrupted()) &&
           (rc = rv_stream_next(ls->s, &ls->x, &ls->y, &has_y, &err)) == 1) {
        int code = step_row(run, ls, has_y);
        if (code)
            return code;
        /* The byte count is cheap, but the bar only redraws every 4,096 rows. */
        if (ls->bar.enabled && (run->rows & 4095) == 0)
            rv_progress_update(&ls->bar, run->rows, rv_stream_bytes_read(ls->s));
    }
    rv_progress_finish(&ls->bar);
    /* A Ctrl-C while blocked in a read (SA_RESTART) may be followed by the
     * end of the input (the producer died of the same Ctrl-C). */
    run->interrupted |= rv_cli_interrupted();
    run->skipped = rv_stream_skipped(ls->s);
    if (!run->interrupted && rc < 0)
        return rv_cli_fail("%s", err.message);
    /* Pairs still waiting for their delay are learned, so that a saved model
     * has seen every row; the sharded evaluation first drains its rows. */
    if (ls->pv && rv_cli_pv_flush(ls->pv, &err))
        return rv_cli_fail("%s", err.message);
    if (ls->par && (rv_cli_par_finish(ls->par, &err) || (err = ls->cb_err).code))
        return rv_cli_fail("%s: %s", rv_stream_name(ls->s), err.message);
    run->seconds = rv_progress_elapsed(&ls->bar);
    return RV_EXIT_OK;
}

int rv_cli_run_data(rv_cli_run *run, rv_cli_opts *opts, const char *data)
{
    rv_error err = {0};
    if (opts->target && (rv_estimator_flags(run->model) & RV_F_REGRESSOR) &&
        rv_stream_opts_get(&opts->stream, opts->target) == RV_COL_AUTO &&
        rv_stream_opts_set(&opts->stream, opts->target, RV_COL_FLOAT, NULL, &err))
        return rv_cli_fail("%s", err.message);
    opts->stream.target = opts->target;
    run->binary_target = (rv_estimator_flags(run->model) & RV_F_BINARY_ONLY) != 0;
    if (opts->key) {
        /* A key is read as text, as River's iter_csv reads every column: the
         * stores 01 and 1 are two keys (as numbers they were one), and a
         * number in NDJSON keys as its shortest text, as before. */
        if (rv_stream_opts_get(&opts->stream, opts->key) == RV_COL_AUTO &&
            rv_stream_opts_set(&opts->stream, opts->key, RV_COL_STR, NULL, &err))
            return rv_cli_fail("%s", err.message);
        run->key = rv_sym_intern_cstr(opts->key);
        per_key *pk = calloc(1, sizeof *pk);
        if (!pk)
            return rv_cli_fail("out of memory");
        rv_strmap_init(&pk->index);
        rv_buf_init(&pk->scratch);
        run->per_key = pk;
    }
    loop_state ls;
    memset(&ls, 0, sizeof ls);
    rv_event_init(&ls.x);
    rv_prediction_init(&ls.pred);
    rv_buf_init(&ls.out);
    int code = RV_EXIT_OK;
    ls.s = rv_stream_open(data, &opts->stream, &err);
    if (!ls.s)
        code = rv_cli_fail("%s", err.message);
    else if (run->predictions)
        rv_stream_on_wait(ls.s, flush_predictions, &ls);
    ls.run = run;
    unsigned threads = opts->threads ? (unsigned)opts->threads : rv_cli_cores();
    if (!code && run->learn && threads > 1 && rv_cli_is_family(run->model)) {
        if (!(ls.par = rv_cli_par_new(run->model, run->metrics, run->nmetrics, opts->delay, threads,
                                      on_result, &ls, &err)))
            code = rv_cli_fail("%s", err.message);
    } else if (!code && run->learn &&
               !(ls.pv = rv_cli_pv_new(run->model, run->metrics, run->nmetrics, opts->delay, &err))) {
        code = rv_cli_fail("%s", err.message);
    }
    if (!code && run->predictions) {
        rv_buf_puts(&ls.out, run->key != RV_SYM_NONE ? "row,y,prediction,key\n"
                                                     : "row,y,prediction\n");
    }
    if (!code)
        code = loop(run, &ls, opts->quiet);
    /* NDJSON rows without the target are predicted and not learned, so a
     * misspelt --target learned nothing and still exited 0 */
    if (!code && run->learn && run->rows > 0 && run->scored == 0 && !run->interrupted)
        code = rv_cli_fail("%s: no row has a value for the target '%s'", data, opts->target);
    if (run->predictions && ls.out.len)
        fwrite(ls.out.data, 1, ls.out.len, run->predictions);
    if (run->skipped && ls.s)
        fprintf(stderr, "rivulet: skipped %llu bad rows; the first: %s\n",
                (unsigned long long)run->skipped, rv_stream_first_skip(ls.s));
    if (run->interrupted)
        fprintf(stderr, "rivulet: interrupted after %llu rows\n", (unsigned long long)run->rows);
    rv_cli_pv_free(ls.pv);
    rv_cli_par_free(ls.par);
    free(ls.keys.q);
    rv_stream_close(ls.s);
    rv_event_free(&ls.x);
    rv_prediction_free(&ls.pred);
    rv_buf_free(&ls.out);
    return code;
}

/* ===== Summary ===== */

static void print_num(FILE *out, double x)
{
    rv_buf b;
    rv_buf_init(&b);
    rv_buf_put_double(&b, x);
    fputs(rv_buf_cstr(&b), out);
    rv_buf_free(&b);
}

static const rv_object *sort_metric; /* qsort has no context argument */

static int worse_first(const void *a, const void *b)
{
    double x = rv_cli_metric_get(((const key_stat *)a)->metric);
    double y = rv_cli_metric_get(((const key_stat *)b)->metric);
    int bigger = rv_cli_metric_bigger_is_better(sort_metric);
    if (x == y)
        return 0;
    return (bigger ? x < y : x > y) ? -1 : 1;
}

/* A metric's name in the summary: its class (MAE), or for a wrapper such as
 * Rolling its whole expression, since "Rolling" alone says neither what nor
 * over how many rows. */
static void print_metric_name(FILE *out, const rv_object *m)
{
    rv_buf b;
    rv_buf_init(&b);
    if (strcmp(m->cls->name, "Rolling") == 0 && rv_object_describe(m, &b) == RV_OK && b.len)
        fprintf(out, "%.*s", (int)b.len, b.data);
    else
        fputs(m->cls->name, out);
    rv_buf_free(&b);
}

/* Keys and rows per key over the keys with a target; the metric's mean and
 * the worst keys over those with a scored row (a classifier's key seen once
 * has only its empty first answer). */
static void print_per_key(const rv_cli_run *run, FILE *out)
{
    per_key *pk = run->per_key;
    if (!pk || pk->n == 0 || run->nmetrics == 0)
        return;
    uint64_t lo = UINT64_MAX, hi = 0, total = 0;
    size_t nk = 0, nscored = 0;
    double sum = 0;
    for (size_t i = 0; i < pk->n; i++) {
        uint64_t n = pk->stats[i].n;
        if (!n)
            continue;
        lo = n < lo ? n : lo;
        hi = n > hi ? n : hi;
        total += n;
        nk++;
        if (pk->stats[i].scored) { /* a key seen once by a classifier has no score yet */
            sum += rv_cli_metric_get(pk->stats[i].metric);
            nscored++;
        }
    }
    if (!nk)
        return;
    fprintf(out, "keys: %zu\nrows per key: min %llu, mean ", nk, (unsigned long long)lo);
    print_num(out, (double)total / (double)nk);
    fprintf(out, ", max %llu\n", (unsigned long long)hi);
    if (!nscored)
        return;
    print_metric_name(out, run->metrics[0]);
    fputs(" per key: mean ", out);
    print_num(out, sum / (double)nscored);
    /* Sort a copy by metric, worst first; remember each key's position. */
    key_stat *order = malloc(nscored * sizeof *order);
    if (!order)
        return;
    size_t m = 0;
    for (size_t i = 0; i < pk->n; i++) {
        if (!pk->stats[i].scored)
            continue;
        order[m] = pk->stats[i];
        order[m++].n = i; /* reuse n as the key's index */
    }
    sort_metric = run->metrics[0];
    qsort(order, nscored, sizeof *order, worse_first);
    fputs("\nworst keys by ", out);
    print_metric_name(out, run->metrics[0]);
    fputc(':', out);
    for (size_t i = 0; i < nscored && i < 5; i++) {
        uint32_t len;
        const char *k = rv_strmap_key_at(&pk->index, (uint32_t)order[i].n, &len);
        fprintf(out, "%s %.*s (", i ? "," : "", (int)len, k);
        print_num(out, rv_cli_metric_get(order[i].metric));
        fputc(')', out);
    }
    fputc('\n', out);
    free(order);
}

void rv_cli_print_summary(const rv_cli_run *run, FILE *out)
{
    fprintf(out, "rows: %llu\n", (unsigned long long)run->rows);
    if (run->skipped)
        fprintf(out, "skipped: %llu\n", (unsigned long long)run->skipped);
    for (size_t i = 0; i < run->nmetrics && run->learn; i++) {
        print_metric_name(out, run->metrics[i]);
        fputs(": ", out);
        print_num(out, rv_cli_metric_get(run->metrics[i]));
        fputc('\n', out);
    }
    print_per_key(run, out);
}

void rv_cli_run_free(rv_cli_run *run)
{
    for (size_t i = 0; i < run->nmetrics; i++)
        rv_object_free(run->metrics[i]);
    free(run->metrics);
    per_key_free(run->per_key);
    memset(run, 0, sizeof *run);
}
