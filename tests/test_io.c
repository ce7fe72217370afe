/* Tests of the io layer: CSV and NDJSON streams, gzip, types, dates, errors. */
#include "rivulet/io.h"
#include "support.h"

#include <math.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <sys/wait.h>
#include <zlib.h>

static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rv-io-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(io, .init = make_tmpdir, .fini = remove_tmpdir);

/* Writes text to tmpdir/name (gzip-compressed when gz) and returns the path. */
static const char *write_file(const char *name, const char *text, size_t len, int gz)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    if (gz) {
        gzFile f = gzopen(path, "wb");
        cr_assert_not_null(f);
        cr_assert_eq(gzwrite(f, text, (unsigned)len), (int)len);
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        cr_assert_not_null(f);
        cr_assert_eq(fwrite(text, 1, len, f), len);
        fclose(f);
    }
    return path;
}

static const char *write_text(const char *name, const char *text)
{
    return write_file(name, text, strlen(text), 0);
}

static void assert_num(const rv_event *x, const char *name, double want)
{
    const rv_feature *f = rv_event_get(x, rv_sym_intern_cstr(name));
    cr_assert_not_null(f, "feature %s missing", name);
    cr_assert_eq(f->kind, RV_NUM, "feature %s is not a number", name);
    cr_assert_eq(f->num, want, "feature %s: %.17g != %.17g", name, f->num, want);
}

static void assert_str(const rv_event *x, const char *name, const char *want)
{
    const rv_feature *f = rv_event_get(x, rv_sym_intern_cstr(name));
    cr_assert_not_null(f, "feature %s missing", name);
    cr_assert_eq(f->kind, RV_STR, "feature %s is not a string", name);
    cr_assert_eq(f->len, strlen(want), "feature %s: '%.*s'", name, (int)f->len, f->str);
    cr_assert_eq(memcmp(f->str, want, f->len), 0);
}

static void assert_absent(const rv_event *x, const char *name)
{
    cr_assert_null(rv_event_get(x, rv_sym_intern_cstr(name)), "feature %s present", name);
}

static rv_stream *open_ok(const char *path, const rv_stream_opts *o)
{
    rv_error err = {0};
    rv_stream *s = rv_stream_open(path, o, &err);
    cr_assert_not_null(s, "open failed: %s", err.message);
    return s;
}

static void next_ok(rv_stream *s, rv_event *x, rv_value *y, int *has_y)
{
    rv_error err = {0};
    int rc = rv_stream_next(s, x, y, has_y, &err);
    cr_assert_eq(rc, 1, "next returned %d: %s", rc, err.message);
}

static void expect_end(rv_stream *s, rv_event *x)
{
    rv_error err = {0};
    cr_assert_eq(rv_stream_next(s, x, NULL, NULL, &err), 0, "%s", err.message);
}

Test(io, csv_auto_types_target_and_absent)
{
    const char *p = write_text("a.csv", "id,x,y,name\n1,2.5,10,abc\n2,,-3e2,\n3,nan,7, 8 \n");
    rv_stream_opts o;
    rv_stream_opts_init(&o);
    o.target = "y";
    rv_stream *s = open_ok(p, &o);
    rv_event x;
    rv_event_init(&x);
    rv_value y;
    int has_y;
    next_ok(s, &x, &y, &has_y);
    cr_assert_eq(x.n, 3);
    cr_assert_eq(x.items[0].name, rv_sym_intern_cstr("id"));
    cr_assert_eq(x.items[2].name, rv_sym_intern_cstr("name"));
    assert_num(&x, "id", 1);
    assert_num(&x, "x", 2.5);
    assert_str(&x, "name", "abc");
    assert_absent(&x, "y");
    cr_assert(has_y);
    cr_assert_eq(y.kind, RV_NUM);
    cr_assert_eq(y.num, 10);
    cr_assert_eq(rv_stream_line(s), 2);
    next_ok(s, &x, &y, &has_y);
    assert_absent(&x, "x");
    assert_absent(&x, "name");
    cr_assert_eq(y.num, -300);
    next_ok(s, &x, &y, &has_y);
    assert_str(&x, "x", "nan"); /* auto mode: only decimal numbers are numbers */
    assert_num(&x, "name", 8);  /* blanks around a number are allowed */
    expect_end(s, &x);
    cr_assert_eq(rv_stream_rows(s), 3);
    cr_assert_eq(rv_stream_bytes_read(s), rv_stream_total_bytes(s));
    cr_assert_eq(rv_stream_total_bytes(s), strlen("id,x,y,name\n1,2.5,10,abc\n2,,-3e2,\n3,nan,7, 8 \n"));
    rv_stream_close(s);
    rv_event_free(&x);
}

