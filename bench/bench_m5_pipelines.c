/* Benchmark: the write-up's two M5 pipelines (SPEC.md §0) with progressive
 * validation, one (knn, lm) pair per series, on an M5-like stream generated
 * in memory: SERIES series x DAYS days, integer targets, sorted by date then
 * id as the M5 data is. The models are deployed as they are served: two
 * compose.Family(<pipeline>, by='id'), evaluated together by the sharded
 * progressive validation (eval.h) on `threads` threads (1: no thread is
 * started; the results are bit-identical for any count).
 *
 *   build/opt/bench/bench_m5_pipelines [series] [days] [learn_during_predict] [threads]
 *
 * Prints rows per second (a row = one event through both pipelines:
 * predict, metric, learn for each) and the bytes one pair holds (memory()). */
#include "rivulet/compose.h"
#include "rivulet/eval.h"
#include "rivulet/family.h"
#include "rivulet/features.h"
#include "rivulet/metrics.h"
#include "synthetic_m5.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static rv_object *make(const char *name, rv_args *a)
{
    rv_error err = {0};
    rv_object *o = rv_create(name, a, &err);
    if (!o) {
        fprintf(stderr, "%s: %s\n", name, err.message);
        exit(1);
    }
    if (a)
        rv_args_free(a);
    return o;
}

static rv_object *rolling_agg(const char *by, long k)
{
    rv_args a;
    rv_args_init(&a, "stats.RollingMean");
    rv_args_add_int(&a, NULL, k);
    const char *b[1] = {by};
    return rv_target_agg_new(b, 1, make("stats.RollingMean", &a), NULL);
}

static rv_object *pipeline(int knn, int ldp)
{
    rv_object *aggs[29];
    int n = 0;
    for (int k = 1; k <= 7; k++)
        aggs[n++] = rolling_agg("item_id", k);
    for (int k = 1; k <= 20; k++)
        aggs[n++] = rolling_agg("wday", k);
    aggs[n++] = rolling_agg("wday", 25);
    aggs[n++] = rolling_agg("wday", 30);
    const char *names[2] = {"item_id", "store_id"};
    const long slices[2][2] = {{0, 3}, {3, 5}};
    rv_args d, m;
    rv_args_init(&d, "dateparts");
    rv_args_add_str(&d, NULL, "date");
    rv_args_init(&m, knn ? "neighbors.KNeighborsRegressor" : "linear_model.LinearRegression");
    if (knn) {
        rv_args_add_int(&m, "n_neighbors", 15);
        rv_args_add_int(&m, "window_size", 30);
        rv_args_add_int(&m, "p", 2);
    } else {
        rv_args sgd;
        rv_args_init(&sgd, "optim.SGD");
        rv_args_add_num(&sgd, NULL, 0.005);
        rv_args_add_obj(&m, "optimizer", make("optim.SGD", &sgd));
        rv_args_add_num(&m, "intercept_lr", 0.001);
    }
    rv_object *steps[5] = {rv_split_new("id", "_", names, slices, 2, NULL), make("dateparts", &d),
                           rv_union_new(aggs, 29, NULL),
                           make(knn ? "preprocessing.StandardScaler" : "preprocessing.MinMaxScaler", NULL),
                           make(m.callee, &m)};
    rv_error err = {0};
    rv_object *p = rv_pipeline_new(steps, 5, ldp, &err);
    if (!p) {
        fprintf(stderr, "pipeline: %s\n", err.message);
        exit(1);
    }
    return p;
}

static void die(const char *what, const rv_error *err)
{
    fprintf(stderr, "%s: %s\n", what, err->message);
    exit(1);
}

int main(int argc, char **argv)
{
    int series = argc > 1 ? atoi(argv[1]) : 1000, days = argc > 2 ? atoi(argv[2]) : 200;
    int ldp = argc > 3 ? atoi(argv[3]) : 1, threads = argc > 4 ? atoi(argv[4]) : 1;
    /* ids like FOODS_3_042_CA_1; dates from 2011-01-29 */
    char (*ids)[24] = malloc((size_t)series * sizeof *ids);
    char (*dates)[12] = malloc((size_t)days * sizeof *dates);
    for (int s = 0; s < series; s++)
        synth_series_id(ids[s], sizeof ids[s], s);
    for (int t = 0; t < days; t++)
        synth_date(dates[t], sizeof dates[t], t);
    rv_error err = {0};
    rv_object *fam[2];
    for (int m = 0; m < 2; m++)
        if (!(fam[m] = rv_family_new(pipeline(m == 0, ldp), "id", &err)))
            die("family", &err);
    rv_object *mae[2] = {make("metrics.MAE", NULL), make("metrics.MAE", NULL)};
    rv_progressive_par *pp = rv_progressive_new_parallel(fam, 2, mae, 1, 0, (unsigned)threads, &err);
    if (!pp)
        die("progressive", &err);
    rv_sym id = rv_sym_intern_cstr("id"), date = rv_sym_intern_cstr("date");
    rv_event x;
    rv_event_init(&x);
    uint64_t state = SYNTH_SEED;
    double t0 = synth_now();
    for (int t = 0; t < days; t++)
        for (int s = 0; s < series; s++) {
            rv_event_clear(&x);
            rv_event_push_str(&x, id, ids[s], strlen(ids[s]));
            rv_event_push_str(&x, date, dates[t], 10);
            rv_value y = rv_value_num(synth_sales(&state));
            if (rv_progressive_par_step(pp, &x, &y, &err))
                die("step", &err);
        }
    if (rv_progressive_par_finish(pp, &err))
        die("finish", &err);
    double secs = synth_now() - t0, rows = (double)series * days;
    rv_object *pair[2] = {rv_family_get(fam[0], ids[0], strlen(ids[0])),
                          rv_family_get(fam[1], ids[0], strlen(ids[0]))};
    size_t bytes = rv_object_memory(pair[0]) + rv_object_memory(pair[1]);
    printf("m5 pipelines (%s), %d thread%s: %d series x %d days = %.0f rows in %.3f s: %.0f rows/s "
           "(pair of pipelines per row)\n",
           ldp ? "creme, learn during predict" : "River", threads, threads == 1 ? "" : "s", series,
           days, rows, secs, rows / secs);
    printf("bytes per pair: %zu (knn pipeline %zu, lm pipeline %zu)\n", bytes,
           rv_object_memory(pair[0]), rv_object_memory(pair[1]));
    for (int m = 0; m < 2; m++)
        for (size_t i = 0; i < rv_pipeline_len(pair[m]); i++)
            printf("  %s step %zu (%s): %zu bytes\n", m ? "lm " : "knn", i + 1,
                   rv_pipeline_step(pair[m], i)->cls->name,
                   rv_object_memory(rv_pipeline_step(pair[m], i)));
    printf("MAE knn %.17g, lm %.17g\n", rv_metric_get(mae[0]), rv_metric_get(mae[1]));
    rv_progressive_par_free(pp);
    for (int m = 0; m < 2; m++) {
        rv_object_free(fam[m]);
        rv_object_free(mae[m]);
    }
    rv_event_free(&x);
    free(ids);
    free(dates);
    return 0;
}
