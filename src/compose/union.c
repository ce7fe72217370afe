/* compose.TransformerUnion (creme 0.5.1 creme/compose/union.py; SPEC.md §2).
 *
 * transform(x) = dict(ChainMap(*(t.transform_one(x) for t in parts))):
 * the output lists the features of the parts in REVERSE part order (the
 * last part's features first) and, when two parts emit the same name, the
 * value of the earliest part wins while the position is that of its first
 * appearance in the reversed walk. The M5 union thus emits wday_30, wday_25,
 * wday_20 ... wday_1, item_7 ... item_1: the summation order of the
 * downstream dot products and distances.
 *
 * learn(x, y) (the union on its own) learns every part: supervised parts
 * with (x, y), unsupervised ones with x. Inside a pipeline, the pipeline
 * drives the parts through rv_union_learn_parts (SPEC.md §1).
 *
 * Fusion: TargetAgg(by=B, how=stats.RollingMean(k)) parts that share B and
 * start empty are run by one rv_fused block (fused.c: one ring of recent
 * targets per group, one running sum per rolling mean), so a row costs one
 * group lookup per block instead of one per part. The parts stay in the
 * Values are the same, bit for bit, as running the parts one by one.
 *
 * Memory: thousands of keyed clones of one union share its configuration.
 * A union instance holds only learned state; the plan (which part is fused
 * where, windows, feature names) is reference-counted and shared by every
 * clone and copy. Fused parts are not kept as objects at all: describe
 * re-creates TargetAgg(by, stats.RollingMean(k)) from the plan.
 *
 *   uni (per instance)                     union_plan (shared, refcounted)
 *   +------------------+                   +----------------------------+
 *   | plan ------------+-----------------> | n parts; per part: block,  |
 *   | parts[] unfused  |                   |   slot (or unfused index)  |
 *   | states[nblocks] -+--> groups, data   | blocks[]: by, K, k[], names|
 *   +------------------+   (fused.c)       +----------------------------+
 *
 * State layout (save): u8 per part (1 = fused), then each unfused part's
 * state (u32 length + bytes), then each block's state (fused.c). */
#include "compose/fused.h"
#include "compose/internal.h"
#include "rivulet/compose.h"
#include "rivulet/features.h"
#include "rivulet/stats.h"

#include <stdlib.h>
#include <string.h>

#define MAX_BLOCKS 32

typedef struct union_plan {
    uint32_t refs;  /* atomic */
    uint32_t n;     /* parts */
    int32_t *block; /* per part: its fused block, or -1 */
    int32_t *slot;  /* per part: slot in its block, or index among unfused parts */
    uint32_t nblocks, nunfused;
    rv_fused_block *blocks;
    int static_distinct; /* every part emits one known name, all distinct */
    /* all parts fused and static_distinct: output j (parts in reverse) is
     * rolling mean out[j].slot of block out[j].block */
    struct out_item {
        rv_sym name;
        uint32_t block, slot, k;
    } *out;
    unsigned flags;
} union_plan;

typedef struct uni {
    rv_object base;
    union_plan *plan;
    rv_object **parts;       /* the unfused parts, in order */
    rv_fused_state *states;  /* one per block */
} uni;

extern const rv_class rv_class_compose_TransformerUnion;
static rv_class variants[128];
static const rv_estimator_ops union_ops;

int rv_is_union(const rv_object *o) { return o && o->cls->ops == &union_ops; }
size_t rv_union_len(const rv_object *u) { return ((const uni *)u)->plan->n; }

rv_object *rv_union_part(const rv_object *o, size_t i)
{
    const uni *u = (const uni *)o;
    return u->plan->block[i] >= 0 ? NULL : u->parts[u->plan->slot[i]];
}

size_t rv_union_fused_parts(const rv_object *o, size_t *nblocks)
{
    const union_plan *p = ((const uni *)o)->plan;
    if (nblocks)
        *nblocks = p->nblocks;
    return p->n - p->nunfused;
}

