/* Tests of the core: symbols, events, maps, buffers, readers, numerics, args. */
#include "rivulet/core.h"
#include "support.h"

#include <math.h>

Test(core, symbols_are_stable_and_distinct)
{
    rv_sym a = rv_sym_intern_cstr("item_id"), b = rv_sym_intern_cstr("store_id");
    cr_assert_neq(a, RV_SYM_NONE);
    cr_assert_neq(a, b);
    cr_assert_eq(rv_sym_intern("item_id", 7), a);
    cr_assert_str_eq(rv_sym_name(a), "item_id");
    cr_assert_eq(rv_sym_len(b), 8);
    cr_assert_eq(rv_sym_lookup("never-interned-name", 19), RV_SYM_NONE);
    cr_assert_str_eq(rv_sym_name(999999999), "");
}

/* Past RV_EVENT_SCAN_MAX features an event looks names up in a hash index;
 * it must agree with the scan it replaces whatever the history: growth,
 * replacement, removal, a clear and growth again, copies, pushed names. */
static void expect_event_like(const rv_event *e, const rv_sym *names, const double *vals, uint32_t n)
{
    cr_assert_eq(e->n, n);
    for (uint32_t i = 0; i < n; i++) {
        cr_assert_eq(e->items[i].name, names[i], "order at %u", i);
        const rv_feature *f = rv_event_get(e, names[i]);
        cr_assert_not_null(f, "feature %u not found", i);
        cr_assert_eq(f, &e->items[i], "feature %u found at the wrong place", i);
        cr_assert_eq(f->num, vals[i]);
    }
}

Test(core, large_events_find_every_feature_after_any_change)
{
    enum { N = 3000 };
    static rv_sym names[N];
    static double vals[N];
    for (uint32_t i = 0; i < N; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "big-event-%u", i);
        names[i] = rv_sym_intern_cstr(buf);
    }
    rv_sym absent = rv_sym_intern_cstr("big-event-absent");
    rv_event e, copy;
    rv_event_init(&e);
    rv_event_init(&copy);
    for (int round = 0; round < 2; round++) { /* the second after a clear: the index is rebuilt */
        for (uint32_t i = 0; i < N; i++) {
            vals[i] = i + round;
            cr_assert_eq(rv_event_set_num(&e, names[i], vals[i]), RV_OK);
        }
        for (uint32_t i = 0; i < N; i += 3) { /* replacing never appends */
            vals[i] = -(double)i;
            cr_assert_eq(rv_event_set_num(&e, names[i], vals[i]), RV_OK);
        }
        expect_event_like(&e, names, vals, N);
        cr_assert_null(rv_event_get(&e, absent));
        rv_event_clear(&e);
        cr_assert_null(rv_event_get(&e, names[0]));
        for (uint32_t i = 0; i < RV_EVENT_SCAN_MAX; i++) /* back to scanning, then past it again */
            rv_event_set_num(&e, names[i], vals[i]);
        cr_assert_null(rv_event_get(&e, names[RV_EVENT_SCAN_MAX]));
        rv_event_clear(&e);
    }
    for (uint32_t i = 0; i < N; i++)
        rv_event_push_num(&e, names[i], vals[i]);
    cr_assert_eq(rv_event_copy(&copy, &e), RV_OK);
    expect_event_like(&copy, names, vals, N);
    /* removals shift positions: lookups follow, order is kept */
    uint32_t n = N;
    for (uint32_t i = N; i-- > 0;)
        if (i % 7 == 0) {
            cr_assert(rv_event_remove(&e, names[i]));
            memmove(&names[i], &names[i + 1], (n - i - 1) * sizeof *names);
            memmove(&vals[i], &vals[i + 1], (n - i - 1) * sizeof *vals);
            n--;
        }
    expect_event_like(&e, names, vals, n);
    cr_assert_eq(rv_event_set_num(&e, absent, 1), RV_OK);
    cr_assert_eq(e.n, n + 1);
    cr_assert_eq(rv_event_get(&e, absent), &e.items[n]);
    rv_event_free(&copy);
    rv_event_free(&e);
}

