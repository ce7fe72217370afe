/* rivulet train MODEL... DATA --out SNAPSHOT: warm a model up on a stream
 * (progressive validation, so the metrics are reported) and save it.
 *
 * Saving goes through rv_snapshot_write_file (temporary file, fsync, rename),
 * so SNAPSHOT is either the old file or the complete new one. Ctrl-C stops
 * reading and saves the model as learned so far (exit code 130); a second
 * Ctrl-C kills the process, and the rename still never exposes a half file. */
#include "cli/cli.h"

static const char usage[] =
    "usage: rivulet train MODEL [MODEL...] DATA --target COL --out SNAPSHOT [options]\n"
    "\n"
    "Learns from every row of DATA (scoring each row before learning it, as eval\n"
    "does) and saves the model with its state to SNAPSHOT.\n"
    "\n"
    "  MODEL                a definition file or a snapshot to continue from\n"
    "  --select             with two or more MODELs: keep them all and predict\n"
    "                       with the one whose running metric is best\n"
    "                       (model_selection.GreedyRegressor; per key with --key)\n"
    "  --out SNAPSHOT       where to save (required)\n"
    "  --target COL, --key COL, --metric NAME, --delay N, --threads N, --type COL=T,\n"
    "  --parse-date COL=FMT, --skip-bad, --quiet: as for eval\n"
    "\n"
    "examples:\n"
    "  rivulet train model.py sales.csv --target sales --key id --out model.rvs\n"
    "  rivulet train knn.py linear.py sales.csv --select --target sales --key id \\\n"
    "      --metric MAE --out best.rvs\n";

int rv_cli_train_main(int argc, char **argv)
{
    rv_cli_opts opts;
    rv_cli_run run = {0};
    rv_object *model = NULL;
    int code = rv_cli_parse(argc, argv, RV_VERB_TRAIN, usage, &opts);
    if (code || opts.help)
        goto done;
    if (opts.npos < 2) {
        code = rv_cli_usage_error(&opts, "expected MODEL... DATA, got %d arguments", opts.npos);
        goto done;
    }
    if (!opts.target || !opts.out) {
        code = rv_cli_usage_error(&opts, "%s is required", opts.target ? "--out SNAPSHOT"
                                                                       : "--target COL");
        goto done;
    }
    if ((code = rv_cli_check_out_dir(opts.out)))
        goto done;
    if ((code = rv_cli_build_model(&opts, opts.pos, opts.npos - 1, &model)))
        goto done;
    run.model = model;
    run.learn = 1;
    if ((code = rv_cli_make_metrics(&opts, model, &run)))
        goto done;
    rv_cli_catch_interrupt();
    if ((code = rv_cli_run_data(&run, &opts, opts.pos[opts.npos - 1])))
        goto done;
    rv_cli_print_summary(&run, stdout);
    rv_error err = {0};
    if (rv_cli_save(model, opts.out, &err)) {
        code = rv_cli_fail("%s", err.message); /* it names the file */
        goto done;
    }
    if (!opts.quiet)
        fprintf(stderr, "rivulet: saved %s (%llu rows learned)\n", opts.out,
                (unsigned long long)run.scored);
    code = run.interrupted ? RV_EXIT_INTERRUPTED : RV_EXIT_OK;
done:
    rv_object_free(model);
    rv_cli_run_free(&run);
    rv_cli_opts_free(&opts);
    return code;
}
