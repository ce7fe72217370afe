/* Tests of the preprocessing module: hand-computed scaler outputs, River's
 * OneHotEncoder examples, FeatureHasher determinism, snapshots, robustness,
 * and parity with creme 0.5.1's golden outputs (suite `reference`). */
#include "golden.h"
#include "rivulet/core.h"
#include "rivulet/preprocessing.h"
#include "support.h"

#include <math.h>

static rv_object *make(const char *name, const char *kw, int flag)
{
    rv_args a;
    rv_args_init(&a, name);
    if (kw)
        rv_args_add_bool(&a, kw, flag);
    rv_error err = {0};
    rv_object *o = rv_create(name, &a, &err);
    rv_args_free(&a);
    cr_assert_not_null(o, "%s: %s", name, err.message);
    return o;
}

static rv_sym S(const char *s) { return rv_sym_intern_cstr(s); }

/* learn then transform one event with the given numeric feature x */
static double step(rv_object *o, rv_event *x, rv_event *out, const char *name, double v)
{
    rv_event_clear(x);
    rv_event_set_num(x, S(name), v);
    cr_assert_eq(rv_estimator_learn(o, x, NULL, NULL), RV_OK);
    cr_assert_eq(rv_estimator_transform(o, x, out, NULL), RV_OK);
    return rv_event_get(out, S(name))->num;
}

Test(preprocessing, standard_scaler_hand_computed)
{
    rv_object *o = make("preprocessing.StandardScaler", NULL, 0);
    rv_event x, out;
    rv_event_init(&x);
    rv_event_init(&out);
    cr_assert_eq(step(o, &x, &out, "a", 1), 0.0);         /* var 0: v - mean */
    /* n=2: mean 1.5, sample var 0.5 -> 0.5 / 0.5 ** .5 */
    cr_assert_eq(step(o, &x, &out, "a", 2), 0.5 / pow(0.5, 0.5));
    /* n=3: mean 2, sample var 1 -> (6 - 2)... values 1,2,6: mean 3, var 7 */
    cr_assert_eq(step(o, &x, &out, "a", 6), 3.0 / pow(7.0, 0.5));
    /* a feature never learned passes through as v - 0 */
    rv_event_clear(&x);
    rv_event_set_num(&x, S("never"), 4.5);
    rv_event_set_str(&x, S("s"), "abc", 3);
    cr_assert_eq(rv_estimator_transform(o, &x, &out, NULL), RV_OK);
    cr_assert_eq(rv_event_get(&out, S("never"))->num, 4.5);
    cr_assert_eq(rv_event_get(&out, S("s"))->kind, RV_STR, "strings pass through");
    cr_assert_eq(memcmp(rv_event_get(&out, S("s"))->str, "abc", 3), 0);
    rv_event_free(&x);
    rv_event_free(&out);
    rv_object_free(o);
}

Test(preprocessing, standard_scaler_without_std)
{
    rv_object *o = make("preprocessing.StandardScaler", "with_std", 0);
    rv_event x, out;
    rv_event_init(&x);
    rv_event_init(&out);
    step(o, &x, &out, "a", 1);
    cr_assert_eq(step(o, &x, &out, "a", 4), 1.5);
    rv_event_free(&x);
    rv_event_free(&out);
    rv_object_free(o);
}

Test(preprocessing, min_max_scaler_hand_computed)
{
    rv_object *o = make("preprocessing.MinMaxScaler", NULL, 0);
    rv_event x, out;
    rv_event_init(&x);
    rv_event_init(&out);
    cr_assert_eq(step(o, &x, &out, "a", 2), 0.0);
    cr_assert_eq(step(o, &x, &out, "a", 4), 1.0);
    cr_assert_eq(step(o, &x, &out, "a", 3), 0.5);
    cr_assert_eq(step(o, &x, &out, "a", -2), 0.0);
    cr_assert_eq(step(o, &x, &out, "a", 1), 0.5);
    rv_event_clear(&x);
    rv_event_set_num(&x, S("never"), 1);
    rv_estimator_transform(o, &x, &out, NULL);
    cr_assert(isnan(out.items[0].num), "creme: an unseen feature is NaN");
    rv_event_free(&x);
    rv_event_free(&out);
    rv_object_free(o);
}

