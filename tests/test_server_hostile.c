/* Requests a careless or hostile client sends, and what the server answers:
 * the status and {"message"} documented in docs/api.md, with nothing changed
 * by a refused request. Each test runs its own server (server_client.h). */
#include "server_client.h"

#define GET(path, r) cr_assert_eq(http_json(ts.port, "GET", path, NULL, r), 0)
#define POST(path, body, r) cr_assert_eq(http_json(ts.port, "POST", path, body, r), 0)

static void expect_status(const http_resp *r, int status)
{
    cr_assert_eq(r->status, status, "status %d, wanted %d: %s", r->status, status, r->body);
    if (status >= 400)
        cr_assert(resp_has_message(r), "no {\"message\"} in %s", r->body);
}

/* A server (with the flags in extra) whose flavor is regression and whose
 * default model is "lin", a LinearRegression. */
static void start_with_lin(test_server *ts, const char *const *extra)
{
    server_start_args(ts, extra, 1);
    http_resp r;
    cr_assert_eq(http_json(ts->port, "POST", "/api/init", "{\"flavor\": \"regression\"}", &r), 0);
    expect_status(&r, 201);
    http_free(&r);
    cr_assert_eq(http_json(ts->port, "POST", "/api/model/lin", "linear_model.LinearRegression()", &r), 0);
    expect_status(&r, 201);
    http_free(&r);
}

/* A 405 whose Allow lists exactly the methods the route answers. */
static void expect_405(int port, const char *method, const char *path, const char *allow)
{
    http_resp r;
    cr_assert_eq(http_json(port, method, path, NULL, &r), 0);
    char got[100];
    cr_assert_eq(r.status, 405, "%s %s: %d %s", method, path, r.status, r.body);
    cr_assert_not_null(resp_message(&r), "%s %s: %s", method, path, r.body);
    cr_assert_str_eq(resp_header(&r, "Allow", got, sizeof got), allow, "%s %s", method, path);
    http_free(&r);
}

Test(server_hostile, a_method_a_route_does_not_answer_is_405_with_allow)
{
    test_server ts;
    start_with_lin(&ts, NULL);
    http_resp r;

    static const struct {
        const char *method, *path, *allow;
    } cases[] = {
        {"PATCH", "/api/model/lin", "GET, HEAD, POST, PUT, DELETE"},
        {"OPTIONS", "/api/model/lin", "GET, HEAD, POST, PUT, DELETE"},
        {"POST", "/api/model/lin/metrics", "GET, HEAD"},
        {"DELETE", "/api/model", "GET, HEAD, POST"},
        {"PUT", "/api/init", "GET, HEAD, POST"},
        {"GET", "/api/predict", "POST"},
        {"DELETE", "/api/learn", "POST"},
        {"GET", "/api/learn/batch", "POST"},
        {"PUT", "/api/predict/batch", "POST"},
        {"POST", "/api/models", "GET, HEAD"},
        {"DELETE", "/api/models/metrics", "GET, HEAD"},
        {"POST", "/api/metrics", "GET, HEAD"},
        {"POST", "/api/stats", "GET, HEAD"},
        {"POST", "/api/stream/events", "GET, HEAD"},
        {"DELETE", "/healthz", "GET, HEAD"},
        {"POST", "/readyz", "GET, HEAD"},
        {"PUT", "/metrics", "GET, HEAD"},
        {"POST", "/api/openapi.json", "GET, HEAD"},
        {"POST", "/", "GET, HEAD"}, /* the dashboard */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_405(ts.port, cases[i].method, cases[i].path, cases[i].allow);

    /* off the routes it stays 404, and the refused DELETE left the model */
    cr_assert_eq(http_json(ts.port, "DELETE", "/no/such/path", NULL, &r), 0);
    expect_status(&r, 404);
    http_free(&r);
    GET("/api/model/lin", &r);
    expect_status(&r, 200);
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

Test(server_hostile, the_bearer_scheme_is_read_in_any_case_and_a_401_names_it)
{
    test_server ts;
    const char *extra[] = {"--token", "s3cret", NULL};
    server_start_args(&ts, extra, 1);
    const char *body = "{\"flavor\": \"regression\"}";
    http_resp r;
    const char *accepted[] = {"Authorization: bearer s3cret\r\n", "Authorization: BEARER s3cret\r\n",
                              "Authorization: Bearer   s3cret\r\n"};
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
        cr_assert_eq(http_req(ts.port, "POST", "/api/init", accepted[i], body, strlen(body), &r), 0);
        cr_assert_eq(r.status, 201, "%s-> %d %s", accepted[i], r.status, r.body);
        http_free(&r);
    }
    char got[100];
    const char *refused[] = {NULL, "Authorization: Basic s3cret\r\n", "Authorization: Bearers3cret\r\n"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        cr_assert_eq(http_req(ts.port, "POST", "/api/init", refused[i], body, strlen(body), &r), 0);
        expect_status(&r, 401);
        cr_assert_str_eq(resp_header(&r, "WWW-Authenticate", got, sizeof got), "Bearer");
        http_free(&r);
    }
    cr_assert_eq(http_req(ts.port, "POST", "/api/init", "Authorization: bearer wrong\r\n", body,
                          strlen(body), &r), 0);
    expect_status(&r, 403);
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

Test(server_hostile, a_learn_by_id_with_a_model_that_is_not_a_name_is_refused_and_keeps_the_prediction)
{
    test_server ts;
    start_with_lin(&ts, NULL);
    http_resp r;
    POST("/api/predict", "{\"features\": {\"x\": 1}, \"id\": \"k\"}", &r);
    expect_status(&r, 201);
    http_free(&r);
    const char *models[] = {"5", "null", "[\"lin\"]", "{}", "true"};
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        char learn[100];
        snprintf(learn, sizeof learn, "{\"id\": \"k\", \"ground_truth\": 2, \"model\": %s}", models[i]);
        POST("/api/learn", learn, &r);
        expect_status(&r, 400);
        const char *why = resp_field_message(&r, "model"); /* Chantilly's schema refusal */
        cr_assert(why && (strcmp(why, "must be of string type") == 0 || strcmp(why, "null value not allowed") == 0),
                  "%s: %s", models[i], r.body);
        http_free(&r);
    }
    GET("/api/model/lin/metrics", &r);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "n_learned")), 0, "%s", r.body);
    http_free(&r);
    POST("/api/learn", "{\"id\": \"k\", \"ground_truth\": 2, \"model\": \"lin\"}", &r);
    expect_status(&r, 201); /* still kept */
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

