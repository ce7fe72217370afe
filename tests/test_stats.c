/* Tests of the stats layer: values hand-computed (or from an independent
 * formula such as the two-pass variance), creme 0.5.1 names, describe text,
 * revert(update(x)) = identity, save -> load -> continue = same values,
 * NaN and hostile snapshots never crash. */
#include "rivulet/stats.h"
#include "support.h"

#include <math.h>

static rv_object *mk(const char *name, double arg)
{
    rv_error err = {0};
    rv_object *o = rv_stat_new(name, arg, &err);
    cr_assert_not_null(o, "%s: %s", name, err.message);
    cr_assert(rv_is_stat(o));
    return o;
}

static void feed(rv_object *s, const double *xs, size_t n, const double *want, double tol)
{
    for (size_t i = 0; i < n; i++) {
        rv_stat_update(s, xs[i]);
        double got = rv_stat_get(s);
        if (tol == 0)
            cr_assert_eq(got, want[i], "%s step %zu: got %.17g want %.17g", s->cls->name, i, got,
                         want[i]);
        else
            cr_assert(fabs(got - want[i]) <= tol, "%s step %zu: got %.17g want %.17g",
                      s->cls->name, i, got, want[i]);
    }
}

#define N(a) (sizeof(a) / sizeof(a[0]))

Test(stats, count_sum_mean)
{
    double xs[] = {-5, -3, -1, 1, 3, 5};
    double counts[] = {1, 2, 3, 4, 5, 6}, sums[] = {-5, -8, -9, -8, -5, 0},
           means[] = {-5, -4, -3, -2, -1, 0};
    rv_object *c = mk("Count", NAN), *s = mk("Sum", NAN), *m = mk("Mean", NAN);
    cr_assert_eq(rv_stat_get(c), 0);
    cr_assert_eq(rv_stat_get(m), 0);
    feed(c, xs, 6, counts, 0);
    feed(s, xs, 6, sums, 0);
    feed(m, xs, 6, means, 0);
    rv_object_free(c);
    rv_object_free(s);
    rv_object_free(m);
}

Test(stats, mean_is_the_incremental_formula)
{
    /* SPEC.md §8: mean += (x - mean) / n, not sum / n */
    double xs[] = {0.1, 0.2, 0.7, 1e-3, 3.3, 0.1};
    rv_object *m = mk("Mean", NAN);
    double mean = 0;
    for (size_t i = 0; i < N(xs); i++) {
        mean += (xs[i] - mean) / (double)(i + 1);
        rv_stat_update(m, xs[i]);
        cr_assert_eq(rv_stat_get(m), mean);
    }
    rv_object_free(m);
}

static double two_pass_var(const double *xs, size_t n, int ddof)
{
    if ((long)n <= ddof)
        return 0;
    double mean = 0, ss = 0;
    for (size_t i = 0; i < n; i++)
        mean += xs[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++)
        ss += (xs[i] - mean) * (xs[i] - mean);
    return ss / (double)((long)n - ddof);
}

Test(stats, var_matches_two_pass_formula)
{
    double xs[] = {3, 5, 4, 7, 10, 12, -2.5, 0.25, 8};
    rv_object *v = mk("Var", NAN), *v0 = mk("Var", 0);
    for (size_t i = 0; i < N(xs); i++) {
        rv_stat_update(v, xs[i]);
        rv_stat_update(v0, xs[i]);
        cr_assert(fabs(rv_stat_get(v) - two_pass_var(xs, i + 1, 1)) < 1e-12, "n=%zu", i + 1);
        cr_assert(fabs(rv_stat_get(v0) - two_pass_var(xs, i + 1, 0)) < 1e-12, "n=%zu", i + 1);
    }
    /* creme's docstring values: 0, 2, 1, 2.9166.., 7.7, 12.5666.. */
    rv_object *w = mk("Var", NAN);
    double want[] = {0, 2, 1, 35.0 / 12, 7.7, 12.566666666666666};
    feed(w, xs, 6, want, 1e-12);
    rv_object_free(v);
    rv_object_free(v0);
    rv_object_free(w);
}

