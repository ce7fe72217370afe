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

#include <stdlib.h>
#include <string.h>

typedef struct key_stat {
    uint64_t n;
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

static rv_status per_key_update(rv_cli_run *run, const rv_event *x, const rv_value *y,
                                const rv_prediction *pred, rv_error *err)
{
    per_key *pk = run->per_key;
    const rv_feature *f = rv_event_get(x, run->key);
    if (!f || !pk || run->nmetrics == 0)
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
            key_stat *s = realloc(pk->stats, cap * sizeof *s);
            if (!s)
                return rv_error_set(err, RV_ENOMEM, "out of memory");
            pk->stats = s;
            pk->cap = cap;
        }
        pk->stats[pk->n].n = 0;
        pk->stats[pk->n].metric = rv_object_clone(run->metrics[0], err);
        if (!pk->stats[pk->n].metric)
            return err->code;
        pk->n++;
    }
    key_stat *s = &pk->stats[*slot];
    s->n++;
    return rv_cli_metric_update(s->metric, y, pred, err);
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

static void write_prediction(rv_cli_run *run, rv_buf *b, const rv_event *x, const rv_value *y,
                             int has_y, const rv_prediction *pred)
{
    rv_buf_printf(b, "%llu,", (unsigned long long)run->rows);
    if (has_y)
        put_value(b, y);
    rv_buf_put(b, ",", 1);
    put_prediction(b, pred);
    if (run->key != RV_SYM_NONE) {
        rv_buf_put(b, ",", 1);
        const rv_feature *f = rv_event_get(x, run->key);
        if (f) {
            rv_value v = rv_feature_value(f);
            put_value(b, &v);
        }
    }
    rv_buf_put(b, "\n", 1);
    if (b->len >= (1u << 16)) {
        fwrite(b->data, 1, b->len, run->predictions);
        rv_buf_reset(b);
    }
}

/* ===== The loop ===== */

typedef struct loop_state {
    rv_stream *s;
    rv_event x;
    rv_value y;
    rv_prediction pred;
    rv_buf out;
    rv_cli_pv *pv;
    rv_progress bar;
} loop_state;

static int step_row(rv_cli_run *run, loop_state *ls, int has_y)
{
    rv_error err = {0};
    rv_status st;
    run->rows++;
    rv_prediction_clear(&ls->pred);
    if (run->learn) /* a row without target is only predicted */
        st = rv_cli_pv_step(ls->pv, &ls->x, has_y ? &ls->y : NULL, &ls->pred, &err);
    else
        st = rv_estimator_predict(run->model, &ls->x, &ls->pred, &err);
    if (!st && run->learn && has_y) {
        run->scored++;
        st = per_key_update(run, &ls->x, &ls->y, &ls->pred, &err);
    }
    if (st)
        return rv_cli_fail("%s:%llu: %s", rv_stream_name(ls->s),
                           (unsigned long long)rv_stream_line(ls->s), err.message);
    if (run->predictions)
        write_prediction(run, &ls->out, &ls->x, &ls->y, has_y, &ls->pred);
    return RV_EXIT_OK;
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
        rv_progress_update(&ls->bar, run->rows, rv_stream_bytes_read(ls->s));
    }
    rv_progress_finish(&ls->bar);
    /* A Ctrl-C while blocked in a read (SA_RESTART) may be followed by the
     * end of the input (the producer died of the same Ctrl-C). */
    run->interrupted |= rv_cli_interrupted();
    run->seconds = rv_progress_elapsed(&ls->bar);
    run->skipped = rv_stream_skipped(ls->s);
    if (!run->interrupted && rc < 0)
        return rv_cli_fail("%s", err.message);
    /* Pairs still waiting for their delay are learned, so that a saved model
     * has seen every row. */
    if (ls->pv && rv_cli_pv_flush(ls->pv, &err))
        return rv_cli_fail("%s", err.message);
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
    if (opts->key) {
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
    if (!code && run->learn &&
        !(ls.pv = rv_cli_pv_new(run->model, run->metrics, run->nmetrics, opts->delay, &err)))
        code = rv_cli_fail("%s", err.message);
    if (!code && run->predictions) {
        rv_buf_puts(&ls.out, run->key != RV_SYM_NONE ? "row,y,prediction,key\n"
                                                     : "row,y,prediction\n");
    }
    if (!code)
        code = loop(run, &ls, opts->quiet);
    if (run->predictions && ls.out.len)
        fwrite(ls.out.data, 1, ls.out.len, run->predictions);
    if (run->skipped && ls.s)
        fprintf(stderr, "rivulet: skipped %llu bad rows; the first: %s\n",
                (unsigned long long)run->skipped, rv_stream_first_skip(ls.s));
    if (run->interrupted)
        fprintf(stderr, "rivulet: interrupted after %llu rows\n", (unsigned long long)run->rows);
    rv_cli_pv_free(ls.pv);
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

static void print_per_key(const rv_cli_run *run, FILE *out)
{
    per_key *pk = run->per_key;
    if (!pk || pk->n == 0)
        return;
    uint64_t lo = UINT64_MAX, hi = 0, total = 0;
    double sum = 0;
    for (size_t i = 0; i < pk->n; i++) {
        uint64_t n = pk->stats[i].n;
        lo = n < lo ? n : lo;
        hi = n > hi ? n : hi;
        total += n;
        sum += rv_cli_metric_get(pk->stats[i].metric);
    }
    const char *name = run->metrics[0]->cls->name;
    fprintf(out, "keys: %zu\nrows per key: min %llu, mean ", pk->n, (unsigned long long)lo);
    print_num(out, (double)total / (double)pk->n);
    fprintf(out, ", max %llu\n%s per key: mean ", (unsigned long long)hi, name);
    print_num(out, sum / (double)pk->n);
    /* Sort a copy by metric, worst first; remember each key's position. */
    key_stat *order = malloc(pk->n * sizeof *order);
    if (!order)
        return;
    for (size_t i = 0; i < pk->n; i++) {
        order[i] = pk->stats[i];
        order[i].n = i; /* reuse n as the key's index */
    }
    sort_metric = run->metrics[0];
    qsort(order, pk->n, sizeof *order, worse_first);
    fprintf(out, "\nworst keys by %s:", name);
    for (size_t i = 0; i < pk->n && i < 5; i++) {
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
        fprintf(out, "%s: ", run->metrics[i]->cls->name);
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
