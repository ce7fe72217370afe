/* Fuzz target: random events into every estimator.
 *
 * The models: the M5 example pipelines (examples/m5/<name>.river) and a family of
 * the linear one, every registered estimator class (built from default
 * arguments or from the contract test's examples, tests/contract_examples.h)
 * and the contract test's whole models. The first input byte picks one; the
 * rest is a script of operations (learn, predict, transform, snapshot round
 * trip, copy) on events whose names and values come from the input: known
 * and unknown names, NaN, +-inf, huge and tiny numbers, strings where numbers
 * are expected and the reverse, raw bytes, missing features, odd targets.
 *
 * Invariants: nothing crashes or leaks; a failed call has a message; predict
 * and transform leave the state as it was (save() bytes), unless the model
 * learns during predict (or is a family meeting a new key, which gets a
 * fresh member); a snapshot reloads to the same bytes; a copy saves
 * the same bytes as its original. */
#include "contract_examples.h"
#include "counter.h"
#include "fuzz.h"
#include "rivulet/compose.h"
#include "rivulet/family.h"

enum { MAX_MODELS = 256, MAX_OPS = 48 };
static rv_object *protos[MAX_MODELS];
static size_t nprotos;

static void add_def(const char *def)
{
    rv_error err = {0};
    rv_object *o = rv_model_parse(def, strlen(def), NULL, &err);
    if (o && nprotos < MAX_MODELS)
        protos[nprotos++] = o;
    else
        rv_object_free(o);
}

static void add_class(const rv_class *cls)
{
    char name[256];
    snprintf(name, sizeof name, "%s%s%s", cls->module, cls->module[0] ? "." : "", cls->name);
    for (size_t i = 0; i < sizeof EXAMPLES / sizeof *EXAMPLES; i++)
        if (!strcmp(EXAMPLES[i].cls, name)) {
            for (size_t k = 0; k < 3 && EXAMPLES[i].defs[k]; k++)
                add_def(EXAMPLES[i].defs[k]);
            return;
        }
    rv_args args;
    rv_args_init(&args, name);
    rv_error err = {0};
    rv_object *o = cls->create(&args, &err);
    rv_args_free(&args);
    if (o && nprotos < MAX_MODELS)
        protos[nprotos++] = o;
    else
        rv_object_free(o);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    rv_parse_set_lookup(counter_lookup);
    protos[nprotos++] = fz_m5_model("knn");
    protos[nprotos++] = fz_m5_model("lm");
    rv_error err = {0};
    protos[nprotos] = rv_family_new(fz_m5_model("lm"), "id", &err);
    FZ_CHECK(protos[nprotos], "family: %s", err.message);
    nprotos++;
    for (const rv_class *const *c = rv_class_all(); *c; c++)
        if ((*c)->kind == RV_CLASS_ESTIMATOR)
            add_class(*c);
    for (size_t i = 0; i < sizeof EXTRA_MODELS / sizeof *EXTRA_MODELS; i++)
        add_def(EXTRA_MODELS[i]);
    fprintf(stderr, "fuzz_estimators: %zu models\n", nprotos);
    return 0;
}

/* ===== Events from bytes ===== */

static const char *const NAMES[] = {"id", "date", "x1", "x2", "cat", "a", "item_id", "wday", "y", "new", "", "store_id"};
static const char *const STRS[] = {"HOBBIES_1_001_CA_1", "FOODS_3_090_TX_2", "2016-01-31", "2016-02-29",
                                   "not-a-date", "", "nan", "inf", "red", "_", "____", "A_B",
                                   "2016-13-45", "0000-00-00", "True", "False", "1e400"};
#define NELEMS(a) (sizeof(a) / sizeof *(a))

static rv_sym pick_name(fz_in *in)
{
    uint8_t k = fz_u8(in);
    if (k < 240)
        return rv_sym_intern_cstr(NAMES[k % NELEMS(NAMES)]);
    size_t len;
    const char *s = fz_bytes(in, 12, &len);
    return rv_sym_intern(s, len);
}

static rv_value pick_value(fz_in *in)
{
    uint8_t k = fz_u8(in);
    if (k % 3 == 0) {
        if (k < 200)
            return rv_value_str(STRS[(k / 3) % NELEMS(STRS)], strlen(STRS[(k / 3) % NELEMS(STRS)]));
        size_t len;
        const char *s = fz_bytes(in, 24, &len);
        return rv_value_str(s, len);
    }
    return rv_value_num(fz_weird_num(in));
}

