/* `rivulet m5 demo`: the write-up's story end to end, stage by stage.
 *
 *   1 data       generate the synthetic M5 panel (or read --data); the last
 *                28 days are held out as the future
 *   2 warm-up    both pipelines per series, progressive validation over
 *                every day before the held-out 28 (demo_warm.c)
 *   3 select     per series, the pipeline with the lower running MAE
 *   4 deploy     a `rivulet serve` child, flavor regression, the family's
 *                snapshot uploaded as model "m5"
 *   5 forecast   the 28 days through POST /api/predict/batch, one batch per
 *                day, each prediction kept under the id "<series>@<date>"
 *   6 learn      each day's truth through POST /api/learn/batch by those ids
 *   7 score      WRMSSE of the API's forecasts, of each pipeline alone, and
 *                of seasonal naive and naive
 *   8 serve      the forecasts in a CSV; serve until Ctrl-C (or --exit)
 *
 * Forecasting 28 days ahead without their sales: the pipelines' features
 * are rolling means of past targets (TargetAgg), which only move when a
 * target is learned. So every forecast day sees the rolling means as of the
 * last known day; only the date (hence the weekday, which picks the wday
 * aggregates) changes. The scalers still learn from each forecast's
 * features (creme's learn-during-predict), exactly as the server does.
 *
 * The knn-only and lm-only forecasts come from copies of each series'
 * selector taken before the upload, so they see the same state the server
 * starts from; the selected one per series must equal the API's answer bit
 * for bit, which the demo checks and reports. */
#include "m5/demo.h"

#include "rivulet/compose.h"
#include "rivulet/model.h"

#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEMO_SERIES 3000 /* the default size: under a minute or so on 2 cores */
#define NSTAGES 8

static const char USAGE[] =
    "usage: rivulet m5 demo [--series N | --full] [--days N] [--seed N] [--data PATH]\n"
    "                       [--threads N] [--port P] [--db PATH] [--out FILE] [--exit]\n"
    "  --series N   synthetic series (default 3000); --full: all 30,490\n"
    "  --days N     synthetic days (default 1941; the last 28 are forecast)\n"
    "  --data PATH  real data instead: a Kaggle directory or a long CSV (.gz)\n"
    "               (with --series N: its first N series)\n"
    "  --threads N  warm-up threads (default: the number of cores)\n"
    "  --port P     the server's port on 127.0.0.1 (default 0: any free one)\n"
    "  --db PATH    the server's database (default: a temporary one)\n"
    "  --out FILE   the 28-day forecasts as id,date,prediction (default m5_forecasts.csv)\n"
    "  --exit       stop after scoring instead of serving until Ctrl-C (also --no-serve)\n";

typedef struct demo_opts {
    size_t series, days, threads;
    uint64_t seed;
    int full, exit_after;
    long port;
    const char *data, *db, *out;
} demo_opts;

typedef struct demo_run {
    demo_opts o;
    rv_m5_panel p;
    size_t train_end;
    demo_warm w;
    demo_server srv;
    rv_m5_forecast f[6]; /* api, knn, lm, best in-process, snaive, naive */
    double stage_secs[NSTAGES];
    double t_stage;
    int stage;
} demo_run;

enum { F_API, F_KNN, F_LM, F_BEST, F_SNAIVE, F_NAIVE, NF };
static const char *const F_NAMES[NF] = {"best (API)", "knn", "lm", "best", "sNaive", "naive"};

static const char *const STAGE_NAMES[NSTAGES] = {"data", "warm-up", "select", "deploy",
                                                 "forecast", "learn", "score", "serve"};

/* ===== Options ===== */

static int parse_count(const char *flag, const char *v, size_t *out)
{
    char *end;
    unsigned long long x = v ? strtoull(v, &end, 10) : 0;
    if (!v || !*v || *end || *v == '-') {
        fprintf(stderr, "rivulet m5 demo: %s wants a non-negative integer, got '%s'\n", flag,
                v ? v : "");
        return -1;
    }
    *out = (size_t)x;
    return 0;
}

