/* stats.Quantile: running quantile estimate with the P-square algorithm
 * (Jain & Chlamtac 1985), exactly as creme 0.5.1 / River (stats/quantile.py,
 * itself after LiveStats). Five markers: heights h[0..4], integer positions
 * n[0..4] = 1..5, desired positions d[0..4] = 1, 1+2q, 1+4q, 3+2q, 5, moved by
 * dd = 0, q/2, q, (1+q)/2, 1 per observation.
 *
 *   first 5 values: stored in h (unsorted)
 *   then, per x (h sorted once on the 6th value):
 *     k: x < h0 -> h0 = x, k = 1;  else the first i in 1..4 with h[i-1] <= x < h[i];
 *        else k = 4 (and h4 = x if x > h4)
 *     n[i] += 1 for i >= k;  d[i] += dd[i] for all i
 *     for i in 1..3: e = d[i] - n[i]; if (e >= 1 and n[i+1] - n[i] > 1) or
 *        (e <= -1 and n[i-1] - n[i] < -1): s = sign(e);
 *        parabolic qn = h + s/(n+ - n-) * ((n - n- + s)(h+ - h)/(n+ - n) + (n+ - n - s)(h - h-)/(n - n-));
 *        h[i] = qn if h- < qn < h+ else h + s (h[i+s] - h) / (n[i+s] - n);  n[i] += s
 *   get: h[2] once sorted; with 1..5 values the sorted value at index
 *        int(min(len - 1, len * q)); 0 when empty (creme).
 *
 * q in (0, 1) (creme rejects 0 and 1), default 0.5 (River). NaN inputs are
 * ignored (creme's comparisons would silently misplace them). Weights are
 * ignored. Not revertible. Name (creme): "quantile".
 * State saved: u8 count (0..5), u8 sorted, then h, n, d (5 f64 each). */
#include "internal.h"

#include <math.h>
#include <string.h>

typedef struct {
    rv_object obj;
    double q;
    double dd[5];
    double h[5], n[5], d[5];
    uint8_t count, sorted;
} quantile_t;

RV_STAT_FLAT(quantile, quantile_t)

extern const rv_class rv_class_stats_Quantile;
static const char *const quantile_args[] = {"q", NULL};

static rv_object *quantile_make(double q, rv_error *err)
{
    quantile_t *s = (quantile_t *)rv_stat_alloc(&rv_class_stats_Quantile, sizeof(quantile_t), err);
    if (!s)
        return NULL;
    s->q = q;
    double dd[5] = {0, q / 2, q, (1 + q) / 2, 1}, d[5] = {1, 1 + 2 * q, 1 + 4 * q, 3 + 2 * q, 5};
    memcpy(s->dd, dd, sizeof dd);
    memcpy(s->d, d, sizeof d);
    for (int i = 0; i < 5; i++)
        s->n[i] = i + 1;
    return (rv_object *)s;
}

static rv_object *quantile_create(const rv_args *a, rv_error *err)
{
    double q;
    if (rv_args_check(a, quantile_args, err) ||
        rv_args_get_num(a, quantile_args, "q", 0.5, &q, err))
        return NULL;
    if (!(q > 0 && q < 1)) {
        rv_args_error(a, rv_args_find(a, quantile_args, "q"), err, RV_EINVAL,
                      "q must be strictly between 0 and 1, not %g", q);
        return NULL;
    }
    return quantile_make(q, err);
}

static rv_object *quantile_clone(const rv_object *o, rv_error *err)
{
    return quantile_make(((const quantile_t *)o)->q, err);
}

