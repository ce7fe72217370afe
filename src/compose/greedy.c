/* model_selection.GreedyRegressor(models, metric=metrics.MAE()) (River's
 * river/model_selection/greedy.py).
 *
 *   learn(x, y):  for each model i in order:
 *                     y_i = model_i.predict(x); metric_i.update(y, y_i);
 *                     model_i.learn(x, y);
 *                     if metric_i is better than metric_best: best = i
 *   predict(x):   model_best.predict(x)
 *
 * "Better" is strictly greater (bigger_is_better) or strictly smaller, so
 * ties keep the current best, and before any learning the best is model 0.
 * Each model gets a fresh clone of `metric`.
 *
 * Note: a model that learns during predict (a creme-mode pipeline with a
 * scaler) learns twice per row when the selector is itself predicted on and
 * then learned (the prediction inside learn is River's). */
#include "rivulet/compose.h"
#include "rivulet/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct greedy {
    rv_object base;
    uint32_t n, best;
    rv_object **models;
    rv_object **metrics;
    rv_object *metric; /* prototype */
} greedy;

extern const rv_class rv_class_model_selection_GreedyRegressor;

static const rv_metric_ops *mops(const rv_object *m) { return m->cls->ops; }

size_t rv_greedy_len(const rv_object *g) { return ((const greedy *)g)->n; }
size_t rv_greedy_best(const rv_object *g) { return ((const greedy *)g)->best; }
rv_object *rv_greedy_model(const rv_object *g, size_t i) { return ((const greedy *)g)->models[i]; }

double rv_greedy_metric(const rv_object *o, size_t i)
{
    const greedy *g = (const greedy *)o;
    return mops(g->metrics[i])->get(g->metrics[i]);
}

static void greedy_destroy(rv_object *self)
{
    greedy *g = (greedy *)self;
    for (uint32_t i = 0; i < g->n; i++) {
        rv_object_free(g->models ? g->models[i] : NULL);
        rv_object_free(g->metrics ? g->metrics[i] : NULL);
    }
    free(g->models);
    free(g->metrics);
    rv_object_free(g->metric);
    free(g);
}

rv_object *rv_greedy_regressor_new(rv_object **models, size_t n, rv_object *metric, rv_error *err)
{
    greedy *g = calloc(1, sizeof *g);
    rv_status bad = RV_OK;
    if (!metric)
        metric = rv_create("metrics.MAE", NULL, err);
    if (!g || !metric)
        bad = g ? (err ? err->code : RV_ENOTFOUND) : rv_error_set(err, RV_ENOMEM, "out of memory");
    else if (!n)
        bad = rv_error_set(err, RV_EINVAL, "GreedyRegressor: needs at least one model");
    else if (metric->cls->kind != RV_CLASS_METRIC || !(mops(metric)->works_with & RV_METRIC_REGRESSION))
        bad = rv_error_set(err, RV_EINVAL, "GreedyRegressor: %s is not a regression metric",
                           metric->cls->name);
    for (size_t i = 0; !bad && i < n; i++)
        if (!(rv_estimator_flags(models[i]) & RV_F_REGRESSOR))
            bad = rv_error_set(err, RV_EINVAL, "GreedyRegressor: model %zu (%s) is not a regressor",
                               i + 1, models[i] ? models[i]->cls->name : "None");
    if (!bad) {
        g->models = calloc(n, sizeof *g->models);
        g->metrics = calloc(n, sizeof *g->metrics);
        if (!g->models || !g->metrics)
            bad = rv_error_set(err, RV_ENOMEM, "out of memory");
    }
    if (bad) {
        for (size_t i = 0; i < n; i++)
            rv_object_free(models[i]);
        rv_object_free(metric);
        if (g) {
            free(g->models);
            free(g->metrics);
            free(g);
        }
        return NULL;
    }
    g->base.cls = &rv_class_model_selection_GreedyRegressor;
    g->metric = metric;
    g->n = (uint32_t)n;
    memcpy(g->models, models, n * sizeof *models);
    for (uint32_t i = 0; i < g->n; i++)
        if (!(g->metrics[i] = rv_object_clone(metric, err))) {
            greedy_destroy(&g->base);
            return NULL;
        }
    return &g->base;
}

