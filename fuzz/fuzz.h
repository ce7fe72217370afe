/* Shared helpers of the libFuzzer targets in fuzz/ (see fuzz/README.md).
 *
 * A target's input is consumed front to back by a tiny reader (fz_in): bytes
 * pick choices, numbers and names, and what remains is handed to the parser
 * under test. Running out of input yields zeros, never a failure, so every
 * input means something. FZ_CHECK turns a broken invariant into an abort that
 * libFuzzer reports as a crash, with the message. */
#ifndef RIVULET_FUZZ_H
#define RIVULET_FUZZ_H

#include "rivulet/core.h"
#include "rivulet/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_CHECK(cond, ...)                                                                       \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            fprintf(stderr, "fuzz invariant broken at %s:%d: ", __FILE__, __LINE__);              \
            fprintf(stderr, __VA_ARGS__);                                                         \
            fputc('\n', stderr);                                                                  \
            abort();                                                                              \
        }                                                                                         \
    } while (0)

/* A failed call must say why: a status and a non-empty message. */
#define FZ_CHECK_ERROR(st, err, what)                                                             \
    FZ_CHECK((st) < 0 && (err)->message[0], "%s failed with status %d and no message", what, (st))

typedef struct fz_in {
    const uint8_t *p;
    size_t n;
} fz_in;

static inline uint8_t fz_u8(fz_in *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static inline uint32_t fz_u32(fz_in *in)
{
    uint32_t x = 0;
    for (int i = 0; i < 4; i++)
        x |= (uint32_t)fz_u8(in) << (8 * i);
    return x;
}

static inline double fz_f64(fz_in *in)
{
    uint64_t u = (uint64_t)fz_u32(in) | (uint64_t)fz_u32(in) << 32;
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* Up to max bytes (length from one byte), borrowed from the input. */
static inline const char *fz_bytes(fz_in *in, size_t max, size_t *len)
{
    size_t k = fz_u8(in) % (max + 1);
    if (k > in->n)
        k = in->n;
    const char *s = (const char *)in->p;
    in->p += k;
    in->n -= k;
    *len = k;
    return s;
}

/* A number that estimators find hard: NaN, infinities, huge, tiny, negative
 * zero, or any bit pattern. */
static inline double fz_weird_num(fz_in *in)
{
    static const double pool[] = {0.0, -0.0, 1.0, -1.0, 0.5, 3.0, 1e300, -1e300, 1.7976931348623157e308,
                                  4.9e-324, 2.2250738585072014e-308, 1e-300, 42.0, 1e15, -7.25};
    uint8_t k = fz_u8(in);
    switch (k % 8) {
    case 0: return NAN;
    case 1: return INFINITY;
    case 2: return -INFINITY;
    case 3: return fz_f64(in);
    default: return pool[(k / 8) % (sizeof pool / sizeof *pool)];
    }
}

/* A whole file, malloc'ed and NUL-terminated; aborts when missing (the
 * targets' fixed inputs are part of the tree). */
static inline char *fz_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    FZ_CHECK(f, "cannot open %s", path);
    rv_buf b;
    rv_buf_init(&b);
    char chunk[4096];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
        rv_buf_put(&b, chunk, k);
    fclose(f);
    rv_buf_cstr(&b);
    if (len)
        *len = b.len;
    return b.data;
}

/* The M5 example pipelines (examples/m5/<name>.river), by path from the source
 * tree the target was built in. */
#ifndef RV_SOURCE_DIR
#define RV_SOURCE_DIR "."
#endif
static inline rv_object *fz_m5_model(const char *which)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/examples/m5/%s.river", RV_SOURCE_DIR, which);
    size_t len;
    char *text = fz_read_file(path, &len);
    rv_error err = {0};
    rv_object *o = rv_model_parse(text, len, NULL, &err);
    FZ_CHECK(o, "%s does not parse: %s", path, err.message);
    free(text);
    return o;
}

#endif
