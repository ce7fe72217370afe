/* The estimator contract, checked on every registered estimator class
 * (rv_class_all(), so classes that land later are picked up on their own):
 *
 *   - a clone starts fresh: after the original has learnt, its clone gives the
 *     same outputs as a brand-new instance;
 *   - predict (or transform) never changes state, compared as save() bytes,
 *     unless the model is a pipeline that learns during predict;
 *   - save -> load -> continue gives bit-identical outputs (through a full
 *     snapshot, so describe -> parse is exercised too), and so does copy;
 *   - missing features, NaN, +-inf, unseen string categories, strings where
 *     numbers are expected and the reverse give a status, never a crash, and
 *     the same outputs twice (run under ASan+UBSan by `make test`);
 *   - rv_estimator_prefetch is called before every event, so ASan checks
 *     that each class's prefetch reads only live state.
 *
 * Instances come from default arguments, or from EXAMPLES below for classes
 * that need arguments: a class without defaults and without an example fails
 * with a message asking for one. */
#include "contract_examples.h"
#include "counter.h"
#include "rivulet/family.h"
#include "rivulet/model.h"
#include "support.h"

#include <math.h>

/* Pipelines (compose.h) may not be linked in every build of the tests. */
int rv_is_pipeline(const rv_object *o) __attribute__((weak));
int rv_pipeline_learns_during_predict(const rv_object *pipeline) __attribute__((weak));
int rv_predict_changes_state(const rv_object *model) __attribute__((weak));

/* ===== Events ===== */

enum { WEIRD_KINDS = 10 };

/* Event i of the stream; weird > 0 gives the odd ones (see switch). */
static void make_event(rv_event *e, int i, int weird)
{
    static const char *ids[] = {"HOBBIES_1_001_CA_1", "FOODS_3_090_TX_2", "HOUSEHOLD_2_123_WI_3"};
    static const char *cats[] = {"red", "green", "blue", "red"};
    static char date[3][16];
    char *d = date[i % 3];
    snprintf(d, 16, "2016-01-%02d", i % 28 + 1);
    rv_event_clear(e);
    rv_sym id = rv_sym_intern_cstr("id"), x1 = rv_sym_intern_cstr("x1"),
           x2 = rv_sym_intern_cstr("x2"), cat = rv_sym_intern_cstr("cat"),
           date_s = rv_sym_intern_cstr("date");
    if (weird == 1)
        return; /* no features at all */
    rv_event_set_str(e, id, ids[i % 3], strlen(ids[i % 3]));
    if (weird == 2)
        return; /* only the key */
    rv_event_set_str(e, date_s, d, strlen(d));
    rv_event_set_num(e, x1, sin(i) * 3 + 1);
    rv_event_set_num(e, x2, i % 7);
    rv_event_set_str(e, cat, cats[i % 4], strlen(cats[i % 4]));
    switch (weird) {
    case 3: rv_event_set_num(e, x1, NAN); break;
    case 4: rv_event_set_num(e, x1, INFINITY); rv_event_set_num(e, x2, -INFINITY); break;
    case 5: rv_event_set_str(e, cat, "never-seen", 10); break;
    case 6: rv_event_set_str(e, x1, "abc", 3); break;      /* a string for a number */
    case 7: rv_event_set_num(e, id, 42); rv_event_set_num(e, cat, 1.5); break; /* and the reverse */
    case 8: rv_event_set_str(e, date_s, "not-a-date", 10); break;
    case 9: rv_event_remove(e, x1); rv_event_set_num(e, rv_sym_intern_cstr("new"), 1e300); break;
    default: break;
    }
}

static rv_value target_for(const rv_object *o, int i)
{
    unsigned f = rv_estimator_flags(o);
    if ((f & RV_F_CLASSIFIER) && (f & RV_F_BINARY_ONLY))
        return rv_value_cstr(i % 3 ? "True" : "False");
    if (f & RV_F_CLASSIFIER)
        return rv_value_cstr((const char *[]){"a", "b", "c"}[i % 3]);
    return rv_value_num(cos(i) * 5 + i * 0.1);
}

/* ===== Running and recording outputs ===== */

typedef struct ctx {
    const char *name;
    int transform; /* 1: the model transforms rather than predicts */
} ctx;