static rv_object *greedy_dup(const rv_object *self, int copy, rv_error *err)
{
    const greedy *g = (const greedy *)self;
    rv_object **models = calloc(g->n, sizeof *models);
    rv_object *metric = rv_object_clone(g->metric, err);
    uint32_t i = 0;
    for (; models && metric && i < g->n; i++)
        if (!(models[i] = copy ? rv_object_copy(g->models[i], err) : rv_object_clone(g->models[i], err)))
            break;
    if (!models || !metric || i < g->n) {
        for (uint32_t j = 0; models && j < i; j++)
            rv_object_free(models[j]);
        free(models);
        rv_object_free(metric);
        if (!models)
            rv_error_set(err, RV_ENOMEM, "out of memory");
        return NULL;
    }
    greedy *c = (greedy *)rv_greedy_regressor_new(models, g->n, metric, err);
    free(models);
    if (c && copy) {
        for (uint32_t j = 0; j < g->n; j++) {
            rv_object *m = rv_object_copy(g->metrics[j], err);
            if (!m) {
                greedy_destroy(&c->base);
                return NULL;
            }
            rv_object_free(c->metrics[j]);
            c->metrics[j] = m;
        }
        c->best = g->best;
    }
    return c ? &c->base : NULL;
}

static rv_object *greedy_clone(const rv_object *self, rv_error *err) { return greedy_dup(self, 0, err); }
static rv_object *greedy_copy(const rv_object *self, rv_error *err) { return greedy_dup(self, 1, err); }

static rv_object *greedy_create(const rv_args *args, rv_error *err)
{
    static const char *const sig[] = {"models", "metric", NULL};
    if (rv_args_check(args, sig, err))
        return NULL;
    const rv_arg *list = rv_args_find(args, sig, "models");
    if (!list || list->kind != RV_ARG_LIST || !list->n) {
        rv_args_error(args, list, err, RV_EINVAL, "argument 'models' must be a non-empty list of regressors");
        return NULL;
    }
    rv_object *metric;
    if (rv_args_take_obj(args, sig, "metric", RV_CLASS_METRIC, &metric, err))
        return NULL;
    rv_object **models = calloc(list->n, sizeof *models);
    size_t i = 0;
    for (; models && i < list->n; i++) {
        const rv_arg *a = &list->items[i];
        if (a->kind != RV_ARG_OBJ) {
            rv_args_error(args, a, err, RV_ETYPE, "models must be estimators");
            break;
        }
        if (!(models[i] = rv_object_clone(a->obj, err)))
            break;
    }
    if (!models || i < list->n) {
        for (size_t j = 0; models && j < i; j++)
            rv_object_free(models[j]);
        free(models);
        rv_object_free(metric);
        if (!models)
            rv_error_set(err, RV_ENOMEM, "out of memory");
        return NULL;
    }
    rv_object *o = rv_greedy_regressor_new(models, list->n, metric, err);
    free(models);
    return o;
}

static int better(const rv_object *m, double a, double b)
{
    return mops(m)->bigger_is_better ? a > b : a < b;
}

static rv_status greedy_learn(rv_object *self, const rv_event *x, const rv_value *y, rv_error *err)
{
    greedy *g = (greedy *)self;
    rv_prediction pred;
    rv_prediction_init(&pred);
    rv_status s = RV_OK;
    for (uint32_t i = 0; i < g->n && s == RV_OK; i++) {
        /* one pass (a pipeline transforms x once); the metric needs only y
         * and the prediction made before the learn */
        s = rv_predict_learn(g->models[i], x, y, &pred, err);
        if (s == RV_OK)
            s = mops(g->metrics[i])->update(g->metrics[i], y, &pred, err);
        if (s == RV_OK && better(g->metrics[i], mops(g->metrics[i])->get(g->metrics[i]),
                                 mops(g->metrics[g->best])->get(g->metrics[g->best])))
            g->best = i;
    }
    rv_prediction_free(&pred);
    return s;
}

static rv_status greedy_predict(rv_object *self, const rv_event *x, rv_prediction *out, rv_error *err)
{
    greedy *g = (greedy *)self;
    return rv_estimator_predict(g->models[g->best], x, out, err);
}

