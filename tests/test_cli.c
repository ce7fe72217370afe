/* Tests of the `rivulet` command: the built binary ($RIVULET_BIN, set by the
 * Makefile's test targets) run on small files in a temporary directory. */
#include "support.h"

#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <sys/wait.h>

static char dir[64];
static char bin[1024];

static void setup(void) { rv_test_workdir_setup(dir, sizeof dir, "rv-cli", bin, sizeof bin); }
static void teardown(void) { rv_test_workdir_teardown(dir); }

TestSuite(cli, .init = setup, .fini = teardown);

static void put(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

/* Runs `rivulet ARGS` inside dir, stdout and stderr to files; returns the
 * exit code. */
static int run(const char *args) { return rv_test_run_in(dir, bin, args); }

/* The contents of a file in dir (static buffer reused per name slot). */
static char *slurp(const char *name) { return rv_test_slurp_in(dir, name); }

Test(cli, usage_errors_exit_2_with_a_hint)
{
    cr_assert_eq(run(""), 2);
    cr_assert_eq(run("frobnicate"), 2);
    cr_assert(strstr(slurp("err.txt"), "unknown verb 'frobnicate'"));
    cr_assert_eq(run("eval onlyone"), 2);
    cr_assert(strstr(slurp("err.txt"), "expected MODEL DATA"));
    cr_assert(strstr(slurp("err.txt"), "Try 'rivulet eval --help'."));
    cr_assert_eq(run("eval m.py d.csv"), 2);
    cr_assert(strstr(slurp("err.txt"), "--target COL is required"));
    cr_assert_eq(run("eval m.py d.csv --target y --bogus"), 2);
    cr_assert(strstr(slurp("err.txt"), "unknown option '--bogus'"));
    cr_assert_eq(run("eval m.py d.csv --target"), 2);
    cr_assert(strstr(slurp("err.txt"), "option '--target' needs a value"));
    cr_assert_eq(run("eval m.py d.csv --target y --delay -3"), 2);
    cr_assert_eq(run("eval m.py d.csv --target y --type y=double"), 2);
    cr_assert_eq(run("eval m.py d.csv --target y --parse-date d=%j"), 2);
    cr_assert_eq(run("predict s.rvs d.csv --key id"), 2);
    cr_assert(strstr(slurp("err.txt"), "'--key' does not apply to predict"));
    cr_assert_eq(run("train m.py d.csv --target y"), 2);
    cr_assert(strstr(slurp("err.txt"), "--out SNAPSHOT is required"));
    cr_assert_eq(run("inspect"), 2);
    cr_assert_eq(run("--version"), 0);
    cr_assert(strncmp(slurp("out.txt"), "rivulet ", 8) == 0);
}

Test(cli, every_verb_has_help_with_an_example)
{
    const char *verbs[] = {"eval", "train", "predict", "inspect"};
    for (size_t i = 0; i < 4; i++) {
        char args[64];
        snprintf(args, sizeof args, "%s --help", verbs[i]);
        cr_assert_eq(run(args), 0, "%s", args);
        char *out = slurp("out.txt");
        cr_assert(strstr(out, "usage: rivulet "), "%s", verbs[i]);
        cr_assert(strstr(out, "example"), "%s has no example", verbs[i]);
        cr_assert_str_empty(slurp("err.txt"));
    }
    cr_assert_eq(run("--help"), 0);
}

Test(cli, missing_files_are_runtime_errors)
{
    put("d.csv", "x,y\n1,2\n");
    cr_assert_eq(run("eval nonexistent.py d.csv --target y"), 1);
    cr_assert(strstr(slurp("err.txt"), "nonexistent.py"));
    cr_assert_eq(run("inspect nonexistent.rvs"), 1);
}


#define MODEL "linear_model.LinearRegression(optimizer=optim.SGD(0.1), intercept_lr=0.1)\n"

/* creme 0.5.1's LinearRegression with SGD(lr) and intercept_lr on one
 * feature x (SPEC.md §7), written out: predictions before each learn, the
 * state after all, and the MAE as stats.Mean of |y - p| (SPEC.md §8). */
typedef struct lr1 {
    double w, b, mae;
    int n, fitted;
} lr1;

static double lr1_predict(const lr1 *m, double x) { return m->fitted ? 0.0 + m->w * x + m->b : 0.0; }

static double lr1_step(lr1 *m, double x, double y, double lr)
{
    double p = lr1_predict(m, x);
    m->n++;
    m->mae += (fabs(y - p) - m->mae) / m->n;
    double g = 2 * (p - y);
    m->b -= lr * g;
    m->w -= lr * (x * g);
    m->fitted = 1;
    return p;
}

static const double xs[] = {1, 2, 1, 3, 0.5}, ys[] = {2, 1, 3, -1.5, 0.25};

static void write_data(void)
{
    put("model.py", MODEL);
    put("data.csv", "x,y\n1,2\n2,1\n1,3\n3,-1.5\n0.5,0.25\n");
}

static double value_after(const char *text, const char *label)
{
    const char *p = strstr(text, label);
    cr_assert_not_null(p, "no '%s' in:\n%s", label, text);
    return strtod(p + strlen(label), NULL);
}

Test(cli, eval_reports_the_hand_computed_mae_and_exact_predictions)
{
    write_data();
    lr1 m = {0};
    double preds[5];
    for (int i = 0; i < 5; i++)
        preds[i] = lr1_step(&m, xs[i], ys[i], 0.1);
    cr_assert_eq(run("eval model.py data.csv --target y --metric MAE --predictions p.csv --quiet"),
                 0, "%s", slurp("err.txt"));
    char *out = slurp("out.txt");
    cr_assert_eq(value_after(out, "rows: "), 5);
    cr_assert_eq(value_after(out, "MAE: "), m.mae, "%s", out);
    /* The predictions read back to the same doubles. */
    char *csv = slurp("p.csv");
    cr_assert(strncmp(csv, "row,y,prediction\n", 17) == 0, "%s", csv);
    char *line = strchr(csv, '\n') + 1;
    for (int i = 0; i < 5; i++) {
        char *end;
        cr_assert_eq(strtol(line, &end, 10), i + 1);
        cr_assert_eq(strtod(end + 1, &end), ys[i]);
        double p = strtod(end + 1, &end);
        cr_assert_eq(memcmp(&p, &preds[i], sizeof p), 0, "row %d: %.17g != %.17g", i + 1, p,
                     preds[i]);
        line = end + 1;
    }
    cr_assert_eq(*line, '\0');
}

Test(cli, bad_data_names_the_line_and_skip_bad_counts)
{
    put("model.py", MODEL);
    put("bad.csv", "x,y\n1,2\n2,abc\n1,3\n");
    cr_assert_eq(run("eval model.py bad.csv --target y"), 1);
    cr_assert(strstr(slurp("err.txt"), "bad.csv:3: column 'y': 'abc' is not a number"), "%s",
              slurp("err.txt"));
    cr_assert_eq(run("eval model.py bad.csv --target y --skip-bad"), 0, "%s", slurp("err.txt"));
    cr_assert_eq(value_after(slurp("out.txt"), "rows: "), 2);
    cr_assert_eq(value_after(slurp("out.txt"), "skipped: "), 1);
}

/* A quote never closed is reported at the line where it opened; --skip-bad
 * skips that row alone, where it used to swallow the rest of the file. */
Test(cli, a_quote_never_closed_is_one_bad_row)
{
    put("model.py", MODEL);
    put("quote.csv", "x,y\n1,2\n2,\"3\n1,3\n2,5\n");
    cr_assert_eq(run("eval model.py quote.csv --target y"), 1);
    cr_assert(strstr(slurp("err.txt"), "quote.csv:3: a quoted field opened here is never closed"),
              "%s", slurp("err.txt"));
    cr_assert_eq(run("eval model.py quote.csv --target y --skip-bad"), 0, "%s", slurp("err.txt"));
    cr_assert_eq(value_after(slurp("out.txt"), "rows: "), 3);
    cr_assert_eq(value_after(slurp("out.txt"), "skipped: "), 1);
}

Test(cli, train_then_predict)
{
    write_data();
    put("new.csv", "x\n1\n2\n\n-4\n");
    lr1 m = {0};
    for (int i = 0; i < 5; i++)
        lr1_step(&m, xs[i], ys[i], 0.1);
    cr_assert_eq(run("train model.py data.csv --target y --out snap.rvs --quiet"), 0, "%s",
                 slurp("err.txt"));
    cr_assert_eq(value_after(slurp("out.txt"), "MAE: "), m.mae);
    cr_assert_eq(run("predict snap.rvs new.csv --out preds.csv"), 0, "%s", slurp("err.txt"));
    char *csv = slurp("preds.csv");
    const double x2[] = {1, 2, -4};
    char *line = strchr(csv, '\n') + 1;
    for (int i = 0; i < 3; i++) {
        char *end;
        cr_assert_eq(strtol(line, &end, 10), i + 1);
        cr_assert_eq(end[1], ','); /* no target: y is empty */
        double p = strtod(end + 2, &end), want = lr1_predict(&m, x2[i]);
        cr_assert_eq(memcmp(&p, &want, sizeof p), 0, "%.17g != %.17g", p, want);
        line = end + 1;
    }
    /* predict does not learn: the same predictions again. */
    cr_assert_eq(run("predict snap.rvs new.csv"), 0);
    cr_assert_str_eq(slurp("out.txt"), csv);
    cr_assert_eq(run("inspect snap.rvs"), 0, "%s", slurp("err.txt"));
    cr_assert(strstr(slurp("out.txt"), "LinearRegression"), "%s", slurp("out.txt"));
    cr_assert(strstr(slurp("out.txt"), "memory: "));
}

Test(cli, outputs_never_overwrite_an_input)
{
    write_data();
    char *before = strdup(slurp("data.csv"));
    cr_assert_eq(run("eval model.py data.csv --target y --predictions data.csv --quiet"), 2);
    cr_assert(strstr(slurp("err.txt"), "data.csv is also an input"), "%s", slurp("err.txt"));
    cr_assert_str_eq(slurp("data.csv"), before);
    cr_assert_eq(run("train model.py data.csv --target y --out snap.rvs --quiet"), 0, "%s",
                 slurp("err.txt"));
    char *snap = strdup(slurp("snap.rvs"));
    cr_assert_eq(run("predict snap.rvs data.csv --out snap.rvs"), 2);
    cr_assert_str_eq(slurp("snap.rvs"), snap);
    /* train may continue a snapshot in place: it is written whole, after the data */
    cr_assert_eq(run("train snap.rvs data.csv --target y --out snap.rvs --quiet"), 0, "%s",
                 slurp("err.txt"));
    cr_assert_eq(run("inspect snap.rvs"), 0, "%s", slurp("err.txt"));
    free(before);
    free(snap);
}
Test(cli, a_summary_that_cannot_be_written_is_an_error)
{
    write_data();
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' eval model.py data.csv --target y --quiet >/dev/full 2>err.txt",
             dir, bin);
    int st = system(cmd);
    cr_assert(WIFEXITED(st));
    cr_assert_eq(WEXITSTATUS(st), 1, "exit %d", WEXITSTATUS(st));
    cr_assert(strstr(slurp("err.txt"), "writing to stdout failed"), "%s", slurp("err.txt"));
}
Test(cli, key_on_a_family_snapshot_is_refused)
{
    put("keyed.csv", "id,x,y\na,1,2\nb,2,4\na,3,6\n");
    put("lin.py", "linear_model.LinearRegression()\n");
    cr_assert_eq(run("train lin.py keyed.csv --target y --key id --out fam.rvs --quiet"), 0, "%s",
                 slurp("err.txt"));
    cr_assert_eq(run("train fam.rvs keyed.csv --target y --key id --out again.rvs --quiet"), 1);
    cr_assert(strstr(slurp("err.txt"), "keyed family already (by 'id')"), "%s", slurp("err.txt"));
    cr_assert_eq(run("train fam.rvs keyed.csv --target y --out again.rvs --quiet"), 0, "%s",
                 slurp("err.txt"));
}
Test(cli, a_target_no_row_has_is_an_error)
{
    put("rows.ndjson", "{\"x\": 1, \"y\": 2}\n{\"x\": 2, \"y\": 4}\n");
    put("lin.py", "linear_model.LinearRegression()\n");
    cr_assert_eq(run("train lin.py rows.ndjson --target Y --out m.rvs --quiet"), 1);
    cr_assert(strstr(slurp("err.txt"), "no row has a value for the target 'Y'"), "%s", slurp("err.txt"));
    cr_assert_eq(run("eval lin.py rows.ndjson --target y --quiet"), 0, "%s", slurp("err.txt"));
}
Test(cli, a_metric_must_fit_the_model)
{
    write_data(); /* model.py is a regressor */
    cr_assert_eq(run("eval model.py data.csv --target y --metric Accuracy --quiet"), 2);
    cr_assert(strstr(slurp("err.txt"), "--metric Accuracy scores classifiers"), "%s", slurp("err.txt"));
    cr_assert_eq(run("eval model.py data.csv --target y --metric RMSE --quiet"), 0, "%s", slurp("err.txt"));
}
Test(cli, train_checks_where_it_will_save_before_it_learns)
{
    write_data();
    cr_assert_eq(run("train model.py missing.csv --target y --out nodir/m.rvs --quiet"), 1);
    cr_assert(strstr(slurp("err.txt"), "nodir/m.rvs: no directory nodir"), "%s", slurp("err.txt"));
    cr_assert_eq(run("train model.py data.csv --target y --out . --quiet"), 1);
    cr_assert(strstr(slurp("err.txt"), "is a directory"), "%s", slurp("err.txt"));
}
Test(cli, a_failed_run_leaves_the_old_predictions)
{
    write_data();
    put("bad.csv", "x,y\n1,2\n2,oops\n");
    put("preds.csv", "old\n");
    cr_assert_eq(run("eval model.py bad.csv --target y --predictions preds.csv --quiet"), 1);
    cr_assert_str_eq(slurp("preds.csv"), "old\n");
    DIR *dh = opendir(dir); /* and no temporary file is left behind */
    struct dirent *de;
    while ((de = readdir(dh)))
        cr_assert_null(strstr(de->d_name, ".tmp."), "%s left behind", de->d_name);
    closedir(dh);
    cr_assert_eq(run("eval model.py data.csv --target y --predictions preds.csv --quiet"), 0, "%s",
                 slurp("err.txt"));
    cr_assert_eq(strncmp(slurp("preds.csv"), "row,y,prediction\n", 17), 0, "%s", slurp("preds.csv"));
}
Test(cli, m5_subcommands_answer_help_and_refuse_zero_sizes)
{
    cr_assert_eq(run("m5 generate --help"), 0);
    cr_assert(strstr(slurp("out.txt"), "usage: rivulet m5 generate"), "%s", slurp("out.txt"));
    cr_assert_eq(run("m5 score --help"), 0);
    cr_assert(strstr(slurp("out.txt"), "usage: rivulet m5 score"), "%s", slurp("out.txt"));
    cr_assert_eq(run("m5 generate --out gen --series 0"), 2); /* 0 had meant all 30,490 */
    cr_assert(strstr(slurp("err.txt"), "--series wants a positive integer"), "%s", slurp("err.txt"));
}

