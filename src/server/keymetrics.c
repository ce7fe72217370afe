/* Running metrics per family key, compact: 56 bytes a key, so 30,490 keys
 * cost 1.7 MB and the dashboard can rank them all.
 *
 * State per key: n, three running means m1..m3 (mean += (e - mean) / n, the
 * update metrics.MAE and friends use) and the counts tp, fp, fn.
 *   regression  m1 = mean |y - p| (MAE), m2 = mean (y - p)^2 (RMSE = its
 *               square root), m3 = mean 2|y - p| / (|y| + |p|), 0 when both
 *               are 0 (SMAPE = 100 * m3)
 *   binary      m1 = mean [pred == truth] (Accuracy), m2 = mean log loss with
 *               p clamped to [1e-15, 1 - 1e-15] (LogLoss), tp/fp/fn with True
 *               positive: Precision tp/(tp+fp), Recall tp/(tp+fn), F1 their
 *               harmonic mean, each 0 when its denominator is 0
 *   multiclass  m1 = Accuracy, m2 = mean -log p(truth) clamped (CrossEntropy);
 *               macro and micro averages need a confusion matrix per key and
 *               are left to the model's own metrics
 * Inputs are read as src/metrics/ reads them (rv_metric_*_input), so a key's
 * figures match what the same metric classes would give on its events. An
 * event the metrics refuse (wrong type) counts nowhere.
 *
 * Saved state: u32 rows | per row: bytes key, 7 f64.
 */
#include "internal.h"

#include "metrics/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void rv_keym_init(rv_key_metrics *k)
{
    memset(k, 0, sizeof *k);
    rv_strmap_init(&k->idx);
}

void rv_keym_free(rv_key_metrics *k)
{
    rv_strmap_free(&k->idx);
    free(k->rows);
    memset(k, 0, sizeof *k);
}

static rv_key_row *row_for(rv_key_metrics *k, const char *key, size_t len)
{
    int inserted;
    uint64_t *slot = rv_strmap_put(&k->idx, key, len, k->n, &inserted);
    if (!slot)
        return NULL;
    if (inserted) {
        if (k->n == k->cap) {
            uint32_t cap = k->cap ? 2 * k->cap : 64;
            rv_key_row *nr = realloc(k->rows, cap * sizeof *nr);
            if (!nr) {
                rv_strmap_del(&k->idx, key, len);
                return NULL;
            }
            k->rows = nr;
            k->cap = cap;
        }
        memset(&k->rows[k->n], 0, sizeof k->rows[0]);
        k->n++;
    }
    return &k->rows[*slot];
}

static double clamp(double p)
{
    p = p < 1 - 1e-15 ? p : (isnan(p) ? p : 1 - 1e-15);
    return p > 1e-15 ? p : (isnan(p) ? p : 1e-15);
}

static void add(double *mean, double n, double e)
{
    *mean += (e - *mean) / n;
}

void rv_keym_update(rv_key_metrics *k, rv_flavor f, const char *key, size_t len, const rv_value *y,
                    const rv_prediction *p)
{
    double e1, e2, e3 = 0;
    int t = 0, pp = 0; /* binary: truth and prediction are True */
    if (f == RV_FLAVOR_REGRESSION) {
        double yt, yp;
        if (rv_metric_regression_input(y, p, &yt, &yp, NULL) != RV_OK)
            return;
        double d = fabs(yt - yp), den = fabs(yt) + fabs(yp);
        e1 = d;
        e2 = (yt - yp) * (yt - yp);
        e3 = den == 0 ? 0.0 : 2.0 * d / den;
    } else {
        rv_sym truth, pred;
        double pt = 0;
        if (rv_metric_class_input(y, p, &truth, &pred, &pt, NULL) != RV_OK)
            return;
        e1 = truth == pred;
        e2 = -log(clamp(pt));
        t = truth == rv_label_true();
        pp = pred == rv_label_true();
    }
    rv_key_row *r = row_for(k, key, len);
    if (!r)
        return;
    r->n += 1;
    add(&r->m1, r->n, e1);
    add(&r->m2, r->n, e2);
    if (f == RV_FLAVOR_REGRESSION) {
        add(&r->m3, r->n, e3);
    } else if (f == RV_FLAVOR_BINARY) {
        r->tp += t && pp;
        r->fp += !t && pp;
        r->fn += t && !pp;
    }
}

