/* linear_model.PARegressor(C=1.0, mode=1, eps=0.1, learn_intercept=True) and
 * linear_model.PAClassifier(C=1.0, mode=1, learn_intercept=True): online
 * passive-aggressive learning (Crammer et al. 2006), as in creme 0.5.1 /
 * River linear_model/pa.py.
 *
 *   raw(x)  = dot(x, weights) + intercept       (note creme's argument order:
 *                                               the sum runs over x unless the
 *                                               weights are fewer, dot.c)
 *   |x|^2   = (sum x_i ** 2) ** 0.5 ** 2        (creme's norm, then squared)
 *   tau     = mode 0: loss / |x|^2                  (0 when |x|^2 == 0)
 *             mode 1: min(C, loss / |x|^2)          (0 when |x|^2 == 0)
 *             mode 2: loss / (|x|^2 + 0.5 / C)
 *   regressor:   loss = max(0, |y - raw| - eps),  step = tau * sign(y - raw)
 *   classifier:  s = +1 for True, -1 for False,
 *                loss = max(0, 1 - s * raw) (hinge), step = tau * s
 *   then w_i += step * x_i for every usable feature (created at 0), and
 *   intercept += step when learn_intercept.
 *
 * predict: the regressor returns raw(x); the classifier p = sigmoid(raw(x))
 * as {False: 1 - p, True: p}, num = p.
 * Deviation: creme 0.5.1's EpsilonInsensitiveHinge maps a target of exactly
 * 0 to -1 (`y_true or -1`, a leftover of the hinge loss); the regressor here
 * uses the textbook loss with the real target.
 *
 * State snapshot: u8 version (1) | f64 intercept | rv_weights (stride 1).
 */
#include "linear_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { PA_VERSION = 1 };

typedef struct rv_pa {
    rv_linear_head h;
    double C, eps;
    long mode;
    int learn_intercept;
} rv_pa;

static int is_binary(const rv_object *o) { return ((const linear_class_ops *)o->cls->ops)->binary; }

static double raw(const rv_pa *m, const rv_event *x)
{
    return rv_linear_dot(&m->h.w, x, 0) + m->h.intercept;
}

static double norm2(const rv_event *x)
{
    double s = 0.0;
    for (uint32_t k = 0; k < x->n; k++)
        if (rv_feature_is_linear(&x->items[k]))
            s += x->items[k].num * x->items[k].num;
    double n = rv_pow_half(s);
    return n * n;
}

static double tau_of(const rv_pa *m, const rv_event *x, double loss)
{
    double n2 = norm2(x);
    if (m->mode == 2)
        return loss / (n2 + 0.5 / m->C);
    if (!(n2 > 0))
        return 0.0;
    double t = loss / n2;
    return m->mode == 1 && !(t < m->C) ? m->C : t;
}

static double sign(double v) { return v > 0 ? 1.0 : v < 0 ? -1.0 : v; }

static rv_status learn(rv_object *self, const rv_event *x, const rv_value *y, rv_error *err)
{
    rv_pa *m = (rv_pa *)self;
    double yt;
    if (rv_linear_target(y, is_binary(self), &yt, err))
        return err ? err->code : RV_EINVAL;
    double p = raw(m, x), step;
    if (is_binary(self)) {
        double s = yt ? 1.0 : -1.0;
        step = tau_of(m, x, fmax(0.0, 1.0 - s * p)) * s;
    } else {
        step = tau_of(m, x, fmax(0.0, fabs(yt - p) - m->eps)) * sign(yt - p);
    }
    uint32_t cur = 0;
    for (uint32_t k = 0; k < x->n; k++) {
        const rv_feature *f = &x->items[k];
        if (!rv_feature_is_linear(f))
            continue;
        double *e = rv_weights_slot(&m->h.w, f->name, 0.0, &cur);
        if (!e)
            return rv_error_set(err, RV_ENOMEM, "out of memory growing weights");
        e[0] = e[0] + step * f->num;
    }
    if (m->learn_intercept)
        m->h.intercept = m->h.intercept + step;
    return RV_OK;
}

static rv_status predict(rv_object *self, const rv_event *x, rv_prediction *out, rv_error *err)
{
    double p = raw((rv_pa *)self, x);
    if (!is_binary(self)) {
        rv_prediction_set_num(out, p);
        return RV_OK;
    }
    if (rv_linear_predict_proba(out, rv_sigmoid(p)))
        return rv_error_set(err, RV_ENOMEM, "out of memory writing a prediction");
    return RV_OK;
}

/* ===== Object life cycle ===== */

static const char *const reg_names[] = {"C", "mode", "eps", "learn_intercept", NULL};
static const char *const clf_names[] = {"C", "mode", "learn_intercept", NULL};

