/* Chantilly's own tests (tests/test_api.py, tests/test_scenarios.py of
 * online-ml/chantilly) replayed against `rivulet serve`, with the pickled
 * models replaced by definitions: what a client written for Chantilly reads
 * back must be what Chantilly answers, message for message. Each test notes
 * the Chantilly test or source line it follows. */
#include "server_client.h"

#include "server/internal.h"

#define GET(path, r) cr_assert_eq(http_json(ts.port, "GET", path, NULL, r), 0)
#define POST(path, body, r) cr_assert_eq(http_json(ts.port, "POST", path, body, r), 0)

#define LIN_REG "preprocessing.StandardScaler() | linear_model.LinearRegression()"
#define LOG_REG "preprocessing.StandardScaler() | linear_model.LogisticRegression()"

static void post_status(test_server *tsp, const char *path, const char *body, int want)
{
    test_server ts = *tsp;
    http_resp r;
    POST(path, body, &r);
    cr_assert_eq(r.status, want, "%s %s -> %d %s", path, body, r.status, r.body);
    http_free(&r);
}

static void expect_text(const http_resp *r, const char *msg)
{
    cr_assert_eq(r->status, 400, "%d %s", r->status, r->body);
    cr_assert_str_eq(resp_message(r) ? resp_message(r) : "(none)", msg, "%s", r->body);
}

static void expect_field(const http_resp *r, const char *field, const char *msg)
{
    cr_assert_eq(r->status, 400, "%d %s", r->status, r->body);
    const char *got = resp_field_message(r, field);
    cr_assert_str_eq(got ? got : "(none)", msg, "%s", r->body);
}

/* regression and lin_reg fixtures of test_api.py */
static void regression_with_lin_reg(test_server *ts)
{
    post_status(ts, "/api/init", "{\"flavor\": \"regression\"}", 201);
    post_status(ts, "/api/model/lin-reg", LIN_REG, 201);
}

/* test_init_bad_flavor, test_init; exceptions.UnknownFlavor; cerberus on
 * InitSchema */
Test(server_chantilly, init_answers_and_refuses_as_chantilly)
{
    test_server ts;
    server_start(&ts);
    http_resp r;
    POST("/api/init", "{\"flavor\": \"zugzug\"}", &r);
    expect_text(&r, "Allowed flavors are 'regression', 'binary', 'multiclass'.");
    http_free(&r);
    POST("/api/init", "{}", &r);
    expect_field(&r, "flavor", "required field");
    http_free(&r);
    POST("/api/init", "{\"flavor\": 3}", &r);
    expect_field(&r, "flavor", "must be of string type");
    http_free(&r);
    post_status(&ts, "/api/init", "{\"flavor\": \"regression\"}", 201);
    GET("/api/init", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "flavor")), "regression");
    cr_assert_not_null(json_string_value(json_object_get(r.json, "storage")), "%s", r.body);
    cr_assert_not_null(json_string_value(json_object_get(r.json, "river_version")), "%s", r.body);
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

/* test_predict_no_features, test_learn_no_ground_truth, test_learn_no_features:
 * the schema is checked first, and its refusals are cerberus's error tree. */