Test(preprocessing, max_abs_scaler_hand_computed)
{
    rv_object *o = make("preprocessing.MaxAbsScaler", NULL, 0);
    rv_event x, out;
    rv_event_init(&x);
    rv_event_init(&out);
    cr_assert_eq(step(o, &x, &out, "a", -4), -1.0);
    cr_assert_eq(step(o, &x, &out, "a", 2), 0.5);
    cr_assert_eq(step(o, &x, &out, "a", NAN) != 0, 1); /* NaN in, NaN out, no crash */
    cr_assert_eq(step(o, &x, &out, "a", 1), 0.25, "NaN must not replace the max");
    cr_assert_eq(step(o, &x, &out, "z", 0), 0.0, "max 0: River's safe_div gives 0.0");
    rv_event_free(&x);
    rv_event_free(&out);
    rv_object_free(o);
}

/* Expects out to hold exactly the (name, value) pairs given, in order. */
static void expect(const rv_event *out, const char *const *names, const double *vals, size_t n)
{
    cr_assert_eq(out->n, n, "got %u features, want %zu", out->n, n);
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(rv_sym_name(out->items[i].name), names[i]);
        cr_assert_eq(out->items[i].num, vals[i], "%s", names[i]);
    }
}

static void set2(rv_event *x, const char *v1, const char *v2)
{
    rv_event_clear(x);
    rv_event_set_str(x, S("c1"), v1, strlen(v1));
    rv_event_set_str(x, S("c2"), v2, strlen(v2));
}

/* rv_state_changes, which decides whether the server logs a creme-mode
 * predict: MinMaxScaler and MaxAbsScaler count a learn only when it added a
 * feature or moved an extreme; any other class counts every learn. */
static unsigned long changes_of(rv_object *o, rv_event *x, const char *name, double v)
{
    rv_event_clear(x);
    rv_event_set_num(x, S(name), v);
    rv_error err = {0};
    unsigned long before = rv_state_changes;
    cr_assert_eq(rv_estimator_learn(o, x, NULL, &err), RV_OK, "%s", err.message);
    return rv_state_changes - before;
}

Test(preprocessing, scalers_count_only_learns_that_change_them)
{
    rv_event x;
    rv_event_init(&x);
    rv_object *mm = make("preprocessing.MinMaxScaler", NULL, 0);
    cr_assert_eq(changes_of(mm, &x, "a", 2.0), 1); /* a new feature */
    cr_assert_eq(changes_of(mm, &x, "a", 2.0), 0);
    cr_assert_eq(changes_of(mm, &x, "a", 5.0), 1); /* a new maximum */
    cr_assert_eq(changes_of(mm, &x, "a", 3.0), 0);
    cr_assert_eq(changes_of(mm, &x, "a", -1.0), 1); /* a new minimum */
    cr_assert_eq(changes_of(mm, &x, "a", NAN), 0);
    cr_assert_eq(changes_of(mm, &x, "b", 0.0), 1);
    rv_object *ma = make("preprocessing.MaxAbsScaler", NULL, 0);
    cr_assert_eq(changes_of(ma, &x, "a", -4.0), 1);
    cr_assert_eq(changes_of(ma, &x, "a", 4.0), 0);
    cr_assert_eq(changes_of(ma, &x, "a", 2.0), 0);
    cr_assert_eq(changes_of(ma, &x, "a", -4.5), 1);
    rv_object *ss = make("preprocessing.StandardScaler", NULL, 0);
    cr_assert_eq(changes_of(ss, &x, "a", 1.0), 1);
    cr_assert_eq(changes_of(ss, &x, "a", 1.0), 1); /* counts move: always a change */
    rv_object_free(mm);
    rv_object_free(ma);
    rv_object_free(ss);
    rv_event_free(&x);
}

