/* Progressive validation with delayed labels (see eval.h).
 *
 * State: the model and metrics (borrowed), a counter, and a ring of `delay`
 * waiting pairs. Each slot owns a deep copy of its event (rv_event_copy into
 * an event that keeps its capacity and arena) and of its target (a string
 * target is copied into a slot-owned buffer), so steady state allocates
 * nothing per event.
 *
 *   step(x, y):  p = predict(x); metrics.update(y, p)
 *                delay 0: learn(x, y)
 *                delay d: if d pairs wait: learn the oldest; enqueue copy(x, y)
 *
 * A step without a target predicts only: nothing is queued or learned. */
#include "rivulet/eval.h"
#include "rivulet/family.h"
#include "rivulet/metrics.h"

#include <stdlib.h>
#include <string.h>

typedef struct slot {
    rv_event x;
    rv_value y;
    char *ystr;
    uint32_t ycap;
} slot;

struct rv_progressive {
    rv_object *model;
    rv_object **metrics;
    size_t nmetrics;
    uint32_t delay, head, waiting;
    uint64_t count;
    slot *slots;
    rv_prediction pred;
};

/* A family predicts with its members: it is what its prototype is. */
static unsigned model_flags(const rv_object *model)
{
    return rv_estimator_flags(rv_is_family(model) ? rv_family_prototype(model) : model);
}

rv_progressive *rv_progressive_new(rv_object *model, rv_object **metrics, size_t nmetrics,
                                   uint32_t delay, rv_error *err)
{
    if (!model || !(model_flags(model) & (RV_F_REGRESSOR | RV_F_CLASSIFIER))) {
        rv_error_set(err, RV_EINVAL, "progressive validation needs a regressor or a classifier");
        return NULL;
    }
    for (size_t i = 0; i < nmetrics; i++)
        if (!metrics[i] || metrics[i]->cls->kind != RV_CLASS_METRIC) {
            rv_error_set(err, RV_EINVAL, "progressive validation: item %zu is not a metric", i + 1);
            return NULL;
        }
    rv_progressive *pv = calloc(1, sizeof *pv);
    if (pv && delay)
        pv->slots = calloc(delay, sizeof *pv->slots);
    if (!pv || (delay && !pv->slots)) {
        free(pv);
        rv_error_set(err, RV_ENOMEM, "out of memory");
        return NULL;
    }
    pv->model = model;
    pv->metrics = metrics;
    pv->nmetrics = nmetrics;
    pv->delay = delay;
    for (uint32_t i = 0; i < delay; i++)
        rv_event_init(&pv->slots[i].x);
    rv_prediction_init(&pv->pred);
    return pv;
}

static rv_status enqueue(rv_progressive *pv, const rv_event *x, const rv_value *y, rv_error *err)
{
    slot *s = &pv->slots[(pv->head + pv->waiting) % pv->delay];
    if (rv_event_copy(&s->x, x))
        return rv_error_set(err, RV_ENOMEM, "out of memory");
    s->y = *y;
    if (y->kind == RV_STR) {
        if (y->len + 1 > s->ycap) {
            char *p = realloc(s->ystr, y->len + 1);
            if (!p)
                return rv_error_set(err, RV_ENOMEM, "out of memory");
            s->ystr = p;
            s->ycap = y->len + 1;
        }
        if (y->len)
            memcpy(s->ystr, y->str, y->len);
        s->ystr[y->len] = '\0';
        s->y.str = s->ystr;
    }
    pv->waiting++;
    return RV_OK;
}

static rv_status learn_oldest(rv_progressive *pv, rv_error *err)
{
    slot *s = &pv->slots[pv->head];
    rv_status st = rv_estimator_learn(pv->model, &s->x, &s->y, err);
    pv->head = (pv->head + 1) % pv->delay;
    pv->waiting--;
    return st;
}

rv_status rv_progressive_step(rv_progressive *pv, const rv_event *x, const rv_value *y,
                              rv_prediction *pred_out, rv_error *err)
{
    rv_prediction *pred = pred_out ? pred_out : &pv->pred;
    rv_status s = rv_estimator_predict(pv->model, x, pred, err);
    if (s)
        return s;
    pv->count++;
    if (!y || y->kind == RV_NONE)
        return RV_OK;
    for (size_t i = 0; i < pv->nmetrics && !rv_prediction_is_empty(pred); i++)
        if ((s = rv_metric_update(pv->metrics[i], y, pred, err)))
            return s;
    if (!pv->delay)
        return rv_estimator_learn(pv->model, x, y, err);
    if (pv->waiting == pv->delay && (s = learn_oldest(pv, err)))
        return s;
    return enqueue(pv, x, y, err);
}

rv_status rv_progressive_flush(rv_progressive *pv, rv_error *err)
{
    while (pv->waiting) {
        rv_status s = learn_oldest(pv, err);
        if (s)
            return s;
    }
    return RV_OK;
}

uint64_t rv_progressive_count(const rv_progressive *pv) { return pv->count; }

void rv_progressive_free(rv_progressive *pv)
{
    if (!pv)
        return;
    for (uint32_t i = 0; i < pv->delay; i++) {
        rv_event_free(&pv->slots[i].x);
        free(pv->slots[i].ystr);
    }
    free(pv->slots);
    rv_prediction_free(&pv->pred);
    free(pv);
}