static void plan_release(union_plan *p)
{
    if (!p || __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    for (uint32_t b = 0; b < p->nblocks; b++)
        rv_fused_block_free(&p->blocks[b]);
    free(p->blocks);
    free(p->block);
    free(p->slot);
    free(p->out);
    free(p);
}

static void union_destroy(rv_object *self)
{
    uni *u = (uni *)self;
    if (u->plan) {
        for (uint32_t i = 0; i < u->plan->nunfused; i++)
            rv_object_free(u->parts[i]);
        for (uint32_t b = 0; u->states && b < u->plan->nblocks; b++)
            rv_fused_state_free(&u->states[b]);
    }
    plan_release(u->plan);
    free(u->states);
    free(u->parts);
    free(u);
}

/* ===== Fusion plan ===== */

static int fusable(const rv_object *p, uint32_t *k)
{
    if (!rv_is_target_agg(p) || rv_agg_ngroups(p) != 0)
        return 0;
    const rv_object *how = rv_agg_how(p);
    if (strcmp(how->cls->module, "stats") != 0 || strcmp(how->cls->name, "RollingMean") != 0)
        return 0;
    *k = rv_stat_window_size(how);
    return *k >= 1;
}

static int same_block(const rv_fused_block *f, const rv_object *p)
{
    const rv_sym *by;
    uint32_t nby = rv_agg_by(p, &by);
    return nby == f->nby && memcmp(by, f->by, nby * sizeof *by) == 0 &&
           f->target_name == rv_agg_target_name(p);
}

/* Puts part i (fusable, window k) into its block; 1 if fused, 0 if not, -1 on OOM. */
static int plan_fuse(union_plan *p, uint32_t i, const rv_object *part, uint32_t k)
{
    uint32_t b = 0;
    while (b < p->nblocks && !same_block(&p->blocks[b], part))
        b++;
    if (b == p->nblocks) {
        if (b == MAX_BLOCKS)
            return 0;
        rv_fused_block *nb = realloc(p->blocks, (b + 1) * sizeof *nb);
        if (!nb)
            return -1;
        p->blocks = nb;
        const rv_sym *by;
        uint32_t nby = rv_agg_by(part, &by);
        const rv_object *how = rv_agg_how(part);
        if (rv_fused_block_init(&p->blocks[b], by, nby, rv_agg_target_name(part),
                                ((const rv_stat_ops *)how->cls->ops)->get(how)))
            return -1;
        p->nblocks++;
    }
    int32_t s = rv_fused_block_add(&p->blocks[b], k, rv_agg_feature(part));
    if (s < 0)
        return -1;
    p->block[i] = (int32_t)b;
    p->slot[i] = s;
    return 1;
}

/* Builds the plan of parts[0..n-1]; fused parts are freed and set to NULL. */
static union_plan *plan_build(rv_object **parts, uint32_t n)
{
    union_plan *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->refs = 1;
    p->n = n;
    p->block = malloc((n + 1) * sizeof *p->block);
    p->slot = malloc((n + 1) * sizeof *p->slot);
    if (!p->block || !p->slot) {
        plan_release(p);
        return NULL;
    }
    p->static_distinct = 1;
    p->flags = RV_F_TRANSFORMER | RV_F_COMPOSITE;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k;
        int fused = 0;
        p->flags |= parts[i]->cls->flags & RV_F_SUPERVISED;
        if (!rv_is_agg(parts[i]))
            p->static_distinct = 0;
        for (uint32_t j = 0; p->static_distinct && j < i; j++)
            if (rv_agg_feature(parts[j]) == rv_agg_feature(parts[i]))
                p->static_distinct = 0;
        if (fusable(parts[i], &k) && (fused = plan_fuse(p, i, parts[i], k)) < 0) {
            plan_release(p);
            return NULL;
        }
        if (!fused) {
            p->block[i] = -1;
            p->slot[i] = (int32_t)p->nunfused++;
        }
    }
    if (p->static_distinct && !p->nunfused) {
        p->out = malloc((n + 1) * sizeof *p->out);
        if (!p->out) {
            plan_release(p);
            return NULL;
        }
        for (uint32_t i = n, j = 0; i-- > 0; j++) {
            const rv_fused_block *f = &p->blocks[p->block[i]];
            uint32_t slot = (uint32_t)p->slot[i];
            p->out[j] = (struct out_item){f->names[slot], (uint32_t)p->block[i], slot, f->k[slot]};
        }
    }
    /* only now, when nothing can fail, drop the fused parts' objects */
    for (uint32_t i = 0; i < n; i++)
        if (p->block[i] >= 0) {
            rv_object_free(parts[i]);
            parts[i] = NULL;
        }
    return p;
}

