/* Tests of the neighbors module: hand-computed predictions of creme's
 * KNeighborsRegressor and River's KNNRegressor/KNNClassifier, window
 * memory, snapshots, robustness, and parity with creme 0.5.1's golden
 * outputs (suite `reference`). */
#include "golden.h"
#include "rivulet/core.h"
#include "rivulet/neighbors.h"
#include "rivulet/preprocessing.h"
#include "support.h"

#include <math.h>

static rv_sym S(const char *s) { return rv_sym_intern_cstr(s); }

/* Builds a class from "k=v" integer/float args and string args. */
static rv_object *make(const char *name, const char *const *kw, const double *v, size_t n,
                       const char *skw, const char *sval)
{
    rv_args a;
    rv_args_init(&a, name);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(kw[i], "weighted") == 0 || strcmp(kw[i], "softmax") == 0)
            rv_args_add_bool(&a, kw[i], v[i] != 0);
        else if (v[i] == floor(v[i]))
            rv_args_add_int(&a, kw[i], (long)v[i]);
        else
            rv_args_add_num(&a, kw[i], v[i]);
    }
    if (skw)
        rv_args_add_str(&a, skw, sval);
    rv_error err = {0};
    rv_object *o = rv_create(name, &a, &err);
    rv_args_free(&a);
    cr_assert_not_null(o, "%s: %s", name, err.message);
    return o;
}

static void learn1(rv_object *o, double a, double y)
{
    rv_event x;
    rv_event_init(&x);
    rv_event_set_num(&x, S("a"), a);
    rv_value t = rv_value_num(y);
    cr_assert_eq(rv_estimator_learn(o, &x, &t, NULL), RV_OK);
    rv_event_free(&x);
}

static double predict1(rv_object *o, double a)
{
    rv_event x;
    rv_event_init(&x);
    rv_event_set_num(&x, S("a"), a);
    rv_prediction p;
    rv_prediction_init(&p);
    cr_assert_eq(rv_estimator_predict(o, &x, &p, NULL), RV_OK);
    double r = p.num;
    rv_prediction_free(&p);
    rv_event_free(&x);
    return r;
}

Test(neighbors, creme_knn_hand_computed)
{
    const char *kw[] = {"n_neighbors", "window_size"};
    rv_object *o = make("neighbors.KNeighborsRegressor", kw, (double[]){2, 3}, 2, NULL, NULL);
    cr_assert_eq(predict1(o, 1), 0.0, "empty window");
    learn1(o, 0, 1);
    learn1(o, 1, 2);
    learn1(o, 3, 3);
    /* query 2: squared distances 4, 1, 1; the tie keeps the older first */
    cr_assert_eq(predict1(o, 2), (2 / 1.0 + 3 / 1.0) / (1 / 1.0 + 1 / 1.0));
    /* query 0.5: d = .25, .25, 6.25 -> weights 4, 4 */
    cr_assert_eq(predict1(o, 0.5), (1 / 0.25 + 2 / 0.25) / (1 / 0.25 + 1 / 0.25));
    /* query -1: squared distances 1 and 4 (no root): (1/1 + 2/4) / (1 + 1/4) */
    cr_assert_eq(predict1(o, -1), (1 / 1.0 + 2 / 4.0) / (1 / 1.0 + 1 / 4.0));
    cr_assert_eq(predict1(o, 1), 2.0, "exact match returns its y");
    learn1(o, 10, 7); /* evicts (0, 1) */
    cr_assert_eq(predict1(o, 0), (2 / 1.0 + 3 / 9.0) / (1 / 1.0 + 1 / 9.0));
    rv_object_free(o);
}