/* ===== --parse-date ===== */

/* The dates are days 1, 2, 1, 3 and 0.5 after 1970-01-01, so the model sees
 * the same x as in the hand-computed run above. */
Test(cli, parse_date_turns_dates_into_days)
{
    put("model.py", MODEL);
    put("dates.csv", "d,y\n1970-01-02 00:00,2\n1970-01-03 00:00,1\n1970-01-02 00:00,3\n"
                     "1970-01-04 00:00,-1.5\n1970-01-01 12:00,0.25\n");
    lr1 m = {0};
    double preds[5];
    for (int i = 0; i < 5; i++)
        preds[i] = lr1_step(&m, xs[i], ys[i], 0.1);
    cr_assert_eq(run("eval model.py dates.csv --target y --parse-date 'd=%Y-%m-%d %H:%M' "
                     "--predictions p.csv"),
                 0, "%s", slurp("err.txt"));
    cr_assert_eq(value_after(slurp("out.txt"), "MAE: "), m.mae, "%s", slurp("out.txt"));
    char *line = strchr(slurp("p.csv"), '\n') + 1;
    for (int i = 0; i < 5; i++) {
        char *end;
        strtol(line, &end, 10);
        strtod(end + 1, &end);
        double p = strtod(end + 1, &end);
        cr_assert_eq(memcmp(&p, &preds[i], sizeof p), 0, "row %d: %.17g != %.17g", i + 1, p,
                     preds[i]);
        line = end + 1;
    }
    /* A value that is not a date in the format names the file, line and column. */
    put("baddate.csv", "d,y\n1970-01-02 00:00,2\n1970-13-02 00:00,1\n");
    cr_assert_eq(run("eval model.py baddate.csv --target y --parse-date 'd=%Y-%m-%d %H:%M'"), 1);
    cr_assert(strstr(slurp("err.txt"), "baddate.csv:3: column 'd': '1970-13-02 00:00' is not a "
                                       "date in format '%Y-%m-%d %H:%M'"),
              "%s", slurp("err.txt"));
    cr_assert_eq(run("eval model.py baddate.csv --target y --parse-date 'd=%Y-%m-%d %H:%M' "
                     "--skip-bad"),
                 0, "%s", slurp("err.txt"));
    cr_assert_eq(value_after(slurp("out.txt"), "skipped: "), 1);
}