/* A fresh TargetAgg standing for fused part i (for describe and flattening). */
static rv_object *materialize(const union_plan *p, uint32_t i, rv_error *err)
{
    const rv_fused_block *f = &p->blocks[p->block[i]];
    rv_args a;
    rv_args_init(&a, "stats.RollingMean");
    rv_args_add_int(&a, NULL, (long)f->k[p->slot[i]]);
    rv_object *how = rv_create("stats.RollingMean", &a, err);
    rv_args_free(&a);
    if (!how)
        return NULL;
    return rv_target_agg_new_syms(f->by, f->nby, how, f->target_name, err);
}

/* ===== Construction ===== */

static void free_all(rv_object **objs, size_t from, size_t n)
{
    for (size_t i = from; i < n; i++)
        rv_object_free(objs[i]);
}

typedef struct part_list {
    rv_object **v;
    size_t n, cap;
} part_list;

static rv_status list_push(part_list *l, rv_object *o)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 32;
        rv_object **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return RV_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = o;
    return RV_OK;
}

/* Appends p (or, for a union, its parts) to the list; takes ownership. A
 * nested union's fused parts come back as fresh TargetAggs: flatten fresh
 * unions (the parser's case), not trained ones. */
static rv_status append_part(part_list *l, rv_object *p, rv_error *err)
{
    if (rv_is_union(p)) {
        uni *inner = (uni *)p;
        rv_status s = RV_OK;
        for (uint32_t i = 0; i < inner->plan->n && s == RV_OK; i++) {
            rv_object *q;
            if (inner->plan->block[i] >= 0) {
                q = materialize(inner->plan, i, err);
                if (!q)
                    s = err ? err->code : RV_ENOMEM;
            } else {
                q = inner->parts[inner->plan->slot[i]];
                inner->parts[inner->plan->slot[i]] = NULL;
            }
            if (q)
                s = append_part(l, q, err);
        }
        union_destroy(p);
        return s;
    }
    if (!(rv_estimator_flags(p) & RV_F_TRANSFORMER)) {
        rv_error_set(err, RV_EINVAL, "TransformerUnion: %s is not a transformer", p->cls->name);
        rv_object_free(p);
        return RV_EINVAL;
    }
    if (list_push(l, p)) {
        rv_object_free(p);
        return rv_error_set(err, RV_ENOMEM, "out of memory");
    }
    return RV_OK;
}

/* An instance of plan (one more reference) holding the given unfused parts
 * (taken) and empty states. */
