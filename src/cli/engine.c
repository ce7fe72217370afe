/* The CLI's only door into the model layers: loading and saving models
 * (model.h), keyed families (family.h), best-of selection (compose.h),
 * metrics (metrics.h) and progressive validation (eval.h).
 *
 * Those layers are built in parallel with this one; each is used when its
 * header is present (__has_include), and a verb that needs a missing one
 * fails with a clear runtime error instead of breaking the build.
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#if __has_include("rivulet/model.h")
#include "rivulet/model.h"
#define HAVE_MODEL 1
#endif
#if __has_include("rivulet/family.h")
#include "rivulet/family.h"
#define HAVE_FAMILY 1
#endif
#if __has_include("rivulet/compose.h")
#include "rivulet/compose.h"
#define HAVE_COMPOSE 1
#endif
#if __has_include("rivulet/eval.h")
#include "rivulet/eval.h"
#include "rivulet/metrics.h"
#define HAVE_EVAL 1
#endif

__attribute__((unused)) static void *missing(const char *what, rv_error *err)
{
    rv_error_set(err, RV_EUNSUPPORTED, "%s is not part of this build", what);
    return NULL;
}

rv_object *rv_cli_load_model(const char *path, rv_error *err)
{
#ifdef HAVE_MODEL
    return rv_model_load_file(path, err);
#else
    (void)path;
    return missing("loading models (rivulet/model.h)", err);
#endif
}

rv_object *rv_cli_family(rv_object *model, const char *key, rv_error *err)
{
#ifdef HAVE_FAMILY
    return rv_family_new(model, key, err);
#else
    (void)key;
    rv_object_free(model);
    return missing("--key (keyed families, rivulet/family.h)", err);
#endif
}

rv_object *rv_cli_select(rv_object **models, size_t n, rv_object *metric, rv_error *err)
{
#ifdef HAVE_COMPOSE
    return rv_greedy_regressor_new(models, n, metric, err);
#else
    for (size_t i = 0; i < n; i++)
        rv_object_free(models[i]);
    rv_object_free(metric);
    return missing("--select (model_selection.GreedyRegressor)", err);
#endif
}

rv_status rv_cli_save(const rv_object *model, const char *path, rv_error *err)
{
#ifdef HAVE_MODEL
    return rv_snapshot_write_file(model, path, err);
#else
    (void)model;
    (void)path;
    missing("saving snapshots (rivulet/model.h)", err);
    return RV_EUNSUPPORTED;
#endif
}

/* ===== Metrics and progressive validation ===== */

rv_object *rv_cli_metric_new(const char *name, rv_error *err)
{
#ifdef HAVE_EVAL
    return rv_metric_new(name, err);
#else
    (void)name;
    return missing("metrics", err);
#endif
}

double rv_cli_metric_get(const rv_object *m)
{
#ifdef HAVE_EVAL
    return rv_metric_get(m);
#else
    (void)m;
    return 0;
#endif
}

int rv_cli_metric_bigger_is_better(const rv_object *m)
{
#ifdef HAVE_EVAL
    return rv_metric_bigger_is_better(m);
#else
    (void)m;
    return 0;
#endif
}

rv_status rv_cli_metric_update(rv_object *m, const rv_value *y, const rv_prediction *p,
                               rv_error *err)
{
#ifdef HAVE_EVAL
    return rv_metric_update(m, y, p, err);
#else
    (void)m, (void)y, (void)p;
    missing("metrics", err);
    return RV_EUNSUPPORTED;
#endif
}

rv_cli_pv *rv_cli_pv_new(rv_object *model, rv_object **metrics, size_t n, long delay,
                         rv_error *err)
{
#ifdef HAVE_EVAL
    return (rv_cli_pv *)rv_progressive_new(model, metrics, n, (uint32_t)delay, err);
#else
    (void)model, (void)metrics, (void)n, (void)delay;
    return missing("progressive validation (rivulet/eval.h)", err);
#endif
}

rv_status rv_cli_pv_step(rv_cli_pv *pv, const rv_event *x, const rv_value *y, rv_prediction *out,
                         rv_error *err)
{
#ifdef HAVE_EVAL
    return rv_progressive_step((rv_progressive *)pv, x, y, out, err);
#else
    (void)pv, (void)x, (void)y, (void)out;
    missing("progressive validation", err);
    return RV_EUNSUPPORTED;
#endif
}

rv_status rv_cli_pv_flush(rv_cli_pv *pv, rv_error *err)
{
#ifdef HAVE_EVAL
    return rv_progressive_flush((rv_progressive *)pv, err);
#else
    (void)pv, (void)err;
    return RV_OK;
#endif
}

void rv_cli_pv_free(rv_cli_pv *pv)
{
#ifdef HAVE_EVAL
    rv_progressive_free((rv_progressive *)pv);
#else
    (void)pv;
#endif
}

/* ===== inspect ===== */

#ifdef HAVE_COMPOSE
static int is_greedy(const rv_object *o) { return strcmp(o->cls->name, "GreedyRegressor") == 0; }

static void print_greedy(const rv_object *model, FILE *out)
{
    size_t best = rv_greedy_best(model);
    rv_buf b;
    rv_buf_init(&b);
    for (size_t i = 0; i < rv_greedy_len(model); i++) {
        rv_buf_reset(&b);
        rv_object_describe(rv_greedy_model(model, i), &b);
        fprintf(out, "candidate %zu%s: %s\n", i, i == best ? " (best)" : "", rv_buf_cstr(&b));
        rv_buf_reset(&b);
        rv_buf_put_double(&b, rv_greedy_metric(model, i));
        fprintf(out, "  running metric: %s\n", rv_buf_cstr(&b));
    }
    rv_buf_free(&b);
}
#endif

#ifdef HAVE_FAMILY
/* Keys, a sample of them, and for a family of selections how many keys each
 * candidate currently wins. */
static void print_family(const rv_object *fam, FILE *out)
{
    size_t n = rv_family_size(fam);
    fprintf(out, "key feature: %s\nkeys: %zu\n", rv_family_key_feature(fam), n);
    for (size_t i = 0; i < n && i < 10; i++) {
        size_t len;
        const char *k = rv_family_key_at(fam, i, &len);
        fprintf(out, "%s%.*s", i ? ", " : "  first keys: ", (int)len, k);
    }
    if (n)
        fprintf(out, "%s\n", n > 10 ? ", ..." : "");
#ifdef HAVE_COMPOSE
    if (!is_greedy(rv_family_prototype(fam)))
        return;
    size_t ncand = rv_greedy_len(rv_family_prototype(fam)), wins[64] = {0};
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *k = rv_family_key_at(fam, i, &len);
        rv_object *m = rv_family_get((rv_object *)fam, k, len);
        size_t b = m ? rv_greedy_best(m) : 64;
        if (b < 64)
            wins[b]++;
    }
    for (size_t c = 0; c < ncand && c < 64; c++)
        fprintf(out, "candidate %zu is best for %zu keys\n", c, wins[c]);
#endif
}
#endif

void rv_cli_describe_state(const rv_object *model, FILE *out)
{
#ifdef HAVE_COMPOSE
    if (is_greedy(model))
        print_greedy(model, out);
#endif
#ifdef HAVE_FAMILY
    if (rv_is_family(model))
        print_family(model, out);
#endif
    (void)model;
    (void)out;
}
