/* Growable byte buffer for text and for the portable binary encoding.
 *
 * Binary encoding (shared by every snapshot): integers are fixed-width
 * little-endian (u8, u32, u64), doubles are their IEEE-754 bits as a u64,
 * byte strings and symbols are a u32 length followed by the bytes. The reader
 * checks every length against what remains, so a truncated or hostile input
 * fails cleanly instead of reading past the end or allocating without bound. */
#include "rivulet/core.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rv_buf_init(rv_buf *b) { memset(b, 0, sizeof *b); }

void rv_buf_free(rv_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

void rv_buf_reset(rv_buf *b)
{
    b->len = 0;
    b->oom = 0;
}

rv_status rv_buf_reserve(rv_buf *b, size_t extra)
{
    if (b->oom)
        return RV_ENOMEM;
    if (b->len + extra + 1 <= b->cap)
        return RV_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = 1;
        return RV_ENOMEM;
    }
    b->data = p;
    b->cap = cap;
    return RV_OK;
}

rv_status rv_buf_put(rv_buf *b, const void *p, size_t n)
{
    if (rv_buf_reserve(b, n))
        return RV_ENOMEM;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return RV_OK;
}

rv_status rv_buf_puts(rv_buf *b, const char *s) { return rv_buf_put(b, s, strlen(s)); }

rv_status rv_buf_vprintf(rv_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || rv_buf_reserve(b, (size_t)n))
        return RV_ENOMEM;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return RV_OK;
}

rv_status rv_buf_printf(rv_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rv_status s = rv_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return s;
}

/* Shortest of %.15g, %.16g, %.17g that reads back exactly. %g drops
 * trailing zeros, so any value with at most 15 significant digits comes out
 * in its shortest form from the first try. */
static int format_double(char *out, size_t cap, double x)
{
    if (isnan(x))
        return snprintf(out, cap, "nan");
    if (isinf(x))
        return snprintf(out, cap, x > 0 ? "inf" : "-inf");
    for (int prec = 15; prec <= 17; prec++) {
        int n = snprintf(out, cap, "%.*g", prec, x);
        if (prec == 17 || strtod(out, NULL) == x)
            return n;
    }
    return 0;
}

rv_status rv_buf_put_double(rv_buf *b, double x)
{
    char tmp[40];
    int n = format_double(tmp, sizeof tmp, x);
    return rv_buf_put(b, tmp, (size_t)n);
}

/* x in %e form with the fewest significant digits that read back exactly:
 * 15, 16 or 17 for normal numbers (trailing zeros are trimmed later, which
 * gives anything shorter than 15), any count from 1 for subnormals. */
static void shortest_e(char *out, size_t cap, double x)
{
    int from = fabs(x) < DBL_MIN && x != 0 ? 1 : 15;
    for (int digits = from; digits <= 17; digits++) {
        snprintf(out, cap, "%.*e", digits - 1, x);
        if (strtod(out, NULL) == x)
            return;
    }
}

/* Python's repr of a float (Python/pystrtod.c, mode 'r'): those digits in
 * fixed notation when the decimal point falls between 4 places left of the
 * first digit and 16 right of it, with ".0" if integral; else as d.ddde-05,
 * d.ddde+16 (a sign and at least two exponent digits). */
