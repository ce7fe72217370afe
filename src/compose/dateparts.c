/* dateparts(on, format='%Y-%m-%d', wday=True, day=False, month=False,
 *           year=False, yearday=False): the write-up's extract_date.
 *
 * Parses x[on] with a strptime-style format and adds, in this order, the
 * requested numbers:
 *   wday     day of the week, Monday = 0 ... Sunday = 6 (Python's weekday())
 *   day      day of the month, 1..31
 *   month    1..12
 *   year
 *   yearday  day of the year, 1..366 (Python's tm_yday)
 * The output is x followed by these features (replacing same names).
 *
 * Format directives: %Y (4 digits), %m, %d (1-2 digits), %H, %M, %S
 * (parsed, unused), %j (day of year, 1-3 digits), %% and literal bytes.
 * As in strptime, %j wins over %m and %d (month and day are derived from it),
 * and a format without %Y reads its dates in 1900, a common year: '%m-%d'
 * refuses 02-29, and the yearday of 03-01 is 60.
 *
 * Construction checks the format, because a bad one would add no features on
 * any row and the model would quietly learn without them. It fails on an
 * unsupported directive ('%b', '%Q', a lone '%' at the end), on a requested
 * part the format cannot give, and when no part is requested. Each part
 * needs (any one line suffices):
 *   wday     %Y %m %d  |  %Y %j     (a weekday needs a whole date)
 *   day      %d        |  %j
 *   month    %m        |  %j
 *   year     %Y
 *   yearday  %m %d     |  %j
 * The defaults fill the rest (year 1900, month 1, day 1), but a part made
 * only of defaults would be a constant, so it is refused.
 *
 * No allocation: the date is parsed in place, and the last parsed string is
 * cached (up to 32 bytes) because consecutive rows usually share a date. The
 * cache is per thread, not per instance: transform stays read-only (safe for
 * concurrent predicts) and thousands of keyed pipelines share one cache.
 * The weekday comes from the days-from-civil count (proleptic Gregorian).
 *
 * Edge cases: a missing, numeric or unparseable x[on], or an impossible date
 * (2021-02-30), adds no features (creme's semantics for a bad row). */
#include "rivulet/compose.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { P_WDAY = 1, P_DAY = 2, P_MONTH = 4, P_YEAR = 8, P_YEARDAY = 16 };
#define CACHE 32

typedef struct dateparts {
    rv_object base;
    rv_sym on;
    unsigned parts;
    char *format;
} dateparts;

/* The last parse on this thread: a pure function of (format, string). */
static _Thread_local struct {
    uint8_t len, flen, ok; /* len 0 = empty */
    char str[CACHE], format[CACHE];
    double values[5];
} cache;

extern const rv_class rv_class__dateparts;
static const char *const part_names[5] = {"wday", "day", "month", "year", "yearday"};
static rv_sym part_syms[5];

static void dp_destroy(rv_object *self)
{
    dateparts *d = (dateparts *)self;
    free(d->format);
    free(d);
}

static rv_object *dp_new(rv_sym on, const char *format, unsigned parts, rv_error *err)
{
    dateparts *d = calloc(1, sizeof *d);
    if (d)
        d->format = strdup(format);
    if (!d || !d->format) {
        free(d);
        rv_error_set(err, RV_ENOMEM, "out of memory");
        return NULL;
    }
    for (int i = 0; i < 5; i++)
        if (!part_syms[i]) /* idempotent: the same symbol every time */
            part_syms[i] = rv_sym_intern_cstr(part_names[i]);
    d->base.cls = &rv_class__dateparts;
    d->on = on;
    d->parts = parts;
    return &d->base;
}

/* ===== Checking the format ===== */

/* A format's directives as bits: bit i is DIRECTIVES[i]. */
static const char DIRECTIVES[] = "YmdjHMS%";
enum { D_Y = 1, D_M = 2, D_D = 4, D_J = 8 };
#define SUPPORTED                                                                                   \
    "the supported directives are %%Y %%m %%d %%H %%M %%S %%j and %%%%; other bytes match themselves"

/* What each part needs from the format: either set of directives suffices. */
static const struct {
    unsigned either[2];
    const char *text;
} part_needs[5] = {
    {{D_Y | D_M | D_D, D_Y | D_J}, "%Y with %m and %d, or %Y with %j"}, /* wday */
    {{D_D, D_J}, "%d or %j"},                                           /* day */
    {{D_M, D_J}, "%m or %j"},                                           /* month */
    {{D_Y, D_Y}, "%Y"},                                                 /* year */
    {{D_M | D_D, D_J}, "%m and %d, or %j"},                             /* yearday */
};

