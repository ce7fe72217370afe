/* `rivulet m5 ...`: the M5 data set from the command line.
 *
 *   rivulet m5 generate --out DIR [--seed N] [--items N | --series N]
 *                       [--days N] [--format kaggle|long|both]
 *   rivulet m5 score --truth PATH (--forecast FILE | --benchmark naive|snaive)
 *                    [--train PATH] [--train-end N]
 *   rivulet m5 demo [--series N | --full] [--data PATH] [--exit] ...  (demo.c)
 *
 * PATH is a Kaggle directory (or wide sales file) or a long CSV file. With
 * --train, the training file is laid over the truth file (which then needs
 * only the horizon's days); the training end is the training file's last
 * day, else --train-end, else the truth's last day minus 28.
 */
#include "m5/demo.h"
#include "rivulet/m5.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Value of option `name` at argv[*i], advancing *i; NULL if not this option. */
static const char *opt(int argc, char **argv, int *i, const char *name)
{
    if (strcmp(argv[*i], name) != 0)
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "rivulet m5: %s needs a value\n", name);
        exit(2);
    }
    return argv[++*i];
}

static size_t count_arg(const char *s, const char *name)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *end != '\0' || *s == '-') {
        fprintf(stderr, "rivulet m5: %s wants a non-negative integer, got '%s'\n", name, s);
        exit(2);
    }
    return (size_t)v;
}

static int fail(const rv_error *err)
{
    fprintf(stderr, "rivulet m5: %s\n", err->message);
    return 1;
}

static const char GENERATE_USAGE[] =
    "usage: rivulet m5 generate --out DIR [--seed N] [--items N | --series N] [--days N]"
    " [--format kaggle|long|both]\n";
static const char SCORE_USAGE[] =
    "usage: rivulet m5 score --truth PATH (--forecast FILE | --benchmark naive|snaive)"
    " [--train PATH] [--train-end N]\n";

/* A size: 0 would mean the default, which for --series is all 30,490 */
static size_t positive_arg(const char *s, const char *name)
{
    size_t v = count_arg(s, name);
    if (v == 0) {
        fprintf(stderr, "rivulet m5: %s wants a positive integer, got '%s'\n", name, s);
        exit(2);
    }
    return v;
}

