/* compose.Pipeline (creme 0.5.1 creme/compose/pipeline.py, SPEC.md §1;
 * River's Pipeline with learn_during_predict=False).
 *
 * Steps s_0 .. s_{n-1}; all but the last are transformers. Each step has a
 * role: a UNION (its parts are learned by kind), a SUPervised transformer
 * (TargetAgg) or an UNSUPervised one (scalers, split, dateparts).
 *
 *   learn_during_predict = 1 (creme 0.5.1):
 *     predict(x):   for i < n-1: learn unsupervised(s_i, x); x = s_i(x)
 *                   return s_{n-1}.predict(x)
 *     learn(x, y):  for i < n-1: x' = s_i(x); learn supervised(s_i, x, y); x = x'
 *                   s_{n-1}.learn(x, y)
 *   learn_during_predict = 0 (River):
 *     predict(x):   for i < n-1: x = s_i(x); return s_{n-1}.predict(x)   (pure)
 *     learn(x, y):  for i < n-1: learn unsupervised(s_i, x); x' = s_i(x);
 *                                learn supervised(s_i, x, y); x = x'
 *                   s_{n-1}.learn(x, y)
 *
 * Supervised steps learn the step's INPUT after transforming it, so the row's
 * own target never leaks into its features. With progressive validation in
 * creme mode (predict then learn per row) each scaler learns a row exactly
 * once, in predict, and learn sees the same vectors predict saw.
 * A final transformer (transform on a pipeline of transformers) follows the
 * same rules as the other steps; a final regressor learns in learn only.
 *
 * Intermediate events come from the per-thread scratch stack (internal.h),
 * so a pipeline holds no buffers of its own and allocates nothing per row
 * once the scratch events have grown to their working size. */
#include "compose/internal.h"
#include "core/prefetch.h"
#include "rivulet/compose.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STEPS 256

enum { ROLE_UNSUP = 0, ROLE_SUP = 1, ROLE_UNION = 2 };

typedef struct pipe {
    rv_object base;
    uint32_t n;
    uint8_t ldp;      /* learn_during_predict */
    uint8_t final_tf; /* the last step is a transformer */
    uint8_t *role;
    rv_object **steps;
} pipe;

extern const rv_class rv_class_compose_Pipeline;
static rv_class variants[128];
static const rv_estimator_ops pipeline_ops;

int rv_is_pipeline(const rv_object *o) { return o && o->cls->ops == &pipeline_ops; }
size_t rv_pipeline_len(const rv_object *o) { return ((const pipe *)o)->n; }
rv_object *rv_pipeline_step(const rv_object *o, size_t i) { return ((const pipe *)o)->steps[i]; }
int rv_pipeline_learns_during_predict(const rv_object *o) { return ((const pipe *)o)->ldp; }

static void pipeline_destroy(rv_object *self)
{
    pipe *p = (pipe *)self;
    for (uint32_t i = 0; i < p->n; i++)
        rv_object_free(p->steps[i]);
    free(p->steps);
    free(p->role);
    free(p);
}

static unsigned pipeline_flags(const pipe *p)
{
    unsigned last = rv_estimator_flags(p->steps[p->n - 1]);
    unsigned f = RV_F_COMPOSITE | (last & ~(unsigned)(RV_F_COMPOSITE | RV_F_SUPERVISED));
    if (last & RV_F_TRANSFORMER)
        for (uint32_t i = 0; i < p->n; i++)
            f |= rv_estimator_flags(p->steps[i]) & RV_F_SUPERVISED;
    return f;
}

/* Appends a step, or a nested pipeline's steps; takes ownership. */
static rv_status append_step(pipe *p, rv_object *s, uint32_t *cap, rv_error *err)
{
    if (rv_is_pipeline(s)) {
        pipe *inner = (pipe *)s;
        rv_status st = RV_OK;
        for (uint32_t i = 0; i < inner->n; i++) {
            if (st == RV_OK)
                st = append_step(p, inner->steps[i], cap, err);
            else
                rv_object_free(inner->steps[i]);
        }
        inner->n = 0;
        pipeline_destroy(s);
        return st;
    }
    if (!rv_is_estimator(s)) {
        rv_error_set(err, RV_EINVAL, "Pipeline: %s is not an estimator", s->cls->name);
        rv_object_free(s);
        return RV_EINVAL;
    }
    if (p->n == MAX_STEPS) {
        rv_object_free(s);
        return rv_error_set(err, RV_EINVAL, "Pipeline: more than %d steps", MAX_STEPS);
    }
    if (p->n == *cap) {
        *cap = *cap ? 2 * *cap : 8;
        rv_object **ns = realloc(p->steps, *cap * sizeof *ns);
        if (!ns) {
            rv_object_free(s);
            return rv_error_set(err, RV_ENOMEM, "out of memory");
        }
        p->steps = ns;
    }
    p->steps[p->n++] = s;
    return RV_OK;
}