/* The directives fmt uses (bits of DIRECTIVES), or -1 with *bad at the byte
 * after an unsupported '%' (the terminating NUL for a lone '%' at the end). */
static int format_directives(const char *fmt, const char **bad)
{
    unsigned have = 0;
    for (; *fmt; fmt++) {
        if (*fmt != '%')
            continue;
        const char *p = *++fmt ? strchr(DIRECTIVES, *fmt) : NULL;
        if (!p) {
            *bad = fmt;
            return -1;
        }
        have |= 1u << (p - DIRECTIVES);
    }
    return (int)have;
}

/* RV_OK if fmt uses only supported directives and gives every part in parts;
 * otherwise an error at the 'format' argument naming what is wrong. */
static rv_status format_check(const rv_args *args, const char *const *sig, const char *fmt,
                              unsigned parts, rv_error *err)
{
    const rv_arg *at = rv_args_find(args, sig, "format");
    const char *bad = NULL;
    int have = format_directives(fmt, &bad);
    if (have < 0) {
        unsigned char c = (unsigned char)*bad;
        char what[64];
        if (!c)
            snprintf(what, sizeof what, "a lone '%%' at the end (write %%%% for a literal '%%')");
        else if (c > ' ' && c < 0x7f)
            snprintf(what, sizeof what, "an unsupported directive '%%%c'", c);
        else
            snprintf(what, sizeof what, "an unsupported directive, '%%' then byte 0x%02x", c);
        return rv_args_error(args, at, err, RV_EINVAL, "format '%s' has %s; " SUPPORTED, fmt, what);
    }
    for (int i = 0; i < 5; i++) {
        unsigned a = part_needs[i].either[0], b = part_needs[i].either[1];
        if (parts & (1u << i) && ((unsigned)have & a) != a && ((unsigned)have & b) != b)
            return rv_args_error(args, at, err, RV_EINVAL, "format '%s' cannot give %s: %s needs %s", fmt,
                                 part_names[i], part_names[i], part_needs[i].text);
    }
    return RV_OK;
}

static rv_object *dp_create(const rv_args *args, rv_error *err)
{
    static const char *const sig[] = {"on", "format", "wday", "day", "month", "year", "yearday", NULL};
    const char *on, *format;
    int flag[5];
    if (rv_args_check(args, sig, err) || rv_args_get_str(args, sig, "on", NULL, &on, err) ||
        rv_args_get_str(args, sig, "format", "%Y-%m-%d", &format, err))
        return NULL;
    if (!on) {
        rv_args_error(args, NULL, err, RV_EINVAL, "argument 'on' is required");
        return NULL;
    }
    unsigned parts = 0;
    for (int i = 0; i < 5; i++) {
        if (rv_args_get_bool(args, sig, part_names[i], i == 0, &flag[i], err))
            return NULL;
        parts |= flag[i] ? 1u << i : 0;
    }
    if (!parts) {
        rv_args_error(args, NULL, err, RV_EINVAL,
                      "no part requested: set one of wday, day, month, year, yearday to True");
        return NULL;
    }
    if (format_check(args, sig, format, parts, err))
        return NULL;
    return dp_new(rv_sym_intern_cstr(on), format, parts, err);
}

static rv_object *dp_clone(const rv_object *self, rv_error *err)
{
    const dateparts *d = (const dateparts *)self;
    return dp_new(d->on, d->format, d->parts, err);
}

/* ===== Parsing ===== */

static int digits(const char **s, const char *end, int min, int max, int *out)
{
    int v = 0, n = 0;
    while (*s < end && n < max && **s >= '0' && **s <= '9') {
        v = v * 10 + (**s - '0');
        (*s)++;
        n++;
    }
    *out = v;
    return n >= min;
}

