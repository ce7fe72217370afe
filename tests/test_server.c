/* End-to-end tests of `rivulet serve` over 127.0.0.1 with a raw-socket HTTP
 * client: Chantilly's own test list (init, upload, fetch, delete, models,
 * predict, learn, stats, metrics), the error paths, limits, auth, SSE,
 * batches, health endpoints, and durability (SIGTERM and kill -9 restarts).
 * Each test runs its own server on a free port with a temporary database. */
#include "server_client.h"

#include "rivulet/compose.h"
#include "rivulet/model.h"

#include <math.h>

#define GET(path, r) cr_assert_eq(http_json(ts.port, "GET", path, NULL, r), 0)
#define POST(path, body, r) cr_assert_eq(http_json(ts.port, "POST", path, body, r), 0)

static void expect_message(http_resp *r, int status, const char *msg)
{
    cr_assert_eq(r->status, status, "status %d, wanted %d: %s", r->status, status, r->body);
    cr_assert(msg ? resp_message(r) != NULL : resp_has_message(r), "no message in %s", r->body);
    if (msg)
        cr_assert_str_eq(resp_message(r), msg);
}

static void init_flavor(test_server *tsp, const char *flavor)
{
    test_server ts = *tsp;
    http_resp r;
    char body[100];
    snprintf(body, sizeof body, "{\"flavor\": \"%s\"}", flavor);
    POST("/api/init", body, &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    http_free(&r);
}

/* ===== init ===== */

Test(server, init_without_and_with_a_bad_flavor)
{
    test_server ts;
    server_start(&ts);
    http_resp r;
    GET("/api/init", &r);
    expect_message(&r, 400, "No flavor has been set.");
    http_free(&r);
    POST("/api/init", "{\"flavor\": \"banana\"}", &r);
    expect_message(&r, 400, "Allowed flavors are 'regression', 'binary', 'multiclass'.");
    http_free(&r);
    POST("/api/init", "{\"flavor\": \"regression\"}", &r);
    cr_assert_eq(r.status, 201);
    http_free(&r);
    GET("/api/init", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "flavor")), "regression");
    cr_assert_not_null(json_string_value(json_object_get(r.json, "storage")));
    cr_assert_not_null(json_string_value(json_object_get(r.json, "version")));
    http_free(&r);
    cr_assert_eq(server_stop(&ts, SIGTERM), 0);
    server_cleanup(&ts);
}

