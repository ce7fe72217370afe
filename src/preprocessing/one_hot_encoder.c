/* preprocessing.OneHotEncoder: one output feature `<name>_<value>` per
 * (feature, value) pair. Follows River (preprocessing/one_hot.py,
 * OneHotEncoder(categories=None, drop_zeros=False, drop_first=False)).
 *
 *   learn (unless drop_zeros): every output name not yet known is appended
 *          to the known list (River's _zero_dict, in first-learned order);
 *   transform: without drop_zeros, every known name with 0 (known order),
 *          then each feature's own name set to 1 (a name not yet known is
 *          appended); with drop_zeros, only the ones. drop_first then removes
 *          the smallest name (River's oh.pop(min(oh)), bytewise order).
 *
 * Every feature is encoded, numbers included, as River does. A string value
 * is used as is; a number is spelled like a class label (rv_label_of): an
 * integral value without a decimal point ("wday_3", as River spells a Python
 * int), others by their shortest repr ("x_1.5"). Values are 1.0 and 0.0.
 *
 * Names are interned once per distinct (feature, value) pair: a memo keyed by
 * the feature's symbol and the value's bytes maps straight to the output
 * symbol, so steady-state events cost one hash of the value and no
 * formatting or interning. The memo is a cache, not state (cleared past
 * MEMO_MAX pairs); the known list is the state.
 *
 * Snapshot: u32 n | n x (u32 len, output name bytes), in known order.
 * `categories` (fixed categories) is not supported: only None is accepted. */
#include "rivulet/preprocessing.h"

#include <stdlib.h>
#include <string.h>

#define MEMO_MAX (1u << 20)

typedef struct one_hot {
    rv_object base;
    int drop_zeros, drop_first;
    rv_sym *known; /* output names in first-learned order */
    uint32_t n, cap;
    rv_map64 known_index; /* output name -> position in known */
    rv_strmap memo;       /* (feature sym, value bytes) -> output name */
    rv_buf key, text;     /* scratch */
} one_hot;

static const char *const params[] = {"categories", "drop_zeros", "drop_first", NULL};

static one_hot *alloc(int drop_zeros, int drop_first)
{
    one_hot *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->base.cls = &rv_class_preprocessing_OneHotEncoder;
    o->drop_zeros = drop_zeros;
    o->drop_first = drop_first;
    rv_map64_init(&o->known_index);
    rv_strmap_init(&o->memo);
    rv_buf_init(&o->key);
    rv_buf_init(&o->text);
    return o;
}

/* The output name of feature f; RV_SYM_NONE on OOM. */
static rv_sym name_of(one_hot *o, const rv_feature *f)
{
    rv_buf_reset(&o->key);
    rv_buf_put_u32(&o->key, f->name);
    rv_buf_put_u8(&o->key, f->kind);
    if (f->kind == RV_NUM)
        rv_buf_put_f64(&o->key, f->num);
    else
        rv_buf_put(&o->key, f->str, f->len);
    if (o->key.oom)
        return RV_SYM_NONE;
    uint64_t *v = rv_strmap_get(&o->memo, o->key.data, o->key.len);
    if (v)
        return (rv_sym)*v;
    rv_buf_reset(&o->text);
    rv_buf_put(&o->text, rv_sym_name(f->name), rv_sym_len(f->name));
    rv_buf_puts(&o->text, "_");
    if (f->kind == RV_NUM) {
        rv_value num = rv_value_num(f->num);
        rv_sym label = rv_label_of(&num);
        rv_buf_put(&o->text, rv_sym_name(label), rv_sym_len(label));
    } else {
        rv_buf_put(&o->text, f->str, f->len);
    }
    rv_sym out = o->text.oom ? RV_SYM_NONE : rv_sym_intern(o->text.data, o->text.len);
    if (out == RV_SYM_NONE)
        return RV_SYM_NONE;
    if (rv_strmap_size(&o->memo) >= MEMO_MAX) {
        rv_strmap_free(&o->memo);
        rv_strmap_init(&o->memo);
    }
    if (!rv_strmap_put(&o->memo, o->key.data, o->key.len, out, NULL))
        return RV_SYM_NONE;
    return out;
}

static rv_status know(one_hot *o, rv_sym name)
{
    int inserted;
    uint64_t *v = rv_map64_put(&o->known_index, name, o->n, &inserted);
    if (!v)
        return RV_ENOMEM;
    if (!inserted)
        return RV_OK;
    if (o->n == o->cap) {
        uint32_t cap = o->cap ? o->cap * 2 : 8;
        rv_sym *p = realloc(o->known, cap * sizeof *p);
        if (!p) {
            rv_map64_del(&o->known_index, name);
            return RV_ENOMEM;
        }
        o->known = p;
        o->cap = cap;
    }
    o->known[o->n++] = name;
    return RV_OK;
}

static rv_status learn(rv_object *self, const rv_event *x, const rv_value *y, rv_error *err)
{
    one_hot *o = (one_hot *)self;
    if (o->drop_zeros)
        return RV_OK;
    for (uint32_t i = 0; i < x->n; i++) {
        rv_sym name = name_of(o, &x->items[i]);
        if (name == RV_SYM_NONE || know(o, name))
            return rv_error_set(err, RV_ENOMEM, "OneHotEncoder: out of memory");
    }
    return RV_OK;
}