/* ===== Model errors: file:line:column ===== */

Test(cli, model_errors_name_file_line_and_column)
{
    put("d.csv", "x,y\n1,2\n");
    put("typo.py", "# a comment\nscaler = preprocessing.StandardScalr()\n"
                   "scaler | linear_model.LinearRegression()\n");
    cr_assert_eq(run("eval typo.py d.csv --target y"), 1);
    cr_assert(strstr(slurp("err.txt"), "rivulet: typo.py:2:10: unknown estimator "
                                       "'preprocessing.StandardScalr', did you mean "
                                       "'StandardScaler'?"),
              "%s", slurp("err.txt"));
    put("kw.py", "linear_model.LinearRegression(\n    intercept_lrr=0.1)\n");
    cr_assert_eq(run("train kw.py d.csv --target y --out s.rvs"), 1);
    cr_assert(strstr(slurp("err.txt"), "kw.py:"), "%s", slurp("err.txt"));
    cr_assert(strstr(slurp("err.txt"), "intercept_lrr"), "%s", slurp("err.txt"));
    cr_assert_eq(access("s.rvs", F_OK), -1);
}

/* ===== Keyed families: the per-key summary ===== */

/* Keys a, b, c, interleaved and of unequal counts; each key's model is the
 * hand-computed lr1 on that key's rows only. */