static void make_event(fz_in *in, rv_event *x)
{
    rv_event_clear(x);
    uint8_t n = fz_u8(in) % 10;
    for (uint8_t i = 0; i < n; i++) {
        rv_sym name = pick_name(in);
        rv_value v = pick_value(in);
        rv_event_set_value(x, name, &v); /* borrowed: input and STRS outlive the event */
    }
}

/* ===== Invariants ===== */

static void save(const rv_object *o, rv_buf *b)
{
    rv_buf_reset(b);
    FZ_CHECK(o->cls->save(o, b) == RV_OK, "%s.%s: save failed", o->cls->module, o->cls->name);
}

static int same(const rv_buf *a, const rv_buf *b)
{
    return a->len == b->len && (!a->len || !memcmp(a->data, b->data, a->len));
}

static int learns_during_predict(const rv_object *o)
{
    if (rv_is_family(o))
        return learns_during_predict(rv_family_prototype(o));
    return rv_is_pipeline(o) && rv_pipeline_learns_during_predict(o);
}

static void check_snapshot(const rv_object *o, rv_buf *s1, rv_buf *s2)
{
    rv_buf a;
    rv_buf_init(&a);
    FZ_CHECK(rv_snapshot_save(o, &a) == RV_OK, "snapshot failed");
    rv_error err = {0};
    rv_object *back = rv_snapshot_load(a.data, a.len, &err);
    FZ_CHECK(back, "snapshot does not load: %s", err.message);
    save(o, s1);
    save(back, s2);
    FZ_CHECK(same(s1, s2), "reloaded state saves differently");
    rv_object *cp = rv_object_copy(o, &err);
    FZ_CHECK(cp, "copy failed: %s", err.message);
    save(cp, s2);
    FZ_CHECK(same(s1, s2), "a copy saves differently");
    rv_object_free(cp);
    rv_object_free(back);
    rv_buf_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    rv_error err = {0};
    rv_object *o = rv_object_clone(protos[fz_u8(&in) % nprotos], &err);
    FZ_CHECK(o, "clone failed: %s", err.message);
    int mutating_predict = learns_during_predict(o);
    rv_event x, out;
    rv_event_init(&x);
    rv_event_init(&out);
    rv_prediction p;
    rv_prediction_init(&p);
    rv_buf s1, s2;
    rv_buf_init(&s1);
    rv_buf_init(&s2);
    for (int k = 0; k < MAX_OPS && in.n; k++) {
        uint8_t op = fz_u8(&in);
        make_event(&in, &x);
        rv_error e = {0};
        rv_status st;
        switch (op % 8) {
        case 0: case 1: case 2: { /* learn */
            rv_value y = pick_value(&in);
            st = rv_estimator_learn(o, &x, op & 0x80 ? NULL : &y, &e);
            if (st != RV_OK)
                FZ_CHECK_ERROR(st, &e, "learn");
            break;
        }
        case 3: case 4: case 5: { /* predict or transform, which must not change the state */
            /* (a family's first sight of a key adds a fresh member, by design) */
            size_t members = rv_is_family(o) ? rv_family_size(o) : 0;
            save(o, &s1);
            if (op % 8 == 5)
                st = rv_estimator_transform(o, &x, &out, &e);
            else
                st = rv_estimator_predict(o, &x, &p, &e);
            if (st != RV_OK)
                FZ_CHECK_ERROR(st, &e, op % 8 == 5 ? "transform" : "predict");
            save(o, &s2);
            if (!mutating_predict && (!rv_is_family(o) || rv_family_size(o) == members))
                FZ_CHECK(same(&s1, &s2), "%s.%s: %s changed the state", o->cls->module, o->cls->name,
                         op % 8 == 5 ? "transform" : "predict");
            break;
        }
        case 6:
            check_snapshot(o, &s1, &s2);
            break;
        default: { /* continue on a copy */
            rv_object *cp = rv_object_copy(o, &e);
            FZ_CHECK(cp, "copy failed: %s", e.message);
            rv_object_free(o);
            o = cp;
            break;
        }
        }
    }
    rv_buf_free(&s1);
    rv_buf_free(&s2);
    rv_prediction_free(&p);
    rv_event_free(&out);
    rv_event_free(&x);
    rv_object_free(o);
    return 0;
}