static rv_object *pa_create(const rv_class *cls, const rv_args *a, rv_error *err)
{
    const char *const *names = ((const linear_class_ops *)cls->ops)->binary ? clf_names : reg_names;
    if (rv_args_check(a, names, err))
        return NULL;
    rv_pa p = {.h.base.cls = cls};
    if (rv_args_get_num(a, names, "C", 1.0, &p.C, err) ||
        rv_args_get_int(a, names, "mode", 1, 0, 2, &p.mode, err) ||
        (!((const linear_class_ops *)cls->ops)->binary &&
         rv_args_get_num(a, names, "eps", 0.1, &p.eps, err)) ||
        rv_args_get_bool(a, names, "learn_intercept", 1, &p.learn_intercept, err))
        return NULL;
    if (!(p.C > 0) || !isfinite(p.C)) {
        rv_args_error(a, rv_args_find(a, names, "C"), err, RV_EINVAL,
                      "argument 'C' must be a finite positive number");
        return NULL;
    }
    if (!(p.eps >= 0) || !isfinite(p.eps)) {
        rv_args_error(a, rv_args_find(a, names, "eps"), err, RV_EINVAL,
                      "argument 'eps' must be a finite number >= 0");
        return NULL;
    }
    rv_pa *m = malloc(sizeof *m);
    if (!m) {
        rv_error_set(err, RV_ENOMEM, "out of memory creating %s", cls->name);
        return NULL;
    }
    *m = p;
    rv_weights_init(&m->h.w, 0);
    return &m->h.base;
}

static rv_object *duplicate(const rv_object *self, int with_state, rv_error *err)
{
    const rv_pa *src = (const rv_pa *)self;
    rv_pa *m = malloc(sizeof *m);
    if (!m) {
        rv_error_set(err, RV_ENOMEM, "out of memory copying %s", self->cls->name);
        return NULL;
    }
    *m = *src;
    rv_weights_init(&m->h.w, 0);
    m->h.intercept = with_state ? src->h.intercept : 0.0;
    if (with_state && rv_weights_copy(&m->h.w, &src->h.w)) {
        free(m);
        rv_error_set(err, RV_ENOMEM, "out of memory copying weights");
        return NULL;
    }
    return &m->h.base;
}

static rv_object *clone(const rv_object *self, rv_error *err) { return duplicate(self, 0, err); }

static rv_object *copy(const rv_object *self, rv_error *err) { return duplicate(self, 1, err); }

static rv_status save(const rv_object *self, rv_buf *out)
{
    const rv_pa *m = (const rv_pa *)self;
    rv_buf_put_u8(out, PA_VERSION);
    rv_buf_put_f64(out, m->h.intercept);
    return rv_weights_save(&m->h.w, out);
}

static rv_status load(rv_object *self, rv_reader *in)
{
    rv_pa *m = (rv_pa *)self;
    if (rv_reader_u8(in) != PA_VERSION && in->status == RV_OK) {
        rv_reader_fail(in, "unknown PA state version");
        in->status = RV_EVERSION;
    }
    m->h.intercept = rv_reader_f64(in);
    return in->status == RV_OK ? rv_weights_load(&m->h.w, in) : in->status;
}

static rv_status describe(const rv_object *self, rv_buf *out)
{
    const rv_pa *m = (const rv_pa *)self;
    rv_describer d;
    rv_describe_open(&d, out, self);
    if (m->C != 1.0)
        rv_describe_num(&d, "C", m->C);
    if (m->mode != 1)
        rv_describe_int(&d, "mode", m->mode);
    if (!is_binary(self) && m->eps != 0.1)
        rv_describe_num(&d, "eps", m->eps);
    if (!m->learn_intercept)
        rv_describe_bool(&d, "learn_intercept", 0);
    return rv_describe_close(&d);
}

static size_t memory(const rv_object *self)
{
    return sizeof(rv_pa) + rv_weights_memory(&((const rv_pa *)self)->h.w);
}

static void destroy(rv_object *self)
{
    rv_weights_free(&((rv_pa *)self)->h.w);
    free(self);
}

static const linear_class_ops reg_ops = {.est = {.learn = learn, .predict = predict},
                                         .binary = 0, .passive = 1};
static const linear_class_ops clf_ops = {.est = {.learn = learn, .predict = predict},
                                         .binary = 1, .passive = 1};

/* The class entries both classes share. */
#define PA_CLASS_FUNCS                                                                             \
    .clone = clone, .copy = copy, .save = save, .load = load, .describe = describe,               \
    .memory = memory, .destroy = destroy

static rv_object *reg_create(const rv_args *a, rv_error *err);
static rv_object *clf_create(const rv_args *a, rv_error *err);

const rv_class rv_class_linear_model_pa_regressor = {
    .kind = RV_CLASS_ESTIMATOR,
    .module = "linear_model",
    .name = "PARegressor",
    .flags = RV_F_REGRESSOR,
    .doc = "Passive-aggressive regression (epsilon-insensitive)",
    .create = reg_create,
    PA_CLASS_FUNCS,
    .ops = &reg_ops,
};

const rv_class rv_class_linear_model_pa_classifier = {
    .kind = RV_CLASS_ESTIMATOR,
    .module = "linear_model",
    .name = "PAClassifier",
    .flags = RV_F_CLASSIFIER | RV_F_BINARY_ONLY,
    .doc = "Passive-aggressive binary classification (hinge)",
    .create = clf_create,
    PA_CLASS_FUNCS,
    .ops = &clf_ops,
};

static rv_object *reg_create(const rv_args *a, rv_error *err)
{
    return pa_create(&rv_class_linear_model_pa_regressor, a, err);
}

static rv_object *clf_create(const rv_args *a, rv_error *err)
{
    return pa_create(&rv_class_linear_model_pa_classifier, a, err);
}
