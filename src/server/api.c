/* POST /api/predict and POST /api/learn (Chantilly's payloads), one at a time
 * or as NDJSON batches, and the announcements they make.
 *
 * predict {"features": {...}, "id"?: str|number, "model"?: name}
 *   -> 200 {"model", "prediction"}; with an id the features and prediction
 *      are kept (durably) until the ground truth arrives, and the code is 201.
 * learn {"ground_truth": y, "id"?: ..., "features"?: {...}, "model"?: name}
 *   -> 201 {}; with an id the kept features and prediction are used (and
 *      forgotten), else features are required and the model predicts first;
 *      metrics see the prediction, then the model learns.
 * Client errors are 400 with Chantilly's messages.
 *
 * Batches: one payload per line; one result line per input line, each the
 * single call's answer plus "status"; a bad line fails alone. Blank lines
 * (spaces, tabs, \r) are skipped and get no result line, and a batch holds
 * at most RV_BATCH_MAX_LINES lines (413 otherwise, before any line runs):
 * 64 MiB of newlines once came back as 3.5 GB of error lines. A learn batch
 * is answered once the group commit covering its last write is durable.
 */
#include "internal.h"
#include "schema.h"

#include "rivulet/family.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(json_t **result, int status, const char *msg)
{
    *result = rv_json_message(msg);
    return status;
}

static int fail_json(json_t **result, const json_error_t *e, const char *text, size_t len)
{
    char why[320], msg[400];
    rv_json_problem(e, text, len, why, sizeof why);
    snprintf(msg, sizeof msg, "The line is not valid JSON: %s.", why);
    return fail(result, 400, msg);
}

/* Chantilly's answer to a payload its schema refuses: the error tree as the
 * message (schema.c). Steals why. */
static int fail_schema(json_t **result, json_t *why)
{
    *result = json_pack("{s:o}", "message", why);
    return 400;
}

static int fail_err(json_t **result, const rv_error *err)
{
    int status = err->code == RV_ENOMEM || err->code == RV_EIO ? 500 : 400;
    return fail(result, status, err->message[0] ? err->message : rv_strerror(err->code));
}

/* A family's key names its member as text, from the feature's value: an
 * integer past 2^53 has no exact double, and two such keys would share one
 * member. Refused (1, with the message in result) rather than merged. */
static int inexact_key(const rv_model_entry *e, const json_t *features, json_t **result)
{
    if (!e->is_family)
        return 0;
    const char *by = rv_family_key_feature(e->model);
    json_t *k = json_object_get(features, by);
    if (!json_is_integer(k))
        return 0;
    json_int_t v = json_integer_value(k);
    if (v <= (1LL << 53) && v >= -(1LL << 53))
        return 0;
    char msg[300];
    snprintf(msg, sizeof msg, "The key '%.100s' is an integer too large to be exact as a number"
             " (past 2^53): send it as a string.", by);
    fail(result, 400, msg);
    return 1;
}

/* The id as text, as Chantilly's '#%s' % id spells it: strings as they
 * are, integers in decimal, booleans True and False. */
static int id_text(const json_t *id, char *out, size_t cap)
{
    if (json_is_boolean(id))
        return snprintf(out, cap, "%s", json_is_true(id) ? "True" : "False") > 0;
    if (json_is_string(id)) {
        if (json_string_length(id) >= cap || memchr(json_string_value(id), 0, json_string_length(id)))
            return 0;
        memcpy(out, json_string_value(id), json_string_length(id) + 1);
        return 1;
    }
    if (json_is_integer(id))
        return snprintf(out, cap, "%lld", (long long)json_integer_value(id)) > 0;
    return 0;
}

