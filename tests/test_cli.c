/* Tests of the `rivulet` command: the built binary ($RIVULET_BIN, set by the
 * Makefile's test targets) run on small files in a temporary directory. */
#include "support.h"

#include <math.h>
#include <sys/wait.h>

static char dir[64];
static char bin[1024];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/rv-cli-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    const char *b = getenv("RIVULET_BIN");
    snprintf(bin, sizeof bin, "%s", b && *b ? b : "build/opt/rivulet");
    if (access(bin, X_OK) != 0)
        cr_skip_test("the rivulet binary (%s) is missing; run through make test", bin);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

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
static int run(const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s >out.txt 2>err.txt </dev/null", dir, bin, args);
    int st = system(cmd);
    cr_assert(WIFEXITED(st), "rivulet did not exit normally: %s", args);
    return WEXITSTATUS(st);
}

/* The contents of a file in dir (static buffer reused per name slot). */
static char *slurp(const char *name)
{
    static char *bufs[4];
    static int next;
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int i = next++ % 4;
    free(bufs[i]);
    bufs[i] = rv_test_read_file(path, NULL);
    cr_assert_not_null(bufs[i], "cannot read %s", name);
    return bufs[i];
}

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