Test(neighbors, creme_knn_uniform_divides_by_k)
{
    const char *kw[] = {"n_neighbors", "p", "weighted"};
    rv_object *o = make("neighbors.KNeighborsRegressor", kw, (double[]){5, 1, 0}, 3, NULL, NULL);
    learn1(o, 0, 1);
    learn1(o, 1, 2);
    cr_assert_eq(predict1(o, 0.5), 3 / 5.0, "creme divides by k even with 2 points");
    rv_buf b;
    rv_buf_init(&b);
    rv_object_describe(o, &b);
    cr_assert_str_eq(rv_buf_cstr(&b), "neighbors.KNeighborsRegressor(p=1.0, weighted=False)");
    rv_buf_free(&b);
    rv_object_free(o);
}

Test(neighbors, absent_features_count_as_zero)
{
    rv_object *o = make("neighbors.KNeighborsRegressor", NULL, NULL, 0, NULL, NULL);
    rv_event x;
    rv_event_init(&x);
    rv_value y = rv_value_num(10);
    rv_event_set_num(&x, S("a"), 1);
    rv_estimator_learn(o, &x, &y, NULL); /* point {a: 1} */
    rv_event_clear(&x);
    rv_event_set_num(&x, S("b"), 2);
    y = rv_value_num(20);
    rv_estimator_learn(o, &x, &y, NULL); /* point {b: 2} */
    rv_event_clear(&x);
    rv_event_set_num(&x, S("c"), 1); /* query {c: 1}: d1 = 1 + 1 = 2, d2 = 4 + 1 = 5 */
    rv_prediction p;
    rv_prediction_init(&p);
    rv_estimator_predict(o, &x, &p, NULL);
    cr_assert_eq(p.num, (10 / 2.0 + 20 / 5.0) / (1 / 2.0 + 1 / 5.0));
    rv_prediction_free(&p);
    rv_event_free(&x);
    rv_object_free(o);
}

Test(neighbors, river_regressor_aggregations)
{
    const char *kw[] = {"n_neighbors"};
    rv_object *mean = make("neighbors.KNNRegressor", kw, (double[]){3}, 1, NULL, NULL);
    rv_object *med = make("neighbors.KNNRegressor", kw, (double[]){4}, 1, "aggregation_method",
                          "median");
    rv_object *wm = make("neighbors.KNNRegressor", kw, (double[]){2}, 1, "aggregation_method",
                         "weighted_mean");
    double pts[][2] = {{0, 1}, {3, 4}, {5, 10}, {9, 100}, {20, 1000}};
    for (int i = 0; i < 5; i++) {
        learn1(mean, pts[i][0], pts[i][1]);
        learn1(med, pts[i][0], pts[i][1]);
        learn1(wm, pts[i][0], pts[i][1]);
    }
    cr_assert_eq(predict1(mean, 1), (1 + 4 + 10) / 3.0);
    cr_assert_eq(predict1(med, 1), (4 + 10) / 2.0);
    /* true distance: 1 and 2 (creme's squared distance would give 1.6) */
    cr_assert_eq(predict1(wm, 1), (1 / 1.0 + 4 / 2.0) / (1 / 1.0 + 1 / 2.0));
    cr_assert_eq(predict1(wm, 3), 4.0, "exact match");
    rv_buf b;
    rv_buf_init(&b);
    rv_object_describe(med, &b);
    cr_assert_str_eq(rv_buf_cstr(&b),
                     "neighbors.KNNRegressor(n_neighbors=4, aggregation_method='median')");
    rv_buf_free(&b);
    rv_object_free(mean);
    rv_object_free(med);
    rv_object_free(wm);
    rv_error err = {0};
    rv_args a;
    rv_args_init(&a, "KNNRegressor");
    rv_args_add_str(&a, "aggregation_method", "mode");
    cr_assert_null(rv_create("neighbors.KNNRegressor", &a, &err));
    cr_assert(strstr(err.message, "median"), "%s", err.message);
    rv_args_free(&a);
}

static void learn_label(rv_object *o, double a, const char *label)
{
    rv_event x;
    rv_event_init(&x);
    rv_event_set_num(&x, S("a"), a);
    rv_value y = rv_value_cstr(label);
    cr_assert_eq(rv_estimator_learn(o, &x, &y, NULL), RV_OK);
    rv_event_free(&x);
}