static int parse_opts(int argc, char **argv, demo_opts *o)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    *o = (demo_opts){0, 0, ncpu > 0 ? (size_t)ncpu : 1, 42, 0, 0, 0, NULL, NULL, "m5_forecasts.csv"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        size_t n = 0;
        int takes = 1;
        if (strcmp(a, "--full") == 0)
            o->full = 1, takes = 0;
        else if (strcmp(a, "--exit") == 0 || strcmp(a, "--no-serve") == 0)
            o->exit_after = 1, takes = 0;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(USAGE, stdout);
            return 1;
        } else if (strcmp(a, "--data") == 0 || strcmp(a, "--db") == 0 || strcmp(a, "--out") == 0) {
            if (!v) {
                fprintf(stderr, "rivulet m5 demo: %s needs a value\n%s", a, USAGE);
                return -1;
            }
            *(a[2] == 'o' ? &o->out : a[3] == 'a' ? &o->data : &o->db) = v;
        } else if (strcmp(a, "--series") == 0 || strcmp(a, "--days") == 0 ||
                   strcmp(a, "--seed") == 0 || strcmp(a, "--threads") == 0 ||
                   strcmp(a, "--port") == 0) {
            if (parse_count(a, v, &n) != 0)
                return -1;
            if (a[2] == 's' && a[3] == 'e' && a[4] == 'r')
                o->series = n;
            else if (a[2] == 'd')
                o->days = n;
            else if (a[2] == 's')
                o->seed = n;
            else if (a[2] == 't')
                o->threads = n ? n : 1;
            else if (n > 65535) {
                fprintf(stderr, "rivulet m5 demo: --port wants 0..65535, got %zu\n", n);
                return -1;
            } else
                o->port = (long)n;
        } else {
            fprintf(stderr, "rivulet m5 demo: unknown argument '%s'\n%s", a, USAGE);
            return -1;
        }
        i += takes;
    }
    if (o->full && o->series) {
        fprintf(stderr, "rivulet m5 demo: --full and --series exclude each other\n");
        return -1;
    }
    if (!o->data && !o->full && !o->series)
        o->series = DEMO_SERIES;
    return 0;
}

/* ===== Stages ===== */

static void stage_begin(demo_run *r, int stage, const char *what)
{
    r->stage = stage;
    r->t_stage = demo_now();
    printf("[%d/%d] %s\n", stage + 1, NSTAGES, what);
    fflush(stdout);
}

static void stage_end(demo_run *r)
{
    r->stage_secs[r->stage] = demo_now() - r->t_stage;
    printf("      done in %.2f s\n", r->stage_secs[r->stage]);
    fflush(stdout);
}

/* The first n series of a panel (for --data with --series). */
static rv_status panel_head(rv_m5_panel *p, size_t n, rv_error *err)
{
    rv_m5_panel q;
    rv_status st = rv_m5_panel_init(&q, (const char *const *)p->ids, n, p->n_days, err);
    if (st == RV_OK && (st = rv_m5_panel_overlay(&q, p, err)) != RV_OK)
        rv_m5_panel_free(&q);
    if (st == RV_OK) {
        rv_m5_panel_free(p);
        *p = q;
    }
    return st;
}

