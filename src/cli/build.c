/* Building the model a verb runs: load each MODEL file (definition or
 * snapshot), combine two or more into a best-of selection (train --select),
 * and wrap the result in a keyed family when --key is given. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The model layer says "PATH: line L, column C: what" (or without PATH);
 * print it as compilers do, "PATH:L:C: what", so editors can jump there. */
int rv_cli_fail_model(const char *path, const char *msg)
{
    size_t plen = strlen(path);
    if (strncmp(msg, path, plen) == 0 && strncmp(msg + plen, ": ", 2) == 0)
        msg += plen + 2;
    int line, col, used = 0;
    if (sscanf(msg, "line %d, column %d: %n", &line, &col, &used) == 2 && used > 0)
        return rv_cli_fail("%s:%d:%d: %s", path, line, col, msg + used);
    return rv_cli_fail("%s: %s", path, msg);
}

int rv_cli_build_model(rv_cli_opts *opts, char **paths, int n, rv_object **out)
{
    rv_error err = {0};
    *out = NULL;
    if (n > 1 && !opts->select)
        return rv_cli_usage_error(opts, "%d models given: add --select to keep the best per key",
                                  n);
    rv_object **models = calloc((size_t)n, sizeof *models);
    if (!models)
        return rv_cli_fail("out of memory");
    for (int i = 0; i < n; i++) {
        if (!(models[i] = rv_cli_load_model(paths[i], &err))) {
            for (int j = 0; j < i; j++)
                rv_object_free(models[j]);
            free(models);
            return rv_cli_fail_model(paths[i], err.message);
        }
        if (!rv_is_estimator(models[i]) ||
            !(rv_estimator_flags(models[i]) & (RV_F_REGRESSOR | RV_F_CLASSIFIER))) {
            for (int j = 0; j <= i; j++)
                rv_object_free(models[j]);
            free(models);
            return rv_cli_fail("%s: not a regressor or classifier (a model must end with one)",
                               paths[i]);
        }
    }
    rv_object *model = models[0];
    if (n > 1) {
        rv_object *metric = rv_cli_metric_new(opts->nmetrics ? opts->metrics[0] : "MAE", &err);
        model = metric ? rv_cli_select(models, (size_t)n, metric, &err) : NULL;
        if (!metric)
            for (int i = 0; i < n; i++)
                rv_object_free(models[i]);
    }
    free(models);
    if (model && opts->key)
        model = rv_cli_family(model, opts->key, &err);
    if (!model)
        return rv_cli_fail("%s", err.message);
    *out = model;
    return RV_EXIT_OK;
}

int rv_cli_check_output(const rv_cli_opts *opts, const char *path)
{
    struct stat out, in;
    if (!path || strcmp(path, "-") == 0 || stat(path, &out) != 0)
        return RV_EXIT_OK;
    for (int i = 0; i < opts->npos; i++)
        if (strcmp(opts->pos[i], "-") != 0 && stat(opts->pos[i], &in) == 0 && in.st_dev == out.st_dev
            && in.st_ino == out.st_ino)
            return rv_cli_usage_error(opts, "%s is also an input (%s): write elsewhere", path,
                                      opts->pos[i]);
    return RV_EXIT_OK;
}

int rv_cli_check_out_dir(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return rv_cli_fail("%s: is a directory", path);
    const char *slash = strrchr(path, '/');
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash == path ? 1 : slash - path) : 1,
             slash ? path : ".");
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return rv_cli_fail("%s: no directory %s to save into", path, dir);
    if (access(dir, W_OK | X_OK) != 0)
        return rv_cli_fail("%s: cannot write into %s: %m", path, dir);
    return RV_EXIT_OK;
}

/* A predictions file is replaced whole (rv_file_replace): renamed into place
 * when the run ends well or is interrupted (its rows so far are whole), and
 * left as it was when the run fails, which had left a file of
 * complete-looking rows where a good one had been. One output per process. */
static rv_file_replace output;

FILE *rv_cli_open_output(const rv_cli_opts *opts, const char *path, int *code)
{
    *code = RV_EXIT_OK;
    if (!path || (path[0] == '-' && path[1] == '\0'))
        return stdout;
    if ((*code = rv_cli_check_output(opts, path)))
        return NULL;
    rv_error err = {0};
    if (rv_file_replace_open(&output, path, 0666, &err) != RV_OK) {
        *code = rv_cli_fail("%s", err.message);
        return NULL;
    }
    FILE *f = fdopen(output.fd, "w");
    if (!f) {
        *code = rv_cli_fail("%s: %m", path);
        close(output.fd);
        rv_file_replace_end(&output, 0, 0, NULL);
    }
    return f;
}

int rv_cli_close_output(FILE *f, const char *path, int keep)
{
    if (!f)
        return RV_EXIT_OK;
    int bad = ferror(f);
    bad |= f == stdout ? fflush(f) : fclose(f);
    if (f != stdout) {
        rv_error err = {0};
        if (rv_file_replace_end(&output, keep && !bad, 0, &err) != RV_OK)
            return rv_cli_fail("%s", err.message);
    }
    return bad ? rv_cli_fail("%s: write error", path ? path : "<stdout>") : RV_EXIT_OK;
}

int rv_cli_open_model(int argc, char **argv, unsigned verb, const char *usage,
                      const char *what, int need_target, rv_cli_opts *opts, rv_object **model)
{
    *model = NULL;
    int code = rv_cli_parse(argc, argv, verb, usage, opts);
    if (code || opts->help)
        return code;
    if (opts->npos != 2)
        return rv_cli_usage_error(opts, "expected %s, got %d arguments", what, opts->npos);
    if (need_target && !opts->target)
        return rv_cli_usage_error(opts, "--target COL is required");
    return rv_cli_build_model(opts, opts->pos, 1, model);
}