Test(server, upload_without_flavor_and_of_a_non_model)
{
    test_server ts;
    server_start(&ts);
    http_resp r;
    POST("/api/model", "linear_model.LinearRegression()", &r);
    expect_message(&r, 400, "No flavor has been set.");
    http_free(&r);
    init_flavor(&ts, "regression");
    POST("/api/model/x", "this is not a model at all (", &r);
    expect_message(&r, 400, NULL);
    http_free(&r);
    const char bytes[] = {'\0', '\1', '\2', '\3'};
    cr_assert_eq(http_req(ts.port, "POST", "/api/model/x", NULL, bytes, sizeof bytes, &r), 0);
    expect_message(&r, 400, NULL);
    http_free(&r);
    GET("/api/models", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(json_array_size(json_object_get(r.json, "models")), 0);
    cr_assert(json_is_null(json_object_get(r.json, "default")));
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

Test(server, delete_and_fetch_unknown_models)
{
    test_server ts;
    server_start(&ts);
    init_flavor(&ts, "regression");
    http_resp r;
    cr_assert_eq(http_json(ts.port, "DELETE", "/api/model/nope", NULL, &r), 0);
    expect_message(&r, 404, "No model named 'nope'.");
    http_free(&r);
    GET("/api/model/nope", &r);
    expect_message(&r, 404, "No model named 'nope'.");
    http_free(&r);
    GET("/api/model", &r);
    expect_message(&r, 404, "No default model has been set.");
    http_free(&r);
    GET("/api/model/nope/metrics", &r);
    expect_message(&r, 404, NULL);
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

/* ===== predict and learn without a model ===== */

Test(server, predict_and_learn_error_paths_without_a_model)
{
    test_server ts;
    server_start(&ts);
    http_resp r;
    POST("/api/learn", "{\"ground_truth\": 1, \"features\": {}}", &r);
    expect_message(&r, 400, "No flavor has been set.");
    http_free(&r);
    init_flavor(&ts, "regression");
    POST("/api/predict", "{\"features\": {\"x\": 1}}", &r);
    expect_message(&r, 400, "No default model has been set.");
    http_free(&r);
    POST("/api/predict", "{\"features\": {\"x\": 1}, \"model\": \"ghost\"}", &r);
    expect_message(&r, 400, "No model named 'ghost'.");
    http_free(&r);
    POST("/api/learn", "{\"features\": {\"x\": 1}}", &r);
    cr_assert_eq(r.status, 400);
    cr_assert_str_eq(resp_field_message(&r, "ground_truth"), "required field", "%s", r.body);
    http_free(&r);
    POST("/api/learn", "{\"ground_truth\": 1, \"features\": {\"x\": 1}}", &r);
    expect_message(&r, 400, "No default model has been set.");
    http_free(&r);
    POST("/api/learn", "{\"ground_truth\": 1, \"id\": \"x\"}", &r);
    expect_message(&r, 400, "No information stored for ID 'x'.");
    http_free(&r);
    POST("/api/learn", "{\"ground_truth\": \"abc\", \"features\": {}}", &r);
    expect_message(&r, 400, "No default model has been set."); /* the model first, as Chantilly */
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

/* ===== stats, metrics ===== */

Test(server, stats_before_calls_and_metrics_with_and_without_flavor)
{
    test_server ts;
    server_start(&ts);
    http_resp r;
    GET("/api/stats", &r); /* Chantilly's statistics are made by init */
    expect_message(&r, 400, "No flavor has been set.");
    http_free(&r);
    GET("/api/metrics", &r);
    expect_message(&r, 400, "No flavor has been set.");
    http_free(&r);
    init_flavor(&ts, "regression");
    GET("/api/stats", &r);
    cr_assert_eq(r.status, 200);
    const char *kinds[] = {"predict", "learn"};
    for (int i = 0; i < 2; i++) {
        json_t *k = json_object_get(r.json, kinds[i]);
        cr_assert_eq(json_integer_value(json_object_get(k, "n_calls")), 0);
        cr_assert_str_eq(json_string_value(json_object_get(k, "mean_duration_human")), "0ns");
        cr_assert_not_null(json_object_get(k, "p99_duration"));
    }
    http_free(&r);
    const char *flavors[] = {"regression", "binary", "multiclass"};
    const char *first_metric[] = {"MAE", "Accuracy", "Accuracy"};
    const char *last_metric[] = {"SMAPE", "F1", "MicroF1"};
    for (int i = 0; i < 3; i++) {
        init_flavor(&ts, flavors[i]);
        GET("/api/metrics", &r);
        cr_assert_eq(r.status, 200);
        cr_assert(json_object_get(r.json, first_metric[i]), "%s lacks %s", r.body, first_metric[i]);
        cr_assert(json_object_get(r.json, last_metric[i]), "%s lacks %s", r.body, last_metric[i]);
        http_free(&r);
    }
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

/* ===== hostile input, limits, auth ===== */

Test(server, hostile_bodies_are_client_errors)
{
    test_server ts;
    const char *extra[] = {"--max-body", "1000", NULL};
    server_start_args(&ts, extra, 1);
    init_flavor(&ts, "binary");
    http_resp r;
    const char *bad[] = {"", "{", "[1, 2]", "null", "{\"features\": [1]}", "{\"features\": {\"a\": [1]}}",
                         "{\"features\": {\"a\": 1}, \"id\": {\"x\": 1}}", "\xff\xfe\x00garbage"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(http_req(ts.port, "POST", "/api/predict", NULL, bad[i], strlen(bad[i]), &r), 0);
        cr_assert(r.status >= 400 && r.status < 500, "body %zu gave %d", i, r.status);
        cr_assert(resp_has_message(&r), "%s", r.body);
        http_free(&r);
    }
    POST("/api/learn", "{\"ground_truth\": \"maybe\", \"features\": {}}", &r);
    expect_message(&r, 400, NULL);
    http_free(&r);
    char big[2000];
    memset(big, ' ', sizeof big);
    cr_assert_eq(http_req(ts.port, "POST", "/api/predict", NULL, big, sizeof big, &r), 0);
    expect_message(&r, 413, NULL);
    http_free(&r);
    GET("/no/such/path", &r);
    expect_message(&r, 404, NULL);
    http_free(&r);
    GET("/api/model/bad%20name", &r);
    cr_assert(r.status == 400 || r.status == 404);
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

Test(server, bearer_token_guards_changes_only)
{
    test_server ts;
    const char *extra[] = {"--token", "s3cret", NULL};
    server_start_args(&ts, extra, 1);
    http_resp r;
    const char *body = "{\"flavor\": \"regression\"}";
    POST("/api/init", body, &r);
    expect_message(&r, 401, NULL);
    http_free(&r);
    cr_assert_eq(http_req(ts.port, "POST", "/api/init", "Authorization: Bearer wrong\r\n", body,
                          strlen(body), &r), 0);
    expect_message(&r, 403, NULL);
    cr_assert_null(strstr(r.body, "s3cret"));
    http_free(&r);
    cr_assert_eq(http_req(ts.port, "POST", "/api/init", "Authorization: Bearer s3cret\r\n", body,
                          strlen(body), &r), 0);
    cr_assert_eq(r.status, 201);
    http_free(&r);
    cr_assert_eq(http_json(ts.port, "DELETE", "/api/model/x", NULL, &r), 0);
    expect_message(&r, 401, NULL);
    http_free(&r);
    POST("/api/learn", "{\"ground_truth\": 1}", &r);
    expect_message(&r, 401, NULL);
    http_free(&r);
    GET("/api/init", &r); /* reads stay open */
    cr_assert_eq(r.status, 200);
    http_free(&r);
    POST("/api/predict", "{\"features\": {}}", &r);
    expect_message(&r, 400, "No default model has been set.");
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

/* ===== ops endpoints, SSE, batches ===== */

Test(server, health_readiness_prometheus_openapi)
{
    test_server ts;
    server_start(&ts);
    http_resp r;
    GET("/healthz", &r);
    cr_assert_eq(r.status, 200);
    http_free(&r);
    GET("/readyz", &r);
    cr_assert_eq(r.status, 200);
    http_free(&r);
    GET("/metrics", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_not_null(strstr(r.body, "rivulet_predict_calls_total 0"));
    http_free(&r);
    GET("/api/openapi.json", &r);
    cr_assert_eq(r.status, 200);
    cr_assert(json_is_object(json_object_get(json_object_get(r.json, "paths"), "/api/predict")));
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

/* Calls every operation the OpenAPI description lists (but the streams,
 * which never end), without the token and then with it, on a server with
 * a token, a flavor and a model "m": an operation marked secured must be
 * refused 401 without the token, one not marked must not be, and every
 * status the server gives must be among the operation's documented
 * responses, with a {message} body when it is an error. */
static void call_documented(test_server *ts, const char *method, const char *path, json_t *op,
                            const char *auth)
{
    char url[256], headers[128] = "";
    const char *brace = strchr(path, '{');
    if (brace)
        snprintf(url, sizeof url, "%.*sm%s", (int)(brace - path), path, strchr(brace, '}') + 1);
    else
        snprintf(url, sizeof url, "%s", path);
    if (auth)
        snprintf(headers, sizeof headers, "Authorization: Bearer %s\r\n", auth);
    int has_body = strcmp(method, "post") == 0;
    char upper[8];
    for (int i = 0; i < 7 && (i == 0 || method[i - 1]); i++)
        upper[i] = (char)(method[i] >= 'a' && method[i] <= 'z' ? method[i] - 32 : method[i]);
    upper[7] = 0;
    http_resp r;
    cr_assert_eq(http_req(ts->port, upper, url, headers, has_body ? "{}" : NULL, has_body ? 2 : 0, &r), 0);
    int secured = json_object_get(op, "security") != NULL;
    if (!auth && secured)
        cr_assert_eq(r.status, 401, "%s %s without the token: %d", upper, url, r.status);
    if (!secured)
        cr_assert_neq(r.status, 401, "%s %s is not marked secured but answered 401", upper, url);
    char code[8];
    snprintf(code, sizeof code, "%d", r.status);
    cr_assert_not_null(json_object_get(json_object_get(op, "responses"), code),
                       "%s %s answered %d, which its description does not list: %s", upper, url,
                       r.status, r.body);
    if (r.status >= 400)
        cr_assert(resp_has_message(&r), "%s %s: %d without a message: %s", upper, url, r.status, r.body);
    http_free(&r);
}

Test(server, every_documented_operation_answers_as_described)
{
    test_server ts;
    const char *extra[] = {"--token", "s3cret", NULL};
    server_start_args(&ts, extra, 1);
    http_resp r;
    const char *auth = "Authorization: Bearer s3cret\r\n";
    const char *init = "{\"flavor\": \"regression\"}", *model = "linear_model.LinearRegression()";
    cr_assert_eq(http_req(ts.port, "POST", "/api/init", auth, init, strlen(init), &r), 0);
    cr_assert_eq(r.status, 201);
    http_free(&r);
    cr_assert_eq(http_req(ts.port, "POST", "/api/model/m", auth, model, strlen(model), &r), 0);
    cr_assert_eq(r.status, 201);
    http_free(&r);
    GET("/api/openapi.json", &r);
    cr_assert_eq(r.status, 200);
    json_t *paths = json_incref(json_object_get(r.json, "paths"));
    http_free(&r);
    cr_assert_geq(json_object_size(paths), 19);
    for (int pass = 0; pass < 2; pass++) {
        const char *path;
        json_t *item;
        json_object_foreach(paths, path, item) {
            if (strstr(path, "/stream/"))
                continue;
            const char *method;
            json_t *op;
            json_object_foreach(item, method, op) {
                if (strcmp(method, "parameters") == 0 || (pass == 1 && strcmp(method, "delete") == 0))
                    continue;
                call_documented(&ts, method, path, op, pass ? "s3cret" : NULL);
            }
        }
    }
    /* and a delete with the token, last, as it removes the model */
    json_t *del = json_object_get(json_object_get(paths, "/api/model/{name}"), "delete");
    call_documented(&ts, "delete", "/api/model/{name}", del, "s3cret");
    call_documented(&ts, "delete", "/api/model/{name}", del, "s3cret"); /* now unknown: 404 */
    json_decref(paths);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

Test(server, sse_streams_send_keep_alive_comments)
{
    test_server ts;
    server_start(&ts);
    const char *paths[] = {"/api/stream/events", "/api/stream/metrics"};
    for (int i = 0; i < 2; i++) {
        int fd = tcp_connect(ts.port);
        cr_assert_geq(fd, 0);
        char req[200];
        int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", paths[i]);
        cr_assert_eq(write_all(fd, req, (size_t)n), 0);
        size_t len;
        char *raw = read_until_close(fd, &len, 600); /* keep-alive every 100 ms */
        close(fd);
        cr_assert_not_null(strstr(raw, "text/event-stream"), "%s", raw);
        cr_assert_not_null(strstr(raw, ": keep-alive"), "%s", raw);
        free(raw);
    }
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

Test(server, batch_lines_fail_alone)
{
    test_server ts;
    server_start(&ts);
    init_flavor(&ts, "regression");
    http_resp r;
    const char *body = "{\"features\": {\"x\": 1}}\nnot json\n{\"ground_truth\": 2}\n"
                       "{\"features\": {\"x\": NaN}}\n";
    POST("/api/predict/batch", body, &r);
    cr_assert_eq(r.status, 200);
    int lines = 0;
    for (char *p = r.body; (p = strchr(p, '\n')); p++)
        lines++;
    cr_assert_eq(lines, 4, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "No default model has been set."));
    /* each bad line says why, and a NaN (Python's json writes one for a
     * pandas missing value) says what to send instead */
    cr_assert_not_null(strstr(r.body, "The line is not valid JSON: invalid token near 'not'."), "%s", r.body);
    cr_assert_not_null(strstr(r.body, "not JSON numbers: send a missing feature as null"), "%s", r.body);
    http_free(&r);
    POST("/api/predict", "{\"features\": {\"NaN\": tru}}", &r); /* a NaN nearby is not the fault */
    cr_assert_eq(r.status, 400);
    cr_assert_null(strstr(r.body, "NaN and Infinity"), "%s", r.body);
    http_free(&r);
    POST("/api/predict", "{\"features\": {\"x\": -Infinity}}", &r);
    cr_assert_eq(r.status, 400);
    cr_assert_not_null(strstr(r.body, "The body is not valid JSON: invalid token near '-' (NaN and"),
                       "%s", r.body);
    http_free(&r);
    POST("/api/learn/batch", body, &r);
    cr_assert_not_null(strstr(r.body, "{\"ground_truth\":[\"required field\"]}"), "%s", r.body);
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

Test(server, flavor_survives_a_restart)
{
    test_server ts;
    server_start(&ts);
    init_flavor(&ts, "multiclass");
    cr_assert_eq(server_stop(&ts, SIGTERM), 0);
    server_start_args(&ts, NULL, 0);
    http_resp r;
    GET("/api/init", &r);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "flavor")), "multiclass");
    http_free(&r);
    server_stop(&ts, SIGKILL);
    server_start_args(&ts, NULL, 0);
    GET("/api/init", &r);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "flavor")), "multiclass");
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

/* ===== With models (need the model parser; skip loudly without it) ===== */

#define REGRESSOR "preprocessing.StandardScaler() | linear_model.LinearRegression()"

/* Uploads a definition under name; skips the test when this build cannot
 * parse models yet. */
static void upload_or_skip(test_server *tsp, const char *name, const char *def)
{
    test_server ts = *tsp;
    char path[200];
    snprintf(path, sizeof path, name ? "/api/model/%s" : "/api/model", name);
    http_resp r;
    POST(path, def, &r);
    if (r.status == 400 && resp_message(&r) && strstr(resp_message(&r), "no model parser")) {
        http_free(&r);
        server_stop(tsp, SIGTERM); /* other servers of the test die with it */
        server_cleanup(tsp);
        fprintf(stderr, "\n*** SKIPPED: this build has no model parser yet ***\n");
        cr_skip_test("no model parser");
    }
    cr_assert_eq(r.status, 201, "upload of %s: %d %s", def, r.status, r.body);
    if (name)
        cr_assert_str_eq(json_string_value(json_object_get(r.json, "name")), name);
    http_free(&r);
}

static double predict_num(test_server *tsp, const char *body)
{
    test_server ts = *tsp;
    http_resp r;
    POST("/api/predict", body, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *p = json_object_get(r.json, "prediction");
    cr_assert(json_is_number(p), "%s", r.body);
    double x = json_number_value(p);
    http_free(&r);
    return x;
}

static void learn_ok(test_server *tsp, const char *body)
{
    test_server ts = *tsp;
    http_resp r;
    POST("/api/learn", body, &r);
    cr_assert_eq(r.status, 201, "%s -> %d %s", body, r.status, r.body);
    http_free(&r);
}

Test(server, upload_fetch_delete_and_list_models)
{
    test_server ts;
    server_start(&ts);
    init_flavor(&ts, "regression");
    upload_or_skip(&ts, "zeta", REGRESSOR);
    upload_or_skip(&ts, "alpha", REGRESSOR);
    http_resp r, d;
    GET("/api/models", &r);
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(r.json, "models"), 0)), "alpha");
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(r.json, "models"), 1)), "zeta");
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "default")), "alpha");
    http_free(&r);
    GET("/api/model/alpha", &r);
    GET("/api/model", &d);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.len, d.len);
    cr_assert_eq(memcmp(r.body, d.body, r.len), 0);
    http_free(&d); /* http_req below starts d afresh */
    /* the snapshot uploads back as a model */
    cr_assert_eq(http_req(ts.port, "POST", "/api/model/copy", NULL, r.body, r.len, &d), 0);
    cr_assert_eq(d.status, 201, "%s", d.body);
    http_free(&d);
    http_free(&r);
    POST("/api/model", REGRESSOR, &r); /* a generated name becomes the default */
    cr_assert_eq(r.status, 201);
    const char *gen = json_string_value(json_object_get(r.json, "name"));
    GET("/api/models", &d);
    cr_assert_str_eq(json_string_value(json_object_get(d.json, "default")), gen);
    http_free(&d);
    http_free(&r);
    cr_assert_eq(http_json(ts.port, "DELETE", "/api/model/zeta", NULL, &r), 0);
    cr_assert_eq(r.status, 204);
    http_free(&r);
    cr_assert_eq(http_json(ts.port, "DELETE", "/api/model/zeta", NULL, &r), 0);
    cr_assert_eq(r.status, 404);
    http_free(&r);
    init_flavor(&ts, "binary"); /* a regressor does not fit the binary flavor */
    POST("/api/model/r", REGRESSOR, &r);
    expect_message(&r, 400, NULL);
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