static rv_status stage_data(demo_run *r, rv_error *err)
{
    stage_begin(r, 0, r->o.data ? "data: reading the real sales" : "data: generating the synthetic M5 set");
    rv_status st;
    if (r->o.data) {
        if (access(r->o.data, R_OK) != 0)
            return rv_error_set(err, RV_EIO, "--data %s: no such file or directory (a Kaggle "
                                "directory or a long CSV such as tiny_m5_train.csv.gz)", r->o.data);
        st = rv_m5_read(r->o.data, &r->p, err);
        if (st == RV_OK && r->o.series && r->o.series < r->p.n_series)
            st = panel_head(&r->p, r->o.series, err);
        if (st != RV_OK)
            return rv_error_prefix(err, "%s", r->o.data);
        printf("      read %s: %zu series x %zu days\n", r->o.data, r->p.n_series, r->p.n_days);
    } else {
        rv_m5_gen_options g = {r->o.seed, 0, r->o.full ? 0 : r->o.series, r->o.days};
        if ((st = rv_m5_generate(&g, &r->p, err)) != RV_OK)
            return st;
        printf("      %zu series x %zu days (seed %llu), %.1f M rows\n", r->p.n_series, r->p.n_days,
               (unsigned long long)r->o.seed, (double)r->p.n_series * (double)r->p.n_days / 1e6);
    }
    if (r->p.n_days < RV_M5_HORIZON + 14)
        return rv_error_set(err, RV_EINVAL, "%zu days are too few: the demo holds out the last %d "
                            "and needs at least 14 before them", r->p.n_days, RV_M5_HORIZON);
    r->train_end = r->p.n_days - RV_M5_HORIZON;
    char a[11], b[11], c[11], d[11];
    rv_m5_date_of_day(1, a);
    rv_m5_date_of_day((long)r->train_end, b);
    rv_m5_date_of_day((long)r->train_end + 1, c);
    rv_m5_date_of_day((long)r->p.n_days, d);
    printf("      history d_1..d_%zu (%s .. %s); held out as the future: d_%zu..d_%zu (%s .. %s)\n",
           r->train_end, a, b, r->train_end + 1, r->p.n_days, c, d);
    stage_end(r);
    return RV_OK;
}

static rv_status stage_warm(demo_run *r, rv_error *err)
{
    stage_begin(r, 1, "warm-up: both pipelines per series, progressive validation on the history");
    rv_status st = demo_warm_init(&r->w, &r->p, r->train_end, (int)r->o.threads, err);
    if (st != RV_OK)
        return st;
    size_t rows = r->p.n_series * r->train_end;
    printf("      compose.Family(model_selection.GreedyRegressor([knn, lm], metric=metrics.MAE()), "
           "by='id')\n      %zu series x %zu days = %.2f M rows, each through knn and lm, %zu "
           "thread%s\n",
           r->p.n_series, r->train_end, (double)rows / 1e6, r->o.threads, r->o.threads > 1 ? "s" : "");
    fflush(stdout);
    double t0 = demo_now();
    if ((st = demo_warm_run(&r->w, &r->p, err)) != RV_OK)
        return st;
    double secs = demo_now() - t0;
    printf("      %.0f rows/s (one row = predict, score and learn in both pipelines)\n",
           secs > 0 ? (double)rows / secs : 0);
    stage_end(r);
    return RV_OK;
}

static rv_status stage_select(demo_run *r, rv_error *err)
{
    stage_begin(r, 2, "select: per series, the pipeline with the lower warm-up MAE");
    size_t wins[2] = {0, 0};
    double sum[3] = {0, 0, 0};
    for (size_t s = 0; s < r->p.n_series; s++) {
        const rv_object *g = r->w.members[s];
        size_t b = rv_greedy_best(g);
        wins[b]++;
        for (size_t m = 0; m < 2; m++)
            sum[m] += rv_greedy_metric(g, m);
        sum[2] += rv_greedy_metric(g, b);
    }
    double n = (double)r->p.n_series; /* every series has train_end rows */
    printf("      KNN chosen for %zu series, linear for %zu\n", wins[0], wins[1]);
    printf("      warm-up MAE (progressive validation): knn %.4f, lm %.4f, best of the two %.4f\n",
           sum[0] / n, sum[1] / n, sum[2] / n);
    /* The members' own forecasts come from copies taken now, before the
     * family leaves for the server. */
    rv_status st = RV_OK;
    for (int i = 0; i < NF && st == RV_OK; i++)
        st = rv_m5_forecast_init(&r->f[i], &r->p, r->train_end, RV_M5_HORIZON, err);
    if (st == RV_OK)
        st = demo_member_forecasts(&r->w, &r->p, &r->f[F_KNN], &r->f[F_LM], &r->f[F_BEST], err);
    if (st != RV_OK)
        return st;
    rv_m5_forecast_snaive(&r->p, &r->f[F_SNAIVE]);
    rv_m5_forecast_naive(&r->p, &r->f[F_NAIVE]);
    printf("      knn-only and lm-only 28-day forecasts computed in-process (on copies)\n");
    stage_end(r);
    return RV_OK;
}

