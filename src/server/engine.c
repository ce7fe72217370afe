/* The model-facing part of the server: the only file that knows how models
 * are built, checked, snapshotted, and asked to predict and learn, and how
 * metrics are made. Everything else handles opaque rv_object pointers.
 *
 * Upload: bytes that load as a snapshot (rv_snapshot_load) are one; otherwise
 * the body must be a definition's text (rv_model_parse). A model fits a
 * flavor when it is a regressor (regression) or a classifier (binary,
 * multiclass; a binary-only classifier refuses multiclass).
 *
 * Metrics by flavor (Chantilly's sets, named as River's classes):
 *   regression  MAE, RMSE, SMAPE
 *   binary      Accuracy, LogLoss, Precision, Recall, F1
 *   multiclass  Accuracy, CrossEntropy, MacroPrecision, MacroRecall, MacroF1,
 *               MicroPrecision, MicroRecall, MicroF1
 * A metric this build lacks is reported as null rather than failing.
 * Metric operations go through the class's ops so that this file links even
 * before the metrics module exists.
 */
#include "internal.h"
#include "rivulet/metrics.h"

#include "rivulet/compose.h"
#include "rivulet/family.h"
#include "rivulet/model.h"

#include <math.h>
#include <string.h>

/* ===== Models ===== */

static int looks_like_text(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == '\0')
            return 0;
    return n > 0;
}

rv_object *rv_engine_load(const char *body, size_t len, rv_error *err)
{
    rv_error snap_err = {0};
    rv_object *m = rv_snapshot_load(body, len, &snap_err);
    if (m)
        return m;
    if (!looks_like_text(body, len)) {
        *err = snap_err;
        return NULL;
    }
    return rv_model_parse(body, len, NULL, err);
}

rv_status rv_engine_check_flavor(const rv_object *model, rv_flavor f, rv_error *err)
{
    if (!rv_is_estimator(model))
        return rv_error_set(err, RV_ETYPE, "The model is not an estimator.");
    if (rv_is_family(model)) /* a family predicts what its members do */
        model = rv_family_prototype(model);
    unsigned fl = rv_estimator_flags(model);
    if (f == RV_FLAVOR_REGRESSION && !(fl & RV_F_REGRESSOR))
        return rv_error_set(err, RV_ETYPE, "The model is not a regressor, but the flavor is regression.");
    if ((f == RV_FLAVOR_BINARY || f == RV_FLAVOR_MULTICLASS) && !(fl & RV_F_CLASSIFIER))
        return rv_error_set(err, RV_ETYPE, "The model is not a classifier, but the flavor is %s.",
                            rv_flavor_name(f));
    if (f == RV_FLAVOR_MULTICLASS && (fl & RV_F_BINARY_ONLY))
        return rv_error_set(err, RV_ETYPE,
                            "The model is a binary classifier, but the flavor is multiclass.");
    return RV_OK;
}

rv_status rv_engine_snapshot(const rv_object *model, rv_buf *out)
{
    return rv_snapshot_save(model, out);
}

/* Whether predict may change the model (creme's pipelines update their
 * unsupervised transformers during predict): such models are predicted under
 * the write lock and their predicts are logged, so replay rebuilds them. */
int rv_engine_predict_mutates(const rv_object *model)
{
    if (rv_is_family(model))
        model = rv_family_prototype(model);
    return rv_is_pipeline(model) && rv_pipeline_learns_during_predict(model);
}

rv_status rv_engine_predict(rv_object *model, const rv_event *x, rv_prediction *out, rv_error *err)
{
    return rv_estimator_predict(model, x, out, err);
}

rv_status rv_engine_learn(rv_object *model, const rv_event *x, const rv_value *y, rv_error *err)
{
    return rv_estimator_learn(model, x, y, err);
}

/* ===== Metrics ===== */

static const char *const REGRESSION[] = {"MAE", "RMSE", "SMAPE", NULL};
static const char *const BINARY[] = {"Accuracy", "LogLoss", "Precision", "Recall", "F1", NULL};
static const char *const MULTICLASS[] = {"Accuracy", "CrossEntropy", "MacroPrecision", "MacroRecall",
                                         "MacroF1", "MicroPrecision", "MicroRecall", "MicroF1", NULL};

