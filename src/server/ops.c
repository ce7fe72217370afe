/* Operations endpoints: liveness, readiness, Prometheus text, OpenAPI.
 *
 *   GET /healthz  200 {"status": "ok", "uptime_s", "db_path", "db_bytes" (the
 *                 database and its WAL), "kept" (pending predictions), "version"};
 *                 503 {"status": "failing", "message"} once a commit has failed
 *   GET /readyz   200 once the log is replayed; 503 while starting or draining,
 *                 or once a commit has failed
 *   GET /metrics  Prometheus text format 0.0.4: request counters, predict and
 *                 learn call counts and mean durations, models, kept
 *                 predictions, and the global metrics as gauges
 *   GET /api/openapi.json  an OpenAPI 3.0 description of the endpoints
 */
#include "internal.h"
#include "server/deadline.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static long long file_bytes(const char *path, const char *suffix)
{
    char p[4200];
    struct stat st;
    snprintf(p, sizeof p, "%s%s", path, suffix);
    return stat(p, &st) == 0 ? (long long)st.st_size : 0;
}

/* The store's failure (a commit that failed: disk full, I/O error), which
 * refuses every later write until a restart; NULL while it works. */
static const char *store_failure(rv_server *s, rv_error *err)
{
    return rv_store_failure(s->store, err) != RV_OK ? err->message : NULL;
}

/* 503 while the store has failed, so that a supervisor restarts the server:
 * it cannot take a learn, and its models hold learns that were never made
 * durable; a restart reloads what was. */
void rv_ops_healthz(rv_server *s, rv_resp *resp)
{
    rv_error err = {0};
    const char *failure = store_failure(s, &err);
    if (failure) {
        rv_resp_json(resp, 503, json_pack("{s:s,s:s}", "status", "failing", "message", failure));
        return;
    }
    pthread_mutex_lock(&s->kept_mu);
    unsigned kept = rv_strmap_size(&s->kept);
    pthread_mutex_unlock(&s->kept_mu);
    long long db = file_bytes(s->cfg.db, "") + file_bytes(s->cfg.db, "-wal");
    rv_resp_json(resp, 200, json_pack("{s:s,s:f,s:s,s:I,s:I,s:s}", "status", "ok", "uptime_s",
                                      (double)(rv_now_ns() - s->started_ns) / 1e9, "db_path", s->cfg.db,
                                      "db_bytes", (json_int_t)db, "kept", (json_int_t)kept, "version",
                                      RV_VERSION));
}

void rv_ops_readyz(rv_server *s, rv_resp *resp)
{
    rv_error err = {0};
    const char *failure = store_failure(s, &err);
    if (failure) {
        rv_resp_json(resp, 503, json_pack("{s:s,s:s}", "status", "not ready", "message", failure));
        return;
    }
    int ready = atomic_load(&s->ready) && !atomic_load(&s->draining);
    rv_resp_json(resp, ready ? 200 : 503, json_pack("{s:s}", "status", ready ? "ready" : "not ready"));
}

static void timing_lines(rv_buf *b, const char *what, rv_timing *t)
{
    uint64_t n;
    double sum;
    rv_timing_totals(t, &n, &sum);
    rv_buf_printf(b, "rivulet_%s_calls_total %llu\n", what, (unsigned long long)n);
    rv_buf_printf(b, "rivulet_%s_duration_seconds_sum %.9f\n", what, sum / 1e9);
}