/* A request that must answer `want`; the message of any other answer. */
static rv_status expect(demo_run *r, const char *method, const char *path, const char *ctype,
                        const char *body, size_t len, int want, demo_resp *resp, rv_error *err)
{
    rv_status st = demo_http(r->srv.port, method, path, ctype, body, len, 600, resp, err);
    if (st == RV_OK && resp->status != want) {
        st = rv_error_set(err, RV_EIO, "%s %s answered %d: %.300s", method, path, resp->status,
                          resp->body ? resp->body : "");
        demo_resp_free(resp);
    }
    return st;
}

static rv_status stage_deploy(demo_run *r, rv_error *err)
{
    stage_begin(r, 3, "deploy: start `rivulet serve`, upload the family");
    rv_buf snap;
    rv_buf_init(&snap);
    rv_status st = rv_snapshot_save(r->w.family, &snap);
    if (st != RV_OK || snap.oom) {
        rv_buf_free(&snap);
        return rv_error_set(err, st ? st : RV_ENOMEM, "cannot snapshot the family");
    }
    demo_warm_free(&r->w); /* the server holds the models from now on */
    size_t max_body = snap.len + (64u << 20);
    long every = (long)(r->p.n_series * RV_M5_HORIZON + 1); /* no checkpoint during the demo */
    double t0 = demo_now();
    st = demo_server_start(&r->srv, (int)r->o.port, r->o.db, max_body, every, err);
    if (st == RV_OK)
        printf("      serving on http://127.0.0.1:%d/ (store %s), up in %.2f s\n", r->srv.port,
               r->srv.db, demo_now() - t0);
    demo_resp resp = {0};
    const char *init = "{\"flavor\": \"regression\"}";
    if (st == RV_OK &&
        (st = expect(r, "POST", "/api/init", NULL, init, strlen(init), 201, &resp, err)) == RV_OK) {
        printf("      POST /api/init {\"flavor\": \"regression\"}: %d\n", resp.status);
        demo_resp_free(&resp);
        t0 = demo_now();
        st = expect(r, "POST", "/api/model/m5", "application/octet-stream", snap.data, snap.len,
                    201, &resp, err);
    }
    if (st == RV_OK)
        printf("      POST /api/model/m5 (snapshot, %.1f MB): %d in %.2f s\n", (double)snap.len / 1e6,
               resp.status, demo_now() - t0);
    demo_resp_free(&resp);
    rv_buf_free(&snap);
    if (st == RV_OK)
        stage_end(r);
    return st;
}

/* The kept-prediction id of series s on day d. */
static void put_kept_id(rv_buf *b, const demo_run *r, size_t s, long d)
{
    char date[11];
    rv_m5_date_of_day(d, date);
    rv_buf_printf(b, "\"id\":\"%s@%s\"", r->p.ids[s], date);
}

/* Reads one result line per series from an NDJSON answer; with preds, the
 * predictions. Returns the number of lines whose status is not `want`. */