Test(io, csv_quoted_fields_crlf_blank_lines_and_bom)
{
    const char *p = write_text("q.csv", "\xEF\xBB\xBF"
                                        "a,b,c\r\n"
                                        "\"x,y\",\"he said \"\"hi\"\"\",\"multi\nline\"\r\n"
                                        "\r\n"
                                        "\"\",plain,\"12\"\n"
                                        "last,\"q\"\"\",3");
    rv_stream *s = open_ok(p, NULL);
    rv_event x;
    rv_event_init(&x);
    next_ok(s, &x, NULL, NULL);
    assert_str(&x, "a", "x,y");
    assert_str(&x, "b", "he said \"hi\"");
    assert_str(&x, "c", "multi\nline");
    cr_assert_eq(rv_stream_line(s), 2);
    next_ok(s, &x, NULL, NULL);
    cr_assert_eq(rv_stream_line(s), 5); /* the quoted newline and the blank line count */
    assert_absent(&x, "a");             /* "" is empty, hence absent */
    assert_str(&x, "b", "plain");
    assert_num(&x, "c", 12); /* quoting does not make a number a string */
    next_ok(s, &x, NULL, NULL);
    assert_str(&x, "a", "last");
    assert_str(&x, "b", "q\"");
    assert_num(&x, "c", 3);
    expect_end(s, &x);
    const char *const *names;
    cr_assert_eq(rv_stream_columns(s, &names), 3);
    cr_assert_str_eq(names[0], "a"); /* the BOM is not part of the name */
    rv_stream_close(s);
    rv_event_free(&x);
}

Test(io, csv_record_larger_than_the_buffer)
{
    size_t big = 3u << 20;
    char *text = malloc(big + 64);
    strcpy(text, "a,b\n\"");
    size_t n = strlen(text);
    for (size_t i = 0; i < big; i++)
        text[n++] = i % 1000 == 999 ? '\n' : (i % 7 == 0 ? ',' : 'z');
    memcpy(text + n, "\",5\n1,2\n", 8);
    n += 8;
    const char *p = write_file("big.csv", text, n, 0);
    rv_stream *s = open_ok(p, NULL);
    rv_event x;
    rv_event_init(&x);
    next_ok(s, &x, NULL, NULL);
    const rv_feature *f = rv_event_get(&x, rv_sym_intern_cstr("a"));
    cr_assert_eq(f->len, big);
    cr_assert_eq(memcmp(f->str, text + 5, big), 0);
    assert_num(&x, "b", 5);
    next_ok(s, &x, NULL, NULL);
    cr_assert_eq(rv_stream_line(s), 2 + big / 1000 + 1);
    assert_num(&x, "a", 1);
    expect_end(s, &x);
    rv_stream_close(s);
    rv_event_free(&x);
    free(text);
}

Test(io, gzip_is_detected_by_magic_and_multi_member_works)
{
    const char *text = "k,v\na,1\nb,2\n";
    const char *p = write_file("data.csv", text, strlen(text), 1); /* no .gz suffix */
    /* Append a second gzip member: gzip files may be concatenated. */
    gzFile f = gzopen(p, "ab");
    gzputs(f, "c,3\n");
    gzclose(f);
    rv_stream *s = open_ok(p, NULL);
    rv_event x;
    rv_event_init(&x);
    double sum = 0;
    while (rv_stream_next(s, &x, NULL, NULL, NULL) == 1)
        sum += rv_event_get(&x, rv_sym_intern_cstr("v"))->num;
    cr_assert_eq(sum, 6);
    cr_assert_eq(rv_stream_rows(s), 3);
    cr_assert_eq(rv_stream_bytes_read(s), rv_stream_total_bytes(s));
    rv_stream_close(s);
    rv_event_free(&x);
}

Test(io, truncated_gzip_is_an_io_error)
{
    char text[4096];
    size_t n = 0;
    n += (size_t)sprintf(text, "a,b\n");
    for (int i = 0; i < 300; i++)
        n += (size_t)sprintf(text + n, "%d,%d\n", i * 7919 % 1000, i);
    const char *p = write_file("t.csv.gz", text, n, 1);
    size_t len = 0;
    char *gz = rv_test_read_file(p, &len);
    cr_assert_not_null(gz);
    write_file("t.csv.gz", gz, len / 2, 0);
    free(gz);
    rv_error err = {0};
    rv_stream *s = rv_stream_open(p, NULL, &err);
    cr_assert_not_null(s, "%s", err.message);
    rv_event x;
    rv_event_init(&x);
    int rc;
    while ((rc = rv_stream_next(s, &x, NULL, NULL, &err)) == 1)
        ;
    cr_assert_eq(rc, RV_EIO, "rc %d: %s", rc, err.message);
    rv_stream_close(s);
    rv_event_free(&x);
}

Test(io, ndjson_values)
{
    const char *text = "{\"a\": 1, \"s\": \"x\", \"t\": true, \"f\": false, \"n\": null, \"y\": 2.5}\n"
                       "\n"
                       "{\"s\": \"\", \"a\": 12345678901234567890123, \"y\": null}\n";
    const char *p = write_file("d.ndjson.gz", text, strlen(text), 1);
    rv_stream_opts o;
    rv_stream_opts_init(&o);
    o.target = "y";
    rv_stream *s = open_ok(p, &o);
    cr_assert_eq(rv_stream_get_format(s), RV_STREAM_NDJSON);
    rv_event x;
    rv_event_init(&x);
    rv_value y;
    int has_y;
    next_ok(s, &x, &y, &has_y);
    cr_assert_eq(x.n, 4);
    cr_assert_eq(x.items[0].name, rv_sym_intern_cstr("a")); /* key order kept */
    cr_assert_eq(x.items[3].name, rv_sym_intern_cstr("f"));
    assert_num(&x, "a", 1);
    assert_str(&x, "s", "x");
    assert_num(&x, "t", 1);
    assert_num(&x, "f", 0);
    assert_absent(&x, "n");
    cr_assert(has_y);
    cr_assert_eq(y.num, 2.5);
    next_ok(s, &x, &y, &has_y);
    cr_assert_eq(rv_stream_line(s), 3);
    cr_assert_not(has_y);
    assert_absent(&x, "s");
    assert_num(&x, "a", 12345678901234567890123.0);
    expect_end(s, &x);
    rv_stream_close(s);
    rv_event_free(&x);
}

