/* Tests of progressive validation: predict, metric, learn order; delayed
 * labels learned d steps later from deep copies; predict-only rows. */
#include <math.h>

#include "rivulet/eval.h"
#include "rivulet/metrics.h"
#include "support.h"
#include "compose_support.h"

Test(eval, progressive_predicts_scores_then_learns)
{
    rv_object *model = probe_new(); /* predicts the first numeric feature */
    probe *pr = (probe *)model;
    rv_error err = {0};
    rv_object *mae = rv_create("metrics.MAE", NULL, &err);
    cr_assert_not_null(mae, "%s", err.message);
    rv_progressive *pv = rv_progressive_new(model, &mae, 1, 0, &err);
    cr_assert_not_null(pv, "%s", err.message);
    rv_event x;
    rv_event_init(&x);
    rv_sym a = rv_sym_intern_cstr("a");
    rv_prediction p;
    rv_prediction_init(&p);
    double xs[] = {1, 4}, ys[] = {2, 2};
    for (int i = 0; i < 2; i++) {
        rv_event_set_num(&x, a, xs[i]);
        rv_value y = rv_value_num(ys[i]);
        cr_assert_eq(rv_progressive_step(pv, &x, &y, &p, &err), RV_OK, "%s", err.message);
        cr_assert_eq(p.num, xs[i]);
        cr_assert_eq(pr->learned, i + 1);
    }
    cr_assert_eq(rv_metric_get(mae), 1.5); /* (|2-1| + |2-4|) / 2 */
    cr_assert_eq(rv_progressive_count(pv), 2);
    cr_assert_eq(rv_progressive_step(pv, &x, NULL, &p, &err), RV_OK); /* predict only */
    cr_assert_eq(pr->learned, 2);
    cr_assert_eq(rv_metric_get(mae), 1.5);
    rv_progressive_free(pv);
    rv_prediction_free(&p);
    rv_event_free(&x);
    rv_object_free(mae);
    rv_object_free(model);
}

Test(eval, delayed_labels_are_learned_later_from_copies)
{
    rv_object *model = probe_new();
    probe *pr = (probe *)model;
    rv_progressive *pv = rv_progressive_new(model, NULL, 0, 2, NULL);
    cr_assert_not_null(pv);
    rv_event x;
    rv_event_init(&x);
    rv_sym name = rv_sym_intern_cstr("name");
    char buf[8];
    const char *labels[] = {"first", "second", "third", "fourth"};
    for (int i = 0; i < 4; i++) {
        strcpy(buf, labels[i]);
        rv_event_set_str(&x, name, buf, strlen(buf));
        rv_value y = rv_value_num(i);
        cr_assert_eq(rv_progressive_step(pv, &x, &y, NULL, NULL), RV_OK);
        memset(buf, 'X', sizeof buf - 1); /* the waiting copy must not see this */
        cr_assert_eq(pr->learned, i < 2 ? 0 : i - 1);
        if (i >= 2) {
            cr_assert_eq(pr->last_y, i - 2);
            cr_assert_str_eq(pr->last_str, labels[i - 2]);
        }
    }
    cr_assert_eq(rv_progressive_flush(pv, NULL), RV_OK);
    cr_assert_eq(pr->learned, 4);
    cr_assert_str_eq(pr->last_str, "fourth");
    rv_progressive_free(pv);
    rv_event_free(&x);
    rv_object_free(model);
}

Test(eval, rejects_a_transformer)
{
    rv_error err = {0};
    rv_object *t = rv_create("preprocessing.StandardScaler", NULL, &err);
    cr_assert_not_null(t);
    cr_assert_null(rv_progressive_new(t, NULL, 0, 0, &err));
    cr_assert_eq(err.code, RV_EINVAL);
    rv_object_free(t);
}

/* ===== Sharded progressive validation (rv_progressive_new_parallel) ===== */

#include "rivulet/family.h"
#include "rivulet/model.h"

#define PAR_KEYS 37
#define PAR_STEPS 60
#define PAR_ROWS (PAR_KEYS * PAR_STEPS)

static const char *const par_plain[2] = {
    "compose.Family(preprocessing.StandardScaler() | "
    "neighbors.KNeighborsRegressor(n_neighbors=3, window_size=8), by='id')",
    "compose.Family(preprocessing.MinMaxScaler() | linear_model.LinearRegression(), by='id')"};
/* Supervised steps (a union of TargetAggs) between unsupervised ones: the
 * parallel run predicts and learns each member in one pass, which must
 * equal predict-all-then-learn-all of the sequential run. */