static size_t read_results(const demo_resp *resp, size_t n, int want, double *preds,
                           char *first_bad, size_t cap)
{
    size_t bad = 0, i = 0;
    for (const char *p = resp->body, *end = resp->body + resp->len; p < end && i < n; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        json_t *j = json_loadb(p, len, 0, NULL);
        int status = (int)json_integer_value(json_object_get(j, "status"));
        if (preds)
            preds[i] = json_is_number(json_object_get(j, "prediction"))
                           ? json_number_value(json_object_get(j, "prediction"))
                           : NAN;
        if (status != want && bad++ == 0)
            snprintf(first_bad, cap, "%.*s", (int)(len < 300 ? len : 300), p);
        json_decref(j);
        p = nl ? nl + 1 : end;
    }
    if (i < n && bad++ == 0)
        snprintf(first_bad, cap, "%zu result lines for %zu inputs", i, n);
    return bad + (n - i);
}

static rv_status stage_forecast(demo_run *r, rv_error *err)
{
    stage_begin(r, 4, "forecast: the next 28 days through POST /api/predict/batch");
    printf("      the rolling target means stay at their last known values: the future's sales\n"
           "      are unknown, so only the date (and with it the weekday) changes\n");
    size_t n = r->p.n_series;
    rv_buf b;
    rv_buf_init(&b);
    rv_status st = RV_OK;
    double slowest = 0;
    for (size_t h = 0; h < RV_M5_HORIZON && st == RV_OK && !demo_stopped(); h++) {
        long d = (long)(r->train_end + 1 + h);
        char date[11];
        rv_m5_date_of_day(d, date);
        rv_buf_reset(&b);
        for (size_t s = 0; s < n; s++) {
            rv_buf_printf(&b, "{\"features\":{\"id\":\"%s\",\"date\":\"%s\"},\"model\":\"m5\",",
                          r->p.ids[s], date);
            put_kept_id(&b, r, s, d);
            rv_buf_puts(&b, "}\n");
        }
        demo_resp resp;
        double t0 = demo_now();
        if ((st = expect(r, "POST", "/api/predict/batch", "application/x-ndjson", b.data, b.len, 200,
                         &resp, err)) != RV_OK)
            break;
        double secs = demo_now() - t0;
        slowest = secs > slowest ? secs : slowest;
        char why[320] = "";
        size_t bad = read_results(&resp, n, 201, r->f[F_API].values + h * n, why, sizeof why);
        demo_resp_free(&resp);
        if (bad)
            st = rv_error_set(err, RV_EIO, "%zu of %zu predictions for %s failed; first: %s", bad, n,
                              date, why);
    }
    rv_buf_free(&b);
    if (st != RV_OK)
        return st;
    size_t same = 0, total = n * RV_M5_HORIZON;
    for (size_t i = 0; i < total; i++)
        same += r->f[F_API].values[i] == r->f[F_BEST].values[i];
    printf("      %zu predictions (28 batches of %zu, slowest %.3f s), each kept by the server under\n"
           "      the id \"<series>@<date>\" for the truth to come\n",
           total, n, slowest);
    printf("      identical to the in-process best-of forecasts: %zu of %zu%s\n", same, total,
           same == total ? "" : "  (MISMATCH)");
    stage_end(r);
    return RV_OK;
}