/* Frozen (rv_state_frozen, the server's read-locked first try at a
 * creme-mode predict), a learn either changes nothing and succeeds, or would
 * change something and is refused, leaving the state's bytes as they were. */
static int frozen_learn(rv_object *o, rv_event *x, const char *name, double v)
{
    rv_event_clear(x);
    rv_event_set_num(x, S(name), v);
    rv_buf before, after;
    rv_buf_init(&before);
    rv_buf_init(&after);
    cr_assert_eq(o->cls->save(o, &before), RV_OK);
    rv_error err = {0};
    unsigned long changes = rv_state_changes;
    rv_state_frozen = 1;
    rv_state_refused = 0;
    rv_status st = rv_estimator_learn(o, x, NULL, &err);
    rv_state_frozen = 0;
    int refused = rv_state_refused;
    cr_assert_eq(st, refused ? RV_ESTATE : RV_OK, "%s", err.message);
    cr_assert_eq(o->cls->save(o, &after), RV_OK);
    cr_assert(before.len == after.len && memcmp(before.data, after.data, before.len) == 0,
              "a frozen learn of %s=%g changed the state", name, v);
    cr_assert_eq(rv_state_changes, changes);
    rv_buf_free(&before);
    rv_buf_free(&after);
    return refused;
}

Test(preprocessing, frozen_learns_change_nothing_and_refuse_what_would)
{
    rv_event x;
    rv_event_init(&x);
    rv_object *mm = make("preprocessing.MinMaxScaler", NULL, 0);
    cr_assert_eq(frozen_learn(mm, &x, "a", 2.0), 1); /* a new feature */
    changes_of(mm, &x, "a", 2.0);
    changes_of(mm, &x, "a", 5.0);
    cr_assert_eq(frozen_learn(mm, &x, "a", 2.0), 0);
    cr_assert_eq(frozen_learn(mm, &x, "a", 5.0), 0);
    cr_assert_eq(frozen_learn(mm, &x, "a", NAN), 0);
    cr_assert_eq(frozen_learn(mm, &x, "a", 5.5), 1); /* a new maximum */
    cr_assert_eq(frozen_learn(mm, &x, "a", 1.5), 1); /* a new minimum */
    rv_object *ma = make("preprocessing.MaxAbsScaler", NULL, 0);
    changes_of(ma, &x, "a", -4.0);
    cr_assert_eq(frozen_learn(ma, &x, "a", 4.0), 0);
    cr_assert_eq(frozen_learn(ma, &x, "a", 4.5), 1);
    rv_object *ss = make("preprocessing.StandardScaler", NULL, 0);
    changes_of(ss, &x, "a", 1.0);
    cr_assert_eq(frozen_learn(ss, &x, "a", 1.0), 1); /* its counts would move */
    rv_object_free(mm);
    rv_object_free(ma);
    rv_object_free(ss);
    rv_event_free(&x);
}

