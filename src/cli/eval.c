/* rivulet eval MODEL DATA: progressive validation of a model on a stream. */
#include "cli/cli.h"

static const char usage[] =
    "usage: rivulet eval MODEL DATA --target COL [options]\n"
    "\n"
    "Progressive validation: for each row, predict, score the prediction, then\n"
    "learn (after --delay rows). Prints the metrics over all rows, and for a\n"
    "keyed model (--key) a per-key summary.\n"
    "\n"
    "  MODEL                a definition file (River syntax) or a snapshot\n"
    "  DATA                 CSV or NDJSON, optionally gzipped; '-' for stdin\n"
    "  --target COL         the column to predict (required)\n"
    "  --key COL            one model per value of COL (a keyed family); the values\n"
    "                       are read as text, so 01 and 1 are two keys\n"
    "  --metric M           MAE, RMSE, SMAPE, R2, Accuracy, LogLoss, F1, ... or River\n"
    "                       syntax: 'metrics.Rolling(metrics.MAE(), 7)' (repeatable;\n"
    "                       default MAE, Accuracy for classifiers)\n"
    "  --delay N            learn each row N rows after predicting it\n"
    "  --threads N          threads for a keyed family (default: one per core);\n"
    "                       results are identical for any N\n"
    "  --predictions FILE   write row,y,prediction(,key) as CSV ('-' = stdout)\n"
    "  --type COL=T         force a column to int, float or str\n"
    "  --parse-date COL=FMT parse a date column (%Y %m %d %H %M %S) into days\n"
    "                       since 1970-01-01; without it dates stay strings\n"
    "  --skip-bad           skip rows with bad values (counted) instead of failing\n"
    "  --quiet              no progress bar\n"
    "\n"
    "example:\n"
    "  rivulet eval model.py sales.csv.gz --target sales --key id --metric MAE \\\n"
    "      --metric RMSE --predictions preds.csv\n";

int rv_cli_eval_main(int argc, char **argv)
{
    rv_cli_opts opts;
    rv_cli_run run = {0};
    rv_object *model = NULL;
    int code = rv_cli_open_model(argc, argv, RV_VERB_EVAL, usage, "MODEL DATA", 1, &opts, &model);
    if (code || opts.help)
        goto done;
    run.model = model;
    run.learn = 1;
    if ((code = rv_cli_make_metrics(&opts, model, &run)))
        goto done;
    if (opts.predictions && !(run.predictions = rv_cli_open_output(&opts, opts.predictions, &code)))
        goto done;
    rv_cli_catch_interrupt();
    code = rv_cli_run_data(&run, &opts, opts.pos[1]);
    int out_code = rv_cli_close_output(run.predictions, opts.predictions, code == RV_EXIT_OK);
    if (!code) {
        /* Predictions on stdout push the summary to stderr. */
        rv_cli_print_summary(&run, run.predictions == stdout ? stderr : stdout);
        code = run.interrupted ? RV_EXIT_INTERRUPTED : out_code;
    }
done:
    rv_object_free(model);
    rv_cli_run_free(&run);
    rv_cli_opts_free(&opts);
    return code;
}
