/* Fuzz target: the server's request decoding, in process (no sockets).
 *
 * One server lives for the whole run, on an in-memory store, with the
 * regression flavor and three models: "lm" and "knn" (the M5 example
 * pipelines) and "fam" (a family of the linear one, by 'id'); "lm" is the
 * default. The first input byte picks what the rest of the input is:
 *
 *   0  the body of POST /api/predict      1  the body of POST /api/learn
 *   2  the body of POST /api/predict/batch 3  the body of POST /api/learn/batch
 *   4  a model upload to /api/model/fz (text or snapshot), then its DELETE
 *   5  the codec alone: JSON -> event, JSON -> target for each flavor, and the
 *      raw bytes -> rv_record_decode (the log and kept-prediction records)
 *
 * then a few GET endpoints run. Invariants: a response has a status the API
 * documents and a body; no client input yields a 500; a refused predict or
 * learn (4xx) leaves every model's state as it was. */
#include "fuzz.h"
#include "server/internal.h"

#include <jansson.h>

static rv_server *srv;
static const char *const MODELS[] = {"lm", "knn", "fam"};

static int call(const char *method, const char *path, const void *body, size_t len, rv_buf *out)
{
    rv_req req = {.method = method, .path = path, .body = body, .body_len = len};
    rv_resp resp = {0};
    rv_api_dispatch(srv, &req, &resp);
    int st = resp.status;
    FZ_CHECK(st == 200 || st == 201 || st == 204 || st == 400 || st == 404 || st == 405 || st == 413,
             "%s %s answered %d: %.*s", method, path, st, (int)resp.body.len, resp.body.data);
    FZ_CHECK(st == 204 || resp.body.len || strstr(path, "/batch"), "%s %s answered %d without a body",
             method, path, st);
    if (out) {
        rv_buf_reset(out);
        rv_buf_put(out, resp.body.data, resp.body.len);
    }
    rv_resp_clear(&resp);
    return st;
}

static void upload(const char *name, const char *text)
{
    char path[64];
    snprintf(path, sizeof path, "/api/model/%s", name);
    FZ_CHECK(call("POST", path, text, strlen(text), NULL) == 201, "upload of %s", name);
}

static char *m5_text(const char *which)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/examples/m5/%s.river", RV_SOURCE_DIR, which);
    return fz_read_file(path, NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    srv = calloc(1, sizeof *srv);
    srv->cfg = (rv_config){.host = "127.0.0.1", .db = ":memory:", .max_connections = 1, .max_body = 1 << 20,
                           .timeout_s = 30, .keep_ttl_s = 0, .checkpoint_every = 64,
                           .sse_keepalive_ms = 1000};
    rv_timing_init(&srv->t_predict);
    rv_timing_init(&srv->t_learn);
    srv->sse_events = rv_announcer_new(1 << 16, 1000);
    srv->sse_metrics = rv_announcer_new(1 << 16, 1000);
    rv_error err = {0};
    FZ_CHECK(rv_store_open(":memory:", &srv->store, &err) == RV_OK, "store: %s", err.message);
    FZ_CHECK(rv_state_open(srv, &err) == RV_OK, "state: %s", err.message);
    const char *init = "{\"flavor\": \"regression\"}";
    FZ_CHECK(call("POST", "/api/init", init, strlen(init), NULL) == 201, "init");
    char *lm = m5_text("lm"), *knn = m5_text("knn");
    rv_buf fam;
    rv_buf_init(&fam);
    /* the lm file's last statement, wrapped: 'model = features | ...' */
    rv_buf_printf(&fam, "%s\nfam = compose.Family(model, by='id')\n", lm);
    upload("knn", knn);
    upload("fam", rv_buf_cstr(&fam));
    upload("lm", lm);
    free(lm);
    free(knn);
    rv_buf_free(&fam);
    return 0;
}