Test(preprocessing, one_hot_encoder_river_examples)
{
    rv_object *o = make("preprocessing.OneHotEncoder", NULL, 0);
    rv_event x, out;
    rv_event_init(&x);
    rv_event_init(&out);
    set2(&x, "u", "d");
    rv_estimator_learn(o, &x, NULL, NULL);
    rv_estimator_transform(o, &x, &out, NULL);
    expect(&out, (const char *[]){"c1_u", "c2_d"}, (double[]){1, 1}, 2);
    set2(&x, "a", "x");
    rv_estimator_learn(o, &x, NULL, NULL);
    rv_estimator_transform(o, &x, &out, NULL);
    /* River: {'c1_a': 1, 'c1_u': 0, 'c2_d': 0, 'c2_x': 1}, in _zero_dict order */
    expect(&out, (const char *[]){"c1_u", "c2_d", "c1_a", "c2_x"}, (double[]){0, 0, 1, 1}, 4);
    rv_object *r = rv_object_roundtrip(o, NULL);
    cr_assert_not_null(r);
    set2(&x, "u", "new");
    rv_estimator_transform(r, &x, &out, NULL);
    expect(&out, (const char *[]){"c1_u", "c2_d", "c1_a", "c2_x", "c2_new"},
           (double[]){1, 0, 0, 0, 1}, 5);
    rv_object_free(r);
    rv_object_free(o);

    o = make("preprocessing.OneHotEncoder", "drop_zeros", 1);
    set2(&x, "u", "d");
    rv_estimator_learn(o, &x, NULL, NULL);
    set2(&x, "a", "x");
    rv_estimator_learn(o, &x, NULL, NULL);
    rv_estimator_transform(o, &x, &out, NULL);
    expect(&out, (const char *[]){"c1_a", "c2_x"}, (double[]){1, 1}, 2);
    rv_object_free(o);

    rv_args a;
    rv_args_init(&a, "OneHotEncoder");
    rv_args_add_bool(&a, "drop_zeros", 1);
    rv_args_add_bool(&a, "drop_first", 1);
    o = rv_create("preprocessing.OneHotEncoder", &a, NULL);
    rv_args_free(&a);
    set2(&x, "u", "d");
    rv_estimator_transform(o, &x, &out, NULL);
    expect(&out, (const char *[]){"c2_d"}, (double[]){1}, 1); /* River: {'c2_d': 1} */
    rv_buf b;
    rv_buf_init(&b);
    rv_object_describe(o, &b);
    cr_assert_str_eq(rv_buf_cstr(&b), "preprocessing.OneHotEncoder(drop_zeros=True, drop_first=True)");
    rv_buf_free(&b);
    /* numbers are encoded too: an integral value without a decimal point */
    rv_event_clear(&x);
    rv_event_set_num(&x, S("wday"), 3);
    rv_event_set_num(&x, S("w"), 1.5);
    rv_estimator_transform(o, &x, &out, NULL);
    expect(&out, (const char *[]){"wday_3"}, (double[]){1}, 1); /* w_1.5 < wday_3 dropped */
    rv_object_free(o);
    rv_event_free(&x);
    rv_event_free(&out);
}

Test(preprocessing, feature_hasher_is_deterministic)
{
    rv_args a;
    rv_args_init(&a, "FeatureHasher");
    rv_args_add_int(&a, "n_features", 10);
    rv_args_add_int(&a, "seed", 42);
    rv_error err = {0};
    rv_object *h1 = rv_create("preprocessing.FeatureHasher", &a, &err);
    rv_object *h2 = rv_create("preprocessing.FeatureHasher", &a, &err);
    rv_args_free(&a);
    cr_assert(h1 && h2, "%s", err.message);
    rv_event x, o1, o2;
    rv_event_init(&x);
    rv_event_init(&o1);
    rv_event_init(&o2);
    rv_event_set_num(&x, S("dog"), 1);
    rv_event_set_num(&x, S("cat"), 2);
    rv_event_set_str(&x, S("animal"), "elephant", 8);
    rv_estimator_transform(h1, &x, &o1, NULL);
    rv_estimator_transform(h2, &x, &o2, NULL);
    cr_assert_eq(o1.n, o2.n);
    double total = 0;
    for (uint32_t i = 0; i < o1.n; i++) {
        cr_assert_eq(o1.items[i].name, o2.items[i].name);
        cr_assert_eq(o1.items[i].num, o2.items[i].num);
        cr_assert_lt(atoi(rv_sym_name(o1.items[i].name)), 10);
        total += o1.items[i].num;
    }
    cr_assert_eq(total, 4.0, "values add up (a string counts 1)");
    /* the bucket of a string feature is hash("animal=elephant") % n */
    char name[24];
    snprintf(name, sizeof name, "%llu",
             (unsigned long long)(rv_feature_hash("animal=elephant", 15, 42) % 10));
    cr_assert_not_null(rv_event_get(&o1, S(name)));
    cr_assert_eq(rv_feature_hash("dog", 3, 1), rv_feature_hash("dog", 3, 1));
    cr_assert_neq(rv_feature_hash("dog", 3, 1), rv_feature_hash("dog", 3, 2));
    rv_object_free(h1);
    rv_object_free(h2);
    rv_event_free(&x);
    rv_event_free(&o1);
    rv_event_free(&o2);
}

