/* compose.Family: keys, per-key isolation, the member API, description,
 * clone/copy, concurrency on different keys, compactness and the speed of
 * saving and loading a 30,490-member family. Members are test.Counter. */
#include "counter.h"
#include "rivulet/family.h"
#include "rivulet/model.h"
#include "support.h"

#include <pthread.h>
#include <time.h>

static rv_object *family_of_counters(void)
{
    rv_error err = {0};
    rv_object *f = rv_family_new(counter_new(1.0), "id", &err);
    cr_assert(f, "%s", err.message);
    return f;
}

static void learn_key(rv_object *f, const char *key, double a, double y)
{
    rv_event e;
    rv_event_init(&e);
    rv_event_set_str(&e, rv_sym_intern_cstr("id"), key, strlen(key));
    rv_event_set_num(&e, rv_sym_intern_cstr("a"), a);
    rv_value v = rv_value_num(y);
    rv_error err = {0};
    cr_assert_eq(rv_estimator_learn(f, &e, &v, &err), RV_OK, "%s", err.message);
    rv_event_free(&e);
}

static double predict_key(rv_object *f, const char *key)
{
    rv_event e;
    rv_event_init(&e);
    rv_event_set_str(&e, rv_sym_intern_cstr("id"), key, strlen(key));
    rv_prediction p;
    rv_prediction_init(&p);
    rv_error err = {0};
    cr_assert_eq(rv_estimator_predict(f, &e, &p, &err), RV_OK, "%s", err.message);
    double x = p.num;
    rv_prediction_free(&p);
    rv_event_free(&e);
    return x;
}

static void expect_key(rv_object *f, rv_event *e, const char *want)
{
    const char *k;
    size_t n;
    rv_error err = {0};
    cr_assert_eq(rv_family_key_of(f, e, &k, &n, &err), RV_OK, "%s", err.message);
    cr_expect(n == strlen(want) && memcmp(k, want, n) == 0, "key '%.*s', want '%s'", (int)n, k, want);
}

Test(family, keys_are_python_str_of_the_feature)
{
    rv_object *f = family_of_counters();
    rv_event e;
    rv_event_init(&e);
    rv_sym id = rv_sym_intern_cstr("id");
    rv_event_set_str(&e, id, "FOODS_3_090_CA_1", 16);
    expect_key(f, &e, "FOODS_3_090_CA_1");
    rv_event_set_num(&e, id, 42);
    expect_key(f, &e, "42");
    rv_event_set_num(&e, id, -7);
    expect_key(f, &e, "-7");
    rv_event_set_num(&e, id, -0.0);
    expect_key(f, &e, "0");
    rv_event_set_num(&e, id, 2.5);
    expect_key(f, &e, "2.5");
    rv_event_set_num(&e, id, 1e16);
    expect_key(f, &e, "1e+16");
    rv_event_set_num(&e, id, NAN);
    expect_key(f, &e, "nan");
    rv_event_set_num(&e, id, -INFINITY);
    expect_key(f, &e, "-inf");
    rv_event_remove(&e, id);
    const char *k;
    size_t n;
    rv_error err = {0};
    cr_expect_eq(rv_family_key_of(f, &e, &k, &n, &err), RV_ENOTFOUND);
    cr_expect_str_eq(err.message, "compose.Family: the event has no key feature 'id'");
    /* a learn or predict without the key is an error that changes nothing */
    rv_value y = rv_value_num(1);
    cr_expect_eq(rv_estimator_learn(f, &e, &y, &err), RV_ENOTFOUND);
    cr_expect_eq(rv_family_size(f), 0);
    rv_event_free(&e);
    rv_object_free(f);
}

Test(family, each_key_learns_alone)
{
    rv_object *f = family_of_counters();
    learn_key(f, "a", 0, 10);
    cr_expect_eq(rv_family_size(f), 1);
    rv_object *ma = rv_family_get(f, "a", 1);
    cr_assert(ma);
    rv_buf before, after;
    rv_buf_init(&before);
    rv_buf_init(&after);
    ma->cls->save(ma, &before);
    learn_key(f, "b", 0, 20);
    learn_key(f, "b", 0, 40);
    ma->cls->save(ma, &after);
    cr_expect(before.len == after.len && memcmp(before.data, after.data, before.len) == 0);
    cr_expect_eq(rv_family_get(f, "a", 1), ma, "member pointers stay put");
    /* counter predicts mean(y) (+ sumx/1000 = 0 here) */
    cr_expect_eq(predict_key(f, "a"), 10.0);
    cr_expect_eq(predict_key(f, "b"), 30.0);
    /* an unseen key starts from a fresh clone and is kept */
    cr_expect_eq(predict_key(f, "c"), 0.0);
    cr_expect_eq(rv_family_size(f), 3);
    size_t len;
    cr_expect_str_eq(rv_family_key_at(f, 0, &len), "a");
    cr_expect_str_eq(rv_family_key_at(f, 1, &len), "b");
    cr_expect_str_eq(rv_family_key_at(f, 2, &len), "c");
    cr_expect_null(rv_family_key_at(f, 3, &len));
    rv_buf_free(&before);
    rv_buf_free(&after);
    rv_object_free(f);
}

