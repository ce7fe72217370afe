/* feature_extraction.Agg and feature_extraction.TargetAgg (creme 0.5.1,
 * creme/feature_extraction/agg.py; SPEC.md §4).
 *
 * State: a table of groups (key -> a clone of the prototype statistic `how`).
 *
 *   Agg(on, by, how)         learn(x):    groups[key(x)].update(x[on])
 *                            transform:   {<on>_<how.name>_by_<by>: groups[key(x)].get()}
 *   TargetAgg(by, how)       learn(x, y): groups[key(x)].update(y)
 *                            transform:   {target_<how.name>_by_<by>: groups[key(x)].get()}
 *
 * `by` names are joined with "_and_" in the feature name, e.g.
 * target_rolling_rollingmean_7_by_item_id.
 *
 * Edge cases:
 * - Unseen group at transform: creme's defaultdict creates an empty group and
 *   returns its value (RollingMean: 0). We return the value of the untouched
 *   prototype, which is that same number, without creating the group, so
 *   that transform stays read-only (concurrent predicts, the contract test).
 *   The group is created by the first learn.
 * - A missing `by` feature groups as None; a missing or non-numeric `on`
 *   feature (Agg) is not learned; learn without a target (TargetAgg) is a
 *   no-op; a string target is an RV_ETYPE error. NaN and inf go into the
 *   statistic as creme would.
 *
 * Inside a TransformerUnion, TargetAggs of rolling means that share `by` are
 * fused (src/compose/fused.c): their group tables here then stay empty. */
#include "rivulet/features.h"
#include "rivulet/stats.h"
#include "features/groups.h"

#include <stdlib.h>
#include <string.h>

typedef struct agg {
    rv_object base;
    rv_sym on;       /* Agg only */
    rv_sym feature;  /* the output name */
    uint32_t nby;
    rv_sym *by;
    rv_object *how;  /* prototype */
    rv_sym target_name;
    rv_groups groups;
    rv_object **stats; /* parallel to groups.keys, groups.cap long */
} agg;

extern const rv_class rv_class_feature_extraction_Agg;
extern const rv_class rv_class_feature_extraction_TargetAgg;

static const rv_stat_ops *sops(const rv_object *s) { return s->cls->ops; }

int rv_is_agg(const rv_object *o)
{
    return o && (o->cls == &rv_class_feature_extraction_Agg ||
                 o->cls == &rv_class_feature_extraction_TargetAgg);
}

int rv_is_target_agg(const rv_object *o) { return o && o->cls == &rv_class_feature_extraction_TargetAgg; }
rv_sym rv_agg_feature(const rv_object *o) { return ((const agg *)o)->feature; }
const rv_object *rv_agg_how(const rv_object *o) { return ((const agg *)o)->how; }
rv_sym rv_agg_target_name(const rv_object *o) { return ((const agg *)o)->target_name; }
uint32_t rv_agg_ngroups(const rv_object *o) { return ((const agg *)o)->groups.n; }

uint32_t rv_agg_by(const rv_object *o, const rv_sym **by)
{
    const agg *a = (const agg *)o;
    *by = a->by;
    return a->nby;
}

/* ===== Construction ===== */

static void agg_destroy(rv_object *self)
{
    agg *a = (agg *)self;
    for (uint32_t i = 0; i < a->groups.n; i++)
        rv_object_free(a->stats[i]);
    free(a->stats);
    rv_groups_free(&a->groups);
    rv_object_free(a->how);
    free(a->by);
    free(a);
}

/* "<prefix>_<how name>_by_<b1>_and_<b2>" */
static rv_sym feature_name(rv_sym prefix, const rv_sym *by, uint32_t nby, const rv_object *how)
{
    rv_buf b;
    rv_buf_init(&b);
    rv_buf_printf(&b, "%s_", rv_sym_name(prefix));
    sops(how)->name(how, &b);
    rv_buf_puts(&b, "_by_");
    for (uint32_t i = 0; i < nby; i++)
        rv_buf_printf(&b, "%s%s", i ? "_and_" : "", rv_sym_name(by[i]));
    rv_sym s = b.oom ? RV_SYM_NONE : rv_sym_intern(b.data, b.len);
    rv_buf_free(&b);
    return s;
}

/* Builds an Agg (on != NONE) or a TargetAgg (prefix = target_name). Takes
 * ownership of how, not of by. */