static rv_status stage_learn(demo_run *r, rv_error *err)
{
    stage_begin(r, 5, "learn: each day's truth through POST /api/learn/batch");
    size_t n = r->p.n_series;
    rv_buf b;
    rv_buf_init(&b);
    rv_status st = RV_OK;
    double total = 0;
    printf("      seconds per daily batch of %zu learns (the batch's round trip):\n", n);
    for (size_t h = 0; h < RV_M5_HORIZON && st == RV_OK && !demo_stopped(); h++) {
        long d = (long)(r->train_end + 1 + h);
        const float *units = rv_m5_panel_day(&r->p, (size_t)d);
        rv_buf_reset(&b);
        for (size_t s = 0; s < n; s++) {
            rv_buf_puts(&b, "{");
            put_kept_id(&b, r, s, d);
            rv_buf_puts(&b, ",\"ground_truth\":");
            rv_buf_put_double(&b, units[s]);
            rv_buf_puts(&b, "}\n");
        }
        demo_resp resp;
        double t0 = demo_now();
        if ((st = expect(r, "POST", "/api/learn/batch", "application/x-ndjson", b.data, b.len, 200,
                         &resp, err)) != RV_OK)
            break;
        double secs = demo_now() - t0;
        char why[320] = "", date[11];
        size_t bad = read_results(&resp, n, 201, NULL, why, sizeof why);
        demo_resp_free(&resp);
        rv_m5_date_of_day(d, date);
        if (bad)
            st = rv_error_set(err, RV_EIO, "%zu of %zu learns for %s failed; first: %s", bad, n, date, why);
        else /* four days a line */
            printf("%s%s %.3f s%s", h % 4 ? "   " : "      ", date, secs, h % 4 == 3 ? "\n" : "");
        total += secs;
    }
    rv_buf_free(&b);
    if (st == RV_OK)
        printf("      %zu learns in 28 batches of %zu: %.2f s, %.0f learns/s, each batch acknowledged\n"
               "      once durable (one group commit)\n",
               n * RV_M5_HORIZON, n, total, total > 0 ? (double)(n * RV_M5_HORIZON) / total : 0);
    demo_resp resp;
    if (st == RV_OK && (st = expect(r, "GET", "/api/metrics", NULL, NULL, 0, 200, &resp, err)) == RV_OK) {
        printf("      GET /api/metrics (the kept forecasts against the truth): %s\n", resp.body);
        demo_resp_free(&resp);
    }
    if (st == RV_OK)
        stage_end(r);
    return st;
}

static double mae28(const demo_run *r, const rv_m5_forecast *f)
{
    size_t n = r->p.n_series;
    double sum = 0;
    for (size_t h = 0; h < RV_M5_HORIZON; h++) {
        const float *y = rv_m5_panel_day(&r->p, r->train_end + 1 + h);
        for (size_t s = 0; s < n; s++)
            sum += fabs(y[s] - f->values[h * n + s]);
    }
    return sum / (double)(n * RV_M5_HORIZON);
}

static rv_status stage_score(demo_run *r, rv_error *err)
{
    stage_begin(r, 6, "score: WRMSSE of the 28-day forecasts (12 aggregation levels)");
    static const int cols[] = {F_API, F_KNN, F_LM, F_SNAIVE, F_NAIVE};
    enum { NC = sizeof cols / sizeof cols[0] };
    rv_m5_score sc[NC];
    for (int c = 0; c < NC; c++)
        if (rv_m5_wrmsse(&r->p, &r->f[cols[c]], &sc[c], err) != RV_OK) {
            /* e.g. a tiny panel without sales: say so, and go on serving */
            printf("      no WRMSSE: %s\n", err->message);
            rv_error_clear(err);
            stage_end(r);
            return RV_OK;
        }
    printf("      %-3s %-14s %7s", "", "level", "series");
    for (int c = 0; c < NC; c++)
        printf(" %10s", F_NAMES[cols[c]]);
    printf("\n");
    for (int l = 0; l < RV_M5_LEVELS; l++) {
        printf("      %-3d %-14s %7zu", l + 1, rv_m5_level_names[l], sc[0].level_series[l]);
        for (int c = 0; c < NC; c++)
            printf(" %10.4f", sc[c].level[l]);
        printf("\n");
    }
    printf("      %-3s %-14s %7s", "", "WRMSSE", "");
    for (int c = 0; c < NC; c++)
        printf(" %10.4f", sc[c].wrmsse);
    printf("\n      %-3s %-14s %7s", "", "MAE (28 days)", "");
    for (int c = 0; c < NC; c++)
        printf(" %10.4f", mae28(r, &r->f[cols[c]]));
    printf("\n");
    if (sc[0].zero_scale)
        printf("      (%zu series left out of the scaled levels: no change after their first sale)\n",
               sc[0].zero_scale);
    printf("WRMSSE: best (API) %.4f, knn %.4f, lm %.4f, sNaive %.4f, naive %.4f\n", sc[0].wrmsse,
           sc[1].wrmsse, sc[2].wrmsse, sc[3].wrmsse, sc[4].wrmsse);
    stage_end(r);
    return RV_OK;
}

