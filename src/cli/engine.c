/* The CLI's only door into the model layers: loading and saving models
 * (model.h), keyed families (family.h), best-of selection (compose.h),
 * metrics (metrics.h) and progressive validation (eval.h).
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rivulet/compose.h"
#include "rivulet/eval.h"
#include "rivulet/family.h"
#include "rivulet/metrics.h"
#include "rivulet/model.h"

rv_object *rv_cli_load_model(const char *path, rv_error *err)
{
    return rv_model_load_file(path, err);
}

/* A model that is a family already (a trained family's snapshot) keeps its
 * members: wrapped in another family, every key would start from scratch. */
rv_object *rv_cli_family(rv_object *model, const char *key, rv_error *err)
{
    if (rv_is_family(model)) {
        rv_error_set(err, RV_EINVAL, "the model is a keyed family already (by '%s'): drop --key",
                     rv_family_key_feature(model));
        rv_object_free(model);
        return NULL;
    }
    return rv_family_new(model, key, err);
}

rv_object *rv_cli_select(rv_object **models, size_t n, rv_object *metric, rv_error *err)
{
    return rv_greedy_regressor_new(models, n, metric, err);
}

rv_status rv_cli_save(const rv_object *model, const char *path, rv_error *err)
{
    return rv_snapshot_write_file(model, path, err);
}

/* ===== Metrics and progressive validation ===== */

/* A metric's name (MAE, metrics.MAE), or an expression in River's syntax as
 * a River user writes it: metrics.MAE(), metrics.Rolling(metrics.MAE(), 7). */
rv_object *rv_cli_metric_new(const char *name, rv_error *err)
{
    if (!strchr(name, '('))
        return rv_metric_new(name, err);
    rv_object *m = rv_model_parse(name, strlen(name), NULL, err);
    if (m && m->cls->kind != RV_CLASS_METRIC) {
        rv_error_set(err, RV_EINVAL, "'%s' is a %s.%s, not a metric", name, m->cls->module, m->cls->name);
        rv_object_free(m);
        return NULL;
    }
    return m;
}

double rv_cli_metric_get(const rv_object *m)
{
    return rv_metric_get(m);
}

int rv_cli_metric_bigger_is_better(const rv_object *m)
{
    return rv_metric_bigger_is_better(m);
}

rv_status rv_cli_metric_update(rv_object *m, const rv_value *y, const rv_prediction *p,
                               rv_error *err)
{
    return rv_metric_update(m, y, p, err);
}

rv_cli_pv *rv_cli_pv_new(rv_object *model, rv_object **metrics, size_t n, long delay,
                         rv_error *err)
{
    return (rv_cli_pv *)rv_progressive_new(model, metrics, n, (uint32_t)delay, err);
}

rv_status rv_cli_pv_step(rv_cli_pv *pv, const rv_event *x, const rv_value *y, rv_prediction *out,
                         rv_error *err)
{
    return rv_progressive_step((rv_progressive *)pv, x, y, out, err);
}

rv_status rv_cli_pv_flush(rv_cli_pv *pv, rv_error *err)
{
    return rv_progressive_flush((rv_progressive *)pv, err);
}

void rv_cli_pv_free(rv_cli_pv *pv)
{
    rv_progressive_free((rv_progressive *)pv);
}

/* ===== Sharded progressive validation ===== */

struct rv_cli_par {
    rv_progressive_par *pp;
    rv_object *family; /* the evaluator borrows the array holding it */
    rv_cli_par_cb cb;
    void *ctx;
};

static void par_trampoline(void *ctx, uint64_t row, size_t m, const rv_value *y,
                           const rv_prediction *pred)
{
    rv_cli_par *p = ctx;
    (void)m; /* one family */
    p->cb(p->ctx, row, y, pred);
}

rv_cli_par *rv_cli_par_new(rv_object *family, rv_object **metrics, size_t n, long delay,
                           unsigned nthreads, rv_cli_par_cb cb, void *ctx, rv_error *err)
{
    rv_cli_par *p = calloc(1, sizeof *p);
    if (!p) {
        rv_error_set(err, RV_ENOMEM, "out of memory");
        return NULL;
    }
    p->cb = cb;
    p->ctx = ctx;
    p->family = family;
    p->pp = rv_progressive_new_parallel(&p->family, 1, metrics, n, (uint32_t)delay, nthreads, err);
    if (!p->pp) {
        free(p);
        return NULL;
    }
    rv_progressive_par_set_callback(p->pp, par_trampoline, p);
    return p;
}

rv_status rv_cli_par_step(rv_cli_par *p, const rv_event *x, const rv_value *y, rv_error *err)
{
    return rv_progressive_par_step(p->pp, x, y, err);
}

rv_status rv_cli_par_drain(rv_cli_par *p, rv_error *err)
{
    return rv_progressive_par_drain(p->pp, err);
}

rv_status rv_cli_par_finish(rv_cli_par *p, rv_error *err)
{
    return rv_progressive_par_finish(p->pp, err);
}

void rv_cli_par_free(rv_cli_par *p)
{
    if (!p)
        return;
    rv_progressive_par_free(p->pp);
    free(p);
}

int rv_cli_is_family(const rv_object *model) { return rv_is_family(model); }

const char *rv_cli_family_key(const rv_object *model)
{
    return rv_is_family(model) ? rv_family_key_feature(model) : NULL;
}

unsigned rv_cli_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
}

/* ===== inspect ===== */

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

/* Keys, a sample of them, and for a family of selections how many keys each
 * candidate currently wins and the choice per key (all keys with
 * all_keys, else the first ten): "KEY: candidate B (m0, m1, ...)" with each
 * candidate's running metric. */
static void print_family(const rv_object *fam, int all_keys, FILE *out)
{
    size_t n = rv_family_size(fam);
    fprintf(out, "key feature: %s\nkeys: %zu\n", rv_family_key_feature(fam), n);
    int greedy_members = is_greedy(rv_family_prototype(fam));
    for (size_t i = 0; !greedy_members && i < n && i < 10; i++) {
        size_t len;
        const char *k = rv_family_key_at(fam, i, &len);
        fprintf(out, "%s%.*s", i ? ", " : "  first keys: ", (int)len, k);
    }
    if (n && !greedy_members)
        fprintf(out, "%s\n", n > 10 ? ", ..." : "");
    if (!greedy_members)
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
    size_t shown = all_keys ? n : n < 10 ? n : 10;
    fprintf(out, "choice per key%s:\n", shown < n ? " (first 10; --keys for all)" : "");
    rv_buf b;
    rv_buf_init(&b);
    for (size_t i = 0; i < shown; i++) {
        size_t len;
        const char *k = rv_family_key_at(fam, i, &len);
        const rv_object *m = rv_family_get((rv_object *)fam, k, len);
        if (!m)
            continue;
        rv_buf_reset(&b);
        for (size_t c = 0; c < rv_greedy_len(m); c++) {
            if (c)
                rv_buf_puts(&b, ", ");
            rv_buf_put_double(&b, rv_greedy_metric(m, c));
        }
        fprintf(out, "  %.*s: candidate %zu (%s)\n", (int)len, k, rv_greedy_best(m),
                rv_buf_cstr(&b));
    }
    rv_buf_free(&b);
}

void rv_cli_describe_state(const rv_object *model, int all_keys, FILE *out)
{
    if (is_greedy(model))
        print_greedy(model, out);
    if (rv_is_family(model))
        print_family(model, all_keys, out);
}
