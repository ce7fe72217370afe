/* Tests of dateparts' format check: a format with an unsupported directive,
 * or one that cannot give a requested part, is refused when the model is
 * built (it would add no features on any row); every format it accepts
 * parses as before. The known-dates and bad-row tests are in test_compose.c. */
#include <math.h>

#include "rivulet/compose.h"
#include "rivulet/model.h"
#include "support.h"

static const char SUPPORTED[] =
    "the supported directives are %Y %m %d %H %M %S %j and %%; other bytes match themselves";

/* Parses text, which must fail with message want (a %s in want stands for SUPPORTED). */
static void expect_refused(const char *text, const char *want)
{
    char full[512];
    snprintf(full, sizeof full, want, SUPPORTED);
    rv_error err = {0};
    rv_object *o = rv_model_parse(text, strlen(text), NULL, &err);
    cr_assert_null(o, "<%s> should be refused", text);
    cr_expect_eq(err.code, RV_EINVAL, "<%s>", text);
    cr_expect_str_eq(err.message, full, "<%s>", text);
}

Test(compose, dateparts_refuses_unsupported_directives)
{
    expect_refused("dateparts('date', '%Q')",
                   "line 1, column 19: dateparts: format '%%Q' has an unsupported directive '%%Q'; %s");
    expect_refused("dateparts('date', format='%d %b %Y')",
                   "line 1, column 19: dateparts: format '%%d %%b %%Y' has an unsupported directive '%%b'; %s");
    expect_refused("dateparts('date', '%Y-%m-%d%')",
                   "line 1, column 19: dateparts: format '%%Y-%%m-%%d%%' has a lone '%%' at the end "
                   "(write %%%% for a literal '%%'); %s");
    expect_refused("dateparts('date', '%')",
                   "line 1, column 19: dateparts: format '%%' has a lone '%%' at the end "
                   "(write %%%% for a literal '%%'); %s");
    expect_refused("dateparts('date', '%Y-%m-%d %\\x01')",
                   "line 1, column 19: dateparts: format '%%Y-%%m-%%d %%\x01' has an unsupported directive, "
                   "'%%' then byte 0x01; %s");
    /* %% is a literal, not the start of the next directive */
    expect_refused("dateparts('date', '%Y%%Q-%m-%d%%%')",
                   "line 1, column 19: dateparts: format '%%Y%%%%Q-%%m-%%d%%%%%%' has a lone '%%' at the end "
                   "(write %%%% for a literal '%%'); %s");
}

