/* The demo's models: the write-up's two pipelines, a keyed family of
 * GreedyRegressor([knn, lm]) over them, the warm-up, and the members' own
 * forecasts.
 *
 * Pipelines (examples/m5/knn.river and lm.river, SPEC.md §0, creme 0.5.1 semantics:
 * scalers learn during predict):
 *   knn = split | dateparts | U | StandardScaler | KNeighborsRegressor(15, window 30, p=2)
 *   lm  = split | dateparts | U | MinMaxScaler   | LinearRegression(SGD(0.005), intercept_lr=0.001)
 *   U   = TargetAgg(by=['item_id'], RollingMean(k)) for k in 1..7
 *       + TargetAgg(by=['wday'], RollingMean(k)) for k in 1..20, 25, 30
 * Family: compose.Family(model_selection.GreedyRegressor([knn, lm],
 *         metric=metrics.MAE()), by='id'): one selector per series.
 *
 * Warm-up: each event {id, date} with target y goes to its series'
 * GreedyRegressor's learn, which for each pipeline predicts, scores the
 * prediction (running MAE) and then learns: progressive validation of both
 * pipelines at once, and the selection (the pipeline with the lower running
 * MAE) falls out of it. The family is not also predicted on: that would make
 * the selected pipeline's scaler learn each row twice (see greedy.c).
 *
 * Threads: series are independent, so T threads take series s with
 * s mod T = t, each walking days in order and prefetching the next series'
 * selector while it works on one (30,490 of them are far bigger than the
 * caches). Members are installed in series
 * order before the threads start, so the family (and its snapshot) is the
 * same whatever T. */
#include "m5/demo.h"

#include "rivulet/compose.h"
#include "rivulet/family.h"
#include "rivulet/model.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ===== Definitions ===== */

/* examples/m5/knn.river and lm.river, embedded by the build
 * (tools/embed-text.sh), so the demo runs from any directory. */
extern const char rv_m5_knn_river[], rv_m5_lm_river[];

const char *demo_pipeline_text(int knn) { return knn ? rv_m5_knn_river : rv_m5_lm_river; }

/* compose.Family(model_selection.GreedyRegressor([knn, lm],
 * metric=metrics.MAE()), by='id') from the two files' `model`. */
static rv_object *family_new(rv_error *err)
{
    rv_object *m[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++) {
        const char *text = demo_pipeline_text(i == 0);
        if (!(m[i] = rv_model_parse(text, strlen(text), "model", err))) {
            rv_error_prefix(err, "examples/m5/%s.river", i == 0 ? "knn" : "lm");
            rv_object_free(m[0]);
            return NULL;
        }
    }
    rv_object *g = rv_greedy_regressor_new(m, 2, NULL, err);
    return g ? rv_family_new(g, "id", err) : NULL;
}

/* ===== Family ===== */

rv_status demo_warm_init(demo_warm *w, const rv_m5_panel *p, size_t train_end, int threads,
                         rv_error *err)
{
    memset(w, 0, sizeof *w);
    w->n_series = p->n_series;
    w->train_end = train_end;
    w->threads = threads < 1 ? 1 : threads;
    w->progress = isatty(2);
    w->family = family_new(err);
    w->members = calloc(p->n_series ? p->n_series : 1, sizeof *w->members);
    w->dates = malloc((p->n_days + RV_M5_HORIZON + 1) * sizeof *w->dates);
    if (!w->family || !w->members || !w->dates)
        return w->family ? rv_error_set(err, RV_ENOMEM, "out of memory") : err->code;
    for (size_t d = 1; d <= p->n_days + RV_M5_HORIZON; d++)
        rv_m5_date_of_day((long)d, w->dates[d]);
    const rv_object *proto = rv_family_prototype(w->family);
    for (size_t s = 0; s < p->n_series; s++) {
        const char *id = p->ids[s];
        rv_object *m = rv_object_clone(proto, err);
        if (!m || rv_family_put(w->family, id, strlen(id), m, err) != RV_OK)
            return err->code ? err->code : rv_error_set(err, RV_ENOMEM, "out of memory");
        w->members[s] = rv_family_get(w->family, id, strlen(id));
    }
    return RV_OK;
}

void demo_warm_free(demo_warm *w)
{
    rv_object_free(w->family);
    free(w->members);
    free(w->dates);
    memset(w, 0, sizeof *w);
}

/* ===== Threads ===== */

typedef struct job {
    demo_warm *w;
    const rv_m5_panel *p;
    int t;
    rv_m5_forecast *f[3]; /* knn, lm, best; NULL for the warm-up */
    rv_status st;
    rv_error err;
} job;

static _Atomic size_t rows_done;
static atomic_int failed;

static void warm_series_block(job *j)
{
    demo_warm *w = j->w;
    rv_sym id = rv_sym_intern_cstr("id"), date = rv_sym_intern_cstr("date");
    rv_event x;
    rv_event_init(&x);
    size_t T = (size_t)w->threads;
    for (size_t d = 1; d <= w->train_end && !atomic_load(&failed); d++) {
        if (demo_stopped()) {
            j->st = rv_error_set(&j->err, RV_ESTATE, "interrupted");
            atomic_store(&failed, 1);
            break;
        }
        const float *units = rv_m5_panel_day(j->p, d);
        size_t n = 0;
        for (size_t s = (size_t)j->t; s < w->n_series; s += T, n++) {
            if (s + T < w->n_series) /* its misses overlap with this series' work */
                rv_estimator_prefetch(w->members[s + T]);
            rv_event_clear(&x);
            rv_event_push_str(&x, id, j->p->ids[s], strlen(j->p->ids[s]));
            rv_event_push_str(&x, date, w->dates[d], 10);
            rv_value y = rv_value_num(units[s]);
            if ((j->st = rv_estimator_learn(w->members[s], &x, &y, &j->err)) != RV_OK) {
                rv_error_prefix(&j->err, "%s on %s", j->p->ids[s], w->dates[d]);
                atomic_store(&failed, 1);
                break;
            }
        }
        atomic_fetch_add(&rows_done, n);
    }
    rv_event_free(&x);
}