static rv_object *agg_build(const rv_class *cls, rv_sym on, rv_sym target_name, const rv_sym *by,
                            uint32_t nby, rv_object *how, rv_error *err)
{
    if (!how || how->cls->kind != RV_CLASS_STAT) {
        rv_object_free(how);
        rv_error_set(err, RV_EINVAL, "%s: 'how' must be a statistic (stats.*)", cls->name);
        return NULL;
    }
    if (!nby) {
        rv_object_free(how);
        rv_error_set(err, RV_EINVAL, "%s: 'by' needs at least one feature name", cls->name);
        return NULL;
    }
    agg *a = calloc(1, sizeof *a);
    if (!a || !(a->by = malloc(nby * sizeof *a->by))) {
        free(a);
        rv_object_free(how);
        rv_error_set(err, RV_ENOMEM, "out of memory");
        return NULL;
    }
    a->base.cls = cls;
    a->on = on;
    a->target_name = target_name;
    a->nby = nby;
    memcpy(a->by, by, nby * sizeof *by);
    a->how = how;
    rv_groups_init(&a->groups);
    a->feature = feature_name(on ? on : target_name, by, nby, how);
    if (!a->feature) {
        agg_destroy(&a->base);
        rv_error_set(err, RV_ENOMEM, "out of memory");
        return NULL;
    }
    return &a->base;
}

static rv_sym *intern_all(const char *const *names, size_t n)
{
    rv_sym *s = malloc((n ? n : 1) * sizeof *s);
    for (size_t i = 0; s && i < n; i++)
        s[i] = rv_sym_intern_cstr(names[i]);
    return s;
}

rv_object *rv_agg_new(const char *on, const char *const *by, size_t nby, rv_object *how, rv_error *err)
{
    rv_sym *syms = intern_all(by, nby);
    if (!syms) {
        rv_object_free(how);
        rv_error_set(err, RV_ENOMEM, "out of memory");
        return NULL;
    }
    rv_object *o = agg_build(&rv_class_feature_extraction_Agg, rv_sym_intern_cstr(on), RV_SYM_NONE,
                             syms, (uint32_t)nby, how, err);
    free(syms);
    return o;
}

static rv_object *target_agg_new(const char *const *by, size_t nby, rv_object *how,
                                 const char *target_name, rv_error *err)
{
    rv_sym *syms = intern_all(by, nby);
    if (!syms) {
        rv_object_free(how);
        rv_error_set(err, RV_ENOMEM, "out of memory");
        return NULL;
    }
    rv_object *o = agg_build(&rv_class_feature_extraction_TargetAgg, RV_SYM_NONE,
                             rv_sym_intern_cstr(target_name), syms, (uint32_t)nby, how, err);
    free(syms);
    return o;
}

rv_object *rv_target_agg_new_syms(const rv_sym *by, uint32_t nby, rv_object *how,
                                  rv_sym target_name, rv_error *err)
{
    return agg_build(&rv_class_feature_extraction_TargetAgg, RV_SYM_NONE, target_name, by, nby,
                     how, err);
}

rv_object *rv_target_agg_new(const char *const *by, size_t nby, rv_object *how, rv_error *err)
{
    return target_agg_new(by, nby, how, "target", err);
}

static const char *const agg_sig[] = {"on", "by", "how", NULL};
static const char *const target_agg_sig[] = {"by", "how", "target_name", NULL};

/* Reads by= and how= shared by both signatures. */
static rv_status read_by_how(const rv_args *args, const char *const *sig, const char ***by,
                             size_t *nby, rv_object **how, rv_error *err)
{
    if (rv_args_check(args, sig, err) ||
        rv_args_get_strlist(args, sig, "by", by, nby, err))
        return err ? err->code : RV_EINVAL;
    if (!*nby) {
        free(*by);
        return rv_args_error(args, rv_args_find(args, sig, "by"), err, RV_EINVAL,
                             "argument 'by' is required (a feature name or a list of them)");
    }
    if (rv_args_take_obj(args, sig, "how", RV_CLASS_STAT, how, err)) {
        free(*by);
        return err ? err->code : RV_EINVAL;
    }
    if (!*how) {
        free(*by);
        return rv_args_error(args, NULL, err, RV_EINVAL,
                             "argument 'how' is required (a statistic, e.g. stats.Mean())");
    }
    return RV_OK;
}

/* Both create the same way: by and how, then one string, Agg's `on`
 * (required: dflt NULL) or TargetAgg's `target_name` (dflt "target"). */