Test(io, ndjson_bad_rows)
{
    const char *p = write_text("b.ndjson", "{\"a\": [1]}\n{\"a\": 1\n[1, 2]\n{\"a\": 3}\n");
    rv_stream_opts o;
    rv_stream_opts_init(&o);
    o.skip_bad = 1;
    rv_stream *s = open_ok(p, &o);
    rv_event x;
    rv_event_init(&x);
    next_ok(s, &x, NULL, NULL);
    assert_num(&x, "a", 3);
    cr_assert_eq(rv_stream_skipped(s), 3);
    char want[512];
    snprintf(want, sizeof want, "%s:1: field 'a': nested array values are not supported", p);
    cr_assert_str_eq(rv_stream_first_skip(s), want);
    rv_stream_close(s);
    o.skip_bad = 0;
    s = open_ok(p, &o);
    rv_error err = {0};
    cr_assert_eq(rv_stream_next(s, &x, NULL, NULL, &err), RV_EINVAL);
    rv_stream_close(s);
    rv_event_free(&x);
}

/* A key twice in a row is refused like a CSV column twice; an integer
 * column refuses a number no integer type holds (1e20 was a cast out of
 * range: undefined behaviour). */
Test(io, ndjson_duplicate_keys_and_huge_integers)
{
    const char *p = write_text("dup.ndjson", "{\"y\": 3, \"y\": 100}\n{\"k\": 1e20, \"y\": 1}\n"
                                             "{\"k\": 4, \"y\": 2}\n");
    rv_stream_opts o;
    rv_stream_opts_init(&o);
    o.skip_bad = 1;
    rv_error err = {0};
    cr_assert_eq(rv_stream_opts_type(&o, "k=int", &err), RV_OK, "%s", err.message);
    rv_stream *s = open_ok(p, &o);
    rv_event x;
    rv_event_init(&x);
    next_ok(s, &x, NULL, NULL);
    assert_num(&x, "k", 4);
    cr_assert_eq(rv_stream_skipped(s), 2);
    cr_assert_not_null(strstr(rv_stream_first_skip(s), "duplicate"), "%s", rv_stream_first_skip(s));
    rv_stream_close(s);
    rv_event_free(&x);
    rv_stream_opts_free(&o);
}

Test(io, a_target_that_is_not_finite_is_a_bad_row)
{
    const char *p = write_text("nf.csv", "x,y\n1,2\n2,nan\n3,1e400\n4,8\n");
    rv_stream_opts o;
    rv_stream_opts_init(&o);
    o.target = "y";
    o.skip_bad = 1;
    rv_error err = {0};
    cr_assert_eq(rv_stream_opts_type(&o, "y=float", &err), RV_OK, "%s", err.message);
    rv_stream *s = open_ok(p, &o);
    rv_event x;
    rv_event_init(&x);
    rv_value y;
    int has_y = 0, rows = 0;
    while (rv_stream_next(s, &x, &y, &has_y, &err) == 1) {
        cr_assert(has_y && isfinite(y.num));
        rows++;
    }
    cr_assert_eq(rows, 2);
    cr_assert_eq(rv_stream_skipped(s), 2);
    cr_assert_not_null(strstr(rv_stream_first_skip(s), "not a finite number"), "%s", rv_stream_first_skip(s));
    rv_stream_close(s);
    rv_event_free(&x);
    rv_stream_opts_free(&o);
}

Test(io, bad_rows_name_file_line_and_column)
{
    const char *p = write_text("data.csv", "x,y\n1,2\n2,abc\n3,4,5\n4,\"open\n");
    rv_stream_opts o;
    rv_stream_opts_init(&o);
    o.target = "y";
    o.display_name = "data.csv";
    rv_error err = {0};
    cr_assert_eq(rv_stream_opts_type(&o, "y=float", &err), RV_OK);
    rv_stream *s = open_ok(p, &o);
    rv_event x;
    rv_event_init(&x);
    next_ok(s, &x, NULL, NULL);
    cr_assert_eq(rv_stream_next(s, &x, NULL, NULL, &err), RV_EINVAL);
    cr_assert_str_eq(err.message, "data.csv:3: column 'y': 'abc' is not a number");
    cr_assert_eq(rv_stream_next(s, &x, NULL, NULL, &err), RV_EINVAL);
    cr_assert_str_eq(err.message, "data.csv:4: expected 2 fields, found 3");
    cr_assert_eq(rv_stream_next(s, &x, NULL, NULL, &err), RV_EINVAL);
    cr_assert_str_eq(err.message, "data.csv:5: a quoted field opened here is never closed");
    expect_end(s, &x);
    rv_stream_close(s);

    o.skip_bad = 1;
    s = open_ok(p, &o);
    int n = 0;
    while (rv_stream_next(s, &x, NULL, NULL, &err) == 1)
        n++;
    cr_assert_eq(n, 1);
    cr_assert_eq(rv_stream_skipped(s), 3);
    cr_assert_str_eq(rv_stream_first_skip(s), "data.csv:3: column 'y': 'abc' is not a number");
    rv_stream_close(s);
    rv_stream_opts_free(&o);
    rv_event_free(&x);
}