static double proba_of(const rv_prediction *p, const char *label)
{
    for (uint32_t i = 0; i < p->n; i++)
        if (p->labels[i] == S(label))
            return p->proba[i];
    cr_assert_fail("no label %s", label);
    return 0;
}

Test(neighbors, river_classifier_probabilities)
{
    const char *kw[] = {"n_neighbors", "softmax"};
    rv_object *lin = make("neighbors.KNNClassifier", kw, (double[]){3, 0}, 2, NULL, NULL);
    rv_object *soft = make("neighbors.KNNClassifier", kw, (double[]){3, 1}, 2, NULL, NULL);
    rv_event x;
    rv_event_init(&x);
    rv_prediction p;
    rv_prediction_init(&p);
    rv_estimator_predict(lin, &x, &p, NULL);
    cr_assert_eq(p.n, 0, "no class known yet");
    double pts[] = {0, 1, 10, 50};
    const char *labels[] = {"a", "a", "b", "c"};
    for (int i = 0; i < 4; i++) {
        learn_label(lin, pts[i], labels[i]);
        learn_label(soft, pts[i], labels[i]);
    }
    rv_event_set_num(&x, S("a"), 2); /* distances 2, 1, 8: votes a 1/2 + 1, b 1/8 */
    rv_estimator_predict(lin, &x, &p, NULL);
    cr_assert_eq(p.n, 3);
    double va = 1 / 2.0 + 1 / 1.0, vb = 1 / 8.0;
    cr_assert_eq(proba_of(&p, "a"), va / (va + vb + 0.0));
    cr_assert_eq(proba_of(&p, "b"), vb / (va + vb + 0.0));
    cr_assert_eq(proba_of(&p, "c"), 0.0);
    cr_assert_eq(rv_prediction_argmax(&p), S("a"));
    rv_estimator_predict(soft, &x, &p, NULL);
    double ea = exp(0.0), eb = exp(vb - va), ec = exp(0 - va), tot = ea + eb + ec;
    cr_assert_eq(proba_of(&p, "a"), ea / tot);
    cr_assert_eq(proba_of(&p, "b"), eb / tot);
    cr_assert_eq(proba_of(&p, "c"), ec / tot);
    rv_event_set_num(&x, S("a"), 10);
    rv_estimator_predict(soft, &x, &p, NULL);
    cr_assert(proba_of(&p, "b") == 1.0 && proba_of(&p, "a") == 0.0, "exact match");
    rv_object *r = rv_object_roundtrip(soft, NULL);
    cr_assert_not_null(r);
    rv_prediction q;
    rv_prediction_init(&q);
    rv_event_set_num(&x, S("a"), 7);
    rv_estimator_predict(soft, &x, &p, NULL);
    rv_estimator_predict(r, &x, &q, NULL);
    cr_assert_eq(p.n, q.n);
    for (uint32_t i = 0; i < p.n; i++)
        cr_assert(p.labels[i] == q.labels[i] && p.proba[i] == q.proba[i]);
    rv_prediction_free(&q);
    rv_prediction_free(&p);
    rv_event_free(&x);
    rv_object_free(r);
    rv_object_free(lin);
    rv_object_free(soft);
}

static void fill(rv_event *x, int i, int nf)
{
    char name[16];
    rv_event_clear(x);
    for (int f = 0; f < nf; f++) {
        snprintf(name, sizeof name, "f%d", f);
        rv_event_set_num(x, S(name), sin(i * 0.7 + f) * (f + 1));
    }
}

Test(neighbors, window_of_30_points_29_features_is_compact)
{
    const char *kw[] = {"n_neighbors", "window_size"};
    rv_object *o = make("neighbors.KNeighborsRegressor", kw, (double[]){15, 30}, 2, NULL, NULL);
    rv_event x;
    rv_event_init(&x);
    for (int i = 0; i < 100; i++) {
        fill(&x, i, 29);
        rv_value y = rv_value_num(i);
        rv_estimator_learn(o, &x, &y, NULL);
    }
    size_t mem = rv_object_memory(o);
    cr_assert_leq(mem, 7680, "30 x 29 window takes %zu bytes", mem);
    cr_assert_geq(mem, 30 * 29 * 8, "memory must count the rows");
    fprintf(stderr, "KNeighborsRegressor(window_size=30), 29 features: %zu bytes\n", mem);
    rv_event_free(&x);
    rv_object_free(o);
}

