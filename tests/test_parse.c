/* Model definitions as text: grammar (through a probe class that echoes the
 * values it receives), error messages with line and column, robustness on
 * hostile input, comprehensions, range() and '*' unpacking, the describe ->
 * parse round trip of every registered class that builds from default
 * arguments, and the write-up's pipelines as written in examples/m5/. */
#include "m5_pairs.h"
#include "probe.h"
#include "rivulet/compose.h"
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
    expect_error("Probe(1 / 2)", "line 1, column 9: unexpected character '/'");
    expect_error("Probe(1 * 2)", "line 1, column 9: expected ',' or ')', found '*'");
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
                                   "\\", "None", "True", ".", "Constant(", "lr=", "float(", "r'",
                                   "*", "[k for k in ", " for ", " in ", "range(", "k", " if ",
                                   "range(3)", "*range(2), "};
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

Test(parse, range_unpacking_and_list_addition)
{
    expect_probe("Probe(range(3), range(1, 4), range(10, 0, -3), range(5, 2), range(-2, 2, 3), range(0))",
                 "test.Probe([0, 1, 2], [1, 2, 3], [10, 7, 4, 1], [], [-2, 1], [])");
    expect_probe("Probe(range(True), range(-1, -4, -1))", "test.Probe([0], [-1, -2, -3])");
    expect_probe("Probe(*[1, 'a'], 3, *range(2), *[], x=4)", "test.Probe(1, 'a', 3, 0, 1, x=4)");
    expect_probe("Probe(x=1, *[2])", "test.Probe(2, x=1)"); /* Python allows '*' after a keyword */
    expect_probe("Probe([*[1], 2, *[], *range(2)], (*[1, 2],), (*[1], 2), [*[[3]]])",
                 "test.Probe([1, 2, 0, 1], [1, 2], [1, 2], [[3]])");
    expect_probe("Probe([1] + [2, 3] + [], [] + [], range(2) + [5], [*[0] + [1]])",
                 "test.Probe([1, 2, 3], [], [0, 1, 5], [0, 1])");
    expect_probe("a = [1]\nb = a + a\nProbe(b, a)", "test.Probe([1, 1], [1])"); /* copies, not aliases */
}

Test(parse, list_comprehensions)
{
    expect_probe("Probe([k for k in range(3)])", "test.Probe([0, 1, 2])");
    expect_probe("Probe([Probe(k) for k in [*range(1, 3), 25, 30]])",
                 "test.Probe([test.Probe(1), test.Probe(2), test.Probe(25), test.Probe(30)])");
    expect_probe("Probe(*[Probe(by=['w'], how=k) for k in range(2)], *[Probe(k) for k in [9]])",
                 "test.Probe(test.Probe(by=['w'], how=0), test.Probe(by=['w'], how=1), test.Probe(9))");
    expect_probe("Probe([[s, 'x'] for s in ['a', 'b']] + [k for k in [(1, 2)]])",
                 "test.Probe([['a', 'x'], ['b', 'x'], [1, 2]])");
    expect_probe("Probe([[i for i in range(j)] for j in range(3)])", "test.Probe([[], [0], [0, 1]])");
    expect_probe("n = 10\nProbe([Probe(n, k) for k in range(2)])",
                 "test.Probe([test.Probe(10, 0), test.Probe(10, 1)])");
    /* layout: brackets span lines, comments inside */
    expect_probe("Probe([\n  k  # each\n  for k   # item\n  in range(2)\n])", "test.Probe([0, 1])");
    /* the variable is bound only inside, shadowing a definition; the
     * iterable is read in the enclosing scope */
    expect_probe("k = 'outer'\nProbe([k for k in range(2)], k)", "test.Probe([0, 1], 'outer')");
    expect_probe("k = [7, 8]\nProbe([k for k in k], k)", "test.Probe([7, 8], [7, 8])");
    expect_error("Probe([k for k in range(2)], k)", "line 1, column 30: undefined name 'k'");
    expect_error("x = [k for k in range(2)]\nProbe(k)", "line 2, column 7: undefined name 'k'");
    /* as in Python, the expression is not evaluated for an empty list */
    expect_probe("Probe([nope for k in []])", "test.Probe([])");
    /* each item is a fresh value, not a copy of one */
    expect_probe("Probe([[k] + [k] for k in range(2)])", "test.Probe([[0, 0], [1, 1]])");
}