Test(core, event_keeps_insertion_order_and_replaces)
{
    rv_event e;
    rv_event_init(&e);
    rv_sym x = rv_sym_intern_cstr("x"), y = rv_sym_intern_cstr("y"), z = rv_sym_intern_cstr("z");
    rv_event_set_num(&e, y, 1);
    rv_event_set_num(&e, x, 2);
    rv_event_set_str(&e, z, "abc", 3);
    rv_event_set_num(&e, y, 5);
    cr_assert_eq(e.n, 3);
    cr_assert_eq(e.items[0].name, y);
    cr_assert_eq(e.items[0].num, 5);
    cr_assert_eq(rv_event_get(&e, z)->kind, RV_STR);
    cr_assert(rv_event_remove(&e, x));
    cr_assert_eq(e.items[1].name, z);
    cr_assert_null(rv_event_get(&e, x));
    char tmp[4] = "def";
    rv_event copy;
    rv_event_init(&copy);
    rv_event_set_str(&e, z, tmp, 3);
    rv_event_copy(&copy, &e);
    tmp[0] = 'X';
    cr_assert_eq(memcmp(rv_event_get(&copy, z)->str, "def", 3), 0);
    rv_event_free(&copy);
    rv_event_free(&e);
}

Test(core, map64_insert_delete_many)
{
    rv_map64 m;
    rv_map64_init(&m);
    for (uint64_t i = 0; i < 5000; i++)
        *rv_map64_put(&m, i * 7919, 0, NULL) = i;
    for (uint64_t i = 0; i < 5000; i += 2)
        cr_assert(rv_map64_del(&m, i * 7919));
    cr_assert_eq(m.n, 2500);
    for (uint64_t i = 0; i < 5000; i++) {
        uint64_t *v = rv_map64_get(&m, i * 7919);
        if (i % 2)
            cr_assert(v && *v == i, "key %lu lost after deletes", (unsigned long)i);
        else
            cr_assert_null(v);
    }
    rv_map64_free(&m);
}

Test(core, strmap_insertion_order_and_delete)
{
    rv_strmap m;
    rv_strmap_init(&m);
    char key[32];
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(key, sizeof key, "k%d", i);
        int ins;
        *rv_strmap_put(&m, key, (size_t)n, 0, &ins) = (uint64_t)i;
        cr_assert(ins);
    }
    cr_assert(rv_strmap_del(&m, "k10", 3));
    cr_assert_null(rv_strmap_get(&m, "k10", 3));
    cr_assert_eq(*rv_strmap_get(&m, "k999", 4), 999);
    cr_assert_eq(rv_strmap_size(&m), 999);
    uint32_t len;
    cr_assert_str_eq(rv_strmap_key_at(&m, 5, &len), "k5");
    rv_strmap_free(&m);
}

Test(core, binary_roundtrip_and_truncation)
{
    rv_buf b;
    rv_buf_init(&b);
    rv_buf_put_u32(&b, 0xdeadbeef);
    rv_buf_put_f64(&b, -0.1);
    rv_buf_put_bytes(&b, "hello", 5);
    rv_buf_put_u64(&b, 1ULL << 40);
    cr_assert_eq((unsigned char)b.data[0], 0xef, "little-endian on every host");
    rv_reader r;
    rv_reader_init(&r, b.data, b.len);
    cr_assert_eq(rv_reader_u32(&r), 0xdeadbeef);
    cr_assert_eq(rv_reader_f64(&r), -0.1);
    uint32_t n;
    const char *s = rv_reader_bytes(&r, &n, 100);
    cr_assert(n == 5 && memcmp(s, "hello", 5) == 0);
    cr_assert_eq(rv_reader_u64(&r), 1ULL << 40);
    cr_assert_eq(rv_reader_status(&r, NULL), RV_OK);
    for (size_t cut = 0; cut < b.len; cut++) {
        rv_reader_init(&r, b.data, cut);
        rv_reader_u32(&r);
        rv_reader_f64(&r);
        rv_reader_bytes(&r, &n, 100);
        rv_reader_u64(&r);
        cr_assert_eq(rv_reader_status(&r, NULL), RV_ECORRUPT, "cut at %zu not detected", cut);
    }
    /* a hostile count is refused before anyone allocates for it */
    rv_buf_reset(&b);
    rv_buf_put_u32(&b, 0xffffffffu);
    rv_reader_init(&r, b.data, b.len);
    cr_assert_eq(rv_reader_count(&r, 8), 0);
    cr_assert_eq(rv_reader_status(&r, NULL), RV_ECORRUPT);
    rv_buf_free(&b);
}