static int is_help(const char *a)
{
    return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

static int cmd_generate(int argc, char **argv)
{
    rv_m5_gen_options o = {42, 0, 0, 0};
    const char *out = NULL, *format = "kaggle", *v;
    for (int i = 1; i < argc; i++) {
        if ((v = opt(argc, argv, &i, "--out")))
            out = v;
        else if ((v = opt(argc, argv, &i, "--seed")))
            o.seed = count_arg(v, "--seed");
        else if ((v = opt(argc, argv, &i, "--items")))
            o.n_items = positive_arg(v, "--items");
        else if ((v = opt(argc, argv, &i, "--series")))
            o.n_series = positive_arg(v, "--series");
        else if ((v = opt(argc, argv, &i, "--days")))
            o.n_days = positive_arg(v, "--days");
        else if ((v = opt(argc, argv, &i, "--format")))
            format = v;
        else if (is_help(argv[i])) {
            fputs(GENERATE_USAGE, stdout);
            return 0;
        } else {
            fprintf(stderr, "rivulet m5 generate: unknown argument '%s'\n%s", argv[i], GENERATE_USAGE);
            return 2;
        }
    }
    int kaggle = strcmp(format, "kaggle") == 0 || strcmp(format, "both") == 0;
    int lng = strcmp(format, "long") == 0 || strcmp(format, "both") == 0;
    if (!out || (!kaggle && !lng)) {
        fputs(GENERATE_USAGE, stderr);
        return 2;
    }
    rv_error err = {0};
    rv_m5_panel p;
    double t0 = now();
    if (rv_m5_generate(&o, &p, &err) != RV_OK)
        return fail(&err);
    double t1 = now();
    printf("generated %zu series x %zu days in %.2f s\n", p.n_series, p.n_days, t1 - t0);
    rv_status st = RV_OK;
    if (kaggle && (st = rv_m5_write_kaggle(&p, out, &err)) == RV_OK)
        printf("wrote %s/sales_train_evaluation.csv, calendar.csv, sell_prices.csv\n", out);
    if (st == RV_OK && lng) {
        char path[4096];
        snprintf(path, sizeof path, "%s/m5_long.csv.gz", out);
        if (!kaggle)
            rv_m5_write_kaggle(&p, out, &err), err.code = 0; /* ensures the directory exists */
        if ((st = rv_m5_write_long(&p, path, &err)) == RV_OK)
            printf("wrote %s\n", path);
    }
    rv_m5_panel_free(&p);
    if (st != RV_OK)
        return fail(&err);
    printf("written in %.2f s\n", now() - t1);
    return 0;
}

static void print_score(const rv_m5_score *sc)
{
    printf("%-3s %-14s %8s %10s\n", "", "level", "series", "WRMSSE");
    for (int l = 0; l < RV_M5_LEVELS; l++)
        printf("%-3d %-14s %8zu %10.4f\n", l + 1, rv_m5_level_names[l], sc->level_series[l], sc->level[l]);
    printf("    %-14s %8s %10.4f\n", "WRMSSE", "", sc->wrmsse);
    if (sc->zero_scale)
        printf("(%zu series left out: zero scale)\n", sc->zero_scale);
}

static int cmd_score(int argc, char **argv)
{
    const char *truth = NULL, *forecast = NULL, *train = NULL, *bench = NULL, *v;
    size_t train_end = 0;
    for (int i = 1; i < argc; i++) {
        if ((v = opt(argc, argv, &i, "--truth")))
            truth = v;
        else if ((v = opt(argc, argv, &i, "--forecast")))
            forecast = v;
        else if ((v = opt(argc, argv, &i, "--train")))
            train = v;
        else if ((v = opt(argc, argv, &i, "--benchmark")))
            bench = v;
        else if ((v = opt(argc, argv, &i, "--train-end")))
            train_end = count_arg(v, "--train-end");
        else if (is_help(argv[i])) {
            fputs(SCORE_USAGE, stdout);
            return 0;
        } else {
            fprintf(stderr, "rivulet m5 score: unknown argument '%s'\n%s", argv[i], SCORE_USAGE);
            return 2;
        }
    }
    if (!truth || !!forecast == !!bench ||
        (bench && strcmp(bench, "naive") != 0 && strcmp(bench, "snaive") != 0)) {
        fputs(SCORE_USAGE, stderr);
        return 2;
    }
    rv_error err = {0};
    rv_m5_panel p, t;
    if (rv_m5_read(truth, &p, &err) != RV_OK)
        return fail(&err);
    if (train) {
        rv_status st = rv_m5_read(train, &t, &err);
        if (st == RV_OK) {
            train_end = train_end ? train_end : t.n_days;
            st = rv_m5_panel_overlay(&p, &t, &err);
            rv_m5_panel_free(&t);
        }
        if (st != RV_OK) {
            rv_m5_panel_free(&p);
            return fail(&err);
        }
    }
    rv_m5_forecast f;
    rv_status st;
    if (forecast) {
        st = rv_m5_forecast_read(forecast, &p, train_end, &f, &err);
    } else {
        train_end = train_end ? train_end : (p.n_days > RV_M5_HORIZON ? p.n_days - RV_M5_HORIZON : 0);
        st = rv_m5_forecast_init(&f, &p, train_end, RV_M5_HORIZON, &err);
        if (st == RV_OK && train_end < 7)
            st = rv_error_set(&err, RV_EINVAL, "too few training days");
        if (st == RV_OK)
            (strcmp(bench, "naive") == 0 ? rv_m5_forecast_naive : rv_m5_forecast_snaive)(&p, &f);
    }
    rv_m5_score sc;
    if (st == RV_OK && (st = rv_m5_wrmsse(&p, &f, &sc, &err)) == RV_OK) {
        printf("%zu series, training days 1..%zu, horizon %zu days\n", p.n_series, f.train_end, f.horizon);
        print_score(&sc);
    }
    rv_m5_forecast_free(&f);
    rv_m5_panel_free(&p);
    return st == RV_OK ? 0 : fail(&err);
}

int rv_m5_main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "generate") == 0)
        return cmd_generate(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "score") == 0)
        return cmd_score(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "demo") == 0)
        return rv_m5_demo_main(argc - 1, argv + 1);
    fprintf(stderr, "usage: rivulet m5 generate|score|demo ...\n"
                    "  demo [--series N | --full] [--data PATH] [--exit] ... (demo --help)\n"
                    "  generate --out DIR [--seed N] [--items N | --series N] [--days N] "
                    "[--format kaggle|long|both]\n"
                    "  score --truth PATH (--forecast FILE | --benchmark naive|snaive) "
                    "[--train PATH] [--train-end N]\n");
    return 2;
}