Test(io, forced_types)
{
    const char *p = write_text("t.csv", "i,f,s,d\n007,nan,007,2020-01-02\n1.5,inf,x,2020-02-30\n");
    rv_stream_opts o;
    rv_stream_opts_init(&o);
    rv_error err = {0};
    cr_assert_eq(rv_stream_opts_type(&o, "i=int", &err), RV_OK);
    cr_assert_eq(rv_stream_opts_type(&o, "f=float", &err), RV_OK);
    cr_assert_eq(rv_stream_opts_type(&o, "s=str", &err), RV_OK);
    cr_assert_eq(rv_stream_opts_date(&o, "d=%Y-%m-%d", &err), RV_OK);
    rv_stream *s = open_ok(p, &o);
    rv_event x;
    rv_event_init(&x);
    next_ok(s, &x, NULL, NULL);
    assert_num(&x, "i", 7);
    cr_assert(isnan(rv_event_get(&x, rv_sym_intern_cstr("f"))->num));
    assert_str(&x, "s", "007");
    assert_num(&x, "d", 18263); /* 2020-01-01 is day 18262 of the Unix epoch */
    cr_assert_eq(rv_stream_next(s, &x, NULL, NULL, &err), RV_EINVAL);
    char want[512];
    snprintf(want, sizeof want, "%s:3: column 'i': '1.5' is not an integer", p);
    cr_assert_str_eq(err.message, want);
    rv_stream_close(s);
    /* Bad specs are usage errors. */
    cr_assert_eq(rv_stream_opts_type(&o, "i=double", &err), RV_EINVAL);
    cr_assert_eq(rv_stream_opts_type(&o, "noequals", &err), RV_EINVAL);
    cr_assert_eq(rv_stream_opts_date(&o, "d=%Y-%j", &err), RV_EINVAL);
    cr_assert_eq(rv_stream_opts_date(&o, "d=%Y-%m-%d%", &err), RV_EINVAL); /* every value would fail */
    cr_assert(strstr(err.message, "a lone '%' at the end"), "%s", err.message);
    cr_assert_eq(rv_stream_opts_date(&o, "d=%Y%%%m", &err), RV_OK);
    /* A typed column that the file lacks is reported when opening. */
    cr_assert_eq(rv_stream_opts_type(&o, "zz=int", &err), RV_OK);
    cr_assert_null(rv_stream_open(p, &o, &err));
    cr_assert(strstr(err.message, "no column 'zz'"), "%s", err.message);
    rv_stream_opts_free(&o);
    rv_event_free(&x);
}

Test(io, missing_target_and_missing_file)
{
    const char *p = write_text("m.csv", "a,b\n1,2\n");
    rv_stream_opts o;
    rv_stream_opts_init(&o);
    o.target = "y";
    rv_error err = {0};
    cr_assert_null(rv_stream_open(p, &o, &err));
    cr_assert(strstr(err.message, "no target column 'y'"), "%s", err.message);
    cr_assert_null(rv_stream_open("/nonexistent/file.csv", NULL, &err));
    cr_assert_eq(err.code, RV_EIO);
    cr_assert_str_eq(err.message, "/nonexistent/file.csv: No such file or directory");
    p = write_text("dup.csv", "a,b,a\n1,2,3\n");
    cr_assert_null(rv_stream_open(p, NULL, &err));
    cr_assert(strstr(err.message, "duplicate column 'a'"), "%s", err.message);
}

Test(io, dates)
{
    double d;
    cr_assert(rv_parse_date_days("1970-01-01", 10, "%Y-%m-%d", &d));
    cr_assert_eq(d, 0);
    cr_assert(rv_parse_date_days("2016-02-29 12:00:00", 19, "%Y-%m-%d %H:%M:%S", &d));
    cr_assert_eq(d, 16860.5); /* 46 years of 365 days plus 11 leap days, plus Jan and 28 Feb */
    cr_assert(rv_parse_date_days("1969-12-31", 10, "%Y-%m-%d", &d));
    cr_assert_eq(d, -1);
    cr_assert(rv_parse_date_days("1/3/2011", 8, "%m/%d/%Y", &d));
    cr_assert_eq(d, 14977);
    cr_assert_not(rv_parse_date_days("2015-02-29", 10, "%Y-%m-%d", &d));
    cr_assert_not(rv_parse_date_days("2015-02-01x", 11, "%Y-%m-%d", &d));
    cr_assert_not(rv_parse_date_days("2015/02/01", 10, "%Y-%m-%d", &d));
}

