/* Tests of the metrics layer on small hand-worked examples, with
 * revert(update(x)) = identity, Rolling(m, k) = m over the last k pairs,
 * save -> load -> continue = same values, describe text, and bad inputs
 * that leave a metric unchanged. */
#include "rivulet/metrics.h"
#include "support.h"

#include <math.h>

#define N(a) (sizeof(a) / sizeof(a[0]))

static rv_object *mk(const char *name)
{
    rv_error err = {0};
    rv_object *m = rv_metric_new(name, &err);
    cr_assert_not_null(m, "%s: %s", name, err.message);
    cr_assert(rv_is_metric(m));
    return m;
}

static rv_object *mk_rolling(const char *inner, long k)
{
    rv_error err = {0};
    rv_args a;
    rv_args_init(&a, "metrics.Rolling");
    rv_args_add_obj(&a, NULL, mk(inner));
    rv_args_add_int(&a, "window_size", k);
    rv_object *m = rv_create("metrics.Rolling", &a, &err);
    rv_args_free(&a);
    cr_assert_not_null(m, "%s", err.message);
    return m;
}

static void upd_num(rv_object *m, double y, double p)
{
    rv_value v = rv_value_num(y);
    rv_prediction pr;
    rv_prediction_init(&pr);
    rv_prediction_set_num(&pr, p);
    rv_error err = {0};
    cr_assert_eq(rv_metric_update(m, &v, &pr, &err), RV_OK, "%s", err.message);
}

/* A classifier's prediction: labels with probabilities. */
static void set_proba(rv_prediction *p, const char *const *labels, const double *proba, size_t n)
{
    rv_prediction_clear(p);
    for (size_t i = 0; i < n; i++)
        rv_prediction_set_proba(p, rv_sym_intern_cstr(labels[i]), proba[i]);
}

static void upd_binary(rv_object *m, int y, double p_true)
{
    static const char *const tf[] = {"True", "False"};
    double pr[2] = {p_true, 1 - p_true};
    rv_value v = rv_value_num(y);
    rv_prediction p;
    rv_prediction_init(&p);
    set_proba(&p, tf, pr, 2);
    rv_error err = {0};
    cr_assert_eq(rv_metric_update(m, &v, &p, &err), RV_OK, "%s", err.message);
    rv_prediction_free(&p);
}

static const double ys[] = {3, -0.5, 2, 7, 0, 4.25}, ps[] = {2.5, 0.0, 2, 8, 0, 1};

Test(metrics, regression_on_a_hand_worked_example)
{
    rv_object *mae = mk("MAE"), *mse = mk("metrics.MSE"), *rmse = mk("RMSE"), *r2 = mk("R2"),
              *smape = mk("SMAPE");
    cr_assert_eq(rv_metric_get(mae), 0);
    cr_assert_eq(rv_metric_get(r2), 0);
    for (size_t i = 0; i < 4; i++) {
        upd_num(mae, ys[i], ps[i]);
        upd_num(mse, ys[i], ps[i]);
        upd_num(rmse, ys[i], ps[i]);
        upd_num(r2, ys[i], ps[i]);
        upd_num(smape, ys[i], ps[i]);
    }
    /* errors 0.5, 0.5, 0, 1 */
    cr_assert_eq(rv_metric_get(mae), 0.5);
    cr_assert_eq(rv_metric_get(mse), 0.375);
    cr_assert(fabs(rv_metric_get(rmse) - sqrt(0.375)) < 1e-15);
    /* sklearn's r2_score example: 1 - 1.5 / 29.1875 */
    cr_assert(fabs(rv_metric_get(r2) - (1 - 1.5 / 29.1875)) < 1e-12, "%.17g", rv_metric_get(r2));
    double sm = 100 * (1 / 5.5 + 2 + 0 + 2.0 / 15) / 4;
    cr_assert(fabs(rv_metric_get(smape) - sm) < 1e-12);
    upd_num(smape, 0, 0); /* SMAPE counts 0 when both are 0 */
    cr_assert(fabs(rv_metric_get(smape) - sm * 4 / 5) < 1e-12);
    cr_assert_eq(rv_metric_bigger_is_better(mae), 0);
    cr_assert_eq(rv_metric_bigger_is_better(r2), 1);
    rv_object_free(mae);
    rv_object_free(mse);
    rv_object_free(rmse);
    rv_object_free(r2);
    rv_object_free(smape);
}