static uni *instance(union_plan *plan, rv_object **unfused, rv_error *err)
{
    uni *u = calloc(1, sizeof *u);
    if (u) {
        u->parts = calloc(plan->nunfused + 1, sizeof *u->parts);
        u->states = calloc(plan->nblocks + 1, sizeof *u->states);
    }
    __atomic_add_fetch(&plan->refs, 1, __ATOMIC_RELAXED);
    if (!u || !u->parts || !u->states) {
        if (u) {
            free(u->parts);
            free(u->states);
        }
        free(u);
        free_all(unfused, 0, plan->nunfused);
        plan_release(plan);
        rv_error_set(err, RV_ENOMEM, "out of memory");
        return NULL;
    }
    u->plan = plan;
    if (plan->nunfused)
        memcpy(u->parts, unfused, plan->nunfused * sizeof *unfused);
    for (uint32_t b = 0; b < plan->nblocks; b++)
        rv_fused_state_init(&plan->blocks[b], &u->states[b]);
    u->base.cls = rv_class_variant(&rv_class_compose_TransformerUnion, variants, plan->flags);
    return u;
}

rv_object *rv_union_new(rv_object **parts, size_t n, rv_error *err)
{
    part_list l = {0};
    for (size_t i = 0; i < n; i++)
        if (!parts[i] || append_part(&l, parts[i], err)) {
            if (!parts[i])
                rv_error_set(err, RV_EINVAL, "TransformerUnion: missing part");
            free_all(parts, i + 1, n);
            free_all(l.v, 0, l.n);
            free(l.v);
            return NULL;
        }
    union_plan *plan = plan_build(l.v, (uint32_t)l.n);
    if (!plan) {
        free_all(l.v, 0, l.n);
        free(l.v);
        rv_error_set(err, RV_ENOMEM, "out of memory");
        return NULL;
    }
    size_t k = 0; /* compact the unfused parts, in order */
    for (size_t i = 0; i < l.n; i++)
        if (l.v[i])
            l.v[k++] = l.v[i];
    uni *u = instance(plan, l.v, err);
    plan_release(plan);
    free(l.v);
    return u ? &u->base : NULL;
}

/* Same plan, unfused parts cloned (copy = 0) or copied (copy = 1). */
static uni *union_dup(const uni *u, int copy, rv_error *err)
{
    rv_object **parts = calloc(u->plan->nunfused + 1, sizeof *parts);
    if (!parts) {
        rv_error_set(err, RV_ENOMEM, "out of memory");
        return NULL;
    }
    for (uint32_t i = 0; i < u->plan->nunfused; i++)
        if (!(parts[i] = copy ? rv_object_copy(u->parts[i], err) : rv_object_clone(u->parts[i], err))) {
            free_all(parts, 0, i);
            free(parts);
            return NULL;
        }
    uni *c = instance(u->plan, parts, err);
    free(parts);
    return c;
}

static rv_object *union_clone(const rv_object *self, rv_error *err)
{
    uni *c = union_dup((const uni *)self, 0, err);
    return c ? &c->base : NULL;
}

static rv_object *union_copy(const rv_object *self, rv_error *err)
{
    const uni *u = (const uni *)self;
    uni *c = union_dup(u, 1, err);
    if (!c)
        return NULL;
    for (uint32_t b = 0; b < u->plan->nblocks; b++)
        if (rv_fused_state_copy(&u->plan->blocks[b], &c->states[b], &u->states[b])) {
            union_destroy(&c->base);
            rv_error_set(err, RV_ENOMEM, "out of memory");
            return NULL;
        }
    return &c->base;
}