Test(server, predict_and_learn_plain_with_id_and_with_model_name)
{
    test_server ts;
    server_start(&ts);
    init_flavor(&ts, "regression");
    upload_or_skip(&ts, "b", REGRESSOR);
    upload_or_skip(&ts, "a", REGRESSOR);
    http_resp r;
    POST("/api/predict", "{}", &r);
    cr_assert_eq(r.status, 400);
    cr_assert_str_eq(resp_field_message(&r, "features"), "required field", "%s", r.body);
    http_free(&r);
    predict_num(&ts, "{\"features\": {\"x\": 1}}");
    POST("/api/predict", "{\"features\": {\"x\": 2}, \"id\": \"42\"}", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "model")), "a");
    http_free(&r);
    POST("/api/predict", "{\"features\": {\"x\": 2}, \"model\": \"b\"}", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "model")), "b");
    http_free(&r);
    POST("/api/learn", "{\"ground_truth\": 1}", &r);
    expect_message(&r, 400, "No features are stored and none were provided.");
    http_free(&r);
    learn_ok(&ts, "{\"ground_truth\": 3, \"features\": {\"x\": 1}}");
    learn_ok(&ts, "{\"ground_truth\": 4, \"id\": \"42\"}");
    POST("/api/learn", "{\"ground_truth\": 4, \"id\": \"42\"}", &r); /* forgotten */
    expect_message(&r, 400, "No information stored for ID '42'.");
    http_free(&r);
    learn_ok(&ts, "{\"ground_truth\": 5, \"features\": {\"x\": 3}, \"model\": \"b\"}");
    GET("/api/stats", &r); /* refused calls count too, as in Chantilly: 1 predict, 2 learns */
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(r.json, "predict"), "n_calls")), 4);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(r.json, "learn"), "n_calls")), 5);
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

