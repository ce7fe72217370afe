/* rivulet list [NAME]: what a model definition can use, from the registry.
 *
 * Without NAME, every class, module by module, with its one-line doc. With
 * a module's name, that module. With a class's name (bare or qualified), its
 * doc, and whether it builds with no arguments (then the text it prints
 * itself as) or what it needs. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: rivulet list [NAME]\n"
    "\n"
    "Lists the estimators, statistics, metrics, optimizers and the rest that a\n"
    "model definition can use. With the name of one (LinearRegression,\n"
    "linear_model.LinearRegression), prints what it is and whether it needs\n"
    "arguments; with a module (preprocessing), lists that module.\n"
    "\n"
    "example:\n"
    "  rivulet list linear_model.LinearRegression\n";

static int by_module_then_name(const void *a, const void *b)
{
    const rv_class *x = *(const rv_class *const *)a, *y = *(const rv_class *const *)b;
    int c = strcmp(x->module, y->module);
    return c ? c : strcmp(x->name, y->name);
}

/* module NULL: all. Returns how many were printed. */
static size_t print_classes(const char *module)
{
    size_t n = 0;
    for (const rv_class *const *k = rv_class_all(); *k; k++)
        n++;
    const rv_class **sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (!sorted)
        return 0;
    memcpy(sorted, rv_class_all(), n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, by_module_then_name);
    size_t shown = 0;
    const char *last = "";
    for (size_t i = 0; i < n; i++) {
        const rv_class *c = sorted[i];
        if (module && strcmp(c->module, module) != 0)
            continue;
        if (strcmp(c->module, last) != 0 || !shown)
            printf("%s%s\n", shown ? "\n" : "", c->module[0] ? c->module : "(functions, no module)");
        last = c->module;
        printf("  %-28s %s\n", c->name, c->doc ? c->doc : "");
        shown++;
    }
    free(sorted);
    return shown;
}

/* One class: its doc, and how it builds without arguments, or why not. */
static int print_class(const rv_class *c)
{
    char qualified[256];
    snprintf(qualified, sizeof qualified, "%s%s%s", c->module, c->module[0] ? "." : "", c->name);
    printf("%s: %s\n", qualified, c->doc ? c->doc : "");
    rv_error err = {0};
    rv_object *o = rv_create(qualified, NULL, &err);
    if (!o) {
        printf("needs arguments: %s\n", err.message);
        return RV_EXIT_OK;
    }
    rv_buf text;
    rv_buf_init(&text);
    rv_object_describe(o, &text);
    printf("with no arguments: %s\n", rv_buf_cstr(&text));
    rv_buf_free(&text);
    rv_object_free(o);
    return RV_EXIT_OK;
}

int rv_cli_list_main(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage, stdout);
        return RV_EXIT_OK;
    }
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        fprintf(stderr, "rivulet list: expected at most one NAME\nTry 'rivulet list --help'.\n");
        return RV_EXIT_USAGE;
    }
    if (argc == 1) {
        print_classes(NULL);
        return RV_EXIT_OK;
    }
    const char *q = rv_class_local_name(argv[1]);
    const rv_class *c = rv_class_find(q);
    if (c)
        return print_class(c);
    if (print_classes(q))
        return RV_EXIT_OK;
    const char *s = rv_class_suggest(q);
    if (s)
        fprintf(stderr, "rivulet list: no class or module '%s', did you mean '%s'?\n", argv[1], s);
    else
        fprintf(stderr, "rivulet list: no class or module '%s'\n", argv[1]);
    return RV_EXIT_USAGE;
}