/* Reads positional estimators: compose.TransformerUnion(a, b, c). */
static rv_object *union_create(const rv_args *args, rv_error *err)
{
    if (args->nkw) {
        rv_args_error(args, &args->kw[0], err, RV_EINVAL, "unknown keyword argument '%s'",
                      args->kw_names[0]);
        return NULL;
    }
    rv_object **parts = calloc(args->npos + 1, sizeof *parts);
    if (!parts) {
        rv_error_set(err, RV_ENOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < args->npos; i++) {
        const rv_arg *a = &args->pos[i];
        if (a->kind != RV_ARG_OBJ || !(parts[i] = rv_object_clone(a->obj, err))) {
            if (a->kind != RV_ARG_OBJ)
                rv_args_error(args, a, err, RV_ETYPE, "argument %zu must be a transformer", i + 1);
            free_all(parts, 0, i);
            free(parts);
            return NULL;
        }
    }
    rv_object *o = rv_union_new(parts, args->npos, err);
    free(parts);
    return o;
}

/* ===== Learning and transforming ===== */

int rv_union_has_parts(const rv_object *o, int which)
{
    const uni *u = (const uni *)o;
    if (which & RV_PARTS_SUPERVISED && u->plan->nblocks)
        return 1;
    for (uint32_t i = 0; i < u->plan->nunfused; i++) {
        int sup = (u->parts[i]->cls->flags & RV_F_SUPERVISED) != 0;
        if (which & (sup ? RV_PARTS_SUPERVISED : RV_PARTS_UNSUPERVISED))
            return 1;
    }
    return 0;
}

static rv_status learn_parts(rv_object *self, const rv_event *x, const rv_value *y, int which,
                             const rv_union_keys *k, rv_error *err)
{
    uni *u = (uni *)self;
    const union_plan *p = u->plan;
    if (which & RV_PARTS_SUPERVISED && p->nblocks && y && y->kind != RV_NONE) {
        if (y->kind != RV_NUM)
            return rv_error_set(err, RV_ETYPE, "TargetAgg needs a numeric target");
        int keyed = k && k->n == p->nblocks;
        for (uint32_t b = 0; b < p->nblocks; b++)
            if (keyed ? rv_fused_learn_key(&p->blocks[b], &u->states[b], k->key[b], y->num, err)
                      : rv_fused_learn(&p->blocks[b], &u->states[b], x, y->num, err))
                return err ? err->code : RV_ENOMEM;
    }
    for (uint32_t i = 0; i < p->nunfused; i++) {
        rv_object *part = u->parts[i];
        int sup = (part->cls->flags & RV_F_SUPERVISED) != 0;
        rv_status s = RV_OK;
        if (sup && (which & RV_PARTS_SUPERVISED))
            s = rv_estimator_learn(part, x, y, err);
        else if (!sup && (which & RV_PARTS_UNSUPERVISED))
            s = rv_estimator_learn(part, x, NULL, err);
        if (s)
            return s;
    }
    return RV_OK;
}

rv_status rv_union_learn_parts(rv_object *self, const rv_event *x, const rv_value *y, int which,
                               rv_error *err)
{
    return learn_parts(self, x, y, which, NULL, err);
}

rv_status rv_union_learn_sup_keys(rv_object *self, const rv_event *x, const rv_value *y,
                                  const rv_union_keys *k, rv_error *err)
{
    return learn_parts(self, x, y, RV_PARTS_SUPERVISED, k, err);
}

static rv_status union_learn(rv_object *self, const rv_event *x, const rv_value *y, rv_error *err)
{
    return rv_union_learn_parts(self, x, y, RV_PARTS_SUPERVISED | RV_PARTS_UNSUPERVISED, err);
}

/* Appends a part's features to out with ChainMap rules (see the top). */
static rv_status merge(rv_event *out, const rv_event *part)
{
    for (uint32_t j = 0; j < part->n; j++) {
        const rv_feature *f = &part->items[j];
        rv_status s = f->kind == RV_STR ? rv_event_set_str(out, f->name, f->str, f->len)
                                        : rv_event_set_num(out, f->name, f->num);
        if (s)
            return s;
    }
    return RV_OK;
}

/* Every part fused, all names distinct: write the items directly. */
static rv_status fused_only(const union_plan *p, const double *const *rec, rv_event *out, rv_error *err)
{
    while (out->cap < p->n) /* grows once per scratch event, then never */
        if (rv_event_push_num(out, RV_SYM_NONE, 0))
            return rv_error_set(err, RV_ENOMEM, "out of memory");
    /* rv_fused_value, with each block's count read once */
    uint64_t cnt[MAX_BLOCKS];
    for (uint32_t b = 0; b < p->nblocks; b++)
        if (rec[b])
            memcpy(&cnt[b], rec[b], sizeof cnt[b]);
        else
            cnt[b] = 0;
    for (uint32_t j = 0; j < p->n; j++) {
        const struct out_item *o = &p->out[j];
        rv_feature *it = &out->items[j];
        it->name = o->name;
        it->kind = RV_NUM;
        it->len = 0;
        it->str = NULL;
        uint64_t n = cnt[o->block], len = n < o->k ? n : o->k;
        it->num = len ? rec[o->block][1 + o->slot] / (double)len : p->blocks[o->block].empty;
    }
    out->n = p->n;
    return RV_OK;
}

static rv_status transform_keys(rv_object *self, const rv_event *x, rv_event *out, rv_union_keys *k,
                                rv_error *err)
{
    uni *u = (uni *)self;
    const union_plan *p = u->plan;
    const double *rec[MAX_BLOCKS];
    int keep = k && p->nblocks <= RV_UNION_KEYS;
    for (uint32_t b = 0; b < p->nblocks; b++) {
        const rv_fused_block *f = &p->blocks[b];
        uint64_t key = rv_group_key(x, f->by, f->nby);
        if (keep)
            k->key[b] = key;
        rec[b] = rv_fused_find_key(&u->states[b], key);
    }
    if (k)
        k->n = keep ? p->nblocks : 0;
    rv_event_clear(out);
    if (p->static_distinct && !p->nunfused) /* the M5 case: numbers into known slots */
        return fused_only(p, rec, out, err);
    uint32_t pushed = 0;
    rv_status s = RV_OK;
    for (uint32_t i = p->n; i-- > 0 && s == RV_OK;) {
        int32_t b = p->block[i];
        if (b >= 0) {
            const rv_fused_block *f = &p->blocks[b];
            double v = rv_fused_value(f, rec[b], (uint32_t)p->slot[i]);
            rv_sym name = f->names[p->slot[i]];
            if (p->static_distinct ? rv_event_push_num(out, name, v) : rv_event_set_num(out, name, v))
                s = rv_error_set(err, RV_ENOMEM, "out of memory");
            continue;
        }
        rv_event *tmp = rv_scratch_push();
        if (!tmp) {
            s = rv_error_set(err, RV_ENOMEM, "out of memory");
            break;
        }
        pushed++;
        s = rv_estimator_transform(u->parts[p->slot[i]], x, tmp, err);
        if (s == RV_OK && merge(out, tmp))
            s = rv_error_set(err, RV_ENOMEM, "out of memory");
    }
    if (pushed)
        rv_scratch_pop(pushed);
    return s;
}

static rv_status union_transform(rv_object *self, const rv_event *x, rv_event *out, rv_error *err)
{
    return transform_keys(self, x, out, NULL, err);
}

rv_status rv_union_transform_keys(rv_object *self, const rv_event *x, rv_event *out, rv_union_keys *k,
                                  rv_error *err)
{
    return transform_keys(self, x, out, k, err);
}

/* ===== State ===== */

static rv_status union_save(const rv_object *self, rv_buf *out)
{
    const uni *u = (const uni *)self;
    const union_plan *p = u->plan;
    for (uint32_t i = 0; i < p->n; i++)
        rv_buf_put_u8(out, p->block[i] >= 0);
    for (uint32_t i = 0; i < p->nunfused; i++) { /* length-prefixed, patched in place */
        rv_status s = rv_part_save(u->parts[i], out);
        if (s)
            return s;
    }
    for (uint32_t b = 0; b < p->nblocks; b++)
        rv_fused_save(&p->blocks[b], &u->states[b], out);
    return out->oom ? RV_ENOMEM : RV_OK;
}

static rv_status union_load(rv_object *self, rv_reader *in)
{
    uni *u = (uni *)self;
    const union_plan *p = u->plan;
    for (uint32_t i = 0; i < p->n; i++)
        if (rv_reader_u8(in) != (p->block[i] >= 0)) {
            rv_reader_fail(in, "TransformerUnion state does not match its parts");
            return in->status;
        }
    for (uint32_t i = 0; i < p->nunfused && in->status == RV_OK; i++) {
        rv_status s = rv_part_load(u->parts[i], in);
        if (s == RV_ENOMEM)
            return s;
        if (s)
            rv_reader_fail(in, "bad part state in TransformerUnion");
    }
    for (uint32_t b = 0; b < p->nblocks && in->status == RV_OK; b++)
        if (rv_fused_load(&p->blocks[b], &u->states[b], in) == RV_ENOMEM)
            return RV_ENOMEM;
    return in->status;
}

static void describe_part(const uni *u, uint32_t i, rv_buf *out)
{
    if (u->plan->block[i] < 0) {
        const rv_object *part = u->parts[u->plan->slot[i]];
        int paren = rv_is_pipeline(part);
        rv_buf_puts(out, paren ? "(" : "");
        rv_object_describe(part, out);
        rv_buf_puts(out, paren ? ")" : "");
        return;
    }
    rv_object *t = materialize(u->plan, i, NULL);
    if (t)
        rv_object_describe(t, out);
    else
        out->oom = 1;
    rv_object_free(t);
}

/* "a + b + c"; a single part is written compose.TransformerUnion(a). */
static rv_status union_describe(const rv_object *self, rv_buf *out)
{
    const uni *u = (const uni *)self;
    int call = u->plan->n < 2;
    if (call)
        rv_buf_puts(out, "compose.TransformerUnion(");
    for (uint32_t i = 0; i < u->plan->n; i++) {
        rv_buf_puts(out, i ? " + " : "");
        describe_part(u, i, out);
    }
    if (call)
        rv_buf_puts(out, ")");
    return out->oom ? RV_ENOMEM : RV_OK;
}

/* The shared plan is counted as this instance's share of it. */
static size_t union_memory(const rv_object *self)
{
    const uni *u = (const uni *)self;
    const union_plan *p = u->plan;
    size_t m = sizeof *u + p->nunfused * sizeof *u->parts + p->nblocks * sizeof *u->states;
    for (uint32_t i = 0; i < p->nunfused; i++)
        m += rv_object_memory(u->parts[i]);
    size_t shared = sizeof *p + p->n * (sizeof *p->block + sizeof *p->slot) +
                    (p->out ? (p->n + 1) * sizeof *p->out : 0);
    for (uint32_t b = 0; b < p->nblocks; b++) {
        m += rv_fused_state_memory(&p->blocks[b], &u->states[b]);
        shared += rv_fused_block_memory(&p->blocks[b]);
    }
    uint32_t refs = __atomic_load_n(&p->refs, __ATOMIC_RELAXED);
    return m + shared / (refs ? refs : 1);
}

/* The fused blocks' group tables and records, then the unfused parts. */
static void union_prefetch(const rv_object *self)
{
    const uni *u = (const uni *)self;
    for (uint32_t b = 0; b < u->plan->nblocks; b++)
        rv_fused_prefetch(&u->states[b]);
    for (uint32_t i = 0; i < u->plan->nunfused; i++)
        rv_estimator_prefetch(u->parts[i]);
}

static const rv_estimator_ops union_ops = {union_learn, union_transform, NULL, union_prefetch};

const rv_class rv_class_compose_TransformerUnion = {
    .kind = RV_CLASS_ESTIMATOR,
    .module = "compose",
    .name = "TransformerUnion",
    .flags = RV_F_TRANSFORMER | RV_F_COMPOSITE,
    .doc = "runs transformers side by side and merges their outputs",
    .create = union_create,
    .clone = union_clone,
    .copy = union_copy,
    .save = union_save,
    .load = union_load,
    .describe = union_describe,
    .memory = union_memory,
    .destroy = union_destroy,
    .ops = &union_ops,
};
