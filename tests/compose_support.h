/* Test doubles and CSV helpers for the compose, features and eval tests. */
#ifndef RIVULET_TEST_COMPOSE_SUPPORT_H
#define RIVULET_TEST_COMPOSE_SUPPORT_H

#include "csv_support.h"
#include "rivulet/core.h"

#include <stdlib.h>
#include <string.h>

/* A test regressor: predicts the first numeric feature of x (or `constant`
 * when set), and records what it learned. */
typedef struct probe {
    rv_object base;
    double constant;
    int use_constant;
    int learned;
    double last_y, last_x0;
    char last_str[64];
} probe;

static rv_status probe_learn(rv_object *self, const rv_event *x, const rv_value *y, rv_error *err)
{
    probe *p = (probe *)self;
    p->learned++;
    p->last_y = y ? y->num : NAN;
    p->last_x0 = NAN;
    p->last_str[0] = 0;
    for (uint32_t i = 0; i < x->n; i++) {
        if (x->items[i].kind == RV_NUM && isnan(p->last_x0))
            p->last_x0 = x->items[i].num;
        if (x->items[i].kind == RV_STR && !p->last_str[0] && x->items[i].len < 63) {
            memcpy(p->last_str, x->items[i].str, x->items[i].len);
            p->last_str[x->items[i].len] = 0;
        }
    }
    return RV_OK;
}

static rv_status probe_predict(rv_object *self, const rv_event *x, rv_prediction *out, rv_error *err)
{
    probe *p = (probe *)self;
    double v = 0;
    if (p->use_constant)
        v = p->constant;
    else
        for (uint32_t i = 0; i < x->n; i++)
            if (x->items[i].kind == RV_NUM) {
                v = x->items[i].num;
                break;
            }
    rv_prediction_set_num(out, v);
    return RV_OK;
}

static void probe_destroy(rv_object *self) { free(self); }
static rv_object *probe_clone(const rv_object *self, rv_error *err);
static rv_status probe_save(const rv_object *self, rv_buf *out) { return RV_OK; }
static rv_status probe_load(rv_object *self, rv_reader *in) { return RV_OK; }
static rv_status probe_describe(const rv_object *self, rv_buf *out) { return rv_buf_puts(out, "probe()"); }
static size_t probe_memory(const rv_object *self) { return sizeof(probe); }
static const rv_estimator_ops probe_ops = {probe_learn, NULL, probe_predict, NULL};
static const rv_class probe_class = {
    .kind = RV_CLASS_ESTIMATOR, .module = "", .name = "probe", .flags = RV_F_REGRESSOR,
    .clone = probe_clone, .copy = probe_clone, .save = probe_save, .load = probe_load,
    .describe = probe_describe, .memory = probe_memory, .destroy = probe_destroy, .ops = &probe_ops,
};

static rv_object *probe_new(void)
{
    probe *p = calloc(1, sizeof *p);
    p->base.cls = &probe_class;
    return &p->base;
}

static inline rv_object *probe_const(double c)
{
    probe *p = (probe *)probe_new();
    p->use_constant = 1;
    p->constant = c;
    return &p->base;
}

static rv_object *probe_clone(const rv_object *self, rv_error *err)
{
    const probe *p = (const probe *)self;
    probe *c = (probe *)probe_new();
    c->use_constant = p->use_constant;
    c->constant = p->constant;
    return &c->base;
}

/* Builds an object from a class name and one positional numeric argument
 * (NAN: none). */
static inline rv_object *make1(const char *name, double arg)
{
    rv_args a;
    rv_args_init(&a, name);
    if (!isnan(arg)) {
        if (arg == floor(arg))
            rv_args_add_int(&a, NULL, (long)arg);
        else
            rv_args_add_num(&a, NULL, arg);
    }
    rv_error err = {0};
    rv_object *o = rv_create(name, &a, &err);
    rv_args_free(&a);
    if (!o)
        fprintf(stderr, "make1(%s): %s\n", name, err.message);
    return o;
}

#endif