Test(server_hostile, a_refused_learn_by_id_leaves_the_prediction_expiring_when_it_did, .timeout = 60)
{
    test_server ts;
    const char *extra[] = {"--keep-ttl", "4", NULL};
    start_with_lin(&ts, extra);
    http_resp r;
    double t0 = now_s();
    POST("/api/predict", "{\"features\": {\"x\": 1}, \"id\": \"k\"}", &r);
    expect_status(&r, 201);
    http_free(&r);
    /* expiry counts whole seconds: kept at t0, it expires in (3, 4] s */
    usleep(2000 * 1000);
    POST("/api/learn", "{\"id\": \"k\", \"ground_truth\": 2, \"model\": \"other\"}", &r);
    expect_status(&r, 400);
    cr_assert_not_null(strstr(resp_message(&r), "was made by model 'lin'"), "%s", r.body);
    http_free(&r);
    cr_assert_lt(now_s() - t0, 3.0, "the machine is too slow for this test's timing");
    usleep((useconds_t)((t0 + 4.3 - now_s()) * 1e6));
    /* past its expiry: the refused learn must not have given it a new one */
    POST("/api/learn", "{\"id\": \"k\", \"ground_truth\": 2}", &r);
    expect_status(&r, 400);
    cr_assert_str_eq(resp_message(&r), "No information stored for ID 'k'.");
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

/* --verbose logs the path decoded: %0A was a newline, and a client could
 * write a line of its own into the server's log. */
Test(server_hostile, a_logged_path_cannot_forge_a_log_line)
{
    char log[] = "/tmp/rivulet-verbose-XXXXXX";
    int fd = mkstemp(log);
    cr_assert_geq(fd, 0);
    int saved = dup(STDERR_FILENO);
    fflush(stderr);
    dup2(fd, STDERR_FILENO); /* the server, forked below, logs here */
    test_server ts;
    const char *extra[] = {"--verbose", NULL};
    server_start_args(&ts, extra, 1);
    dup2(saved, STDERR_FILENO);
    close(saved);
    http_resp r;
    GET("/api/x%0Arivulet:%20POST%20/api/init%20201", &r);
    expect_status(&r, 404);
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
    close(fd);
    size_t len;
    char *text = rv_test_read_file(log, &len);
    unlink(log);
    cr_assert_not_null(text);
    cr_assert(strstr(text, "rivulet: GET /api/x\\x0arivulet: POST /api/init 201 404\n"), "%s", text);
    cr_assert_null(strstr(text, "\nrivulet: POST /api/init 201"), "a forged line: %s", text);
    free(text);
}

/* A request target in absolute form (what a client configured with a proxy
 * sends) names the same route as its path: RFC 9112 says a server must
 * accept it. It was 404. */
Test(server_hostile, a_request_target_in_absolute_form_is_routed_by_its_path)
{
    test_server ts;
    server_start(&ts);
    int fd = tcp_connect(ts.port);
    cr_assert_geq(fd, 0);
    char req[200];
    int n = snprintf(req, sizeof req, "GET http://127.0.0.1:%d/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                     ts.port);
    cr_assert_eq(write_all(fd, req, (size_t)n), 0);
    size_t len;
    char *raw = read_until_close(fd, &len, 5000);
    cr_assert(strstr(raw, " 200 ") && strstr(raw, "\"status\":\"ok\""), "%s", raw);
    free(raw);
    close(fd);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}
