/* Generalised linear model: the engine of LinearRegression and
 * LogisticRegression, following creme 0.5.1 linear_model/glm.py exactly
 * (SPEC.md §7 of the reference: bit-for-bit parity is tested).
 *
 *   raw(x)    = dot(weights, x) + intercept        (creme's dot order, dot.c)
 *   learn(x, y):
 *     g   = loss.gradient(y, raw(x))
 *     g   = max(min(g, clip), -clip)               (Python min/max: NaN passes)
 *     intercept -= intercept_lr(t) * g             t = optimizer's step count,
 *                                                  BEFORE the weights step
 *     optimizer step with grad_i = x_i * g + 2 * l2 * w_i   (w_i = 0 if absent)
 *     t += 1
 *
 * Weights are created by the first learn that sees a feature (at the
 * initializer's value, then stepped), so the first prediction is exactly
 * 0.0 + intercept. The sample weight of creme's fit_one is always 1 here.
 *
 * State snapshot:
 *   u8 version (1) | f64 intercept | optimizer state | rv_weights
 * Parameters are not saved: a snapshot loads into a clone of the model
 * built from its description.
 */
#include "glm.h"
#include "core/prefetch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { GLM_VERSION = 1 };

static const char *const names[] = {"optimizer", "loss", "l2", "intercept", "intercept_lr",
                                    "clip_gradient", "initializer", NULL};

double glm_raw(const rv_glm *m, const rv_event *x)
{
    return rv_linear_dot(&m->h.w, x, 1) + m->h.intercept;
}

static double clamp(double g, double clip)
{
    double lo = g;
    if (clip < lo) /* min(g, clip) keeps g unless clip is smaller */
        lo = clip;
    if (-clip > lo) /* max(., -clip) keeps it unless -clip is larger */
        lo = -clip;
    return lo;
}

rv_status glm_learn(rv_object *self, const rv_event *x, const rv_value *y, rv_error *err)
{
    rv_glm *m = (rv_glm *)self;
    double yt;
    if (rv_linear_target(y, rv_loss_is_binary(m->loss), &yt, err))
        return err ? err->code : RV_EINVAL;
    double g = clamp(rv_loss_gradient(m->loss, yt, glm_raw(m, x)), m->clip);
    double ilr = rv_scheduler_get(m->intercept_lr, rv_optimizer_iterations(m->optimizer));
    m->h.intercept = m->h.intercept - ilr * g;
    rv_linear_grad grad = {.x = x, .g = g, .l2 = m->l2, .init = m->init};
    return rv_optimizer_step(m->optimizer, &m->h.w, &grad, err);
}

/* ===== Creation ===== */

static rv_status take(const rv_args *a, const char *name, rv_class_kind kind, rv_object **out,
                      rv_object *(*dflt)(void *ctx, rv_error *err), void *ctx, rv_error *err)
{
    if (rv_args_take_obj(a, names, name, kind, out, err))
        return err ? err->code : RV_EINVAL;
    if (!*out)
        *out = dflt(ctx, err);
    return *out ? RV_OK : err ? err->code : RV_ENOMEM;
}

static rv_object *default_optimizer(void *ctx, rv_error *err)
{
    return ((const glm_defaults *)ctx)->optimizer(err);
}

static rv_object *default_loss(void *ctx, rv_error *err)
{
    return rv_optim_new(((const glm_defaults *)ctx)->loss, RV_CLASS_LOSS, NULL, 0, err);
}

static rv_object *default_intercept_lr(void *ctx, rv_error *err)
{
    (void)ctx;
    return rv_optim_new("optim.schedulers.Constant", RV_CLASS_SCHEDULER, (double[]){0.01}, 1, err);
}

static rv_object *default_initializer(void *ctx, rv_error *err)
{
    (void)ctx;
    return rv_optim_new("optim.initializers.Zeros", RV_CLASS_INITIALIZER, NULL, 0, err);
}