static rv_status finish(pipe *p, rv_error *err)
{
    if (!p->n)
        return rv_error_set(err, RV_EINVAL, "Pipeline: needs at least one step");
    rv_object **fit = realloc(p->steps, p->n * sizeof *fit); /* no slack per instance */
    if (fit)
        p->steps = fit;
    p->role = malloc(p->n);
    if (!p->role)
        return rv_error_set(err, RV_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < p->n; i++) {
        unsigned f = rv_estimator_flags(p->steps[i]);
        if (i + 1 < p->n && !(f & RV_F_TRANSFORMER))
            return rv_error_set(err, RV_EINVAL,
                                "Pipeline: step %u (%s) is not a transformer; only the last step "
                                "may be a regressor or a classifier",
                                i + 1, p->steps[i]->cls->name);
        p->role[i] = rv_is_union(p->steps[i]) ? ROLE_UNION : (f & RV_F_SUPERVISED) ? ROLE_SUP : ROLE_UNSUP;
    }
    p->final_tf = (rv_estimator_flags(p->steps[p->n - 1]) & RV_F_TRANSFORMER) != 0;
    p->base.cls = rv_class_variant(&rv_class_compose_Pipeline, variants, pipeline_flags(p));
    return RV_OK;
}

rv_object *rv_pipeline_new(rv_object **steps, size_t n, int learn_during_predict, rv_error *err)
{
    pipe *p = calloc(1, sizeof *p);
    if (!p) {
        for (size_t i = 0; i < n; i++)
            rv_object_free(steps[i]);
        rv_error_set(err, RV_ENOMEM, "out of memory");
        return NULL;
    }
    p->base.cls = &rv_class_compose_Pipeline;
    p->ldp = !!learn_during_predict;
    uint32_t cap = 0;
    for (size_t i = 0; i < n; i++)
        if (!steps[i] || append_step(p, steps[i], &cap, err)) {
            if (!steps[i])
                rv_error_set(err, RV_EINVAL, "Pipeline: missing step");
            for (size_t j = i + 1; j < n; j++)
                rv_object_free(steps[j]);
            pipeline_destroy(&p->base);
            return NULL;
        }
    if (finish(p, err)) {
        pipeline_destroy(&p->base);
        return NULL;
    }
    return &p->base;
}

static rv_object *pipeline_dup(const rv_object *self, int copy, rv_error *err)
{
    const pipe *p = (const pipe *)self;
    rv_object *steps[MAX_STEPS];
    for (uint32_t i = 0; i < p->n; i++)
        if (!(steps[i] = copy ? rv_object_copy(p->steps[i], err) : rv_object_clone(p->steps[i], err))) {
            while (i-- > 0)
                rv_object_free(steps[i]);
            return NULL;
        }
    return rv_pipeline_new(steps, p->n, p->ldp, err);
}

static rv_object *pipeline_clone(const rv_object *self, rv_error *err) { return pipeline_dup(self, 0, err); }
static rv_object *pipeline_copy(const rv_object *self, rv_error *err) { return pipeline_dup(self, 1, err); }

