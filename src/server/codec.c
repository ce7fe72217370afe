/* JSON codec of the API, and the binary records of the log and kept predictions.
 *
 * Features: a JSON object; numbers stay numbers, booleans become 1 and 0 (as
 * Python's True and False do in arithmetic), strings stay strings, null means
 * a missing feature and is skipped. Anything nested is refused.
 *
 * Targets by flavor: regression wants a number (or a boolean, 1 or 0, as
 * Python's arithmetic reads it and Chantilly's tests send); binary wants a truth value
 * (true/false, the numbers 0/1, or the strings true/false/1/0/yes/no in any
 * case) kept as the label "True" or "False"; any other number (2, -1, 0.5)
 * is refused rather than read as Python would (bool(2) is True), since it is
 * far likelier a regression target sent to the wrong server;
 * multiclass takes a string, number or boolean label.
 *
 * Predictions: a regressor's number, or a map of class to probability whose
 * boolean classes are spelled "true"/"false" (what Python's json module makes
 * of creme's True/False keys, so Chantilly clients see the same).
 *
 * Record layout (little-endian, via rv_buf / rv_reader):
 *
 *   u8 version=1 | bytes model | u32 n | n x (sym name, u8 kind, f64 | bytes)
 *   | u8 flags (1 has y, 2 predicted within the learn) [u8 kind, f64 | bytes] | u8 pred kind, f64 num, u32 k,
 *   k x (sym label, f64 proba)
 */
#include "internal.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

/* ===== JSON -> event and target ===== */

/* Feature names -> symbols through a small per-thread cache in front of
 * rv_sym_intern, whose global mutex every worker would otherwise take once
 * per feature per request. A slot holds the last symbol whose name hashed
 * there; a hit is confirmed by comparing the bytes with the symbol's name
 * (names never move or change), a miss interns and takes the slot. */
#define SYM_CACHE_SLOTS 512u

static _Thread_local rv_sym sym_cache[SYM_CACHE_SLOTS];

/* Feature names are interned for the life of the process (sym.c), so a
 * client sending ever new names (200,000 per request, say) would grow the
 * server's memory until it died. Past this many names, a request that names
 * a new one is refused instead; names already kept go on working. The count
 * is read without the intern lock, so concurrent requests may pass it by a
 * few names: the bound is on memory, not exact. */
static _Atomic size_t name_limit;

void rv_codec_set_name_limit(size_t limit) { atomic_store(&name_limit, limit); }

/* RV_SYM_NONE with *over set: key is new and the limit is reached. */
static rv_sym intern_cached(const char *key, size_t len, int *over)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    rv_sym *slot = &sym_cache[h & (SYM_CACHE_SLOTS - 1)];
    rv_sym s = *slot;
    if (s != RV_SYM_NONE && rv_sym_len(s) == len && memcmp(rv_sym_name(s), key, len) == 0)
        return s;
    size_t limit = atomic_load(&name_limit);
    if (limit && rv_sym_count() >= limit && (s = rv_sym_lookup(key, len)) == RV_SYM_NONE) {
        *over = 1;
        return RV_SYM_NONE;
    }
    s = rv_sym_intern(key, len);
    if (s != RV_SYM_NONE)
        *slot = s;
    return s;
}

rv_status rv_json_to_event(const json_t *j, rv_event *out, rv_error *err)
{
    if (!json_is_object(j))
        return rv_error_set(err, RV_ETYPE, "The features must be a JSON object.");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)j, key, v) {
        int over = 0;
        rv_sym name = intern_cached(key, strlen(key), &over);
        if (over)
            return rv_error_set(err, RV_EINVAL,
                                "Feature '%.100s' is a name this server has not seen, and it already keeps "
                                "%zu feature names, its limit (--max-feature-names): names are kept for "
                                "the life of the process.",
                                key, rv_sym_count());
        if (name == RV_SYM_NONE)
            return rv_error_set(err, RV_ENOMEM, "out of memory");
        rv_status st = RV_OK;
        if (json_is_number(v))
            st = rv_event_set_num(out, name, json_number_value(v));
        else if (json_is_boolean(v))
            st = rv_event_set_num(out, name, json_is_true(v) ? 1.0 : 0.0);
        else if (json_is_string(v))
            st = rv_event_set_str_copy(out, name, json_string_value(v), json_string_length(v));
        else if (!json_is_null(v))
            return rv_error_set(err, RV_ETYPE,
                                "Feature '%.100s' must be a number, a string, a boolean or null.", key);
        if (st != RV_OK)
            return rv_error_set(err, st, "out of memory");
    }
    return RV_OK;
}

json_t *rv_event_to_json(const rv_event *e)
{
    json_t *o = json_object();
    for (uint32_t i = 0; o && i < e->n; i++) {
        const rv_feature *f = &e->items[i];
        json_t *v = f->kind == RV_STR ? json_stringn(f->str, f->len) : json_real(f->num);
        json_object_set_new(o, rv_sym_name(f->name), v);
    }
    return o;
}

static rv_value bool_label(int truth)
{
    return rv_value_cstr(truth ? "True" : "False");
}