Test(compose, dateparts_refuses_formats_without_the_requested_parts)
{
    const char *at = "line 1, column 19: dateparts: format ";
    struct { const char *text, *want; } cases[] = {
        {"dateparts('date', '%Y-%m')", "'%Y-%m' cannot give wday: wday needs %Y with %m and %d, or %Y with %j"},
        {"dateparts('date', '%m-%d')", "'%m-%d' cannot give wday: wday needs %Y with %m and %d, or %Y with %j"},
        {"dateparts('date', '%j')", "'%j' cannot give wday: wday needs %Y with %m and %d, or %Y with %j"},
        {"dateparts('date', '%Y-%d')", "'%Y-%d' cannot give wday: wday needs %Y with %m and %d, or %Y with %j"},
        {"dateparts('date', '%H:%M:%S')", "'%H:%M:%S' cannot give wday: wday needs %Y with %m and %d, or %Y with %j"},
        {"dateparts('date', '%%')", "'%%' cannot give wday: wday needs %Y with %m and %d, or %Y with %j"},
        {"dateparts('date', '', wday=False, year=True)", "'' cannot give year: year needs %Y"},
        {"dateparts('date', '%Y-%m', wday=False, day=True)", "'%Y-%m' cannot give day: day needs %d or %j"},
        {"dateparts('date', '%Y-%d', wday=False, month=True)", "'%Y-%d' cannot give month: month needs %m or %j"},
        {"dateparts('date', '%m-%d', wday=False, year=True)", "'%m-%d' cannot give year: year needs %Y"},
        {"dateparts('date', '%Y-%m', wday=False, yearday=True)",
         "'%Y-%m' cannot give yearday: yearday needs %m and %d, or %j"},
        {"dateparts('date', '%Y %d', wday=False, yearday=True)",
         "'%Y %d' cannot give yearday: yearday needs %m and %d, or %j"},
        /* the first missing part is named, in output order */
        {"dateparts('date', '%Y-%m', day=True, month=True, year=True, yearday=True)",
         "'%Y-%m' cannot give wday: wday needs %Y with %m and %d, or %Y with %j"},
        {"dateparts('date', '%m', wday=False, month=True, year=True)", "'%m' cannot give year: year needs %Y"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rv_error err = {0};
        rv_object *o = rv_model_parse(cases[i].text, strlen(cases[i].text), NULL, &err);
        cr_assert_null(o, "<%s> should be refused", cases[i].text);
        cr_expect_eq(err.code, RV_EINVAL);
        cr_assert(strncmp(err.message, at, strlen(at)) == 0, "<%s>: %s", cases[i].text, err.message);
        cr_expect_str_eq(err.message + strlen(at), cases[i].want, "<%s>", cases[i].text);
    }
}

Test(compose, dateparts_refuses_no_part_and_reports_without_a_position)
{
    expect_refused("dateparts('date', wday=False)",
                   "line 1, column 1: dateparts: no part requested: set one of wday, day, month, year, yearday "
                   "to True");
    /* built from args, not text: the same message without line and column */
    rv_args a;
    rv_args_init(&a, "dateparts");
    rv_args_add_str(&a, NULL, "date");
    rv_args_add_str(&a, "format", "%Y/%B");
    rv_error err = {0};
    cr_assert_null(rv_create("dateparts", &a, &err));
    char want[512];
    snprintf(want, sizeof want, "dateparts: format '%%Y/%%B' has an unsupported directive '%%B'; %s", SUPPORTED);
    cr_expect_str_eq(err.message, want);
    rv_args_free(&a);
}

/* Builds text, which must construct; transforms date and checks the parts
 * (NAN = the part must be absent; all NAN = no features added). */
static void expect_parts(const char *text, const char *date, double wday, double day, double month, double year,
                         double yearday)
{
    rv_error err = {0};
    rv_object *o = rv_model_parse(text, strlen(text), NULL, &err);
    cr_assert_not_null(o, "<%s>: %s", text, err.message);
    rv_event x, out;
    rv_event_init(&x);
    rv_event_init(&out);
    rv_event_set_str(&x, rv_sym_intern_cstr("date"), date, strlen(date));
    cr_assert_eq(rv_estimator_transform(o, &x, &out, &err), RV_OK, "%s", err.message);
    const char *names[5] = {"wday", "day", "month", "year", "yearday"};
    const double want[5] = {wday, day, month, year, yearday};
    uint32_t n = 1;
    for (int i = 0; i < 5; i++) {
        const rv_feature *f = rv_event_get(&out, rv_sym_intern_cstr(names[i]));
        n += !isnan(want[i]);
        if (isnan(want[i]))
            cr_expect_null(f, "<%s> on '%s': %s should be absent", text, date, names[i]);
        else
            cr_expect(f && f->kind == RV_NUM && f->num == want[i], "<%s> on '%s': %s = %g, not %g", text, date,
                      names[i], f ? f->num : NAN, want[i]);
    }
    cr_expect_eq(out.n, n, "<%s> on '%s'", text, date);
    rv_event_free(&x);
    rv_event_free(&out);
    rv_object_free(o);
}

Test(compose, dateparts_accepts_and_parses_every_format_that_gives_its_parts)
{
    const double no = NAN;
    const char *all = "day=True, month=True, year=True, yearday=True)";
    char text[256];
    /* %Y with %j gives everything: day 60 of 2020 is Saturday 29 February */
    snprintf(text, sizeof text, "dateparts('date', '%%Y%%j', %s", all);
    expect_parts(text, "2020060", 5, 29, 2, 2020, 60);
    expect_parts(text, "2021366", no, no, no, no, no); /* not a leap year: a bad row */
    expect_parts(text, "2021000", no, no, no, no, no); /* day 0 is no day (strptime refuses it) */
    snprintf(text, sizeof text, "dateparts('date', '%%d/%%m/%%Y %%H:%%M:%%S', %s", all);
    expect_parts(text, "04/01/2016 13:45:00", 0, 4, 1, 2016, 4);
    snprintf(text, sizeof text, "dateparts('date', '%%Y %%%%%%m%%%%%%d', %s", all); /* '%Y %%%m%%%d' */
    expect_parts(text, "2016 %01%04", 0, 4, 1, 2016, 4);
    snprintf(text, sizeof text, "dateparts('date', '%%Y-%%m-%%d %%j', %s", all); /* %j wins */
    expect_parts(text, "2021-01-01 032", 0, 1, 2, 2021, 32); /* Monday 1 February */
    /* without %Y the date is read in 1900, a common year, as strptime does */
    expect_parts("dateparts('date', '%m-%d', wday=False, day=True, month=True, yearday=True)", "03-01", no, 1, 3,
                 no, 60);
    expect_parts("dateparts('date', '%m-%d', wday=False, day=True)", "02-29", no, no, no, no, no);
    expect_parts("dateparts('date', '%j', wday=False, day=True, month=True, yearday=True)", "60", no, 1, 3, no, 60);
    /* one directive for one part */
    expect_parts("dateparts('date', '%Y', wday=False, year=True)", "2016", no, no, no, 2016, no);
    expect_parts("dateparts('date', 'month %m', wday=False, month=True)", "month 7", no, no, 7, no, no);
    expect_parts("dateparts('date', '%d', wday=False, day=True)", "31", no, 31, no, no, no);
    /* the default format and wday: the M5 pipelines' dateparts */
    expect_parts("dateparts('date')", "2011-01-29", 5, no, no, no, no);
    expect_parts("dateparts('date', '%Y-%m-%d', wday=True)", "2016-01-04", 0, no, no, no, no);
}