/* Feeds n learns to a server, one acknowledged at a time. */
static void feed(test_server *ts, int from, int to)
{
    for (int i = from; i < to; i++) {
        char body[200];
        snprintf(body, sizeof body,
                 "{\"ground_truth\": %d.5, \"features\": {\"x\": %d, \"z\": %d.25}}", (i * 7) % 13,
                 i % 17, (i * 3) % 11);
        learn_ok(ts, body);
    }
}

/* a, killed and restarted, predicts bit for bit as b, never killed, and
 * reports the same metrics; then both stop. */
static void expect_same_then_stop(test_server *a, test_server *b)
{
    for (int i = 0; i < 5; i++) {
        char body[100];
        snprintf(body, sizeof body, "{\"features\": {\"x\": %d, \"z\": %d}}", i, 2 * i);
        double pa = predict_num(a, body), pb = predict_num(b, body);
        cr_assert_eq(memcmp(&pa, &pb, sizeof pa), 0, "probe %d: %.17g after kill -9, %.17g without", i,
                     pa, pb);
    }
    http_resp ra, rb;
    cr_assert_eq(http_json(a->port, "GET", "/api/metrics", NULL, &ra), 0);
    cr_assert_eq(http_json(b->port, "GET", "/api/metrics", NULL, &rb), 0);
    cr_assert_str_eq(ra.body, rb.body);
    http_free(&ra);
    http_free(&rb);
    server_stop(a, SIGTERM);
    server_stop(b, SIGTERM);
    server_cleanup(a);
    server_cleanup(b);
}

/* 40 learns in one request, so one commit: a pack the store compresses. */
static void feed_batch(test_server *ts)
{
    char lines[40 * 100];
    size_t n = 0;
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(lines + n, sizeof lines - n,
                              "{\"ground_truth\": %d.75, \"features\": {\"x\": %d, \"z\": %d.5}}\n",
                              (i * 5) % 11, i % 13, (i * 7) % 9);
    learn_batch_ok(ts->port, lines, n);
}

/* The log's segments turn every 3 commits (one learn each here), so the
 * trims after checkpoints empty some and the replay reads across them. */
Test(server, kill_9_loses_no_acknowledged_learn)
{
    test_server a, b;
    const char *extra[] = {"--checkpoint-every", "25", "--test-log-segment-rows", "3", NULL};
    server_start_args(&a, extra, 1);
    init_flavor(&a, "regression");
    upload_or_skip(&a, "m", REGRESSOR);
    server_start(&b);
    init_flavor(&b, "regression");
    upload_or_skip(&b, "m", REGRESSOR);
    feed(&a, 0, 60);
    server_stop(&a, SIGKILL); /* no final checkpoint: the log is replayed */
    server_start_args(&a, extra, 0);
    feed(&a, 60, 90);
    server_stop(&a, SIGKILL);
    server_start_args(&a, extra, 0);
    feed(&b, 0, 90);
    expect_same_then_stop(&a, &b);
}

/* No checkpoints, so a restart replays everything from the log, where a
 * batch's learns are one compressed pack (one commit) between single ones. */
Test(server, kill_9_replays_a_batch_from_its_compressed_pack)
{
    test_server a, b;
    const char *extra[] = {"--checkpoint-every", "1000000000", NULL};
    server_start_args(&a, extra, 1);
    server_start_args(&b, extra, 1);
    test_server *both[] = {&a, &b};
    for (int k = 0; k < 2; k++) {
        init_flavor(both[k], "regression");
        upload_or_skip(both[k], "m", REGRESSOR);
        feed(both[k], 0, 5);
        feed_batch(both[k]);
        feed(both[k], 5, 10);
    }
    server_stop(&a, SIGKILL);
    server_start_args(&a, extra, 0);
    expect_same_then_stop(&a, &b);
}

/* Predicts that change a model (a creme-mode pipeline's scaler learns
 * during predict) are logged lazily, never waited for: a later acknowledged
 * learn must still cover them, and left alone they become durable within
 * the store's 20 ms. Either way a kill -9 leaves the server predicting as
 * one that was never killed. */
static void predict_many(test_server *ts, int from, int to)
{
    for (int i = from; i < to; i++) {
        char body[100];
        snprintf(body, sizeof body, "{\"features\": {\"x\": %d, \"z\": %d.5}}", (i * 5) % 19, i % 7);
        predict_num(ts, body);
    }
}

/* def: a StandardScaler pipeline changes at every predict; a MinMaxScaler
 * one only when a feature reaches a new extreme, and only those predicts
 * are logged (rv_state_changes), so replay must still match. */