Test(metrics, mae_is_creme_running_mean)
{
    /* SPEC.md §8: mean += (|y - p| - mean) / n, bit for bit */
    rv_object *mae = mk("MAE");
    double mean = 0;
    for (int i = 1; i <= 50; i++) {
        double y = sin(i) * 3, p = cos(i * 0.7);
        upd_num(mae, y, p);
        mean += (fabs(y - p) - mean) / i;
        cr_assert_eq(rv_metric_get(mae), mean);
    }
    rv_object_free(mae);
}

Test(metrics, binary_precision_recall_f1_logloss_rocauc)
{
    int y[] = {1, 0, 1, 1, 0, 0};
    double p[] = {0.9, 0.6, 0.4, 0.7, 0.2, 0.5};
    rv_object *pr = mk("Precision"), *re = mk("Recall"), *f1 = mk("F1"), *ll = mk("LogLoss");
    double want_ll = 0;
    for (size_t i = 0; i < N(y); i++) {
        upd_binary(pr, y[i], p[i]);
        upd_binary(re, y[i], p[i]);
        upd_binary(f1, y[i], p[i]);
        upd_binary(ll, y[i], p[i]);
        want_ll += y[i] ? -log(p[i]) : -log(1 - p[i]);
    }
    /* the argmax class, a tie to the class listed first (True here, as
     * upd_binary lists it first): tp = 2, fp = 2 (0.6, 0.5), fn = 1, tn = 1 */
    cr_assert_eq(rv_metric_get(pr), 0.5);
    cr_assert(fabs(rv_metric_get(re) - 2.0 / 3) < 1e-15);
    cr_assert(fabs(rv_metric_get(f1) - 4.0 / 7) < 1e-15);
    cr_assert(fabs(rv_metric_get(ll) - want_ll / 6) < 1e-12);
    /* a bare probability (no labels) is River's {False: 1 - p, True: p}: an
     * even 0.5 is False, as max() over that dict says (tp = 2, fp = 1) */
    rv_object *pr2 = mk("Precision");
    for (size_t i = 0; i < N(y); i++)
        upd_num(pr2, y[i], p[i]);
    cr_assert(fabs(rv_metric_get(pr2) - 2.0 / 3) < 1e-15, "%.17g", rv_metric_get(pr2));
    /* River's ROCAUC docstring example: 0.875 with 10 thresholds */
    rv_object *auc = mk("ROCAUC");
    int ya[] = {0, 0, 1, 1};
    double pa[] = {0.1, 0.4, 0.35, 0.8};
    for (size_t i = 0; i < 4; i++)
        upd_binary(auc, ya[i], pa[i]);
    cr_assert(fabs(rv_metric_get(auc) - 0.875) < 1e-12, "%.17g", rv_metric_get(auc));
    rv_object_free(pr);
    rv_object_free(re);
    rv_object_free(f1);
    rv_object_free(ll);
    rv_object_free(pr2);
    rv_object_free(auc);
}

static const char *const abc[] = {"a", "b", "c"};
static const char *const mc_y[] = {"a", "b", "c", "a", "b"};
static const double mc_p[][3] = {
    {0.7, 0.2, 0.1}, {0.1, 0.3, 0.6}, {0.2, 0.2, 0.6}, {0.5, 0.4, 0.1}, {0.5, 0.25, 0.25}};

static void upd_mc(rv_object *m, size_t i)
{
    rv_value v = rv_value_cstr(mc_y[i]);
    rv_prediction p;
    rv_prediction_init(&p);
    set_proba(&p, abc, mc_p[i], 3);
    rv_error err = {0};
    cr_assert_eq(rv_metric_update(m, &v, &p, &err), RV_OK, "%s", err.message);
    rv_prediction_free(&p);
}

