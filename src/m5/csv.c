/* CSV lines for the M5 files (see csv.h). Reads in 1 MiB blocks and splits
 * lines in place, so a 30,490 x 1,941 wide file streams without a copy per
 * field. */
#include "m5/csv.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { BLOCK = 1 << 20 };

rv_status m5_csv_open(m5_csv *c, const char *path, rv_error *err)
{
    memset(c, 0, sizeof *c);
    c->path = path;
    c->f = gzopen(path, "rb");
    if (!c->f)
        return rv_error_set(err, RV_EIO, "%s: %s", path, strerror(errno ? errno : ENOENT));
    gzbuffer(c->f, 1 << 18);
    c->cap = BLOCK;
    c->buf = malloc(c->cap + 1);
    if (!c->buf) {
        gzclose(c->f);
        c->f = NULL;
        return rv_error_set(err, RV_ENOMEM, "out of memory");
    }
    return RV_OK;
}

void m5_csv_close(m5_csv *c)
{
    if (c->f)
        gzclose(c->f);
    free(c->buf);
    memset(c, 0, sizeof *c);
}

/* Makes sure a whole line starts at buf + pos; returns its length, or -1 at
 * end of file, -2 on error. */
static long fill_line(m5_csv *c, rv_error *err)
{
    for (;;) {
        char *nl = memchr(c->buf + c->pos, '\n', c->len - c->pos);
        if (nl)
            return nl - (c->buf + c->pos);
        if (c->eof)
            return c->len > c->pos ? (long)(c->len - c->pos) : -1;
        memmove(c->buf, c->buf + c->pos, c->len - c->pos);
        c->len -= c->pos;
        c->pos = 0;
        if (c->cap - c->len < BLOCK / 2) {
            char *nb = realloc(c->buf, 2 * c->cap + 1);
            if (!nb) {
                rv_error_set(err, RV_ENOMEM, "out of memory");
                return -2;
            }
            c->buf = nb;
            c->cap *= 2;
        }
        int r = gzread(c->f, c->buf + c->len, (unsigned)(c->cap - c->len));
        if (r < 0) {
            int e;
            rv_error_set(err, RV_EIO, "%s: %s", c->path, gzerror(c->f, &e));
            return -2;
        }
        if (r == 0)
            c->eof = 1;
        c->len += (size_t)r;
    }
}

int m5_csv_next(m5_csv *c, char **fields, int max, rv_error *err)
{
    long n = fill_line(c, err);
    if (n == -1)
        return 0;
    if (n < 0)
        return -1;
    char *line = c->buf + c->pos;
    c->pos += (size_t)n + (c->pos + (size_t)n < c->len);
    c->lineno++;
    if (n > 0 && line[n - 1] == '\r')
        n--;
    line[n] = '\0';
    int k = 0;
    char *p = line;
    for (;;) {
        if (k < max)
            fields[k] = p;
        k++;
        char *comma = memchr(p, ',', (size_t)(line + n - p));
        if (!comma)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    return k;
}

int m5_csv_column(char **fields, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(fields[i], name) == 0)
            return i;
    return -1;
}

int m5_csv_double(const char *s, double *out)
{
    if (!*s) {
        *out = NAN;
        return 1;
    }
    char *end;
    *out = strtod(s, &end);
    return *end == '\0' && isfinite(*out) ? 0 : -1;
}

/* ===== Writing ===== */

rv_status m5_out_open(m5_out *o, const char *path, rv_error *err)
{
    memset(o, 0, sizeof *o);
    rv_buf_init(&o->b);
    size_t n = strlen(path);
    if (n > 3 && strcmp(path + n - 3, ".gz") == 0)
        o->gz = gzopen(path, "wb6");
    else
        o->f = fopen(path, "wb");
    if (!o->gz && !o->f)
        return rv_error_set(err, RV_EIO, "%s: %s", path, strerror(errno));
    return RV_OK;
}

rv_status m5_out_flush(m5_out *o, int force, rv_error *err)
{
    if (o->b.oom)
        return rv_error_set(err, RV_ENOMEM, "out of memory");
    if (!force && o->b.len < (1u << 20))
        return RV_OK;
    int ok = o->b.len == 0 ||
             (o->gz ? gzwrite(o->gz, o->b.data, (unsigned)o->b.len) == (int)o->b.len
                    : fwrite(o->b.data, 1, o->b.len, o->f) == o->b.len);
    rv_buf_reset(&o->b);
    return ok ? RV_OK : rv_error_set(err, RV_EIO, "write failed: %s", strerror(errno));
}

rv_status m5_out_close(m5_out *o, rv_error *err)
{
    rv_status st = m5_out_flush(o, 1, err);
    if (o->gz && gzclose(o->gz) != Z_OK && st == RV_OK)
        st = rv_error_set(err, RV_EIO, "write failed");
    if (o->f && fclose(o->f) != 0 && st == RV_OK)
        st = rv_error_set(err, RV_EIO, "write failed: %s", strerror(errno));
    rv_buf_free(&o->b);
    memset(o, 0, sizeof *o);
    return st;
}

void m5_out_num(rv_buf *b, double x)
{
    if (x >= 0 && x < 1e9 && x == floor(x)) {
        char tmp[16];
        int n = 0;
        unsigned long v = (unsigned long)x;
        do
            tmp[n++] = (char)('0' + v % 10);
        while ((v /= 10) > 0);
        rv_buf_reserve(b, (size_t)n);
        while (n > 0)
            rv_buf_put(b, &tmp[--n], 1);
        return;
    }
    rv_buf_put_double(b, x);
}