int rv_format_pyfloat(char *out, size_t cap, double x)
{
    if (!isfinite(x))
        return format_double(out, cap, x);
    char e[40], digits[24], t[400];
    shortest_e(e, sizeof e, x);
    const char *q = e + (e[0] == '-');
    int nd = 0;
    for (; *q && *q != 'e' && nd < 20; q++)
        if (*q != '.')
            digits[nd++] = *q;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    int exp10 = *q == 'e' ? atoi(q + 1) : 0, decpt = exp10 + 1;
    size_t n = 0;
    if (signbit(x))
        t[n++] = '-';
    if (decpt <= -4 || decpt > 16) {
        t[n++] = digits[0];
        if (nd > 1) {
            t[n++] = '.';
            memcpy(t + n, digits + 1, (size_t)nd - 1);
            n += (size_t)nd - 1;
        }
        n += (size_t)snprintf(t + n, sizeof t - n, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
    } else if (decpt <= 0) {
        t[n++] = '0';
        t[n++] = '.';
        for (int i = decpt; i < 0; i++)
            t[n++] = '0';
        memcpy(t + n, digits, (size_t)nd);
        n += (size_t)nd;
    } else {
        for (int i = 0; i < decpt || i < nd; i++) {
            if (i == decpt)
                t[n++] = '.';
            t[n++] = i < nd ? digits[i] : '0';
        }
        if (decpt >= nd) {
            t[n++] = '.';
            t[n++] = '0';
        }
    }
    t[n] = '\0';
    return snprintf(out, cap, "%s", t);
}

rv_status rv_buf_put_pyfloat(rv_buf *b, double x)
{
    char tmp[48];
    int n = rv_format_pyfloat(tmp, sizeof tmp, x);
    return rv_buf_put(b, tmp, (size_t)n);
}

rv_status rv_buf_put_pystr(rv_buf *b, const char *s, size_t len)
{
    rv_buf_put(b, "'", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\'' || c == '\\')
            rv_buf_printf(b, "\\%c", c);
        else if (c == '\n')
            rv_buf_puts(b, "\\n");
        else if (c == '\t')
            rv_buf_puts(b, "\\t");
        else if (c == '\r')
            rv_buf_puts(b, "\\r");
        else if (c < 0x20 || c == 0x7f)
            rv_buf_printf(b, "\\x%02x", c);
        else
            rv_buf_put(b, &s[i], 1);
    }
    return rv_buf_put(b, "'", 1);
}

const char *rv_buf_cstr(rv_buf *b)
{
    if (rv_buf_reserve(b, 0))
        return "";
    b->data[b->len] = '\0';
    return b->data;
}

rv_status rv_buf_put_u8(rv_buf *b, uint8_t x) { return rv_buf_put(b, &x, 1); }

/* Fixed-width puts: little-endian whatever the host. The fast paths (room
 * already reserved) matter when a snapshot writes millions of numbers. */
rv_status rv_buf_put_u32(rv_buf *b, uint32_t x)
{
    if (!b->oom && b->len + 5 <= b->cap) {
        uint8_t *d = (uint8_t *)b->data + b->len;
        d[0] = (uint8_t)x, d[1] = (uint8_t)(x >> 8), d[2] = (uint8_t)(x >> 16), d[3] = (uint8_t)(x >> 24);
        b->len += 4;
        return RV_OK;
    }
    uint8_t p[4] = {(uint8_t)x, (uint8_t)(x >> 8), (uint8_t)(x >> 16), (uint8_t)(x >> 24)};
    return rv_buf_put(b, p, 4);
}

rv_status rv_buf_put_u64(rv_buf *b, uint64_t x)
{
    if (!b->oom && b->len + 9 <= b->cap) {
        uint8_t *d = (uint8_t *)b->data + b->len;
        for (int i = 0; i < 8; i++)
            d[i] = (uint8_t)(x >> (8 * i));
        b->len += 8;
        return RV_OK;
    }
    uint8_t p[8];
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(x >> (8 * i));
    return rv_buf_put(b, p, 8);
}

