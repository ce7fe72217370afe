/* Text to value conversions for the stream readers: decimal numbers, integers,
 * floats and dates, all on (pointer, length) spans that need not be
 * NUL-terminated.
 *
 * Decimal numbers take Clinger's fast path: when the digits form an integer
 * m <= 2^53 and the decimal exponent e satisfies |e| <= 22, both m and 10^|e|
 * are exact doubles, so m * 10^e or m / 10^-e is one correctly rounded
 * operation and equals what strtod returns. Every other number (long
 * mantissas, large exponents) goes to strtod on a stack copy. The syntax check
 * comes first, so strtod never sees hex, "nan" or "inf" in auto mode.
 *
 * Dates become days since 1970-01-01 (proleptic Gregorian, no time zone) by
 * Howard Hinnant's days_from_civil, plus the time of day / 86400.
 */
#include "rivulet/io.h"

#include <stdlib.h>
#include <string.h>

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* strtod on a NUL-terminated copy; 1 if it consumed all n bytes. */
static int strtod_span(const char *s, size_t n, double *out)
{
    char tmp[128];
    char *heap = NULL, *p = tmp;
    if (n >= sizeof tmp) {
        heap = malloc(n + 1);
        if (!heap)
            return 0;
        p = heap;
    }
    memcpy(p, s, n);
    p[n] = '\0';
    char *end;
    double x = strtod(p, &end);
    int ok = n > 0 && end == p + n;
    free(heap);
    if (ok)
        *out = x;
    return ok;
}

int rv_parse_decimal(const char *s, size_t n, double *out)
{
    trim(&s, &n);
    const char *start = s, *end = s + n;
    int neg = 0;
    if (s < end && (*s == '+' || *s == '-'))
        neg = *s++ == '-';
    uint64_t m = 0;
    int digits = 0, exp10 = 0, exact = 1;
    for (; s < end && is_digit(*s); s++, digits++) {
        if (m > (UINT64_C(1) << 53) / 10)
            exact = 0;
        else
            m = m * 10 + (uint64_t)(*s - '0');
    }
    if (s < end && *s == '.') {
        s++;
        for (; s < end && is_digit(*s); s++, digits++, exp10--) {
            if (m > (UINT64_C(1) << 53) / 10)
                exact = 0;
            else
                m = m * 10 + (uint64_t)(*s - '0');
        }
    }
    if (digits == 0)
        return 0;
    if (s < end && (*s == 'e' || *s == 'E')) {
        s++;
        int eneg = 0, e = 0, edigits = 0;
        if (s < end && (*s == '+' || *s == '-'))
            eneg = *s++ == '-';
        for (; s < end && is_digit(*s); s++, edigits++)
            if (e < 100000)
                e = e * 10 + (*s - '0');
        if (edigits == 0)
            return 0;
        exp10 += eneg ? -e : e;
    }
    if (s != end)
        return 0;
    if (exact && m <= (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
        double x = (double)m;
        x = exp10 < 0 ? x / pow10_exact[-exp10] : x * pow10_exact[exp10];
        *out = neg ? -x : x;
        return 1;
    }
    return strtod_span(start, n, out);
}

int rv_parse_integer(const char *s, size_t n, double *out)
{
    trim(&s, &n);
    size_t i = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    if (i == n)
        return 0;
    for (size_t j = i; j < n; j++)
        if (!is_digit(s[j]))
            return 0;
    return rv_parse_decimal(s, n, out);
}

int rv_parse_float(const char *s, size_t n, double *out)
{
    trim(&s, &n);
    if (n == 0)
        return 0;
    if (rv_parse_decimal(s, n, out))
        return 1;
    return strtod_span(s, n, out);
}

/* ===== Dates ===== */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : dm[m - 1];
}

/* Reads between 1 and maxd digits, as strptime does. */
static int read_num(const char **s, const char *end, int maxd, int *out)
{
    int v = 0, d = 0;
    while (*s < end && d < maxd && is_digit(**s)) {
        v = v * 10 + (**s - '0');
        (*s)++;
        d++;
    }
    *out = v;
    return d > 0;
}

int rv_parse_date_days(const char *s, size_t n, const char *format, double *out)
{
    const char *end = s + n;
    int y = 1970, mo = 1, d = 1, h = 0, mi = 0, sec = 0;
    for (const char *f = format; *f; f++) {
        if (*f != '%') {
            if (s == end || *s != *f)
                return 0;
            s++;
            continue;
        }
        f++;
        int ok;
        switch (*f) {
        case 'Y': ok = read_num(&s, end, 4, &y); break;
        case 'm': ok = read_num(&s, end, 2, &mo); break;
        case 'd': ok = read_num(&s, end, 2, &d); break;
        case 'H': ok = read_num(&s, end, 2, &h); break;
        case 'M': ok = read_num(&s, end, 2, &mi); break;
        case 'S': ok = read_num(&s, end, 2, &sec); break;
        case '%': ok = s < end && *s == '%'; s += ok; break;
        default: return 0; /* unknown directive (formats are checked when declared) */
        }
        if (!ok)
            return 0;
    }
    if (s != end || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || sec > 61)
        return 0;
    double days = (double)days_from_civil(y, (unsigned)mo, (unsigned)d);
    *out = days + (h * 3600 + mi * 60 + sec) / 86400.0;
    return 1;
}
