/* Tests of compose: split, dateparts, union order, pipeline semantics with
 * and without learning during predict, GreedyRegressor, and creme 0.5.1
 * parity (golden scaler | LinearRegression cases, the M5 pipelines). */
#include <math.h>

#include "rivulet/compose.h"
#include "rivulet/features.h"
#include "support.h"
#include "compose_support.h"
#include "m5_pairs.h"

static rv_object *split_id(void)
{
    const char *names[2] = {"item_id", "store_id"};
    const long slices[2][2] = {{0, 3}, {3, 5}};
    rv_error err = {0};
    rv_object *s = rv_split_new("id", "_", names, slices, 2, &err);
    cr_assert_not_null(s, "%s", err.message);
    return s;
}

static const rv_feature *feat(const rv_event *e, const char *name)
{
    return rv_event_get(e, rv_sym_intern_cstr(name));
}

static int feat_is(const rv_event *e, const char *name, const char *want)
{
    const rv_feature *f = feat(e, name);
    return f && f->kind == RV_STR && f->len == strlen(want) && memcmp(f->str, want, f->len) == 0;
}

Test(compose, split_is_zero_copy_python_slices)
{
    rv_object *s = split_id();
    rv_event x, out;
    rv_event_init(&x);
    rv_event_init(&out);
    const char *id = "HOBBIES_1_001_CA_1";
    rv_event_set_str(&x, rv_sym_intern_cstr("id"), id, strlen(id));
    cr_assert_eq(rv_estimator_transform(s, &x, &out, NULL), RV_OK);
    cr_assert_eq(out.n, 3);
    cr_assert(feat_is(&out, "id", id));
    cr_assert(feat_is(&out, "item_id", "HOBBIES_1_001"));
    cr_assert(feat_is(&out, "store_id", "CA_1"));
    cr_assert_eq(feat(&out, "item_id")->str, id); /* points into the input */
    cr_assert_eq(feat(&out, "store_id")->str, id + 14);
    rv_buf d;
    rv_buf_init(&d);
    rv_object_describe(s, &d);
    cr_assert_str_eq(rv_buf_cstr(&d), "split('id', '_', item_id=[0, 3], store_id=[3, 5])");
    rv_buf_free(&d);
    /* negative and out-of-range bounds, built from args */
    rv_args a;
    rv_args_init(&a, "split");
    rv_args_add_str(&a, NULL, "id");
    rv_args_add_str(&a, NULL, "_");
    rv_arg last = {.kind = RV_ARG_LIST, .n = 2, .items = calloc(2, sizeof(rv_arg))};
    last.items[0] = (rv_arg){.kind = RV_ARG_NUM, .num = -2, .is_int = 1};
    last.items[1] = (rv_arg){.kind = RV_ARG_NUM, .num = 99, .is_int = 1};
    rv_args_add_arg(&a, "tail", &last);
    rv_args_add_int(&a, "first", 0);
    rv_error err = {0};
    rv_object *s2 = rv_create("split", &a, &err);
    cr_assert_not_null(s2, "%s", err.message);
    rv_estimator_transform(s2, &x, &out, NULL);
    cr_assert(feat_is(&out, "tail", "CA_1"));
    cr_assert(feat_is(&out, "first", "HOBBIES"));
    rv_event_set_num(&x, rv_sym_intern_cstr("id"), 3); /* numeric: no parts */
    rv_estimator_transform(s2, &x, &out, NULL);
    cr_assert_eq(out.n, 1);
    rv_args_free(&a);
    rv_object_free(s2);
    rv_object_free(s);
    rv_event_free(&x);
    rv_event_free(&out);
}

static rv_object *dateparts_all(void)
{
    rv_args a;
    rv_args_init(&a, "dateparts");
    rv_args_add_str(&a, NULL, "date");
    rv_args_add_bool(&a, "day", 1);
    rv_args_add_bool(&a, "month", 1);
    rv_args_add_bool(&a, "year", 1);
    rv_args_add_bool(&a, "yearday", 1);
    rv_error err = {0};
    rv_object *o = rv_create("dateparts", &a, &err);
    cr_assert_not_null(o, "%s", err.message);
    rv_args_free(&a);
    return o;
}

