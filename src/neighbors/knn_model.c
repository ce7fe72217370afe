/* The object behind the three nearest-neighbour classes (rv_knn, knn.h):
 * its creation from arguments, clone/copy/save/load/memory/destroy, the
 * known classes of KNNClassifier, and the pieces of learn, predict and
 * describe that the classes share. The window and its search are knn.c.
 *
 * Snapshot: the window's (knn.c), then u32 nclasses | nclasses x (u32 len,
 * label) (0 classes for the regressors). */
#include "neighbors/knn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

rv_knn *rv_knn_alloc(const rv_class *cls, long k, long window_size)
{
    rv_knn *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->base.cls = cls;
    m->k = k;
    m->leaf_size = 30;
    m->p = 2;
    m->weighted = 1;
    m->softmax = 1;
    rv_knn_window_init(&m->win, (uint32_t)window_size);
    return m;
}

/* n_neighbors (>= 1), window_size (>= 1) and p (> 0), with River's defaults
 * 5 and 2 and the class's default window. */
static rv_status common_args(const rv_args *args, const char *const *names, long window_dflt,
                             long *k, long *window, double *p, rv_error *err)
{
    if (rv_args_get_int(args, names, "n_neighbors", 5, 1, 1L << 20, k, err) ||
        rv_args_get_int(args, names, "window_size", window_dflt, 1, 1L << 26, window, err) ||
        rv_args_get_num(args, names, "p", 2, p, err))
        return err ? err->code : RV_EINVAL;
    if (!(*p > 0) || isinf(*p))
        return rv_args_error(args, rv_args_find(args, names, "p"), err, RV_EINVAL,
                             "p must be a positive number");
    return RV_OK;
}

static int lists(const char *const *names, const char *name)
{
    for (; *names; names++)
        if (strcmp(*names, name) == 0)
            return 1;
    return 0;
}

rv_knn *rv_knn_create(const rv_class *cls, const rv_args *args, const char *const *names,
                      long window_dflt, rv_error *err)
{
    long k, window, leaf = 30;
    double p;
    if (rv_args_check(args, names, err) ||
        common_args(args, names, window_dflt, &k, &window, &p, err) ||
        (lists(names, "leaf_size") &&
         rv_args_get_int(args, names, "leaf_size", 30, 1, 1L << 30, &leaf, err)))
        return NULL;
    rv_knn *m = rv_knn_alloc(cls, k, window);
    if (!m) {
        rv_error_set(err, RV_ENOMEM, "%s: out of memory", cls->name);
        return NULL;
    }
    m->p = p;
    m->leaf_size = leaf;
    if (lists(names, "weighted") &&
        rv_args_get_bool(args, names, "weighted", 1, &m->weighted, err)) {
        rv_knn_destroy(&m->base);
        return NULL;
    }
    return m;
}

void rv_knn_describe_common(rv_describer *d, const rv_knn *m, long window_dflt)
{
    if (m->k != 5)
        rv_describe_int(d, "n_neighbors", m->k);
    if ((long)m->win.window != window_dflt)
        rv_describe_int(d, "window_size", (long)m->win.window);
    if (m->leaf_size != 30)
        rv_describe_int(d, "leaf_size", m->leaf_size);
    if (m->p != 2)
        rv_describe_num(d, "p", m->p);
    if (!m->weighted)
        rv_describe_bool(d, "weighted", 0);
}

rv_status rv_knn_learn_number(rv_object *self, const rv_event *x, const rv_value *y,
                              rv_error *err)
{
    rv_knn *m = (rv_knn *)self;
    double target = 0;
    if (rv_knn_target(m, y, &target, err))
        return err ? err->code : RV_ETYPE;
    if (rv_knn_window_push(&m->win, x, target))
        return rv_error_set(err, RV_ENOMEM, "%s: out of memory", self->cls->name);
    return RV_OK;
}

double rv_knn_weighted_mean(const rv_knn_hit *hits, uint32_t n, double p, int root)
{
    double num = 0.0, den = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        double d = root ? rv_knn_root(hits[i].d, p) : hits[i].d;
        num += hits[i].y / d;
        den += 1 / d;
    }
    return num / den;
}

rv_status rv_knn_target(const rv_knn *m, const rv_value *y, double *out, rv_error *err)
{
    if (!y || y->kind != RV_NUM)
        return rv_error_set(err, y ? RV_ETYPE : RV_EINVAL, "%s: the target must be a number",
                            m->base.cls->name);
    *out = y->num;
    return RV_OK;
}

