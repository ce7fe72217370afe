/* The object life cycle shared by every optim class: create from River
 * arguments, clone, copy, save, load, describe, memory, destroy.
 *
 * Parameters are floats described by the class's optim_spec (optim_internal.h).
 * A parameter whose default is NaN is required (schedulers.Constant's
 * learning_rate, initializers.Constant's value). Every parameter must be
 * finite. Optimizers take their learning rate first (`lr`): a number becomes
 * schedulers.Constant(number), a scheduler is cloned.
 *
 * Learned state: only optimizers have any, and it is small:
 *   u64 n_iterations | (FTRLProximal) its (z, n) table as rv_weights
 * Per-weight state of the other optimizers lives in the model's rv_weights
 * and is saved by the model. Schedulers, losses and initializers save nothing.
 *
 * Describe writes `module.Name(param=value, ...)` with only the parameters
 * that differ from their defaults, and `lr=<number>` for a constant rate.
 */
#include "optim_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const optim_spec *spec_of(const rv_object *o)
{
    return ((const optim_class_ops *)o->cls->ops)->spec;
}

static int is_optimizer(const rv_object *o) { return o->cls->kind == RV_CLASS_OPTIMIZER; }

static rv_object *alloc_like(const rv_class *cls, const optim_spec *spec)
{
    size_t size = cls->kind == RV_CLASS_OPTIMIZER ? sizeof(rv_optim_obj) : sizeof(rv_param_obj);
    rv_object *o = calloc(1, size + spec->n * sizeof(double));
    if (o)
        o->cls = cls;
    return o;
}

static rv_status new_aux(rv_optim_obj *o, const optim_spec *spec, const rv_weights *from)
{
    if (!spec->aux_state)
        return RV_OK;
    o->aux = malloc(sizeof *o->aux);
    if (!o->aux)
        return RV_ENOMEM;
    rv_weights_init(o->aux, (uint32_t)spec->aux_state);
    return from ? rv_weights_copy(o->aux, from) : RV_OK;
}

rv_status optim_check_positive(const rv_args *a, const char *const *names, const char *name,
                               double v, rv_error *err)
{
    if (!(v > 0))
        return rv_args_error(a, rv_args_find(a, names, name), err, RV_EINVAL,
                             "argument '%s' must be positive, got %g", name, v);
    return RV_OK;
}

static rv_status read_params(double *p, rv_object **lr, const optim_spec *spec, const rv_args *a,
                             rv_error *err)
{
    for (uint32_t i = 0; i < spec->n; i++) {
        const char *name = spec->names[i];
        if (spec->lr_first && i == 0) {
            if (rv_args_take_obj(a, spec->names, name, RV_CLASS_SCHEDULER, lr, err))
                return err ? err->code : RV_EINVAL;
            if (!*lr)
                *lr = rv_optim_new("optim.schedulers.Constant", RV_CLASS_SCHEDULER, &spec->dflt[0],
                                   1, err);
            if (!*lr)
                return err ? err->code : RV_ENOMEM;
            continue;
        }
        if (rv_args_get_num(a, spec->names, name, spec->dflt[i], &p[i], err))
            return err ? err->code : RV_EINVAL;
        const rv_arg *at = rv_args_find(a, spec->names, name);
        if (!at && isnan(spec->dflt[i]))
            return rv_args_error(a, NULL, err, RV_EINVAL, "missing required argument '%s'", name);
        if (!isfinite(p[i]))
            return rv_args_error(a, at, err, RV_EINVAL, "argument '%s' must be finite", name);
    }
    return spec->check ? spec->check(p, a, spec->names, err) : RV_OK;
}

rv_object *optim_create(const rv_class *cls, const rv_args *a, rv_error *err)
{
    const optim_spec *spec = ((const optim_class_ops *)cls->ops)->spec;
    if (rv_args_check(a, spec->names, err))
        return NULL;
    if (spec->singleton)
        return spec->singleton;
    rv_object *o = alloc_like(cls, spec);
    if (!o) {
        rv_error_set(err, RV_ENOMEM, "out of memory creating %s", cls->name);
        return NULL;
    }
    double *p = (double *)optim_params(o);
    rv_object *lr = NULL;
    rv_status s = read_params(p, &lr, spec, a, err);
    if (is_optimizer(o)) {
        ((rv_optim_obj *)o)->h.lr = lr;
        if (s == RV_OK && new_aux((rv_optim_obj *)o, spec, NULL))
            s = rv_error_set(err, RV_ENOMEM, "out of memory creating %s", cls->name);
    }
    if (s) {
        optim_destroy(o);
        return NULL;
    }
    return o;
}