Test(neighbors, changing_features_do_not_grow_without_bound)
{
    const char *kw[] = {"window_size"};
    rv_object *o = make("neighbors.KNeighborsRegressor", kw, (double[]){5}, 1, NULL, NULL);
    rv_event x;
    rv_event_init(&x);
    char name[32];
    for (int i = 0; i < 2000; i++) {
        rv_event_clear(&x);
        snprintf(name, sizeof name, "one_hot_%d", i);
        rv_event_set_num(&x, S(name), 1);
        rv_event_set_num(&x, S("base"), i);
        rv_value y = rv_value_num(i);
        rv_estimator_learn(o, &x, &y, NULL);
    }
    cr_assert_leq(rv_object_memory(o), 4096, "memory %zu", rv_object_memory(o));
    /* the last point is still found exactly */
    rv_prediction p;
    rv_prediction_init(&p);
    rv_estimator_predict(o, &x, &p, NULL);
    cr_assert_eq(p.num, 1999.0);
    rv_prediction_free(&p);
    rv_event_free(&x);
    rv_object_free(o);
}

Test(neighbors, save_load_continue_bit_identical)
{
    const char *names[] = {"neighbors.KNeighborsRegressor", "neighbors.KNNRegressor",
                           "neighbors.KNNClassifier"};
    const char *kw[] = {"n_neighbors", "window_size"};
    rv_event x;
    rv_event_init(&x);
    rv_prediction p, q;
    rv_prediction_init(&p);
    rv_prediction_init(&q);
    for (int k = 0; k < 3; k++) {
        rv_object *o = make(names[k], kw, (double[]){3, 7}, 2, NULL, NULL);
        for (int i = 0; i < 12; i++) { /* wraps the ring */
            fill(&x, i, 4 + i % 2);
            rv_value y = rv_value_num(i % 3);
            rv_estimator_learn(o, &x, &y, NULL);
        }
        rv_error err = {0};
        rv_object *r = rv_object_roundtrip(o, &err);
        cr_assert_not_null(r, "%s: %s", names[k], err.message);
        rv_object *c = rv_object_copy(o, &err);
        for (int i = 12; i < 30; i++) {
            fill(&x, i, 4 + i % 3);
            rv_object *all[] = {o, r, c};
            rv_value y = rv_value_num(i % 3);
            rv_estimator_predict(o, &x, &p, NULL);
            for (int j = 1; j < 3; j++) {
                rv_estimator_predict(all[j], &x, &q, NULL);
                cr_assert(memcmp(&p.num, &q.num, 8) == 0, "%s differs", names[k]);
                cr_assert_eq(p.n, q.n);
                for (uint32_t l = 0; l < p.n; l++)
                    cr_assert(p.proba[l] == q.proba[l]);
            }
            for (int j = 0; j < 3; j++)
                rv_estimator_learn(all[j], &x, &y, NULL);
        }
        rv_buf b;
        rv_buf_init(&b);
        o->cls->save(o, &b);
        for (size_t cut = 0; cut < b.len; cut += 1 + b.len / 60) {
            rv_object *f = rv_object_clone(o, NULL);
            rv_reader rd;
            rv_reader_init(&rd, b.data, cut);
            rv_status st = f->cls->load(f, &rd);
            cr_assert(st != RV_OK || rd.status != RV_OK);
            rv_object_free(f);
        }
        rv_buf_free(&b);
        rv_object_free(o);
        rv_object_free(r);
        rv_object_free(c);
    }
    rv_prediction_free(&p);
    rv_prediction_free(&q);
    rv_event_free(&x);
}