Test(metrics, multiclass_macro_micro_accuracy_crossentropy)
{
    const char *names[] = {"Accuracy", "MacroPrecision", "MacroRecall", "MacroF1",
                           "MicroPrecision", "MicroRecall", "MicroF1", "CrossEntropy"};
    /* argmax: a c c a a against a b c a b. a: row 2 col 3 tp 2; b: row 2 col 0;
     * c: row 1 col 2 tp 1. */
    double want[] = {0.6, (2.0 / 3 + 0.5) / 3, (1 + 0 + 1.0) / 3, (0.8 + 2.0 / 3) / 3, 0.6, 0.6,
                     0.6, -(log(0.7) + log(0.3) + log(0.6) + log(0.5) + log(0.25)) / 5};
    for (size_t k = 0; k < N(names); k++) {
        rv_object *m = mk(names[k]);
        cr_assert_eq(rv_metric_get(m), 0);
        for (size_t i = 0; i < N(mc_y); i++)
            upd_mc(m, i);
        cr_assert(fabs(rv_metric_get(m) - want[k]) < 1e-12, "%s: %.17g want %.17g", names[k],
                  rv_metric_get(m), want[k]);
        rv_object_free(m);
    }
    /* a binary classifier's prediction against 0/1 targets compares truth values */
    rv_object *acc = mk("Accuracy");
    upd_binary(acc, 1, 0.8);
    upd_binary(acc, 0, 0.3);
    upd_binary(acc, 0, 0.6);
    cr_assert(fabs(rv_metric_get(acc) - 2.0 / 3) < 1e-15);
    rv_object_free(acc);
}

Test(metrics, rolling_equals_metric_over_last_k)
{
    rv_object *roll = mk_rolling("MAE", 3);
    for (size_t i = 0; i < N(ys); i++) {
        upd_num(roll, ys[i], ps[i]);
        rv_object *fresh = mk("MAE");
        for (size_t j = i >= 2 ? i - 2 : 0; j <= i; j++)
            upd_num(fresh, ys[j], ps[j]);
        cr_assert(fabs(rv_metric_get(roll) - rv_metric_get(fresh)) < 1e-12, "step %zu", i);
        rv_object_free(fresh);
    }
    /* last 3 errors: 1, 0, 3.25 */
    cr_assert(fabs(rv_metric_get(roll) - 4.25 / 3) < 1e-12);
    rv_object_free(roll);
    rv_object *rf = mk_rolling("MacroF1", 2);
    for (size_t i = 0; i < N(mc_y); i++) {
        upd_mc(rf, i);
        rv_object *fresh = mk("MacroF1");
        for (size_t j = i >= 1 ? i - 1 : 0; j <= i; j++)
            upd_mc(fresh, j);
        cr_assert(fabs(rv_metric_get(rf) - rv_metric_get(fresh)) < 1e-12, "step %zu", i);
        rv_object_free(fresh);
    }
    cr_assert_eq(rv_metric_bigger_is_better(rf), 1);
    cr_assert_eq(rv_metric_works_with(rf), RV_METRIC_CLASSIFICATION);
    rv_object_free(rf);
}

/* ===== Every class ===== */