void rv_ops_prometheus(rv_server *s, rv_resp *resp)
{
    rv_buf *b = &resp->body;
    rv_buf_reset(b);
    rv_buf_printf(b, "# TYPE rivulet_requests_total counter\nrivulet_requests_total %llu\n",
                  rv_counter_get(&s->n_requests));
    rv_buf_printf(b, "# TYPE rivulet_client_errors_total counter\nrivulet_client_errors_total %llu\n",
                  rv_counter_get(&s->n_errors));
    rv_buf_puts(b, "# TYPE rivulet_predict_calls_total counter\n");
    timing_lines(b, "predict", &s->t_predict);
    rv_buf_puts(b, "# TYPE rivulet_learn_calls_total counter\n");
    timing_lines(b, "learn", &s->t_learn);
    rv_buf_printf(b, "# TYPE rivulet_checkpoints_total counter\nrivulet_checkpoints_total %llu\n",
                  (unsigned long long)atomic_load(&s->n_checkpoints));
    rv_error err = {0};
    rv_buf_printf(b, "# TYPE rivulet_store_failed gauge\nrivulet_store_failed %d\n",
                  store_failure(s, &err) != NULL);
    if (s->deadlines) {
        rv_buf_printf(b, "# TYPE rivulet_connections_expired_total counter\n"
                         "rivulet_connections_expired_total %llu\n",
                      (unsigned long long)rv_deadlines_expired(s->deadlines));
        rv_buf_printf(b, "# TYPE rivulet_connections_evicted_total counter\n"
                         "rivulet_connections_evicted_total %llu\n",
                      (unsigned long long)rv_deadlines_evicted(s->deadlines));
    }
    rv_rwshard_rdlock(&s->models_lock);
    rv_buf_printf(b, "# TYPE rivulet_models gauge\nrivulet_models %zu\n", s->n_models);
    rv_rwshard_unlock(&s->models_lock);
    pthread_mutex_lock(&s->kept_mu);
    rv_buf_printf(b, "# TYPE rivulet_kept_predictions gauge\nrivulet_kept_predictions %u\n",
                  rv_strmap_size(&s->kept));
    pthread_mutex_unlock(&s->kept_mu);
    pthread_mutex_lock(&s->metrics_mu);
    json_t *m = rv_metrics_to_json(&s->metrics);
    pthread_mutex_unlock(&s->metrics_mu);
    const char *key;
    json_t *v;
    rv_buf_puts(b, "# TYPE rivulet_metric gauge\n");
    json_object_foreach(m, key, v) {
        if (json_is_number(v)) {
            rv_buf_printf(b, "rivulet_metric{name=\"%s\"} ", key);
            rv_buf_put_double(b, json_number_value(v));
            rv_buf_puts(b, "\n");
        }
    }
    json_decref(m);
    resp->status = 200;
    resp->content_type = "text/plain; version=0.0.4";
}

/* Pieces shared by many operations: a changing operation needs the token
 * (401 without it, 403 wrong) and, like every request with a body, can be
 * refused for its size (413), and once a commit has failed it is refused
 * until a restart (500); every error body is {message}. */
#define ERR(code, text) "\"" code "\":{\"description\":\"" text "\",\"content\":{\"application/json\":{\"schema\":{\"$ref\":\"#/components/schemas/Error\"}}}}"
#define SECURED "\"security\":[{\"bearer\":[]}],"
#define AUTH_ERRORS "," ERR("401", "A bearer token is required.") "," ERR("403", "The token is wrong.")
#define TOO_LARGE "," ERR("413", "The body is too large.")
#define STORE_FAILED "," ERR("500", "A commit failed (full disk, I/O error): the store refuses changes until the server restarts.")
#define JSON_BODY(schema) "\"requestBody\":{\"required\":true,\"content\":{\"application/json\":{\"schema\":" schema "}}},"
#define NAME_PARAM "\"parameters\":[{\"name\":\"name\",\"in\":\"path\",\"required\":true,\"schema\":{\"type\":\"string\",\"pattern\":\"^(?!\\\\.{1,2}$)[A-Za-z0-9._-]{1,128}$\"}}],"
#define UPLOAD_BODY "\"requestBody\":{\"required\":true,\"content\":{\"text/plain\":{\"schema\":{\"type\":\"string\",\"description\":\"a model definition (River expression)\"}},\"application/octet-stream\":{\"schema\":{\"type\":\"string\",\"format\":\"binary\",\"description\":\"a snapshot from GET /api/model/{name}\"}}}},"
#define NDJSON_BODY "\"requestBody\":{\"required\":true,\"content\":{\"application/x-ndjson\":{\"schema\":{\"type\":\"string\",\"description\":\"one JSON payload per line\"}}}},"
#define FEATURES "\"features\":{\"type\":\"object\",\"additionalProperties\":{\"nullable\":true,\"oneOf\":[{\"type\":\"number\"},{\"type\":\"string\"},{\"type\":\"boolean\"}]}}"
#define ID "\"id\":{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}"

