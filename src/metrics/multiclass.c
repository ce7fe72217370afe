/* Multiclass metrics from a confusion table (River's metrics.Accuracy,
 * MacroPrecision, MacroRecall, MacroF1, MicroPrecision, MicroRecall, MicroF1).
 *
 * Per class c (in first-seen order): tp[c] (true c predicted c), row[c] (true
 * c), col[c] (predicted c); plus total and correct. update adds 1 to the cells
 * of (truth, predicted); revert subtracts. The classes of the metric are those
 * with row > 0 or col > 0 now (a class whose pairs were all reverted is gone,
 * so Rolling(MacroF1(), k) equals MacroF1 of the last k pairs).
 *
 *   Accuracy = Micro* = correct / total   (single-label: micro precision =
 *                                          micro recall = micro F1 = accuracy)
 *   MacroPrecision = sum over classes with col > 0 of tp / col, / #classes
 *   MacroRecall    = sum over classes with row > 0 of tp / row, / #classes
 *   MacroF1        = sum over classes of 2 P R / (P + R) (P or R = 0 when
 *                    undefined; skipped when P + R = 0), / #classes
 * All are 0 when empty (River's ZeroDivisionError -> 0). River sums over a
 * Python set of classes; we sum in first-seen order (same value up to rounding).
 *
 * State saved: total, correct (f64), u32 entries, then per entry: label
 * (u32 length + bytes), tp, row, col (f64). */
#include "internal.h"

#include <string.h>

typedef struct {
    rv_sym label;
    double tp, row, col;
} mc_class;

typedef struct {
    rv_object obj;
    double total, correct;
    mc_class *c;
    uint32_t n, cap;
} mc_t;

extern const rv_class rv_class_metrics_Accuracy, rv_class_metrics_MacroPrecision,
    rv_class_metrics_MacroRecall, rv_class_metrics_MacroF1, rv_class_metrics_MicroPrecision,
    rv_class_metrics_MicroRecall, rv_class_metrics_MicroF1;

static rv_object *mc_clone(const rv_object *o, rv_error *err)
{
    return rv_metric_alloc(o->cls, sizeof(mc_t), err);
}

static void mc_destroy(rv_object *o)
{
    free(((mc_t *)o)->c);
    free(o);
}

static rv_object *mc_copy(const rv_object *o, rv_error *err)
{
    const mc_t *m = (const mc_t *)o;
    mc_t *c = (mc_t *)rv_metric_dup(o, sizeof(mc_t), err);
    if (!c)
        return NULL;
    c->c = malloc((m->cap ? m->cap : 1) * sizeof *c->c);
    if (!c->c) {
        free(c);
        rv_error_set(err, RV_ENOMEM, "out of memory copying metrics.%s", o->cls->name);
        return NULL;
    }
    if (m->n)
        memcpy(c->c, m->c, m->n * sizeof *c->c);
    return (rv_object *)c;
}

static size_t mc_memory(const rv_object *o)
{
    return sizeof(mc_t) + ((const mc_t *)o)->cap * sizeof(mc_class);
}

/* The entry of a label, appended when new (NULL on OOM). */
static mc_class *entry(mc_t *m, rv_sym label)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (m->c[i].label == label)
            return &m->c[i];
    if (m->n == m->cap) {
        uint32_t cap = m->cap ? 2 * m->cap : 4;
        mc_class *c = realloc(m->c, cap * sizeof *c);
        if (!c)
            return NULL;
        m->c = c;
        m->cap = cap;
    }
    mc_class *e = &m->c[m->n++];
    e->label = label;
    e->tp = e->row = e->col = 0;
    return e;
}

static rv_status mc_add(rv_object *o, const rv_value *yt, const rv_prediction *yp, double d,
                        rv_error *err)
{
    mc_t *m = (mc_t *)o;
    rv_sym t, p;
    rv_status s = rv_metric_class_input(yt, yp, &t, &p, NULL, err);
    if (s)
        return s;
    mc_class *et = entry(m, t), *ep = et ? entry(m, p) : NULL;
    if (!et || !ep)
        return rv_error_set(err, RV_ENOMEM, "out of memory in metrics.%s", o->cls->name);
    et = entry(m, t); /* ep's insertion may have moved the array */
    if (d < 0 && (et->row < 1 || ep->col < 1))
        return rv_error_set(err, RV_ESTATE, "metrics.%s: this pair was never added",
                            o->cls->name);
    et->row += d;
    ep->col += d;
    m->total += d;
    if (t == p) {
        et->tp += d;
        m->correct += d;
    }
    return RV_OK;
}

static rv_status mc_update(rv_object *o, const rv_value *yt, const rv_prediction *yp, rv_error *err)
{
    return mc_add(o, yt, yp, 1, err);
}

static rv_status mc_revert(rv_object *o, const rv_value *yt, const rv_prediction *yp, rv_error *err)
{
    return mc_add(o, yt, yp, -1, err);
}

static double safe_div(double a, double b) { return b == 0 ? 0.0 : a / b; }

static double accuracy_get(const rv_object *o)
{
    return safe_div(((const mc_t *)o)->correct, ((const mc_t *)o)->total);
}

enum { MACRO_P, MACRO_R, MACRO_F1 };

static double macro(const rv_object *o, int which)
{
    const mc_t *m = (const mc_t *)o;
    double total = 0;
    uint32_t classes = 0;
    for (uint32_t i = 0; i < m->n; i++) {
        const mc_class *c = &m->c[i];
        if (c->row <= 0 && c->col <= 0)
            continue;
        classes++;
        double p = safe_div(c->tp, c->col), r = safe_div(c->tp, c->row);
        if (which == MACRO_P && c->col > 0)
            total += p;
        else if (which == MACRO_R && c->row > 0)
            total += r;
        else if (which == MACRO_F1 && p + r != 0)
            total += 2 * p * r / (p + r);
    }
    return safe_div(total, classes);
}