static rv_model_entry *find_model(rv_server *s, const json_t *name, json_t **result, int *status)
{
    if (name && !json_is_string(name)) {
        *status = fail(result, 400, "The model name must be a string.");
        return NULL;
    }
    rv_model_entry *e = rv_state_find(s, name ? json_string_value(name) : NULL);
    if (!e) {
        char msg[300];
        if (name)
            snprintf(msg, sizeof msg, "No model named '%.200s'.", json_string_value(name));
        else
            snprintf(msg, sizeof msg, "No default model has been set.");
        *status = fail(result, 400, msg);
    }
    return e;
}

static void announce_event(rv_server *s, const char *kind, json_t *body)
{
    if (body && rv_announcer_active(s->sse_events)) {
        char *text = rv_json_text(body);
        if (text)
            rv_announce(s->sse_events, kind, text, strlen(text));
        free(text);
    }
    json_decref(body);
}

static void announce_metrics(rv_server *s)
{
    if (!rv_announcer_active(s->sse_metrics))
        return;
    pthread_mutex_lock(&s->metrics_mu);
    json_t *m = rv_metrics_to_json(&s->metrics);
    pthread_mutex_unlock(&s->metrics_mu);
    char *text = rv_json_text(m);
    /* unnamed, as Chantilly sends it (format_sse(data=msg)): its README's
     * browser client listens with es.onmessage, which named events skip */
    if (text)
        rv_announce(s->sse_metrics, NULL, text, strlen(text));
    free(text);
    json_decref(m);
}

/* ===== Per-thread scratch ===== */

/* Each worker reuses one event (items and string arena) across its
 * predicts instead of allocating and freeing them per request. The event
 * lives in static TLS (so leak checkers see it from live threads); a
 * pthread key frees it when the thread exits. An event that grew large (a
 * huge request) is freed rather than kept, so a worker holds little. */
static _Thread_local struct {
    int ready;
    rv_event x;
} scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p)
{
    (void)p;
    rv_event_free(&scratch.x);
    scratch.ready = 0;
}

static void scratch_key_make(void)
{
    if (pthread_key_create(&scratch_key, scratch_free) != 0)
        scratch_key = (pthread_key_t)-1;
}

static rv_event *scratch_event(void)
{
    if (!scratch.ready) {
        pthread_once(&scratch_once, scratch_key_make);
        rv_event_init(&scratch.x);
        scratch.ready = 1;
        if (scratch_key != (pthread_key_t)-1)
            pthread_setspecific(scratch_key, &scratch);
    }
    return &scratch.x;
}

static void scratch_release(rv_event *x)
{
    size_t bytes = 0;
    for (uint32_t i = 0; i < x->n; i++)
        bytes += x->items[i].kind == RV_STR ? x->items[i].len : 0;
    if (x->n > 256 || bytes > 4096) {
        rv_event_free(x);
        rv_event_init(x);
    } else {
        rv_event_clear(x);
    }
}

/* ===== predict ===== */

/* {"model":"<name>","prediction":<number>} written straight into the
 * response: the hot path of a single numeric predict skips building and
 * dumping a JSON tree. Model names need no escaping (letters, digits, - _ .),
 * and the number is spelt as every real the server writes (Python's repr:
 * the shortest that reads back exactly, "3.0" for an integer). */
static void answer_number(rv_resp *r, int status, const char *model, double y)
{
    r->status = status;
    r->content_type = "application/json";
    rv_buf_reset(&r->body);
    rv_buf_puts(&r->body, "{\"model\":\"");
    rv_buf_puts(&r->body, model);
    rv_buf_puts(&r->body, "\",\"prediction\":");
    if (isfinite(y))
        rv_buf_put_pyfloat(&r->body, y);
    else
        rv_buf_puts(&r->body, "null");
    rv_buf_puts(&r->body, "}");
}

/* With direct set, a numeric answer is written into it and *result stays
 * NULL; anything else (errors, class probabilities) comes back in *result. */