rv_status rv_buf_put_f64(rv_buf *b, double x)
{
    uint64_t bits;
    memcpy(&bits, &x, 8);
    return rv_buf_put_u64(b, bits);
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define RV_HOST_LE 1
#else
#define RV_HOST_LE 0
#endif

rv_status rv_buf_put_f64s(rv_buf *b, const double *x, size_t n)
{
    if (n > SIZE_MAX / 8) {
        b->oom = 1;
        return RV_ENOMEM;
    }
    if (rv_buf_reserve(b, 8 * n))
        return RV_ENOMEM;
    if (RV_HOST_LE) {
        memcpy(b->data + b->len, x, 8 * n);
        b->len += 8 * n;
        return RV_OK;
    }
    for (size_t i = 0; i < n; i++)
        rv_buf_put_f64(b, x[i]);
    return RV_OK;
}

rv_status rv_buf_put_bytes(rv_buf *b, const void *p, uint32_t n)
{
    rv_buf_put_u32(b, n);
    return rv_buf_put(b, p, n);
}

rv_status rv_buf_put_sym(rv_buf *b, rv_sym s)
{
    return rv_buf_put_bytes(b, rv_sym_name(s), (uint32_t)rv_sym_len(s));
}

/* ===== Reader ===== */

void rv_reader_init(rv_reader *r, const void *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->pos = 0;
    r->status = RV_OK;
    r->what[0] = '\0';
}

void rv_reader_fail(rv_reader *r, const char *what)
{
    if (r->status == RV_OK) {
        r->status = RV_ECORRUPT;
        snprintf(r->what, sizeof r->what, "%s at byte %zu", what, r->pos);
    }
}

static const uint8_t *take(rv_reader *r, size_t n)
{
    if (r->status != RV_OK)
        return NULL;
    if (n > r->len - r->pos) {
        rv_reader_fail(r, "truncated data");
        return NULL;
    }
    const uint8_t *p = r->p + r->pos;
    r->pos += n;
    return p;
}

uint8_t rv_reader_u8(rv_reader *r)
{
    const uint8_t *p = take(r, 1);
    return p ? p[0] : 0;
}

uint32_t rv_reader_u32(rv_reader *r)
{
    const uint8_t *p = take(r, 4);
    return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24 : 0;
}

uint64_t rv_reader_u64(rv_reader *r)
{
    const uint8_t *p = take(r, 8);
    uint64_t x = 0;
    if (p)
        for (int i = 7; i >= 0; i--)
            x = x << 8 | p[i];
    return x;
}

double rv_reader_f64(rv_reader *r)
{
    uint64_t bits = rv_reader_u64(r);
    double x;
    memcpy(&x, &bits, 8);
    return x;
}

void rv_reader_f64s(rv_reader *r, double *out, size_t n)
{
    const uint8_t *p = n <= SIZE_MAX / 8 ? take(r, 8 * n) : NULL;
    if (!p) {
        if (n > SIZE_MAX / 8)
            rv_reader_fail(r, "truncated data");
        memset(out, 0, n <= SIZE_MAX / 8 ? 8 * n : 0);
        return;
    }
    if (RV_HOST_LE) {
        memcpy(out, p, 8 * n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t x = 0;
        for (int j = 7; j >= 0; j--)
            x = x << 8 | p[8 * i + (size_t)j];
        memcpy(&out[i], &x, 8);
    }
}

const char *rv_reader_bytes(rv_reader *r, uint32_t *len, uint32_t max_len)
{
    uint32_t n = rv_reader_u32(r);
    *len = 0;
    if (r->status != RV_OK)
        return NULL;
    if (n > max_len) {
        rv_reader_fail(r, "length over its limit");
        return NULL;
    }
    const uint8_t *p = take(r, n);
    if (!p)
        return NULL;
    *len = n;
    return (const char *)p;
}

rv_sym rv_reader_sym(rv_reader *r)
{
    uint32_t n;
    const char *p = rv_reader_bytes(r, &n, 1u << 20);
    if (!p)
        return RV_SYM_NONE;
    rv_sym s = rv_sym_intern(p, n);
    if (s == RV_SYM_NONE)
        rv_reader_fail(r, "out of memory interning a name");
    return s;
}

uint32_t rv_reader_count(rv_reader *r, size_t item_size)
{
    uint32_t n = rv_reader_u32(r);
    if (r->status != RV_OK)
        return 0;
    if (item_size && (uint64_t)n * item_size > r->len - r->pos) {
        rv_reader_fail(r, "count larger than the data left");
        return 0;
    }
    return n;
}

rv_status rv_reader_status(const rv_reader *r, rv_error *err)
{
    if (r->status != RV_OK)
        return rv_error_set(err, r->status, "corrupt state: %s", r->what);
    return RV_OK;
}
