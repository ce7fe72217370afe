/* Tests of the linear models: bit-for-bit parity of LinearRegression with
 * creme 0.5.1 on the golden stream, hand-worked steps of LogisticRegression
 * and the PA models, snapshots, describe text and hostile inputs. */
#include "rivulet/linear.h"
#include <criterion/criterion.h>
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

static char *describe(const rv_object *o)
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

/* ===== Hand-worked steps ===== */

static rv_sym S(const char *s) { return rv_sym_intern_cstr(s); }

static rv_object *make_with(const char *name, const char *kw, rv_object *obj, const char *kw2,
                            double v2)
{
    rv_args a;
    rv_args_init(&a, name);
    if (kw)
        rv_args_add_obj(&a, kw, obj);
    if (kw2)
        rv_args_add_num(&a, kw2, v2);
    rv_object *m = make(name, &a);
    rv_args_free(&a);
    return m;
}

static rv_object *sgd(double lr)
{
    return rv_optim_new("optim.SGD", RV_CLASS_OPTIMIZER, &lr, 1, NULL);
}

Test(linear, lr_one_step_by_hand)
{
    rv_object *m = make_with("linear_model.LinearRegression", "optimizer", sgd(0.1),
                             "intercept_lr", 0.1);
    rv_event x;
    rv_event_init(&x);
    rv_event_push_num(&x, S("a"), 1);
    rv_event_push_num(&x, S("b"), 2);
    cr_assert_eq(predict_num(m, &x), 0.0);
    cr_assert_eq(rv_linear_weights(m)->n, 0, "weights appear on the first learn");
    learn_num(m, &x, 1); /* g = 2 (0 - 1) = -2: intercept 0.2, w_a 0.2, w_b 0.4 */
    cr_assert_float_eq(rv_linear_intercept(m), 0.2, 1e-15);
    cr_assert_float_eq(rv_weights_get(rv_linear_weights(m), S("b"), 0), 0.4, 1e-15);
    cr_assert_float_eq(predict_num(m, &x), 1.2, 1e-15);
    rv_object_free(m);
    rv_event_free(&x);
}

Test(linear, strings_nan_and_bad_targets_do_no_harm)
{
    rv_object *m = make("linear_model.LinearRegression", NULL);
    rv_event x;
    rv_event_init(&x);
    rv_event_push_num(&x, S("a"), 1);
    rv_event_push_str(&x, S("s"), "shop", 4);
    rv_event_push_num(&x, S("n"), NAN);
    rv_event_push_num(&x, S("i"), -INFINITY);
    learn_num(m, &x, 3);
    cr_assert_eq(rv_linear_weights(m)->n, 1, "only the finite number gets a weight");
    cr_assert(isfinite(predict_num(m, &x)));
    double before = predict_num(m, &x);
    rv_value bad = rv_value_num(NAN), str = rv_value_cstr("x");
    rv_error err = {0};
    cr_assert_neq(rv_estimator_learn(m, &x, &bad, &err), RV_OK);
    cr_assert_neq(rv_estimator_learn(m, &x, &str, &err), RV_OK);
    cr_assert_neq(rv_estimator_learn(m, &x, NULL, &err), RV_OK);
    cr_assert_eq(predict_num(m, &x), before, "a rejected target leaves the model as it was");
    rv_event empty;
    rv_event_init(&empty);
    cr_assert_eq(predict_num(m, &empty), rv_linear_intercept(m));
    rv_event_free(&empty);
    rv_object_free(m);
    rv_event_free(&x);
}

Test(linear, clip_gradient_bounds_each_step)
{
    rv_object *m = make_with("linear_model.LinearRegression", "optimizer", sgd(1.0),
                             "clip_gradient", 0.5);
    rv_event x;
    rv_event_init(&x);
    rv_event_push_num(&x, S("a"), 2);
    learn_num(m, &x, 100); /* g = -200 clipped to -0.5: w_a = 0 - 1 * 2 * -0.5 */
    cr_assert_eq(rv_weights_get(rv_linear_weights(m), S("a"), 0), 1.0);
    cr_assert_eq(rv_linear_intercept(m), 0.005); /* 0 - 0.01 * -0.5 */
    rv_object_free(m);
    rv_event_free(&x);
}