static const char *const par_supervised[2] = {
    "compose.Family(preprocessing.StandardScaler() | "
    "(feature_extraction.TargetAgg(by=['id'], how=stats.RollingMean(3)) + "
    "feature_extraction.TargetAgg(by=['id'], how=stats.Mean())) | preprocessing.StandardScaler() | "
    "neighbors.KNeighborsRegressor(n_neighbors=3, window_size=8), by='id')",
    "compose.Family(preprocessing.MinMaxScaler() | "
    "(feature_extraction.TargetAgg(by=['id'], how=stats.RollingMean(2)) + "
    "feature_extraction.TargetAgg(by=['id'], how=stats.Var())) | preprocessing.MinMaxScaler() | "
    "linear_model.LinearRegression(), by='id')"};
static const char *const *par_defs = par_plain;

static rv_object *par_model(int m)
{
    rv_error err = {0};
    rv_object *o = rv_model_parse(par_defs[m], strlen(par_defs[m]), NULL, &err);
    cr_assert_not_null(o, "%s", err.message);
    return o;
}

/* Row i of a stream sorted by step then key; every 7th row has no label. */
static int par_row(int i, rv_event *x, rv_value *y, char *idbuf)
{
    static rv_sym id, a, b;
    if (!id) {
        id = rv_sym_intern_cstr("id");
        a = rv_sym_intern_cstr("a");
        b = rv_sym_intern_cstr("b");
    }
    uint64_t s = (uint64_t)i * 0x9E3779B97F4A7C15ULL + 7;
    s ^= s >> 29;
    s *= 0xBF58476D1CE4E5B9ULL;
    s ^= s >> 32;
    int key = i % PAR_KEYS;
    snprintf(idbuf, 16, "k%d", key);
    rv_event_clear(x);
    rv_event_push_str(x, id, idbuf, strlen(idbuf));
    rv_event_push_num(x, a, (double)(s % 1000) / 37.0 + key);
    if (s >> 62) /* some rows lack b */
        rv_event_push_num(x, b, (double)((s >> 20) % 17));
    *y = rv_value_num((double)((s >> 40) % 11) + key * 0.5);
    return i % 7 != 3;
}

typedef struct par_log {
    double pred[2][PAR_ROWS];
    int seen[2][PAR_ROWS];
} par_log;

static void par_record(void *ctx, uint64_t row, size_t m, const rv_value *y, const rv_prediction *p)
{
    par_log *log = ctx;
    cr_assert_lt(row, PAR_ROWS);
    log->pred[m][row] = p->num;
    log->seen[m][row]++;
}

static void par_sequential(uint32_t delay, par_log *log, double metric[2][2])
{
    rv_event x;
    rv_event_init(&x);
    rv_prediction p;
    rv_prediction_init(&p);
    char idbuf[16];
    for (int m = 0; m < 2; m++) {
        rv_object *model = par_model(m);
        rv_object *mets[2] = {rv_metric_new("metrics.MAE", NULL), rv_metric_new("metrics.RMSE", NULL)};
        rv_error err = {0};
        rv_progressive *pv = rv_progressive_new(model, mets, 2, delay, &err);
        cr_assert_not_null(pv, "%s", err.message);
        for (int i = 0; i < PAR_ROWS; i++) {
            rv_value y;
            int labelled = par_row(i, &x, &y, idbuf);
            cr_assert_eq(rv_progressive_step(pv, &x, labelled ? &y : NULL, &p, &err), RV_OK, "%s",
                         err.message);
            log->pred[m][i] = p.num;
        }
        cr_assert_eq(rv_progressive_flush(pv, &err), RV_OK);
        metric[m][0] = rv_metric_get(mets[0]);
        metric[m][1] = rv_metric_get(mets[1]);
        rv_progressive_free(pv);
        rv_object_free(model);
        rv_object_free(mets[0]);
        rv_object_free(mets[1]);
    }
    rv_prediction_free(&p);
    rv_event_free(&x);
}