static const char *const kkeys[] = {"a", "b", "a", "c", "b", "a", "c", "a", "b"};
static const double kxs[] = {1, 2, 0.5, 3, -1, 2, 1, 1.5, 0.25};
static const double kys[] = {2, 1, 3, -1.5, 0.25, 4, 2, -1, 1};
#define KROWS 9

static void write_keyed(void)
{
    put("model.py", MODEL);
    char text[512] = "k,x,y\n";
    for (int i = 0; i < KROWS; i++) {
        char row[64];
        snprintf(row, sizeof row, "%s,%.17g,%.17g\n", kkeys[i], kxs[i], kys[i]);
        strcat(text, row);
    }
    put("keyed.csv", text);
}

static int key_index(const char *k) { return k[0] - 'a'; }

Test(cli, keyed_family_summary_matches_per_key_models)
{
    write_keyed();
    lr1 m[3] = {{0}};
    int count[3] = {0};
    double preds[KROWS], overall = 0;
    for (int i = 0; i < KROWS; i++) {
        int k = key_index(kkeys[i]);
        preds[i] = lr1_step(&m[k], kxs[i], kys[i], 0.1);
        count[k]++;
        overall += (fabs(kys[i] - preds[i]) - overall) / (i + 1);
    }
    cr_assert_eq(run("eval model.py keyed.csv --target y --key k --predictions p.csv --quiet"), 0,
                 "%s", slurp("err.txt"));
    char *out = slurp("out.txt");
    cr_assert_eq(value_after(out, "rows: "), KROWS);
    cr_assert_eq(value_after(out, "MAE: "), overall, "%s", out);
    cr_assert_eq(value_after(out, "keys: "), 3, "%s", out);
    cr_assert_eq(value_after(out, "rows per key: min "), 2, "%s", out); /* c */
    cr_assert_eq(value_after(out, ", mean "), 3, "%s", out);
    cr_assert_eq(value_after(out, ", max "), 4, "%s", out);             /* a */
    double mean = (m[0].mae + m[1].mae + m[2].mae) / 3;
    cr_assert_eq(value_after(out, "MAE per key: mean "), mean, "%s", out);
    /* Worst first: order the three keys by their MAE, descending. */
    int order[3] = {0, 1, 2};
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (m[order[j]].mae > m[order[i]].mae) {
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    const char *p = strstr(out, "worst keys by MAE:");
    cr_assert_not_null(p, "%s", out);
    p += strlen("worst keys by MAE:");
    for (int i = 0; i < 3; i++) {
        char want[8];
        snprintf(want, sizeof want, " %c (", 'a' + order[i]);
        cr_assert(strncmp(p, want, strlen(want)) == 0, "key %d: got '%.20s' in\n%s", i, p, out);
        char *end;
        double v = strtod(p + strlen(want), &end);
        cr_assert_eq(v, m[order[i]].mae, "key %c: %.17g != %.17g", 'a' + order[i], v,
                     m[order[i]].mae);
        p = end + 1 + (i < 2); /* past ")" and "," */
    }
    /* The predictions carry the key, and read back exactly. */
    char *line = slurp("p.csv");
    cr_assert(strncmp(line, "row,y,prediction,key\n", 21) == 0, "%s", line);
    line = strchr(line, '\n') + 1;
    for (int i = 0; i < KROWS; i++) {
        char *end;
        cr_assert_eq(strtol(line, &end, 10), i + 1);
        cr_assert_eq(strtod(end + 1, &end), kys[i]);
        double pr = strtod(end + 1, &end);
        cr_assert_eq(memcmp(&pr, &preds[i], sizeof pr), 0, "row %d", i + 1);
        cr_assert(end[0] == ',' && end[1] == kkeys[i][0] && end[2] == '\n', "row %d", i + 1);
        line = end + 3;
    }
    cr_assert_eq(count[0] + count[1] + count[2], KROWS);
}

/* ===== train --select: the choice per key ===== */

/* River's GreedyRegressor.learn_one for one key, written out: for each
 * candidate in order, predict, update its MAE, learn, and take it as the
 * best if its MAE is now strictly lower than the best's. */
static int greedy_choice(int key, double lrs[2], double mae_out[2])
{
    lr1 c[2] = {{0}};
    int best = 0;
    for (int i = 0; i < KROWS; i++) {
        if (key_index(kkeys[i]) != key)
            continue;
        for (int j = 0; j < 2; j++) {
            lr1_step(&c[j], kxs[i], kys[i], lrs[j]);
            if (c[j].mae < c[best].mae)
                best = j;
        }
    }
    mae_out[0] = c[0].mae;
    mae_out[1] = c[1].mae;
    return best;
}

Test(cli, train_select_keeps_the_best_candidate_per_key)
{
    write_keyed();
    put("fast.py", "linear_model.LinearRegression(optimizer=optim.SGD(0.2), intercept_lr=0.2)\n");
    cr_assert_eq(run("train model.py fast.py keyed.csv --select --target y --key k --out best.rvs "
                     "--quiet"),
                 0, "%s", slurp("err.txt"));
    cr_assert_eq(run("inspect best.rvs --keys"), 0, "%s", slurp("err.txt"));
    char *out = slurp("out.txt");
    cr_assert(strstr(out, "class: compose.Family"), "%s", out);
    cr_assert_eq(value_after(out, "keys: "), 3, "%s", out);
    double lrs[2] = {0.1, 0.2};
    int wins[2] = {0, 0};
    for (int k = 0; k < 3; k++) {
        double mae[2];
        int best = greedy_choice(k, lrs, mae);
        wins[best]++;
        char label[32];
        snprintf(label, sizeof label, "  %c: candidate ", 'a' + k);
        cr_assert_eq(value_after(out, label), best, "key %c:\n%s", 'a' + k, out);
        char *p = strstr(out, label) + strlen(label) + 3; /* past "N (" */
        char *end;
        cr_assert_eq(strtod(p, &end), mae[0], "key %c", 'a' + k);
        cr_assert_eq(strtod(end + 2, NULL), mae[1], "key %c", 'a' + k);
    }
    cr_assert(wins[0] && wins[1], "the data should make both candidates win somewhere");
    char label[40];
    snprintf(label, sizeof label, "candidate 0 is best for ");
    cr_assert_eq(value_after(out, label), wins[0], "%s", out);
}

/* ===== Ctrl-C ===== */

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <time.h>

#include "rivulet/io.h"
#include "rivulet/model.h"

static double clock_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* An endless M5-like stream (id,date,y; 500 series, days from 2011-01-29),
 * 8 KiB at a time with blocking writes; -1 once the reader has gone. */
static int feed(int fd, uint64_t *row)
{
    char chunk[8192];
    size_t n = 0;
    while (n < sizeof chunk - 64) {
        uint64_t r = (*row)++;
        int s = (int)(r % 500), day = (int)(r / 500);
        struct tm tm = {.tm_year = 111, .tm_mon = 0, .tm_mday = 29 + day % 3000, .tm_hour = 12};
        timegm(&tm);
        n += (size_t)snprintf(chunk + n, sizeof chunk - n, "FOODS_%d_%03d_CA_%d,%04d-%02d-%02d,%d\n",
                              1 + s % 3, s / 3, 1 + s % 4, tm.tm_year + 1900, tm.tm_mon + 1,
                              tm.tm_mday, (int)(r * 2654435761u >> 7) % 5);
    }
    for (size_t done = 0; done < n;) {
        ssize_t w = write(fd, chunk + done, n - done);
        if (w < 0 && errno != EINTR)
            return -1;
        done += w > 0 ? (size_t)w : 0;
    }
    return (int)n;
}

static pid_t spawn_train(int *in_fd, const char *model)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        char out[256], err[256];
        snprintf(out, sizeof out, "%s/out.txt", dir);
        snprintf(err, sizeof err, "%s/err.txt", dir);
        dup2(p[0], 0);
        close(p[0]);
        close(p[1]);
        if (chdir(dir) || !freopen(out, "w", stdout) || !freopen(err, "w", stderr))
            _exit(99);
        execl(bin, "rivulet", "train", model, "-", "--target", "y", "--key", "id", "--out",
              "snap.rvs", (char *)NULL);
        _exit(98);
    }
    close(p[0]);
    *in_fd = p[1];
    return pid;
}