Test(linear, logistic_step_by_hand_and_proba)
{
    rv_object *m = make("linear_model.LogisticRegression", NULL);
    rv_event x;
    rv_event_init(&x);
    rv_event_push_num(&x, S("a"), 1);
    rv_prediction p;
    rv_prediction_init(&p);
    cr_assert_eq(rv_estimator_predict(m, &x, &p, NULL), RV_OK);
    cr_assert_eq(p.kind, RV_PRED_PROBA);
    cr_assert_eq(p.n, 2);
    cr_assert_eq(p.labels[0], rv_label_false());
    cr_assert_eq(p.proba[1], 0.5);
    rv_value yes = rv_value_cstr("True");
    cr_assert_eq(rv_estimator_learn(m, &x, &yes, NULL), RV_OK);
    /* g = -1 / (e^0 + 1) = -0.5; intercept and w_a = 0 - 0.01 * -0.5 */
    cr_assert_eq(rv_linear_intercept(m), 0.005);
    cr_assert_eq(rv_weights_get(rv_linear_weights(m), S("a"), 0), 0.005);
    cr_assert_eq(rv_estimator_predict(m, &x, &p, NULL), RV_OK);
    cr_assert_float_eq(p.num, 1 / (1 + exp(-0.01)), 1e-15);
    cr_assert_float_eq(p.proba[0] + p.proba[1], 1.0, 1e-15);
    rv_value maybe = rv_value_cstr("maybe");
    cr_assert_neq(rv_estimator_learn(m, &x, &maybe, NULL), RV_OK);
    rv_prediction_free(&p);
    rv_object_free(m);
    rv_event_free(&x);
}

Test(linear, logistic_learns_a_separable_problem)
{
    rv_object *m = make_with("linear_model.LogisticRegression", "optimizer", sgd(0.5), NULL, 0);
    rv_event x;
    rv_event_init(&x);
    rv_prediction p;
    rv_prediction_init(&p);
    for (int epoch = 0; epoch < 20; epoch++)
        for (int i = -10; i <= 10; i++) {
            if (!i)
                continue;
            rv_event_clear(&x);
            rv_event_push_num(&x, S("u"), i / 5.0);
            rv_event_push_num(&x, S("v"), 1.0 - i / 10.0);
            rv_value y = rv_value_num(i > 0);
            cr_assert_eq(rv_estimator_learn(m, &x, &y, NULL), RV_OK);
        }
    for (int i = -10; i <= 10; i++) {
        if (!i)
            continue;
        rv_event_clear(&x);
        rv_event_push_num(&x, S("u"), i / 5.0);
        rv_event_push_num(&x, S("v"), 1.0 - i / 10.0);
        cr_assert_eq(rv_estimator_predict(m, &x, &p, NULL), RV_OK);
        cr_assert_eq(rv_prediction_argmax(&p), i > 0 ? rv_label_true() : rv_label_false(),
                     "point %d misclassified (p=%g)", i, p.num);
    }
    rv_prediction_free(&p);
    rv_object_free(m);
    rv_event_free(&x);
}

Test(linear, loss_must_fit_the_model)
{
    rv_args a;
    rv_args_init(&a, "linear_model.LinearRegression");
    rv_args_add_obj(&a, "loss", rv_optim_new("optim.losses.Log", RV_CLASS_LOSS, NULL, 0, NULL));
    rv_error err = {0};
    cr_assert_null(rv_create("linear_model.LinearRegression", &a, &err));
    cr_assert(strstr(err.message, "regression loss"), "%s", err.message);
    rv_args_free(&a);
    rv_args_add_num(&a, "l2", -1);
    cr_assert_null(rv_create("linear_model.LinearRegression", &a, &err));
    rv_args_free(&a);
    rv_args_add_num(&a, "optimizer", 0.1);
    cr_assert_null(rv_create("linear_model.LinearRegression", &a, &err));
    rv_args_free(&a);
    rv_args_add_int(&a, "mode", 3);
    cr_assert_null(rv_create("linear_model.PARegressor", &a, &err));
    rv_args_free(&a);
}

Test(linear, pa_regressor_by_hand)
{
    rv_object *m = make("linear_model.PARegressor", NULL); /* C 1, mode 1, eps 0.1 */
    rv_event x;
    rv_event_init(&x);
    rv_event_push_num(&x, S("a"), 1);
    rv_event_push_num(&x, S("b"), 1);
    learn_num(m, &x, 2); /* loss 1.9, |x|^2 2, tau min(1, 0.95), step 0.95 */
    cr_assert_float_eq(rv_weights_get(rv_linear_weights(m), S("a"), 0), 0.95, 1e-15);
    cr_assert_float_eq(rv_linear_intercept(m), 0.95, 1e-15);
    cr_assert_float_eq(predict_num(m, &x), 2.85, 1e-15);
    learn_num(m, &x, 2.9); /* |2.9 - 2.85| - 0.1 < 0: passive */
    cr_assert_float_eq(predict_num(m, &x), 2.85, 1e-15);
    rv_object_free(m);
    rv_args a;
    rv_args_init(&a, "linear_model.PARegressor");
    rv_args_add_int(&a, "mode", 2);
    rv_args_add_bool(&a, "learn_intercept", 0);
    m = make("linear_model.PARegressor", &a);
    rv_args_free(&a);
    learn_num(m, &x, 2); /* tau = 1.9 / (2 + 0.5) = 0.76 */
    cr_assert_float_eq(rv_weights_get(rv_linear_weights(m), S("b"), 0), 0.76, 1e-15);
    cr_assert_eq(rv_linear_intercept(m), 0);
    rv_object_free(m);
    rv_event_free(&x);
}

