/* preprocessing.StandardScaler: centre and scale each numeric feature by its
 * running mean and sample standard deviation. Follows creme 0.5.1
 * (preprocessing/scale.py L69-155, stats/var.pyx L46-57, stats/mean.pyx
 * L42-45), bit for bit (SPEC.md section 5).
 *
 * State per feature: n, mean, and sigma, which is directly the sample
 * variance (ddof = 1), not a sum of squares.
 *
 *   learn:      old = mean; n += 1; mean += (v - mean) / n
 *               if n > 1: sigma += ((v - old) * (v - mean) - sigma) / (n - 1)
 *   transform:  out = safe_div(v - mean, sigma ** 0.5)
 *               safe_div(a, b) = a if b == 0 else a / b
 *
 * sigma ** 0.5 is CPython's pow(sigma, 0.5); rv_pow_half equals it bit for bit.
 *
 * Edge cases:
 *   - one observation or constant values: sigma = 0, out = v - mean (0.0 for
 *     the value just learned: creme's pipeline learns before transforming);
 *   - a feature never learned transforms as creme's fresh Var: v - 0 = v;
 *   - NaN or inf learned poison that feature's mean as in creme (no crash);
 *   - string features keep no state and pass through unchanged (creme would
 *     raise on them; River users put a OneHotEncoder beside the scaler).
 * with_std=False (River's parameter) outputs v - mean. */
#include "preprocessing/scaler.h"
#include "rivulet/preprocessing.h"

#include <stdlib.h>

enum { N, MEAN, SIGMA };
static const double fresh[3] = {0.0, 0.0, 0.0};
static const char *const params[] = {"with_std", NULL};

static void update(double *st, double v)
{
    double old = st[MEAN];
    st[N] += 1;
    st[MEAN] += (v - st[MEAN]) / st[N];
    if (st[N] > 1)
        st[SIGMA] += ((v - old) * (v - st[MEAN]) - st[SIGMA]) / (st[N] - 1);
}

static rv_status learn(rv_object *self, const rv_event *x, const rv_value *y, rv_error *err)
{
    return rv_scaler_learn((rv_scaler *)self, x, update, err);
}

static double scale(const rv_scaler *s, const double *st, double v)
{
    double t = v - st[MEAN];
    return s->with_std ? rv_safe_div(t, rv_pow_half(st[SIGMA])) : t;
}

enum { CHUNK = 32 };

/* The roots of up to CHUNK features at once (rv_pow_half_n vectorises
 * them), then each value: the same rule as scale(), feature by feature. */
static rv_status transform(rv_object *self, const rv_event *x, rv_event *out, rv_error *err)
{
    rv_scaler *s = (rv_scaler *)self;
    if (!s->with_std)
        return rv_scaler_transform(s, x, out, scale, err);
    if (rv_event_assign(out, x))
        return rv_error_set(err, RV_ENOMEM, "%s: out of memory", s->base.cls->name);
    uint32_t idx[CHUNK];
    const double *st[CHUNK];
    double root[CHUNK];
    for (uint32_t i = 0; i < x->n;) {
        uint32_t m = 0;
        for (; i < x->n && m < CHUNK; i++)
            if (x->items[i].kind == RV_NUM) {
                idx[m] = i;
                st[m] = rv_scaler_state(s, rv_slots_find_at(&s->slots, x, i));
                root[m] = st[m][SIGMA];
                m++;
            }
        rv_pow_half_n(root, root, m);
        for (uint32_t j = 0; j < m; j++) {
            rv_feature *ft = &out->items[idx[j]];
            ft->num = rv_safe_div(ft->num - st[j][MEAN], root[j]);
        }
    }
    return RV_OK;
}

static rv_object *create(const rv_args *args, rv_error *err)
{
    rv_scaler *s =
        rv_scaler_create(&rv_class_preprocessing_StandardScaler, args, params, 3, fresh, err);
    if (s && rv_args_get_bool(args, params, "with_std", 1, &s->with_std, err)) {
        rv_scaler_destroy(&s->base);
        return NULL;
    }
    return s ? &s->base : NULL;
}

static const rv_estimator_ops ops = {.learn = learn, .transform = transform,
                                      .prefetch = rv_scaler_prefetch};

const rv_class rv_class_preprocessing_StandardScaler = {
    .kind = RV_CLASS_ESTIMATOR,
    .module = "preprocessing",
    .name = "StandardScaler",
    .flags = RV_F_TRANSFORMER,
    .doc = "Scale each feature to zero mean and unit sample variance (creme 0.5.1)",
    .create = create,
    RV_SCALER_CLASS_OPS,
    .ops = &ops,
};