/* The state of every model, as snapshot bytes. */
static void snapshot_all(rv_buf *out)
{
    rv_buf_reset(out);
    rv_rwshard_rdlock(&srv->models_lock);
    for (size_t i = 0; i < sizeof MODELS / sizeof *MODELS; i++) {
        rv_model_entry *e = rv_state_find(srv, MODELS[i]);
        FZ_CHECK(e, "model %s is gone", MODELS[i]);
        rv_rwshard_wrlock(&e->lock);
        FZ_CHECK(rv_snapshot_save(e->model, out) == RV_OK, "snapshot of %s", MODELS[i]);
        rv_rwshard_unlock(&e->lock);
    }
    rv_rwshard_unlock(&srv->models_lock);
}

static void codec(const uint8_t *p, size_t n)
{
    rv_error err = {0};
    rv_record r;
    rv_record_init(&r);
    if (rv_record_decode(&r, p, n, &err) != RV_OK)
        FZ_CHECK(err.message[0], "rv_record_decode failed without a message");
    rv_record_free(&r);

    json_error_t jerr;
    json_t *j = json_loadb((const char *)p, n, JSON_DECODE_ANY, &jerr);
    if (!j)
        return;
    rv_event x;
    rv_event_init(&x);
    if (rv_json_to_event(j, &x, &err) != RV_OK)
        FZ_CHECK(err.message[0], "rv_json_to_event failed without a message");
    json_decref(rv_event_to_json(&x));
    for (rv_flavor f = RV_FLAVOR_REGRESSION; f <= RV_FLAVOR_MULTICLASS; f++) {
        rv_value y;
        if (rv_json_to_target(j, f, &y, &err) != RV_OK)
            FZ_CHECK(err.message[0], "rv_json_to_target failed without a message");
    }
    rv_event_free(&x);
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    uint8_t mode = fz_u8(&in) % 6;
    static const char *const PATHS[] = {"/api/predict", "/api/learn", "/api/predict/batch",
                                        "/api/learn/batch"};
    rv_buf before, after, body;
    rv_buf_init(&before);
    rv_buf_init(&after);
    rv_buf_init(&body);
    if (mode < 2) {
        snapshot_all(&before);
        int st = call("POST", PATHS[mode], in.p, in.n, &body);
        if (st >= 400) {
            snapshot_all(&after);
            FZ_CHECK(before.len == after.len && !memcmp(before.data, after.data, before.len),
                     "a refused %s (%d: %s) changed a model", PATHS[mode], st, rv_buf_cstr(&body));
        }
    } else if (mode < 4) { /* one answer line per input line that is not blank */
        size_t lines = 0, answers = 0;
        int blank = 1;
        for (size_t i = 0; i < in.n; i++) {
            char c = (char)in.p[i];
            if (c != '\n' && c != ' ' && c != '\t' && c != '\r')
                blank = 0;
            if (c == '\n' || i + 1 == in.n) {
                lines += !blank;
                blank = 1;
            }
        }
        if (call("POST", PATHS[mode], in.p, in.n, &body) == 200)
            for (size_t i = 0; i < body.len; i++)
                answers += body.data[i] == '\n';
        else
            answers = lines;
        FZ_CHECK(answers == lines, "%s: %zu answers to %zu lines", PATHS[mode], answers, lines);
    } else if (mode == 4) {
        if (call("POST", "/api/model/fz", in.p, in.n, NULL) == 201) {
            FZ_CHECK(call("DELETE", "/api/model/fz", NULL, 0, NULL) == 204, "delete of fz");
            free(srv->default_model); /* an upload becomes the default: restore it */
            srv->default_model = strdup("lm");
        }
    } else {
        codec(in.p, in.n);
    }
    call("GET", "/api/models", NULL, 0, NULL);
    call("GET", "/api/metrics", NULL, 0, NULL);
    call("GET", "/api/model/fam/metrics", NULL, 0, NULL);
    rv_buf_free(&before);
    rv_buf_free(&after);
    rv_buf_free(&body);
    return 0;
}