static void par_check(uint32_t delay, unsigned threads)
{
    static par_log want, got;
    double wm[2][2], gm[2][2];
    memset(&want, 0, sizeof want);
    memset(&got, 0, sizeof got);
    par_sequential(delay, &want, wm);
    rv_object *fam[2] = {par_model(0), par_model(1)};
    rv_object *mets[4];
    for (int m = 0; m < 2; m++) {
        mets[2 * m] = rv_metric_new("metrics.MAE", NULL);
        mets[2 * m + 1] = rv_metric_new("metrics.RMSE", NULL);
    }
    rv_error err = {0};
    rv_progressive_par *pp = rv_progressive_new_parallel(fam, 2, mets, 2, delay, threads, &err);
    cr_assert_not_null(pp, "%s", err.message);
    rv_progressive_par_set_callback(pp, par_record, &got);
    rv_event x;
    rv_event_init(&x);
    char idbuf[16];
    for (int i = 0; i < PAR_ROWS; i++) {
        rv_value y;
        int labelled = par_row(i, &x, &y, idbuf);
        cr_assert_eq(rv_progressive_par_step(pp, &x, labelled ? &y : NULL, &err), RV_OK, "%s",
                     err.message);
        memset(idbuf, 'X', 8); /* the queued copy must not see this */
    }
    cr_assert_eq(rv_progressive_par_finish(pp, &err), RV_OK, "%s", err.message);
    cr_assert_eq(rv_progressive_par_count(pp), PAR_ROWS);
    for (int m = 0; m < 2; m++) {
        cr_assert_eq(rv_family_size(fam[m]), PAR_KEYS);
        for (int i = 0; i < PAR_ROWS; i++) {
            cr_assert_eq(got.seen[m][i], 1, "model %d row %d reported %d times", m, i, got.seen[m][i]);
            cr_assert(memcmp(&got.pred[m][i], &want.pred[m][i], sizeof(double)) == 0,
                      "threads %u delay %u model %d row %d: %a vs %a", threads, delay, m, i,
                      got.pred[m][i], want.pred[m][i]);
        }
        gm[m][0] = rv_metric_get(mets[2 * m]);
        gm[m][1] = rv_metric_get(mets[2 * m + 1]);
        cr_assert(memcmp(gm[m], wm[m], sizeof gm[m]) == 0, "metrics of model %d differ", m);
    }
    rv_progressive_par_free(pp);
    for (int m = 0; m < 2; m++)
        rv_object_free(fam[m]);
    for (int i = 0; i < 4; i++)
        rv_object_free(mets[i]);
    rv_event_free(&x);
}

Test(eval, parallel_matches_sequential_bit_for_bit)
{
    for (unsigned t = 1; t <= 3; t++)
        par_check(0, t);
}

Test(eval, parallel_matches_sequential_with_supervised_steps)
{
    par_defs = par_supervised;
    for (unsigned t = 1; t <= 2; t++) {
        par_check(0, t);
        par_check(3, t);
    }
    par_defs = par_plain;
}

Test(eval, parallel_matches_sequential_with_delay)
{
    for (unsigned t = 1; t <= 3; t++) {
        par_check(3, t);
        par_check(50, t); /* longer than a key's gap between rows */
    }
}

Test(eval, parallel_reports_the_failing_row)
{
    rv_object *fam[1] = {par_model(1)};
    rv_error err = {0};
    rv_progressive_par *pp = rv_progressive_new_parallel(fam, 1, NULL, 0, 0, 2, &err);
    cr_assert_not_null(pp, "%s", err.message);
    rv_event x;
    rv_event_init(&x);
    char idbuf[16];
    rv_status st = RV_OK;
    for (int i = 0; i < 100 && !st; i++) {
        rv_value y;
        par_row(i, &x, &y, idbuf);
        if (i == 41)
            rv_event_remove(&x, rv_sym_intern_cstr("id"));
        st = rv_progressive_par_step(pp, &x, &y, &err);
    }
    cr_assert_eq(st, RV_ENOTFOUND);
    cr_assert(strstr(err.message, "row 42:") != NULL, "%s", err.message);
    cr_assert_eq(rv_progressive_par_finish(pp, &err), RV_ENOTFOUND); /* sticky */
    rv_progressive_par_free(pp);
    rv_object_free(fam[0]);
    rv_event_free(&x);
}

Test(eval, parallel_rejects_non_families_and_mixed_keys)
{
    rv_error err = {0};
    rv_object *lm = rv_model_parse("linear_model.LinearRegression()", 31, NULL, &err);
    cr_assert_not_null(lm, "%s", err.message);
    cr_assert_null(rv_progressive_new_parallel(&lm, 1, NULL, 0, 0, 2, &err));
    const char *other = "compose.Family(linear_model.LinearRegression(), by='store')";
    rv_object *fam[2] = {par_model(1), rv_model_parse(other, strlen(other), NULL, &err)};
    cr_assert_not_null(fam[1], "%s", err.message);
    cr_assert_null(rv_progressive_new_parallel(fam, 2, NULL, 0, 0, 2, &err));
    cr_assert(strstr(err.message, "share one key") != NULL, "%s", err.message);
    cr_assert_null(rv_progressive_new_parallel(fam, 1, NULL, 0, 0, 0, &err));
    rv_object_free(lm);
    rv_object_free(fam[0]);
    rv_object_free(fam[1]);
}