Test(neighbors, nan_inf_strings_never_crash)
{
    const char *names[] = {"neighbors.KNeighborsRegressor", "neighbors.KNNRegressor",
                           "neighbors.KNNClassifier"};
    double odd[] = {NAN, INFINITY, -INFINITY, 0, 1, -0.0, 1e308};
    rv_event x;
    rv_event_init(&x);
    rv_prediction p;
    rv_prediction_init(&p);
    for (int k = 0; k < 3; k++) {
        rv_object *o = make(names[k], NULL, NULL, 0, NULL, NULL);
        for (int i = 0; i < 30; i++) {
            rv_event_clear(&x);
            if (i % 4)
                rv_event_set_num(&x, S("a"), odd[i % 7]);
            rv_event_set_str(&x, S("s"), "str", 3);
            rv_event_set_num(&x, S(i % 2 ? "b" : "c"), odd[(i + 2) % 7]);
            cr_assert_eq(rv_estimator_predict(o, &x, &p, NULL), RV_OK);
            rv_value y = rv_value_num(odd[(i + 4) % 7]);
            cr_assert_eq(rv_estimator_learn(o, &x, &y, NULL), RV_OK);
        }
        rv_value s = rv_value_cstr("label");
        cr_assert_eq(rv_estimator_learn(o, &x, &s, NULL) == RV_OK, k == 2,
                     "regressors refuse a string target");
        rv_event_clear(&x);
        cr_assert_eq(rv_estimator_predict(o, &x, &p, NULL), RV_OK);
        rv_object_free(o);
    }
    rv_prediction_free(&p);
    rv_event_free(&x);
}

/* ===== Parity with creme 0.5.1 ===== */

/* Progressive validation over regression.csv (x1, x2, x3): predict then
 * learn, optionally through a StandardScaler that learns then transforms in
 * the predict step (creme 0.5.1 pipeline semantics). Returns the number of
 * rows that differ at all; fails beyond 1e-12. */
static size_t knn_parity(const char *file, rv_object *knn, rv_object *scaler)
{
    RV_REQUIRE_SHARED(dir);
    static golden_input in;
    golden_load_input(dir, &in);
    char **rows;
    size_t n = golden_load_column(dir, file, &rows), inexact = 0;
    cr_assert_eq(n, in.n);
    rv_event raw, x;
    rv_event_init(&raw);
    rv_event_init(&x);
    rv_prediction p;
    rv_prediction_init(&p);
    for (size_t i = 0; i < n; i++) {
        rv_event_clear(&raw);
        rv_event_push_num(&raw, S("x1"), in.x1[i]);
        rv_event_push_num(&raw, S("x2"), in.x2[i]);
        rv_event_push_num(&raw, S("x3"), in.x3[i]);
        if (scaler) {
            cr_assert_eq(rv_estimator_learn(scaler, &raw, NULL, NULL), RV_OK);
            cr_assert_eq(rv_estimator_transform(scaler, &raw, &x, NULL), RV_OK);
        } else {
            rv_event_assign(&x, &raw);
        }
        cr_assert_eq(rv_estimator_predict(knn, &x, &p, NULL), RV_OK);
        double want = strtod(rows[i], NULL);
        if (p.num != want) {
            inexact++;
            cr_assert(fabs(p.num - want) <= 1e-12 * fmax(1, fabs(want)),
                      "%s row %zu: got %.17g want %.17g", file, i, p.num, want);
        }
        rv_value y = rv_value_num(in.y[i]);
        cr_assert_eq(rv_estimator_learn(knn, &x, &y, NULL), RV_OK);
    }
    golden_free_column(rows, n);
    rv_prediction_free(&p);
    rv_event_free(&raw);
    rv_event_free(&x);
    return inexact;
}