Test(parse, comprehension_range_and_unpacking_errors)
{
    expect_error("Probe(range(100001))", "line 1, column 7: range() of 100001 items is over the limit of 100000");
    expect_error("Probe(range(-5, 99999999, 7))", "line 1, column 7: range() of 14285715 items is over the limit of 100000");
    expect_error("Probe(range(1e3))", "line 1, column 13: range() takes integers, not a float");
    expect_error("Probe(range('a'))", "line 1, column 13: range() takes integers, not a string");
    expect_error("Probe(range(99999999999999999999))", "line 1, column 13: range() bound 1e+20 is beyond 2**53");
    expect_error("Probe(range())", "line 1, column 7: range expected at least 1 argument, got 0");
    expect_error("Probe(range(1, 2, 3, 4))", "line 1, column 7: range expected at most 3 arguments, got 4");
    expect_error("Probe(range(1, 5, 0))", "line 1, column 19: range() arg 3 must not be zero");
    expect_error("Probe(range(stop=3))", "line 1, column 13: range() takes no keyword arguments");
    expect_error("Probe(*1)", "line 1, column 7: test.Probe: '*' unpacks a list, not a number");
    expect_error("Probe([*1])", "line 1, column 8: '*' unpacks a list, not a number");
    expect_error("Probe((*[1]))", "line 1, column 8: '*' unpacks only inside a list, a tuple or a call's arguments");
    expect_error("Probe([*a for a in [[1]]])", "line 1, column 8: '*' cannot unpack in a comprehension's expression");
    expect_error("Probe([k for k in 3])", "line 1, column 19: a comprehension iterates over a list, not a number");
    expect_error("Probe([k for k in range(3) if k])",
                 "line 1, column 28: a comprehension takes one 'for' clause and no 'if'");
    expect_error("Probe([k for j in [1] for k in [2]])",
                 "line 1, column 23: a comprehension takes one 'for' clause and no 'for'");
    expect_error("Probe([k for k, j in x])", "line 1, column 15: a comprehension binds one plain name ('for k in ...')");
    expect_error("Probe([k for True in x])", "line 1, column 14: expected a name after 'for', found 'True'");
    expect_error("Probe([k for k of x])", "line 1, column 16: expected 'in', found 'of'");
    expect_error("Probe([k for k in range(3)", "line 1, column 7: '[' was never closed");
    expect_error("Probe([k for k in [1] 2])", "line 1, column 23: expected ']' after the comprehension, found a number");
    expect_error("Probe([for k in [1]])", "line 1, column 8: unexpected 'for'");
    expect_error("Probe([k k for k in range(2)])", "line 1, column 10: unexpected 'k'");
    expect_error("Probe([j for k in range(3)])", "line 1, column 8: undefined name 'j'");
    expect_error("Probe([Nope(k) for k in range(3)])", "line 1, column 8: unknown estimator 'Nope'");
    expect_error("Probe([k for k in range(3)\n  ] + 2)", "line 2, column 7: '+' can only add a list to a list, not a number");
    expect_error("Probe(1 + 2)", "line 1, column 7: '+' joins estimators or lists, not a number");
    expect_error("Probe(Probe() + [1])", "line 1, column 17: '+' cannot join an estimator and a list");
}

/* Expansion is bounded: nested comprehensions, and names copied into ever
 * larger lists, end in an error once the values made pass the budget. */
Test(parse, hostile_expansion_is_an_error)
{
    const char *texts[] = {
        "Probe([[0 for a in range(100000)] for b in range(100000)])",
        "Probe([[[0 for a in range(100)] for b in range(100)] for c in range(100000)])",
        "a = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\nb = [a, a, a, a, a, a, a, a, a, a]\nc = [b, b, b, b, b, b, b, b, b, b]\n"
        "d = [c, c, c, c, c, c, c, c, c, c]\ne = [d, d, d, d, d, d, d, d, d, d]\nf = [e, e, e, e, e, e, e, e, e, e]\n"
        "g = [f, f, f, f, f, f, f, f, f, f]\nh = [g, g, g, g, g, g, g, g, g, g]\nProbe(h)",
        "a = range(100000)\na = a + a\na = a + a\na = a + a\na = a + a\na = a + a\na = a + a\na = a + a\nProbe(a)",
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        rv_error err = {0};
        cr_expect_null(parse_probe(texts[i], NULL, &err), "text %zu parsed", i);
        cr_expect(strstr(err.message, "MiB of values") != NULL, "text %zu: %s", i, err.message);
    }
    /* deep nesting of comprehensions hits the depth bound */
    rv_buf b;
    rv_buf_init(&b);
    for (int i = 0; i < 100; i++)
        rv_buf_puts(&b, "[");
    rv_buf_puts(&b, "0");
    for (int i = 0; i < 100; i++)
        rv_buf_puts(&b, " for k in [1]]");
    rv_error err = {0};
    cr_expect_null(rv_model_parse(b.data, b.len, NULL, &err));
    cr_expect(strstr(err.message, "nested too deeply") != NULL, "%s", err.message);
    rv_buf_free(&b);
}

