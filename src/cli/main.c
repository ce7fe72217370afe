/* The `rivulet` command: dispatches to one function per verb. Exit codes:
 * 0 ok, 1 runtime error, 2 usage error, 130 interrupted by Ctrl-C. */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rivulet/m5.h"
#include "rivulet/server.h"

static const char usage[] =
    "usage: rivulet VERB [options]   (rivulet VERB --help for each)\n"
    "\n"
    "  eval MODEL DATA        progressive validation: metrics over a stream\n"
    "  train MODEL DATA       learn from a stream and save a snapshot (--out)\n"
    "  predict SNAPSHOT DATA  predictions for a stream, without learning\n"
    "  inspect SNAPSHOT       definition, keys, memory and metrics of a model\n"
    "  list [NAME]            what a definition can use; NAME: with its defaults\n"
    "  serve                  the HTTP server (Chantilly's API)\n"
    "  backup DB COPY         a copy of a server's store, taken while it runs\n"
    "  m5                     the M5 forecasting walk-through\n"
    "  --version              print the version\n"
    "\n"
    "example:\n"
    "  rivulet eval model.py data.csv --target y\n";

/* What a verb printed must have reached stdout: `rivulet eval ... > full-disk`
 * exited 0 with its summary lost. */
static int stdout_flushed(int code)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "rivulet: writing to stdout failed: %s\n", strerror(errno));
        return code ? code : RV_EXIT_RUNTIME;
    }
    return code;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } verbs[] = {
        {"eval", rv_cli_eval_main},       {"train", rv_cli_train_main},
        {"predict", rv_cli_predict_main}, {"inspect", rv_cli_inspect_main},
        {"list", rv_cli_list_main},       {"serve", rv_serve_main},
        {"m5", rv_m5_main},               {"backup", rv_cli_backup_main},
    };
    if (argc < 2) {
        fputs(usage, stderr);
        return RV_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("rivulet %s\n", RV_VERSION);
        return RV_EXIT_OK;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, stdout);
        return RV_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
        if (strcmp(argv[1], verbs[i].name) == 0)
            return stdout_flushed(verbs[i].run(argc - 1, argv + 1));
    fprintf(stderr, "rivulet: unknown verb '%s'\n\n%s", argv[1], usage);
    return RV_EXIT_USAGE;
}