Test(io, decimal_parsing_matches_strtod)
{
    const char *cases[] = {"0", "-0", "1", "0.1", "3.14159", "1e22", "1e23", "123456789012345678",
                           "9007199254740993", "2.2250738585072014e-308", "4.9e-324", "1e-400",
                           "1.7976931348623157e308", "0.30000000000000004", ".5", "5.", "+7",
                           "-1.5E+3", "12345.678901234567890123"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        double got, want = strtod(cases[i], NULL);
        cr_assert(rv_parse_decimal(cases[i], strlen(cases[i]), &got), "%s", cases[i]);
        cr_assert_eq(memcmp(&got, &want, sizeof got), 0, "%s: %.17g != %.17g", cases[i], got,
                     want);
    }
    /* Random short decimals, the fast path, against strtod. */
    uint64_t state = 42;
    char buf[64];
    for (int i = 0; i < 20000; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        int whole = (int)((state >> 40) % 100000), frac = (int)((state >> 20) % 1000000);
        int e = (int)((state >> 8) % 45) - 22;
        snprintf(buf, sizeof buf, "%s%d.%06de%d", state & 1 ? "-" : "", whole, frac, e);
        double got, want = strtod(buf, NULL);
        cr_assert(rv_parse_decimal(buf, strlen(buf), &got));
        cr_assert_eq(memcmp(&got, &want, sizeof got), 0, "%s", buf);
    }
    const char *bad[] = {"", "-", ".", "e5", "1e", "1e+", "0x10", "nan", "inf", "1,5", "1 2", "--1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        double got;
        cr_assert_not(rv_parse_decimal(bad[i], strlen(bad[i]), &got), "'%s'", bad[i]);
    }
}

Test(io, dash_reads_standard_input_even_gzipped)
{
    const char *text = "{\"v\": 2}\n{\"v\": 5}\n";
    const char *p = write_file("in.gz", text, strlen(text), 1);
    int fd = open(p, O_RDONLY);
    cr_assert(fd >= 0);
    cr_assert_eq(dup2(fd, 0), 0); /* each Criterion test runs in its own process */
    close(fd);
    rv_stream *s = open_ok("-", NULL);
    cr_assert_str_eq(rv_stream_name(s), "<stdin>");
    rv_event x;
    rv_event_init(&x);
    next_ok(s, &x, NULL, NULL);
    assert_num(&x, "v", 2);
    next_ok(s, &x, NULL, NULL);
    assert_num(&x, "v", 5);
    expect_end(s, &x);
    rv_stream_close(s);
    rv_event_free(&x);
}

Test(io, rows_crossing_block_boundaries)
{
    /* ~4 MiB of quoted and plain rows: records straddle every refill. */
    rv_buf b;
    rv_buf_init(&b);
    rv_buf_puts(&b, "s,n\n");
    int rows = 150000;
    for (int i = 0; i < rows; i++) {
        if (i % 3 == 0)
            rv_buf_printf(&b, "\"a\"\"b,%d\nz\",%d\r\n", i, i);
        else
            rv_buf_printf(&b, "plain%d,%d\n", i, i);
    }
    const char *p = write_file("blocks.csv.gz", b.data, b.len, 0);
    rv_buf_free(&b);
    rv_stream *s = open_ok(p, NULL);
    rv_event x;
    rv_event_init(&x);
    char want[64];
    for (int i = 0; i < rows; i++) {
        next_ok(s, &x, NULL, NULL);
        assert_num(&x, "n", i);
        if (i % 3 == 0)
            snprintf(want, sizeof want, "a\"b,%d\nz", i);
        else
            snprintf(want, sizeof want, "plain%d", i);
        assert_str(&x, "s", want);
    }
    expect_end(s, &x);
    rv_stream_close(s);
    rv_event_free(&x);
}

/* ===== Quotes never closed, records past the limit ===== */

/* Reads the stream to its end, skipping nothing: the values of column or key
 * "x" of the rows, and the messages of the bad rows, in order. */
static void read_all(rv_stream *s, double *xs, size_t *nx, char (*msgs)[512], size_t *nmsg)
{
    rv_event x;
    rv_event_init(&x);
    rv_error err = {0};
    int rc;
    *nx = *nmsg = 0;
    while ((rc = rv_stream_next(s, &x, NULL, NULL, &err)) != 0) {
        cr_assert(rc == 1 || rc == RV_EINVAL, "rc %d: %s", rc, err.message);
        cr_assert_lt(*nx + *nmsg, 1000000, "the stream never ends");
        if (rc == 1)
            xs[(*nx)++] = rv_event_get(&x, rv_sym_intern_cstr("x"))->num;
        else if (*nmsg < 4)
            snprintf(msgs[(*nmsg)++], 512, "%s", err.message);
    }
    rv_event_free(&x);
}

/* A quote that is never closed used to make the rest of the file one field
 * (every later row lost, even with skip_bad). Now it is reported at the line
 * where it opened, here line 4 of a row that starts on line 3, and reading
 * resumes on the line after. */