Test(server_chantilly, payloads_are_refused_with_cerberus_messages_first)
{
    test_server ts;
    server_start(&ts);
    post_status(&ts, "/api/init", "{\"flavor\": \"regression\"}", 201);
    http_resp r;
    POST("/api/predict", "{\"id\": 42}", &r); /* no model either: the schema speaks first */
    expect_field(&r, "features", "required field");
    http_free(&r);
    POST("/api/learn", "{\"ground_truth\": true}", &r); /* no model either */
    expect_text(&r, "No features are stored and none were provided.");
    http_free(&r);
    post_status(&ts, "/api/model/lin-reg", LIN_REG, 201);
    POST("/api/learn", "{\"features\": {\"x\": 1}}", &r);
    expect_field(&r, "ground_truth", "required field");
    http_free(&r);
    POST("/api/learn", "{\"features\": {\"x\": 1}, \"ground_truth\": null}", &r);
    expect_field(&r, "ground_truth", "null value not allowed");
    http_free(&r);
    POST("/api/predict", "{\"features\": {}, \"model\": 3}", &r);
    expect_field(&r, "model", "must be of string type");
    http_free(&r);
    POST("/api/predict", "{\"features\": [1], \"id\": 1.5}", &r); /* both at once, each anyof */
    expect_field(&r, "features", "no definitions validate");
    expect_field(&r, "id", "no definitions validate");
    json_t *each = json_array_get(json_object_get(json_object_get(r.json, "message"), "id"), 1);
    json_t *want = json_pack("{s:[s],s:[s]}", "anyof definition 0", "must be of integer type",
                             "anyof definition 1", "must be of string type");
    cr_assert(json_equal(each, want), "%s", r.body);
    json_decref(want);
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

/* test_learn, test_learn_with_id, test_stats_learn: a regression model
 * learns the ground truth True (River reads it as 1). */
Test(server_chantilly, regression_learns_a_boolean_ground_truth)
{
    test_server ts;
    server_start(&ts);
    regression_with_lin_reg(&ts);
    post_status(&ts, "/api/learn", "{\"features\": {\"x\": 1}, \"ground_truth\": true}", 201);
    post_status(&ts, "/api/predict", "{\"id\": 42, \"features\": {\"x\": 1}}", 201);
    post_status(&ts, "/api/learn", "{\"id\": 42, \"ground_truth\": true}", 201);
    http_resp r;
    POST("/api/learn", "{\"id\": 42, \"features\": {\"x\": 1}, \"ground_truth\": true}", &r);
    expect_text(&r, "No information stored for ID '42'."); /* test_learn_unknown_id */
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

/* test_stats_no_flavor, test_stats, and the README's example figures */
Test(server_chantilly, stats_need_a_flavor_and_count_every_call)
{
    test_server ts;
    server_start(&ts);
    http_resp r;
    GET("/api/stats", &r);
    expect_text(&r, "No flavor has been set.");
    http_free(&r);
    regression_with_lin_reg(&ts);
    post_status(&ts, "/api/predict", "{\"features\": {}}", 200);
    post_status(&ts, "/api/predict", "{\"features\": {}, \"model\": \"ghost\"}", 400);
    GET("/api/stats", &r);
    json_t *p = json_object_get(r.json, "predict");
    /* Chantilly's after_request hook times every answer, refusals too */
    cr_assert_eq(json_integer_value(json_object_get(p, "n_calls")), 2, "%s", r.body);
    cr_assert_gt(json_integer_value(json_object_get(p, "mean_duration")), 0);
    cr_assert_gt(json_integer_value(json_object_get(p, "ewm_duration")), 0);
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

/* humanize_ns of chantilly/api.py: "3ms408μs682ns" in its README */
Test(server_chantilly, durations_are_spelled_as_chantilly_spells_them)
{
    char out[96];
    rv_humanize_ns(3408682, out, sizeof out);
    cr_assert_str_eq(out, "3ms408μs682ns");
    rv_humanize_ns(0, out, sizeof out);
    cr_assert_str_eq(out, "0ns");
    rv_humanize_ns(2 * 3600000000000ull + 1000000000ull, out, sizeof out); /* minutes are the top unit */
    cr_assert_str_eq(out, "120m1s");
    rv_humanize_ns(1000, out, sizeof out);
    cr_assert_str_eq(out, "1μs");
}

/* storage.init_stats: EWMean(.3), so the newest call weighs 0.3 */
Test(server_chantilly, the_weighted_mean_duration_has_chantillys_alpha)
{
    rv_timing t;
    rv_timing_init(&t);
    rv_timing_add(&t, 0, 1000);
    rv_timing_add(&t, 0, 2000);
    json_t *j = rv_timing_to_json(&t);
    cr_assert_eq(json_integer_value(json_object_get(j, "ewm_duration")), 1300, "%s",
                 json_dumps(j, JSON_COMPACT));
    json_decref(j);
}

/* api.learn: for a metric that needs labels, the label is
 * max(prediction, key=prediction.get), and a fresh logistic regression's
 * {False: 0.5, True: 0.5} is a False prediction. */
Test(server_chantilly, an_even_binary_prediction_counts_as_false)
{
    test_server ts;
    server_start(&ts);
    post_status(&ts, "/api/init", "{\"flavor\": \"binary\"}", 201);
    post_status(&ts, "/api/model", LOG_REG, 201);
    http_resp r;
    POST("/api/predict", "{\"id\": 1, \"features\": {\"a\": 1}}", &r);
    cr_assert_eq(json_number_value(json_object_get(json_object_get(r.json, "prediction"), "true")), 0.5);
    http_free(&r);
    post_status(&ts, "/api/learn", "{\"id\": 1, \"ground_truth\": true}", 201);
    GET("/api/metrics", &r);
    cr_assert_eq(json_number_value(json_object_get(r.json, "Accuracy")), 0.0, "%s", r.body);
    cr_assert_eq(json_number_value(json_object_get(r.json, "Recall")), 0.0, "%s", r.body);
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

/* Flask's jsonify writes floats with Python's repr, the shortest spelling
 * that reads back as the same double: a client comparing answer texts, or a
 * person reading curl's output, sees 3.2, not 3.2000000000000002. */
Test(server_chantilly, reals_are_spelled_as_pythons_repr)
{
    /* x and Python 3's repr(x), each */
    static const struct { double x; const char *repr; } cases[] = {
        {0.1, "0.1"}, {1.5212603486793025e-05, "1.5212603486793025e-05"},
        {9.5367431640625e-07, "9.5367431640625e-07"}, {1e17, "1e+17"}, {1.5e20, "1.5e+20"},
        {1e15, "1000000000000000.0"}, {12345678901234568.0, "1.2345678901234568e+16"},
        {5e-324, "5e-324"}, {-0.0, "-0.0"}, {3.0, "3.0"}, {1e16, "1e+16"}, {0.0001, "0.0001"},
        {1e-05, "1e-05"}, {123456.789, "123456.789"}, {2.2250738585072014e-308, "2.2250738585072014e-308"},
        {1.7976931348623157e308, "1.7976931348623157e+308"}, {0.30000000000000004, "0.30000000000000004"},
        {9999999999999998.0, "9999999999999998.0"}, {100.0, "100.0"}, {-2.5, "-2.5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *arr = json_pack("[f,s,I]", cases[i].x, "0.10000000000000001", (json_int_t)12345678901234567);
        char *s = rv_json_text(arr), want[200];
        snprintf(want, sizeof want, "[%s,\"0.10000000000000001\",12345678901234567]", cases[i].repr);
        cr_assert_str_eq(s, want); /* strings and integers as they were */
        free(s);
        json_decref(arr);
    }
    json_t *o = json_pack("{s:f}", "k\"\\", 0.5);
    char *text = rv_json_text(o);
    cr_assert_str_eq(text, "{\"k\\\"\\\\\":0.5}");
    free(text);
    json_decref(o);

    /* every finite double comes back bit for bit */
    uint64_t state = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 20000; i++) {
        state ^= state << 13, state ^= state >> 7, state ^= state << 17;
        double x;
        memcpy(&x, &state, sizeof x);
        if (!isfinite(x))
            continue;
        json_t *arr = json_pack("[f]", x);
        char *s = rv_json_text(arr);
        json_t *back = json_loads(s, 0, NULL);
        cr_assert_not_null(back, "%s", s);
        double y = json_real_value(json_array_get(back, 0));
        cr_assert(memcmp(&x, &y, sizeof x) == 0, "%.17g came back as %.17g via %s", x, y, s);
        json_decref(back);
        json_decref(arr);
        free(s);
    }

    test_server ts;
    server_start(&ts);
    regression_with_lin_reg(&ts);
    post_status(&ts, "/api/learn", "{\"features\": {\"x\": 1}, \"ground_truth\": 3.2}", 201);
    http_resp r;
    GET("/api/metrics", &r);
    cr_assert_not_null(strstr(r.body, "\"MAE\":3.2,"), "%s", r.body);
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

/* Chantilly's README uploads pickle.dumps(model); rivulet takes definitions,
 * and a client that still sends a pickle is told what to send instead. */
Test(server_chantilly, a_pickled_model_is_refused_with_what_to_send)
{
    test_server ts;
    server_start(&ts);
    post_status(&ts, "/api/init", "{\"flavor\": \"regression\"}", 201);
    http_resp r;
    /* pickle protocol 4's opening bytes (no NUL, for the C string body) */
    POST("/api/model/pickled", "\x80\x04\x95\x2b\x01\x01\x01\x01\x01\x01\x01\x8c\x05river", &r);
    expect_text(&r, "The body is a Python pickle, which rivulet does not load: send the model's definition"
                    " as text instead, e.g. 'preprocessing.StandardScaler() | linear_model.LinearRegression()'.");
    http_free(&r);
    GET("/api/models", &r);
    cr_assert_null(strstr(r.body, "pickled"), "%s", r.body);
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}