Test(core, doubles_print_shortest_and_read_back)
{
    double xs[] = {0.1, 1.0 / 3, 1e-300, 123456789012345678.0, 5e-324, -2.5, 1e16, 0};
    rv_buf b;
    rv_buf_init(&b);
    for (size_t i = 0; i < sizeof xs / sizeof *xs; i++) {
        rv_buf_reset(&b);
        rv_buf_put_double(&b, xs[i]);
        cr_assert_eq(strtod(rv_buf_cstr(&b), NULL), xs[i], "%s", b.data);
    }
    rv_buf_reset(&b);
    rv_buf_put_double(&b, 0.1);
    cr_assert_str_eq(rv_buf_cstr(&b), "0.1");
    rv_buf_reset(&b);
    rv_buf_put_pyfloat(&b, 2);
    cr_assert_str_eq(rv_buf_cstr(&b), "2.0");
    rv_buf_free(&b);
}

Test(core, pow_half_matches_pow)
{
    uint64_t s = 12345;
    for (int i = 0; i < 2000000; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        uint64_t bits = (s & 0x000FFFFFFFFFFFFFULL) | ((uint64_t)(1023 - 60 + (s >> 57)) << 52);
        double x;
        memcpy(&x, &bits, 8);
        cr_assert_eq(rv_pow_half(x), pow(x, 0.5), "x=%a", x);
    }
    cr_assert(isnan(rv_pow_half(-1.0)));
    cr_assert_eq(rv_pow_half(0.0), 0.0);
    cr_assert(isinf(rv_pow_half(INFINITY)));
}

/* The array form (AVX2 + FMA when available) against pow: random inputs
 * over 140 binades (about 1 in 1,200 has pow != sqrt; 6% lie 0.45 to 0.48
 * ulp from a midpoint, where the vector test trusts sqrt), special values in
 * every lane position, odd lengths, and out == x. */
Test(core, pow_half_n_matches_pow)
{
    enum { N = 4099 };
    static double x[N], out[N];
    uint64_t s = 777;
    int differ = 0;
    for (int round = 0; round < 400; round++) {
        for (int i = 0; i < N; i++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            uint64_t bits = (s & 0x000FFFFFFFFFFFFFULL) | ((uint64_t)(1023 - 70 + (s >> 56) % 140) << 52);
            memcpy(&x[i], &bits, 8);
        }
        size_t n = N - (size_t)(round % 7);
        rv_pow_half_n(x, out, n);
        for (size_t i = 0; i < n; i++) {
            double want = pow(x[i], 0.5);
            cr_assert(memcmp(&out[i], &want, 8) == 0, "x=%a: %a vs %a", x[i], out[i], want);
            differ += sqrt(x[i]) != want;
        }
    }
    cr_assert_gt(differ, 100); /* the midpoint cases were exercised */
    const double special[] = {0.0, -0.0, -1.0, NAN, INFINITY, -INFINITY, 0x1p-1074, 0x1p-1022,
                              0x1p-901, 0x1p-900, 0x1p+900, 0x1p+901, 0x1.fffffffffffffp+1023,
                              4.0, 2.0, 1.0, 0x1.fffffffffffffp-1, 1e-300, 1e300, 0.1,
                              0x1p-64, 0x1.fffffffffffffp-65, 0x1p+66, 0x1.fffffffffffffp+65};
    size_t ns = sizeof special / sizeof *special;
    for (size_t shift = 0; shift < 4; shift++) {
        for (size_t i = 0; i < ns + 4; i++)
            x[i] = i < shift || i >= shift + ns ? 2.5 : special[i - shift];
        rv_pow_half_n(x, x, ns + 4); /* in place */
        for (size_t i = shift; i < shift + ns; i++) {
            double want = pow(special[i - shift], 0.5);
            cr_assert(memcmp(&x[i], &want, 8) == 0 || (isnan(x[i]) && isnan(want)),
                      "x=%a: %a vs %a", special[i - shift], x[i], want);
        }
    }
}

