/* Tests of `rivulet m5 demo`: the built binary ($RIVULET_BIN) run end to end
 * on a tiny synthetic panel and (reference suite) on the real subset.
 *
 * The checks stand apart from the demo's own arithmetic: the forecast CSV is
 * read back and scored against the truth written by `rivulet m5 generate`
 * (the MAE by hand here, the WRMSSE by `rivulet m5 score`), and both must
 * equal what the demo printed from the server (GET /api/metrics) and from
 * its in-memory forecasts. */
#include "server_client.h"
#include "support.h"

#include <limits.h>

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <zlib.h>

static char dir[64];
static char bin[1024];

static void setup(void) { rv_test_workdir_setup(dir, sizeof dir, "rv-demo", bin, sizeof bin); }
static void teardown(void) { rv_test_workdir_teardown(dir); }

TestSuite(demo, .init = setup, .fini = teardown, .timeout = 120);

/* Runs `rivulet ARGS` inside dir (stdout, stderr to out.txt, err.txt). */
static int run(const char *args) { return rv_test_run_in(dir, bin, args); }

static char *slurp(const char *name) { return rv_test_slurp_in(dir, name); }

/* The number after `key` in text (NAN if absent). */
static double number_after(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    return p ? strtod(p + strlen(key), NULL) : NAN;
}

/* ===== The forecast CSV and the truth ===== */

typedef struct row {
    char id[40], date[11];
    double v;
} row;

/* Significant digits of a decimal text (leading and trailing zeros of the
 * mantissa left out). */
static int sig_digits(const char *s)
{
    char m[64];
    size_t n = 0;
    for (; *s && *s != 'e' && *s != 'E' && n < sizeof m - 1; s++)
        if (*s >= '0' && *s <= '9')
            m[n++] = *s;
    m[n] = '\0';
    size_t a = 0;
    while (a < n && m[a] == '0')
        a++;
    while (n > a && m[n - 1] == '0')
        n--;
    return (int)(n - a);
}

/* The text reads back exactly as v and no shorter text would. */
static void check_shortest(const char *text, double v)
{
    int d = sig_digits(text);
    cr_assert(d <= 17, "'%s' has more digits than a double needs", text);
    char shorter[400]; /* %g of a double with up to 16 digits fits */
    snprintf(shorter, sizeof shorter, "%.*g", d > 1 ? d - 1 : 1, v);
    cr_assert(d <= 1 || strtod(shorter, NULL) != v, "'%s' is not the shortest text of %.17g", text, v);
}

/* Reads an id,date,<value> CSV (plain or gzip) with its header; keeps rows
 * whose date is in [from, to]. Values must read back fully and be finite. */
static row *read_rows(const char *path, const char *col3, const char *from, const char *to,
                      size_t *n)
{
    gzFile f = gzopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    char line[512];
    cr_assert_not_null(gzgets(f, line, sizeof line));
    char want[64];
    snprintf(want, sizeof want, "id,date,%s", col3);
    cr_assert(strncmp(line, want, strlen(want)) == 0, "%s: header %s", path, line);
    size_t cap = 1024;
    row *rows = malloc(cap * sizeof *rows);
    *n = 0;
    while (gzgets(f, line, sizeof line)) {
        char *id = strtok(line, ","), *date = strtok(NULL, ","), *v = strtok(NULL, ",\n");
        cr_assert(id && date && v && strlen(id) < 40 && strlen(date) == 10, "%s: bad line", path);
        if (strcmp(date, from) < 0 || strcmp(date, to) > 0)
            continue;
        if (*n == cap)
            rows = realloc(rows, (cap *= 2) * sizeof *rows);
        char *end;
        rows[*n].v = strtod(v, &end);
        cr_assert(*end == '\0' && end != v && isfinite(rows[*n].v), "%s: '%s' is not a number", path, v);
        check_shortest(v, rows[*n].v);
        strcpy(rows[*n].id, id);
        strcpy(rows[*n].date, date);
        (*n)++;
    }
    gzclose(f);
    return rows;
}

static int cmp_row(const void *a, const void *b)
{
    const row *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : strcmp(x->date, y->date);
}

/* Checks the forecast file against the truth: one row per series and day,
 * and returns the mean absolute error. */
