/* Fuzz target: CSV and NDJSON streams (rv_stream_open / rv_stream_next).
 *
 * The first input byte picks the options: format (sniffed, CSV or NDJSON),
 * delimiter (',', ';', '\t' or '|'), a target column "y" or none, skip_bad,
 * and column types (y=float, n=int, s=str, d=date %Y-%m-%d). The rest is the
 * file, written to an in-memory file (memfd) and opened by its /proc path, so
 * the real open/gzip/buffer code runs (gzip input included). The conversion
 * helpers (rv_parse_decimal, rv_parse_date_days, ...) are also called on the
 * raw bytes.
 *
 * Every row or error must come with a consistent answer: a failure has a
 * message, rows never exceed the bytes read, the stream ends cleanly. */
#include "fuzz.h"
#include "rivulet/io.h"

#include <sys/mman.h>
#include <unistd.h>

static void conversions(const char *s, size_t n)
{
    double out;
    if (n > 64)
        n = 64;
    char *copy = malloc(n ? n : 1); /* exact size: ASan sees any read past the end */
    memcpy(copy, s, n);
    (void)rv_parse_decimal(copy, n, &out);
    (void)rv_parse_integer(copy, n, &out);
    (void)rv_parse_float(copy, n, &out);
    (void)rv_parse_date_days(copy, n, "%Y-%m-%d", &out);
    (void)rv_parse_date_days(copy, n, "%d/%m/%Y %H:%M:%S%%", &out);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    uint8_t o8 = fz_u8(&in), t8 = fz_u8(&in);
    conversions((const char *)in.p, in.n);

    rv_stream_opts o;
    rv_stream_opts_init(&o);
    o.format = (rv_stream_format)(o8 % 3);
    o.delimiter = ",;\t|"[(o8 >> 2) & 3];
    o.target = (o8 & 16) ? "y" : NULL;
    o.skip_bad = (o8 >> 5) & 1;
    o.display_name = "fuzz.csv";
    rv_error err = {0};
    if (t8 & 1)
        FZ_CHECK(rv_stream_opts_type(&o, "y=float", &err) == RV_OK, "%s", err.message);
    if (t8 & 2)
        FZ_CHECK(rv_stream_opts_type(&o, "n=int", &err) == RV_OK, "%s", err.message);
    if (t8 & 4)
        FZ_CHECK(rv_stream_opts_type(&o, "s=str", &err) == RV_OK, "%s", err.message);
    if (t8 & 8)
        FZ_CHECK(rv_stream_opts_date(&o, "d=%Y-%m-%d", &err) == RV_OK, "%s", err.message);
    if (t8 & 16)
        FZ_CHECK(rv_stream_opts_date(&o, "t=%d/%m/%Y %H:%M", &err) == RV_OK, "%s", err.message);

    int fd = memfd_create("fuzz-stream", 0);
    FZ_CHECK(fd >= 0, "memfd_create");
    FZ_CHECK(write(fd, in.p, in.n) == (ssize_t)in.n, "write");
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

    rv_stream *s = rv_stream_open(path, &o, &err);
    if (!s) {
        FZ_CHECK(err.message[0], "rv_stream_open failed without a message");
    } else {
        const char *const *names;
        (void)rv_stream_columns(s, &names);
        rv_event x;
        rv_event_init(&x);
        rv_value y;
        int has_y, rc;
        uint64_t rows = 0;
        while ((rc = rv_stream_next(s, &x, &y, &has_y, &err)) == 1) {
            rows++;
            FZ_CHECK(rows <= in.n + 1, "more rows than bytes");
            for (uint32_t i = 0; i < x.n; i++) /* touch every value: ASan checks the spans */
                if (x.items[i].kind == RV_STR && x.items[i].len)
                    (void)((volatile const char *)x.items[i].str)[x.items[i].len - 1];
            if (has_y && y.kind == RV_STR && y.len)
                (void)((volatile const char *)y.str)[y.len - 1];
            FZ_CHECK(!(o.target == NULL && has_y), "a target without a target column");
        }
        if (rc < 0)
            FZ_CHECK(err.message[0], "rv_stream_next failed (%d) without a message", rc);
        else
            FZ_CHECK(rv_stream_next(s, &x, &y, &has_y, &err) == 0, "a finished stream yields again");
        FZ_CHECK(rv_stream_rows(s) == rows, "row count %llu != %llu",
                 (unsigned long long)rv_stream_rows(s), (unsigned long long)rows);
        rv_event_free(&x);
        rv_stream_close(s);
    }
    close(fd);
    rv_stream_opts_free(&o);
    return 0;
}