/* Python's d ** 2 is pow(d, 2.0), and glibc's pow misrounds some squares;
 * the exponent is volatile because GCC folds pow(d, 2.0) into d * d. */
Test(core, pow_two_matches_pow)
{
    static volatile double two = 2.0;
    /* CPython 3.11: (0x1.012f09cde1ad7p+0) ** 2 == 0x1.025f7a53f9173p+0 (d*d ends in ...174) */
    cr_assert_eq(rv_pow_two(0x1.012f09cde1ad7p+0), 0x1.025f7a53f9173p+0);
    cr_assert_eq(rv_pow_two(-0x1.012f09cde1ad7p+0), 0x1.025f7a53f9173p+0);
    cr_assert_eq(rv_abs_pow(0x1.012f09cde1ad7p+0, 2), 0x1.025f7a53f9173p+0);
    uint64_t s = 54321;
    int misrounded = 0;
    for (int i = 0; i < 2000000; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        uint64_t e = 1023 - 40 + ((s >> 52) & 63) + (s >> 58); /* |x| in [2^-40, 2^40) */
        uint64_t bits = (s & 0x800FFFFFFFFFFFFFULL) | (e << 52);
        double x;
        memcpy(&x, &bits, 8);
        cr_assert_eq(rv_pow_two(x), pow(fabs(x), two), "x=%a", x);
        misrounded += x * x != pow(fabs(x), two);
    }
    cr_assert_gt(misrounded, 100); /* the case exists: about 1 square in 1,200 */
    cr_assert_eq(rv_pow_two(0.0), 0.0);
    cr_assert_eq(rv_pow_two(0x1p-1074), 0.0);
    cr_assert_eq(rv_pow_two(0x1p-600), pow(0x1p-600, two));
    cr_assert(isinf(rv_pow_two(-INFINITY)));
    cr_assert(isnan(rv_pow_two(NAN)));
}

Test(core, args_reject_unknown_keyword_with_suggestion)
{
    static const char *const names[] = {"with_std", NULL};
    rv_args a;
    rv_args_init(&a, "preprocessing.StandardScaler");
    rv_args_add_bool(&a, "with_sdt", 1);
    rv_error err = {0};
    cr_assert_eq(rv_args_check(&a, names, &err), RV_EINVAL);
    cr_assert(strstr(err.message, "did you mean 'with_std'"), "%s", err.message);
    rv_args_free(&a);
    rv_args_init(&a, "x");
    rv_args_add_num(&a, NULL, 1.5);
    long v;
    static const char *const n2[] = {"k", NULL};
    cr_assert_eq(rv_args_get_int(&a, n2, "k", 3, 1, 10, &v, &err), RV_ETYPE);
    rv_args_free(&a);
}

Test(core, edit_distance)
{
    cr_assert_eq(rv_edit_distance("StandardScalr", "StandardScaler"), 1);
    cr_assert_eq(rv_edit_distance("", "abc"), 3);
    cr_assert_eq(rv_edit_distance("kitten", "sitting"), 3);
}