static void kill_9_around_predicts(const char *def)
{
    test_server a, b;
    server_start(&a);
    init_flavor(&a, "regression");
    upload_or_skip(&a, "m", def);
    server_start(&b);
    init_flavor(&b, "regression");
    upload_or_skip(&b, "m", def);
    feed(&a, 0, 10);
    predict_many(&a, 0, 40);
    feed(&a, 10, 11); /* acknowledged: covers the 40 predicts before it */
    server_stop(&a, SIGKILL);
    server_start_args(&a, NULL, 0);
    predict_many(&a, 40, 60);
    usleep(1000 * 1000); /* well past the 20 ms a lazy write may wait */
    server_stop(&a, SIGKILL);
    server_start_args(&a, NULL, 0);
    feed(&b, 0, 10);
    predict_many(&b, 0, 40);
    feed(&b, 10, 11);
    predict_many(&b, 40, 60);
    for (int i = 0; i < 5; i++) {
        char body[100];
        snprintf(body, sizeof body, "{\"features\": {\"x\": %d, \"z\": %d}}", 3 * i, i);
        double pa = predict_num(&a, body), pb = predict_num(&b, body);
        cr_assert_eq(memcmp(&pa, &pb, sizeof pa), 0, "%s, probe %d: %.17g after kill -9, %.17g without",
                     def, i, pa, pb);
    }
    server_stop(&a, SIGTERM);
    server_stop(&b, SIGTERM);
    server_cleanup(&a);
    server_cleanup(&b);
}

Test(server, kill_9_keeps_logged_predicts_before_a_learn_and_after_a_pause)
{
    kill_9_around_predicts(REGRESSOR);
    kill_9_around_predicts("preprocessing.MinMaxScaler() | linear_model.LinearRegression()");
}

/* A creme-mode predict first runs frozen under the read lock and runs again
 * under the write lock only if it would change the model: either way its
 * answers and the model's state must be those of the library running the
 * same predicts one by one. A trained MinMaxScaler pipeline is uploaded as a
 * snapshot; the probes mix values inside its extremes (frozen answers) and
 * beyond them (refused, then learned), repeated so that later probes see
 * what the earlier ones taught the scaler. */
Test(server, creme_mode_predicts_answer_as_the_library_does)
{
    const char *def = "preprocessing.MinMaxScaler() | linear_model.LinearRegression()";
    rv_error err = {0};
    rv_object *m = rv_model_parse(def, strlen(def), NULL, &err);
    cr_assert_not_null(m, "%s", err.message);
    rv_event x;
    rv_event_init(&x);
    for (int i = 0; i < 60; i++) {
        rv_event_clear(&x);
        rv_event_set_num(&x, rv_sym_intern_cstr("x"), i % 10);
        rv_event_set_num(&x, rv_sym_intern_cstr("z"), (i % 3) + 0.5);
        rv_value y = rv_value_num(2.0 * (i % 10) - (i % 3));
        rv_prediction p; /* creme: unsupervised steps learn in predict, not in learn */
        rv_prediction_init(&p);
        cr_assert_eq(rv_predict_learn(m, &x, &y, &p, &err), RV_OK, "%s", err.message);
        rv_prediction_free(&p);
    }
    rv_buf snap;
    rv_buf_init(&snap);
    cr_assert_eq(rv_snapshot_save(m, &snap), RV_OK);
    test_server ts;
    server_start(&ts);
    init_flavor(&ts, "regression");
    http_resp r;
    cr_assert_eq(http_req(ts.port, "POST", "/api/model/m", NULL, snap.data, snap.len, &r), 0);
    cr_assert_eq(r.status, 201, "%s", r.body);
    http_free(&r);
    int distinct = 0;
    double last = 0;
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 30; i++) {
            double xv = (i * 7) % 23 - 6.0, zv = (i % 5) * 0.75; /* some beyond [0, 9] and [0.5, 2.5] */
            char body[100];
            snprintf(body, sizeof body, "{\"features\": {\"x\": %.17g, \"z\": %.17g}}", xv, zv);
            double got = predict_num(&ts, body);
            rv_event_clear(&x);
            rv_event_set_num(&x, rv_sym_intern_cstr("x"), xv);
            rv_event_set_num(&x, rv_sym_intern_cstr("z"), zv);
            rv_prediction p;
            rv_prediction_init(&p);
            cr_assert_eq(rv_estimator_predict(m, &x, &p, &err), RV_OK, "%s", err.message);
            cr_assert_eq(memcmp(&got, &p.num, sizeof got), 0, "round %d probe %d: server %.17g, library %.17g",
                         round, i, got, p.num);
            rv_prediction_free(&p);
            distinct += i > 0 && got != last;
            last = got;
        }
    }
    cr_assert_gt(distinct, 40, "the probes hardly move the prediction (%d changes): a weak test", distinct);
    rv_buf_free(&snap);
    rv_event_free(&x);
    rv_object_free(m);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

/* ===== What the dashboard reads ===== */

static json_t *metrics_of(test_server *tsp, const char *model)
{
    test_server ts = *tsp;
    http_resp r;
    char path[200];
    snprintf(path, sizeof path, "/api/model/%s/metrics", model);
    GET(path, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *j = json_incref(r.json);
    http_free(&r);
    return j;
}

/* The row of (model, key) in a listing, NULL if absent. */
static json_t *row_of(json_t *rows, const char *model, const char *key)
{
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        json_t *k = json_object_get(row, "key");
        if (strcmp(json_string_value(json_object_get(row, "model")), model) == 0
            && (key ? json_is_string(k) && strcmp(json_string_value(k), key) == 0 : json_is_null(k)))
            return row;
    }
    return NULL;
}

/* A family key's row must equal the metrics that the metric classes give a
 * plain model fed the same events (the key's member is such a model), and
 * survive kill -9; paging and sorting pick the worst keys. */
static void check_key_rows(test_server *tsp, int learns_each)
{
    test_server ts = *tsp;
    http_resp r;
    GET("/api/models/metrics?sort=MAE&order=desc", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *rows = json_object_get(r.json, "models");
    cr_assert_eq(json_integer_value(json_object_get(r.json, "total")), 6); /* f, f/a, f/b, f/c, pa, pb */
    const char *keys[] = {"a", "b"}, *plain[] = {"pa", "pb"};
    for (int i = 0; i < 2; i++) {
        json_t *row = row_of(rows, "f", keys[i]), *want = metrics_of(&ts, plain[i]);
        cr_assert_not_null(row, "no row for key %s in %s", keys[i], r.body);
        cr_assert_eq(json_integer_value(json_object_get(row, "n")), learns_each);
        cr_assert_eq(json_integer_value(json_object_get(want, "n_learned")), learns_each);
        const char *names[] = {"MAE", "RMSE", "SMAPE"};
        for (int k = 0; k < 3; k++) {
            double got = json_number_value(json_object_get(json_object_get(row, "metrics"), names[k]));
            double exp = json_number_value(json_object_get(want, names[k]));
            cr_assert_eq(got, exp, "key %s %s: %.17g, plain model %.17g", keys[i], names[k], got, exp);
        }
        json_decref(want);
    }
    double prev = INFINITY;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) { /* descending by MAE */
        double v = json_number_value(json_object_get(json_object_get(row, "metrics"), "MAE"));
        cr_assert_leq(v, prev);
        prev = v;
    }
    http_free(&r);
    GET("/api/models/metrics?sort=MAE&order=desc&offset=1&limit=2", &r);
    cr_assert_eq(json_array_size(json_object_get(r.json, "models")), 2);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "total")), 6);
    http_free(&r);
    GET("/api/models/metrics?limit=x", &r);
    expect_message(&r, 400, NULL);
    http_free(&r);
}