/* Clone (with_state = 0) or copy (1). */
static rv_object *duplicate(const rv_object *self, int with_state, rv_error *err)
{
    const optim_spec *spec = spec_of(self);
    if (spec->singleton)
        return spec->singleton;
    rv_object *o = alloc_like(self->cls, spec);
    if (!o) {
        rv_error_set(err, RV_ENOMEM, "out of memory copying %s", self->cls->name);
        return NULL;
    }
    memcpy((double *)optim_params(o), optim_params(self), spec->n * sizeof(double));
    if (!is_optimizer(o))
        return o;
    const rv_optim_obj *src = (const rv_optim_obj *)self;
    rv_optim_obj *dst = (rv_optim_obj *)o;
    rv_status s = RV_OK;
    if (src->h.lr) {
        dst->h.lr = with_state ? rv_object_copy(src->h.lr, err) : rv_object_clone(src->h.lr, err);
        if (!dst->h.lr)
            s = RV_ENOMEM;
    }
    if (with_state)
        dst->h.n_iterations = src->h.n_iterations;
    if (s == RV_OK && new_aux(dst, spec, with_state ? src->aux : NULL))
        s = rv_error_set(err, RV_ENOMEM, "out of memory copying %s", self->cls->name);
    if (s) {
        optim_destroy(o);
        return NULL;
    }
    return o;
}

rv_object *optim_clone(const rv_object *self, rv_error *err) { return duplicate(self, 0, err); }

rv_object *optim_copy(const rv_object *self, rv_error *err) { return duplicate(self, 1, err); }

rv_status optim_save(const rv_object *self, rv_buf *out)
{
    if (!is_optimizer(self))
        return RV_OK;
    const rv_optim_obj *o = (const rv_optim_obj *)self;
    rv_buf_put_u64(out, o->h.n_iterations);
    if (o->aux)
        rv_weights_save(o->aux, out);
    return out->oom ? RV_ENOMEM : RV_OK;
}

rv_status optim_load(rv_object *self, rv_reader *in)
{
    if (!is_optimizer(self))
        return RV_OK;
    rv_optim_obj *o = (rv_optim_obj *)self;
    o->h.n_iterations = rv_reader_u64(in);
    if (o->aux && in->status == RV_OK)
        return rv_weights_load(o->aux, in);
    return in->status;
}

static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

rv_status optim_describe(const rv_object *self, rv_buf *out)
{
    const optim_spec *spec = spec_of(self);
    const double *p = optim_params(self);
    rv_describer d;
    rv_describe_open(&d, out, self);
    for (uint32_t i = 0; i < spec->n; i++) {
        if (spec->lr_first && i == 0) {
            const rv_object *lr = ((const rv_optim_obj *)self)->h.lr;
            if (lr->cls != &rv_class_optim_schedulers_constant)
                rv_describe_obj(&d, spec->names[0], lr);
            else if (!same_bits(optim_params(lr)[0], spec->dflt[0]))
                rv_describe_num(&d, spec->names[0], optim_params(lr)[0]);
        } else if (!same_bits(p[i], spec->dflt[i])) {
            rv_describe_num(&d, spec->names[i], p[i]);
        }
    }
    return rv_describe_close(&d);
}

size_t optim_memory(const rv_object *self)
{
    const optim_spec *spec = spec_of(self);
    if (spec->singleton)
        return 0;
    if (!is_optimizer(self))
        return sizeof(rv_param_obj) + spec->n * sizeof(double);
    const rv_optim_obj *o = (const rv_optim_obj *)self;
    size_t m = sizeof *o + spec->n * sizeof(double) + rv_object_memory(o->h.lr);
    if (o->aux)
        m += sizeof *o->aux + rv_weights_memory(o->aux);
    return m;
}

void optim_destroy(rv_object *self)
{
    if (spec_of(self)->singleton)
        return;
    if (is_optimizer(self)) {
        rv_optim_obj *o = (rv_optim_obj *)self;
        rv_object_free(o->h.lr);
        if (o->aux) {
            rv_weights_free(o->aux);
            free(o->aux);
        }
    }
    free(self);
}

/* ===== Construction from C ===== */

rv_object *rv_optim_new(const char *name, rv_class_kind kind, const double *args, size_t nargs,
                        rv_error *err)
{
    const rv_class *c = rv_class_find_kind(name, kind);
    if (!c || c->kind != kind) {
        rv_error_set(err, RV_ENOTFOUND, "no optim class '%s' of that kind", name);
        return NULL;
    }
    rv_args a;
    rv_args_init(&a, name);
    for (size_t i = 0; i < nargs; i++)
        rv_args_add_num(&a, NULL, args[i]);
    rv_object *o = c->create(&a, err);
    rv_args_free(&a);
    return o;
}

rv_object *rv_optimizer_new(const char *name, rv_object *lr, rv_error *err)
{
    const rv_class *c = rv_class_find_kind(name, RV_CLASS_OPTIMIZER);
    if (!c || c->kind != RV_CLASS_OPTIMIZER) {
        rv_object_free(lr);
        rv_error_set(err, RV_ENOTFOUND, "no optimizer '%s'", name);
        return NULL;
    }
    rv_args a;
    rv_args_init(&a, name);
    if (lr)
        rv_args_add_obj(&a, NULL, lr);
    rv_object *o = c->create(&a, err);
    rv_args_free(&a);
    return o;
}