Test(io, a_quote_never_closed_costs_only_its_row)
{
    const char *p = write_text("q.csv", "x,y\n1,2\n\"a\nb\",\"open\n4,5\n6,7\n");
    rv_stream_opts o;
    rv_stream_opts_init(&o);
    o.display_name = "q.csv";
    rv_stream *s = open_ok(p, &o);
    double xs[8];
    char msgs[4][512];
    size_t nx, nmsg;
    read_all(s, xs, &nx, msgs, &nmsg);
    cr_assert_eq(nmsg, 1);
    cr_assert_str_eq(msgs[0], "q.csv:4: a quoted field opened here is never closed");
    cr_assert_eq(nx, 3);
    cr_assert(xs[0] == 1 && xs[1] == 4 && xs[2] == 6);
    rv_stream_close(s);

    o.skip_bad = 1;
    s = open_ok(p, &o);
    rv_event x;
    rv_event_init(&x);
    next_ok(s, &x, NULL, NULL);
    next_ok(s, &x, NULL, NULL);
    assert_num(&x, "x", 4);
    cr_assert_eq(rv_stream_line(s), 5);
    next_ok(s, &x, NULL, NULL);
    assert_num(&x, "y", 7);
    expect_end(s, &x);
    cr_assert_eq(rv_stream_skipped(s), 1);
    cr_assert_str_eq(rv_stream_first_skip(s), msgs[0]);
    rv_stream_close(s);
    rv_event_free(&x);
}

/* (16 MiB, the limit in src/io/stream_internal.h) + 1 MiB of text: lines of
 * `line` (ending in '\n') when given, else one line of 'z' without an end. */
static char *past_the_limit(const char *head, const char *line, const char *tail, size_t *len)
{
    size_t body = 17u << 20, nh = strlen(head), nt = strlen(tail);
    char *text = malloc(nh + body + nt + 1);
    cr_assert_not_null(text);
    memcpy(text, head, nh);
    if (line) {
        size_t nl = strlen(line);
        body -= body % nl;
        for (size_t i = 0; i < body; i += nl)
            memcpy(text + nh + i, line, nl);
    } else {
        memset(text + nh, 'z', body);
    }
    memcpy(text + nh + body, tail, nt + 1);
    *len = nh + body + nt;
    return text;
}

/* A quote left open before a long stretch of good rows: the reader gives up
 * at the limit instead of reading the file into memory, and the rows after
 * the quote's line are read. */
Test(io, a_quote_open_past_the_limit_stops_there, .timeout = 60)
{
    const char *line = "5,zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\n";
    size_t len;
    char *text = past_the_limit("x,y\n1,2\n3,\"never closed\n", line, "7,8\n", &len);
    const char *p = write_file("open.csv", text, len, 0);
    free(text);
    rv_stream_opts o;
    rv_stream_opts_init(&o);
    o.display_name = "open.csv";
    o.skip_bad = 1;
    rv_stream *s = open_ok(p, &o);
    rv_event x;
    rv_event_init(&x);
    size_t rows = 0;
    double last = 0;
    while (rv_stream_next(s, &x, NULL, NULL, NULL) == 1) {
        rows++;
        last = rv_event_get(&x, rv_sym_intern_cstr("x"))->num;
    }
    cr_assert_eq(rows, 1 + (17u << 20) / strlen(line) + 1);
    cr_assert_eq(last, 7);
    cr_assert_eq(rv_stream_skipped(s), 1);
    cr_assert_str_eq(rv_stream_first_skip(s), "open.csv:3: a quoted field opened here is not "
                                              "closed within 16 MiB (the longest record read)");
    rv_stream_close(s);
    rv_event_free(&x);
}

/* A line with no end within the limit (say a file that is not text) is one
 * bad row, in CSV and NDJSON alike, and reading resumes after it. */
Test(io, a_record_past_the_limit_is_a_bad_row, .timeout = 60)
{
    size_t len;
    char *text = past_the_limit("x,y\n1,2\n", NULL, "\n4,5\n", &len);
    const char *p = write_file("long.csv", text, len, 0);
    free(text);
    rv_stream_opts o;
    rv_stream_opts_init(&o);
    o.display_name = "long.csv";
    rv_stream *s = open_ok(p, &o);
    double xs[8];
    char msgs[4][512];
    size_t nx, nmsg;
    read_all(s, xs, &nx, msgs, &nmsg);
    cr_assert_eq(nmsg, 1);
    cr_assert_str_eq(msgs[0], "long.csv:3: a record longer than 16 MiB (the longest read): no line "
                              "end within it");
    cr_assert_eq(nx, 2);
    cr_assert(xs[0] == 1 && xs[1] == 4);
    cr_assert_eq(rv_stream_line(s), 4);
    rv_stream_close(s);

    text = past_the_limit("{\"x\": 1}\n\"", NULL, "\"\n{\"x\": 3}\n", &len);
    p = write_file("long.ndjson", text, len, 0);
    free(text);
    o.display_name = "long.ndjson";
    s = open_ok(p, &o);
    read_all(s, xs, &nx, msgs, &nmsg);
    cr_assert_eq(nmsg, 1);
    cr_assert_str_eq(msgs[0], "long.ndjson:2: a line longer than 16 MiB (the longest read)");
    cr_assert_eq(nx, 2);
    cr_assert(xs[0] == 1 && xs[1] == 3);
    rv_stream_close(s);
}