static double check_forecasts(const char *forecasts, const char *truth, const char *from,
                              const char *to, size_t series)
{
    size_t nf, nt;
    row *f = read_rows(forecasts, "prediction", from, to, &nf);
    row *t = read_rows(truth, "y", from, to, &nt);
    cr_assert_eq(nf, series * 28, "%zu forecast rows, want %zu", nf, series * 28);
    cr_assert_eq(nt, nf, "%zu truth rows in the horizon", nt);
    qsort(f, nf, sizeof *f, cmp_row);
    qsort(t, nt, sizeof *t, cmp_row);
    double sum = 0;
    for (size_t i = 0; i < nf; i++) {
        cr_assert(strcmp(f[i].id, t[i].id) == 0 && strcmp(f[i].date, t[i].date) == 0,
                  "forecast %s %s has no truth (or is repeated)", f[i].id, f[i].date);
        sum += fabs(t[i].v - f[i].v);
    }
    free(f);
    free(t);
    return sum / (double)nf;
}

static void check_stages(const char *out)
{
    for (int k = 1; k <= 8; k++) {
        char tag[32];
        snprintf(tag, sizeof tag, "[%d/8] ", k);
        cr_assert(strstr(out, tag), "stage %d missing:\n%s", k, out);
    }
    cr_assert(strstr(out, "timings: data "));
    cr_assert(strstr(out, "server stopped (--exit)"));
}

/* The WRMSSE line's five figures, each finite and positive. */
static void check_wrmsse_line(const char *out, double w[5])
{
    const char *p = strstr(out, "\nWRMSSE: best (API) ");
    cr_assert_not_null(p, "no WRMSSE line:\n%s", out);
    cr_assert_eq(sscanf(p, "\nWRMSSE: best (API) %lf, knn %lf, lm %lf, sNaive %lf, naive %lf", &w[0],
                        &w[1], &w[2], &w[3], &w[4]),
                 5);
    for (int i = 0; i < 5; i++)
        cr_assert(isfinite(w[i]) && w[i] > 0, "WRMSSE %d is %g", i, w[i]);
}

/* 20 series x 200 days: d_173..d_200 (2011-07-20 .. 2011-08-16) forecast. */
Test(demo, tiny_synthetic_run_end_to_end)
{
    cr_assert_eq(run("m5 demo --series 20 --days 200 --threads 2 --exit --out f.csv"), 0, "%s",
                 slurp("err.txt"));
    char *out = slurp("out.txt");
    check_stages(out);
    cr_assert(strstr(out, "20 series x 200 days (seed 42)"));
    cr_assert(strstr(out, "held out as the future: d_173..d_200 (2011-07-20 .. 2011-08-16)"));
    cr_assert(strstr(out, "identical to the in-process best-of forecasts: 560 of 560\n"), "%s", out);
    size_t knn = 0, lm = 0;
    const char *sel = strstr(out, "KNN chosen for ");
    cr_assert(sel && sscanf(sel, "KNN chosen for %zu series, linear for %zu", &knn, &lm) == 2);
    cr_assert_eq(knn + lm, 20);
    double w[5];
    check_wrmsse_line(out, w);
    double api_mae = number_after(out, "\"MAE\":");
    cr_assert(isfinite(api_mae));

    /* The same panel from the generator, scored independently. */
    cr_assert_eq(run("m5 generate --series 20 --days 200 --format long --out gen"), 0);
    char f_path[128], t_path[128];
    snprintf(f_path, sizeof f_path, "%s/f.csv", dir);
    snprintf(t_path, sizeof t_path, "%s/gen/m5_long.csv.gz", dir);
    double mae = check_forecasts(f_path, t_path, "2011-07-20", "2011-08-16", 20);
    cr_assert(fabs(mae - api_mae) <= 1e-12 * fabs(mae), "MAE %.17g here, %.17g from the server", mae,
              api_mae);
    cr_assert_eq(run("m5 score --truth gen/m5_long.csv.gz --forecast f.csv"), 0, "%s", slurp("err.txt"));
    char *score = slurp("out.txt");
    double w_file = number_after(score, "\n    WRMSSE");
    cr_assert(fabs(w_file - w[0]) < 5e-5, "the CSV scores %.4f, the demo printed %.4f", w_file, w[0]);
}

Test(demo, the_same_run_whatever_the_threads)
{
    cr_assert_eq(run("m5 demo --series 12 --days 120 --threads 1 --exit --out one.csv"), 0);
    cr_assert_eq(run("m5 demo --series 12 --days 120 --threads 3 --exit --out three.csv"), 0);
    cr_assert_str_eq(slurp("one.csv"), slurp("three.csv"));
}