Test(linear, pa_classifier_by_hand)
{
    rv_object *m = make("linear_model.PAClassifier", NULL);
    rv_event x;
    rv_event_init(&x);
    rv_event_push_num(&x, S("a"), 1);
    rv_value yes = rv_value_num(1), no = rv_value_cstr("False");
    cr_assert_eq(rv_estimator_learn(m, &x, &yes, NULL), RV_OK); /* hinge 1, tau 1, step +1 */
    cr_assert_eq(rv_weights_get(rv_linear_weights(m), S("a"), 0), 1);
    cr_assert_eq(rv_linear_intercept(m), 1);
    cr_assert_float_eq(predict_num(m, &x), 1 / (1 + exp(-2.0)), 1e-15);
    cr_assert_eq(rv_estimator_learn(m, &x, &no, NULL), RV_OK); /* hinge 3, tau 1, step -1 */
    cr_assert_eq(rv_weights_get(rv_linear_weights(m), S("a"), 0), 0);
    cr_assert_eq(predict_num(m, &x), 0.5);
    rv_object_free(m);
    rv_event_free(&x);
}

/* ===== Snapshots, copies, describe ===== */

static void feed(rv_object *m, int from, int to, int binary)
{
    rv_event x;
    rv_event_init(&x);
    for (int i = from; i < to; i++) {
        rv_event_clear(&x);
        rv_event_push_num(&x, S("p"), sin(i));
        rv_event_push_num(&x, S("q"), cos(3 * i));
        if (i % 3)
            rv_event_push_num(&x, S(i % 2 ? "odd" : "even"), i % 7);
        rv_value y = rv_value_num(binary ? sin(i) + cos(3 * i) > 0 : 2 * sin(i) - cos(3 * i) + 1);
        rv_error err = {0};
        cr_assert_eq(rv_estimator_learn(m, &x, &y, &err), RV_OK, "%s", err.message);
    }
    rv_event_free(&x);
}

static void assert_same_future(rv_object *a, rv_object *b, int binary)
{
    feed(a, 50, 80, binary);
    feed(b, 50, 80, binary);
    rv_event x;
    rv_event_init(&x);
    for (int i = 80; i < 90; i++) {
        rv_event_clear(&x);
        rv_event_push_num(&x, S("q"), cos(i));
        rv_event_push_num(&x, S("p"), sin(i));
        rv_event_push_num(&x, S("odd"), i % 5);
        double pa = predict_num(a, &x), pb = predict_num(b, &x);
        cr_assert(memcmp(&pa, &pb, sizeof pa) == 0, "%s: %.17g vs %.17g", a->cls->name, pa, pb);
    }
    rv_event_free(&x);
}

static rv_object *adam_l2_lr(void)
{
    rv_args a;
    rv_args_init(&a, "linear_model.LinearRegression");
    rv_args_add_obj(&a, "optimizer", rv_optim_new("optim.Adam", RV_CLASS_OPTIMIZER,
                                                  (double[]){0.05}, 1, NULL));
    rv_args_add_num(&a, "l2", 0.01);
    rv_args_add_obj(&a, "initializer", rv_optim_new("optim.initializers.Constant",
                                                    RV_CLASS_INITIALIZER, (double[]){0.1}, 1, NULL));
    rv_object *m = make("linear_model.LinearRegression", &a);
    rv_args_free(&a);
    return m;
}