Test(stats, ew_mean_and_var)
{
    double xs[] = {1, 3, 5, 4, 6, 8, 7, 9, 11};
    double m[] = {1, 2, 3.5, 3.75, 4.875, 6.4375, 6.71875, 7.859375, 9.4296875};
    double v[] = {0, 1, 2.75, 1.4375, 1.984375, 3.43359375, 1.7958984375, 2.198974609375,
                  3.56536865234375};
    rv_object *a = mk("EWMean", 0.5), *b = mk("EWVar", NAN);
    feed(a, xs, N(xs), m, 0);
    feed(b, xs, N(xs), v, 0);
    rv_object_free(a);
    rv_object_free(b);
}

Test(stats, extremes)
{
    double xs[] = {1, -4, 3, -2, 2, 4};
    double mins[] = {1, -4, -4, -4, -4, -4}, maxs[] = {1, 1, 3, 3, 3, 4}, ptp[] = {0, 5, 7, 7, 7, 8};
    rv_object *a = mk("Min", NAN), *b = mk("Max", NAN), *c = mk("PeakToPeak", NAN);
    cr_assert_eq(rv_stat_get(a), INFINITY);
    cr_assert_eq(rv_stat_get(b), -INFINITY);
    cr_assert_eq(rv_stat_get(c), -INFINITY);
    feed(a, xs, 6, mins, 0);
    feed(b, xs, 6, maxs, 0);
    feed(c, xs, 6, ptp, 0);
    rv_object_free(a);
    rv_object_free(b);
    rv_object_free(c);
}

Test(stats, rolling_mean_evicts_and_keeps_incremental_sum)
{
    double xs[] = {1, 2, 3, 4, 5, 6};
    double w3[] = {1, 1.5, 2, 3, 4, 5};
    rv_object *r = mk("RollingMean", 3);
    cr_assert_eq(rv_stat_get(r), 0);
    feed(r, xs, 6, w3, 0);
    rv_object_free(r);
    /* SPEC.md §3: sum -= oldest when full, then sum += v; get = sum / len */
    double ys[] = {0.1, 0.2, 0.3, 0.7, 1e16, 1, 2, 3};
    rv_object *q = mk("RollingMean", 2);
    double buf[2] = {0}, sum = 0;
    for (size_t i = 0; i < N(ys); i++) {
        if (i >= 2)
            sum -= buf[i % 2];
        sum += ys[i];
        buf[i % 2] = ys[i];
        rv_stat_update(q, ys[i]);
        cr_assert_eq(rv_stat_get(q), sum / (double)(i < 2 ? i + 1 : 2), "step %zu", i);
    }
    /* the 1e16 left the window but its rounding stays in the sum, as in creme */
    cr_assert_neq(rv_stat_get(q), 2.5);
    rv_object_free(q);
}

Test(stats, rolling_sum_var_min_max)
{
    double xs[] = {1, -4, 3, -2, 2, 1};
    double sums[] = {1, -3, -1, 1, 0, 3};
    rv_object *s = mk("RollingSum", 2);
    feed(s, xs, 6, sums, 0);
    double ys[] = {1, 4, 2, -4, -8, 0};
    double v2[] = {0, 4.5, 2, 18, 8, 32};
    double v3[] = {0, 4.5, 7.0 / 3, 52.0 / 3, 76.0 / 3, 16};
    rv_object *a = mk("RollingVar", 2), *b = mk("RollingVar", 3);
    feed(a, ys, 6, v2, 1e-12);
    feed(b, ys, 6, v3, 1e-12);
    double mins[] = {1, -4, -4, -4, -2, -2}, maxs[] = {1, 1, 3, 3, 3, 2};
    rv_object *mn = mk("RollingMin", 3), *mx = mk("RollingMax", 3);
    feed(mn, xs, 6, mins, 0);
    feed(mx, xs, 6, maxs, 0);
    rv_object_free(s);
    rv_object_free(a);
    rv_object_free(b);
    rv_object_free(mn);
    rv_object_free(mx);
}

