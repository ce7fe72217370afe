/* Replacing a file whole: the new contents are written to a temporary file
 * beside the final name and renamed over it when complete, so that neither
 * a reader nor a crash ever sees half of them, and a failed write leaves the
 * old file. Two cases are written straight into instead:
 *   - a path that is not a regular file (/dev/null, /dev/full, a FIFO):
 *     renaming over it would replace the node itself (as root, a snapshot
 *     saved to /dev/null did), and /dev/full must report its ENOSPC;
 *   - through a symlink the temporary goes beside the link's target, which
 *     the rename then replaces, leaving the link. */
#include "rivulet/core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The path a symlink names, joined to the link's directory when relative;
 * NULL if it cannot be read. */
static char *link_target(const char *link)
{
    char to[4096];
    ssize_t n = readlink(link, to, sizeof to - 1);
    if (n <= 0)
        return NULL;
    to[n] = '\0';
    const char *slash = strrchr(link, '/');
    size_t dlen = to[0] == '/' || !slash ? 0 : (size_t)(slash - link + 1);
    char *out = malloc(dlen + (size_t)n + 1);
    if (out)
        snprintf(out, dlen + (size_t)n + 1, "%.*s%s", (int)dlen, link, to);
    return out;
}

/* fsync of the directory holding path, so the rename itself is durable. */
static void sync_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash == path ? 1 : slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

rv_status rv_file_replace_open(rv_file_replace *f, const char *path, unsigned mode, rv_error *err)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    char *resolved = realpath(path, NULL); /* NULL when there is no such file yet */
    struct stat sb;
    if (!resolved && lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode))
        resolved = link_target(path); /* a link to a file not written yet */
    if (resolved && stat(resolved, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        free(resolved);
        if ((f->fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
            return rv_error_set(err, RV_EIO, "%s: cannot open: %s", path, strerror(errno));
        return RV_OK;
    }
    f->path = resolved ? resolved : strdup(path);
    size_t n = f->path ? strlen(f->path) + 16 : 0;
    if (!f->path || !(f->tmp = malloc(n))) {
        free(f->path);
        f->path = NULL;
        return rv_error_set(err, RV_ENOMEM, "out of memory");
    }
    snprintf(f->tmp, n, "%s.tmp.XXXXXX", f->path);
    f->fd = mkstemp(f->tmp);
    if (f->fd < 0) {
        rv_error_set(err, RV_EIO, "%s: cannot create a temporary file: %s", path, strerror(errno));
        free(f->tmp);
        free(f->path);
        f->tmp = f->path = NULL;
        return RV_EIO;
    }
    mode_t mask = umask(0); /* the mode asked for, as open(2) would give it, not mkstemp's 0600 */
    umask(mask);
    fchmod(f->fd, (mode_t)mode & ~mask);
    return RV_OK;
}

rv_status rv_file_replace_end(rv_file_replace *f, int keep, int durable, rv_error *err)
{
    rv_status st = RV_OK;
    if (f->tmp) {
        if (keep && rename(f->tmp, f->path) != 0)
            st = rv_error_set(err, RV_EIO, "%s: rename failed: %s", f->path, strerror(errno));
        if (!keep || st)
            unlink(f->tmp);
        else if (durable)
            sync_dir(f->path);
    }
    free(f->tmp);
    free(f->path);
    memset(f, 0, sizeof *f);
    f->fd = -1;
    return st;
}