Test(compose, dateparts_on_known_dates)
{
    rv_object *d = dateparts_all();
    struct { const char *date; double wday, day, month, year, yday; } cases[] = {
        {"2016-01-04", 0, 4, 1, 2016, 4},    /* a Monday */
        {"2016-01-04", 0, 4, 1, 2016, 4},    /* cached */
        {"2000-02-29", 1, 29, 2, 2000, 60},  /* Tuesday, leap day */
        {"2024-12-31", 1, 31, 12, 2024, 366},
        {"1969-07-20", 6, 20, 7, 1969, 201}, /* a Sunday, before the epoch */
        {"2011-01-29", 5, 29, 1, 2011, 29},  /* M5's first day, a Saturday */
    };
    rv_event x, out;
    rv_event_init(&x);
    rv_event_init(&out);
    rv_sym date = rv_sym_intern_cstr("date");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rv_event_set_str(&x, date, cases[i].date, strlen(cases[i].date));
        cr_assert_eq(rv_estimator_transform(d, &x, &out, NULL), RV_OK);
        cr_assert_eq(out.n, 6);
        cr_assert_eq(out.items[1].name, rv_sym_intern_cstr("wday"));
        cr_assert_eq(feat(&out, "wday")->num, cases[i].wday, "%s", cases[i].date);
        cr_assert_eq(feat(&out, "day")->num, cases[i].day);
        cr_assert_eq(feat(&out, "month")->num, cases[i].month);
        cr_assert_eq(feat(&out, "year")->num, cases[i].year);
        cr_assert_eq(feat(&out, "yearday")->num, cases[i].yday, "%s", cases[i].date);
    }
    const char *bad[] = {"2021-02-29", "2021-13-01", "2021-01-01x", "nope", ""};
    for (size_t i = 0; i < 5; i++) {
        rv_event_set_str(&x, date, bad[i], strlen(bad[i]));
        cr_assert_eq(rv_estimator_transform(d, &x, &out, NULL), RV_OK);
        cr_assert_eq(out.n, 1, "%s", bad[i]);
    }
    rv_buf b;
    rv_buf_init(&b);
    rv_object_describe(d, &b);
    cr_assert_str_eq(rv_buf_cstr(&b),
                     "dateparts('date', '%Y-%m-%d', day=True, month=True, year=True, yearday=True)");
    rv_buf_free(&b);
    rv_object_free(d);
    rv_event_free(&x);
    rv_event_free(&out);
}

static rv_object *rm_agg(const char *by, int k)
{
    const char *b[1] = {by};
    return rv_target_agg_new(b, 1, make1("stats.RollingMean", k), NULL);
}