rv_status rv_engine_metrics_init(rv_metric_set *ms, rv_flavor f, rv_error *err)
{
    memset(ms, 0, sizeof *ms);
    const char *const *names = f == RV_FLAVOR_REGRESSION ? REGRESSION
                               : f == RV_FLAVOR_BINARY   ? BINARY
                               : f == RV_FLAVOR_MULTICLASS ? MULTICLASS
                                                         : NULL;
    for (int i = 0; names && names[i] && i < RV_MAX_METRICS; i++) {
        char q[64];
        snprintf(q, sizeof q, "metrics.%s", names[i]);
        ms->names[i] = names[i];
        const rv_class *cls = rv_class_find_kind(q, RV_CLASS_METRIC);
        ms->m[i] = cls ? rv_create(q, NULL, NULL) : NULL;
        if (ms->m[i] && !ms->m[i]->cls->ops) {
            rv_object_free(ms->m[i]);
            ms->m[i] = NULL;
        }
        ms->n = i + 1;
    }
    (void)err;
    return RV_OK;
}

void rv_engine_metrics_free(rv_metric_set *ms)
{
    for (int i = 0; i < ms->n; i++)
        rv_object_free(ms->m[i]);
    memset(ms, 0, sizeof *ms);
}

static const rv_metric_ops *ops_of(const rv_object *m)
{
    return (const rv_metric_ops *)m->cls->ops;
}

void rv_engine_metrics_update(rv_metric_set *ms, const rv_value *y, const rv_prediction *p)
{
    for (int i = 0; i < ms->n; i++)
        if (ms->m[i] && ops_of(ms->m[i])->update)
            ops_of(ms->m[i])->update(ms->m[i], y, p, NULL);
}

json_t *rv_metrics_to_json(const rv_metric_set *ms)
{
    json_t *o = json_object();
    for (int i = 0; o && i < ms->n; i++) {
        double x = ms->m[i] && ops_of(ms->m[i])->get ? ops_of(ms->m[i])->get(ms->m[i]) : NAN;
        json_object_set_new(o, ms->names[i], isfinite(x) ? json_real(x) : json_null());
    }
    return o;
}

/* Layout: u32 n, then per metric: u8 present, state bytes (length-prefixed). */
rv_status rv_engine_metrics_save(const rv_metric_set *ms, rv_buf *out)
{
    rv_buf_put_u32(out, (uint32_t)ms->n);
    rv_buf tmp;
    rv_buf_init(&tmp);
    for (int i = 0; i < ms->n; i++) {
        rv_buf_reset(&tmp);
        int ok = ms->m[i] && ms->m[i]->cls->save && ms->m[i]->cls->save(ms->m[i], &tmp) == RV_OK;
        rv_buf_put_u8(out, (uint8_t)ok);
        if (ok)
            rv_buf_put_bytes(out, tmp.data, (uint32_t)tmp.len);
    }
    rv_buf_free(&tmp);
    return out->oom ? RV_ENOMEM : RV_OK;
}

rv_status rv_engine_metrics_load(rv_metric_set *ms, rv_reader *in)
{
    uint32_t n = rv_reader_u32(in);
    if (n != (uint32_t)ms->n)
        rv_reader_fail(in, "metric count");
    for (int i = 0; i < ms->n && in->status == RV_OK; i++) {
        if (!rv_reader_u8(in))
            continue;
        uint32_t len;
        const char *p = rv_reader_bytes(in, &len, 1u << 30);
        if (!p || !ms->m[i] || !ms->m[i]->cls->load)
            continue;
        rv_object *fresh = rv_object_clone(ms->m[i], NULL);
        rv_reader sub;
        rv_reader_init(&sub, p, len);
        if (fresh && fresh->cls->load(fresh, &sub) == RV_OK && sub.status == RV_OK) {
            rv_object_free(ms->m[i]);
            ms->m[i] = fresh;
        } else {
            rv_object_free(fresh);
            rv_reader_fail(in, "metric state");
        }
    }
    return in->status;
}