Test(server, dashboard_fields_and_per_key_metrics, .timeout = 60)
{
    test_server ts;
    server_start(&ts);
    init_flavor(&ts, "regression");
    upload_or_skip(&ts, "f", "compose.Family(" REGRESSOR ", by='k')");
    upload_or_skip(&ts, "pa", REGRESSOR);
    upload_or_skip(&ts, "pb", REGRESSOR);
    http_resp r;
    const int n = 12;
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < 2; k++) {
            char body[200];
            double y = k ? 3.0 * i - 7 : 0.5 * i * i;
            snprintf(body, sizeof body, "{\"ground_truth\": %g, \"features\": {\"k\": \"%s\", \"x\": %d}, \"model\": \"f\"}",
                     y, k ? "b" : "a", i);
            learn_ok(&ts, body);
            snprintf(body, sizeof body, "{\"ground_truth\": %g, \"features\": {\"k\": \"%s\", \"x\": %d}, \"model\": \"%s\"}",
                     y, k ? "b" : "a", i, k ? "pb" : "pa");
            learn_ok(&ts, body);
        }
    }
    learn_ok(&ts, "{\"ground_truth\": 100, \"features\": {\"k\": \"c\", \"x\": 1}, \"model\": \"f\"}");
    POST("/api/predict", "{\"features\": {\"x\": 1}, \"model\": \"pa\", \"id\": \"pending\"}", &r);
    cr_assert_eq(r.status, 201);
    http_free(&r);
    GET("/api/models", &r);
    json_t *fam = json_object_get(json_object_get(r.json, "families"), "f");
    cr_assert_str_eq(json_string_value(json_object_get(fam, "by")), "k");
    cr_assert_eq(json_integer_value(json_object_get(fam, "keys")), 3);
    http_free(&r);
    GET("/healthz", &r);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "kept")), 1);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "db_path")), ts.db);
    cr_assert_gt(json_integer_value(json_object_get(r.json, "db_bytes")), 0);
    cr_assert_geq(json_number_value(json_object_get(r.json, "uptime_s")), 0);
    http_free(&r);
    check_key_rows(&ts, n);
    /* the family's snapshot (copied stripe by stripe) uploads back as the same family */
    http_resp g;
    GET("/api/model/f", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(http_req(ts.port, "POST", "/api/model/g", NULL, r.body, r.len, &g), 0);
    cr_assert_eq(g.status, 201, "%s", g.body);
    http_free(&g);
    GET("/api/model/g", &g);
    cr_assert_eq(g.len, r.len);
    cr_assert_eq(memcmp(g.body, r.body, r.len), 0);
    http_free(&g);
    http_free(&r);
    for (int k = 0; k < 3; k++) {
        char body[200];
        snprintf(body, sizeof body, "{\"features\": {\"k\": \"%c\", \"x\": 5}, \"model\": \"f\"}", 'a' + k);
        double pf = predict_num(&ts, body);
        snprintf(body, sizeof body, "{\"features\": {\"k\": \"%c\", \"x\": 5}, \"model\": \"g\"}", 'a' + k);
        double pg = predict_num(&ts, body);
        cr_assert_eq(memcmp(&pf, &pg, sizeof pf), 0, "key %c: %.17g vs %.17g", 'a' + k, pf, pg);
    }
    cr_assert_eq(http_json(ts.port, "DELETE", "/api/model/g", NULL, &r), 0);
    http_free(&r);
    server_stop(&ts, SIGKILL); /* the per-key metrics come back from checkpoint and log */
    server_start_args(&ts, NULL, 0);
    check_key_rows(&ts, n);
    server_stop(&ts, SIGTERM); /* and from the final checkpoint alone */
    server_start_args(&ts, NULL, 0);
    check_key_rows(&ts, n);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

/* ===== hostile requests (each found by a sweep with a hostile client) ===== */

Test(server, hostile_requests_get_clear_4xx_and_change_nothing)
{
    test_server ts;
    server_start(&ts);
    init_flavor(&ts, "regression");
    http_resp r;
    GET("/api/models/metrics?sort=MAE", &r); /* no model yet: no rows to sort (qsort(NULL, 0)) */
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(json_array_size(json_object_get(r.json, "models")), 0);
    http_free(&r);
    GET("/api/models/metrics?sort=nope", &r);
    expect_message(&r, 400, NULL);
    http_free(&r);
    GET("/api/models/metrics?offset=5&limit=0", &r); /* the offset asked for, not clamped */
    cr_assert_eq(json_integer_value(json_object_get(r.json, "offset")), 5, "%s", r.body);
    http_free(&r);
    upload_or_skip(&ts, "good", "linear_model.LinearRegression()");

    /* a message that quotes a name cut inside a UTF-8 character still arrives */
    char body[600], name[260];
    memset(name, 'a', 199);
    strcpy(name + 199, "\xc3\xa9");
    snprintf(body, sizeof body, "{\"features\": {\"x\": 1}, \"model\": \"%s\"}", name);
    POST("/api/predict", body, &r);
    expect_message(&r, 400, NULL);
    http_free(&r);
    POST("/api/predict/batch", body, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_not_null(strstr(r.body, "\"status\":400"), "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"message\""), "%s", r.body);
    http_free(&r);

    /* %00 must not cut a path short */
    POST("/api/model/a%00b", "linear_model.LinearRegression()", &r);
    expect_message(&r, 400, NULL);
    http_free(&r);
    cr_assert_eq(http_json(ts.port, "DELETE", "/api/model/good%00x", NULL, &r), 0);
    cr_assert(r.status == 400 || r.status == 404, "%d %s", r.status, r.body); /* not 204 */
    http_free(&r);
    GET("/api/models", &r);
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(r.json, "models"), 0)), "good");
    cr_assert_eq(json_array_size(json_object_get(r.json, "models")), 1);
    http_free(&r);
    const char *dots[] = {"/api/model/.", "/api/model/.."};
    for (int i = 0; i < 2; i++) {
        POST(dots[i], "linear_model.LinearRegression()", &r);
        expect_message(&r, 400, NULL);
        http_free(&r);
    }

    /* an ambiguous length is refused and the connection closed: nothing
     * after it is read as a request of its own (smuggling past a proxy) */
    const char *smuggle[] = {
        "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n"
        "{}DELETE /api/model/good HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\nTransfer-Encoding: chunked\r\n\r\n"
        "2\r\n{}\r\n0\r\n\r\nDELETE /api/model/good HTTP/1.1\r\nHost: x\r\n\r\n"};
    for (int i = 0; i < 2; i++) {
        int fd = tcp_connect(ts.port);
        cr_assert_geq(fd, 0);
        cr_assert_eq(write_all(fd, smuggle[i], strlen(smuggle[i])), 0);
        size_t len;
        char *raw = read_until_close(fd, &len, 3000);
        close(fd);
        cr_assert_eq(strncmp(raw, "HTTP/1.1 400", 12), 0, "%s", raw);
        cr_assert_null(strstr(raw + 12, "HTTP/1.1"), "a second answer: %s", raw);
        cr_assert_not_null(strstr(raw, "ambiguous"), "%s", raw);
        free(raw);
    }
    /* a transfer coding the server cannot read is 501 at once (libmicrohttpd
     * alone read such a body until the client gave up) */
    const char *gzipped[] = {"gzip", "gzip, chunked", "identity"};
    for (int i = 0; i < 3; i++) {
        char req[200];
        snprintf(req, sizeof req,
                 "POST /api/predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: %s\r\n\r\n{}", gzipped[i]);
        int fd = tcp_connect(ts.port);
        cr_assert_geq(fd, 0);
        cr_assert_eq(write_all(fd, req, strlen(req)), 0);
        size_t len;
        char *raw = read_until_close(fd, &len, 3000);
        close(fd);
        cr_assert_eq(strncmp(raw, "HTTP/1.1 501", 12), 0, "%s: %s", gzipped[i], raw);
        cr_assert_not_null(strstr(raw, "not supported"), "%s", raw);
        free(raw);
    }
    GET("/api/model/good", &r); /* the smuggled delete never ran */
    cr_assert_eq(r.status, 200);
    http_free(&r);

    /* JSON that is not an object, or holds \u0000: said plainly */
    POST("/api/predict", "null", &r);
    expect_message(&r, 400, "The body must be a JSON object.");
    http_free(&r);
    POST("/api/predict", "{\"features\": {\"x\\u0000\": 1}}", &r);
    expect_message(&r, 400, NULL);
    cr_assert_null(strstr(resp_message(&r), "JSON_ALLOW_NUL"), "%s", r.body);
    http_free(&r);

    /* HEAD answers as GET, without a body */
    cr_assert_eq(http_json(ts.port, "HEAD", "/healthz", NULL, &r), 0);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.len, 0);
    http_free(&r);

    /* blank lines are skipped; a batch over the line cap is refused whole */
    POST("/api/learn/batch", "\n \r\n{\"features\": {\"x\": 1}, \"ground_truth\": 2}\n\t\n", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "{\"status\":201}\n");
    http_free(&r);
    size_t n = 1000000 + 1; /* the cap docs/api.md states */
    char *many = malloc(n * 3 + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(many + 3 * i, "{}\n", 3);
    many[3 * n] = 0;
    GET("/api/model/good/metrics", &r);
    json_int_t learned = json_integer_value(json_object_get(r.json, "n_learned"));
    http_free(&r);
    POST("/api/learn/batch", many, &r);
    expect_message(&r, 413, NULL);
    http_free(&r);
    free(many);
    GET("/api/model/good/metrics", &r);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "n_learned")), learned);
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

