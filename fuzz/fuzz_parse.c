/* Fuzz target: pipeline text -> rv_model_parse.
 *
 * Any bytes either fail with a message or give a model. A model must then
 * survive the round trips everything else relies on: describe -> parse gives
 * a model that describes itself the same way, and a fresh snapshot loads. */
#include "fuzz.h"

static void check_roundtrip(const rv_object *o)
{
    rv_buf d1, d2, snap;
    rv_buf_init(&d1);
    rv_buf_init(&d2);
    rv_buf_init(&snap);
    rv_error err = {0};
    FZ_CHECK(rv_object_describe(o, &d1) == RV_OK, "describe failed");
    rv_object *back = rv_model_parse(d1.data, d1.len, NULL, &err);
    FZ_CHECK(back, "describe -> parse failed: %s\n--- text ---\n%s", err.message, rv_buf_cstr(&d1));
    FZ_CHECK(rv_object_describe(back, &d2) == RV_OK, "describe of the reparsed model failed");
    FZ_CHECK(d1.len == d2.len && !memcmp(d1.data, d2.data, d1.len),
             "describe is not stable:\n%s\n--- versus ---\n%s", rv_buf_cstr(&d1), rv_buf_cstr(&d2));
    FZ_CHECK(rv_snapshot_save(o, &snap) == RV_OK, "snapshot of a fresh model failed");
    rv_object *loaded = rv_snapshot_load(snap.data, snap.len, &err);
    FZ_CHECK(loaded, "snapshot of a fresh model does not load: %s\n%s", err.message, rv_buf_cstr(&d1));
    rv_object *cl = rv_object_clone(o, &err);
    FZ_CHECK(cl, "clone failed: %s", err.message);
    (void)rv_object_memory(o);
    rv_object_free(cl);
    rv_object_free(loaded);
    rv_object_free(back);
    rv_buf_free(&snap);
    rv_buf_free(&d1);
    rv_buf_free(&d2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rv_error err = {0};
    rv_object *o = rv_model_parse((const char *)data, size, NULL, &err);
    if (!o) {
        FZ_CHECK_ERROR(err.code ? err.code : -1, &err, "rv_model_parse");
        return 0;
    }
    check_roundtrip(o);
    rv_object_free(o);
    return 0;
}