/* Stable insertion sort (Python's sort is stable too; equal values keep order). */
static void sort5(double *v, int n)
{
    for (int i = 1; i < n; i++) {
        double x = v[i];
        int j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

static int find_k(quantile_t *s, double x)
{
    if (x < s->h[0]) {
        s->h[0] = x;
        return 1;
    }
    for (int i = 1; i < 5; i++)
        if (s->h[i - 1] <= x && x < s->h[i])
            return i;
    if (s->h[4] < x)
        s->h[4] = x;
    return 4;
}

static double p2(double qp1, double q, double qm1, double d, double np1, double n, double nm1)
{
    double outer = d / (np1 - nm1);
    double inner_left = (n - nm1 + d) * (qp1 - q) / (np1 - n);
    double inner_right = (np1 - n - d) * (q - qm1) / (n - nm1);
    return q + outer * (inner_left + inner_right);
}

static void adjust(quantile_t *s)
{
    for (int i = 1; i < 4; i++) {
        double n = s->n[i], q = s->h[i], e = s->d[i] - n;
        if ((e >= 1 && s->n[i + 1] - n > 1) || (e <= -1 && s->n[i - 1] - n < -1)) {
            int d = e > 0 ? 1 : -1;
            double qp1 = s->h[i + 1], qm1 = s->h[i - 1];
            double qn = p2(qp1, q, qm1, d, s->n[i + 1], n, s->n[i - 1]);
            if (qm1 < qn && qn < qp1)
                s->h[i] = qn;
            else
                s->h[i] = q + d * (s->h[i + d] - q) / (s->n[i + d] - n);
            s->n[i] = n + d;
        }
    }
}

static void quantile_update(rv_object *o, double x, double w)
{
    quantile_t *s = (quantile_t *)o;
    if (isnan(x))
        return;
    if (s->count < 5) {
        s->h[s->count++] = x;
        return;
    }
    if (!s->sorted) {
        sort5(s->h, 5);
        s->sorted = 1;
    }
    int k = find_k(s, x);
    for (int i = k; i < 5; i++)
        s->n[i] += 1;
    for (int i = 0; i < 5; i++)
        s->d[i] += s->dd[i];
    adjust(s);
}

static double quantile_get(const rv_object *o)
{
    const quantile_t *s = (const quantile_t *)o;
    if (s->sorted)
        return s->h[2];
    if (!s->count)
        return 0;
    double v[5];
    memcpy(v, s->h, sizeof v);
    sort5(v, s->count);
    double len = s->count, idx = len * s->q < len - 1 ? len * s->q : len - 1;
    return v[(int)idx];
}

static void quantile_name(const rv_object *o, rv_buf *out) { rv_buf_puts(out, "quantile"); }

static rv_status quantile_save(const rv_object *o, rv_buf *out)
{
    const quantile_t *s = (const quantile_t *)o;
    rv_buf_put_u8(out, s->count);
    rv_buf_put_u8(out, s->sorted);
    for (int i = 0; i < 5; i++) {
        rv_buf_put_f64(out, s->h[i]);
        rv_buf_put_f64(out, s->n[i]);
        rv_buf_put_f64(out, s->d[i]);
    }
    return out->oom ? RV_ENOMEM : RV_OK;
}

static rv_status quantile_load(rv_object *o, rv_reader *in)
{
    quantile_t *s = (quantile_t *)o;
    s->count = rv_reader_u8(in);
    s->sorted = rv_reader_u8(in);
    if (s->count > 5 || s->sorted > 1 || (s->sorted && s->count != 5))
        rv_reader_fail(in, "bad P-square marker count");
    for (int i = 0; i < 5; i++) {
        s->h[i] = rv_reader_f64(in);
        s->n[i] = rv_reader_f64(in);
        s->d[i] = rv_reader_f64(in);
    }
    return in->status;
}

static rv_status quantile_describe(const rv_object *o, rv_buf *out)
{
    rv_describer d;
    rv_describe_open(&d, out, o);
    if (((const quantile_t *)o)->q != 0.5)
        rv_describe_num(&d, "q", ((const quantile_t *)o)->q);
    return rv_describe_close(&d);
}

static const rv_stat_ops quantile_ops = {quantile_update, NULL, quantile_get, quantile_name};

const rv_class rv_class_stats_Quantile = {
    .kind = RV_CLASS_STAT,
    .module = "stats",
    .name = "Quantile",
    .doc = "Running quantile (P-square algorithm).",
    .create = quantile_create,
    .clone = quantile_clone,
    .copy = quantile_copy,
    .save = quantile_save,
    .load = quantile_load,
    .describe = quantile_describe,
    .memory = quantile_memory,
    .destroy = rv_stat_free_flat,
    .ops = &quantile_ops,
};