static int predict_locked(rv_server *s, json_t *payload, json_t **result, rv_resp *direct,
                          uint64_t *ticket)
{
    int status = 200;
    rv_model_entry *e = find_model(s, json_object_get(payload, "model"), result, &status);
    if (!e)
        return status;
    json_t *features = json_object_get(payload, "features"); /* there: the schema requires it */
    if (inexact_key(e, features, result))
        return 400;
    json_t *id = json_object_get(payload, "id");
    char idbuf[256];
    if (id && !id_text(id, idbuf, sizeof idbuf))
        return fail(result, 400, "The id must be a string (under 256 bytes) or an integer.");
    rv_error err = {0};
    /* a prediction kept in memory that the store cannot keep would answer
     * a learn by id now and be gone after the restart */
    if (id && rv_store_failure(s->store, &err) != RV_OK)
        return fail_err(result, &err);
    rv_event *x = scratch_event();
    rv_prediction p;
    rv_prediction_init(&p);
    rv_status st = rv_json_to_event(features, x, &err);
    if (st == RV_OK)
        st = rv_state_predict(s, e, x, &p, &err);
    if (st == RV_OK && id) {
        rv_buf rec;
        rv_buf_init(&rec);
        st = rv_record_encode(&rec, e->name, x, NULL, &p, 0);
        if (st == RV_OK)
            st = rv_state_keep(s, idbuf, &rec, ticket);
        if (st == RV_ESTATE)
            status = 429;
        else if (st != RV_OK)
            rv_error_set(&err, RV_ENOMEM, "out of memory keeping the prediction");
        rv_buf_free(&rec);
        if (st == RV_OK)
            status = 201;
    }
    if (status == 429) {
        char msg[200];
        snprintf(msg, sizeof msg, "%zu predictions are kept already, waiting for their ground truth:"
                 " learn them, let them expire (--keep-ttl) or raise --max-kept.", s->cfg.max_kept);
        status = fail(result, 429, msg);
    } else if (st == RV_OK && direct && p.kind != RV_PRED_PROBA && !rv_announcer_active(s->sse_events)) {
        answer_number(direct, status, e->name, p.num);
    } else if (st == RV_OK) {
        *result = json_pack("{s:s,s:o}", "model", e->name, "prediction", rv_prediction_to_json(&p));
        if (rv_announcer_active(s->sse_events)) {
            json_t *ev = json_pack("{s:s,s:o,s:O}", "model", e->name, "features", rv_event_to_json(x),
                                   "prediction", json_object_get(*result, "prediction"));
            if (ev && id)
                json_object_set(ev, "id", id);
            announce_event(s, "predict", ev);
        }
    } else {
        status = fail_err(result, &err);
    }
    rv_prediction_free(&p);
    scratch_release(x);
    return status;
}

int rv_api_predict_one(rv_server *s, json_t *payload, json_t **result, rv_resp *direct,
                       uint64_t *ticket)
{
    *ticket = 0;
    if (!json_is_object(payload))
        return fail(result, 400, "The payload must be a JSON object.");
    uint64_t t0 = rv_now_ns();
    json_t *why = rv_schema_errors(&rv_schema_predict, payload);
    int status;
    if (why) {
        status = fail_schema(result, why);
    } else {
        rv_rwshard_rdlock(&s->models_lock);
        status = predict_locked(s, payload, result, direct, ticket);
        rv_rwshard_unlock(&s->models_lock);
    }
    /* every call counts, refused ones too, as in Chantilly's /api/stats
     * (its after_request hook times whatever the endpoint answered) */
    rv_timing_add(&s->t_predict, t0, rv_now_ns());
    return status;
}

/* ===== learn ===== */

typedef struct learn_job {
    char id[256];
    int has_id;
    char *kept;        /* taken record bytes */
    size_t kept_len;
    int64_t kept_expires;
    rv_record rec;     /* decoded kept record */
    rv_event x;        /* features from the payload */
} learn_job;

/* In Chantilly's order (chantilly/api.py, learn): the kept prediction of
 * the id, then the features, then the model; the ground truth is Python's
 * business there, so a bad one is refused last. */
