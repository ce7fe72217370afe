/* Helpers shared by the test files. */
#ifndef RIVULET_TEST_SUPPORT_H
#define RIVULET_TEST_SUPPORT_H

#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The shared folder beside the repository (../shared), or $RIVULET_SHARED.
 * Returns NULL when absent; tests that need it call RV_REQUIRE_SHARED. */
static inline const char *rv_test_shared_dir(void)
{
    static char path[4096];
    const char *env = getenv("RIVULET_SHARED");
    if (env && *env) {
        snprintf(path, sizeof path, "%s", env);
        return access(path, R_OK) == 0 ? path : NULL;
    }
    const char *candidates[] = {"../shared", "../../shared"};
    for (size_t i = 0; i < 2; i++)
        if (access(candidates[i], R_OK) == 0) {
            snprintf(path, sizeof path, "%s", candidates[i]);
            return path;
        }
    return NULL;
}

/* Skips loudly (or fails, under RIVULET_REQUIRE_SHARED=1) when ../shared is missing. */
#define RV_REQUIRE_SHARED(dirvar)                                                              \
    const char *dirvar = rv_test_shared_dir();                                                 \
    do {                                                                                       \
        if (!dirvar) {                                                                         \
            if (getenv("RIVULET_REQUIRE_SHARED"))                                              \
                cr_assert_fail("../shared (or $RIVULET_SHARED) is missing: reference checks cannot " \
                         "run");                                                               \
            fprintf(stderr, "\n*** SKIPPED: ../shared (or $RIVULET_SHARED) is missing; "      \
                            "reference checks did not run ***\n");                             \
            cr_skip_test("../shared is missing");                                              \
        }                                                                                      \
    } while (0)

/* Reads a whole file (gunzip not included); NULL if unreadable. */
static inline char *rv_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(buf, 2 * cap + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = n;
    }
    return buf;
}

/* A scratch directory and the absolute path of the `rivulet` binary
 * ($RIVULET_BIN, set by make test, else build/opt/rivulet), for tests that
 * run the command from inside the directory. Skips when the binary is
 * missing. */
static inline void rv_test_workdir_setup(char *dir, size_t dircap, const char *prefix, char *bin,
                                         size_t bincap)
{
    snprintf(dir, dircap, "/tmp/%s-XXXXXX", prefix);
    cr_assert_not_null(mkdtemp(dir));
    const char *b = getenv("RIVULET_BIN");
    snprintf(bin, bincap, "%s", b && *b ? b : "build/opt/rivulet");
    if (access(bin, X_OK) != 0)
        cr_skip_test("the rivulet binary (%s) is missing; run through make test", bin);
    char abs[PATH_MAX];
    if (realpath(bin, abs) && strlen(abs) < bincap)
        memcpy(bin, abs, strlen(abs) + 1);
}

static inline void rv_test_workdir_teardown(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* Runs `rivulet ARGS` inside dir, stdout and stderr to out.txt and
 * err.txt; returns the exit code. */
static inline int rv_test_run_in(const char *dir, const char *bin, const char *args)
{
    char cmd[8192];
    int n = snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s >out.txt 2>err.txt </dev/null", dir, bin, args);
    cr_assert(n > 0 && (size_t)n < sizeof cmd, "command too long: %s", args);
    int st = system(cmd);
    cr_assert(WIFEXITED(st), "rivulet did not exit normally: %s", args);
    return WEXITSTATUS(st);
}

/* The contents of a file in dir; the last four results stay valid. */
static inline char *rv_test_slurp_in(const char *dir, const char *name)
{
    static char *bufs[4];
    static int next;
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int i = next++ % 4;
    free(bufs[i]);
    bufs[i] = rv_test_read_file(path, NULL);
    cr_assert_not_null(bufs[i], "cannot read %s", name);
    return bufs[i];
}

#endif