static void fill(rv_event *x, int i)
{
    rv_event_clear(x);
    rv_event_set_num(x, S("p"), sin(i) * 10);
    rv_event_set_num(x, S("q"), i % 7);
    if (i % 3 == 0)
        rv_event_set_num(x, S("r"), cos(i));
    rv_event_set_str(x, S("tag"), i % 2 ? "odd" : "even", i % 2 ? 3 : 4);
}

Test(preprocessing, save_load_continue_bit_identical)
{
    const char *names[] = {"preprocessing.StandardScaler", "preprocessing.MinMaxScaler",
                           "preprocessing.MaxAbsScaler", "preprocessing.OneHotEncoder",
                           "preprocessing.FeatureHasher"};
    rv_event x, o1, o2;
    rv_event_init(&x);
    rv_event_init(&o1);
    rv_event_init(&o2);
    for (size_t k = 0; k < 5; k++) {
        rv_object *o = make(names[k], NULL, 0);
        for (int i = 0; i < 20; i++) {
            fill(&x, i);
            rv_estimator_learn(o, &x, NULL, NULL);
        }
        rv_error err = {0};
        rv_object *r = rv_object_roundtrip(o, &err);
        cr_assert_not_null(r, "%s: %s", names[k], err.message);
        rv_object *c = rv_object_copy(o, &err);
        cr_assert_not_null(c);
        for (int i = 20; i < 40; i++) {
            fill(&x, i);
            rv_object *both[] = {r, c};
            rv_estimator_learn(o, &x, NULL, NULL);
            rv_estimator_transform(o, &x, &o1, NULL);
            for (int j = 0; j < 2; j++) {
                rv_estimator_learn(both[j], &x, NULL, NULL);
                rv_estimator_transform(both[j], &x, &o2, NULL);
                cr_assert_eq(o1.n, o2.n);
                for (uint32_t f = 0; f < o1.n; f++)
                    if (o1.items[f].kind == RV_NUM)
                        cr_assert(memcmp(&o1.items[f].num, &o2.items[f].num, 8) == 0,
                                  "%s differs after reload", names[k]);
            }
        }
        /* hostile snapshots: every truncation fails cleanly */
        rv_buf b;
        rv_buf_init(&b);
        o->cls->save(o, &b);
        for (size_t cut = 0; cut < b.len; cut += 1 + b.len / 50) {
            rv_object *f = rv_object_clone(o, NULL);
            rv_reader rd;
            rv_reader_init(&rd, b.data, cut);
            rv_status st = f->cls->load(f, &rd);
            cr_assert(st != RV_OK || rd.status != RV_OK || rd.pos != b.len || cut == b.len);
            rv_object_free(f);
        }
        rv_buf_free(&b);
        rv_object_free(r);
        rv_object_free(c);
        rv_object_free(o);
    }
    rv_event_free(&x);
    rv_event_free(&o1);
    rv_event_free(&o2);
}

Test(preprocessing, describe_and_bad_arguments)
{
    rv_buf b;
    rv_buf_init(&b);
    rv_object *o = make("preprocessing.StandardScaler", NULL, 0);
    rv_object_describe(o, &b);
    cr_assert_str_eq(rv_buf_cstr(&b), "preprocessing.StandardScaler()");
    rv_object_free(o);
    rv_buf_reset(&b);
    o = make("preprocessing.StandardScaler", "with_std", 0);
    rv_object_describe(o, &b);
    cr_assert_str_eq(rv_buf_cstr(&b), "preprocessing.StandardScaler(with_std=False)");
    rv_object_free(o);
    rv_buf_reset(&b);
    o = make("preprocessing.MinMaxScaler", NULL, 0);
    rv_object_describe(o, &b);
    cr_assert_str_eq(rv_buf_cstr(&b), "preprocessing.MinMaxScaler()");
    rv_object_free(o);
    rv_buf_free(&b);
    rv_args a;
    rv_args_init(&a, "MinMaxScaler");
    rv_args_add_num(&a, "foo", 1);
    rv_error err = {0};
    cr_assert_null(rv_create("preprocessing.MinMaxScaler", &a, &err));
    rv_args_free(&a);
    rv_args_init(&a, "FeatureHasher");
    rv_args_add_int(&a, "n_features", 0);
    cr_assert_null(rv_create("preprocessing.FeatureHasher", &a, &err));
    rv_args_free(&a);
}