/* Appends a byte record of what the model output for x (status included). */
static void apply(const ctx *c, rv_object *o, const rv_event *x, rv_buf *rec)
{
    rv_error err = {0};
    if (c->transform) {
        rv_event out;
        rv_event_init(&out);
        rv_status st = rv_estimator_transform(o, x, &out, &err);
        rv_buf_put_u32(rec, (uint32_t)st);
        if (st == RV_OK) {
            rv_buf_put_u32(rec, out.n);
            for (uint32_t k = 0; k < out.n; k++) {
                rv_buf_put_sym(rec, out.items[k].name);
                rv_buf_put_u8(rec, out.items[k].kind);
                if (out.items[k].kind == RV_STR)
                    rv_buf_put_bytes(rec, out.items[k].str, out.items[k].len);
                else
                    rv_buf_put_f64(rec, out.items[k].num);
            }
        }
        rv_event_free(&out);
        return;
    }
    rv_prediction p;
    rv_prediction_init(&p);
    rv_status st = rv_estimator_predict(o, x, &p, &err);
    rv_buf_put_u32(rec, (uint32_t)st);
    if (st == RV_OK) {
        rv_buf_put_u8(rec, p.kind);
        rv_buf_put_f64(rec, p.num);
        rv_buf_put_u32(rec, p.n);
        for (uint32_t k = 0; k < p.n; k++) {
            rv_buf_put_sym(rec, p.labels[k]);
            rv_buf_put_f64(rec, p.proba[k]);
        }
    }
    rv_prediction_free(&p);
}

/* Predicts then learns events [from, to) (weird kind applied to all). */
static void run(const ctx *c, rv_object *o, int from, int to, int weird, rv_buf *rec)
{
    rv_event e;
    rv_event_init(&e);
    rv_buf scratch;
    rv_buf_init(&scratch);
    if (!rec)
        rec = &scratch;
    for (int i = from; i < to; i++) {
        make_event(&e, i, weird);
        rv_estimator_prefetch(o);
        apply(c, o, &e, rec);
        rv_value y = target_for(o, i);
        rv_error err = {0};
        rv_status st = rv_estimator_learn(o, &e, &y, &err);
        rv_buf_put_u32(rec, (uint32_t)st);
        if (!weird && st != RV_OK)
            cr_expect_eq(st, RV_OK, "%s: learn of event %d failed: %s", c->name, i, err.message);
    }
    rv_buf_free(&scratch);
    rv_event_free(&e);
}

static void saved(const rv_object *o, rv_buf *b)
{
    rv_buf_init(b);
    cr_expect_eq(o->cls->save(o, b), RV_OK);
}

static int same(const rv_buf *a, const rv_buf *b)
{
    return a->len == b->len && (!a->len || !memcmp(a->data, b->data, a->len));
}

static int learns_during_predict(const rv_object *o)
{
    if (rv_predict_changes_state)
        return rv_predict_changes_state(o);
    if (rv_is_family(o))
        return learns_during_predict(rv_family_prototype(o));
    return rv_is_pipeline && rv_is_pipeline(o) && rv_pipeline_learns_during_predict(o);
}

/* ===== The contract ===== */

static rv_object *build(const char *def, rv_error *err)
{
    return rv_model_parse(def, strlen(def), NULL, err);
}

static void check_model(const char *name, const char *def)
{
    rv_error err = {0};
    rv_object *o = build(def, &err);
    cr_assert(o, "%s: <%s> does not build: %s", name, def, err.message);
    ctx c = {name, 0};
    { /* predict, or transform if the model cannot predict */
        rv_object *probe = build(def, &err);
        rv_event e;
        rv_event_init(&e);
        make_event(&e, 0, 0);
        rv_prediction p;
        rv_prediction_init(&p);
        c.transform = rv_estimator_predict(probe, &e, &p, &err) == RV_EUNSUPPORTED;
        rv_prediction_free(&p);
        rv_event_free(&e);
        rv_object_free(probe);
    }
    rv_buf r1, r2, s1, s2;
    rv_buf_init(&r1);
    rv_buf_init(&r2);

    /* 1. a clone starts fresh */
    run(&c, o, 0, 30, 0, NULL);
    rv_object *cl = rv_object_clone(o, &err), *fresh = build(def, &err);
    cr_assert(cl && fresh, "%s: clone failed: %s", name, err.message);
    run(&c, cl, 30, 40, 0, &r1);
    run(&c, fresh, 30, 40, 0, &r2);
    cr_expect(same(&r1, &r2), "%s: a clone does not behave like a new instance", name);

    /* 2. predict never changes state */
    saved(o, &s1);
    rv_event e;
    rv_event_init(&e);
    for (int i = 40; i < 45; i++) {
        make_event(&e, i, 0);
        apply(&c, o, &e, &r1);
    }
    saved(o, &s2);
    if (!learns_during_predict(o))
        cr_expect(same(&s1, &s2), "%s: %s changed the state", name, c.transform ? "transform" : "predict");

    /* 3. save -> load -> continue is bit-identical, and so is copy */
    rv_buf snap;
    rv_buf_init(&snap);
    cr_assert_eq(rv_snapshot_save(o, &snap), RV_OK, "%s: snapshot failed", name);
    rv_object *back = rv_snapshot_load(snap.data, snap.len, &err);
    cr_assert(back, "%s: snapshot does not load: %s", name, err.message);
    rv_object *cp = rv_object_copy(o, &err);
    cr_assert(cp, "%s: copy failed: %s", name, err.message);
    rv_buf r3;
    rv_buf_init(&r3);
    rv_buf_reset(&r1);
    rv_buf_reset(&r2);
    run(&c, o, 45, 75, 0, &r1);
    run(&c, back, 45, 75, 0, &r2);
    run(&c, cp, 45, 75, 0, &r3);
    cr_expect(same(&r1, &r2), "%s: save/load/continue differs from the original", name);
    cr_expect(same(&r1, &r3), "%s: copy/continue differs from the original", name);
    rv_buf_free(&s1);
    rv_buf_free(&s2);
    saved(o, &s1);
    saved(back, &s2);
    cr_expect(same(&s1, &s2), "%s: reloaded state re-saves differently", name);

    /* 4. odd events: a status, never a crash, and deterministic */
    for (int w = 1; w < WEIRD_KINDS; w++) {
        rv_buf_reset(&r1);
        rv_buf_reset(&r2);
        run(&c, o, 75 + w, 77 + w, w, &r1);
        run(&c, back, 75 + w, 77 + w, w, &r2);
        cr_expect(same(&r1, &r2), "%s: odd events (kind %d) give different results on equal models",
                  name, w);
    }
    make_event(&e, 100, 0);
    rv_buf_reset(&r1);
    apply(&c, o, &e, &r1);

    rv_event_free(&e);
    rv_buf_free(&snap);
    rv_buf_free(&r1);
    rv_buf_free(&r2);
    rv_buf_free(&r3);
    rv_buf_free(&s1);
    rv_buf_free(&s2);
    rv_object_free(o);
    rv_object_free(cl);
    rv_object_free(fresh);
    rv_object_free(back);
    rv_object_free(cp);
}