Test(server, binary_ground_truth_is_a_truth_value_only)
{
    test_server ts;
    server_start(&ts);
    init_flavor(&ts, "binary");
    upload_or_skip(&ts, "clf", "linear_model.LogisticRegression()");
    http_resp r;
    const char *refused[] = {"2", "-1", "0.5", "\"maybe\"", "null"};
    for (int i = 0; i < 5; i++) {
        char body[200];
        snprintf(body, sizeof body, "{\"features\": {\"x\": 1}, \"ground_truth\": %s}", refused[i]);
        POST("/api/learn", body, &r);
        expect_message(&r, 400, NULL);
        http_free(&r);
    }
    const char *taken[] = {"true", "false", "1", "0", "\"yes\"", "\"False\""};
    for (int i = 0; i < 6; i++) {
        char body[200];
        snprintf(body, sizeof body, "{\"features\": {\"x\": 1}, \"ground_truth\": %s}", taken[i]);
        POST("/api/learn", body, &r);
        cr_assert_eq(r.status, 201, "%s: %s", taken[i], r.body);
        http_free(&r);
    }
    GET("/api/model/clf/metrics", &r);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "n_learned")), 6);
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

/* Starts rivulet serve with argv (and RIVULET_TOKEN set to env_token if
 * not NULL); returns whether it exited with an error within 5 s (a server
 * that started would serve until killed, and is killed). */
static int refuses_to_start(const char **argv, int argc, const char *env_token)
{
    char dir[] = "/tmp/rivulet-test-XXXXXX", db[64];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(db, sizeof db, "%s/rivulet.db", dir);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        const char *args[16] = {"serve", "--host", "127.0.0.1", "--port", "0", "--db", db};
        for (int i = 0; i < argc && i < 9; i++)
            args[7 + i] = argv[i];
        if (env_token)
            setenv("RIVULET_TOKEN", env_token, 1);
        _exit(rv_serve_main(7 + argc, (char **)args) == 0 ? 0 : 3);
    }
    int status = 0;
    pid_t got = 0;
    for (int i = 0; i < 500 && got == 0; i++) {
        got = waitpid(pid, &status, WNOHANG);
        if (got == 0)
            usleep(10000);
    }
    if (got == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    unlink(db);
    rmdir(dir);
    return got == pid && WIFEXITED(status) && WEXITSTATUS(status) == 3;
}

Test(server, an_empty_token_refuses_to_start)
{
    const char *empty[] = {"--token", ""}, *spaced[] = {"--token", " x"};
    cr_assert(refuses_to_start(empty, 2, NULL), "--token \"\" started");
    cr_assert(refuses_to_start(NULL, 0, ""), "RIVULET_TOKEN= started");
    cr_assert(refuses_to_start(spaced, 2, NULL), "a token starting with a space started");
}

