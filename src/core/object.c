/* The object model's generic entry points: dispatch through the class, with
 * checks that turn a missing operation into an error instead of a crash. */
#include "rivulet/core.h"

#include <stdlib.h>
#include <string.h>

void rv_object_free(rv_object *o)
{
    if (o)
        o->cls->destroy(o);
}

rv_object *rv_object_clone(const rv_object *o, rv_error *err)
{
    if (!o) {
        rv_error_set(err, RV_EINVAL, "cannot clone a missing object");
        return NULL;
    }
    return o->cls->clone(o, err);
}

rv_object *rv_object_copy(const rv_object *o, rv_error *err)
{
    if (!o) {
        rv_error_set(err, RV_EINVAL, "cannot copy a missing object");
        return NULL;
    }
    return o->cls->copy(o, err);
}

rv_status rv_object_describe(const rv_object *o, rv_buf *out)
{
    if (!o)
        return rv_buf_puts(out, "None");
    return o->cls->describe(o, out);
}

size_t rv_object_memory(const rv_object *o) { return o && o->cls->memory ? o->cls->memory(o) : 0; }

rv_object *rv_object_roundtrip(const rv_object *o, rv_error *err)
{
    rv_buf b;
    rv_buf_init(&b);
    if (o->cls->save(o, &b)) {
        rv_buf_free(&b);
        rv_error_set(err, RV_ENOMEM, "out of memory saving %s", o->cls->name);
        return NULL;
    }
    rv_object *fresh = rv_object_clone(o, err);
    if (!fresh) {
        rv_buf_free(&b);
        return NULL;
    }
    rv_reader r;
    rv_reader_init(&r, b.data, b.len);
    rv_status s = fresh->cls->load(fresh, &r);
    if (s == RV_OK && r.pos != r.len)
        rv_reader_fail(&r, "trailing bytes after state");
    if (s != RV_OK || rv_reader_status(&r, err)) {
        if (s != RV_OK && r.status == RV_OK)
            rv_error_set(err, s, "%s: could not load state", o->cls->name);
        rv_object_free(fresh);
        fresh = NULL;
    }
    rv_buf_free(&b);
    return fresh;
}

/* ===== Estimators ===== */

int rv_is_estimator(const rv_object *o) { return o && o->cls->kind == RV_CLASS_ESTIMATOR; }

unsigned rv_estimator_flags(const rv_object *o) { return rv_is_estimator(o) ? o->cls->flags : 0; }

static const rv_estimator_ops *ops_of(const rv_object *o) { return o->cls->ops; }

_Thread_local unsigned long rv_state_changes;
_Thread_local int rv_state_frozen, rv_state_refused;

rv_status rv_state_refuse(const rv_object *o, rv_error *err)
{
    rv_state_refused = 1;
    return rv_error_set(err, RV_ESTATE, "%s would learn while frozen", o->cls->name);
}

rv_status rv_estimator_learn(rv_object *o, const rv_event *x, const rv_value *y, rv_error *err)
{
    if (!rv_is_estimator(o) || !ops_of(o)->learn)
        return rv_error_set(err, RV_EUNSUPPORTED, "%s cannot learn", o ? o->cls->name : "(null)");
    if (!(o->cls->flags & RV_F_COUNTS_CHANGES)) {
        if (rv_state_frozen)
            return rv_state_refuse(o, err);
        rv_state_changes++;
    }
    return ops_of(o)->learn(o, x, y, err);
}

rv_status rv_estimator_transform(rv_object *o, const rv_event *x, rv_event *out, rv_error *err)
{
    if (!rv_is_estimator(o) || !ops_of(o)->transform)
        return rv_error_set(err, RV_EUNSUPPORTED, "%s is not a transformer",
                            o ? o->cls->name : "(null)");
    return ops_of(o)->transform(o, x, out, err);
}

rv_status rv_estimator_predict(rv_object *o, const rv_event *x, rv_prediction *out, rv_error *err)
{
    if (!rv_is_estimator(o) || !ops_of(o)->predict)
        return rv_error_set(err, RV_EUNSUPPORTED, "%s cannot predict", o ? o->cls->name : "(null)");
    return ops_of(o)->predict(o, x, out, err);
}

void rv_estimator_prefetch(const rv_object *o)
{
    if (rv_is_estimator(o) && ops_of(o)->prefetch)
        ops_of(o)->prefetch(o);
}

/* ===== Describing ===== */

void rv_describe_open(rv_describer *d, rv_buf *out, const rv_object *self)
{
    d->out = out;
    d->nargs = 0;
    if (self->cls->module && self->cls->module[0])
        rv_buf_printf(out, "%s.", self->cls->module);
    rv_buf_printf(out, "%s(", self->cls->name);
}

static void next_arg(rv_describer *d, const char *name)
{
    if (d->nargs++)
        rv_buf_puts(d->out, ", ");
    if (name)
        rv_buf_printf(d->out, "%s=", name);
}

void rv_describe_num(rv_describer *d, const char *name, double x)
{
    next_arg(d, name);
    rv_buf_put_pyfloat(d->out, x);
}

void rv_describe_int(rv_describer *d, const char *name, long x)
{
    next_arg(d, name);
    rv_buf_printf(d->out, "%ld", x);
}

void rv_describe_bool(rv_describer *d, const char *name, int b)
{
    next_arg(d, name);
    rv_buf_puts(d->out, b ? "True" : "False");
}

void rv_describe_str(rv_describer *d, const char *name, const char *s)
{
    next_arg(d, name);
    if (s)
        rv_buf_put_pystr(d->out, s, strlen(s));
    else
        rv_buf_puts(d->out, "None");
}

void rv_describe_strlist(rv_describer *d, const char *name, const char *const *items, size_t n)
{
    next_arg(d, name);
    rv_buf_puts(d->out, "[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            rv_buf_puts(d->out, ", ");
        rv_buf_put_pystr(d->out, items[i], strlen(items[i]));
    }
    rv_buf_puts(d->out, "]");
}

void rv_describe_obj(rv_describer *d, const char *name, const rv_object *o)
{
    next_arg(d, name);
    rv_object_describe(o, d->out);
}

void rv_describe_raw(rv_describer *d, const char *name, const char *text)
{
    next_arg(d, name);
    rv_buf_puts(d->out, text);
}

rv_status rv_describe_close(rv_describer *d)
{
    rv_buf_puts(d->out, ")");
    return d->out->oom ? RV_ENOMEM : RV_OK;
}