Test(preprocessing, nan_inf_missing_never_crash)
{
    const char *names[] = {"preprocessing.StandardScaler", "preprocessing.MinMaxScaler",
                           "preprocessing.MaxAbsScaler", "preprocessing.OneHotEncoder",
                           "preprocessing.FeatureHasher"};
    double odd[] = {NAN, INFINITY, -INFINITY, 0, -0.0, 1e308, 5e-324};
    rv_event x, out;
    rv_event_init(&x);
    rv_event_init(&out);
    for (size_t k = 0; k < 5; k++) {
        rv_object *o = make(names[k], NULL, 0);
        for (size_t i = 0; i < 7 * 3; i++) {
            rv_event_clear(&x);
            if (i % 3)
                rv_event_set_num(&x, S("a"), odd[i % 7]);
            rv_event_set_num(&x, S(i % 2 ? "b" : "c"), odd[(i + 3) % 7]);
            cr_assert_eq(rv_estimator_learn(o, &x, NULL, NULL), RV_OK);
            cr_assert_eq(rv_estimator_transform(o, &x, &out, NULL), RV_OK);
        }
        rv_event_clear(&x);
        cr_assert_eq(rv_estimator_transform(o, &x, &out, NULL), RV_OK);
        cr_assert_eq(out.n, k == 3 ? out.n : 0);
        rv_object_free(o);
    }
    rv_event_free(&x);
    rv_event_free(&out);
}

/* ===== Parity with creme 0.5.1 ===== */

/* Per row: learn(x) then transform(x) (creme's predict step), compared with
 * the golden JSON with ==. */
static void scaler_parity(const char *cls, const char *file)
{
    RV_REQUIRE_SHARED(dir);
    static golden_input in;
    golden_load_input(dir, &in);
    char **rows;
    size_t n = golden_load_column(dir, file, &rows);
    cr_assert_eq(n, in.n);
    rv_object *o = make(cls, NULL, 0);
    rv_event x, out;
    rv_event_init(&x);
    rv_event_init(&out);
    const char *names[] = {"x1", "x2", "x3", "c"};
    for (size_t i = 0; i < n; i++) {
        rv_event_clear(&x);
        double v[] = {in.x1[i], in.x2[i], in.x3[i], in.c[i]};
        for (int f = 0; f < 4; f++)
            rv_event_push_num(&x, S(names[f]), v[f]);
        cr_assert_eq(rv_estimator_learn(o, &x, NULL, NULL), RV_OK);
        cr_assert_eq(rv_estimator_transform(o, &x, &out, NULL), RV_OK);
        json_error_t jerr;
        json_t *want = json_loads(rows[i], 0, &jerr);
        cr_assert_not_null(want, "row %zu: %s", i, jerr.text);
        cr_assert_eq(out.n, json_object_size(want));
        for (int f = 0; f < 4; f++) {
            double w = json_number_value(json_object_get(want, names[f]));
            double got = rv_event_get(&out, S(names[f]))->num;
            cr_assert(got == w, "%s row %zu %s: got %.17g want %.17g", file, i, names[f], got, w);
        }
        json_decref(want);
    }
    golden_free_column(rows, n);
    rv_event_free(&x);
    rv_event_free(&out);
    rv_object_free(o);
}

Test(reference, ss_only_bit_for_bit) { scaler_parity("preprocessing.StandardScaler", "ss_only.csv"); }

Test(reference, mm_only_bit_for_bit) { scaler_parity("preprocessing.MinMaxScaler", "mm_only.csv"); }