Test(compose, union_emits_parts_in_reverse_order_and_earliest_wins)
{
    rv_object *parts[3] = {rm_agg("g", 1), rm_agg("g", 2), rm_agg("h", 3)};
    rv_object *u = rv_union_new(parts, 3, NULL);
    size_t nblocks;
    cr_assert_eq(rv_union_fused_parts(u, &nblocks), 3);
    cr_assert_eq(nblocks, 2);
    rv_event x, out;
    rv_event_init(&x);
    rv_event_init(&out);
    rv_event_set_num(&x, rv_sym_intern_cstr("g"), 1);
    rv_event_set_num(&x, rv_sym_intern_cstr("h"), 1);
    double ys[] = {3, 5, 10};
    for (int i = 0; i < 3; i++) {
        rv_value y = rv_value_num(ys[i]);
        rv_estimator_learn(u, &x, &y, NULL);
    }
    rv_estimator_transform(u, &x, &out, NULL);
    cr_assert_eq(out.n, 3);
    cr_assert_str_eq(rv_sym_name(out.items[0].name), "target_rolling_rollingmean_3_by_h");
    cr_assert_str_eq(rv_sym_name(out.items[2].name), "target_rolling_rollingmean_1_by_g");
    cr_assert_eq(out.items[0].num, 6.0);
    cr_assert_eq(out.items[1].num, 7.5);
    cr_assert_eq(out.items[2].num, 10.0);
    rv_buf d;
    rv_buf_init(&d);
    rv_object_describe(u, &d);
    cr_assert(strstr(rv_buf_cstr(&d), "feature_extraction.TargetAgg(by=['g'], how=stats.RollingMean(") ==
              rv_buf_cstr(&d));
    cr_assert(strstr(rv_buf_cstr(&d), " + "));
    rv_buf_free(&d);
    /* copy and snapshot keep the fused state; clone starts empty */
    rv_object *c = rv_object_copy(u, NULL), *r = rv_object_roundtrip(u, NULL), *f = rv_object_clone(u, NULL);
    cr_assert(c && r && f);
    rv_estimator_transform(c, &x, &out, NULL);
    cr_assert_eq(out.items[1].num, 7.5);
    rv_estimator_transform(r, &x, &out, NULL);
    cr_assert_eq(out.items[1].num, 7.5);
    rv_estimator_transform(f, &x, &out, NULL);
    cr_assert_eq(out.items[1].num, 0.0);
    rv_object_free(c);
    rv_object_free(r);
    rv_object_free(f);

    /* same names from two generic parts: position of the later part, value of the earlier */
    const char *n1[1] = {"p"}, *n2[1] = {"p"};
    const long s1[1][2] = {{0, 1}}, s2[1][2] = {{1, 2}};
    rv_object *gp[2] = {rv_split_new("id", "_", n1, s1, 1, NULL), rv_split_new("id", "_", n2, s2, 1, NULL)};
    rv_object *u2 = rv_union_new(gp, 2, NULL);
    rv_event_set_str(&x, rv_sym_intern_cstr("id"), "a_b", 3);
    rv_estimator_transform(u2, &x, &out, NULL);
    cr_assert(feat_is(&out, "p", "a"));
    cr_assert_eq(out.items[out.n - 1].name, rv_sym_intern_cstr("p"));
    rv_object_free(u2);
    rv_object_free(u);
    rv_event_free(&x);
    rv_event_free(&out);
}

static double predict(rv_object *m, const rv_event *x)
{
    rv_prediction p;
    rv_prediction_init(&p);
    rv_error err = {0};
    cr_assert_eq(rv_estimator_predict(m, x, &p, &err), RV_OK, "%s", err.message);
    double v = p.num;
    rv_prediction_free(&p);
    return v;
}

/* Agg(on='v', by='g', how=Mean) | probe: the Agg is unsupervised. */
static rv_object *agg_pipeline(int ldp, probe **pr)
{
    const char *by[1] = {"g"};
    rv_object *steps[2] = {rv_agg_new("v", by, 1, make1("stats.Mean", NAN), NULL), probe_new()};
    *pr = (probe *)steps[1];
    rv_error err = {0};
    rv_object *p = rv_pipeline_new(steps, 2, ldp, &err);
    cr_assert_not_null(p, "%s", err.message);
    return p;
}