rv_status rv_json_to_target(const json_t *j, rv_flavor f, rv_value *out, rv_error *err)
{
    if (f == RV_FLAVOR_REGRESSION) {
        if (json_is_boolean(j)) { /* Python learns True as 1; Chantilly's own tests send it */
            *out = rv_value_num(json_is_true(j) ? 1 : 0);
            return RV_OK;
        }
        if (!json_is_number(j))
            return rv_error_set(err, RV_ETYPE, "The ground truth must be a number.");
        *out = rv_value_num(json_number_value(j));
        return RV_OK;
    }
    rv_value v;
    if (json_is_boolean(j))
        v = bool_label(json_is_true(j));
    else if (json_is_number(j))
        v = rv_value_num(json_number_value(j));
    else if (json_is_string(j))
        v = rv_value_str(json_string_value(j), json_string_length(j));
    else
        return rv_error_set(err, RV_ETYPE, "The ground truth must be a label (string, number or boolean).");
    if (f == RV_FLAVOR_BINARY) {
        int truth;
        if ((v.kind == RV_NUM && v.num != 0 && v.num != 1) || rv_value_truth(&v, &truth, NULL) != RV_OK)
            return rv_error_set(err, RV_ETYPE,
                                "The ground truth of a binary model must be true or false (or 1 or 0).");
        v = bool_label(truth);
    }
    *out = v;
    return RV_OK;
}

/* ===== Predictions -> JSON ===== */

json_t *rv_prediction_to_json(const rv_prediction *p)
{
    if (p->kind != RV_PRED_PROBA)
        return isfinite(p->num) ? json_real(p->num) : json_null();
    json_t *o = json_object();
    for (uint32_t i = 0; o && i < p->n; i++) {
        const char *label = rv_sym_name(p->labels[i]);
        if (p->labels[i] == rv_label_true())
            label = "true";
        else if (p->labels[i] == rv_label_false())
            label = "false";
        json_object_set_new(o, label, isfinite(p->proba[i]) ? json_real(p->proba[i]) : json_null());
    }
    return o;
}

/* ===== Records ===== */

void rv_record_init(rv_record *r)
{
    memset(r, 0, sizeof *r);
    rv_event_init(&r->x);
    rv_prediction_init(&r->pred);
}

void rv_record_free(rv_record *r)
{
    rv_event_free(&r->x);
    rv_prediction_free(&r->pred);
}

static void put_value(rv_buf *b, uint8_t kind, double num, const char *s, uint32_t len)
{
    rv_buf_put_u8(b, kind);
    if (kind == RV_STR)
        rv_buf_put_bytes(b, s, len);
    else
        rv_buf_put_f64(b, num);
}

rv_status rv_record_encode(rv_buf *b, const char *model, const rv_event *x, const rv_value *y,
                           const rv_prediction *p, int predicted)
{
    rv_buf_put_u8(b, 1);
    rv_buf_put_bytes(b, model, (uint32_t)strlen(model));
    rv_buf_put_u32(b, x->n);
    for (uint32_t i = 0; i < x->n; i++) {
        rv_buf_put_sym(b, x->items[i].name);
        put_value(b, x->items[i].kind, x->items[i].num, x->items[i].str, x->items[i].len);
    }
    rv_buf_put_u8(b, (uint8_t)((y != NULL) | (predicted ? 2 : 0)));
    if (y)
        put_value(b, y->kind == RV_STR ? RV_STR : RV_NUM, y->num, y->str, y->len);
    rv_buf_put_u8(b, p->kind);
    rv_buf_put_f64(b, p->num);
    rv_buf_put_u32(b, p->kind == RV_PRED_PROBA ? p->n : 0);
    for (uint32_t i = 0; p->kind == RV_PRED_PROBA && i < p->n; i++) {
        rv_buf_put_sym(b, p->labels[i]);
        rv_buf_put_f64(b, p->proba[i]);
    }
    return b->oom ? RV_ENOMEM : RV_OK;
}

static rv_value get_value(rv_reader *in)
{
    uint8_t kind = rv_reader_u8(in);
    if (kind == RV_STR) {
        uint32_t len;
        const char *s = rv_reader_bytes(in, &len, 1u << 30);
        return rv_value_str(s ? s : "", s ? len : 0);
    }
    if (kind != RV_NUM)
        rv_reader_fail(in, "value kind");
    return rv_value_num(rv_reader_f64(in));
}

/* The record borrows strings from the bytes p, which must outlive it. */
const char *rv_record_model(const void *p, size_t n, uint32_t *len)
{
    rv_reader in;
    rv_reader_init(&in, p, n);
    if (rv_reader_u8(&in) != 1)
        return NULL;
    const char *model = rv_reader_bytes(&in, len, 4096);
    return in.status == RV_OK ? model : NULL;
}

rv_status rv_record_decode(rv_record *r, const void *p, size_t n, rv_error *err)
{
    rv_reader in;
    rv_reader_init(&in, p, n);
    if (rv_reader_u8(&in) != 1)
        rv_reader_fail(&in, "record version");
    r->model = rv_reader_bytes(&in, &r->model_len, 4096);
    uint32_t nf = rv_reader_count(&in, 6);
    for (uint32_t i = 0; i < nf && in.status == RV_OK; i++) {
        rv_sym name = rv_reader_sym(&in);
        rv_value v = get_value(&in);
        if (in.status == RV_OK)
            rv_event_set_value(&r->x, name, &v);
    }
    uint8_t flags = rv_reader_u8(&in);
    r->has_y = flags & 1;
    r->predicted = (flags >> 1) & 1;
    if (r->has_y)
        r->y = get_value(&in);
    uint8_t kind = rv_reader_u8(&in);
    double num = rv_reader_f64(&in);
    uint32_t k = rv_reader_count(&in, 12);
    if (kind == RV_PRED_NUM)
        rv_prediction_set_num(&r->pred, num);
    for (uint32_t i = 0; i < k && in.status == RV_OK; i++) {
        rv_sym label = rv_reader_sym(&in);
        double pr = rv_reader_f64(&in);
        if (in.status == RV_OK)
            rv_prediction_set_proba(&r->pred, label, pr);
    }
    if (kind == RV_PRED_PROBA)
        r->pred.num = num;
    return rv_reader_status(&in, err);
}
