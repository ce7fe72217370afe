/* Tests of feature_extraction: Agg and TargetAgg (hand-computed values, the
 * creme golden file, fusion inside a union, snapshots). */
#include <math.h>

#include "rivulet/compose.h"
#include "rivulet/features.h"
#include "support.h"
#include "compose_support.h"

static rv_object *target_agg(const char *by, rv_object *how)
{
    const char *b[1] = {by};
    rv_error err = {0};
    rv_object *o = rv_target_agg_new(b, 1, how, &err);
    cr_assert_not_null(o, "%s", err.message);
    return o;
}

static double transform1(rv_object *o, const rv_event *x)
{
    rv_event out;
    rv_event_init(&out);
    rv_error err = {0};
    cr_assert_eq(rv_estimator_transform(o, x, &out, &err), RV_OK, "%s", err.message);
    cr_assert_eq(out.n, 1);
    double v = out.items[0].num;
    rv_event_free(&out);
    return v;
}

Test(features, target_agg_name_and_rolling_values)
{
    rv_object *t = target_agg("item_id", make1("stats.RollingMean", 2));
    cr_assert_str_eq(rv_sym_name(rv_agg_feature(t)), "target_rolling_rollingmean_2_by_item_id");
    rv_sym item = rv_sym_intern_cstr("item_id");
    rv_event a, b;
    rv_event_init(&a);
    rv_event_init(&b);
    rv_event_set_str(&a, item, "A", 1);
    rv_event_set_str(&b, item, "B", 1);
    /* unseen group: the empty window's value, and transform creates nothing */
    cr_assert_eq(transform1(t, &a), 0.0);
    cr_assert_eq(rv_agg_ngroups(t), 0);
    double ys[] = {1, 2, 6};
    for (int i = 0; i < 3; i++) {
        rv_value y = rv_value_num(ys[i]);
        cr_assert_eq(rv_estimator_learn(t, &a, &y, NULL), RV_OK);
    }
    cr_assert_eq(transform1(t, &a), 4.0); /* (2 + 6) / 2 */
    cr_assert_eq(transform1(t, &b), 0.0);
    rv_value s = rv_value_cstr("x");
    cr_assert_eq(rv_estimator_learn(t, &a, &s, NULL), RV_ETYPE);
    rv_buf d;
    rv_buf_init(&d);
    rv_object_describe(t, &d);
    cr_assert(strstr(rv_buf_cstr(&d), "feature_extraction.TargetAgg(by=['item_id'], how=stats.RollingMean("));
    rv_buf_free(&d);
    rv_object *back = rv_object_roundtrip(t, NULL);
    cr_assert_not_null(back);
    cr_assert_eq(transform1(back, &a), 4.0);
    rv_object *cl = rv_object_clone(t, NULL);
    cr_assert_eq(rv_agg_ngroups(cl), 0);
    rv_object_free(cl);
    rv_object_free(back);
    rv_object_free(t);
    rv_event_free(&a);
    rv_event_free(&b);
}

Test(features, agg_is_unsupervised_and_groups_by_several_features)
{
    const char *by[2] = {"shop", "day"};
    rv_error err = {0};
    rv_object *g = rv_agg_new("price", by, 2, make1("stats.Mean", NAN), &err);
    cr_assert_not_null(g, "%s", err.message);
    cr_assert_str_eq(rv_sym_name(rv_agg_feature(g)), "price_mean_by_shop_and_day");
    cr_assert_eq(rv_estimator_flags(g) & RV_F_SUPERVISED, 0);
    rv_event x;
    rv_event_init(&x);
    rv_sym shop = rv_sym_intern_cstr("shop"), day = rv_sym_intern_cstr("day"),
           price = rv_sym_intern_cstr("price");
    rv_event_set_str(&x, shop, "s1", 2);
    rv_event_set_num(&x, day, 1);
    rv_event_set_num(&x, price, 3);
    rv_estimator_learn(g, &x, NULL, NULL);
    rv_event_set_num(&x, price, 5);
    rv_estimator_learn(g, &x, NULL, NULL);
    cr_assert_eq(transform1(g, &x), 4.0);
    rv_event_set_num(&x, day, 2); /* another group */
    cr_assert_eq(transform1(g, &x), 0.0);
    rv_event_remove(&x, price); /* missing `on`: not learned, no crash */
    cr_assert_eq(rv_estimator_learn(g, &x, NULL, NULL), RV_OK);
    cr_assert_eq(rv_agg_ngroups(g), 1);
    rv_object_free(g);
    rv_event_free(&x);
}

Test(features, group_key_tells_strings_numbers_and_missing_apart)
{
    rv_sym k = rv_sym_intern_cstr("k");
    rv_event a, b, c;
    rv_event_init(&a);
    rv_event_init(&b);
    rv_event_init(&c);
    rv_event_set_str(&a, k, "1", 1);
    rv_event_set_num(&b, k, 1);
    cr_assert_neq(rv_group_key(&a, &k, 1), rv_group_key(&b, &k, 1));
    cr_assert_neq(rv_group_key(&c, &k, 1), rv_group_key(&b, &k, 1));
    rv_event_set_num(&c, k, 1);
    cr_assert_eq(rv_group_key(&c, &k, 1), rv_group_key(&b, &k, 1));
    rv_event_free(&a);
    rv_event_free(&b);
    rv_event_free(&c);
}

/* creme 0.5.1: TargetAgg(by=['g'], how=RollingMean(3)) over regression.csv,
 * transform then learn per row; alone, and fused inside a union. */
Test(reference, targetagg_rm3_by_g)
{
    RV_REQUIRE_SHARED(dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/reference/creme-0.5.1/golden/regression.csv", dir);
    char *data = rv_test_read_file(path, NULL);
    snprintf(path, sizeof path, "%s/reference/creme-0.5.1/golden/targetagg_rm3_by_g.csv", dir);
    char *gold = rv_test_read_file(path, NULL);
    cr_assert(data && gold);
    rv_object *alone = target_agg("g", make1("stats.RollingMean", 3));
    rv_object *parts[1] = {target_agg("g", make1("stats.RollingMean", 3))};
    rv_object *u = rv_union_new(parts, 1, NULL);
    size_t nblocks;
    cr_assert_eq(rv_union_fused_parts(u, &nblocks), 1);
    rv_sym g = rv_sym_intern_cstr("g");
    char *dc = data, *gc = gold, *f[8], *h[4];
    next_line(&dc);
    next_line(&gc);
    char *line;
    int rows = 0;
    rv_event x;
    rv_event_init(&x);
    while ((line = next_line(&dc))) {
        char *gl = next_line(&gc);
        cr_assert_not_null(gl);
        cr_assert_eq(csv_fields(line, f, 8), 6);
        csv_fields(gl, h, 4);
        const char *colon = strstr(h[2], ": ");
        cr_assert_not_null(colon);
        double want = strtod(colon + 2, NULL);
        rv_event_clear(&x);
        rv_event_set_num(&x, g, strtod(f[4], NULL));
        rv_value y = rv_value_num(strtod(f[5], NULL));
        cr_assert_eq(transform1(alone, &x), want, "row %d", rows);
        cr_assert_eq(transform1(u, &x), want, "row %d (fused)", rows);
        rv_estimator_learn(alone, &x, &y, NULL);
        rv_estimator_learn(u, &x, &y, NULL);
        rows++;
    }
    cr_assert_gt(rows, 100);
    rv_event_free(&x);
    rv_object_free(alone);
    rv_object_free(u);
    free(data);
    free(gold);
}