Test(compose, pipeline_learns_unsupervised_steps_during_predict_in_creme_mode)
{
    probe *pr;
    rv_object *p = agg_pipeline(1, &pr);
    rv_event x;
    rv_event_init(&x);
    rv_event_set_num(&x, rv_sym_intern_cstr("g"), 1);
    rv_event_set_num(&x, rv_sym_intern_cstr("v"), 4);
    rv_value y = rv_value_num(0);
    cr_assert_eq(predict(p, &x), 4.0); /* learned 4, then transformed */
    rv_estimator_learn(p, &x, &y, NULL);
    cr_assert_eq(pr->last_x0, 4.0);    /* learn sees what predict saw */
    rv_event_set_num(&x, rv_sym_intern_cstr("v"), 6);
    rv_estimator_learn(p, &x, &y, NULL); /* learn alone does not update the Agg */
    cr_assert_eq(pr->last_x0, 4.0);
    cr_assert_eq(predict(p, &x), 5.0);
    rv_buf d;
    rv_buf_init(&d);
    rv_object_describe(p, &d);
    cr_assert_str_eq(rv_buf_cstr(&d), "feature_extraction.Agg(on='v', by=['g'], how=stats.Mean()) | probe()");
    rv_buf_free(&d);
    cr_assert(rv_estimator_flags(p) & RV_F_REGRESSOR);
    rv_object_free(p);
    rv_event_free(&x);
}

Test(compose, pipeline_is_pure_at_predict_in_river_mode)
{
    probe *pr;
    rv_object *p = agg_pipeline(0, &pr);
    rv_event x;
    rv_event_init(&x);
    rv_event_set_num(&x, rv_sym_intern_cstr("g"), 1);
    rv_event_set_num(&x, rv_sym_intern_cstr("v"), 4);
    rv_value y = rv_value_num(0);
    cr_assert_eq(predict(p, &x), 0.0);
    cr_assert_eq(predict(p, &x), 0.0);
    rv_estimator_learn(p, &x, &y, NULL); /* learns 4 before transforming */
    cr_assert_eq(pr->last_x0, 4.0);
    cr_assert_eq(predict(p, &x), 4.0);
    rv_buf d;
    rv_buf_init(&d);
    rv_object_describe(p, &d);
    cr_assert(strstr(rv_buf_cstr(&d), "learn_during_predict=False)"));
    rv_buf_free(&d);
    rv_object_free(p);
    rv_event_free(&x);
}

Test(compose, supervised_steps_learn_after_transforming)
{
    rv_object *steps[2] = {rm_agg("g", 2), probe_new()};
    probe *pr = (probe *)steps[1];
    rv_object *p = rv_pipeline_new(steps, 2, 1, NULL);
    rv_event x;
    rv_event_init(&x);
    rv_event_set_num(&x, rv_sym_intern_cstr("g"), 1);
    rv_value y = rv_value_num(3);
    cr_assert_eq(predict(p, &x), 0.0);
    rv_estimator_learn(p, &x, &y, NULL);
    cr_assert_eq(pr->last_x0, 0.0); /* no leakage of its own target */
    cr_assert_eq(pr->last_y, 3.0);
    cr_assert_eq(predict(p, &x), 3.0);
    rv_object_free(p);
    rv_event_free(&x);
}

Test(compose, nested_pipelines_and_unions_flatten)
{
    rv_object *inner[2] = {split_id(), dateparts_all()};
    rv_object *front = rv_pipeline_new(inner, 2, 1, NULL);
    rv_object *u1[2] = {rm_agg("g", 1), rm_agg("g", 2)};
    rv_object *u2[2] = {rv_union_new(u1, 2, NULL), rm_agg("g", 3)};
    rv_object *steps[3] = {front, rv_union_new(u2, 2, NULL), probe_new()};
    rv_object *p = rv_pipeline_new(steps, 3, 1, NULL);
    cr_assert_eq(rv_pipeline_len(p), 4);
    cr_assert_eq(rv_union_len(rv_pipeline_step(p, 2)), 3);
    rv_object *bad[2] = {probe_new(), probe_new()};
    rv_error err = {0};
    cr_assert_null(rv_pipeline_new(bad, 2, 1, &err));
    cr_assert(strstr(err.message, "not a transformer"));
    rv_object_free(p);
}

