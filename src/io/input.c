/* Input bytes for the stream readers: read(2) on a file descriptor, inflated
 * with zlib when the data is gzip.
 *
 * Why read(2) and not gzread: gzread loops until the block it was asked for
 * is full, as fread does, so on a pipe the rows of a slow producer (`tail -f
 * data.csv | rivulet predict ...`, a process writing a row a second) waited
 * until 1 MiB had accumulated or the producer quit. read(2) returns what the
 * pipe holds, so a row is handed on once its line is complete; a regular file
 * still arrives in blocks as large as asked, straight into the stream's
 * buffer with no extra copy.
 *
 * gzip is recognised as gzread recognises it: by the magic bytes 1f 8b at the
 * start. Members may be concatenated (`gzip -c more >> data.gz`); bytes after
 * a member that do not start another one are ignored, as gzread ignores
 * them; input that ends inside a member is an error (a truncated download).
 * Inflating returns whatever output the compressed bytes read so far give,
 * so a gzip producer that flushes its rows gets them read promptly too.
 */
#include "io/stream_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Compressed bytes read per read(2), as gzbuffer(1 << 17) had them. */
#define RV_INPUT_ZBUF (1u << 17)

void rv_input_init(rv_input *in, int fd)
{
    memset(in, 0, sizeof *in);
    in->fd = fd;
    in->gzip = -1;
    struct stat st;
    in->may_wait = fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode));
}

/* read(2), retried after a signal and waited on when the descriptor was left
 * non-blocking by whoever passed it (a shell or a parent process), so that
 * both behave as a blocking read. Returns bytes (0 at the end) or -1. */
static ssize_t read_some(rv_input *in, void *dst, size_t cap)
{
    int fd = in->fd;
    if (in->on_wait && in->may_wait) { /* nothing to read yet: the caller's turn */
        struct pollfd ready = {.fd = fd, .events = POLLIN};
        if (poll(&ready, 1, 0) == 0)
            in->on_wait(in->on_wait_ctx);
    }
    for (;;) {
        ssize_t n = read(fd, dst, cap);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, -1) < 0 && errno != EINTR)
            return -1;
    }
}

static rv_status read_error(const char *name, rv_error *err)
{
    return rv_error_set(err, RV_EIO, "%s: read error: %s", name, strerror(errno));
}

/* The first bytes of the input, at dst[0, *n): reads until two bytes tell
 * gzip from plain data (a pipe may deliver the first byte alone), then, for
 * gzip, moves them to the compressed-input buffer. */
static rv_status detect_gzip(rv_input *in, char *dst, size_t cap, ssize_t *n, const char *name,
                             rv_error *err)
{
    while (*n == 1 && (unsigned char)dst[0] == 0x1f) {
        ssize_t more = read_some(in, dst + 1, cap - 1);
        if (more < 0)
            return read_error(name, err);
        if (more == 0)
            break;
        in->fd_bytes += (uint64_t)more;
        *n += more;
    }
    in->gzip = *n >= 2 && (unsigned char)dst[0] == 0x1f && (unsigned char)dst[1] == 0x8b;
    if (!in->gzip)
        return RV_OK;
    /* 16 + 15: a gzip wrapper (header and CRC trailer checked), 32 KiB window */
    if (inflateInit2(&in->z, 16 + 15) != Z_OK)
        return rv_error_set(err, RV_ENOMEM, "%s: out of memory", name);
    in->zlib_ready = 1;
    in->zcap = (size_t)*n > RV_INPUT_ZBUF ? (size_t)*n : RV_INPUT_ZBUF;
    if (!(in->zbuf = malloc(in->zcap)))
        return rv_error_set(err, RV_ENOMEM, "%s: out of memory", name);
    memcpy(in->zbuf, dst, (size_t)*n);
    in->z.next_in = in->zbuf;
    in->z.avail_in = (uInt)*n;
    *n = 0;
    return RV_OK;
}