Test(demo, clear_errors)
{
    cr_assert_eq(run("m5 demo --data no/such/file.csv --exit"), 1);
    cr_assert(strstr(slurp("err.txt"), "--data no/such/file.csv: no such file or directory"));
    cr_assert_eq(run("m5 demo --bogus"), 2);
    cr_assert(strstr(slurp("err.txt"), "unknown argument '--bogus'"));
    cr_assert_eq(run("m5 demo --full --series 5"), 2);
    cr_assert_eq(run("m5 demo --series 3 --days 30 --exit"), 1);
    cr_assert(strstr(slurp("err.txt"), "30 days are too few"));

    /* A busy port is reported before any work. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(fd, 1), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    char args[128];
    snprintf(args, sizeof args, "m5 demo --series 3 --days 60 --exit --port %d", ntohs(a.sin_port));
    cr_assert_eq(run(args), 1);
    close(fd);
    cr_assert(strstr(slurp("err.txt"), "is busy"), "%s", slurp("err.txt"));
    cr_assert_null(strstr(slurp("out.txt"), "[1/8]"));
}

/* Without --exit the demo keeps serving the model; SIGINT stops it cleanly
 * and removes its temporary store. */
Test(demo, serves_until_interrupted)
{
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (chdir(dir) != 0 || !freopen("out.txt", "w", stdout) || !freopen("err.txt", "w", stderr))
            _exit(99);
        execl(bin, "rivulet", "m5", "demo", "--series", "12", "--days", "120", "--out", "f.csv",
              (char *)NULL);
        _exit(98);
    }
    int port = 0;
    char store[256] = "";
    for (double end = now_s() + 60; now_s() < end && !port; usleep(20000)) {
        char path[128];
        snprintf(path, sizeof path, "%s/out.txt", dir);
        char *out = rv_test_read_file(path, NULL);
        const char *d = out ? strstr(out, "dashboard: http://127.0.0.1:") : NULL;
        const char *st = out ? strstr(out, "(store ") : NULL;
        if (d && st && sscanf(st, "(store %255[^)])", store) == 1)
            port = atoi(d + strlen("dashboard: http://127.0.0.1:"));
        free(out);
    }
    cr_assert_gt(port, 0, "the demo did not reach its serving stage");
    cr_assert_eq(access(store, F_OK), 0, "store %s", store);
    http_resp r;
    cr_assert_eq(http_json(port, "GET", "/api/models", NULL, &r), 0);
    cr_assert_eq(r.status, 200);
    cr_assert(strstr(r.body, "\"m5\""), "%s", r.body);
    http_free(&r);
    cr_assert_eq(http_json(port, "GET", "/", NULL, &r), 0);
    cr_assert_eq(r.status, 200, "the dashboard address answers");
    http_free(&r);
    kill(pid, SIGINT);
    int status = -1;
    for (double end = now_s() + 30; now_s() < end; usleep(20000))
        if (waitpid(pid, &status, WNOHANG) == pid)
            break;
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
    cr_assert(strstr(slurp("out.txt"), "server stopped\n"));
    cr_assert_neq(access(store, F_OK), 0, "the temporary store %s is left behind", store);
}

/* The real subset: 280 series, d_1..d_1885; the demo forecasts d_1858..d_1885
 * (2016-02-29 .. 2016-03-27) from the 1857 days before. */
Test(reference, demo_on_the_real_subset, .init = setup, .fini = teardown, .timeout = 180)
{
    RV_REQUIRE_SHARED(shared);
    char args[4400], data[4200];
    char rel[4200];
    snprintf(rel, sizeof rel, "%s/data/m5/tiny_m5_train.csv.gz", shared);
    cr_assert_not_null(realpath(rel, data), "%s", rel); /* the demo runs in dir */
    snprintf(args, sizeof args, "m5 demo --data '%s' --exit --out f.csv", data);
    cr_assert_eq(run(args), 0, "%s", slurp("err.txt"));
    char *out = slurp("out.txt");
    check_stages(out);
    cr_assert(strstr(out, "280 series x 1885 days"), "%s", out);
    cr_assert(strstr(out, "(2016-02-29 .. 2016-03-27)"), "%s", out);
    cr_assert(strstr(out, "identical to the in-process best-of forecasts: 7840 of 7840\n"), "%s", out);
    double w[5];
    check_wrmsse_line(out, w);
    char f_path[128];
    snprintf(f_path, sizeof f_path, "%s/f.csv", dir);
    double mae = check_forecasts(f_path, data, "2016-02-29", "2016-03-27", 280);
    double api_mae = number_after(out, "\"MAE\":");
    cr_assert(fabs(mae - api_mae) <= 1e-12 * fabs(mae), "MAE %.17g here, %.17g from the server", mae,
              api_mae);
}