static int learn_locked(rv_server *s, json_t *payload, learn_job *j, json_t **result, uint64_t *ticket)
{
    if (s->flavor == RV_FLAVOR_NONE)
        return fail(result, 400, "No flavor has been set.");
    rv_error err = {0};
    json_t *id = json_object_get(payload, "id"), *name = json_object_get(payload, "model");
    json_t *features = json_object_get(payload, "features");
    const rv_event *x = &j->x;
    const rv_prediction *pred = NULL;
    char model_name[4097];
    if (id) {
        if (!id_text(id, j->id, sizeof j->id))
            return fail(result, 400, "The id must be a string (under 256 bytes) or an integer.");
        j->has_id = 1;
        j->kept = rv_state_take(s, j->id, &j->kept_len, &j->kept_expires);
        if (!j->kept) {
            char msg[320];
            snprintf(msg, sizeof msg, "No information stored for ID '%s'.", j->id);
            return fail(result, 400, msg);
        }
        if (rv_record_decode(&j->rec, j->kept, j->kept_len, &err) != RV_OK)
            return fail_err(result, &err);
        snprintf(model_name, sizeof model_name, "%.*s", (int)j->rec.model_len, j->rec.model);
        if (json_is_string(name) && strcmp(json_string_value(name), model_name) != 0) {
            char msg[1024];
            snprintf(msg, sizeof msg, "The prediction for ID '%s' was made by model '%.200s', not '%.200s'.",
                     j->id, model_name, json_string_value(name));
            return fail(result, 400, msg);
        }
        x = &j->rec.x;
        pred = &j->rec.pred;
    } else if (!features) {
        return fail(result, 400, "No features are stored and none were provided.");
    }
    json_t *kept_name = id ? json_string(model_name) : NULL;
    int status = 201;
    rv_model_entry *e = find_model(s, id ? kept_name : name, result, &status);
    json_decref(kept_name);
    if (!e)
        return status;
    if (!id) {
        if (inexact_key(e, features, result))
            return 400;
        if (rv_json_to_event(features, &j->x, &err) != RV_OK)
            return fail_err(result, &err);
    }
    json_t *gt = json_object_get(payload, "ground_truth");
    rv_value y;
    if (rv_json_to_target(gt, s->flavor, &y, &err) != RV_OK)
        return fail_err(result, &err);
    rv_prediction used;
    rv_prediction_init(&used);
    if (rv_state_learn(s, e, x, &y, pred, &used, id ? j->id : NULL, ticket, &err) != RV_OK) {
        rv_prediction_free(&used);
        return fail_err(result, &err);
    }
    *result = json_object();
    if (rv_announcer_active(s->sse_events)) {
        /* Chantilly's learn event: the prediction the metrics saw (the kept
         * one, or the one made for this learn) beside the ground truth */
        json_t *ev = json_pack("{s:s,s:o,s:o,s:O}", "model", e->name, "features", rv_event_to_json(x),
                               "prediction", rv_prediction_to_json(&used), "ground_truth", gt);
        if (ev && id)
            json_object_set(ev, "id", id);
        announce_event(s, "learn", ev);
    }
    rv_prediction_free(&used);
    /* consumed: the forget is logged with the learn. Only now, as x's
     * strings point into it (the event above read them). */
    free(j->kept);
    j->kept = NULL;
    return status;
}

/* A learn whose payload passed the schema. */
static int learn_valid(rv_server *s, json_t *payload, json_t **result, uint64_t *ticket)
{
    learn_job j;
    memset(&j, 0, sizeof j);
    rv_record_init(&j.rec);
    rv_event_init(&j.x);
    rv_rwshard_rdlock(&s->models_lock);
    int status = learn_locked(s, payload, &j, result, ticket);
    if (j.kept) /* the learn failed: the prediction stays kept */
        rv_state_put_back(s, j.id, j.kept, j.kept_len, j.kept_expires);
    rv_rwshard_unlock(&s->models_lock);
    rv_record_free(&j.rec);
    rv_event_free(&j.x);
    return status;
}