Test(stats, quantile_p_square_on_the_papers_sequence)
{
    /* The 20 values of Jain & Chlamtac's (1985) worked example. Expected
     * markers from a line-by-line Python transcription of creme 0.5.1's
     * stats/quantile.py (run by hand, outside this repository): creme's
     * variant (after LiveStats) ends at 4.2462..., not the paper's 4.44. */
    double xs[] = {0.02,  0.5,  0.74, 3.39, 0.83, 22.37, 10.15, 15.43, 38.62, 15.92,
                   34.60, 10.28, 1.47, 0.40, 0.05, 11.39, 0.27,  0.42,  0.09,  11.37};
    const double qs[] = {0.5, 0.9, 0.1};
    const double want[] = {4.2462394088036435, 27.79468696892623, 0.1659426807760141};
    const double before[] = {6.1797614914021155, 27.79468696892623, 0.22434391534391537};
    for (int j = 0; j < 3; j++) {
        rv_object *q = mk("Quantile", qs[j]);
        cr_assert_eq(rv_stat_get(q), 0);
        for (size_t i = 0; i < N(xs); i++) {
            rv_stat_update(q, xs[i]);
            if (i == N(xs) - 3)
                cr_assert_eq(rv_stat_get(q), before[j], "q=%g: %.17g", qs[j], rv_stat_get(q));
        }
        cr_assert_eq(rv_stat_get(q), want[j], "q=%g: %.17g", qs[j], rv_stat_get(q));
        rv_object_free(q);
    }
    /* fewer than 5 values: sorted[int(min(len - 1, len * q))] */
    rv_object *p = mk("Quantile", 0.3);
    double ys[] = {9, 1, 5};
    double few[] = {9, 1 /* sorted 1 9, int(0.6) = 0 */, 1 /* 1 5 9, int(0.9) = 0 */};
    feed(p, ys, 3, few, 0);
    rv_object_free(p);
}

Test(stats, rolling_quantile_interpolates)
{
    rv_error err = {0};
    rv_args a;
    rv_args_init(&a, "RollingQuantile");
    rv_args_add_num(&a, "q", 0.5);
    rv_args_add_int(&a, "window_size", 101);
    rv_object *r = rv_create("stats.RollingQuantile", &a, &err);
    rv_args_free(&a);
    cr_assert_not_null(r, "%s", err.message);
    for (int i = 0; i <= 1000; i++) {
        rv_stat_update(r, i);
        if (i % 100 == 0)
            cr_assert_eq(rv_stat_get(r), i < 100 ? i / 2.0 : i - 50.0, "i=%d", i);
    }
    rv_object_free(r);
    rv_args_init(&a, "RollingQuantile");
    rv_args_add_num(&a, NULL, 0.25);
    rv_args_add_int(&a, NULL, 4);
    r = rv_create("RollingQuantile", &a, &err);
    rv_args_free(&a);
    double xs[] = {4, 2, 3, 1, 10};
    double want[] = {4, 2.5, 2.5, 1.75, 1.75 /* 1 2 3 10 -> 1.75 */};
    feed(r, xs, 5, want, 0);
    rv_object_free(r);
}

/* ===== Every class: names, describe, save/load, NaN, revert ===== */

static const struct {
    const char *name;
    double arg;
    const char *fragment, *describe;
} all[] = {
    {"Count", NAN, "count", "stats.Count()"},
    {"Sum", NAN, "sum", "stats.Sum()"},
    {"Mean", NAN, "mean", "stats.Mean()"},
    {"Var", NAN, "var", "stats.Var()"},
    {"Var", 0, "var", "stats.Var(ddof=0)"},
    {"EWMean", 0.25, "ewm_0.25", "stats.EWMean(alpha=0.25)"},
    {"EWMean", NAN, "ewm_0.5", "stats.EWMean()"},
    {"EWVar", 0.5, "ewv_0.5", "stats.EWVar()"},
    {"Min", NAN, "min", "stats.Min()"},
    {"Max", NAN, "max", "stats.Max()"},
    {"PeakToPeak", NAN, "ptp", "stats.PeakToPeak()"},
    {"RollingMean", 7, "rolling_rollingmean_7", "stats.RollingMean(window_size=7)"},
    {"RollingSum", 3, "rolling_rollingsum_3", "stats.RollingSum(window_size=3)"},
    {"RollingVar", 5, "rolling_rollingvar_5", "stats.RollingVar(window_size=5)"},
    {"RollingMin", 4, "rolling_rollingmin_4", "stats.RollingMin(window_size=4)"},
    {"RollingMax", 4, "rolling_rollingmax_4", "stats.RollingMax(window_size=4)"},
    {"Quantile", 0.9, "quantile", "stats.Quantile(q=0.9)"},
    {"Quantile", NAN, "quantile", "stats.Quantile()"},
};

