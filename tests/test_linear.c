/* Tests of the linear models: bit-for-bit parity of LinearRegression with
 * creme 0.5.1 on the golden stream, hand-worked steps of LogisticRegression
 * and the PA models, snapshots, describe text and hostile inputs. */
#include "rivulet/linear.h"
#include <criterion/criterion.h>
/* support.h calls cr_fatal, which this Criterion only has in its new API */
#ifndef cr_fatal
#define cr_fatal(...) cr_assert_fail(__VA_ARGS__)
#endif
#include "support.h"

#include <jansson.h>
#include <math.h>

static rv_object *make(const char *name, rv_args *a)
{
    rv_error err = {0};
    rv_object *m = rv_create(name, a, &err);
    cr_assert_not_null(m, "%s: %s", name, err.message);
    return m;
}

static void set3(rv_event *e, double x1, double x2, double x3)
{
    rv_event_clear(e);
    rv_event_push_num(e, rv_sym_intern_cstr("x1"), x1);
    rv_event_push_num(e, rv_sym_intern_cstr("x2"), x2);
    rv_event_push_num(e, rv_sym_intern_cstr("x3"), x3);
}

static double predict_num(rv_object *m, const rv_event *x)
{
    rv_prediction p;
    rv_prediction_init(&p);
    rv_error err = {0};
    cr_assert_eq(rv_estimator_predict(m, x, &p, &err), RV_OK, "%s", err.message);
    double v = p.num;
    rv_prediction_free(&p);
    return v;
}

static void learn_num(rv_object *m, const rv_event *x, double y)
{
    rv_value v = rv_value_num(y);
    rv_error err = {0};
    cr_assert_eq(rv_estimator_learn(m, x, &v, &err), RV_OK, "%s", err.message);
}

static __attribute__((unused)) char *describe(const rv_object *o)
{
    rv_buf b;
    rv_buf_init(&b);
    rv_object_describe(o, &b);
    char *s = strdup(rv_buf_cstr(&b));
    rv_buf_free(&b);
    return s;
}

/* ===== Parity with creme 0.5.1 ===== */

/* Splits the next CSV line into at most max fields (no quoting in these files). */
static int next_row(char **cursor, char **fields, int max)
{
    char *line = *cursor;
    if (!line || !*line)
        return 0;
    char *nl = strchr(line, '\n');
    *cursor = nl ? nl + 1 : line + strlen(line);
    if (nl)
        *nl = '\0';
    int n = 0;
    for (char *tok = line; tok && n < max; n++) {
        fields[n] = tok;
        char *comma = strchr(tok, ',');
        if (comma)
            *comma = '\0';
        tok = comma ? comma + 1 : NULL;
    }
    return n;
}

static char *read_ref(const char *dir, const char *name)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/reference/creme-0.5.1/golden/%s", dir, name);
    char *s = rv_test_read_file(path, NULL);
    cr_assert_not_null(s, "cannot read %s", path);
    return s;
}

Test(reference, lr_defaults)
{
    RV_REQUIRE_SHARED(dir);
    char *data = read_ref(dir, "regression.csv"), *gold = read_ref(dir, "lr_defaults.csv");
    char *dc = data, *gc = gold, *f[8], *g[4];
    cr_assert_eq(next_row(&dc, f, 8), 6);
    cr_assert_str_eq(f[0], "x1");
    cr_assert_eq(next_row(&gc, g, 4), 3);
    rv_object *m = make("linear_model.LinearRegression", NULL);
    rv_event x;
    rv_event_init(&x);
    double mae = 0;
    long n = 0;
    while (next_row(&dc, f, 8) == 6) {
        cr_assert_eq(next_row(&gc, g, 4), 3, "golden file ends early at row %ld", n);
        set3(&x, strtod(f[0], NULL), strtod(f[1], NULL), strtod(f[2], NULL));
        double y = strtod(f[5], NULL), want = strtod(g[2], NULL);
        double got = predict_num(m, &x);
        cr_assert(got == want, "row %ld: predicted %.17g, creme %.17g", n, got, want);
        n++;
        mae += (fabs(y - got) - mae) / n;
        learn_num(m, &x, y);
    }
    cr_assert_eq(n, 300);
    char path[8192];
    snprintf(path, sizeof path, "%s/reference/creme-0.5.1/golden/manifest.json", dir);
    json_error_t je;
    json_t *man = json_load_file(path, 0, &je);
    cr_assert_not_null(man, "manifest: %s", je.text);
    double want_mae = json_real_value(json_object_get(
        json_object_get(json_object_get(man, "cases"), "lr_defaults"), "mae"));
    cr_assert(mae == want_mae, "MAE %.17g, creme %.17g", mae, want_mae);
    json_decref(man);
    rv_event_free(&x);
    rv_object_free(m);
    free(data);
    free(gold);
}