static const struct {
    const char *name;
    int kind; /* 0 regression, 1 binary, 2 multiclass */
    const char *describe;
} all[] = {
    {"MAE", 0, "metrics.MAE()"},
    {"MSE", 0, "metrics.MSE()"},
    {"RMSE", 0, "metrics.RMSE()"},
    {"R2", 0, "metrics.R2()"},
    {"SMAPE", 0, "metrics.SMAPE()"},
    {"LogLoss", 1, "metrics.LogLoss()"},
    {"Precision", 1, "metrics.Precision()"},
    {"Recall", 1, "metrics.Recall()"},
    {"F1", 1, "metrics.F1()"},
    {"ROCAUC", 1, "metrics.ROCAUC()"},
    {"Accuracy", 2, "metrics.Accuracy()"},
    {"CrossEntropy", 2, "metrics.CrossEntropy()"},
    {"MacroPrecision", 2, "metrics.MacroPrecision()"},
    {"MacroRecall", 2, "metrics.MacroRecall()"},
    {"MacroF1", 2, "metrics.MacroF1()"},
    {"MicroPrecision", 2, "metrics.MicroPrecision()"},
    {"MicroRecall", 2, "metrics.MicroRecall()"},
    {"MicroF1", 2, "metrics.MicroF1()"},
};

static void upd_any(rv_object *m, int kind, int t)
{
    if (kind == 0)
        upd_num(m, sin(t) * 4, cos(t));
    else if (kind == 1)
        upd_binary(m, (t * 7) % 3 == 0, fabs(sin(t * 1.3)));
    else
        upd_mc(m, (size_t)t % N(mc_y));
}

static void assert_same(const rv_object *a, const rv_object *b, const char *what)
{
    double x = rv_metric_get(a), y = rv_metric_get(b);
    cr_assert(memcmp(&x, &y, sizeof x) == 0, "%s %s: %.17g vs %.17g", a->cls->name, what, x, y);
}

Test(metrics, describe_save_load_continue_and_revert)
{
    for (size_t i = 0; i < 2 * N(all); i++) {
        int rolled = i >= N(all);
        size_t c = i % N(all);
        rv_object *m = rolled ? mk_rolling(all[c].name, 4) : mk(all[c].name);
        rv_buf b;
        rv_buf_init(&b);
        cr_assert_eq(rv_object_describe(m, &b), RV_OK);
        if (rolled) {
            char want[128];
            snprintf(want, sizeof want, "metrics.Rolling(%s, window_size=4)", all[c].describe);
            cr_assert_str_eq(rv_buf_cstr(&b), want);
        } else
            cr_assert_str_eq(rv_buf_cstr(&b), all[c].describe);
        rv_buf_free(&b);
        for (int t = 0; t < 11; t++)
            upd_any(m, all[c].kind, t);
        rv_error err = {0};
        rv_object *r = rv_object_roundtrip(m, &err), *cp = rv_object_copy(m, &err);
        cr_assert_not_null(r, "%s: %s", all[c].name, err.message);
        cr_assert_not_null(cp);
        assert_same(m, r, "after load");
        for (int t = 11; t < 30; t++) {
            upd_any(m, all[c].kind, t);
            upd_any(r, all[c].kind, t);
            upd_any(cp, all[c].kind, t);
            assert_same(m, r, "continued after load");
            assert_same(m, cp, "continued after copy");
        }
        if (!rolled) {
            /* revert(update(x)) gives back the value before */
            double before = rv_metric_get(m);
            upd_any(m, all[c].kind, 31);
            rv_value v;
            rv_prediction p;
            rv_prediction_init(&p);
            if (all[c].kind == 0) {
                v = rv_value_num(sin(31) * 4);
                rv_prediction_set_num(&p, cos(31));
            } else if (all[c].kind == 1) {
                static const char *const tf[] = {"True", "False"};
                double pt = fabs(sin(31 * 1.3)), pr[2] = {pt, 1 - pt};
                v = rv_value_num((31 * 7) % 3 == 0);
                set_proba(&p, tf, pr, 2);
            } else {
                v = rv_value_cstr(mc_y[31 % N(mc_y)]);
                set_proba(&p, abc, mc_p[31 % N(mc_y)], 3);
            }
            cr_assert_eq(rv_metric_revert(m, &v, &p, &err), RV_OK, "%s", err.message);
            cr_assert(fabs(rv_metric_get(m) - before) <= 1e-12 * (1 + fabs(before)),
                      "%s: %.17g vs %.17g", all[c].name, rv_metric_get(m), before);
            rv_prediction_free(&p);
        }
        rv_object_free(m);
        rv_object_free(r);
        rv_object_free(cp);
    }
}