static const char OPENAPI[] =
    "{\"openapi\":\"3.0.3\",\"info\":{\"title\":\"rivulet\",\"version\":\"" RV_VERSION "\","
    "\"description\":\"Chantilly's API for rivulet models. Errors are {message} with a 4xx code; a payload its schema refuses gets cerberus's errors as the message, {field: [why, ...]}. A method a path does not answer is 405 with an Allow header; an unknown path is 404.\"},"
    "\"components\":{\"securitySchemes\":{\"bearer\":{\"type\":\"http\",\"scheme\":\"bearer\"}},"
    "\"schemas\":{\"Error\":{\"type\":\"object\",\"required\":[\"message\"],\"properties\":{\"message\":{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"object\",\"additionalProperties\":{\"type\":\"array\"}}]}}},"
    "\"Predict\":{\"type\":\"object\",\"required\":[\"features\"],\"properties\":{" FEATURES "," ID ",\"model\":{\"type\":\"string\"}}},"
    "\"Learn\":{\"type\":\"object\",\"required\":[\"ground_truth\"],\"properties\":{\"ground_truth\":{\"description\":\"a number (regression), a boolean (binary) or a class\"}," FEATURES "," ID ",\"model\":{\"type\":\"string\"}}}}},"
    "\"paths\":{"
    "\"/api/init\":{\"get\":{\"summary\":\"{flavor, storage, river_version, version}\",\"responses\":{\"200\":{\"description\":\"ok\"}," ERR("400", "No flavor has been set.") "}},"
    "\"post\":{\"summary\":\"Reset and set the flavor (regression, binary, multiclass)\"," SECURED
    JSON_BODY("{\"type\":\"object\",\"required\":[\"flavor\"],\"properties\":{\"flavor\":{\"type\":\"string\",\"enum\":[\"regression\",\"binary\",\"multiclass\"]}}}")
    "\"responses\":{\"201\":{\"description\":\"created\"}," ERR("400", "bad flavor") AUTH_ERRORS TOO_LARGE STORE_FAILED "}}},"
    "\"/api/model\":{\"get\":{\"summary\":\"Snapshot of the default model\",\"responses\":{\"200\":{\"description\":\"snapshot bytes\"}," ERR("404", "no default model") "}},"
    "\"post\":{\"summary\":\"Upload a model under a generated name; it becomes the default\"," SECURED UPLOAD_BODY
    "\"responses\":{\"201\":{\"description\":\"{name}\"}," ERR("400", "not a model, or wrong flavor") AUTH_ERRORS TOO_LARGE STORE_FAILED "}}},"
    "\"/api/model/{name}\":{" NAME_PARAM
    "\"get\":{\"summary\":\"Snapshot of a model\",\"responses\":{\"200\":{\"description\":\"snapshot bytes\"}," ERR("404", "unknown") "}},"
    "\"post\":{\"summary\":\"Upload (or replace) a model under a name; it becomes the default\"," SECURED UPLOAD_BODY
    "\"responses\":{\"201\":{\"description\":\"{name}\"}," ERR("400", "not a model, wrong flavor, or a bad name") AUTH_ERRORS TOO_LARGE STORE_FAILED "}},"
    "\"put\":{\"summary\":\"As POST\"," SECURED UPLOAD_BODY
    "\"responses\":{\"201\":{\"description\":\"{name}\"}," ERR("400", "not a model, wrong flavor, or a bad name") AUTH_ERRORS TOO_LARGE STORE_FAILED "}},"
    "\"delete\":{\"summary\":\"Delete a model (deleting the default leaves none)\"," SECURED "\"responses\":{\"204\":{\"description\":\"deleted\"}," ERR("404", "unknown") AUTH_ERRORS STORE_FAILED "}}},"
    "\"/api/model/{name}/metrics\":{\"get\":{\"summary\":\"A model's own metrics and n_learned\"," NAME_PARAM "\"responses\":{\"200\":{\"description\":\"metrics\"}," ERR("404", "unknown") "}}},"
    "\"/api/models\":{\"get\":{\"summary\":\"{models: sorted names, default, families: {name: {by, keys}}}\",\"responses\":{\"200\":{\"description\":\"ok\"}}}},"
    "\"/api/models/metrics\":{\"get\":{\"summary\":\"Rows {model, key|null, n, metrics} per model and family key\",\"parameters\":["
    "{\"name\":\"offset\",\"in\":\"query\",\"schema\":{\"type\":\"integer\",\"minimum\":0}},"
    "{\"name\":\"limit\",\"in\":\"query\",\"schema\":{\"type\":\"integer\",\"minimum\":0},\"description\":\"default all (null in the answer)\"},"
    "{\"name\":\"sort\",\"in\":\"query\",\"schema\":{\"type\":\"string\"},\"description\":\"a metric name, n, model or key\"},"
    "{\"name\":\"order\",\"in\":\"query\",\"schema\":{\"type\":\"string\",\"enum\":[\"asc\",\"desc\"]}}],"
    "\"responses\":{\"200\":{\"description\":\"{models, total, offset, limit}\"}," ERR("400", "bad query") "}}},"
    "\"/api/predict\":{\"post\":{\"summary\":\"-> {model, prediction}\"," JSON_BODY("{\"$ref\":\"#/components/schemas/Predict\"}")
    "\"responses\":{\"200\":{\"description\":\"predicted\"},\"201\":{\"description\":\"predicted and kept under id\"}," ERR("400", "client error (no model, no features, unknown model...)")
    "," ERR("429", "--max-kept predictions are kept already") TOO_LARGE STORE_FAILED "}}},"
    "\"/api/learn\":{\"post\":{\"summary\":\"Update the metrics with the prediction, then learn\"," SECURED JSON_BODY("{\"$ref\":\"#/components/schemas/Learn\"}")
    "\"responses\":{\"201\":{\"description\":\"learnt, durable\"}," ERR("400", "client error (no ground truth, unknown id...)") AUTH_ERRORS TOO_LARGE STORE_FAILED "}}},"
    "\"/api/predict/batch\":{\"post\":{\"summary\":\"NDJSON of predict payloads -> NDJSON results, each with its status\"," NDJSON_BODY
    "\"responses\":{\"200\":{\"description\":\"one line per input line\"}" TOO_LARGE "}}},"
    "\"/api/learn/batch\":{\"post\":{\"summary\":\"NDJSON of learn payloads -> NDJSON results, each with its status; one commit\"," SECURED NDJSON_BODY
    "\"responses\":{\"200\":{\"description\":\"one line per input line\"}" AUTH_ERRORS TOO_LARGE STORE_FAILED "}}},"
    "\"/api/metrics\":{\"get\":{\"summary\":\"The flavor's metrics\",\"responses\":{\"200\":{\"description\":\"ok\"}," ERR("400", "No flavor has been set.") "}}},"
    "\"/api/stats\":{\"get\":{\"summary\":\"Predict and learn: n_calls, mean, ewm, p50 and p99 durations (ns and *_human)\",\"responses\":{\"200\":{\"description\":\"ok\"}," ERR("400", "No flavor has been set.") "}}},"
    "\"/api/stream/metrics\":{\"get\":{\"summary\":\"Server-sent metrics after each learn, as unnamed messages\",\"responses\":{\"200\":{\"description\":\"text/event-stream\"}," ERR("503", "--max-streams streams are open already") "}}},"
    "\"/api/stream/events\":{\"get\":{\"summary\":\"Server-sent predict and learn events (event: predict, event: learn)\",\"responses\":{\"200\":{\"description\":\"text/event-stream\"}," ERR("503", "--max-streams streams are open already") "}}},"
    "\"/api/openapi.json\":{\"get\":{\"summary\":\"This description\",\"responses\":{\"200\":{\"description\":\"ok\"}}}},"
    "\"/\":{\"get\":{\"summary\":\"The live dashboard (HTML)\",\"responses\":{\"200\":{\"description\":\"text/html\"}}}},"
    "\"/healthz\":{\"get\":{\"summary\":\"Liveness: status, uptime_s, db_path, db_bytes, kept, version\",\"responses\":{\"200\":{\"description\":\"ok\"},\"503\":{\"description\":\"{status: failing, message}: a commit failed; restart the server\"}}}},"
    "\"/readyz\":{\"get\":{\"summary\":\"Readiness\",\"responses\":{\"200\":{\"description\":\"ready\"},\"503\":{\"description\":\"not ready: starting, draining, or a commit failed (with its message)\"}}}},"
    "\"/metrics\":{\"get\":{\"summary\":\"Prometheus text\",\"responses\":{\"200\":{\"description\":\"ok\"}}}}"
    "}}";

void rv_ops_openapi(rv_server *s, rv_resp *resp)
{
    (void)s;
    rv_buf_reset(&resp->body);
    rv_buf_put(&resp->body, OPENAPI, sizeof OPENAPI - 1);
    resp->status = 200;
    resp->content_type = "application/json";
}