/* ===== The write-up's pipelines (examples/m5/) ===== */

/* Reads examples/m5/<name> from the repository root (tests run there) or
 * from a build directory below it. */
static char *read_example(const char *name, size_t *len)
{
    const char *roots[] = {".", "..", "../.."};
    char path[512];
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/examples/m5/%s", roots[i], name);
        char *text = rv_test_read_file(path, len);
        if (text)
            return text;
    }
    cr_assert_fail("examples/m5/%s not found from the working directory", name);
    return NULL;
}

static rv_object *parse_example(const char *name)
{
    size_t len;
    char *text = read_example(name, &len);
    rv_error err = {0};
    rv_object *o = rv_model_parse(text, len, NULL, &err);
    cr_assert_not_null(o, "%s: %s", name, err.message);
    free(text);
    return o;
}

static char *describe(const rv_object *o)
{
    rv_buf b;
    rv_buf_init(&b);
    cr_assert_eq(rv_object_describe(o, &b), RV_OK);
    char *s = strdup(rv_buf_cstr(&b));
    rv_buf_free(&b);
    return s;
}

rv_object *m5_pipeline(int knn, int learn_during_predict); /* test_compose.c: built in C */

/* Each file is the pipeline built step by step in C (same text), with its
 * 29 TargetAggs fused in two blocks, and its text parses back to itself. */
Test(parse, m5_examples_are_the_write_up_pipelines)
{
    const char *files[2] = {"knn.river", "lm.river"};
    for (int m = 0; m < 2; m++) {
        rv_object *parsed = parse_example(files[m]), *built = m5_pipeline(m == 0, 1);
        char *want = describe(built), *got = describe(parsed);
        cr_expect_str_eq(got, want, "%s", files[m]);
        size_t nblocks = 0;
        cr_expect_eq(rv_union_fused_parts(rv_pipeline_step(parsed, 2), &nblocks), 29);
        cr_expect_eq(nblocks, 2);
        rv_error err = {0};
        rv_object *back = rv_model_parse(got, strlen(got), NULL, &err);
        cr_assert_not_null(back, "%s: %s", files[m], err.message);
        char *again = describe(back);
        cr_expect_str_eq(again, got, "%s", files[m]);
        free(again);
        free(got);
        free(want);
        rv_object_free(back);
        rv_object_free(parsed);
        rv_object_free(built);
    }
}

/* The files as parsed, one (knn, lm) pair per item_id over m5_small.csv,
 * against creme 0.5.1 (m5_pairs.h). */
Test(reference, m5_example_files_match_creme)
{
    RV_REQUIRE_SHARED(dir);
    rv_object *knn = parse_example("knn.river"), *lm = parse_example("lm.river");
    m5_pairs_match_creme(dir, knn, lm);
    rv_object_free(knn);
    rv_object_free(lm);
}

/* River code pastes with its import lines: they are checked and ignored
 * (names resolve through the registry), and river.X / creme.X name X. */
Test(parse, river_imports_are_read_and_ignored)
{
    expect_probe("from river import compose, linear_model\nimport river\nProbe(1)", "test.Probe(1)");
    expect_probe("from river import (compose,\n    linear_model,)\nimport river.linear_model, math\n"
                 "m = Probe(2)\nm",
                 "test.Probe(2)");
    expect_probe("from creme.test import Probe\nriver.test.Probe(3)", "test.Probe(3)");
    expect_probe("creme.test.Probe(4)", "test.Probe(4)");
    expect_error("import numpy as np\nProbe()",
                 "line 1, column 8: cannot import 'numpy': a definition may import from river, creme or "
                 "math only (their names need no import)");
    expect_error("from river import linear_model as lm\nlm.Probe()",
                 "line 1, column 32: 'as' is not supported: write the module's own name (linear_model.X)");
    expect_error("import river as r\nProbe()",
                 "line 1, column 14: 'as' is not supported: write the module's own name");
    expect_error("from river import\nProbe()", "line 1, column 18: unexpected end of line");
    expect_error("from river linear_model\nProbe()", "line 1, column 12: unexpected 'linear_model'");
}