/* Layout: u32 best, then per model: u32 length + model state, u32 length +
 * metric state. */
static rv_status greedy_save(const rv_object *self, rv_buf *out)
{
    const greedy *g = (const greedy *)self;
    rv_buf_put_u32(out, g->best);
    rv_buf sub;
    rv_buf_init(&sub);
    for (uint32_t i = 0; i < 2 * g->n; i++) {
        const rv_object *o = i % 2 ? g->metrics[i / 2] : g->models[i / 2];
        rv_buf_reset(&sub);
        if (o->cls->save(o, &sub) || sub.oom) {
            rv_buf_free(&sub);
            return RV_ENOMEM;
        }
        rv_buf_put_bytes(out, sub.data, (uint32_t)sub.len);
    }
    rv_buf_free(&sub);
    return out->oom ? RV_ENOMEM : RV_OK;
}

static rv_status greedy_load(rv_object *self, rv_reader *in)
{
    greedy *g = (greedy *)self;
    uint32_t best = rv_reader_u32(in);
    if (in->status == RV_OK && best >= g->n)
        rv_reader_fail(in, "GreedyRegressor: best model index out of range");
    for (uint32_t i = 0; i < 2 * g->n && in->status == RV_OK; i++) {
        rv_object *o = i % 2 ? g->metrics[i / 2] : g->models[i / 2];
        uint32_t len;
        const char *bytes = rv_reader_bytes(in, &len, UINT32_MAX);
        if (in->status)
            break;
        rv_reader sub;
        rv_reader_init(&sub, bytes, len);
        rv_status s = o->cls->load(o, &sub);
        if (s == RV_ENOMEM)
            return s;
        if (s || sub.status || sub.pos != sub.len)
            rv_reader_fail(in, "GreedyRegressor: bad model or metric state");
    }
    if (in->status == RV_OK)
        g->best = best;
    return in->status;
}

static rv_status greedy_describe(const rv_object *self, rv_buf *out)
{
    const greedy *g = (const greedy *)self;
    rv_describer d;
    rv_describe_open(&d, out, self);
    rv_buf list;
    rv_buf_init(&list);
    rv_buf_puts(&list, "[");
    for (uint32_t i = 0; i < g->n; i++) {
        rv_buf_puts(&list, i ? ", " : "");
        rv_object_describe(g->models[i], &list);
    }
    rv_buf_puts(&list, "]");
    rv_describe_raw(&d, "models", rv_buf_cstr(&list));
    rv_buf_free(&list);
    rv_describe_obj(&d, "metric", g->metric);
    return rv_describe_close(&d);
}

static size_t greedy_memory(const rv_object *self)
{
    const greedy *g = (const greedy *)self;
    size_t m = sizeof *g + 2 * g->n * sizeof(rv_object *) + rv_object_memory(g->metric);
    for (uint32_t i = 0; i < g->n; i++)
        m += rv_object_memory(g->models[i]) + rv_object_memory(g->metrics[i]);
    return m;
}

/* Its models' and metrics' objects, then each model's state. */
static void greedy_prefetch(const rv_object *self)
{
    const greedy *g = (const greedy *)self;
    for (uint32_t i = 0; i < g->n; i++) {
        __builtin_prefetch(g->models[i]);
        __builtin_prefetch(g->metrics[i]);
    }
    for (uint32_t i = 0; i < g->n; i++)
        rv_estimator_prefetch(g->models[i]);
}

static const rv_estimator_ops greedy_ops = {greedy_learn, NULL, greedy_predict, greedy_prefetch};

const rv_class rv_class_model_selection_GreedyRegressor = {
    .kind = RV_CLASS_ESTIMATOR,
    .module = "model_selection",
    .name = "GreedyRegressor",
    .flags = RV_F_REGRESSOR | RV_F_COMPOSITE,
    .doc = "learns every model and predicts with the one whose running metric is best",
    .create = greedy_create,
    .clone = greedy_clone,
    .copy = greedy_copy,
    .save = greedy_save,
    .load = greedy_load,
    .describe = greedy_describe,
    .memory = greedy_memory,
    .destroy = greedy_destroy,
    .ops = &greedy_ops,
};
