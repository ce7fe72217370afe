/* Command-line options shared by the verbs, parsed with getopt_long (GNU
 * permutation, so options and positional arguments may be mixed). Each option
 * lists the verbs that accept it; any other use is a usage error (exit 2).
 * Also: the SIGINT flag and the error printers. */
#include "cli/cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_TARGET = 1000, OPT_KEY, OPT_METRIC, OPT_DELAY, OPT_PARSE_DATE, OPT_TYPE, OPT_SKIP_BAD,
    OPT_QUIET, OPT_OUT, OPT_PREDICTIONS, OPT_SELECT, OPT_KEYS, OPT_THREADS, OPT_HELP
};

#define DATA_VERBS (RV_VERB_EVAL | RV_VERB_TRAIN | RV_VERB_PREDICT)
#define LEARN_VERBS (RV_VERB_EVAL | RV_VERB_TRAIN)

static const struct {
    struct option opt;
    unsigned verbs;
} table[] = {
    {{"target", required_argument, NULL, OPT_TARGET}, DATA_VERBS},
    {{"key", required_argument, NULL, OPT_KEY}, LEARN_VERBS},
    {{"metric", required_argument, NULL, OPT_METRIC}, LEARN_VERBS},
    {{"delay", required_argument, NULL, OPT_DELAY}, LEARN_VERBS},
    {{"parse-date", required_argument, NULL, OPT_PARSE_DATE}, DATA_VERBS},
    {{"type", required_argument, NULL, OPT_TYPE}, DATA_VERBS},
    {{"skip-bad", no_argument, NULL, OPT_SKIP_BAD}, DATA_VERBS},
    {{"quiet", no_argument, NULL, OPT_QUIET}, DATA_VERBS},
    {{"out", required_argument, NULL, OPT_OUT}, RV_VERB_TRAIN | RV_VERB_PREDICT},
    {{"predictions", required_argument, NULL, OPT_PREDICTIONS}, RV_VERB_EVAL},
    {{"select", no_argument, NULL, OPT_SELECT}, RV_VERB_TRAIN},
    {{"threads", required_argument, NULL, OPT_THREADS}, LEARN_VERBS},
    {{"keys", no_argument, NULL, OPT_KEYS}, RV_VERB_INSPECT},
    {{"help", no_argument, NULL, OPT_HELP}, ~0u},
};
#define NOPTS (sizeof table / sizeof *table)

int rv_cli_usage_error(const rv_cli_opts *opts, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "rivulet %s: ", opts->verb_name);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'rivulet %s --help'.\n", opts->verb_name);
    return RV_EXIT_USAGE;
}

int rv_cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "rivulet: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return RV_EXIT_RUNTIME;
}

static int apply(rv_cli_opts *o, int code, const char *name, char *arg)
{
    rv_error err = {0};
    char *end;
    switch (code) {
    case OPT_TARGET: o->target = arg; break;
    case OPT_KEY: o->key = arg; break;
    case OPT_OUT: o->out = arg; break;
    case OPT_PREDICTIONS: o->predictions = arg; break;
    case OPT_SKIP_BAD: o->skip_bad = o->stream.skip_bad = 1; break;
    case OPT_QUIET: o->quiet = 1; break;
    case OPT_SELECT: o->select = 1; break;
    case OPT_KEYS: o->all_keys = 1; break;
    case OPT_HELP: o->help = 1; break;
    case OPT_METRIC:
        if (o->nmetrics == RV_CLI_MAX_METRICS)
            return rv_cli_usage_error(o, "at most %d metrics", RV_CLI_MAX_METRICS);
        o->metrics[o->nmetrics++] = arg;
        break;
    case OPT_DELAY:
        o->delay = strtol(arg, &end, 10);
        if (*arg == '\0' || *end || o->delay < 0 || o->delay > 100000000)
            return rv_cli_usage_error(o, "--delay: expected a count of rows from 0 to 1e8, got '%s'", arg);
        break;
    case OPT_THREADS:
        o->threads = strtol(arg, &end, 10);
        if (*arg == '\0' || *end || o->threads < 1 || o->threads > 64)
            return rv_cli_usage_error(o, "--threads: expected a count from 1 to 64, got '%s'", arg);
        break;
    case OPT_TYPE:
    case OPT_PARSE_DATE:
        if ((code == OPT_TYPE ? rv_stream_opts_type : rv_stream_opts_date)(&o->stream, arg, &err))
            return rv_cli_usage_error(o, "--%s: %s", name, err.message);
        break;
    }
    return RV_EXIT_OK;
}

int rv_cli_parse(int argc, char **argv, unsigned verb, const char *usage, rv_cli_opts *o)
{
    memset(o, 0, sizeof *o);
    rv_stream_opts_init(&o->stream);
    o->verb = verb;
    o->verb_name = argv[0];
    o->usage = usage;
    struct option longopts[NOPTS + 1];
    for (size_t i = 0; i < NOPTS; i++)
        longopts[i] = table[i].opt;
    memset(&longopts[NOPTS], 0, sizeof longopts[NOPTS]);
    opterr = 0;
    optind = 0; /* 0 re-initialises GNU getopt, for tests that parse twice */
    int c, idx;
    while ((c = getopt_long(argc, argv, "-:h", longopts, &idx)) != -1) {
        if (c == 1) { /* a positional argument, in order ("-" prefix in optstring) */
            char **p = realloc(o->pos, (size_t)(o->npos + 1) * sizeof *p);
            if (!p)
                return rv_cli_fail("out of memory");
            o->pos = p;
            o->pos[o->npos++] = optarg;
            continue;
        }
        if (c == 'h')
            c = OPT_HELP;
        if (c == '?' || c == ':') {
            const char *bad = argv[optind - 1];
            return rv_cli_usage_error(o, c == ':' ? "option '%s' needs a value"
                                                  : "unknown option '%s'", bad);
        }
        size_t i = 0;
        while (i < NOPTS && table[i].opt.val != c)
            i++;
        if (!(table[i].verbs & verb))
            return rv_cli_usage_error(o, "option '--%s' does not apply to %s", table[i].opt.name,
                                      o->verb_name);
        int rc = apply(o, c, table[i].opt.name, optarg);
        if (rc)
            return rc;
    }
    for (; optind < argc; optind++) { /* after "--" */
        char **p = realloc(o->pos, (size_t)(o->npos + 1) * sizeof *p);
        if (!p)
            return rv_cli_fail("out of memory");
        o->pos = p;
        o->pos[o->npos++] = argv[optind];
    }
    if (o->help)
        fputs(usage, stdout);
    return RV_EXIT_OK;
}

void rv_cli_opts_free(rv_cli_opts *o)
{
    rv_stream_opts_free(&o->stream);
    free(o->pos);
    o->pos = NULL;
}

/* ===== Ctrl-C ===== */

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

void rv_cli_catch_interrupt(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    /* SA_RESTART: reads resume, the loop sees the flag at the next row.
     * SA_RESETHAND: a second Ctrl-C kills at once. */
    sa.sa_flags = SA_RESTART | SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

int rv_cli_interrupted(void) { return interrupted; }