double rv_knn_root(double s, double p)
{
    if (p == 1)
        return s;
    if (p == 2)
        return rv_pow_half(s); /* Python's s ** (1 / 2) is pow(s, 0.5) */
    return pow(s, 1.0 / p);
}

rv_object *rv_knn_clone(const rv_object *self, rv_error *err)
{
    const rv_knn *s = (const rv_knn *)self;
    rv_knn *m = rv_knn_alloc(self->cls, s->k, (long)s->win.window);
    if (!m) {
        rv_error_set(err, RV_ENOMEM, "%s: out of memory", self->cls->name);
        return NULL;
    }
    m->leaf_size = s->leaf_size;
    m->p = s->p;
    m->weighted = s->weighted;
    m->aggregation = s->aggregation;
    m->softmax = s->softmax;
    return &m->base;
}

static rv_status add_class(rv_knn *m, rv_sym label)
{
    if (m->nclasses == m->ccap) {
        uint32_t cap = m->ccap ? m->ccap * 2 : 4;
        rv_sym *p = realloc(m->classes, cap * sizeof *p);
        if (!p)
            return RV_ENOMEM;
        m->classes = p;
        m->ccap = cap;
    }
    m->classes[m->nclasses++] = label;
    return RV_OK;
}

rv_status rv_knn_class_index(rv_knn *m, rv_sym label, uint32_t *index)
{
    for (uint32_t i = 0; i < m->nclasses; i++)
        if (m->classes[i] == label) {
            *index = i;
            return RV_OK;
        }
    *index = m->nclasses;
    return add_class(m, label);
}

rv_object *rv_knn_copy(const rv_object *self, rv_error *err)
{
    const rv_knn *s = (const rv_knn *)self;
    rv_object *o = rv_knn_clone(self, err);
    if (!o)
        return NULL;
    rv_knn *m = (rv_knn *)o;
    rv_knn_window_free(&m->win);
    rv_status st = rv_knn_window_copy(&m->win, &s->win);
    for (uint32_t i = 0; st == RV_OK && i < s->nclasses; i++)
        st = add_class(m, s->classes[i]);
    if (st) {
        rv_object_free(o);
        rv_error_set(err, RV_ENOMEM, "%s: out of memory", self->cls->name);
        return NULL;
    }
    return o;
}

rv_status rv_knn_save(const rv_object *self, rv_buf *out)
{
    const rv_knn *m = (const rv_knn *)self;
    rv_knn_window_save(&m->win, out);
    rv_buf_put_u32(out, m->nclasses);
    for (uint32_t i = 0; i < m->nclasses; i++)
        rv_buf_put_sym(out, m->classes[i]);
    return out->oom ? RV_ENOMEM : RV_OK;
}

rv_status rv_knn_load(rv_object *self, rv_reader *in)
{
    rv_knn *m = (rv_knn *)self;
    rv_status st = rv_knn_window_load(&m->win, in);
    if (st)
        return st;
    uint32_t n = rv_reader_count(in, 4);
    if (n && !(self->cls->flags & RV_F_CLASSIFIER))
        rv_reader_fail(in, "class labels in the state of a regressor");
    for (uint32_t i = 0; i < n && in->status == RV_OK; i++) {
        uint32_t at;
        rv_sym label = rv_reader_sym(in);
        if (in->status != RV_OK)
            break;
        if (rv_knn_class_index(m, label, &at))
            return RV_ENOMEM;
        if (at != i)
            rv_reader_fail(in, "duplicate class label in KNN state");
    }
    if (in->status == RV_OK && (self->cls->flags & RV_F_CLASSIFIER))
        for (uint32_t r = 0; r < m->win.size; r++) {
            double y = m->win.y[r];
            if (!(y >= 0 && y < m->nclasses && y == floor(y))) {
                rv_reader_fail(in, "KNN point with an unknown class");
                break;
            }
        }
    return in->status;
}

size_t rv_knn_memory(const rv_object *self)
{
    const rv_knn *m = (const rv_knn *)self;
    return sizeof *m + rv_knn_window_memory(&m->win) + m->ccap * sizeof(rv_sym);
}

void rv_knn_destroy(rv_object *self)
{
    rv_knn *m = (rv_knn *)self;
    rv_knn_window_free(&m->win);
    free(m->classes);
    free(m);
}