Test(family, put_take_and_iteration_order)
{
    rv_object *f = family_of_counters();
    rv_error err = {0};
    for (int i = 0; i < 5; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        cr_assert_eq(rv_family_put(f, k, strlen(k), counter_new(i), &err), RV_OK);
    }
    rv_object *m = rv_family_take(f, "k1", 2);
    cr_assert(m);
    cr_expect_eq(((counter *)m)->scale, 1.0);
    rv_object_free(m);
    cr_expect_null(rv_family_take(f, "k1", 2));
    cr_expect_null(rv_family_get(f, "k1", 2));
    cr_expect_eq(rv_family_size(f), 4);
    const char *want[] = {"k0", "k2", "k3", "k4"};
    for (size_t i = 0; i < 4; i++)
        cr_expect_str_eq(rv_family_key_at(f, i, NULL), want[i]);
    cr_expect_null(rv_family_key_at(f, 4, NULL));
    /* put replaces */
    cr_assert_eq(rv_family_put(f, "k0", 2, counter_new(9), &err), RV_OK);
    cr_expect_eq(((counter *)rv_family_get(f, "k0", 2))->scale, 9.0);
    cr_expect_eq(rv_family_size(f), 4);
    /* non-estimators and non-families are refused */
    cr_expect_neq(rv_family_put(f, "z", 1, NULL, &err), RV_OK);
    rv_object *plain = counter_new(1);
    cr_expect_null(rv_family_get(plain, "k0", 2));
    cr_expect_eq(rv_family_size(plain), 0);
    rv_object_free(plain);
    rv_object_free(f);
}