/* ===== Rows from a pipe arrive as they are written ===== */

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One line from fd within `seconds`, without its '\n'; "" on timeout or end. */
static const char *report_line(int fd, double seconds)
{
    static char line[600];
    size_t n = 0;
    double deadline = now_seconds() + seconds;
    while (n + 1 < sizeof line) {
        int left = (int)((deadline - now_seconds()) * 1000);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, left) != 1 || read(fd, line + n, 1) != 1)
            break;
        if (line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    return line;
}

/* The child's side: reads "-" (the pipe) and reports each row's "x" as a
 * line on report, then "end" or "error: ...". */
static void report_rows(int report)
{
    rv_error err = {0};
    rv_stream *s = rv_stream_open("-", NULL, &err);
    if (!s) {
        dprintf(report, "error: %s\n", err.message);
        _exit(1);
    }
    rv_event x;
    rv_event_init(&x);
    int rc;
    while ((rc = rv_stream_next(s, &x, NULL, NULL, &err)) == 1) {
        const rv_feature *f = rv_event_get(&x, rv_sym_intern_cstr("x"));
        dprintf(report, "%g\n", f && f->kind == RV_NUM ? f->num : NAN);
    }
    dprintf(report, rc == 0 ? "end\n" : "error: %s\n", err.message);
    _exit(0);
}

/* Compresses text as one more piece of a gzip stream, flushed so that the
 * reader can inflate all of it now (as `gzip` would not, but a producer
 * may); finish ends the stream. Returns the bytes to write. */
static size_t gzip_piece(z_stream *z, const char *text, int finish, unsigned char *out, size_t cap)
{
    z->next_in = (unsigned char *)text;
    z->avail_in = (uInt)strlen(text);
    z->next_out = out;
    z->avail_out = (uInt)cap;
    cr_assert_neq(deflate(z, finish ? Z_FINISH : Z_SYNC_FLUSH), Z_STREAM_ERROR);
    cr_assert_eq(z->avail_in, 0);
    return cap - z->avail_out;
}

/* Writes pieces[i] to a reader's stdin through a pipe kept open, and expects
 * the reader to report want[i] within 2 s (a row is handed on once its line
 * is complete, not once 1 MiB has gathered), or nothing within 0.2 s when
 * want[i] is ""; then closes the pipe and expects "end". Every wait is
 * bounded. */