Test(reference, knn_p1_uniform_bit_for_bit)
{
    const char *kw[] = {"window_size", "n_neighbors", "p", "weighted"};
    rv_object *knn =
        make("neighbors.KNeighborsRegressor", kw, (double[]){10, 3, 1, 0}, 4, NULL, NULL);
    size_t inexact = knn_parity("knn_p1_uniform.csv", knn, NULL);
    cr_assert_eq(inexact, 0, "%zu rows differ from creme", inexact);
    rv_object_free(knn);
}

Test(reference, ss_knn_blog_bit_for_bit)
{
    const char *kw[] = {"window_size", "n_neighbors", "p"};
    rv_object *knn =
        make("neighbors.KNeighborsRegressor", kw, (double[]){30, 15, 2}, 3, NULL, NULL);
    rv_object *ss = rv_create("preprocessing.StandardScaler", &(rv_args){0}, NULL);
    cr_assert_not_null(ss);
    size_t inexact = knn_parity("ss_knn_blog.csv", knn, ss);
    cr_assert_eq(inexact, 0, "%zu rows within 1e-12 but not bit for bit", inexact);
    rv_object_free(knn);
    rv_object_free(ss);
}

/* ===== The squared search against pow (knn_sq.c and the portable loop) ===== */

#include "neighbors/knn.h"

static volatile double pow_two_exponent = 2.0; /* run-time: GCC folds pow(d, 2.0) into d * d */

static uint64_t sq_rng = 0x9e3779b97f4a7c15ULL;
static uint64_t sq_next(void)
{
    sq_rng ^= sq_rng << 13;
    sq_rng ^= sq_rng >> 7;
    sq_rng ^= sq_rng << 17;
    return sq_rng;
}
static double sq_unit(void) { return (double)(sq_next() >> 11) * 0x1p-53; }

/* A feature value: mostly standardised-looking, sometimes a repeat, a far
 * scale, a tiny offset from a repeat, or (when odd is 1) NaN/inf. With odd
 * 2, only 0 or 1: many rows at equal distances, so ties cut by k. */
static double sq_value(double prev, int odd)
{
    if (odd == 2)
        return (double)(sq_next() % 2);
    uint64_t u = sq_next() % 64;
    if (u < 4)
        return prev; /* d = 0 */
    if (u < 6)
        return prev + 0x1p-40 * (sq_unit() - 0.5); /* tiny d */
    if (u < 8)
        return ldexp(sq_unit() - 0.5, (int)(sq_next() % 80) - 20);
    if (odd && u == 8)
        return (sq_next() & 1) ? NAN : INFINITY;
    return 4 * (sq_unit() - 0.5);
}

/* rows: size rows of 48 doubles, the first cols of them pushed. */
static int sq_reference(const double *rows, const double *ys, uint32_t size, uint32_t cols,
                        const double *q, uint32_t qn, uint32_t k, rv_knn_hit *out)
{
    rv_knn_hit all[64];
    uint32_t m = 0;
    for (uint32_t a = 0; a < size; a++) {
        double s = 0.0;
        for (uint32_t c = 0; c < qn; c++) {
            double v = c < cols ? rows[a * 48 + c] : 0.0;
            s += pow(fabs(q[c] - v), pow_two_exponent);
        }
        /* stable insertion, NaN last */
        uint32_t j = m++;
        while (j > 0 && (s < all[j - 1].d || (isnan(all[j - 1].d) && !isnan(s)))) {
            all[j] = all[j - 1];
            j--;
        }
        all[j].d = s;
        all[j].y = ys[a];
    }
    uint32_t n = m < k ? m : k;
    memcpy(out, all, n * sizeof *out);
    return (int)n;
}