static double sample(int i) { return sin(i * 1.7) * 10 + (i % 3); }

Test(stats, names_describe_and_window_sizes)
{
    for (size_t i = 0; i < N(all); i++) {
        rv_object *s = mk(all[i].name, all[i].arg);
        rv_buf b;
        rv_buf_init(&b);
        rv_stat_name(s, &b);
        cr_assert_str_eq(rv_buf_cstr(&b), all[i].fragment);
        rv_buf_reset(&b);
        cr_assert_eq(rv_object_describe(s, &b), RV_OK);
        cr_assert_str_eq(rv_buf_cstr(&b), all[i].describe);
        rv_buf_free(&b);
        uint32_t k = rv_stat_window_size(s);
        cr_assert_eq(k, strncmp(all[i].name, "Rolling", 7) == 0 ? (uint32_t)all[i].arg : 0);
        rv_object_free(s);
    }
}

Test(stats, save_load_continue_is_identical)
{
    for (size_t i = 0; i < N(all) + 1; i++) {
        rv_object *s;
        if (i < N(all))
            s = mk(all[i].name, all[i].arg);
        else {
            rv_args a;
            rv_args_init(&a, "RollingQuantile");
            rv_args_add_num(&a, NULL, 0.3);
            rv_args_add_int(&a, NULL, 6);
            s = rv_create("RollingQuantile", &a, NULL);
            rv_args_free(&a);
        }
        for (int t = 0; t < 13; t++)
            rv_stat_update(s, sample(t));
        rv_error err = {0};
        rv_object *r = rv_object_roundtrip(s, &err), *c = rv_object_copy(s, &err);
        cr_assert_not_null(r, "%s: %s", s->cls->name, err.message);
        cr_assert_not_null(c);
        for (int t = 13; t < 40; t++) {
            rv_stat_update(s, sample(t));
            rv_stat_update(r, sample(t));
            rv_stat_update(c, sample(t));
            double a = rv_stat_get(s), b = rv_stat_get(r), d = rv_stat_get(c);
            cr_assert(memcmp(&a, &b, 8) == 0 && memcmp(&a, &d, 8) == 0, "%s: %.17g %.17g %.17g",
                      s->cls->name, a, b, d);
        }
        /* a clone starts fresh: fed one value, it equals the statistic of that value alone */
        rv_object *f = rv_object_clone(s, &err), *g = rv_object_roundtrip(f, &err);
        cr_assert_not_null(f);
        cr_assert_not_null(g);
        rv_stat_update(f, 2.5);
        rv_stat_update(g, 2.5);
        cr_assert_eq(rv_stat_get(f), rv_stat_get(g));
        cr_assert(strcmp(s->cls->name, "Count") != 0 || rv_stat_get(f) == 1);
        cr_assert(strcmp(s->cls->name, "Sum") != 0 || rv_stat_get(f) == 2.5);
        rv_object_free(g);
        rv_object_free(f);
        cr_assert_gt(rv_object_memory(s), 0);
        rv_object_free(s);
        rv_object_free(r);
        rv_object_free(c);
    }
}

Test(stats, revert_undoes_update)
{
    const char *names[] = {"Count", "Sum", "Mean", "Var"};
    for (size_t i = 0; i < 4; i++) {
        rv_object *s = mk(names[i], NAN), *ref = mk(names[i], NAN);
        for (int t = 0; t < 9; t++) {
            rv_stat_update(s, sample(t));
            rv_stat_update(ref, sample(t));
        }
        rv_stat_update(s, 123.25);
        cr_assert_eq(rv_stat_revert(s, 123.25), RV_OK);
        cr_assert(fabs(rv_stat_get(s) - rv_stat_get(ref)) <= 1e-12 * fabs(rv_stat_get(ref)),
                  "%s: %.17g vs %.17g", names[i], rv_stat_get(s), rv_stat_get(ref));
        /* and the reverted statistic keeps tracking the reference */
        rv_stat_update(s, 4);
        rv_stat_update(ref, 4);
        cr_assert(fabs(rv_stat_get(s) - rv_stat_get(ref)) <= 1e-12 * fabs(rv_stat_get(ref)));
        rv_object_free(s);
        rv_object_free(ref);
    }
    /* reverting everything gives the empty state; below empty is refused */
    rv_object *m = mk("Var", NAN);
    rv_stat_update(m, 3);
    rv_stat_update(m, 5);
    cr_assert_eq(rv_stat_revert(m, 5), RV_OK);
    cr_assert_eq(rv_stat_get(m), 0);
    cr_assert_eq(rv_stat_revert(m, 3), RV_OK);
    cr_assert_eq(rv_stat_revert(m, 3), RV_ESTATE);
    rv_object_free(m);
    rv_object *r = mk("RollingMean", 3);
    cr_assert_eq(rv_stat_revert(r, 1), RV_EUNSUPPORTED);
    rv_object_free(r);
}