static rv_object *create_with(const rv_args *args, const char *const *sig, const char *name,
                              const char *dflt, rv_error *err)
{
    const char **by;
    size_t nby;
    rv_object *how;
    const char *str = NULL;
    if (read_by_how(args, sig, &by, &nby, &how, err))
        return NULL;
    if (rv_args_get_str(args, sig, name, dflt, &str, err) || !str) {
        if (!str && (!err || !err->code))
            rv_args_error(args, NULL, err, RV_EINVAL, "argument '%s' is required", name);
        free(by);
        rv_object_free(how);
        return NULL;
    }
    rv_object *o = dflt ? target_agg_new(by, nby, how, str, err) : rv_agg_new(str, by, nby, how, err);
    free(by);
    return o;
}

static rv_object *agg_create(const rv_args *args, rv_error *err)
{
    return create_with(args, agg_sig, "on", NULL, err);
}

static rv_object *target_agg_create(const rv_args *args, rv_error *err)
{
    return create_with(args, target_agg_sig, "target_name", "target", err);
}

static rv_object *agg_clone(const rv_object *self, rv_error *err)
{
    const agg *a = (const agg *)self;
    rv_object *how = rv_object_clone(a->how, err);
    if (!how)
        return NULL;
    return agg_build(self->cls, a->on, a->target_name, a->by, a->nby, how, err);
}

/* ===== Groups ===== */

/* The statistic of x's group, created on first use; NULL on OOM. */
static rv_object *group_for_learn(agg *a, const rv_event *x, rv_error *err)
{
    uint64_t key = rv_group_key(x, a->by, a->nby);
    int64_t i = rv_groups_find(&a->groups, key);
    if (i >= 0)
        return a->stats[i];
    rv_object *s = rv_object_clone(a->how, err);
    if (!s)
        return NULL;
    if (a->groups.n == a->groups.cap) {
        rv_object **st = realloc(a->stats, rv_groups_next_cap(&a->groups) * sizeof *st);
        if (!st) {
            rv_object_free(s);
            rv_error_set(err, RV_ENOMEM, "out of memory");
            return NULL;
        }
        a->stats = st;
    }
    i = rv_groups_add(&a->groups, key);
    if (i < 0) {
        rv_object_free(s);
        rv_error_set(err, RV_ENOMEM, "out of memory");
        return NULL;
    }
    a->stats[i] = s;
    return s;
}

static rv_status agg_learn(rv_object *self, const rv_event *x, const rv_value *y, rv_error *err)
{
    agg *a = (agg *)self;
    double v;
    if (a->on) {
        const rv_feature *f = rv_event_get(x, a->on);
        if (!f || f->kind != RV_NUM)
            return RV_OK;
        v = f->num;
    } else {
        if (!y || y->kind == RV_NONE)
            return RV_OK;
        if (y->kind != RV_NUM)
            return rv_error_set(err, RV_ETYPE, "TargetAgg needs a numeric target");
        v = y->num;
    }
    rv_object *s = group_for_learn(a, x, err);
    if (!s)
        return err ? err->code : RV_ENOMEM;
    sops(s)->update(s, v, 1.0);
    return RV_OK;
}

static rv_status agg_transform(rv_object *self, const rv_event *x, rv_event *out, rv_error *err)
{
    agg *a = (agg *)self;
    int64_t i = rv_groups_find(&a->groups, rv_group_key(x, a->by, a->nby));
    const rv_object *s = i >= 0 ? a->stats[i] : a->how;
    rv_event_clear(out);
    if (rv_event_push_num(out, a->feature, sops(s)->get(s)))
        return rv_error_set(err, RV_ENOMEM, "out of memory");
    return RV_OK;
}

/* ===== Copy, save, load, describe ===== */

static rv_object *agg_copy(const rv_object *self, rv_error *err)
{
    const agg *a = (const agg *)self;
    agg *c = (agg *)agg_clone(self, err);
    if (!c)
        return NULL;
    if (a->groups.n) {
        if (rv_groups_copy(&c->groups, &a->groups) ||
            !(c->stats = calloc(a->groups.cap, sizeof *c->stats))) {
            c->groups.n = 0;
            agg_destroy(&c->base);
            rv_error_set(err, RV_ENOMEM, "out of memory");
            return NULL;
        }
        for (uint32_t i = 0; i < a->groups.n; i++)
            if (!(c->stats[i] = rv_object_copy(a->stats[i], err))) {
                c->groups.n = i;
                agg_destroy(&c->base);
                return NULL;
            }
    }
    return &c->base;
}

/* Layout: u32 ngroups, then per group in insertion order:
 *   u64 key | u32 len | len bytes of the statistic's own state */