Test(metrics, bad_inputs_leave_the_metric_unchanged)
{
    for (size_t i = 0; i < 2 * N(all); i++) {
        size_t c = i % N(all);
        rv_object *m = i >= N(all) ? mk_rolling(all[c].name, 2) : mk(all[c].name);
        for (int t = 0; t < 3; t++)
            upd_any(m, all[c].kind, t);
        rv_buf before, after;
        rv_buf_init(&before);
        rv_buf_init(&after);
        m->cls->save(m, &before);
        rv_value y = all[c].kind == 0 ? rv_value_cstr("abc") : rv_value_cstr("maybe");
        rv_value none = {0};
        rv_prediction p;
        rv_prediction_init(&p);
        rv_prediction_set_num(&p, 0.5);
        rv_error err = {0};
        if (all[c].kind != 2) /* any string is a fine class label */
            cr_assert_eq(rv_metric_update(m, &y, &p, &err), RV_ETYPE, "%s", all[c].name);
        cr_assert_eq(rv_metric_update(m, &none, &p, &err), RV_ETYPE);
        cr_assert_eq(rv_metric_update(m, &y, NULL, &err), RV_ETYPE);
        rv_prediction_clear(&p);
        cr_assert_eq(rv_metric_update(m, &y, &p, &err), RV_ETYPE);
        cr_assert(strstr(err.message, "prediction"), "%s", err.message);
        m->cls->save(m, &after);
        cr_assert(before.len == after.len && memcmp(before.data, after.data, before.len) == 0,
                  "%s changed on a bad input", all[c].name);
        /* NaN never crashes */
        rv_value yn = rv_value_num(NAN);
        rv_prediction_set_num(&p, NAN);
        (void)rv_metric_update(m, &yn, &p, &err);
        (void)rv_metric_get(m);
        rv_prediction_free(&p);
        rv_buf_free(&before);
        rv_buf_free(&after);
        rv_object_free(m);
    }
    /* a classifier's probabilities are not a regression prediction */
    rv_object *mae = mk("MAE");
    rv_prediction p;
    rv_prediction_init(&p);
    set_proba(&p, abc, mc_p[0], 3);
    rv_value y = rv_value_num(1);
    cr_assert_eq(rv_metric_update(mae, &y, &p, NULL), RV_ETYPE);
    rv_prediction_free(&p);
    rv_object_free(mae);
}

Test(metrics, constructors_and_hostile_snapshots)
{
    rv_error err = {0};
    cr_assert_null(rv_metric_new("NoSuchMetric", &err));
    cr_assert_eq(err.code, RV_ENOTFOUND);
    cr_assert_null(rv_metric_new("Rolling", &err)); /* needs its arguments */
    rv_args a;
    rv_args_init(&a, "metrics.Rolling");
    rv_args_add_obj(&a, NULL, mk_rolling("MAE", 2));
    rv_args_add_int(&a, "window_size", 3);
    cr_assert_null(rv_create("metrics.Rolling", &a, &err)); /* Rolling cannot revert */
    rv_args_free(&a);
    for (size_t i = 0; i < 2 * N(all); i++) {
        size_t c = i % N(all);
        rv_object *m = i >= N(all) ? mk_rolling(all[c].name, 3) : mk(all[c].name);
        for (int t = 0; t < 5; t++)
            upd_any(m, all[c].kind, t);
        rv_buf b;
        rv_buf_init(&b);
        m->cls->save(m, &b);
        for (size_t cut = 0; cut < b.len; cut++) {
            rv_object *f = rv_object_clone(m, NULL);
            rv_reader rd;
            rv_reader_init(&rd, b.data, cut);
            cr_assert(f->cls->load(f, &rd) != RV_OK || rd.status != RV_OK,
                      "%s loaded a %zu-byte truncation", all[c].name, cut);
            rv_object_free(f);
        }
        rv_buf_free(&b);
        rv_object_free(m);
    }
}