static void print_timings(const demo_run *r)
{
    double total = 0;
    printf("timings:");
    for (int i = 0; i < NSTAGES - 1; i++) {
        printf(" %s %.2f s%s", STAGE_NAMES[i], r->stage_secs[i], i + 2 < NSTAGES ? "," : "");
        total += r->stage_secs[i];
    }
    printf("; total %.2f s\n", total);
}

static rv_status stage_serve(demo_run *r, int *exit_code, rv_error *err)
{
    stage_begin(r, 7, "serve: the forecasts, and the server");
    rv_status st = rv_m5_forecast_write(&r->f[F_API], &r->p, r->o.out, err);
    if (st != RV_OK)
        return rv_error_prefix(err, "writing the forecasts to %s", r->o.out);
    char real[4096];
    printf("      forecasts (id,date,prediction): %s\n", realpath(r->o.out, real) ? real : r->o.out);
    print_timings(r);
    if (r->o.exit_after) {
        *exit_code = demo_server_stop(&r->srv, SIGTERM);
        printf("server stopped (--exit)\n");
        return RV_OK;
    }
    printf("dashboard: http://127.0.0.1:%d/  (the API under /api/...; Ctrl-C stops)\n", r->srv.port);
    fflush(stdout);
    *exit_code = demo_server_wait(&r->srv);
    printf("server stopped\n");
    return RV_OK;
}

/* ===== Entry ===== */

int rv_m5_demo_main(int argc, char **argv)
{
    demo_run *r = calloc(1, sizeof *r);
    if (!r)
        return 1;
    int rc = parse_opts(argc, argv, &r->o);
    if (rc != 0) {
        free(r);
        return rc < 0 ? 2 : 0;
    }
    r->srv.pid = -1;
    r->stage = -1;
    printf("rivulet m5 demo: warm up, select, deploy, forecast 28 days, learn them, score\n");
    rv_error err = {0};
    int exit_code = 0;
    /* A busy port is better said now than after the warm-up. */
    demo_catch_signals();
    rv_status (*const stages[])(demo_run *, rv_error *) = {stage_data, stage_warm, stage_select,
                                                            stage_deploy, stage_forecast,
                                                            stage_learn, stage_score};
    rv_status st = demo_port_check((int)r->o.port, &err);
    for (size_t i = 0; i < sizeof stages / sizeof stages[0] && st == RV_OK; i++)
        if ((st = stages[i](r, &err)) == RV_OK && demo_stopped())
            st = rv_error_set(&err, RV_ESTATE, "interrupted");
    if (st == RV_OK)
        st = stage_serve(r, &exit_code, &err);
    if (st != RV_OK) {
        fflush(stdout);
        if (demo_stopped())
            fprintf(stderr, "\nrivulet m5 demo: interrupted during %s; stopping\n",
                    r->stage >= 0 ? STAGE_NAMES[r->stage] : "startup");
        else
            fprintf(stderr, "rivulet m5 demo: %s%s%s\n", r->stage >= 0 ? STAGE_NAMES[r->stage] : "",
                    r->stage >= 0 ? ": " : "", err.message);
        exit_code = demo_stopped() ? 130 : 1;
    }
    if (r->srv.pid > 0 || r->srv.dir[0])
        demo_server_stop(&r->srv, SIGTERM);
    demo_warm_free(&r->w);
    for (int i = 0; i < NF; i++)
        rv_m5_forecast_free(&r->f[i]);
    if (r->p.ids)
        rv_m5_panel_free(&r->p);
    free(r);
    return exit_code;
}