Test(server, kept_predictions_are_capped)
{
    test_server ts;
    const char *extra[] = {"--max-kept", "3", NULL};
    server_start_args(&ts, extra, 1);
    init_flavor(&ts, "regression");
    upload_or_skip(&ts, "m", "linear_model.LinearRegression()");
    http_resp r;
    char body[200];
    for (int i = 0; i < 3; i++) {
        snprintf(body, sizeof body, "{\"features\": {\"x\": %d}, \"id\": \"p%d\"}", i, i);
        POST("/api/predict", body, &r);
        cr_assert_eq(r.status, 201, "%s", r.body);
        http_free(&r);
    }
    POST("/api/predict", "{\"features\": {\"x\": 1}, \"id\": \"p3\"}", &r);
    expect_message(&r, 429, NULL);
    http_free(&r);
    POST("/api/predict", "{\"features\": {\"x\": 5}, \"id\": \"p1\"}", &r); /* a kept id: replaced */
    cr_assert_eq(r.status, 201, "%s", r.body);
    http_free(&r);
    POST("/api/learn", "{\"id\": \"p3\", \"ground_truth\": 1}", &r); /* p3 was never kept */
    expect_message(&r, 400, "No information stored for ID 'p3'.");
    http_free(&r);
    POST("/api/learn", "{\"id\": \"p0\", \"ground_truth\": 1}", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    http_free(&r);
    POST("/api/predict", "{\"features\": {\"x\": 1}, \"id\": \"p3\"}", &r); /* a slot is free */
    cr_assert_eq(r.status, 201, "%s", r.body);
    http_free(&r);
    GET("/healthz", &r);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "kept")), 3, "%s", r.body);
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

Test(server, kept_predictions_go_with_their_model)
{
    test_server ts;
    server_start(&ts);
    init_flavor(&ts, "regression");
    upload_or_skip(&ts, "m", "linear_model.LinearRegression()");
    upload_or_skip(&ts, "other", "linear_model.LinearRegression()");
    http_resp r;
    POST("/api/predict", "{\"features\": {\"x\": 1}, \"id\": \"q1\", \"model\": \"m\"}", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    http_free(&r);
    POST("/api/predict", "{\"features\": {\"x\": 1}, \"id\": \"q2\", \"model\": \"m\"}", &r);
    http_free(&r);
    POST("/api/predict", "{\"features\": {\"x\": 1}, \"id\": \"keep\", \"model\": \"other\"}", &r);
    http_free(&r);
    upload_or_skip(&ts, "m", "linear_model.LinearRegression()"); /* m replaced */
    POST("/api/learn", "{\"id\": \"q1\", \"ground_truth\": 1}", &r);
    expect_message(&r, 400, "No information stored for ID 'q1'.");
    http_free(&r);
    GET("/api/model/m/metrics", &r);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "n_learned")), 0, "%s", r.body);
    http_free(&r);
    POST("/api/predict", "{\"features\": {\"x\": 1}, \"id\": \"q3\", \"model\": \"m\"}", &r);
    http_free(&r);
    cr_assert_eq(http_json(ts.port, "DELETE", "/api/model/m", NULL, &r), 0);
    cr_assert_eq(r.status, 204);
    http_free(&r);
    server_stop(&ts, SIGKILL); /* the forgets were acknowledged with the upload and the delete */
    server_start_args(&ts, NULL, 0);
    const char *gone[] = {"q1", "q2", "q3"};
    for (int i = 0; i < 3; i++) {
        char body[100], want[100];
        snprintf(body, sizeof body, "{\"id\": \"%s\", \"ground_truth\": 1}", gone[i]);
        snprintf(want, sizeof want, "No information stored for ID '%s'.", gone[i]);
        POST("/api/learn", body, &r);
        expect_message(&r, 400, want);
        http_free(&r);
    }
    POST("/api/learn", "{\"id\": \"keep\", \"ground_truth\": 1}", &r); /* another model's stays */
    cr_assert_eq(r.status, 201, "%s", r.body);
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

/* ===== second sweep ===== */

Test(server, a_learn_by_id_announces_the_kept_features)
{
    test_server ts;
    server_start(&ts);
    init_flavor(&ts, "regression");
    upload_or_skip(&ts, "m", "linear_model.LinearRegression()");
    int fd = tcp_connect(ts.port);
    cr_assert_geq(fd, 0);
    const char *get = "GET /api/stream/events HTTP/1.1\r\nHost: x\r\n\r\n";
    cr_assert_eq(write_all(fd, get, strlen(get)), 0);
    size_t len;
    free(read_until_close(fd, &len, 300)); /* the stream's headers: it listens now */
    http_resp r;
    POST("/api/predict", "{\"features\": {\"shop\": \"store-with-a-long-name\", \"x\": 1}, \"id\": \"o1\"}", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    http_free(&r);
    POST("/api/learn", "{\"id\": \"o1\", \"ground_truth\": 1, \"model\": \"other\"}", &r);
    expect_message(&r, 400, "The prediction for ID 'o1' was made by model 'm', not 'other'.");
    http_free(&r);
    POST("/api/learn", "{\"id\": \"o1\", \"ground_truth\": 1}", &r); /* still kept after that 400 */
    cr_assert_eq(r.status, 201, "%s", r.body);
    http_free(&r);
    char *events = read_until_close(fd, &len, 1000);
    close(fd);
    char *learn = strstr(events, "event: learn");
    cr_assert_not_null(learn, "%s", events);
    cr_assert_not_null(strstr(learn, "\"shop\":\"store-with-a-long-name\""), "%s", learn);
    free(events);
    cr_assert_eq(http_json(ts.port, "HEAD", "/api/stream/events", NULL, &r), 0);
    cr_assert_eq(r.status, 200);
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

Test(server, family_keys_past_2_53_are_refused_not_merged)
{
    test_server ts;
    server_start(&ts);
    init_flavor(&ts, "regression");
    upload_or_skip(&ts, "g", "compose.Family(linear_model.LinearRegression(), by='k')");
    http_resp r;
    POST("/api/learn", "{\"features\": {\"x\": 1, \"k\": 9007199254740992}, \"ground_truth\": 1, \"model\": \"g\"}", &r);
    cr_assert_eq(r.status, 201, "%s", r.body); /* 2^53 is exact */
    http_free(&r);
    POST("/api/learn", "{\"features\": {\"x\": 1, \"k\": 9007199254740993}, \"ground_truth\": 1, \"model\": \"g\"}", &r);
    expect_message(&r, 400, NULL);
    http_free(&r);
    POST("/api/predict", "{\"features\": {\"x\": 1, \"k\": -123456789012345678}, \"model\": \"g\"}", &r);
    expect_message(&r, 400, NULL);
    http_free(&r);
    GET("/api/models", &r);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(json_object_get(r.json, "families"), "g"), "keys")), 1, "%s", r.body);
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

Test(server, untrained_models_rank_last)
{
    test_server ts;
    server_start(&ts);
    init_flavor(&ts, "regression");
    upload_or_skip(&ts, "fresh", "linear_model.LinearRegression()");
    upload_or_skip(&ts, "used", "linear_model.LinearRegression()");
    http_resp r;
    POST("/api/learn", "{\"features\": {\"x\": 1}, \"ground_truth\": 5, \"model\": \"used\"}", &r);
    http_free(&r);
    GET("/api/models/metrics?sort=MAE&order=asc", &r);
    json_t *rows = json_object_get(r.json, "models");
    cr_assert_eq(json_array_size(rows), 2, "%s", r.body);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, 0), "model")), "used", "%s", r.body);
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}