/* compose.Pipeline(a, b, c, learn_during_predict=True) */
static rv_object *pipeline_create(const rv_args *args, rv_error *err)
{
    static const char *const sig[] = {"learn_during_predict", NULL};
    int ldp = 1;
    for (size_t k = 0; k < args->nkw; k++)
        if (strcmp(args->kw_names[k], "learn_during_predict") != 0) {
            rv_args_error(args, &args->kw[k], err, RV_EINVAL, "unknown keyword argument '%s'",
                          args->kw_names[k]);
            return NULL;
        }
    const rv_arg *a = NULL;
    for (size_t k = 0; k < args->nkw; k++)
        a = &args->kw[k];
    if (a) {
        rv_args tmp = {.nkw = 1, .kw_names = (char **)sig, .kw = (rv_arg *)a, .callee = args->callee,
                       .line = args->line, .col = args->col};
        if (rv_args_get_bool(&tmp, sig, "learn_during_predict", 1, &ldp, err))
            return NULL;
    }
    if (args->npos > MAX_STEPS || !args->npos) {
        rv_args_error(args, NULL, err, RV_EINVAL, "needs 1 to %d steps", MAX_STEPS);
        return NULL;
    }
    rv_object *steps[MAX_STEPS];
    for (size_t i = 0; i < args->npos; i++) {
        const rv_arg *s = &args->pos[i];
        if (s->kind != RV_ARG_OBJ || !(steps[i] = rv_object_clone(s->obj, err))) {
            if (s->kind != RV_ARG_OBJ)
                rv_args_error(args, s, err, RV_ETYPE, "step %zu must be an estimator", i + 1);
            while (i-- > 0)
                rv_object_free(steps[i]);
            return NULL;
        }
    }
    return rv_pipeline_new(steps, args->npos, ldp, err);
}

/* ===== Running ===== */

static rv_status learn_unsup(const pipe *p, uint32_t i, const rv_event *x, rv_error *err)
{
    if (p->role[i] == ROLE_UNION)
        return rv_union_learn_parts(p->steps[i], x, NULL, RV_PARTS_UNSUPERVISED, err);
    if (p->role[i] == ROLE_UNSUP)
        return rv_estimator_learn(p->steps[i], x, NULL, err);
    return RV_OK;
}

static rv_status learn_sup(const pipe *p, uint32_t i, const rv_event *x, const rv_value *y, rv_error *err)
{
    if (p->role[i] == ROLE_UNION)
        return rv_union_learn_parts(p->steps[i], x, y, RV_PARTS_SUPERVISED, err);
    if (p->role[i] == ROLE_SUP)
        return rv_estimator_learn(p->steps[i], x, y, err);
    return RV_OK;
}

/* Runs steps [0, upto) on x (learning unsupervised ones first in creme mode);
 * *out is the result, in scratch (caller pops *pushed events). */
static rv_status run_front(const pipe *p, uint32_t upto, const rv_event *x, const rv_event **out,
                           uint32_t *pushed, rv_error *err)
{
    const rv_event *cur = x;
    for (uint32_t i = 0; i < upto; i++) {
        rv_status s;
        if (p->ldp && (s = learn_unsup(p, i, cur, err)))
            return s;
        rv_event *next = rv_scratch_push();
        if (!next)
            return rv_error_set(err, RV_ENOMEM, "out of memory");
        ++*pushed;
        if ((s = rv_estimator_transform(p->steps[i], cur, next, err)))
            return s;
        cur = next;
    }
    *out = cur;
    return RV_OK;
}

static rv_status pipeline_predict(rv_object *self, const rv_event *x, rv_prediction *out, rv_error *err)
{
    pipe *p = (pipe *)self;
    const rv_event *cur;
    uint32_t pushed = 0;
    rv_status s = run_front(p, p->n - 1, x, &cur, &pushed, err);
    if (s == RV_OK)
        s = rv_estimator_predict(p->steps[p->n - 1], cur, out, err);
    rv_scratch_pop(pushed);
    return s;
}

static rv_status pipeline_transform(rv_object *self, const rv_event *x, rv_event *out, rv_error *err)
{
    pipe *p = (pipe *)self;
    const rv_event *cur;
    uint32_t pushed = 0;
    uint32_t last = p->n - 1;
    int final_tf = (rv_estimator_flags(p->steps[last]) & RV_F_TRANSFORMER) != 0;
    rv_status s = run_front(p, last, x, &cur, &pushed, err);
    if (s == RV_OK && final_tf && p->ldp)
        s = learn_unsup(p, last, cur, err);
    if (s == RV_OK)
        s = final_tf ? rv_estimator_transform(p->steps[last], cur, out, err)
                     : (rv_event_assign(out, cur) ? rv_error_set(err, RV_ENOMEM, "out of memory") : RV_OK);
    rv_scratch_pop(pushed);
    return s;
}

