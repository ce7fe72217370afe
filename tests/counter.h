/* test.Counter(scale=1.0): a tiny stateful regressor for snapshot and family
 * tests, reachable by name through the parser's test seam.
 *   learn(x, y): n += 1; sum += y; sumx += x['a'] when 'a' is a finite number
 *   predict(x):  scale * sum / n + sumx / 1000 + x['a'] (0 when n = 0; 'a'
 *                counts 0 when missing or not a finite number)
 * State: n (u64), sum (f64), sumx (f64). */
#ifndef RIVULET_TEST_COUNTER_H
#define RIVULET_TEST_COUNTER_H

#include "compose/lex.h"
#include "rivulet/core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct counter {
    rv_object base;
    double scale;
    uint64_t n;
    double sum, sumx;
} counter;

static const rv_class counter_class;
static const char *const counter_names[] = {"scale", NULL};

static inline rv_object *counter_new(double scale)
{
    counter *c = calloc(1, sizeof *c);
    c->base.cls = &counter_class;
    c->scale = scale;
    return &c->base;
}

static inline rv_object *counter_create(const rv_args *a, rv_error *err)
{
    double scale;
    if (rv_args_check(a, counter_names, err) ||
        rv_args_get_num(a, counter_names, "scale", 1.0, &scale, err))
        return NULL;
    return counter_new(scale);
}

static inline rv_object *counter_clone(const rv_object *o, rv_error *err)
{
    return counter_new(((const counter *)o)->scale);
}

static inline rv_object *counter_copy(const rv_object *o, rv_error *err)
{
    counter *c = malloc(sizeof *c);
    memcpy(c, o, sizeof *c);
    return &c->base;
}

static inline double counter_a(const rv_event *x)
{
    const rv_feature *f = rv_event_get(x, rv_sym_intern_cstr("a"));
    return f && f->kind == RV_NUM && isfinite(f->num) ? f->num : 0.0;
}

static inline rv_status counter_learn(rv_object *o, const rv_event *x, const rv_value *y, rv_error *err)
{
    counter *c = (counter *)o;
    if (!y || y->kind != RV_NUM)
        return rv_error_set(err, RV_ETYPE, "test.Counter needs a numeric target");
    c->n++;
    c->sum += y->num;
    c->sumx += counter_a(x);
    return RV_OK;
}

static inline rv_status counter_predict(rv_object *o, const rv_event *x, rv_prediction *out, rv_error *err)
{
    counter *c = (counter *)o;
    rv_prediction_set_num(out, (c->n ? c->scale * c->sum / (double)c->n : 0.0) + c->sumx / 1000 +
                                   counter_a(x));
    return RV_OK;
}

static inline rv_status counter_save(const rv_object *o, rv_buf *out)
{
    const counter *c = (const counter *)o;
    rv_buf_put_u64(out, c->n);
    rv_buf_put_f64(out, c->sum);
    return rv_buf_put_f64(out, c->sumx);
}

static inline rv_status counter_load(rv_object *o, rv_reader *in)
{
    counter *c = (counter *)o;
    c->n = rv_reader_u64(in);
    c->sum = rv_reader_f64(in);
    c->sumx = rv_reader_f64(in);
    return in->status;
}

static inline rv_status counter_describe(const rv_object *o, rv_buf *out)
{
    rv_describer d;
    rv_describe_open(&d, out, o);
    if (((const counter *)o)->scale != 1.0)
        rv_describe_num(&d, "scale", ((const counter *)o)->scale);
    return rv_describe_close(&d);
}

static inline size_t counter_memory(const rv_object *o) { return sizeof(counter); }
static inline void counter_destroy(rv_object *o) { free(o); }

static const rv_estimator_ops counter_ops = {.learn = counter_learn, .predict = counter_predict};

static const rv_class counter_class = {
    .kind = RV_CLASS_ESTIMATOR, .module = "test", .name = "Counter", .flags = RV_F_REGRESSOR,
    .create = counter_create, .clone = counter_clone, .copy = counter_copy, .save = counter_save,
    .load = counter_load, .describe = counter_describe, .memory = counter_memory,
    .destroy = counter_destroy, .ops = &counter_ops};

static inline const rv_class *counter_lookup(const char *name, rv_class_kind hint)
{
    if (!strcmp(name, "Counter") || !strcmp(name, "test.Counter"))
        return &counter_class;
    return hint ? rv_class_find_kind(name, hint) : rv_class_find(name);
}

#endif
