/* Benchmark (issue 3): snapshot and restore of keyed families at M5 scale.
 *
 * The write-up's two pipelines (examples/m5/knn.river and lm.river, parsed),
 * each as compose.Family(<pipeline>, by='id'), warmed by progressive
 * validation on an M5-like stream (SERIES series x DAYS days, integer
 * targets, sorted by date then id, as bench_m5_pipelines generates), then:
 *
 *   save:    rv_snapshot_save of both families into memory buffers
 *   restore: rv_snapshot_load of both buffers
 *
 * each timed 3 times (median printed), plus the bytes per series (memory()
 * of both families / SERIES) and the snapshot size. The restored families
 * are checked to save back to the same bytes.
 *
 *   build/opt/bench/bench_family_snapshot [series] [days] [threads]
 *   (defaults 30490 60 2; run from the repository root)
 */
#include "rivulet/eval.h"
#include "rivulet/family.h"
#include "rivulet/metrics.h"
#include "rivulet/model.h"
#include "synthetic_m5.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char *what, const rv_error *err)
{
    fprintf(stderr, "%s: %s\n", what, err->message);
    exit(1);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int series = argc > 1 ? atoi(argv[1]) : 30490, days = argc > 2 ? atoi(argv[2]) : 60;
    unsigned threads = argc > 3 ? (unsigned)atoi(argv[3]) : 2;
    const char *files[2] = {"examples/m5/knn.river", "examples/m5/lm.river"};
    rv_error err = {0};
    rv_object *fam[2];
    for (int m = 0; m < 2; m++) {
        rv_object *p = rv_model_load_file(files[m], &err);
        if (!p || !(fam[m] = rv_family_new(p, "id", &err)))
            die(files[m], &err);
    }
    rv_object *mae[2] = {rv_metric_new("MAE", &err), rv_metric_new("MAE", &err)};
    rv_progressive_par *pp = rv_progressive_new_parallel(fam, 2, mae, 1, 0, threads, &err);
    if (!pp)
        die("progressive", &err);
    rv_sym id = rv_sym_intern_cstr("id"), date = rv_sym_intern_cstr("date");
    rv_event x;
    rv_event_init(&x);
    uint64_t state = SYNTH_SEED;
    double t0 = synth_now();
    for (int t = 0; t < days; t++) {
        char d[16];
        synth_date(d, sizeof d, t);
        for (int s = 0; s < series; s++) {
            char ident[32];
            int n = synth_series_id(ident, sizeof ident, s);
            rv_event_clear(&x);
            rv_event_push_str(&x, id, ident, (size_t)n);
            rv_event_push_str(&x, date, d, 10);
            rv_value y = rv_value_num(synth_sales(&state));
            if (rv_progressive_par_step(pp, &x, &y, &err))
                die("step", &err);
        }
    }
    if (rv_progressive_par_finish(pp, &err))
        die("finish", &err);
    double warm = synth_now() - t0;
    rv_progressive_par_free(pp);
    size_t mem = rv_object_memory(fam[0]) + rv_object_memory(fam[1]);
    printf("warmed %zu + %zu series x %d days (%d threads) in %.1f s; MAE knn %.4f, lm %.4f\n",
           rv_family_size(fam[0]), rv_family_size(fam[1]), days, threads, warm,
           rv_metric_get(mae[0]), rv_metric_get(mae[1]));
    fflush(stdout);
    printf("memory: %zu bytes, %.0f bytes per series (knn %.0f, lm %.0f)\n", mem,
           (double)mem / series, (double)rv_object_memory(fam[0]) / series,
           (double)rv_object_memory(fam[1]) / series);

    double save_t[3], load_t[3], save_c[3], load_c[3];
    rv_buf snap[2];
    for (int r = 0; r < 3; r++) {
        for (int m = 0; m < 2; m++)
            rv_buf_init(&snap[m]);
        t0 = synth_now();
        double c0 = cpu();
        for (int m = 0; m < 2; m++)
            if (rv_snapshot_save(fam[m], &snap[m]) || snap[m].oom)
                die("save", &(rv_error){.message = "failed"});
        save_t[r] = synth_now() - t0;
        save_c[r] = cpu() - c0;
        rv_object *back[2];
        t0 = synth_now();
        c0 = cpu();
        for (int m = 0; m < 2; m++)
            if (!(back[m] = rv_snapshot_load(snap[m].data, snap[m].len, &err)))
                die("load", &err);
        load_t[r] = synth_now() - t0;
        load_c[r] = cpu() - c0;
        for (int m = 0; m < 2; m++) {
            rv_buf again;
            rv_buf_init(&again);
            if (rv_snapshot_save(back[m], &again) || again.len != snap[m].len ||
                memcmp(again.data, snap[m].data, again.len) != 0)
                die("round trip", &(rv_error){.message = "restored family saves differently"});
            rv_buf_free(&again);
            rv_object_free(back[m]);
        }
        if (r < 2)
            for (int m = 0; m < 2; m++)
                rv_buf_free(&snap[m]);
    }
    size_t bytes = snap[0].len + snap[1].len;
    qsort(save_t, 3, sizeof *save_t, cmp);
    qsort(load_t, 3, sizeof *load_t, cmp);
    printf("snapshot: %zu bytes (knn %zu, lm %zu), %.0f bytes per series\n", bytes, snap[0].len,
           snap[1].len, (double)bytes / series);
    qsort(save_c, 3, sizeof *save_c, cmp);
    qsort(load_c, 3, sizeof *load_c, cmp);
    printf("save:    median %.3f s (runs %.3f %.3f %.3f; CPU s, all threads: %.3f %.3f %.3f)\n",
           save_t[1], save_t[0], save_t[1], save_t[2], save_c[0], save_c[1], save_c[2]);
    printf("restore: median %.3f s (runs %.3f %.3f %.3f; CPU s, all threads: %.3f %.3f %.3f)\n",
           load_t[1], load_t[0], load_t[1], load_t[2], load_c[0], load_c[1], load_c[2]);
    fflush(stdout);
    for (int m = 0; m < 2; m++) {
        rv_buf_free(&snap[m]);
        rv_object_free(fam[m]);
        rv_object_free(mae[m]);
    }
    rv_event_free(&x);
    return 0;
}