static rv_status pipeline_learn(rv_object *self, const rv_event *x, const rv_value *y, rv_error *err)
{
    pipe *p = (pipe *)self;
    const rv_event *cur = x;
    uint32_t pushed = 0, last = p->n - 1;
    rv_status s = RV_OK;
    for (uint32_t i = 0; i < last && s == RV_OK; i++) {
        if (!p->ldp && (s = learn_unsup(p, i, cur, err)))
            break;
        rv_event *next = rv_scratch_push();
        if (!next) {
            s = rv_error_set(err, RV_ENOMEM, "out of memory");
            break;
        }
        pushed++;
        if ((s = rv_estimator_transform(p->steps[i], cur, next, err)))
            break;
        s = learn_sup(p, i, cur, y, err); /* the step's input: no target leakage */
        cur = next;
    }
    if (s == RV_OK) {
        if (rv_estimator_flags(p->steps[last]) & RV_F_TRANSFORMER) {
            if (!p->ldp)
                s = learn_unsup(p, last, cur, err);
            if (s == RV_OK)
                s = learn_sup(p, last, cur, y, err);
        } else
            s = rv_estimator_learn(p->steps[last], cur, y, err);
    }
    rv_scratch_pop(pushed);
    return s;
}

/* predict(x) then learn(x, y) in creme mode, with the front run once: in
 * creme mode learn's transforms see the states predict left (unsupervised
 * steps learned in predict; supervised ones learn only after their own
 * transform, and step i+1's transform does not read step i's state), so
 * they equal predict's, and each supervised step learns its kept input. */
rv_status rv_pipeline_predict_learn(rv_object *self, const rv_event *x, const rv_value *y,
                                    rv_prediction *out, rv_error *err)
{
    pipe *p = (pipe *)self;
    uint32_t last = p->n - 1;
    if (!p->ldp || p->final_tf) {
        rv_status s = pipeline_predict(self, x, out, err);
        return s ? s : pipeline_learn(self, x, y, err);
    }
    const rv_event *in[MAX_STEPS];
    rv_union_keys keys[4]; /* of the first unions: their learn reuses the group keys */
    uint32_t nu = 0;
    const rv_event *cur = x;
    uint32_t pushed = 0;
    rv_status s = RV_OK;
    for (uint32_t i = 0; i < last && s == RV_OK; i++) {
        in[i] = cur;
        if ((s = learn_unsup(p, i, cur, err)))
            break;
        rv_event *next = rv_scratch_push();
        if (!next) {
            s = rv_error_set(err, RV_ENOMEM, "out of memory");
            break;
        }
        pushed++;
        if (p->role[i] == ROLE_UNION && nu < 4)
            s = rv_union_transform_keys(p->steps[i], cur, next, &keys[nu++], err);
        else
            s = rv_estimator_transform(p->steps[i], cur, next, err);
        cur = next;
    }
    if (s == RV_OK)
        s = rv_estimator_predict(p->steps[last], cur, out, err);
    nu = 0;
    for (uint32_t i = 0; i < last && s == RV_OK; i++)
        if (p->role[i] == ROLE_UNION && nu < 4)
            s = rv_union_learn_sup_keys(p->steps[i], in[i], y, &keys[nu++], err);
        else if (p->role[i] != ROLE_UNSUP)
            s = learn_sup(p, i, in[i], y, err);
    if (s == RV_OK)
        s = rv_estimator_learn(p->steps[last], cur, y, err);
    rv_scratch_pop(pushed);
    return s;
}

rv_status rv_predict_learn(rv_object *model, const rv_event *x, const rv_value *y, rv_prediction *out,
                           rv_error *err)
{
    if (rv_is_pipeline(model))
        return rv_pipeline_predict_learn(model, x, y, out, err);
    rv_status s = rv_estimator_predict(model, x, out, err);
    return s ? s : rv_estimator_learn(model, x, y, err);
}

/* ===== State ===== */

rv_status rv_part_save(const rv_object *o, rv_buf *out)
{
    size_t at = out->len;
    rv_buf_put_u32(out, 0);
    if (o->cls->save(o, out) || out->oom)
        return RV_ENOMEM;
    size_t n = out->len - at - 4;
    if (n > UINT32_MAX)
        return RV_EINVAL;
    for (int k = 0; k < 4; k++)
        out->data[at + (size_t)k] = (char)(uint8_t)(n >> (8 * k));
    return RV_OK;
}