/* Removes the item whose name is smallest bytewise (River's min(oh)). */
static void drop_min(rv_event *out)
{
    if (!out->n)
        return;
    uint32_t best = 0;
    for (uint32_t i = 1; i < out->n; i++) {
        rv_sym a = out->items[i].name, b = out->items[best].name;
        size_t la = rv_sym_len(a), lb = rv_sym_len(b);
        int c = memcmp(rv_sym_name(a), rv_sym_name(b), la < lb ? la : lb);
        if (c < 0 || (c == 0 && la < lb))
            best = i;
    }
    rv_event_remove(out, out->items[best].name);
}

static rv_status transform(rv_object *self, const rv_event *x, rv_event *out, rv_error *err)
{
    one_hot *o = (one_hot *)self;
    rv_event_clear(out);
    if (!o->drop_zeros)
        for (uint32_t i = 0; i < o->n; i++)
            if (rv_event_push_num(out, o->known[i], 0.0))
                goto oom;
    for (uint32_t i = 0; i < x->n; i++) {
        rv_sym name = name_of(o, &x->items[i]);
        if (name == RV_SYM_NONE)
            goto oom;
        uint64_t *at = o->drop_zeros ? NULL : rv_map64_get(&o->known_index, name);
        if (at)
            out->items[*at].num = 1.0;
        else if (rv_event_set_num(out, name, 1.0))
            goto oom;
    }
    if (o->drop_first)
        drop_min(out);
    return RV_OK;
oom:
    return rv_error_set(err, RV_ENOMEM, "OneHotEncoder: out of memory");
}

static rv_object *create(const rv_args *args, rv_error *err)
{
    int dz, df;
    if (rv_args_check(args, params, err) ||
        rv_args_get_bool(args, params, "drop_zeros", 0, &dz, err) ||
        rv_args_get_bool(args, params, "drop_first", 0, &df, err))
        return NULL;
    const rv_arg *cats = rv_args_find(args, params, "categories");
    if (cats && cats->kind != RV_ARG_NONE) {
        rv_args_error(args, cats, err, RV_EUNSUPPORTED,
                      "fixed categories are not supported; use None");
        return NULL;
    }
    one_hot *o = alloc(dz, df);
    if (!o)
        rv_error_set(err, RV_ENOMEM, "OneHotEncoder: out of memory");
    return o ? &o->base : NULL;
}

static rv_object *clone(const rv_object *self, rv_error *err)
{
    const one_hot *s = (const one_hot *)self;
    one_hot *o = alloc(s->drop_zeros, s->drop_first);
    if (!o)
        rv_error_set(err, RV_ENOMEM, "OneHotEncoder: out of memory");
    return o ? &o->base : NULL;
}

static rv_object *copy(const rv_object *self, rv_error *err)
{
    const one_hot *s = (const one_hot *)self;
    rv_object *c = clone(self, err);
    for (uint32_t i = 0; c && i < s->n; i++)
        if (know((one_hot *)c, s->known[i])) {
            rv_object_free(c);
            rv_error_set(err, RV_ENOMEM, "OneHotEncoder: out of memory");
            return NULL;
        }
    return c;
}

static rv_status save(const rv_object *self, rv_buf *out)
{
    const one_hot *o = (const one_hot *)self;
    rv_buf_put_u32(out, o->n);
    for (uint32_t i = 0; i < o->n; i++)
        rv_buf_put_sym(out, o->known[i]);
    return out->oom ? RV_ENOMEM : RV_OK;
}

static rv_status load(rv_object *self, rv_reader *in)
{
    one_hot *o = (one_hot *)self;
    uint32_t n = rv_reader_count(in, 4);
    for (uint32_t i = 0; i < n && in->status == RV_OK; i++) {
        rv_sym name = rv_reader_sym(in);
        if (in->status != RV_OK)
            break;
        if (rv_map64_get(&o->known_index, name)) {
            rv_reader_fail(in, "duplicate name in OneHotEncoder state");
            break;
        }
        if (know(o, name))
            return RV_ENOMEM;
    }
    return in->status;
}

static rv_status describe(const rv_object *self, rv_buf *out)
{
    const one_hot *o = (const one_hot *)self;
    rv_describer d;
    rv_describe_open(&d, out, self);
    if (o->drop_zeros)
        rv_describe_bool(&d, "drop_zeros", 1);
    if (o->drop_first)
        rv_describe_bool(&d, "drop_first", 1);
    return rv_describe_close(&d);
}

static size_t memory(const rv_object *self)
{
    const one_hot *o = (const one_hot *)self;
    size_t m = sizeof *o + o->cap * sizeof(rv_sym) + o->known_index.cap * 17u;
    m += o->memo.cap * 4u + o->memo.ecap * sizeof(struct rv_strmap_entry);
    for (uint32_t i = 0; i < o->memo.n; i++)
        m += o->memo.entries[i].len;
    return m + o->key.cap + o->text.cap;
}

static void destroy(rv_object *self)
{
    one_hot *o = (one_hot *)self;
    free(o->known);
    rv_map64_free(&o->known_index);
    rv_strmap_free(&o->memo);
    rv_buf_free(&o->key);
    rv_buf_free(&o->text);
    free(o);
}

static const rv_estimator_ops ops = {.learn = learn, .transform = transform};

const rv_class rv_class_preprocessing_OneHotEncoder = {
    .kind = RV_CLASS_ESTIMATOR,
    .module = "preprocessing",
    .name = "OneHotEncoder",
    .flags = RV_F_TRANSFORMER,
    .doc = "One output feature <name>_<value> per feature value (River)",
    .create = create,
    .clone = clone,
    .copy = copy,
    .save = save,
    .load = load,
    .describe = describe,
    .memory = memory,
    .destroy = destroy,
    .ops = &ops,
};