/* Forecasts of one series by each member, on a copy of its selector. */
static rv_status forecast_series(job *j, size_t s, rv_event *x, rv_prediction *pred)
{
    demo_warm *w = j->w;
    rv_sym id = rv_sym_intern_cstr("id"), date = rv_sym_intern_cstr("date");
    rv_object *g = rv_object_copy(w->members[s], &j->err);
    if (!g)
        return j->err.code;
    size_t best = rv_greedy_best(g), n = w->n_series;
    rv_status st = RV_OK;
    for (size_t m = 0; m < 2 && st == RV_OK; m++)
        for (size_t h = 0; h < RV_M5_HORIZON && st == RV_OK; h++) {
            rv_event_clear(x);
            rv_event_push_str(x, id, j->p->ids[s], strlen(j->p->ids[s]));
            rv_event_push_str(x, date, w->dates[w->train_end + 1 + h], 10);
            st = rv_estimator_predict(rv_greedy_model(g, m), x, pred, &j->err);
            j->f[m]->values[h * n + s] = pred->num;
            if (m == best)
                j->f[2]->values[h * n + s] = pred->num;
        }
    rv_object_free(g);
    return st;
}

static void forecast_series_block(job *j)
{
    rv_event x;
    rv_event_init(&x);
    rv_prediction pred;
    rv_prediction_init(&pred);
    for (size_t s = (size_t)j->t; s < j->w->n_series && !atomic_load(&failed); s += (size_t)j->w->threads) {
        if ((j->st = forecast_series(j, s, &x, &pred)) != RV_OK) {
            atomic_store(&failed, 1);
            break;
        }
        atomic_fetch_add(&rows_done, RV_M5_HORIZON);
    }
    rv_prediction_free(&pred);
    rv_event_free(&x);
}

static void *worker(void *arg)
{
    job *j = arg;
    (j->f[0] ? forecast_series_block : warm_series_block)(j);
    return NULL;
}

static void draw_progress(size_t done, size_t total, double t0)
{
    double secs = demo_now() - t0, frac = total ? (double)done / (double)total : 1;
    int fill = (int)(frac * 30);
    char bar[31];
    memset(bar, '#', (size_t)fill);
    memset(bar + fill, '.', (size_t)(30 - fill));
    bar[30] = '\0';
    double rate = secs > 0 ? (double)done / secs : 0;
    fprintf(stderr, "\r  [%s] %5.1f%%  %.1f M rows  %.0f k rows/s  ETA %.0f s   ", bar, 100 * frac,
            (double)done / 1e6, rate / 1e3, rate > 0 ? (double)(total - done) / rate : 0);
}

/* Runs the jobs on w->threads threads, drawing progress of `total` rows. */
static rv_status run_jobs(demo_warm *w, const rv_m5_panel *p, rv_m5_forecast **f, size_t total,
                          rv_error *err)
{
    int T = w->threads;
    job *jobs = calloc((size_t)T, sizeof *jobs);
    pthread_t *tid = calloc((size_t)T, sizeof *tid);
    if (!jobs || !tid) {
        free(jobs);
        free(tid);
        return rv_error_set(err, RV_ENOMEM, "out of memory");
    }
    atomic_store(&rows_done, 0);
    atomic_store(&failed, 0);
    int started = 0;
    for (int t = 0; t < T; t++) {
        jobs[t] = (job){w, p, t, {f ? f[0] : NULL, f ? f[1] : NULL, f ? f[2] : NULL}, RV_OK, {0}};
        if (pthread_create(&tid[t], NULL, worker, &jobs[t]) != 0)
            break;
        started++;
    }
    double t0 = demo_now();
    while (w->progress && started == T && atomic_load(&rows_done) < total && !atomic_load(&failed)) {
        draw_progress(atomic_load(&rows_done), total, t0);
        usleep(200000);
    }
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    if (w->progress) {
        draw_progress(atomic_load(&rows_done), total, t0);
        fputc('\n', stderr);
    }
    rv_status st = started < T ? rv_error_set(err, RV_ENOMEM, "cannot start %d threads", T) : RV_OK;
    for (int t = 0; t < started && st == RV_OK; t++)
        if (jobs[t].st != RV_OK) {
            *err = jobs[t].err;
            st = jobs[t].st;
        }
    free(jobs);
    free(tid);
    return st;
}

rv_status demo_warm_run(demo_warm *w, const rv_m5_panel *p, rv_error *err)
{
    return run_jobs(w, p, NULL, w->n_series * w->train_end, err);
}

rv_status demo_member_forecasts(demo_warm *w, const rv_m5_panel *p, rv_m5_forecast *f_knn,
                                rv_m5_forecast *f_lm, rv_m5_forecast *f_best, rv_error *err)
{
    rv_m5_forecast *f[3] = {f_knn, f_lm, f_best};
    int progress = w->progress;
    w->progress = 0;
    rv_status st = run_jobs(w, p, f, 0, err);
    w->progress = progress;
    return st;
}