/* Waits up to ms for fd to hold bytes, and returns what it holds ("" if none). */
static char *read_within(int fd, int ms, char *buf, size_t cap)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    ssize_t n = poll(&p, 1, ms) == 1 ? read(fd, buf, cap - 1) : 0;
    buf[n > 0 ? n : 0] = 0;
    return buf;
}

/* rivulet eval m.river - ... with pipes for its stdin and stdout. */
static pid_t spawn_eval_on_pipes(const char *const *extra, int *in_fd, int *out_fd)
{
    int in[2], out[2];
    cr_assert_eq(pipe(in), 0);
    cr_assert_eq(pipe(out), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        const char *argv[16] = {"rivulet", "eval", "m.river", "-", "--target", "y",
                                "--predictions", "-", "--quiet"};
        for (int n = 9; extra && *extra && n < 15; extra++)
            argv[n++] = *extra;
        if (chdir(dir))
            _exit(99);
        execv(bin, (char *const *)argv);
        _exit(98);
    }
    close(in[0]);
    close(out[1]);
    *in_fd = in[1];
    *out_fd = out[0];
    return pid;
}

/* Writes each row, expects its answer's start within 5 s, then closes the
 * input and expects a clean exit. */
static void answers_come_as_rows_do(const char *const *extra, const char *header, const char *rows[2],
                                    const char *answers[2])
{
    int in, out;
    pid_t pid = spawn_eval_on_pipes(extra, &in, &out);
    char buf[4096];
    cr_assert_eq(write(in, header, strlen(header)), (ssize_t)strlen(header));
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(write(in, rows[i], strlen(rows[i])), (ssize_t)strlen(rows[i]));
        read_within(out, 5000, buf, sizeof buf);
        cr_assert_eq(strncmp(buf, answers[i], strlen(answers[i])), 0, "row %d: got '%s'", i + 1, buf);
    }
    close(in);
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
    close(out);
}

/* A producer that writes a row now and then (`tail -f`, a process that logs
 * a row a second) gets each row's prediction as it comes, not when 64 KiB of
 * them have gathered or its input ends; a family on two threads as well. */
Test(cli, predictions_for_a_slow_pipe_come_as_its_rows_do, .timeout = 60)
{
    put("m.river", "preprocessing.StandardScaler() | linear_model.LinearRegression()\n");
    signal(SIGPIPE, SIG_IGN);
    answers_come_as_rows_do(NULL, "x,y\n", (const char *[]){"1,2\n", "2,3\n"},
                            (const char *[]){"row,y,prediction\n1,2,0\n", "2,3,"});
    const char *family[] = {"--key", "k", "--threads", "2", NULL};
    answers_come_as_rows_do(family, "k,x,y\n", (const char *[]){"a,1,2\n", "b,2,3\n"},
                            (const char *[]){"row,y,prediction,key\n1,2,0,a\n", "2,3,0,b\n"});
}

