/* Model definitions as text: grammar (through a probe class that echoes the
 * values it receives), error messages with line and column, robustness on
 * hostile input, and the describe -> parse round trip of every registered
 * class that builds from default arguments. */
#include "probe.h"
#include "rivulet/model.h"
#include "support.h"

static char *parse_probe(const char *text, const char *entry, rv_error *err)
{
    rv_parse_set_lookup(probe_lookup);
    rv_object *o = rv_model_parse(text, strlen(text), entry, err);
    rv_parse_set_lookup(NULL);
    if (!o)
        return NULL;
    rv_buf b;
    rv_buf_init(&b);
    rv_object_describe(o, &b);
    rv_object_free(o);
    char *s = strdup(rv_buf_cstr(&b));
    rv_buf_free(&b);
    return s;
}

static void expect_probe(const char *text, const char *want)
{
    rv_error err = {0};
    char *got = parse_probe(text, NULL, &err);
    cr_assert(got, "parse of <%s> failed: %s", text, err.message);
    cr_expect_str_eq(got, want, "parse of <%s>", text);
    free(got);
}

static void expect_error(const char *text, const char *want)
{
    rv_error err = {0};
    char *got = parse_probe(text, NULL, &err);
    cr_assert_null(got, "parse of <%s> should fail but gave %s", text, got);
    cr_expect(err.code < 0);
    cr_expect_str_eq(err.message, want, "parse of <%s>", text);
}

Test(parse, calls_and_literals)
{
    expect_probe("Probe()", "test.Probe()");
    expect_probe("test.Probe(1, 2.5, -3e2, 1_000, .5, 5., 1E3)",
                 "test.Probe(1, 2.5, -300.0, 1000, 0.5, 5.0, 1000.0)");
    expect_probe("Probe(True, False, None, inf, -inf, float('-inf'), float('1e2'))",
                 "test.Probe(True, False, None, inf, -inf, -inf, 100.0)");
    expect_probe("Probe('a', \"b\", 'it\\'s', \"q\\\"\", 'x' \"y\", '')",
                 "test.Probe('a', 'b', 'it\\'s', 'q\"', 'xy', '')");
    expect_probe("Probe('\\n\\t\\\\\\x41\\u00e9', r'\\d')", "test.Probe('\\n\\t\\\\A\xc3\xa9', '\\\\d')");
    expect_probe("Probe([1, [2, 3]], (4,), (5, 6,), (), [], {}, {'a': 1, 2: [3]})",
                 "test.Probe([1, [2, 3]], [4], [5, 6], [], [], {}, {'a': 1, 2: [3]})");
    expect_probe("Probe((7))", "test.Probe(7)");
    expect_probe("Probe(1, x=2, inner=Probe(y='z'),)",
                 "test.Probe(1, x=2, inner=test.Probe(y='z'))");
}

Test(parse, kind_hints)
{
    /* the keyword says which of two classes called Constant is meant */
    expect_probe("Probe(lr=Constant(0.1), initializer=Constant(0.1))",
                 "test.Probe(lr=sched.Constant(0.1), initializer=init.Constant(0.1))");
}

Test(parse, layout_comments_and_assignments)
{
    expect_probe("# a model\n"
                 "a = 1  # one\n"
                 "\n"
                 "b = Probe(a,\n"
                 "          [a,   # inside brackets newlines do not end statements\n"
                 "           2])\n"
                 "Probe(b, b)\n",
                 "test.Probe(test.Probe(1, [1, 2]), test.Probe(1, [1, 2]))");
    expect_probe("x = Probe(1); x", "test.Probe(1)");
    expect_probe("x = Probe(1)\nx = Probe(2)\n", "test.Probe(2)"); /* last statement, redefined */
    expect_probe("Probe(1 \\\n , 2)", "test.Probe(1, 2)");
    expect_probe("\r\n\r\nProbe(1)\r\n", "test.Probe(1)");

    rv_error err = {0};
    char *got = parse_probe("model = Probe(1)\nother = Probe(2)\n", "model", &err);
    cr_assert(got, "%s", err.message);
    cr_expect_str_eq(got, "test.Probe(1)");
    free(got);
    cr_expect_null(parse_probe("model = Probe(1)\n", "nope", &err));
    cr_expect_str_eq(err.message, "no definition named 'nope'");
}

Test(parse, errors_point_at_line_and_column)
{
    expect_error("Probe(1,\n  'abc)", "line 2, column 3: unterminated string");
    expect_error("Probe(1, [2, 3)", "line 1, column 15: closing ')' does not match opening '[' at line 1, column 10");
    expect_error("Probe(1,\n 2", "line 1, column 6: '(' was never closed");
    expect_error("Probe(1))", "line 1, column 9: unmatched ')'");
    expect_error("a = 1\nProbe(b)", "line 2, column 7: undefined name 'b'");
    expect_error("Probe(x=1, 2)", "line 1, column 12: test.Probe: positional argument follows keyword argument");
    expect_error("Probe(1 2)", "line 1, column 9: expected ',' or ')', found a number");
    expect_error("Probe(-'a')", "line 1, column 7: unary '-' applies to numbers, not a string");
    expect_error("Probe(1) Probe(2)", "line 1, column 10: unexpected 'Probe'");
    expect_error("Probe(1e)", "line 1, column 7: invalid number");
    expect_error("Probe(1 * 2)", "line 1, column 9: unexpected character '*'");
    expect_error("Probe('''a''')", "line 1, column 7: triple-quoted strings are not supported");
    expect_error("Probe('\\x4')", "line 1, column 8: truncated \\x, \\u or \\U escape in a string");
    expect_error("Probe({1 2})", "line 1, column 10: expected ':' in a dict, found a number");
    expect_error("True = 1", "line 1, column 1: cannot assign to True");
    expect_error("", "the definition is empty: no model");
    expect_error("# only a comment\n", "the definition is empty: no model");
    expect_error("x = 3", "line 1, column 5: the model must be an object, not a number");
    expect_error("Probe(1) | 2", "line 1, column 12: '|' joins estimators, not a number");
    expect_error("Nope()", "line 1, column 1: unknown estimator 'Nope'");
}