static void qualified(const rv_class *cls, char *buf, size_t cap)
{
    if (cls->module && cls->module[0])
        snprintf(buf, cap, "%s.%s", cls->module, cls->name);
    else
        snprintf(buf, cap, "%s", cls->name);
}

/* The definition to test a class with, in buf; 0 if none builds. */
static int example_for(const rv_class *cls, char *buf, size_t cap, rv_error *err)
{
    char name[256];
    qualified(cls, name, sizeof name);
    for (size_t i = 0; i < sizeof EXAMPLES / sizeof *EXAMPLES; i++) {
        if (strcmp(EXAMPLES[i].cls, name) != 0)
            continue;
        for (size_t k = 0; k < 3 && EXAMPLES[i].defs[k]; k++) {
            rv_object *o = build(EXAMPLES[i].defs[k], err);
            /* by name: composites may answer with a variant of their class */
            if (o && !strcmp(o->cls->name, cls->name) && !strcmp(o->cls->module, cls->module)) {
                rv_object_free(o);
                snprintf(buf, cap, "%s", EXAMPLES[i].defs[k]);
                return 1;
            }
            rv_object_free(o);
        }
        return 0;
    }
    rv_args args;
    rv_args_init(&args, name);
    rv_object *o = cls->create(&args, err);
    rv_args_free(&args);
    if (!o)
        return 0;
    rv_buf d;
    rv_buf_init(&d);
    rv_object_describe(o, &d);
    snprintf(buf, cap, "%s", rv_buf_cstr(&d));
    rv_buf_free(&d);
    rv_object_free(o);
    return 1;
}

Test(contract, every_registered_estimator)
{
    rv_parse_set_lookup(counter_lookup);
    size_t checked = 0;
    for (const rv_class *const *cls = rv_class_all(); *cls; cls++) {
        if ((*cls)->kind != RV_CLASS_ESTIMATOR)
            continue;
        char name[256], def[4096];
        qualified(*cls, name, sizeof name);
        rv_error err = {0};
        if (!example_for(*cls, def, sizeof def, &err)) {
            cr_expect_fail("%s: cannot build an instance (%s); add an example definition to "
                           "EXAMPLES in tests/test_contract.c", name, err.message);
            continue;
        }
        check_model(name, def);
        checked++;
    }
    fprintf(stderr, "contract: %zu estimator classes checked\n", checked);
}

Test(contract, whole_models)
{
    rv_parse_set_lookup(counter_lookup);
    size_t checked = 0;
    for (size_t i = 0; i < sizeof EXTRA_MODELS / sizeof *EXTRA_MODELS; i++) {
        rv_error err = {0};
        rv_object *o = build(EXTRA_MODELS[i], &err);
        if (!o) { /* their classes have not all landed */
            fprintf(stderr, "contract: skipping a whole model: %s\n", err.message);
            continue;
        }
        rv_object_free(o);
        check_model(EXTRA_MODELS[i], EXTRA_MODELS[i]);
        checked++;
    }
    fprintf(stderr, "contract: %zu whole models checked\n", checked);
}