static double ratio(double a, double b)
{
    return b == 0 ? 0.0 : a / b;
}

/* The value of metric i of the flavor's per-key metrics, NAN if none. */
double rv_keym_value(const rv_key_row *r, rv_flavor f, int i)
{
    if (r->n == 0)
        return NAN;
    if (f == RV_FLAVOR_REGRESSION) {
        double v[] = {r->m1, rv_pow_half(r->m2), 100 * r->m3};
        return i >= 0 && i < 3 ? v[i] : NAN;
    }
    if (i == 0 || i == 1)
        return i == 0 ? r->m1 : r->m2;
    if (f != RV_FLAVOR_BINARY)
        return NAN;
    double pr = ratio(r->tp, r->tp + r->fp), re = ratio(r->tp, r->tp + r->fn);
    double v[] = {pr, re, ratio(2 * pr * re, pr + re)};
    return i >= 2 && i < 5 ? v[i - 2] : NAN;
}

const char *rv_keym_name(rv_flavor f, int i)
{
    static const char *const reg[] = {"MAE", "RMSE", "SMAPE", NULL};
    static const char *const bin[] = {"Accuracy", "LogLoss", "Precision", "Recall", "F1", NULL};
    static const char *const mul[] = {"Accuracy", "CrossEntropy", NULL};
    const char *const *names = f == RV_FLAVOR_REGRESSION ? reg : f == RV_FLAVOR_BINARY ? bin : mul;
    for (int k = 0; k <= i; k++)
        if (!names[k])
            return NULL;
    return names[i];
}

json_t *rv_keym_to_json(const rv_key_row *r, rv_flavor f)
{
    json_t *o = json_object();
    for (int i = 0; o && rv_keym_name(f, i); i++) {
        double v = rv_keym_value(r, f, i);
        json_object_set_new(o, rv_keym_name(f, i), isfinite(v) ? json_real(v) : json_null());
    }
    return o;
}

rv_status rv_keym_save(const rv_key_metrics *k, rv_buf *out)
{
    rv_buf_put_u32(out, k->n);
    for (uint32_t i = 0; i < rv_strmap_capacity_used(&k->idx); i++) {
        uint32_t len;
        const char *key = rv_strmap_key_at(&k->idx, i, &len);
        if (!key)
            continue;
        const rv_key_row *r = &k->rows[*rv_strmap_val_at((rv_strmap *)&k->idx, i)];
        rv_buf_put_bytes(out, key, len);
        double v[] = {r->n, r->m1, r->m2, r->m3, r->tp, r->fp, r->fn};
        for (int j = 0; j < 7; j++)
            rv_buf_put_f64(out, v[j]);
    }
    return out->oom ? RV_ENOMEM : RV_OK;
}

rv_status rv_keym_load(rv_key_metrics *k, rv_reader *in)
{
    uint32_t n = rv_reader_count(in, 4 + 7 * 8);
    for (uint32_t i = 0; i < n && in->status == RV_OK; i++) {
        uint32_t len;
        const char *key = rv_reader_bytes(in, &len, 1u << 20);
        double v[7];
        for (int j = 0; j < 7; j++)
            v[j] = rv_reader_f64(in);
        if (in->status != RV_OK)
            break;
        rv_key_row *r = row_for(k, key, len);
        if (!r)
            return RV_ENOMEM;
        *r = (rv_key_row){v[0], v[1], v[2], v[3], v[4], v[5], v[6]};
    }
    return in->status;
}
