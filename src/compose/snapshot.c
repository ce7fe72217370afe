/* Snapshots: a model as bytes. A snapshot holds the model's definition text
 * (what rv_object_describe writes) and its learned state (what the class's
 * save writes), so that loading needs nothing but the bytes: parse the text
 * to get a fresh model with the same parameters, then load the state into it.
 *
 * Byte layout (all integers little-endian, fixed width):
 *
 *   offset      size  field
 *   +---------+-----+-------------------------------------------------+
 *   | 0       |  8  | magic "RIVULET\0"                               |
 *   | 8       |  4  | format version (u32) = RV_SNAPSHOT_VERSION (1)  |
 *   | 12      |  4  | flags (u32); none defined yet, must be 0        |
 *   | 16      |  4  | D = length of the definition (u32)              |
 *   | 20      |  D  | definition text (UTF-8 River expression)        |
 *   | 20+D    |  8  | S = length of the state (u64)                   |
 *   | 28+D    |  S  | state (the root class's save, recursive)        |
 *   | 28+D+S  |  8  | XXH3-64 (seed 0) of bytes [0, 28+D+S)           |
 *   +---------+-----+-------------------------------------------------+
 *   total = 36 + D + S bytes, exactly: trailing bytes are an error.
 *
 * Loading checks, in this order, and stops at the first failure with its own
 * message: the magic, the version (so that a newer file says "version N"
 * rather than "corrupt"), the flags, both lengths against the bytes present,
 * the checksum, then parses the definition and loads the state, which must
 * consume exactly S bytes. The checksum is libxxhash's XXH3 (64 bits): an
 * M5-scale family snapshot is 600 MB, and XXH3 hashes it in a fraction of
 * the 1 s budget where CRC-32 alone would take most of it; any corruption
 * is caught with probability 1 - 2^-64, and the
 * lengths are checked against the buffer before anything is allocated, so
 * hostile bytes cannot make the loader allocate more than the input's size
 * (the classes' loaders bound their own counts with rv_reader_count). */
#include "rivulet/model.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

static const char magic[8] = {'R', 'I', 'V', 'U', 'L', 'E', 'T', '\0'};

enum { HEADER = 16, TRAILER = 8 };

/* The state is saved straight into out (its length patched in after), so
 * a family of 30,490 pairs (hundreds of MB) is written once, not copied. */