static void rows_arrive_while_the_pipe_is_open(const char *const *pieces, const char *const *want,
                                               size_t n, int gz)
{
    signal(SIGPIPE, SIG_IGN);
    int data[2], report[2];
    cr_assert_eq(pipe(data), 0);
    cr_assert_eq(pipe(report), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        dup2(data[0], 0);
        close(data[0]);
        close(data[1]);
        close(report[0]);
        report_rows(report[1]);
    }
    close(data[0]);
    close(report[1]);
    z_stream z = {0};
    cr_assert_eq(deflateInit2(&z, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    unsigned char out[4096];
    for (size_t i = 0; i < n; i++) {
        const void *bytes = pieces[i];
        size_t len = strlen(pieces[i]);
        if (gz) {
            len = gzip_piece(&z, pieces[i], 0, out, sizeof out);
            bytes = out;
        }
        cr_assert_eq(write(data[1], bytes, len), (ssize_t)len);
        const char *got = report_line(report[0], want[i][0] ? 2.0 : 0.2);
        if (strcmp(got, want[i]) != 0)
            kill(pid, SIGKILL);
        cr_assert_str_eq(got, want[i], "piece %zu: %s", i, got[0] ? got : "no row within 2 s");
    }
    if (gz) {
        size_t len = gzip_piece(&z, "", 1, out, sizeof out);
        cr_assert_eq(write(data[1], out, len), (ssize_t)len);
    }
    deflateEnd(&z);
    close(data[1]);
    const char *got = report_line(report[0], 2.0);
    int status = 0;
    for (double stop = now_seconds() + 2.0; waitpid(pid, &status, WNOHANG) == 0;) {
        if (now_seconds() > stop) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        usleep(1000);
    }
    close(report[0]);
    cr_assert_str_eq(got, "end");
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

Test(io, csv_rows_from_a_pipe_arrive_while_it_is_open, .timeout = 20)
{
    const char *pieces[] = {"x,y\n1,10\n", "2,20\n", "3,", "30\n"};
    const char *want[] = {"1", "2", "", "3"};
    /* "": nothing may come of half a row */
    rows_arrive_while_the_pipe_is_open(pieces, want, 4, 0);
}

Test(io, ndjson_rows_from_a_pipe_arrive_while_it_is_open, .timeout = 20)
{
    /* a first read of blank lines does not yet tell the format */
    const char *pieces[] = {"\n", "{\"x\": 1}\n", "{\"x\": 2}\n"};
    const char *want[] = {"", "1", "2"};
    rows_arrive_while_the_pipe_is_open(pieces, want, 3, 0);
}

Test(io, gzip_rows_from_a_pipe_arrive_while_it_is_open, .timeout = 20)
{
    const char *pieces[] = {"x,y\n1,10\n", "2,20\n"};
    const char *want[] = {"1", "2"};
    rows_arrive_while_the_pipe_is_open(pieces, want, 2, 1);
}

/* ===== A pipe that delivers a few bytes at a time reads as the file ===== */

/* Everything the stream gives, as text: each row's line and features, each
 * bad row's message (with the stream's name as F), and how it ended. */
static void transcript(rv_stream *s, rv_buf *out)
{
    rv_event x;
    rv_event_init(&x);
    rv_error err = {0};
    const char *name = rv_stream_name(s);
    size_t name_len = strlen(name);
    for (int i = 0; i < 1000; i++) {
        int rc = rv_stream_next(s, &x, NULL, NULL, &err);
        if (rc == 0) {
            rv_buf_puts(out, "end\n");
            break;
        }
        if (rc < 0) {
            const char *m = err.message;
            int named = strncmp(m, name, name_len) == 0; /* "NAME:LINE: ..." */
            rv_buf_printf(out, "error %d: %s%s\n", rc, named ? "F" : "", named ? m + name_len : m);
            if (rc != RV_EINVAL)
                break;
            continue;
        }
        rv_buf_printf(out, "line %llu:", (unsigned long long)rv_stream_line(s));
        for (uint32_t k = 0; k < x.n; k++) {
            const rv_feature *f = &x.items[k];
            if (f->kind == RV_NUM)
                rv_buf_printf(out, " %s=%.17g", rv_sym_name(f->name), f->num);
            else
                rv_buf_printf(out, " %s='%.*s'", rv_sym_name(f->name), (int)f->len, f->str);
        }
        rv_buf_puts(out, "\n");
    }
    rv_event_free(&x);
}

/* The transcript of bytes read as stdin from a pipe, written by a child in
 * pieces of 1 to 13 bytes with a pause after each, so that most reads return
 * part of a line, a quoted field or a gzip block. */
static void pipe_transcript(const unsigned char *bytes, size_t len, rv_buf *out)
{
    signal(SIGPIPE, SIG_IGN);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        close(p[0]);
        static const size_t sizes[] = {1, 2, 3, 5, 7, 11, 13};
        for (size_t at = 0, i = 0; at < len; i++) {
            size_t n = sizes[i % 7] < len - at ? sizes[i % 7] : len - at;
            if (write(p[1], bytes + at, n) != (ssize_t)n)
                _exit(1);
            at += n;
            usleep(100);
        }
        _exit(0);
    }
    close(p[1]);
    cr_assert_eq(dup2(p[0], 0), 0);
    close(p[0]);
    rv_error err = {0};
    rv_stream *s = rv_stream_open("-", NULL, &err);
    if (s)
        transcript(s, out);
    else
        rv_buf_puts(out, "open failed\n");
    rv_stream_close(s);
    int status;
    waitpid(pid, &status, 0);
}

static void file_transcript(const char *path, rv_buf *out)
{
    rv_error err = {0};
    rv_stream *s = rv_stream_open(path, NULL, &err);
    if (s)
        transcript(s, out);
    else
        rv_buf_puts(out, "open failed\n");
    rv_stream_close(s);
}

Test(io, a_pipe_that_trickles_reads_as_the_file, .timeout = 60)
{
    const char *inputs[] = {
        /* CSV: BOM, CRLF, quoted newlines and quotes, blank lines, a bad
         * number of fields, no newline at the end */
        "\xef\xbb\xbfs,n\r\n\"a,\"\"b\"\"\nc\",1\r\n\r\nplain,2\n\n\"x\"\"\",3\nonly\n\"\",4",
        /* a quote never closed in the middle */
        "s,n\nok,1\n\"broken,2\nnext,3\nlast,4\n",
        /* NDJSON: blank lines, a bad row, a string with escapes, no final newline */
        "{\"x\": 1, \"s\": \"a\\nb\\u00e9\"}\n\n{\"x\": }\n  {\"x\": 2.5e3}\n{\"x\": 3}",
        /* CSV whose header only arrives in pieces, then one long row */
        "a,b,c,d,e,f,g,h\n1,2,3,4,5,6,7,8\n",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++) {
        for (int gz = 0; gz < 2; gz++) {
            char name[32];
            snprintf(name, sizeof name, "in%zu%s", i, gz ? ".gz" : "");
            const char *path = write_file(name, inputs[i], strlen(inputs[i]), gz);
            rv_buf want, got;
            rv_buf_init(&want);
            rv_buf_init(&got);
            file_transcript(path, &want);
            FILE *f = fopen(path, "rb"); /* the file's own bytes: gzip data holds NULs */
            cr_assert_not_null(f);
            unsigned char raw[4096];
            size_t len = fread(raw, 1, sizeof raw, f);
            fclose(f);
            pipe_transcript(raw, len, &got);
            rv_buf_put(&want, "", 1);
            rv_buf_put(&got, "", 1);
            cr_assert_str_eq(got.data, want.data, "input %zu%s", i, gz ? " (gzip)" : "");
            cr_assert_not_null(strstr(want.data, "line "), "input %zu: no row read: %s", i, want.data);
            static const char *const also[] = {"s='a,\"b\"\nc'", "never closed", "error -1: F:3:", "h=8"};
            cr_assert_not_null(strstr(want.data, also[i]), "input %zu: %s", i, want.data);
            rv_buf_free(&want);
            rv_buf_free(&got);
        }
    }
}