Test(cli, ctrl_c_stops_train_with_the_summary_and_a_whole_snapshot, .timeout = 120)
{
    char model[1024];
    cr_assert_not_null(realpath("examples/m5/lm.river", model), "run from the repository root");
    signal(SIGPIPE, SIG_IGN);
    int fd;
    pid_t pid = spawn_train(&fd, model);
    uint64_t row = 0;
    cr_assert_eq(write(fd, "id,date,y\n", 10), 10);
    /* Feed until 4 MB have gone into the pipe, which holds 64 KiB: the
     * command is then inside its data loop with rows learned. */
    size_t fed = 0;
    while (fed < (4u << 20)) {
        int n = feed(fd, &row);
        cr_assert_neq(n, -1, "rivulet closed its input early: %s", slurp("err.txt"));
        fed += (size_t)n;
    }
    cr_assert_eq(kill(pid, SIGINT), 0);
    /* Keep the input flowing (the test's timeout bounds it): rivulet must
     * stop because of Ctrl-C, not because its input ended. The write fails
     * once rivulet has exited. */
    double stop = clock_now();
    while (feed(fd, &row) > 0)
        ;
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert_lt(clock_now() - stop, 30.0, "rivulet took over 30 s to stop after Ctrl-C");
    close(fd);
    cr_assert(WIFEXITED(st), "killed by signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    cr_assert_eq(WEXITSTATUS(st), 130, "%s", slurp("err.txt"));
    char *out = slurp("out.txt");
    double rows = value_after(out, "rows: ");
    cr_assert(rows > 1000 && rows < (double)row, "%s", out);
    cr_assert(strstr(out, "MAE: ") && strstr(out, "keys: 500"), "%s", out);
    cr_assert(strstr(slurp("err.txt"), "interrupted after "), "%s", slurp("err.txt"));
    /* The snapshot, if any, is whole: it loads, and holds every key. */
    char snap[256];
    snprintf(snap, sizeof snap, "%s/snap.rvs", dir);
    if (access(snap, F_OK) == 0) {
        cr_assert_eq(run("inspect snap.rvs"), 0, "%s", slurp("err.txt"));
        cr_assert(strstr(slurp("out.txt"), "keys: 500"), "%s", slurp("out.txt"));
    } else {
        cr_assert_eq(errno, ENOENT);
    }
    /* No temporary file is left behind. */
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        cr_assert_null(strstr(e->d_name, ".tmp"), "left behind: %s", e->d_name);
    closedir(d);
}

/* ===== The write-up's two pipelines: train --select, inspect, predict ===== */

Test(cli, select_between_the_example_pipelines_then_predict_exactly, .timeout = 120)
{
    char knn[1024], lm[1024];
    cr_assert_not_null(realpath("examples/m5/knn.river", knn), "run from the repository root");
    cr_assert_not_null(realpath("examples/m5/lm.river", lm));
    cr_assert_eq(run("m5 generate --out m5 --series 8 --days 40 --format long"), 0, "%s",
                 slurp("err.txt"));
    char args[4096];
    snprintf(args, sizeof args,
             "train '%s' '%s' m5/m5_long.csv.gz --select --target y --key id --out best.rvs --quiet",
             knn, lm);
    cr_assert_eq(run(args), 0, "%s", slurp("err.txt"));
    cr_assert_eq(value_after(slurp("out.txt"), "rows: "), 8 * 40, "%s", slurp("out.txt"));
    cr_assert_eq(run("inspect best.rvs --keys"), 0, "%s", slurp("err.txt"));
    char *out = slurp("out.txt");
    cr_assert(strstr(out, "neighbors.KNeighborsRegressor(n_neighbors=15, window_size=30"), "%s",
              out);
    cr_assert(strstr(out, "linear_model.LinearRegression("), "%s", out);
    cr_assert_eq(value_after(out, "keys: "), 8, "%s", out);
    double wins = value_after(out, "candidate 0 is best for ") +
                  value_after(out, "candidate 1 is best for ");
    cr_assert_eq(wins, 8, "%s", out);
    /* One choice line per key, each naming candidate 0 or 1. */
    const char *p = strstr(out, "choice per key:\n");
    cr_assert_not_null(p, "%s", out);
    int lines = 0;
    for (p = strchr(p, '\n') + 1; *p == ' '; p = strchr(p, '\n') + 1) {
        const char *c = strstr(p, ": candidate ");
        cr_assert(c && (c[12] == '0' || c[12] == '1'), "%s", p);
        lines++;
    }
    cr_assert_eq(lines, 8, "%s", out);

    /* predict: the CSV's numbers are the library's predictions, exactly. */
    cr_assert_eq(run("predict best.rvs m5/m5_long.csv.gz --target y --out preds.csv"), 0, "%s",
                 slurp("err.txt"));
    char path[256];
    rv_error err = {0};
    snprintf(path, sizeof path, "%s/best.rvs", dir);
    rv_object *model = rv_model_load_file(path, &err);
    cr_assert_not_null(model, "%s", err.message);
    rv_stream_opts so;
    rv_stream_opts_init(&so);
    so.target = "y";
    cr_assert_eq(rv_stream_opts_set(&so, "y", RV_COL_FLOAT, NULL, &err), RV_OK);
    snprintf(path, sizeof path, "%s/m5/m5_long.csv.gz", dir);
    rv_stream *s = rv_stream_open(path, &so, &err);
    cr_assert_not_null(s, "%s", err.message);
    rv_event x;
    rv_event_init(&x);
    rv_value y;
    rv_prediction pred;
    rv_prediction_init(&pred);
    int has_y, n = 0;
    char *line = strchr(slurp("preds.csv"), '\n') + 1;
    while (rv_stream_next(s, &x, &y, &has_y, &err) == 1) {
        cr_assert_eq(rv_estimator_predict(model, &x, &pred, &err), RV_OK, "%s", err.message);
        char *end;
        cr_assert_eq(strtol(line, &end, 10), ++n);
        cr_assert_eq(strtod(end + 1, &end), y.num);
        double got = strtod(end + 1, &end);
        cr_assert_eq(memcmp(&got, &pred.num, sizeof got), 0, "row %d: %.17g != %.17g", n, got,
                     pred.num);
        const rv_feature *id = rv_event_get(&x, rv_sym_intern_cstr("id")); /* the family's key, as eval writes it */
        cr_assert(*end == ',' && !strncmp(end + 1, id->str, id->len) && end[1 + id->len] == '\n', "row %d: %.40s", n,
                  end);
        line = strchr(end, '\n') + 1;
    }
    cr_assert_eq(n, 8 * 40);
    cr_assert_eq(*line, '\0');
    rv_stream_close(s);
    rv_stream_opts_free(&so);
    rv_event_free(&x);
    rv_prediction_free(&pred);
    rv_object_free(model);
}

/* ===== --threads: the same bytes whatever the thread count ===== */

Test(cli, threads_give_identical_results, .timeout = 120)
{
    char knn[1024];
    cr_assert_not_null(realpath("examples/m5/knn.river", knn), "run from the repository root");
    cr_assert_eq(run("m5 generate --out m5 --series 20 --days 30 --format long"), 0, "%s",
                 slurp("err.txt"));
    char *want_out = NULL, *want_preds = NULL;
    const char *threads[] = {"1", "2", "3"};
    for (int i = 0; i < 3; i++) {
        char args[2048];
        snprintf(args, sizeof args,
                 "eval '%s' m5/m5_long.csv.gz --target y --key id --delay 7 --metric MAE "
                 "--metric RMSE --threads %s --predictions p.csv",
                 knn, threads[i]);
        cr_assert_eq(run(args), 0, "%s", slurp("err.txt"));
        char *out = slurp("out.txt"), *preds = slurp("p.csv");
        cr_assert_eq(value_after(out, "rows: "), 600, "%s", out);
        cr_assert_eq(value_after(out, "keys: "), 20, "%s", out);
        if (!want_out) {
            want_out = strdup(out);
            want_preds = strdup(preds);
        } else {
            cr_assert_str_eq(out, want_out, "--threads %s", threads[i]);
            cr_assert_str_eq(preds, want_preds, "--threads %s", threads[i]);
        }
    }
    /* train: the same snapshot, byte for byte (members in row order). */
    size_t len[2];
    char *snap[2];
    for (int i = 0; i < 2; i++) {
        char args[2048], path[256];
        snprintf(args, sizeof args,
                 "train '%s' m5/m5_long.csv.gz --target y --key id --threads %d --out s%d.rvs",
                 knn, i + 1, i);
        cr_assert_eq(run(args), 0, "%s", slurp("err.txt"));
        snprintf(path, sizeof path, "%s/s%d.rvs", dir, i);
        snap[i] = rv_test_read_file(path, &len[i]);
        cr_assert_not_null(snap[i]);
    }
    cr_assert(len[0] == len[1] && memcmp(snap[0], snap[1], len[0]) == 0,
              "snapshots differ between --threads 1 and 2");
    free(snap[0]);
    free(snap[1]);
    cr_assert_eq(run("eval m5/m5_long.csv.gz m5/m5_long.csv.gz --target y --threads 0"), 2);
    cr_assert(strstr(slurp("err.txt"), "--threads: expected a count from 1 to 64"), "%s",
              slurp("err.txt"));
    free(want_out);
    free(want_preds);
}

/* An untrained classifier answers {} (no class known yet). creme and River
 * leave such an answer out of the metrics ("if y_pred != {} and y_pred is not
 * None"); the CLI had stopped on it at the first row, so no classifier that
 * starts empty (KNNClassifier) could be evaluated at all. */
Test(cli, a_classifier_s_empty_first_answer_is_left_out_of_the_metrics)
{
    put("knn.river", "neighbors.KNNClassifier()\n");
    /* Rows 2 and 3 are predicted from earlier rows that are all 'a': both
     * right, so Accuracy is 2/2 (it would be 2/3 with row 1 counted wrong). */
    put("c.csv", "x,y\n1,a\n1,a\n1,a\n");
    cr_assert_eq(run("eval knn.river c.csv --target y"), 0, "%s", slurp("err.txt"));
    cr_assert(strstr(slurp("out.txt"), "rows: 3\nAccuracy: 1\n"), "%s", slurp("out.txt"));
    /* Per key, on one thread and on two: each key's first row is left out of
     * its metric but counted among its rows; key w (one row) has no score. */
    put("k.csv", "k,x,y\nu,1,a\nv,1,b\nu,1,a\nv,1,b\nw,1,a\n");
    const char *threads[] = {"1", "2"};
    for (int i = 0; i < 2; i++) {
        char args[128];
        snprintf(args, sizeof args, "eval knn.river k.csv --target y --key k --threads %s", threads[i]);
        cr_assert_eq(run(args), 0, "%s", slurp("err.txt"));
        const char *out = slurp("out.txt");
        cr_assert(strstr(out, "rows: 5\nAccuracy: 1\nkeys: 3\n"), "%s", out);
        cr_assert(strstr(out, "rows per key: min 1, mean 1.6666666666666667, max 2\n"), "%s", out);
        cr_assert(strstr(out, "Accuracy per key: mean 1\n"), "%s", out);
        cr_assert(strstr(out, "worst keys by Accuracy: ") && strstr(out, " u (1)") && strstr(out, " v (1)")
                      && !strstr(out, " w ("), "%s", out); /* ties in either order */
    }
}

/* --metric as a River user writes it: a name, a call, or a wrapper such as
 * Rolling, named in full in the summary; an unknown name is answered with
 * the closest one and the list. */
Test(cli, metrics_are_named_or_written_as_in_river)
{
    put("m.river", "linear_model.LinearRegression()\n");
    /* The untrained model predicts 0, then learns: rows 2-4 give errors
     * that differ, so MAE over all 4 rows and over the last 2 differ. */
    put("n.csv", "x,y\n1,2\n2,3\n3,5\n4,4\n");
    cr_assert_eq(run("eval m.river n.csv --target y --metric MAE --metric 'metrics.MAE()'"
                     " --metric 'metrics.Rolling(metrics.MAE(), 2)' --metric 'Rolling(MAE(), 4)'"),
                 0, "%s", slurp("err.txt"));
    const char *out = slurp("out.txt");
    double mae = value_after(out, "\nMAE: "), rolling2 = value_after(out, "window_size=2): "),
           rolling4 = value_after(out, "window_size=4): ");
    cr_assert(strstr(out, "rows: 4\nMAE: "), "%s", out);
    cr_assert_eq(value_after(strstr(out, "\nMAE: ") + 1, "\nMAE: "), mae, "%s", out); /* MAE twice, alike */
    cr_assert_eq(rolling4, mae, "a window over every row is the MAE: %s", out);
    cr_assert_neq(rolling2, mae, "%s", out);
    cr_assert(strstr(out, "metrics.Rolling(metrics.MAE(), window_size=2): "), "%s", out);

    cr_assert_eq(run("eval m.river n.csv --target y --metric mae"), 2);
    const char *err = slurp("err.txt");
    cr_assert(strstr(err, "unknown metric 'mae', did you mean 'MAE'?"), "%s", err);
    cr_assert(strstr(err, "SMAPE") && strstr(err, "Accuracy") && strstr(err, "Rolling"), "%s", err);
    cr_assert_eq(run("eval m.river n.csv --target y --metric 'preprocessing.StandardScaler()'"), 2);
    cr_assert(strstr(slurp("err.txt"), "not a metric"), "%s", slurp("err.txt"));
    cr_assert_eq(run("eval m.river n.csv --target y --metric 'Rolling(MAE, 2)'"), 2);
    cr_assert(strstr(slurp("err.txt"), "'MAE' must be called, as in MAE()"), "%s", slurp("err.txt"));

    /* a target the header lacks: the message lists what it has */
    cr_assert_eq(run("eval m.river n.csv --target sales"), 1);
    cr_assert(strstr(slurp("err.txt"), "no target column 'sales' in the header (columns: x, y)"), "%s",
              slurp("err.txt"));
}

/* rivulet list: what a definition can use, read from the registry: all of
 * it, one module, or one class and whether it needs arguments. */
Test(cli, list_shows_the_registry)
{
    cr_assert_eq(run("list"), 0, "%s", slurp("err.txt"));
    char *all = strdup(slurp("out.txt"));
    const char *expect[] = {"\nlinear_model\n  LinearRegression ", "\nmetrics\n  Accuracy ", "  MAE ",
                            "\npreprocessing\n", "  StandardScaler ", "  KNNClassifier ", "  dateparts "};
    for (size_t i = 0; i < sizeof expect / sizeof *expect; i++)
        cr_assert(strstr(all, expect[i]), "missing '%s' in:\n%s", expect[i], all);
    free(all);
    cr_assert_eq(run("list LinearRegression"), 0);
    const char *one = slurp("out.txt");
    cr_assert(strstr(one, "linear_model.LinearRegression: ") && strstr(one, "InverseScaling"), "%s", one);
    cr_assert(strstr(one, "with no arguments: linear_model.LinearRegression()\n"), "%s", one);
    cr_assert_eq(run("list metrics.Rolling"), 0);
    cr_assert(strstr(slurp("out.txt"), "needs arguments: "), "%s", slurp("out.txt"));
    cr_assert_eq(run("list preprocessing"), 0);
    cr_assert(strstr(slurp("out.txt"), "MinMaxScaler") && !strstr(slurp("out.txt"), "LinearRegression"));
    cr_assert_eq(run("list StandardScalr"), 2);
    cr_assert(strstr(slurp("err.txt"), "did you mean 'StandardScaler'?"), "%s", slurp("err.txt"));
}

/* A binary classifier's target is a truth value. The library reads any
 * other number as true, as creme did, so a regression target once scored
 * Accuracy 1 with exit 0. */
Test(cli, a_binary_classifier_refuses_a_target_that_is_not_a_truth_value)
{
    put("lr.river", "linear_model.LogisticRegression()\n");
    put("ok.csv", "x,y\n1,1\n2,0\n3,true\n4,False\n");
    cr_assert_eq(run("eval lr.river ok.csv --target y"), 0, "%s", slurp("err.txt"));
    cr_assert(strstr(slurp("out.txt"), "rows: 4\nAccuracy: "), "%s", slurp("out.txt"));
    put("reg.csv", "x,y\n1,1\n2,3.5\n");
    cr_assert_eq(run("eval lr.river reg.csv --target y"), 1);
    cr_assert(strstr(slurp("err.txt"), "reg.csv:3: the target of a binary classifier is 0 or 1, true or false; "
                                       "got 3.5 (a regression target? use a regressor)"),
              "%s", slurp("err.txt"));
    put("labels.csv", "x,y\n1,cat\n");
    cr_assert_eq(run("eval lr.river labels.csv --target y --key x --threads 2"), 1);
    cr_assert(strstr(slurp("err.txt"), "got cat (one of several classes? use a multiclass classifier"), "%s",
              slurp("err.txt"));
}

/* A key is text, as River's iter_csv reads it: the stores 01 and 1 are two
 * keys (read as numbers they had been one model). NDJSON's number 1 and
 * string "1" name one key, as the server's families do. */
Test(cli, keys_are_read_as_text)
{
    put("m.river", "linear_model.LinearRegression()\n");
    put("k.csv", "store,x,y\n01,1,2\n1,2,3\n01,3,5\n1,4,4\n");
    cr_assert_eq(run("eval m.river k.csv --target y --key store"), 0, "%s", slurp("err.txt"));
    const char *out = slurp("out.txt");
    cr_assert(strstr(out, "keys: 2\n") && strstr(out, " 01 (") && strstr(out, " 1 ("), "%s", out);
    put("k.ndjson", "{\"store\": 1, \"x\": 1, \"y\": 2}\n{\"store\": \"1\", \"x\": 2, \"y\": 3}\n");
    cr_assert_eq(run("eval m.river k.ndjson --target y --key store"), 0, "%s", slurp("err.txt"));
    cr_assert(strstr(slurp("out.txt"), "keys: 1\n"), "%s", slurp("out.txt"));
    /* a key column the header lacks is named, with the columns there are */
    cr_assert_eq(run("eval m.river k.csv --target y --key shop"), 1);
    cr_assert(strstr(slurp("err.txt"), "no column 'shop' in the header (columns: store, x, y)"), "%s",
              slurp("err.txt"));
}

/* serve's help says what each flag does and its default; the connection
 * cap's older name, --threads (threads elsewhere in the CLI), still works
 * but says what it is. */
Test(cli, serve_help_explains_every_flag)
{
    cr_assert_eq(run("serve --help"), 0);
    char *out = slurp("out.txt");
    const char *flags[] = {"--host", "--port", "--db", "--max-connections", "--workers", "--token",
                           "--max-body", "--timeout", "--keep-ttl", "--max-kept", "--checkpoint-every",
                           "--max-streams", "--max-family-keys", "--max-feature-names", "--port-file"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        cr_assert(strstr(out, flags[i]), "%s missing from:\n%s", flags[i], out);
    cr_assert(strstr(out, "(256)"), "no default for the connection cap:\n%s", out);
    cr_assert(strstr(out, "example: rivulet serve"), "%s", out);
    cr_assert_null(strstr(out, "--threads"), "%s", out);
    cr_assert_eq(run("serve --bogus 1"), 2);
    cr_assert(strstr(slurp("err.txt"), "Try 'rivulet serve --help'."));
    cr_assert_eq(run("serve --threads x"), 2);
    char *err = slurp("err.txt");
    cr_assert(strstr(err, "--threads is the older name of --max-connections"), "%s", err);
    cr_assert(strstr(err, "--threads wants a number"), "%s", err);
}
