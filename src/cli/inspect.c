/* rivulet inspect SNAPSHOT: what a saved model is and holds. */
#include "cli/cli.h"

static const char usage[] =
    "usage: rivulet inspect SNAPSHOT [--keys]\n"
    "\n"
    "Prints the model's definition (River syntax, reusable as a MODEL file),\n"
    "the memory its state takes, and what it keeps beyond that: the keys of a\n"
    "keyed family, the running metric of each candidate of a selection and,\n"
    "for a family of selections, which candidate each key uses.\n"
    "\n"
    "  --keys               list the choice of every key (default: the first 10)\n"
    "\n"
    "example:\n"
    "  rivulet inspect model.rvs\n";

int rv_cli_inspect_main(int argc, char **argv)
{
    rv_cli_opts opts;
    rv_object *model = NULL;
    rv_buf text;
    rv_buf_init(&text);
    int code = rv_cli_parse(argc, argv, RV_VERB_INSPECT, usage, &opts);
    if (code || opts.help)
        goto done;
    if (opts.npos != 1) {
        code = rv_cli_usage_error(&opts, "expected SNAPSHOT, got %d arguments", opts.npos);
        goto done;
    }
    rv_error err = {0};
    if (!(model = rv_cli_load_model(opts.pos[0], &err))) {
        code = rv_cli_fail_model(opts.pos[0], err.message);
        goto done;
    }
    rv_object_describe(model, &text);
    printf("definition: %s\n", rv_buf_cstr(&text));
    printf("class: %s.%s\n", model->cls->module, model->cls->name);
    printf("memory: %zu bytes\n", rv_object_memory(model));
    rv_cli_describe_state(model, opts.all_keys, stdout);
done:
    rv_buf_free(&text);
    rv_object_free(model);
    rv_cli_opts_free(&opts);
    return code;
}