rv_status rv_snapshot_save(const rv_object *model, rv_buf *out)
{
    if (!model)
        return RV_EINVAL;
    size_t start = out->len;
    rv_buf def;
    rv_buf_init(&def);
    rv_status st = rv_object_describe(model, &def);
    if (!st && def.oom)
        st = RV_ENOMEM;
    if (!st && def.len > UINT32_MAX)
        st = RV_EINVAL;
    if (!st) {
        rv_buf_put(out, magic, sizeof magic);
        rv_buf_put_u32(out, RV_SNAPSHOT_VERSION);
        rv_buf_put_u32(out, 0);
        rv_buf_put_bytes(out, def.data, (uint32_t)def.len);
        /* Room for the state at once: growing a buffer of hundreds of MB
         * by doubling copies it and faults its pages twice. States run at
         * about 1.3 x memory() (the M5 families); beyond the estimate the
         * buffer still grows as usual. */
        rv_buf_reserve(out, def.len + 64 + rv_object_memory(model) / 2 * 3);
        size_t at = out->len;
        rv_buf_put_u64(out, 0); /* the state's length, patched below */
        st = model->cls->save(model, out);
        if (!st && !out->oom) {
            uint64_t n = out->len - at - 8;
            for (int i = 0; i < 8; i++)
                out->data[at + (size_t)i] = (char)(uint8_t)(n >> (8 * i));
            rv_buf_put_u64(out, XXH3_64bits(out->data + start, out->len - start));
        }
        if (!st && out->oom)
            st = RV_ENOMEM;
    }
    if (st && !out->oom)
        out->len = start; /* nothing half-written stays in out */
    rv_buf_free(&def);
    return st;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

/* Checks the frame; on success points *def and *state into bytes. */
static rv_status check_frame(const uint8_t *b, size_t len, const char **def, size_t *dlen,
                             const uint8_t **state, size_t *slen, rv_error *err)
{
    if (len < sizeof magic && memcmp(b, magic, len) == 0)
        return rv_error_set(err, RV_ECORRUPT, "truncated snapshot (%zu bytes)", len);
    if (len < sizeof magic || memcmp(b, magic, sizeof magic) != 0)
        return rv_error_set(err, RV_ECORRUPT, "not a rivulet snapshot (bad magic bytes)");
    if (len < HEADER)
        return rv_error_set(err, RV_ECORRUPT, "truncated snapshot header (%zu bytes)", len);
    uint32_t version = le32(b + 8), flags = le32(b + 12);
    if (version != RV_SNAPSHOT_VERSION)
        return rv_error_set(err, RV_EVERSION,
                            "snapshot format version %u is not supported (this build reads version %u)",
                            version, RV_SNAPSHOT_VERSION);
    if (flags != 0)
        return rv_error_set(err, RV_ECORRUPT, "snapshot has unknown flags 0x%08x", flags);
    if (len < HEADER + 4 + 8 + TRAILER)
        return rv_error_set(err, RV_ECORRUPT, "truncated snapshot (%zu bytes)", len);
    uint64_t d = le32(b + 16);
    if (d > len - (HEADER + 4 + 8 + TRAILER))
        return rv_error_set(err, RV_ECORRUPT,
                            "truncated snapshot: definition of %llu bytes in a file of %zu",
                            (unsigned long long)d, len);
    uint64_t s = le64(b + HEADER + 4 + d);
    size_t room = len - (HEADER + 4 + 8 + TRAILER) - (size_t)d;
    if (s != room)
        return rv_error_set(err, RV_ECORRUPT, "%s snapshot: state of %llu bytes where %zu remain",
                            s > room ? "truncated" : "oversized", (unsigned long long)s, room);
    uint64_t want = le64(b + len - TRAILER), got = XXH3_64bits(b, len - TRAILER);
    if (want != got)
        return rv_error_set(err, RV_ECORRUPT, "snapshot checksum mismatch (stored %016llx, computed %016llx)",
                            (unsigned long long)want, (unsigned long long)got);
    *def = (const char *)b + HEADER + 4;
    *dlen = (size_t)d;
    *state = b + HEADER + 4 + d + 8;
    *slen = (size_t)s;
    return RV_OK;
}

rv_object *rv_snapshot_load(const void *bytes, size_t len, rv_error *err)
{
    const char *def = NULL;
    const uint8_t *state = NULL;
    size_t dlen = 0, slen = 0;
    if (!bytes)
        len = 0;
    if (check_frame(bytes ? bytes : "", len, &def, &dlen, &state, &slen, err))
        return NULL;
    rv_object *model = rv_model_parse(def, dlen, NULL, err);
    if (!model) {
        rv_error_prefix(err, "snapshot definition");
        return NULL;
    }
    rv_reader r;
    rv_reader_init(&r, state, slen);
    rv_status st = model->cls->load(model, &r);
    if (st == RV_OK && r.status == RV_OK && r.pos != r.len)
        rv_reader_fail(&r, "trailing bytes after the state");
    if (r.status != RV_OK)
        st = rv_reader_status(&r, err);
    else if (st != RV_OK)
        rv_error_set(err, st, "%s: could not load the state", model->cls->name);
    if (st != RV_OK) {
        rv_error_prefix(err, "snapshot");
        rv_object_free(model);
        return NULL;
    }
    return model;
}

/* ===== Files ===== */

/* Reads a whole regular file (up to 4 GiB). */
static char *read_all(const char *path, size_t *len, rv_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rv_error_set(err, RV_EIO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    char *buf = NULL;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > (off_t)UINT32_MAX) {
        rv_error_set(err, RV_EIO, "%s: not a regular file of at most 4 GiB", path);
        close(fd);
        return NULL;
    }
    size_t n = (size_t)sb.st_size, got = 0;
    buf = malloc(n + 1);
    while (buf && got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (!buf || got != n) {
        rv_error_set(err, buf ? RV_EIO : RV_ENOMEM, "%s: could not read the file", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

rv_object *rv_model_load_file(const char *path, rv_error *err)
{
    size_t len = 0;
    char *bytes = read_all(path, &len, err);
    if (!bytes)
        return NULL;
    rv_object *model;
    if (len >= 4 && memcmp(bytes, magic, len < sizeof magic ? len : sizeof magic) == 0)
        model = rv_snapshot_load(bytes, len, err);
    else
        model = rv_model_parse(bytes, len, NULL, err);
    if (!model)
        rv_error_prefix(err, "%s", path);
    free(bytes);
    return model;
}

static rv_status write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return RV_EIO;
        p += w;
        n -= (size_t)w;
    }
    return RV_OK;
}

rv_status rv_snapshot_write_file(const rv_object *model, const char *path, rv_error *err)
{
    rv_buf b;
    rv_buf_init(&b);
    rv_status st = rv_snapshot_save(model, &b);
    if (st) {
        rv_buf_free(&b);
        return rv_error_set(err, st, "%s: could not encode the snapshot", path);
    }
    rv_file_replace f; /* written whole, or the old snapshot stays */
    if ((st = rv_file_replace_open(&f, path, 0600, err)) == RV_OK) {
        if (write_all(f.fd, b.data, b.len) || (f.tmp && fsync(f.fd) != 0))
            st = rv_error_set(err, RV_EIO, "%s: write failed: %s", path, strerror(errno));
        if (close(f.fd) != 0 && !st)
            st = rv_error_set(err, RV_EIO, "%s: close failed: %s", path, strerror(errno));
        rv_status end = rv_file_replace_end(&f, st == RV_OK, 1, err);
        st = st ? st : end;
    }
    rv_buf_free(&b);
    return st;
}