static void sq_trials(int fast, int odd, int trials)
{
    rv_knn_sq_enable(fast);
    char name[16];
    rv_sym f[48];
    for (int i = 0; i < 48; i++) {
        snprintf(name, sizeof name, "sq%d", i);
        f[i] = S(name);
    }
    for (int t = 0; t < trials; t++) {
        uint32_t cols = 1 + (uint32_t)(sq_next() % 40), window = 1 + (uint32_t)(sq_next() % 40);
        uint32_t pushes = (uint32_t)(sq_next() % 60), k = 1 + (uint32_t)(sq_next() % 20);
        uint32_t qn = cols + (uint32_t)(sq_next() % 3); /* extra query features */
        rv_knn_window w;
        rv_knn_window_init(&w, window);
        double hist[100][48], ys[100], base[48];
        for (uint32_t c = 0; c < 48; c++)
            base[c] = 4 * (sq_unit() - 0.5);
        rv_event x;
        rv_event_init(&x);
        for (uint32_t i = 0; i < pushes; i++) {
            rv_event_clear(&x);
            for (uint32_t c = 0; c < cols; c++) {
                hist[i][c] = sq_value(base[c], odd);
                rv_event_set_num(&x, f[c], hist[i][c]);
            }
            ys[i] = (double)i;
            cr_assert_eq(rv_knn_window_push(&w, &x, ys[i]), RV_OK);
        }
        double q[48];
        rv_event_clear(&x);
        for (uint32_t c = 0; c < qn; c++) {
            q[c] = sq_value(base[c], odd);
            rv_event_set_num(&x, f[c], q[c]);
        }
        uint32_t first = pushes > window ? pushes - window : 0, size = pushes - first;
        rv_knn_hit want[64];
        uint32_t nw = (uint32_t)sq_reference(&hist[first][0], ys + first, size, cols, q, qn, k, want);
        uint32_t n;
        const rv_knn_hit *got = rv_knn_window_nearest(&w, &x, 2.0, k, &n);
        cr_assert_not_null(got);
        cr_assert_eq(n, nw, "trial %d: %u hits, want %u", t, n, nw);
        for (uint32_t i = 0; i < n; i++) {
            cr_assert(memcmp(&got[i].d, &want[i].d, 8) == 0 && got[i].y == want[i].y,
                      "trial %d (fast %d) hit %u: %a (y %g), want %a (y %g)", t, fast, i, got[i].d,
                      got[i].y, want[i].d, want[i].y);
        }
        rv_event_free(&x);
        rv_knn_window_free(&w);
    }
    rv_knn_sq_enable(1);
}

/* Both search paths against a plain pow(|d|, 2) sum with a stable sort, on
 * random windows (some not yet full, some query features outside the
 * window), with zero, tiny and far-scale differences. */
Test(neighbors, squared_search_matches_pow)
{
    sq_trials(1, 0, 3000);
    sq_trials(0, 0, 1000);
}

/* Equal distances keep the older point first, whichever way the search
 * inserts them (y is the push number). */
Test(neighbors, squared_search_keeps_ties_in_age_order)
{
    sq_trials(1, 2, 2000);
    sq_trials(0, 2, 500);
}

Test(neighbors, squared_search_matches_pow_with_nan_and_inf)
{
    sq_trials(1, 1, 1000);
    sq_trials(0, 1, 500);
}

/* A square that glibc's pow rounds the other way from d * d. */
Test(neighbors, squared_search_uses_pow_rounding)
{
    for (int fast = 1; fast >= 0; fast--) {
        rv_knn_sq_enable(fast);
        rv_object *m = make("neighbors.KNeighborsRegressor", (const char *[]){"n_neighbors"},
                            (double[]){1}, 1, NULL, NULL);
        rv_knn *knn = (rv_knn *)m;
        rv_event x;
        rv_event_init(&x);
        rv_event_set_num(&x, S("a"), 0.0);
        cr_assert_eq(rv_knn_window_push(&knn->win, &x, 1.0), RV_OK);
        rv_event_clear(&x);
        rv_event_set_num(&x, S("a"), 0x1.012f09cde1ad7p+0);
        uint32_t n;
        const rv_knn_hit *h = rv_knn_window_nearest(&knn->win, &x, 2.0, 1, &n);
        cr_assert_eq(n, 1);
        cr_assert(h[0].d == 0x1.025f7a53f9173p+0, "fast %d: %a", fast, h[0].d);
        rv_event_free(&x);
        rv_object_free(m);
    }
    rv_knn_sq_enable(1);
}