Test(parse, unknown_names_are_suggested_from_the_registry)
{
    rv_error err = {0};
    const char *text = "\n\ncompose.Famly(None, by='id')";
    cr_assert_null(rv_model_parse(text, strlen(text), NULL, &err));
    cr_expect_str_eq(err.message, "line 3, column 1: unknown estimator 'compose.Famly', did you mean 'Family'?");
}

Test(parse, deep_nesting_is_an_error_not_a_crash)
{
    size_t n = 200000;
    char *s = malloc(2 * n + 2);
    const char *opens[] = {"(", "[", "-", "{"};
    for (size_t k = 0; k < 4; k++) {
        memset(s, opens[k][0], n);
        s[n] = '1';
        s[n + 1] = '\0';
        rv_error err = {0};
        cr_expect_null(rv_model_parse(s, n + 1, NULL, &err));
        cr_expect(strstr(err.message, "nested too deeply") != NULL, "%s", err.message);
    }
    free(s);
}

/* Random bytes and random splices of valid text: errors, never a crash
 * (the ASan run of `make test` checks memory too). */
Test(parse, fuzz_never_crashes)
{
    static const char *pieces[] = {"Probe(", ")", "(", "[", "]", "{", "}", ",", "=", ":", "|", "+",
                                   "-", "x", "x = ", "'s'", "\"", "'", "1", "2.5e", "\n", "#c\n",
                                   "\\", "None", "True", ".", "Constant(", "lr=", "float(", "r'"};
    unsigned seed = 12345;
    char buf[256];
    rv_parse_set_lookup(probe_lookup);
    for (int it = 0; it < 20000; it++) {
        size_t n = 0;
        int parts = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 12;
        for (int p = 0; p < parts; p++) {
            seed = seed * 1103515245u + 12345u;
            if (it % 4 == 0) {
                buf[n++] = (char)(seed >> 16);
                continue;
            }
            const char *w = pieces[(seed >> 16) % (sizeof pieces / sizeof *pieces)];
            size_t l = strlen(w);
            if (n + l >= sizeof buf)
                break;
            memcpy(buf + n, w, l);
            n += l;
        }
        rv_error err = {0};
        rv_object *o = rv_model_parse(buf, n, NULL, &err);
        cr_assert(o || err.code < 0, "<%.*s> neither parsed nor failed", (int)n, buf);
        rv_object_free(o);
    }
    rv_parse_set_lookup(NULL);
}

/* Every registered class that builds from default arguments describes
 * itself as text that parses back to the same text and the same state. */
Test(parse, describe_round_trip_of_every_default_class)
{
    size_t tried = 0;
    for (const rv_class *const *c = rv_class_all(); *c; c++) {
        rv_args args;
        char callee[256];
        snprintf(callee, sizeof callee, "%s%s%s", (*c)->module, (*c)->module[0] ? "." : "",
                 (*c)->name);
        rv_args_init(&args, callee);
        rv_error err = {0};
        rv_object *o = (*c)->create(&args, &err);
        rv_args_free(&args);
        if (!o)
            continue; /* needs arguments: covered by the contract test's examples */
        tried++;
        rv_buf a, b, sa, sb;
        rv_buf_init(&a);
        rv_buf_init(&b);
        rv_buf_init(&sa);
        rv_buf_init(&sb);
        cr_assert_eq(rv_object_describe(o, &a), RV_OK, "%s", callee);
        rv_object *back = rv_model_parse(a.data, a.len, NULL, &err);
        cr_assert(back, "%s: <%s> does not parse: %s", callee, rv_buf_cstr(&a), err.message);
        cr_expect_str_eq(back->cls->name, o->cls->name, "%s", callee);
        rv_object_describe(back, &b);
        cr_expect_str_eq(rv_buf_cstr(&b), rv_buf_cstr(&a), "%s", callee);
        o->cls->save(o, &sa);
        back->cls->save(back, &sb);
        cr_expect(sa.len == sb.len && (!sa.len || memcmp(sa.data, sb.data, sa.len) == 0), "%s state", callee);
        rv_object_free(o);
        rv_object_free(back);
        rv_buf_free(&a);
        rv_buf_free(&b);
        rv_buf_free(&sa);
        rv_buf_free(&sb);
    }
    fprintf(stderr, "parse: %zu classes round-tripped from default arguments\n", tried);
}