Test(linear, save_load_continue_is_bit_identical)
{
    struct { rv_object *m; int binary; } cases[] = {
        {make("linear_model.LinearRegression", NULL), 0},
        {adam_l2_lr(), 0},
        {make_with("linear_model.LinearRegression", "optimizer",
                   rv_optim_new("optim.FTRLProximal", RV_CLASS_OPTIMIZER, NULL, 0, NULL), NULL, 0), 0},
        {make("linear_model.LogisticRegression", NULL), 1},
        {make("linear_model.PARegressor", NULL), 0},
        {make("linear_model.PAClassifier", NULL), 1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        rv_object *m = cases[k].m;
        feed(m, 0, 50, cases[k].binary);
        rv_error err = {0};
        rv_object *back = rv_object_roundtrip(m, &err);
        cr_assert_not_null(back, "%s: %s", m->cls->name, err.message);
        rv_object *copy = rv_object_copy(m, &err);
        assert_same_future(m, back, cases[k].binary);
        feed(copy, 50, 80, cases[k].binary);
        rv_object *fresh = rv_object_clone(m, &err);
        cr_assert_eq(rv_linear_weights(fresh)->n, 0, "a clone starts fresh");
        rv_object_free(fresh);
        rv_object_free(copy);
        rv_object_free(back);
        rv_object_free(m);
    }
}

Test(linear, hostile_snapshots_fail_cleanly)
{
    rv_object *m = adam_l2_lr();
    feed(m, 0, 20, 0);
    rv_buf b;
    rv_buf_init(&b);
    cr_assert_eq(m->cls->save(m, &b), RV_OK);
    for (size_t cut = 0; cut < b.len; cut += 3) {
        rv_object *fresh = rv_object_clone(m, NULL);
        rv_reader in;
        rv_reader_init(&in, b.data, cut);
        rv_status s = fresh->cls->load(fresh, &in);
        cr_assert(s != RV_OK || in.status != RV_OK, "truncated at %zu accepted", cut);
        rv_object_free(fresh);
    }
    b.data[0] = 9; /* unknown version */
    rv_object *fresh = rv_object_clone(m, NULL);
    rv_reader in;
    rv_reader_init(&in, b.data, b.len);
    fresh->cls->load(fresh, &in);
    cr_assert_neq(in.status, RV_OK);
    rv_object_free(fresh);
    rv_buf_free(&b);
    rv_object_free(m);
}

Test(linear, describe_text)
{
    struct { rv_object *m; const char *text; } cases[] = {
        {make("linear_model.LinearRegression", NULL), "linear_model.LinearRegression()"},
        {make_with("linear_model.LinearRegression", "optimizer", sgd(0.005), "intercept_lr", 0.001),
         "linear_model.LinearRegression(optimizer=optim.SGD(lr=0.005), intercept_lr=0.001)"},
        {adam_l2_lr(), "linear_model.LinearRegression(optimizer=optim.Adam(lr=0.05), l2=0.01, "
                       "initializer=optim.initializers.Constant(value=0.1))"},
        {make("linear_model.LogisticRegression", NULL), "linear_model.LogisticRegression()"},
        {make_with("linear_model.LogisticRegression", "optimizer", sgd(0.5), "clip_gradient", 2),
         "linear_model.LogisticRegression(optimizer=optim.SGD(lr=0.5), clip_gradient=2.0)"},
        {make("linear_model.PARegressor", NULL), "linear_model.PARegressor()"},
        {make("linear_model.PAClassifier", NULL), "linear_model.PAClassifier()"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char *d = describe(cases[k].m);
        cr_assert_str_eq(d, cases[k].text);
        free(d);
        rv_object_free(cases[k].m);
    }
    rv_args a;
    rv_args_init(&a, "linear_model.PARegressor");
    rv_args_add_num(&a, "C", 0.5);
    rv_args_add_int(&a, "mode", 2);
    rv_args_add_num(&a, "eps", 0.2);
    rv_args_add_bool(&a, "learn_intercept", 0);
    rv_object *pa = make("linear_model.PARegressor", &a);
    char *d = describe(pa);
    cr_assert_str_eq(d, "linear_model.PARegressor(C=0.5, mode=2, eps=0.2, learn_intercept=False)");
    free(d);
    rv_object_free(pa);
    rv_args_free(&a);
}

Test(linear, a_29_feature_model_stays_small)
{
    rv_object *m = make_with("linear_model.LinearRegression", "optimizer", sgd(0.005),
                             "intercept_lr", 0.001);
    rv_event x;
    rv_event_init(&x);
    char name[16];
    for (int i = 0; i < 29; i++) {
        snprintf(name, sizeof name, "f%d", i);
        rv_event_push_num(&x, S(name), i);
    }
    learn_num(m, &x, 1);
    cr_assert_eq(rv_linear_weights(m)->n, 29);
    size_t bytes = rv_object_memory(m);
    cr_assert(bytes < 700, "a 29-weight model holds %zu bytes", bytes);
    rv_event_free(&x);
    rv_object_free(m);
}