static rv_status agg_save(const rv_object *self, rv_buf *out)
{
    const agg *a = (const agg *)self;
    rv_buf_put_u32(out, a->groups.n);
    rv_buf sub;
    rv_buf_init(&sub);
    for (uint32_t i = 0; i < a->groups.n; i++) {
        rv_buf_reset(&sub);
        rv_buf_put_u64(out, a->groups.keys[i]);
        if (a->stats[i]->cls->save(a->stats[i], &sub) || sub.oom) {
            rv_buf_free(&sub);
            return RV_ENOMEM;
        }
        rv_buf_put_bytes(out, sub.data, (uint32_t)sub.len);
    }
    rv_buf_free(&sub);
    return out->oom ? RV_ENOMEM : RV_OK;
}

static rv_status agg_load(rv_object *self, rv_reader *in)
{
    agg *a = (agg *)self;
    uint32_t n = rv_reader_count(in, 12);
    for (uint32_t i = 0; i < n && in->status == RV_OK; i++) {
        uint64_t key = rv_reader_u64(in);
        uint32_t len;
        const char *p = rv_reader_bytes(in, &len, UINT32_MAX);
        if (in->status)
            break;
        if (rv_groups_find(&a->groups, key) >= 0) {
            rv_reader_fail(in, "duplicate group in TargetAgg state");
            break;
        }
        rv_object *s = rv_object_clone(a->how, NULL);
        if (!s)
            return RV_ENOMEM;
        rv_reader sub;
        rv_reader_init(&sub, p, len);
        if (s->cls->load(s, &sub) || sub.status || sub.pos != sub.len) {
            rv_object_free(s);
            rv_reader_fail(in, "bad statistic state in a group");
            break;
        }
        if (a->groups.n == a->groups.cap) {
            rv_object **st = realloc(a->stats, rv_groups_next_cap(&a->groups) * sizeof *st);
            if (!st) {
                rv_object_free(s);
                return RV_ENOMEM;
            }
            a->stats = st;
        }
        int64_t at = rv_groups_add(&a->groups, key);
        if (at < 0) {
            rv_object_free(s);
            return RV_ENOMEM;
        }
        a->stats[at] = s;
    }
    return in->status;
}

static void describe_by(rv_describer *d, const agg *a)
{
    const char *names[64];
    uint32_t n = a->nby < 64 ? a->nby : 64;
    for (uint32_t i = 0; i < n; i++)
        names[i] = rv_sym_name(a->by[i]);
    rv_describe_strlist(d, "by", names, n);
}

static rv_status agg_describe(const rv_object *self, rv_buf *out)
{
    const agg *a = (const agg *)self;
    rv_describer d;
    rv_describe_open(&d, out, self);
    if (a->on)
        rv_describe_str(&d, "on", rv_sym_name(a->on));
    describe_by(&d, a);
    rv_describe_obj(&d, "how", a->how);
    if (!a->on && strcmp(rv_sym_name(a->target_name), "target") != 0)
        rv_describe_str(&d, "target_name", rv_sym_name(a->target_name));
    return rv_describe_close(&d);
}

static size_t agg_memory(const rv_object *self)
{
    const agg *a = (const agg *)self;
    size_t m = sizeof *a + a->nby * sizeof *a->by + rv_object_memory(a->how) +
               rv_groups_memory(&a->groups) + a->groups.cap * sizeof *a->stats;
    for (uint32_t i = 0; i < a->groups.n; i++)
        m += rv_object_memory(a->stats[i]);
    return m;
}

static const rv_estimator_ops agg_ops = {agg_learn, agg_transform, NULL, NULL};

const rv_class rv_class_feature_extraction_Agg = {
    .kind = RV_CLASS_ESTIMATOR,
    .module = "feature_extraction",
    .name = "Agg",
    .flags = RV_F_TRANSFORMER,
    .doc = "running statistic of a feature within groups of other features",
    .create = agg_create,
    .clone = agg_clone,
    .copy = agg_copy,
    .save = agg_save,
    .load = agg_load,
    .describe = agg_describe,
    .memory = agg_memory,
    .destroy = agg_destroy,
    .ops = &agg_ops,
};

const rv_class rv_class_feature_extraction_TargetAgg = {
    .kind = RV_CLASS_ESTIMATOR,
    .module = "feature_extraction",
    .name = "TargetAgg",
    .flags = RV_F_TRANSFORMER | RV_F_SUPERVISED,
    .doc = "running statistic of the target within groups of features",
    .create = target_agg_create,
    .clone = agg_clone,
    .copy = agg_copy,
    .save = agg_save,
    .load = agg_load,
    .describe = agg_describe,
    .memory = agg_memory,
    .destroy = agg_destroy,
    .ops = &agg_ops,
};