Test(stats, nan_is_defined_and_never_crashes)
{
    for (size_t i = 0; i < N(all); i++) {
        rv_object *s = mk(all[i].name, all[i].arg);
        for (int t = 0; t < 12; t++)
            rv_stat_update(s, t % 4 == 1 ? NAN : sample(t));
        (void)rv_stat_get(s);
        rv_object_free(s);
    }
    /* ignored by the order statistics */
    rv_object *mn = mk("Min", NAN), *q = mk("Quantile", 0.5), *rm = mk("RollingMax", 2);
    double xs[] = {NAN, 3, NAN, 1, 2};
    for (size_t i = 0; i < N(xs); i++) {
        rv_stat_update(mn, xs[i]);
        rv_stat_update(q, xs[i]);
        rv_stat_update(rm, xs[i]);
    }
    cr_assert_eq(rv_stat_get(mn), 1);
    cr_assert_eq(rv_stat_get(q), 2); /* sorted 1 2 3, index int(1.5) */
    cr_assert_eq(rv_stat_get(rm), 2);
    /* propagated by the sums, as creme's arithmetic does */
    rv_object *rs = mk("RollingMean", 2);
    rv_stat_update(rs, NAN);
    rv_stat_update(rs, 1);
    rv_stat_update(rs, 1);
    cr_assert(isnan(rv_stat_get(rs)));
    rv_object_free(mn);
    rv_object_free(q);
    rv_object_free(rm);
    rv_object_free(rs);
}

Test(stats, bad_arguments_and_hostile_snapshots)
{
    rv_error err = {0};
    cr_assert_null(rv_stat_new("RollingMean", 0, &err));
    cr_assert_null(rv_stat_new("Quantile", 1, &err));
    cr_assert_null(rv_stat_new("EWMean", 0, &err));
    cr_assert_null(rv_stat_new("Var", 0.5, &err));
    cr_assert_null(rv_stat_new("NoSuchStat", 1, &err));
    cr_assert_eq(err.code, RV_ENOTFOUND);
    cr_assert_null(rv_create("stats.RollingMean", NULL, &err));
    cr_assert(strstr(err.message, "window_size"), "%s", err.message);
    rv_object *c = rv_stat_new("Count", 5, &err); /* arg ignored: Count takes none */
    cr_assert_not_null(c);
    rv_object_free(c);
    /* a window claiming more values than its size, and truncations */
    rv_object *r = mk("RollingMean", 2);
    rv_buf b;
    rv_buf_init(&b);
    rv_buf_put_u32(&b, 3);
    for (int i = 0; i < 5; i++)
        rv_buf_put_f64(&b, 1);
    rv_reader rd;
    rv_reader_init(&rd, b.data, b.len);
    cr_assert_neq(r->cls->load(r, &rd), RV_OK);
    rv_buf_free(&b);
    for (size_t i = 0; i < N(all); i++) {
        rv_object *s = mk(all[i].name, all[i].arg);
        for (int t = 0; t < 7; t++)
            rv_stat_update(s, sample(t));
        rv_buf_init(&b);
        s->cls->save(s, &b);
        for (size_t cut = 0; cut < b.len; cut++) {
            rv_object *f = rv_object_clone(s, NULL);
            rv_reader_init(&rd, b.data, cut);
            cr_assert_neq(f->cls->load(f, &rd) == RV_OK && rd.status == RV_OK, 1,
                          "%s loaded a %zu-byte truncation", s->cls->name, cut);
            rv_object_free(f);
        }
        rv_buf_free(&b);
        rv_object_free(s);
    }
    rv_object_free(r);
}