static double macro_p_get(const rv_object *o) { return macro(o, MACRO_P); }
static double macro_r_get(const rv_object *o) { return macro(o, MACRO_R); }
static double macro_f1_get(const rv_object *o) { return macro(o, MACRO_F1); }

static rv_status mc_save(const rv_object *o, rv_buf *out)
{
    const mc_t *m = (const mc_t *)o;
    rv_buf_put_f64(out, m->total);
    rv_buf_put_f64(out, m->correct);
    rv_buf_put_u32(out, m->n);
    for (uint32_t i = 0; i < m->n; i++) {
        rv_buf_put_sym(out, m->c[i].label);
        rv_buf_put_f64(out, m->c[i].tp);
        rv_buf_put_f64(out, m->c[i].row);
        rv_buf_put_f64(out, m->c[i].col);
    }
    return out->oom ? RV_ENOMEM : RV_OK;
}

static rv_status mc_load(rv_object *o, rv_reader *in)
{
    mc_t *m = (mc_t *)o;
    m->total = rv_reader_f64(in);
    m->correct = rv_reader_f64(in);
    uint32_t n = rv_reader_count(in, 4 + 3 * 8);
    if (in->status)
        return in->status;
    m->n = 0;
    for (uint32_t i = 0; i < n && in->status == RV_OK; i++) {
        rv_sym label = rv_reader_sym(in);
        double tp = rv_reader_f64(in), row = rv_reader_f64(in), col = rv_reader_f64(in);
        if (in->status)
            break;
        mc_class *e = entry(m, label);
        if (!e)
            return RV_ENOMEM;
        if (e != &m->c[m->n - 1])
            rv_reader_fail(in, "a class label appears twice");
        e->tp = tp;
        e->row = row;
        e->col = col;
    }
    return in->status;
}

/* The class entries the seven classes share. */
#define MC_CLASS_FUNCS                                                                             \
    .clone = mc_clone, .copy = mc_copy, .save = mc_save, .load = mc_load,                          \
    .describe = rv_metric_describe_plain, .memory = mc_memory, .destroy = mc_destroy

#define MC_CREATE(NAME)                                                                            \
    static rv_object *NAME##_create(const rv_args *a, rv_error *err)                               \
    {                                                                                              \
        return rv_metric_create_plain(&rv_class_metrics_##NAME, a, err);                           \
    }
MC_CREATE(Accuracy)
MC_CREATE(MacroPrecision)
MC_CREATE(MacroRecall)
MC_CREATE(MacroF1)
MC_CREATE(MicroPrecision)
MC_CREATE(MicroRecall)
MC_CREATE(MicroF1)

static const rv_metric_ops accuracy_ops = {mc_update, mc_revert, accuracy_get, 1,
                                           RV_METRIC_CLASSIFICATION};
static const rv_metric_ops macro_p_ops = {mc_update, mc_revert, macro_p_get, 1,
                                          RV_METRIC_CLASSIFICATION};
static const rv_metric_ops macro_r_ops = {mc_update, mc_revert, macro_r_get, 1,
                                          RV_METRIC_CLASSIFICATION};
static const rv_metric_ops macro_f1_ops = {mc_update, mc_revert, macro_f1_get, 1,
                                           RV_METRIC_CLASSIFICATION};

const rv_class rv_class_metrics_Accuracy = {
    .kind = RV_CLASS_METRIC,
    .module = "metrics",
    .name = "Accuracy",
    .doc = "Share of correct predictions.",
    .create = Accuracy_create,
    MC_CLASS_FUNCS,
    .ops = &accuracy_ops,
};

const rv_class rv_class_metrics_MacroPrecision = {
    .kind = RV_CLASS_METRIC,
    .module = "metrics",
    .name = "MacroPrecision",
    .doc = "Precision averaged over classes.",
    .create = MacroPrecision_create,
    MC_CLASS_FUNCS,
    .ops = &macro_p_ops,
};

const rv_class rv_class_metrics_MacroRecall = {
    .kind = RV_CLASS_METRIC,
    .module = "metrics",
    .name = "MacroRecall",
    .doc = "Recall averaged over classes.",
    .create = MacroRecall_create,
    MC_CLASS_FUNCS,
    .ops = &macro_r_ops,
};

const rv_class rv_class_metrics_MacroF1 = {
    .kind = RV_CLASS_METRIC,
    .module = "metrics",
    .name = "MacroF1",
    .doc = "F1 averaged over classes.",
    .create = MacroF1_create,
    MC_CLASS_FUNCS,
    .ops = &macro_f1_ops,
};

const rv_class rv_class_metrics_MicroPrecision = {
    .kind = RV_CLASS_METRIC,
    .module = "metrics",
    .name = "MicroPrecision",
    .doc = "Precision over all pairs (= accuracy for single-label data).",
    .create = MicroPrecision_create,
    MC_CLASS_FUNCS,
    .ops = &accuracy_ops,
};

const rv_class rv_class_metrics_MicroRecall = {
    .kind = RV_CLASS_METRIC,
    .module = "metrics",
    .name = "MicroRecall",
    .doc = "Recall over all pairs (= accuracy for single-label data).",
    .create = MicroRecall_create,
    MC_CLASS_FUNCS,
    .ops = &accuracy_ops,
};

const rv_class rv_class_metrics_MicroF1 = {
    .kind = RV_CLASS_METRIC,
    .module = "metrics",
    .name = "MicroF1",
    .doc = "F1 over all pairs (= accuracy for single-label data).",
    .create = MicroF1_create,
    MC_CLASS_FUNCS,
    .ops = &accuracy_ops,
};