Test(compose, select_and_discard)
{
    const char *names[2] = {"b", "zz"};
    rv_object *s = rv_select_new(names, 2, NULL), *d = rv_discard_new(names, 2, NULL);
    rv_event x, out;
    rv_event_init(&x);
    rv_event_init(&out);
    rv_event_set_num(&x, rv_sym_intern_cstr("a"), 1);
    rv_event_set_num(&x, rv_sym_intern_cstr("b"), 2);
    rv_estimator_transform(s, &x, &out, NULL);
    cr_assert_eq(out.n, 1);
    cr_assert_eq(feat(&out, "b")->num, 2);
    rv_estimator_transform(d, &x, &out, NULL);
    cr_assert_eq(out.n, 1);
    cr_assert_eq(feat(&out, "a")->num, 1);
    rv_object_free(s);
    rv_object_free(d);
    rv_event_free(&x);
    rv_event_free(&out);
}

Test(compose, greedy_regressor_picks_the_better_model)
{
    rv_object *models[3] = {probe_const(0), probe_const(10), probe_const(8)};
    rv_error err = {0};
    rv_object *g = rv_greedy_regressor_new(models, 3, NULL, &err);
    cr_assert_not_null(g, "%s", err.message);
    rv_event x;
    rv_event_init(&x);
    cr_assert_eq(rv_greedy_best(g), 0);
    cr_assert_eq(predict(g, &x), 0.0);
    rv_value y = rv_value_num(9);
    rv_estimator_learn(g, &x, &y, NULL);
    /* MAE: 9, 1, 1: the tie between 10 and 8 keeps the earlier */
    cr_assert_eq(rv_greedy_metric(g, 0), 9.0);
    cr_assert_eq(rv_greedy_metric(g, 2), 1.0);
    cr_assert_eq(rv_greedy_best(g), 1);
    cr_assert_eq(predict(g, &x), 10.0);
    y = rv_value_num(7);
    rv_estimator_learn(g, &x, &y, NULL); /* MAE: 8, 2, 1 */
    cr_assert_eq(rv_greedy_best(g), 2);
    cr_assert_eq(predict(g, &x), 8.0);
    rv_object *c = rv_object_copy(g, NULL);
    cr_assert_eq(rv_greedy_best(c), 2);
    rv_object *r = rv_object_roundtrip(g, NULL);
    cr_assert_eq(rv_greedy_best(r), 2);
    cr_assert_eq(rv_greedy_metric(r, 1), 2.0);
    rv_object_free(r);
    rv_object_free(c);
    rv_object_free(g);
    rv_event_free(&x);
}

/* ===== creme 0.5.1 parity ===== */

static rv_object *create_or_die(const char *name, rv_args *a)
{
    rv_error err = {0};
    rv_object *o = rv_create(name, a, &err);
    cr_assert_not_null(o, "%s: %s", name, err.message);
    rv_args_free(a);
    return o;
}

static rv_object *linear_regression(double lr, double intercept_lr, double l2, double clip)
{
    rv_args a;
    rv_args_init(&a, "linear_model.LinearRegression");
    rv_args_add_obj(&a, "optimizer", make1("optim.SGD", lr));
    rv_args_add_num(&a, "intercept_lr", intercept_lr);
    if (l2 != 0)
        rv_args_add_num(&a, "l2", l2);
    if (clip != 0)
        rv_args_add_num(&a, "clip_gradient", clip);
    return create_or_die("linear_model.LinearRegression", &a);
}

static rv_object *knn_blog(void)
{
    rv_args a;
    rv_args_init(&a, "neighbors.KNeighborsRegressor");
    rv_args_add_int(&a, "n_neighbors", 15);
    rv_args_add_int(&a, "window_size", 30);
    rv_args_add_int(&a, "p", 2);
    return create_or_die("neighbors.KNeighborsRegressor", &a);
}