Test(family, describe_parse_clone_copy)
{
    rv_parse_set_lookup(counter_lookup);
    const char *text = "compose.Family(test.Counter(scale=0.5), by='id')";
    rv_error err = {0};
    rv_object *f = rv_model_parse(text, strlen(text), NULL, &err);
    cr_assert(f, "%s", err.message);
    cr_expect_str_eq(rv_family_key_feature(f), "id");
    rv_buf b;
    rv_buf_init(&b);
    rv_object_describe(f, &b);
    cr_expect_str_eq(rv_buf_cstr(&b), text);
    rv_object *quoted = rv_family_new(counter_new(2), "it's", &err);
    rv_buf_reset(&b);
    rv_object_describe(quoted, &b);
    cr_expect_str_eq(rv_buf_cstr(&b), "compose.Family(test.Counter(scale=2.0), by='it\\'s')");
    rv_object_free(quoted);
    learn_key(f, "s", 0, 4);
    rv_object *c = rv_object_clone(f, &err);
    rv_object *d = rv_object_copy(f, &err);
    cr_expect_eq(rv_family_size(c), 0);
    cr_expect_eq(rv_family_size(d), 1);
    cr_expect_eq(predict_key(d, "s"), 2.0);
    cr_expect_eq(predict_key(c, "s"), 0.0);
    cr_expect_neq(rv_family_get(d, "s", 1), rv_family_get(f, "s", 1));
    /* argument errors */
    const char *bad[][2] = {
        {"compose.Family(test.Counter(), bye='id')",
         "line 1, column 32: compose.Family: unknown keyword argument 'bye', did you mean 'by'?"},
        {"compose.Family(test.Counter())", "line 1, column 1: compose.Family: argument 'by' is required"},
        {"compose.Family(by='id')", "line 1, column 1: compose.Family: argument 'model' is required"},
        {"compose.Family(1, 'id')", "line 1, column 16: compose.Family: argument 'model' must be an estimator"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_expect_null(rv_model_parse(bad[i][0], strlen(bad[i][0]), NULL, &err));
        cr_expect_str_eq(err.message, bad[i][1]);
    }
    rv_buf_free(&b);
    rv_object_free(c);
    rv_object_free(d);
    rv_object_free(f);
}

/* ===== Two threads, disjoint keys, inserting as they go ===== */

typedef struct worker {
    rv_object *fam;
    int parity, rounds, keys;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    rv_event e;
    rv_event_init(&e);
    rv_prediction p;
    rv_prediction_init(&p);
    for (int r = 0; r < w->rounds; r++)
        for (int k = w->parity; k < w->keys; k += 2) {
            rv_event_set_num(&e, rv_sym_intern_cstr("id"), k);
            rv_value y = rv_value_num(k);
            rv_estimator_predict(w->fam, &e, &p, NULL);
            rv_estimator_learn(w->fam, &e, &y, NULL);
        }
    rv_prediction_free(&p);
    rv_event_free(&e);
    return NULL;
}

Test(family, different_keys_run_concurrently)
{
    rv_object *f = family_of_counters();
    worker w[2] = {{f, 0, 20, 2000}, {f, 1, 20, 2000}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, work, &w[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    cr_expect_eq(rv_family_size(f), 2000);
    for (int k = 0; k < 2000; k++) {
        char key[16];
        snprintf(key, sizeof key, "%d", k);
        counter *c = (counter *)rv_family_get(f, key, strlen(key));
        cr_assert(c, "key %d missing", k);
        cr_expect_eq(c->n, 20);
        cr_expect_eq(c->sum, 20.0 * k);
    }
    rv_object_free(f);
}

/* ===== Scale: 30,490 series ===== */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

Test(family, thirty_thousand_members_are_compact_and_fast_to_snapshot)
{
    rv_parse_set_lookup(counter_lookup);
    enum { N = 30490 };
    rv_object *f = family_of_counters();
    char key[48];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "FOODS_3_%03d_CA_%d_validation", i % 1000, i / 1000);
        learn_key(f, key, i, i);
    }
    cr_assert_eq(rv_family_size(f), N);
    size_t mem = rv_object_memory(f);
    double overhead = (double)(mem - (size_t)N * sizeof(counter)) / N;
    cr_expect(overhead < 160, "family overhead %.0f bytes per key", overhead);

    double t0 = now();
    rv_buf b;
    rv_buf_init(&b);
    cr_assert_eq(rv_snapshot_save(f, &b), RV_OK);
    rv_error err = {0};
    rv_object *back = rv_snapshot_load(b.data, b.len, &err);
    double dt = now() - t0;
    cr_assert(back, "%s", err.message);
    cr_expect(dt < 1.0, "save + load of %d members took %.3f s", N, dt);
    fprintf(stderr, "family: %d members, %.0f bytes of overhead per key, save+load %.3f s\n", N,
            overhead, dt);
    cr_expect_eq(rv_family_size(back), N);
    cr_expect_eq(predict_key(back, key), predict_key(f, key));
    cr_expect_str_eq(rv_family_key_at(back, N - 1, NULL), key);
    rv_buf_free(&b);
    rv_object_free(back);
    rv_object_free(f);
}

/* A family's raw state with n counter members keyed "k<i>" (the format in
 * family.c), where member `short_at` has a truncated state and member
 * `dup_at` repeats the key before it (-1: none). */
static void raw_family_state(rv_buf *b, uint32_t n, int short_at, int dup_at)
{
    rv_buf_put_u32(b, n);
    for (uint32_t i = 0; i < n; i++) {
        char key[16];
        int len = snprintf(key, sizeof key, "k%u", (int)i == dup_at ? i - 1 : i);
        rv_buf_put_bytes(b, key, (uint32_t)len);
        rv_buf_put_u32(b, (int)i == short_at ? 16 : 24);
        rv_buf_put_u64(b, i + 1);                       /* n */
        rv_buf_put_f64(b, 2.0 * i);                     /* sum */
        if ((int)i != short_at)
            rv_buf_put_f64(b, 0.5);                     /* sumx */
    }
}

static rv_status load_raw(rv_object *f, const rv_buf *b, char *what, size_t n)
{
    rv_reader r;
    rv_reader_init(&r, b->data, b->len);
    rv_status st = f->cls->load(f, &r);
    snprintf(what, n, "%s", r.status ? r.what : "");
    return st ? st : r.status;
}

/* Thousands of members load on several threads: the result and the errors
 * are those of member-by-member loading (the first bad member in order). */
Test(family, many_members_load_as_one_by_one)
{
    rv_object *f = family_of_counters();
    rv_buf b;
    char what[256];
    rv_buf_init(&b);
    raw_family_state(&b, 5000, -1, -1);
    cr_assert_eq(load_raw(f, &b, what, sizeof what), RV_OK, "%s", what);
    cr_assert_eq(rv_family_size(f), 5000);
    for (uint32_t i = 0; i < 5000; i += 499) {
        size_t len;
        char key[16];
        snprintf(key, sizeof key, "k%u", i);
        cr_assert_str_eq(rv_family_key_at(f, i, &len), key);
        const counter *c = (const counter *)rv_family_get(f, key, strlen(key));
        cr_assert(c && c->n == i + 1 && c->sum == 2.0 * i && c->sumx == 0.5, "member %u", i);
    }
    /* Saving writes the same bytes back. */
    rv_buf again;
    rv_buf_init(&again);
    cr_assert_eq(f->cls->save(f, &again), RV_OK);
    cr_assert(again.len == b.len && memcmp(again.data, b.data, b.len) == 0);
    rv_buf_free(&again);

    struct {
        int short_at, dup_at;
        const char *want;
    } bad[] = {
        {4000, -1, "family member 4000: "},
        {-1, 4500, "duplicate family key"},
        {4000, 1200, "duplicate family key"}, /* the earlier problem wins */
        {300, 4500, "family member 300: "},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        rv_buf_reset(&b);
        raw_family_state(&b, 5000, bad[i].short_at, bad[i].dup_at);
        cr_assert_neq(load_raw(f, &b, what, sizeof what), RV_OK, "case %zu", i);
        cr_assert(strstr(what, bad[i].want), "case %zu: '%s'", i, what);
        cr_assert_eq(rv_family_size(f), 0, "a failed load leaves no member");
    }
    rv_buf_free(&b);
    rv_object_free(f);
}
