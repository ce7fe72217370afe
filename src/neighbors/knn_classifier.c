/* neighbors.KNNClassifier: River's k-nearest-neighbours classifier with
 * exact search (River 0.7-0.10 signature: KNNClassifier(n_neighbors=5,
 * window_size=1000, leaf_size=30, p=2, weighted=True), plus later River's
 * softmax=True).
 *
 *   learn:    the label (rv_label_of(y): "True"/"False", a number's shortest
 *             repr, a string itself) joins the known classes (first-seen
 *             order); (x, class) joins the window of the last window_size.
 *   distance: true Minkowski distance (sum |x_f - p_f| ** p) ** (1 / p),
 *             absent features 0, summed in feature order.
 *   predict:  every known class starts at 0.0; then
 *               empty window        -> all 0.0 (no class known: no entries)
 *               nearest d == 0      -> that point's class 1.0, others 0.0
 *               otherwise each of the min(k, size) nearest (ties oldest
 *               first) votes 1 / d (weighted) or 1 (uniform) for its class;
 *               softmax=True: River's utils.math.softmax of the votes,
 *                 exp(v - max) / sum over classes of exp(v - max);
 *               softmax=False: votes / their sum.
 * For binary labels, num is P("True") (or P("1") for 0/1 labels).
 * NaN/inf features never crash; string features are ignored. */
#include "neighbors/knn.h"
#include "rivulet/neighbors.h"

#include <math.h>
#include <stdlib.h>

static const char *const params[] = {"n_neighbors", "window_size", "leaf_size", "p",
                                     "weighted", "softmax", NULL};

static rv_status learn(rv_object *self, const rv_event *x, const rv_value *y, rv_error *err)
{
    rv_knn *m = (rv_knn *)self;
    if (!y || (y->kind != RV_NUM && y->kind != RV_STR))
        return rv_error_set(err, RV_EINVAL, "KNNClassifier: learning needs a target");
    uint32_t c;
    rv_sym label = rv_label_of(y);
    if (label == RV_SYM_NONE || rv_knn_class_index(m, label, &c) ||
        rv_knn_window_push(&m->win, x, (double)c))
        return rv_error_set(err, RV_ENOMEM, "KNNClassifier: out of memory");
    return RV_OK;
}

/* River's utils.math.softmax, in place. */
static void softmax(double *v, uint32_t n)
{
    if (!n)
        return;
    double max = v[0], total = 0.0;
    for (uint32_t i = 1; i < n; i++)
        if (v[i] > max)
            max = v[i];
    for (uint32_t i = 0; i < n; i++) {
        v[i] = exp(v[i] - max);
        total += v[i];
    }
    for (uint32_t i = 0; i < n; i++)
        v[i] /= total;
}

static void normalize(double *v, uint32_t n)
{
    double total = 0.0;
    for (uint32_t i = 0; i < n; i++)
        total += v[i];
    for (uint32_t i = 0; i < n; i++)
        v[i] /= total;
}

static void vote(const rv_knn *m, const rv_knn_hit *hits, uint32_t n, double *votes)
{
    if (rv_knn_root(hits[0].d, m->p) == 0) {
        votes[(uint32_t)hits[0].y] = 1.0;
        return;
    }
    for (uint32_t i = 0; i < n; i++)
        votes[(uint32_t)hits[i].y] += m->weighted ? 1.0 / rv_knn_root(hits[i].d, m->p) : 1.0;
    if (m->softmax)
        softmax(votes, m->nclasses);
    else
        normalize(votes, m->nclasses);
}

static rv_status predict(rv_object *self, const rv_event *x, rv_prediction *out, rv_error *err)
{
    rv_knn *m = (rv_knn *)self;
    uint32_t n, nc = m->nclasses;
    const rv_knn_hit *hits = rv_knn_window_nearest(&m->win, x, m->p, (uint32_t)m->k, &n);
    double small[16], *votes = !hits ? NULL : nc <= 16 ? small : calloc(nc, sizeof *votes);
    if (!votes)
        return rv_error_set(err, RV_ENOMEM, "KNNClassifier: out of memory");
    for (uint32_t c = 0; c < nc; c++)
        votes[c] = 0.0;
    if (n > 0)
        vote(m, hits, n, votes);
    rv_prediction_clear(out);
    out->kind = RV_PRED_PROBA;
    rv_status st = RV_OK;
    static _Atomic rv_sym one_sym; /* interning is idempotent: a race is harmless */
    rv_sym yes = rv_label_true(), one = one_sym;
    if (!one)
        one_sym = one = rv_sym_intern_cstr("1");
    for (uint32_t c = 0; c < nc && st == RV_OK; c++) {
        st = rv_prediction_set_proba(out, m->classes[c], votes[c]);
        if (nc <= 2 && (m->classes[c] == yes || m->classes[c] == one))
            out->num = votes[c];
    }
    if (votes != small)
        free(votes);
    return st ? rv_error_set(err, st, "KNNClassifier: out of memory") : RV_OK;
}

static rv_object *create(const rv_args *args, rv_error *err)
{
    rv_knn *m = rv_knn_create(&rv_class_neighbors_KNNClassifier, args, params, 1000, err);
    if (m && rv_args_get_bool(args, params, "softmax", 1, &m->softmax, err)) {
        rv_knn_destroy(&m->base);
        return NULL;
    }
    return m ? &m->base : NULL;
}

static rv_status describe(const rv_object *self, rv_buf *out)
{
    const rv_knn *m = (const rv_knn *)self;
    rv_describer d;
    rv_describe_open(&d, out, self);
    rv_knn_describe_common(&d, m, 1000);
    if (!m->softmax)
        rv_describe_bool(&d, "softmax", 0);
    return rv_describe_close(&d);
}

static const rv_estimator_ops ops = {.learn = learn, .predict = predict, .prefetch = rv_knn_prefetch};

const rv_class rv_class_neighbors_KNNClassifier = {
    .kind = RV_CLASS_ESTIMATOR,
    .module = "neighbors",
    .name = "KNNClassifier",
    .flags = RV_F_CLASSIFIER | RV_F_MULTICLASS,
    .doc = "River k-nearest neighbours classifier (exact search, Minkowski distance)",
    .create = create,
    .describe = describe,
    RV_KNN_CLASS_FUNCS,
    .ops = &ops,
};
