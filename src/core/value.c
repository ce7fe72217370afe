/* Values, predictions and class labels. */
#include "rivulet/core.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

rv_value rv_value_str(const char *s, size_t len)
{
    rv_value v = {0, s, (uint32_t)len, RV_STR};
    return v;
}

rv_value rv_value_cstr(const char *s) { return rv_value_str(s, strlen(s)); }

int rv_value_equal(const rv_value *a, const rv_value *b)
{
    if (a->kind != b->kind)
        return 0;
    if (a->kind == RV_NUM)
        return a->num == b->num || (isnan(a->num) && isnan(b->num));
    if (a->kind == RV_STR)
        return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
    return 1;
}

/* ===== Predictions ===== */

void rv_prediction_init(rv_prediction *p) { memset(p, 0, sizeof *p); }

void rv_prediction_free(rv_prediction *p)
{
    free(p->labels);
    free(p->proba);
    memset(p, 0, sizeof *p);
}

void rv_prediction_clear(rv_prediction *p)
{
    p->kind = 0;
    p->num = 0;
    p->n = 0;
}

void rv_prediction_set_num(rv_prediction *p, double x)
{
    p->kind = RV_PRED_NUM;
    p->num = x;
    p->n = 0;
}

rv_status rv_prediction_set_proba(rv_prediction *p, rv_sym label, double proba)
{
    p->kind = RV_PRED_PROBA;
    for (uint32_t i = 0; i < p->n; i++)
        if (p->labels[i] == label) {
            p->proba[i] = proba;
            return RV_OK;
        }
    if (p->n == p->cap) {
        uint32_t cap = p->cap ? p->cap * 2 : 4;
        rv_sym *l = realloc(p->labels, cap * sizeof *l);
        if (!l)
            return RV_ENOMEM;
        p->labels = l;
        double *q = realloc(p->proba, cap * sizeof *q);
        if (!q)
            return RV_ENOMEM;
        p->proba = q;
        p->cap = cap;
    }
    p->labels[p->n] = label;
    p->proba[p->n] = proba;
    p->n++;
    return RV_OK;
}

int rv_prediction_is_empty(const rv_prediction *p)
{
    return p->kind == RV_PRED_PROBA && p->n == 0;
}

rv_sym rv_prediction_argmax(const rv_prediction *p)
{
    rv_sym best = RV_SYM_NONE;
    double bp = -1;
    for (uint32_t i = 0; i < p->n; i++)
        if (p->proba[i] > bp) {
            bp = p->proba[i];
            best = p->labels[i];
        }
    return best;
}

rv_status rv_prediction_copy(rv_prediction *dst, const rv_prediction *src)
{
    rv_prediction_clear(dst);
    dst->kind = src->kind;
    dst->num = src->num;
    for (uint32_t i = 0; i < src->n; i++)
        if (rv_prediction_set_proba(dst, src->labels[i], src->proba[i]))
            return RV_ENOMEM;
    dst->kind = src->kind;
    return RV_OK;
}

/* ===== Labels ===== */

rv_sym rv_label_true(void)
{
    static _Atomic rv_sym s; /* interning is idempotent, so a race is harmless */
    rv_sym v = atomic_load_explicit(&s, memory_order_relaxed);
    if (!v) {
        v = rv_sym_intern_cstr("True");
        atomic_store_explicit(&s, v, memory_order_relaxed);
    }
    return v;
}

rv_sym rv_label_false(void)
{
    static _Atomic rv_sym s; /* interning is idempotent, so a race is harmless */
    rv_sym v = atomic_load_explicit(&s, memory_order_relaxed);
    if (!v) {
        v = rv_sym_intern_cstr("False");
        atomic_store_explicit(&s, v, memory_order_relaxed);
    }
    return v;
}

rv_sym rv_label_of(const rv_value *y)
{
    if (y->kind == RV_STR)
        return rv_sym_intern(y->str, y->len);
    rv_buf b;
    rv_buf_init(&b);
    double x = y->num;
    if (x == floor(x) && fabs(x) < 1e15)
        rv_buf_printf(&b, "%.0f", x);
    else
        rv_buf_put_double(&b, x);
    rv_sym s = rv_sym_intern(b.data ? b.data : "", b.len);
    rv_buf_free(&b);
    return s;
}

rv_status rv_value_truth(const rv_value *y, int *truth, rv_error *err)
{
    if (y->kind == RV_NUM) {
        if (isnan(y->num))
            return rv_error_set(err, RV_ETYPE, "binary target is NaN");
        *truth = y->num != 0;
        return RV_OK;
    }
    if (y->kind == RV_STR) {
        static const char *const yes[] = {"true", "1", "yes"}, *const no[] = {"false", "0", "no"};
        for (int i = 0; i < 3; i++) {
            if (y->len == strlen(yes[i]) && strncasecmp(y->str, yes[i], y->len) == 0) {
                *truth = 1;
                return RV_OK;
            }
            if (y->len == strlen(no[i]) && strncasecmp(y->str, no[i], y->len) == 0) {
                *truth = 0;
                return RV_OK;
            }
        }
        return rv_error_set(err, RV_ETYPE, "binary target '%.*s' is not true or false",
                            (int)(y->len > 64 ? 64 : y->len), y->str);
    }
    return rv_error_set(err, RV_ETYPE, "binary target is missing");
}
