/* The registry of classes, looked up by River name. The table itself is
 * generated at build time (build/gen/registry.c) from every
 * `const rv_class rv_class_*` definition under src/, so adding a class is
 * adding a file. */
#include "rivulet/core.h"

#include <string.h>
#include <strings.h>

extern const rv_class *const rv_registry[];

const rv_class *const *rv_class_all(void) { return rv_registry; }

static int matches(const rv_class *c, const char *q)
{
    const char *dot = strrchr(q, '.');
    if (!dot)
        return strcmp(c->name, q) == 0;
    size_t mlen = (size_t)(dot - q);
    return strcmp(c->name, dot + 1) == 0 && strlen(c->module) == mlen &&
           strncmp(c->module, q, mlen) == 0;
}

const rv_class *rv_class_find(const char *q)
{
    for (size_t i = 0; rv_registry[i]; i++)
        if (matches(rv_registry[i], q))
            return rv_registry[i];
    /* a qualified name may use only the last part of a module path
       ("schedulers.Constant" for "optim.schedulers.Constant") */
    const char *dot = strrchr(q, '.');
    if (dot) {
        size_t mlen = (size_t)(dot - q);
        for (size_t i = 0; rv_registry[i]; i++) {
            const rv_class *c = rv_registry[i];
            size_t cl = strlen(c->module);
            if (strcmp(c->name, dot + 1) == 0 && cl > mlen && c->module[cl - mlen - 1] == '.' &&
                strncmp(c->module + cl - mlen, q, mlen) == 0)
                return c;
        }
    }
    return NULL;
}

const rv_class *rv_class_find_kind(const char *q, rv_class_kind kind)
{
    for (size_t i = 0; rv_registry[i]; i++)
        if (rv_registry[i]->kind == kind && matches(rv_registry[i], q))
            return rv_registry[i];
    return rv_class_find(q);
}

const char *rv_class_suggest_kind(const char *name, rv_class_kind kind)
{
    const char *dot = strrchr(name, '.');
    const char *bare = dot ? dot + 1 : name;
    const char *best = NULL;
    size_t bd = strlen(bare) / 3 + 2;
    for (size_t i = 0; rv_registry[i]; i++) {
        if (kind && rv_registry[i]->kind != kind)
            continue;
        size_t d = strcasecmp(bare, rv_registry[i]->name) == 0 ? 0 : rv_edit_distance(bare, rv_registry[i]->name);
        if (d < bd) {
            bd = d;
            best = rv_registry[i]->name;
        }
    }
    return best;
}

const char *rv_class_suggest(const char *name) { return rv_class_suggest_kind(name, 0); }

const char *rv_class_local_name(const char *q)
{
    return strncmp(q, "river.", 6) == 0 || strncmp(q, "creme.", 6) == 0 ? q + 6 : q;
}

rv_object *rv_create(const char *q, const rv_args *args, rv_error *err)
{
    const rv_class *c = rv_class_find(q);
    if (!c) {
        const char *s = rv_class_suggest(q);
        if (s)
            rv_error_set(err, RV_ENOTFOUND, "unknown estimator '%s', did you mean '%s'?", q, s);
        else
            rv_error_set(err, RV_ENOTFOUND, "unknown estimator '%s'", q);
        return NULL;
    }
    rv_args empty;
    if (!args) {
        rv_args_init(&empty, q);
        args = &empty;
    }
    return c->create(args, err);
}