static rv_status read_numbers(rv_glm *m, const rv_args *a, rv_error *err)
{
    if (rv_args_get_num(a, names, "l2", 0.0, &m->l2, err) ||
        rv_args_get_num(a, names, "intercept", 0.0, &m->intercept_init, err) ||
        rv_args_get_num(a, names, "clip_gradient", 1e12, &m->clip, err))
        return err ? err->code : RV_EINVAL;
    if (!(m->l2 >= 0) || !isfinite(m->l2))
        return rv_args_error(a, rv_args_find(a, names, "l2"), err, RV_EINVAL,
                             "argument 'l2' must be a finite number >= 0");
    if (!isfinite(m->intercept_init))
        return rv_args_error(a, rv_args_find(a, names, "intercept"), err, RV_EINVAL,
                             "argument 'intercept' must be finite");
    if (!(m->clip > 0))
        return rv_args_error(a, rv_args_find(a, names, "clip_gradient"), err, RV_EINVAL,
                             "argument 'clip_gradient' must be positive");
    return RV_OK;
}

static rv_status check_loss(const rv_class *cls, const rv_glm *m, const rv_args *a, rv_error *err)
{
    int want = ((const linear_class_ops *)cls->ops)->binary;
    if (rv_loss_is_binary(m->loss) != want)
        return rv_args_error(a, rv_args_find(a, names, "loss"), err, RV_EINVAL,
                             "%s needs a %s loss, not %s", cls->name,
                             want ? "binary" : "regression", m->loss->cls->name);
    return RV_OK;
}

rv_object *glm_create(const rv_class *cls, const glm_defaults *d, const rv_args *a, rv_error *err)
{
    if (rv_args_check(a, names, err))
        return NULL;
    rv_glm *m = calloc(1, sizeof *m);
    if (!m) {
        rv_error_set(err, RV_ENOMEM, "out of memory creating %s", cls->name);
        return NULL;
    }
    m->h.base.cls = cls;
    void *ctx = (void *)d;
    rv_status s = read_numbers(m, a, err);
    if (!s)
        s = take(a, "optimizer", RV_CLASS_OPTIMIZER, &m->optimizer, default_optimizer, ctx, err);
    if (!s)
        s = take(a, "loss", RV_CLASS_LOSS, &m->loss, default_loss, ctx, err);
    if (!s)
        s = check_loss(cls, m, a, err);
    if (!s)
        s = take(a, "intercept_lr", RV_CLASS_SCHEDULER, &m->intercept_lr, default_intercept_lr,
                 ctx, err);
    if (!s)
        s = take(a, "initializer", RV_CLASS_INITIALIZER, &m->initializer, default_initializer,
                 ctx, err);
    if (s) {
        glm_destroy(&m->h.base);
        return NULL;
    }
    m->init = rv_initializer_value(m->initializer);
    m->h.intercept = m->intercept_init;
    rv_weights_init(&m->h.w, rv_optimizer_state_size(m->optimizer));
    return &m->h.base;
}

/* ===== Clone, copy, destroy ===== */

static rv_object *dup_obj(const rv_object *o, int with_state, rv_error *err)
{
    return with_state ? rv_object_copy(o, err) : rv_object_clone(o, err);
}

static rv_object *duplicate(const rv_object *self, int with_state, rv_error *err)
{
    const rv_glm *src = (const rv_glm *)self;
    rv_glm *m = calloc(1, sizeof *m);
    if (!m) {
        rv_error_set(err, RV_ENOMEM, "out of memory copying %s", self->cls->name);
        return NULL;
    }
    *m = *src;
    memset(&m->h.w, 0, sizeof m->h.w);
    m->optimizer = m->loss = m->intercept_lr = m->initializer = NULL;
    rv_weights_init(&m->h.w, src->h.w.stride - 1);
    m->h.intercept = with_state ? src->h.intercept : src->intercept_init;
    int ok = (m->optimizer = dup_obj(src->optimizer, with_state, err)) &&
             (m->loss = dup_obj(src->loss, with_state, err)) &&
             (m->intercept_lr = dup_obj(src->intercept_lr, with_state, err)) &&
             (m->initializer = dup_obj(src->initializer, with_state, err));
    if (ok && with_state && rv_weights_copy(&m->h.w, &src->h.w)) {
        rv_error_set(err, RV_ENOMEM, "out of memory copying weights");
        ok = 0;
    }
    if (!ok) {
        glm_destroy(&m->h.base);
        return NULL;
    }
    return &m->h.base;
}

rv_object *glm_clone(const rv_object *self, rv_error *err) { return duplicate(self, 0, err); }

rv_object *glm_copy(const rv_object *self, rv_error *err) { return duplicate(self, 1, err); }