rv_status rv_part_load(rv_object *o, rv_reader *in)
{
    uint32_t len;
    const char *bytes = rv_reader_bytes(in, &len, UINT32_MAX);
    if (in->status)
        return RV_OK;
    rv_reader sub;
    rv_reader_init(&sub, bytes, len);
    rv_status s = o->cls->load(o, &sub);
    if (s == RV_ENOMEM)
        return s;
    return s || sub.status || sub.pos != sub.len ? RV_EINVAL : RV_OK;
}

/* Layout: per step, u32 length + that step's own state. */
/* Each step's state length-prefixed (rv_part_save). */
static rv_status pipeline_save(const rv_object *self, rv_buf *out)
{
    const pipe *p = (const pipe *)self;
    for (uint32_t i = 0; i < p->n; i++) {
        rv_status s = rv_part_save(p->steps[i], out);
        if (s)
            return s;
    }
    return out->oom ? RV_ENOMEM : RV_OK;
}

static rv_status pipeline_load(rv_object *self, rv_reader *in)
{
    pipe *p = (pipe *)self;
    for (uint32_t i = 0; i < p->n && in->status == RV_OK; i++) {
        rv_status s = rv_part_load(p->steps[i], in);
        if (s == RV_ENOMEM)
            return s;
        if (s) {
            char what[100];
            snprintf(what, sizeof what, "bad state for pipeline step %u (%s)", i + 1,
                     p->steps[i]->cls->name);
            rv_reader_fail(in, what);
        }
    }
    return in->status;
}

/* "a | b | c"; unions in parentheses. A one-step pipeline, or one that does
 * not learn during predict, is written as a call so that it parses back. */
static rv_status pipeline_describe(const rv_object *self, rv_buf *out)
{
    const pipe *p = (const pipe *)self;
    int call = p->n < 2 || !p->ldp;
    if (call)
        rv_buf_puts(out, "compose.Pipeline(");
    for (uint32_t i = 0; i < p->n; i++) {
        int paren = !call && rv_is_union(p->steps[i]) && rv_union_len(p->steps[i]) > 1;
        rv_buf_puts(out, i ? (call ? ", " : " | ") : "");
        rv_buf_puts(out, paren ? "(" : "");
        rv_object_describe(p->steps[i], out);
        rv_buf_puts(out, paren ? ")" : "");
    }
    if (call)
        rv_buf_puts(out, p->ldp ? ")" : ", learn_during_predict=False)");
    return out->oom ? RV_ENOMEM : RV_OK;
}

static size_t pipeline_memory(const rv_object *self)
{
    const pipe *p = (const pipe *)self;
    size_t m = sizeof *p + p->n * (sizeof *p->steps + 1);
    for (uint32_t i = 0; i < p->n; i++)
        m += rv_object_memory(p->steps[i]);
    return m;
}

/* The steps' objects first, so that their misses overlap, then each
 * step's own state. */
static void pipeline_prefetch(const rv_object *self)
{
    const pipe *p = (const pipe *)self;
    __builtin_prefetch(p->role);
    for (uint32_t i = 0; i < p->n; i++)
        __builtin_prefetch(p->steps[i]);
    for (uint32_t i = 0; i < p->n; i++)
        rv_estimator_prefetch(p->steps[i]);
}

static const rv_estimator_ops pipeline_ops = {pipeline_learn, pipeline_transform, pipeline_predict,
                                              pipeline_prefetch};

const rv_class rv_class_compose_Pipeline = {
    .kind = RV_CLASS_ESTIMATOR,
    .module = "compose",
    .name = "Pipeline",
    .flags = RV_F_COMPOSITE | RV_F_REGRESSOR | RV_F_TRANSFORMER,
    .doc = "chains transformers and a final estimator (a | b | c)",
    .create = pipeline_create,
    .clone = pipeline_clone,
    .copy = pipeline_copy,
    .save = pipeline_save,
    .load = pipeline_load,
    .describe = pipeline_describe,
    .memory = pipeline_memory,
    .destroy = pipeline_destroy,
    .ops = &pipeline_ops,
};