/* The write-up's pipelines (SPEC.md §0): split | dateparts | U | scaler | model. */
rv_object *m5_pipeline(int knn, int learn_during_predict);
rv_object *m5_pipeline(int knn, int learn_during_predict)
{
    rv_object *aggs[29];
    int n = 0;
    for (int k = 1; k <= 7; k++)
        aggs[n++] = rm_agg("item_id", k);
    for (int k = 1; k <= 20; k++)
        aggs[n++] = rm_agg("wday", k);
    aggs[n++] = rm_agg("wday", 25);
    aggs[n++] = rm_agg("wday", 30);
    rv_args d;
    rv_args_init(&d, "dateparts");
    rv_args_add_str(&d, NULL, "date");
    rv_object *steps[5] = {split_id(), create_or_die("dateparts", &d), rv_union_new(aggs, 29, NULL),
                           make1(knn ? "preprocessing.StandardScaler" : "preprocessing.MinMaxScaler", NAN),
                           knn ? knn_blog() : linear_regression(0.005, 0.001, 0, 0)};
    rv_error err = {0};
    rv_object *p = rv_pipeline_new(steps, 5, learn_during_predict, &err);
    cr_assert_not_null(p, "%s", err.message);
    return p;
}

Test(compose, m5_union_is_fully_fused)
{
    rv_object *p = m5_pipeline(1, 1);
    size_t nblocks;
    cr_assert_eq(rv_union_fused_parts(rv_pipeline_step(p, 2), &nblocks), 29);
    cr_assert_eq(nblocks, 2);
    rv_object_free(p);
}

/* The pipelines built in C against creme (m5_pairs.h). */
Test(reference, m5_pipelines_match_creme)
{
    RV_REQUIRE_SHARED(dir);
    rv_object *knn = m5_pipeline(1, 1), *lm = m5_pipeline(0, 1);
    m5_pairs_match_creme(dir, knn, lm);
    rv_object_free(knn);
    rv_object_free(lm);
}

/* Golden scaler | LinearRegression cases over regression.csv (x1, x2, x3). */
static void golden_lr_case(const char *file, int standard, double lr, double ilr, double l2, double clip)
{
    RV_REQUIRE_SHARED(dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/reference/creme-0.5.1/golden/regression.csv", dir);
    char *data = rv_test_read_file(path, NULL);
    snprintf(path, sizeof path, "%s/reference/creme-0.5.1/golden/%s", dir, file);
    char *gold = rv_test_read_file(path, NULL);
    cr_assert(data && gold);
    rv_object *steps[2] = {make1(standard ? "preprocessing.StandardScaler" : "preprocessing.MinMaxScaler", NAN),
                           linear_regression(lr, ilr, l2, clip)};
    rv_object *p = rv_pipeline_new(steps, 2, 1, NULL);
    rv_sym xs[3] = {rv_sym_intern_cstr("x1"), rv_sym_intern_cstr("x2"), rv_sym_intern_cstr("x3")};
    char *dc = data, *gc = gold, *line, *f[8], *g[4];
    next_line(&dc);
    next_line(&gc);
    rv_event x;
    rv_event_init(&x);
    int rows = 0;
    while ((line = next_line(&dc))) {
        csv_fields(line, f, 8);
        csv_fields(next_line(&gc), g, 4);
        rv_event_clear(&x);
        for (int j = 0; j < 3; j++)
            rv_event_set_num(&x, xs[j], num_at(f[j]));
        rv_value y = rv_value_num(num_at(f[5]));
        double got = predict(p, &x);
        cr_assert(got == num_at(g[2]), "%s row %d: %.17g vs %s", file, rows, got, g[2]);
        rv_estimator_learn(p, &x, &y, NULL);
        rows++;
    }
    cr_assert_gt(rows, 100);
    rv_object_free(p);
    rv_event_free(&x);
    free(data);
    free(gold);
}

Test(reference, ss_lr_sgd001) { golden_lr_case("ss_lr_sgd001.csv", 1, 0.01, 0.01, 0, 0); }
Test(reference, mm_lr_blog) { golden_lr_case("mm_lr_blog.csv", 0, 0.005, 0.001, 0, 0); }
Test(reference, ss_lr_l2_clip) { golden_lr_case("ss_lr_l2_clip.csv", 1, 0.05, 0.05, 0.1, 1.0); }