void glm_destroy(rv_object *self)
{
    rv_glm *m = (rv_glm *)self;
    rv_object_free(m->optimizer);
    rv_object_free(m->loss);
    rv_object_free(m->intercept_lr);
    rv_object_free(m->initializer);
    rv_weights_free(&m->h.w);
    free(m);
}

size_t glm_memory(const rv_object *self)
{
    const rv_glm *m = (const rv_glm *)self;
    return sizeof *m + rv_weights_memory(&m->h.w) + rv_object_memory(m->optimizer) +
           rv_object_memory(m->loss) + rv_object_memory(m->intercept_lr) +
           rv_object_memory(m->initializer);
}

/* ===== Save, load ===== */

rv_status glm_save(const rv_object *self, rv_buf *out)
{
    const rv_glm *m = (const rv_glm *)self;
    rv_buf_put_u8(out, GLM_VERSION);
    rv_buf_put_f64(out, m->h.intercept);
    if (m->optimizer->cls->save(m->optimizer, out))
        return RV_ENOMEM;
    return rv_weights_save(&m->h.w, out);
}

rv_status glm_load(rv_object *self, rv_reader *in)
{
    rv_glm *m = (rv_glm *)self;
    uint8_t version = rv_reader_u8(in);
    if (in->status == RV_OK && version != GLM_VERSION) {
        rv_reader_fail(in, "unknown linear model state version");
        in->status = RV_EVERSION;
    }
    m->h.intercept = rv_reader_f64(in);
    if (in->status == RV_OK) {
        rv_status s = m->optimizer->cls->load(m->optimizer, in);
        if (s && in->status == RV_OK)
            return s;
    }
    if (in->status == RV_OK)
        return rv_weights_load(&m->h.w, in);
    return in->status;
}

/* ===== Describe ===== */

/* Writes name=<object> unless it describes as the default would. */
static void describe_unless_default(rv_describer *d, const char *name, const rv_object *o,
                                    rv_object *dflt)
{
    rv_buf mine, theirs;
    rv_buf_init(&mine);
    rv_buf_init(&theirs);
    rv_object_describe(o, &mine);
    if (dflt)
        rv_object_describe(dflt, &theirs);
    if (!dflt || strcmp(rv_buf_cstr(&mine), rv_buf_cstr(&theirs)) != 0)
        rv_describe_raw(d, name, rv_buf_cstr(&mine));
    rv_buf_free(&mine);
    rv_buf_free(&theirs);
    rv_object_free(dflt);
}

static void describe_lr(rv_describer *d, const char *name, const rv_object *lr, double dflt)
{
    extern const rv_class rv_class_optim_schedulers_constant;
    if (lr->cls != &rv_class_optim_schedulers_constant) {
        rv_describe_obj(d, name, lr);
        return;
    }
    double v = rv_scheduler_get(lr, 0);
    if (memcmp(&v, &dflt, sizeof v) != 0)
        rv_describe_num(d, name, v);
}

rv_status glm_describe_with(const rv_object *self, const glm_defaults *dd, rv_buf *out)
{
    const rv_glm *m = (const rv_glm *)self;
    void *ctx = (void *)dd;
    rv_describer d;
    rv_describe_open(&d, out, self);
    describe_unless_default(&d, "optimizer", m->optimizer, default_optimizer(ctx, NULL));
    describe_unless_default(&d, "loss", m->loss, default_loss(ctx, NULL));
    if (m->l2 != 0.0)
        rv_describe_num(&d, "l2", m->l2);
    if (m->intercept_init != 0.0)
        rv_describe_num(&d, "intercept", m->intercept_init);
    describe_lr(&d, "intercept_lr", m->intercept_lr, 0.01);
    if (m->clip != 1e12)
        rv_describe_num(&d, "clip_gradient", m->clip);
    describe_unless_default(&d, "initializer", m->initializer, default_initializer(ctx, NULL));
    return rv_describe_close(&d);
}

void glm_prefetch(const rv_object *self)
{
    const rv_glm *m = (const rv_glm *)self;
    __builtin_prefetch(m->optimizer);
    __builtin_prefetch(m->loss);
    __builtin_prefetch(m->intercept_lr);
    __builtin_prefetch(m->initializer);
    const rv_weights *w = &m->h.w;
    rv_prefetch_range(w->keys, w->n * sizeof *w->keys);
    rv_prefetch_range(w->data, (size_t)w->n * w->stride * sizeof *w->data);
}