static int leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int month_days(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 (Howard Hinnant's days_from_civil). */
static long days_from_civil(long y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Fills v[0..4] (wday, day, month, year, yearday); 0 if s does not match. */
static int parse(const char *fmt, const char *s, size_t len, double v[5])
{
    const char *end = s + len;
    int y = 1900, m = 1, d = 1, jday = -1, tmp; /* jday -1: no %j */
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            if (s == end || *s++ != *fmt)
                return 0;
            continue;
        }
        switch (*++fmt) {
        case 'Y': if (!digits(&s, end, 4, 4, &y)) return 0; break;
        case 'm': if (!digits(&s, end, 1, 2, &m)) return 0; break;
        case 'd': if (!digits(&s, end, 1, 2, &d)) return 0; break;
        case 'j': if (!digits(&s, end, 1, 3, &jday)) return 0; break;
        case 'H': case 'M': case 'S': if (!digits(&s, end, 1, 2, &tmp)) return 0; break;
        case '%': if (s == end || *s++ != '%') return 0; break;
        default: return 0;
        }
    }
    if (s != end || m < 1 || m > 12 || d < 1 || d > month_days(y, m))
        return 0;
    long days = days_from_civil(y, m, d);
    if (jday >= 0) { /* %j wins over month/day, as strptime's */
        if (jday < 1 || jday > 365 + leap(y)) /* 000 is no day, as strptime says */
            return 0;
        days = days_from_civil(y, 1, 1) + jday - 1;
        for (m = 1; jday > month_days(y, m); m++)
            jday -= month_days(y, m);
        d = jday;
    }
    long wd = (days + 3) % 7; /* 1970-01-01 was a Thursday (3) */
    v[0] = (double)(wd < 0 ? wd + 7 : wd);
    v[1] = d;
    v[2] = m;
    v[3] = y;
    v[4] = (double)(days - days_from_civil(y, 1, 1) + 1);
    return 1;
}

static rv_status dp_transform(rv_object *self, const rv_event *x, rv_event *out, rv_error *err)
{
    dateparts *d = (dateparts *)self;
    if (rv_event_assign(out, x))
        return rv_error_set(err, RV_ENOMEM, "out of memory");
    const rv_feature *f = rv_event_get(x, d->on);
    if (!f || f->kind != RV_STR || !f->str)
        return RV_OK;
    double v[5];
    int ok;
    size_t flen = strlen(d->format);
    if (f->len && f->len == cache.len && flen == cache.flen && memcmp(f->str, cache.str, f->len) == 0 &&
        memcmp(d->format, cache.format, flen) == 0) {
        ok = cache.ok;
        memcpy(v, cache.values, sizeof v);
    } else {
        ok = parse(d->format, f->str, f->len, v);
        if (f->len && f->len <= CACHE && flen <= CACHE) {
            memcpy(cache.str, f->str, f->len);
            memcpy(cache.format, d->format, flen);
            cache.len = (uint8_t)f->len;
            cache.flen = (uint8_t)flen;
            cache.ok = (uint8_t)ok;
            memcpy(cache.values, v, sizeof v);
        }
    }
    if (!ok)
        return RV_OK;
    for (int i = 0; i < 5; i++)
        if (d->parts & (1u << i) && rv_event_set_num(out, part_syms[i], v[i]))
            return rv_error_set(err, RV_ENOMEM, "out of memory");
    return RV_OK;
}

static rv_status dp_learn(rv_object *self, const rv_event *x, const rv_value *y, rv_error *err)
{
    return RV_OK; /* stateless */
}

static rv_status dp_save(const rv_object *self, rv_buf *out) { return RV_OK; }
static rv_status dp_load(rv_object *self, rv_reader *in) { return RV_OK; }

static rv_status dp_describe(const rv_object *self, rv_buf *out)
{
    const dateparts *d = (const dateparts *)self;
    rv_describer ds;
    rv_describe_open(&ds, out, self);
    rv_describe_str(&ds, NULL, rv_sym_name(d->on));
    rv_describe_str(&ds, NULL, d->format);
    for (int i = 0; i < 5; i++)
        if (!!(d->parts & (1u << i)) != (i == 0))
            rv_describe_bool(&ds, part_names[i], !!(d->parts & (1u << i)));
    return rv_describe_close(&ds);
}

static size_t dp_memory(const rv_object *self)
{
    const dateparts *d = (const dateparts *)self;
    return sizeof *d + strlen(d->format) + 1;
}

static void dp_prefetch(const rv_object *self) { __builtin_prefetch(((const dateparts *)self)->format); }

static const rv_estimator_ops dp_ops = {dp_learn, dp_transform, NULL, dp_prefetch};

const rv_class rv_class__dateparts = {
    .kind = RV_CLASS_ESTIMATOR,
    .module = "",
    .name = "dateparts",
    .flags = RV_F_TRANSFORMER | RV_F_COUNTS_CHANGES, /* stateless: never changes */
    .doc = "adds the weekday (Monday = 0) and other parts of a date feature",
    .create = dp_create,
    .clone = dp_clone,
    .copy = dp_clone,
    .save = dp_save,
    .load = dp_load,
    .describe = dp_describe,
    .memory = dp_memory,
    .destroy = dp_destroy,
    .ops = &dp_ops,
};