/* Reads compressed bytes after those still unused (kept at the front).
 * Returns bytes added, 0 at the end of the file, or an error. */
static long refill_compressed(rv_input *in, const char *name, rv_error *err)
{
    z_stream *z = &in->z;
    if (z->avail_in && z->next_in != in->zbuf)
        memmove(in->zbuf, z->next_in, z->avail_in);
    z->next_in = in->zbuf;
    ssize_t n = read_some(in, in->zbuf + z->avail_in, in->zcap - z->avail_in);
    if (n < 0)
        return read_error(name, err);
    in->fd_bytes += (uint64_t)n;
    z->avail_in += (uInt)n;
    return (long)n;
}

/* Inflates into dst, returning as soon as there is output: bytes (> 0), 0 at
 * the end of the data, or an error. */
static long inflate_some(rv_input *in, char *dst, size_t cap, const char *name, rv_error *err)
{
    z_stream *z = &in->z;
    for (;;) {
        /* Between members two bytes tell another member from trailing bytes. */
        if (z->avail_in == 0 || (!in->in_member && z->avail_in < 2)) {
            long n = refill_compressed(in, name, err);
            if (n < 0)
                return n;
            if (n == 0 && in->in_member)
                return rv_error_set(err, RV_EIO, "%s: the gzip data ends early (is the file "
                                    "truncated?)", name);
            if (n == 0)
                break;
            continue;
        }
        if (!in->in_member) {
            if (z->next_in[0] != 0x1f || z->next_in[1] != 0x8b)
                break;
            if (inflateReset(z) != Z_OK)
                return rv_error_set(err, RV_EIO, "%s: gzip: inflate state lost", name);
            in->in_member = 1;
        }
        z->next_out = (unsigned char *)dst;
        z->avail_out = (uInt)cap;
        int rc = inflate(z, Z_NO_FLUSH);
        size_t got = cap - z->avail_out;
        if (rc == Z_STREAM_END)
            in->in_member = 0;
        else if (rc == Z_MEM_ERROR)
            return rv_error_set(err, RV_ENOMEM, "%s: out of memory", name);
        else if (rc != Z_OK && !(rc == Z_BUF_ERROR && z->avail_in == 0))
            return rv_error_set(err, RV_EIO, "%s: gzip data: %s", name,
                                z->msg ? z->msg : "corrupt");
        if (got)
            return (long)got;
    }
    /* The end: a lone byte or bytes that start no member are ignored. */
    z->avail_in = 0;
    in->ended = 1;
    return 0;
}

/* Plain data: read(2) straight into dst. */
static long read_plain(rv_input *in, char *dst, size_t cap, const char *name, rv_error *err)
{
    ssize_t n = read_some(in, dst, cap);
    if (n < 0)
        return read_error(name, err);
    in->fd_bytes += (uint64_t)n;
    in->ended = n == 0;
    return (long)n;
}

long rv_input_read(rv_input *in, char *dst, size_t cap, const char *name, rv_error *err)
{
    if (cap > (1u << 30))
        cap = 1u << 30; /* byte counts stay within an int */
    if (in->ended)
        return 0;
    if (in->gzip == 0)
        return read_plain(in, dst, cap, name, err);
    if (in->gzip < 0) {
        long n = read_plain(in, dst, cap, name, err);
        if (n <= 0)
            return n;
        ssize_t have = n;
        rv_status st = detect_gzip(in, dst, cap, &have, name, err);
        if (st)
            return st;
        if (!in->gzip)
            return (long)have;
    }
    return inflate_some(in, dst, cap, name, err);
}

uint64_t rv_input_offset(const rv_input *in)
{
    return in->fd_bytes - (in->gzip > 0 ? in->z.avail_in : 0);
}

void rv_input_close(rv_input *in)
{
    if (in->zlib_ready)
        inflateEnd(&in->z);
    free(in->zbuf);
    if (in->fd >= 0)
        close(in->fd);
    in->fd = -1;
    in->zlib_ready = 0;
    in->zbuf = NULL;
}
