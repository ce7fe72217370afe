/* rivulet predict SNAPSHOT DATA: score a stream without learning. */
#include "cli/cli.h"

static const char usage[] =
    "usage: rivulet predict SNAPSHOT DATA [--out FILE] [options]\n"
    "\n"
    "Predicts every row of DATA with the saved model, without learning, and\n"
    "writes the CSV row,y,prediction (y is the --target column when given,\n"
    "else empty) to stdout or FILE, plus the key for a keyed family, as eval\n"
    "writes it. Numbers read back to the exact doubles.\n"
    "\n"
    "  --out FILE           write the predictions there instead of stdout\n"
    "  --target COL         copy this column into y (it is not given to the model)\n"
    "  --type COL=T, --parse-date COL=FMT, --skip-bad, --quiet: as for eval\n"
    "\n"
    "example:\n"
    "  rivulet predict model.rvs tomorrow.csv --out predictions.csv\n";

int rv_cli_predict_main(int argc, char **argv)
{
    rv_cli_opts opts;
    rv_cli_run run = {0};
    rv_object *model = NULL;
    int code = rv_cli_open_model(argc, argv, RV_VERB_PREDICT, usage, "SNAPSHOT DATA", 0, &opts,
                                 &model);
    if (code || opts.help)
        goto done;
    run.model = model;
    opts.key = rv_cli_family_key(model); /* a family's answers name their key, as eval's do */
    if (!(run.predictions = rv_cli_open_output(&opts, opts.out, &code)))
        goto done;
    rv_cli_catch_interrupt();
    code = rv_cli_run_data(&run, &opts, opts.pos[1]);
    int out_code = rv_cli_close_output(run.predictions, opts.out, code == RV_EXIT_OK);
    if (!code)
        code = run.interrupted ? RV_EXIT_INTERRUPTED : out_code;
done:
    rv_object_free(model);
    rv_cli_run_free(&run);
    rv_cli_opts_free(&opts);
    return code;
}