int rv_api_learn_one(rv_server *s, json_t *payload, json_t **result, uint64_t *ticket)
{
    *ticket = 0;
    if (!json_is_object(payload))
        return fail(result, 400, "The payload must be a JSON object.");
    uint64_t t0 = rv_now_ns();
    json_t *why = rv_schema_errors(&rv_schema_learn, payload);
    int status = why ? fail_schema(result, why) : learn_valid(s, payload, result, ticket);
    rv_timing_add(&s->t_learn, t0, rv_now_ns()); /* every call, as for predict */
    if (status < 300)
        announce_metrics(s);
    return status;
}

/* ===== batches ===== */

static int blank(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    return p == end;
}

void rv_batch(rv_server *s, const rv_req *req, rv_resp *resp, int learn)
{
    const char *p = req->body, *end = req->body + req->body_len;
    size_t lines = 0;
    for (const char *q = p; q < end && lines <= RV_BATCH_MAX_LINES; lines++) {
        const char *nl = memchr(q, '\n', (size_t)(end - q));
        q = nl ? nl + 1 : end;
    }
    if (lines > RV_BATCH_MAX_LINES)
        return rv_resp_message(resp, 413, "A batch holds at most %d lines; split it.", RV_BATCH_MAX_LINES);
    resp->status = 200;
    resp->content_type = "application/x-ndjson";
    uint64_t last = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        if (blank(p, line_end)) {
            p = nl ? nl + 1 : end;
            continue;
        }
        json_error_t jerr;
        json_t *payload = json_loadb(p, (size_t)(line_end - p), JSON_DECODE_ANY, &jerr), *result = NULL;
        uint64_t t = 0;
        int status = !payload ? fail_json(&result, &jerr, p, (size_t)(line_end - p))
                     : !json_is_object(payload) ? fail(&result, 400, "The line must be a JSON object.")
                     : learn  ? rv_api_learn_one(s, payload, &result, &t)
                              : rv_api_predict_one(s, payload, &result, NULL, &t);
        last = t > last ? t : last;
        json_object_set_new(result, "status", json_integer(status));
        char *text = rv_json_text(result);
        rv_buf_puts(&resp->body, text ? text : "{\"status\":500}");
        rv_buf_put(&resp->body, "\n", 1);
        rv_buf_put(&resp->line_tickets, &t, sizeof t);
        free(text);
        json_decref(result);
        json_decref(payload);
        p = nl ? nl + 1 : end;
    }
    resp->wait = last; /* one group commit covers the batch; answered once durable */
}

/* A batch spans several commits when it outlasts one, so a failed commit can
 * leave its first lines durable: answering the whole batch 500 made a client
 * send them again, and learn them twice. */
void rv_batch_mark_lost(rv_resp *resp, uint64_t durable, const char *why)
{
    size_t n = resp->line_tickets.len / sizeof(uint64_t);
    json_t *lost = rv_json_message(why);
    json_object_set_new(lost, "status", json_integer(500));
    char *lost_text = rv_json_text(lost);
    json_decref(lost);
    rv_buf out;
    rv_buf_init(&out);
    const char *p = resp->body.data, *end = p + resp->body.len;
    for (size_t i = 0; i < n && p < end; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        uint64_t t;
        memcpy(&t, resp->line_tickets.data + i * sizeof t, sizeof t);
        if (t > durable)
            rv_buf_puts(&out, lost_text ? lost_text : "{\"status\":500}");
        else
            rv_buf_put(&out, p, (size_t)(line_end - p));
        rv_buf_put(&out, "\n", 1);
        p = nl ? nl + 1 : end;
    }
    free(lost_text);
    rv_buf_free(&resp->body);
    resp->body = out;
}
