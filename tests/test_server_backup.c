/* `rivulet backup`: a copy of a server's store taken while it runs, which a
 * server started on it serves exactly as the original was at copy time.
 * Every wait is bounded. */
#include "server_client.h"

#define REGRESSOR "preprocessing.StandardScaler() | linear_model.LinearRegression()"

static void learn_rows(int port, int from, int to)
{
    char *body = malloc(100 * (size_t)(to - from) + 1);
    size_t len = 0;
    for (int i = from; i < to; i++)
        len += (size_t)sprintf(body + len, "{\"features\": {\"x\": %d, \"z\": %d}, \"ground_truth\": %d.25}\n",
                               i % 17, (i * 7) % 5, (i * 3) % 11);
    learn_batch_ok(port, body, len);
    free(body);
}

/* The prediction's JSON text for one event. */
static char *prediction(int port)
{
    http_resp r;
    cr_assert_eq(http_json(port, "POST", "/api/predict", "{\"features\": {\"x\": 3, \"z\": 1}}", &r), 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    char *p = json_dumps(json_object_get(r.json, "prediction"), JSON_ENCODE_ANY);
    http_free(&r);
    return p;
}

Test(server_backup, a_copy_taken_while_serving_restarts_as_the_server_was, .timeout = 60)
{
    char dir[64], bin[4096];
    rv_test_workdir_setup(dir, sizeof dir, "rivulet-backup", bin, sizeof bin);
    test_server a, b;
    server_start_args(&a, NULL, 1);
    http_resp r;
    cr_assert_eq(http_json(a.port, "POST", "/api/init", "{\"flavor\": \"regression\"}", &r), 0);
    http_free(&r);
    cr_assert_eq(http_json(a.port, "POST", "/api/model/m", REGRESSOR, &r), 0);
    cr_assert_eq(r.status, 201);
    http_free(&r);
    learn_rows(a.port, 0, 300);
    char *at_copy = prediction(a.port);

    char args[1024];
    snprintf(args, sizeof args, "backup '%s' copy.db", a.db);
    cr_assert_eq(rv_test_run_in(dir, bin, args), 0, "%s", rv_test_slurp_in(dir, "err.txt"));
    cr_assert(strstr(rv_test_slurp_in(dir, "out.txt"), "copy.db"));
    learn_rows(a.port, 300, 400); /* the original goes on */
    char *after = prediction(a.port);
    cr_assert_str_neq(after, at_copy, "the later learns changed nothing: the test shows nothing");

    snprintf(b.dir, sizeof b.dir, "%s", dir); /* b serves the copy */
    snprintf(b.db, sizeof b.db, "%s/copy.db", dir);
    snprintf(b.port_file, sizeof b.port_file, "%s/port", dir);
    server_start_args(&b, NULL, 0);
    char *restored = prediction(b.port);
    cr_assert_str_eq(restored, at_copy, "the copy predicts %s, the server predicted %s at copy time", restored,
                     at_copy);
    cr_assert_eq(http_json(b.port, "GET", "/api/init", NULL, &r), 0);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "flavor")), "regression");
    http_free(&r);

    /* refused: an existing copy (left as it was), a file that is not a store, a missing store */
    cr_assert_eq(rv_test_run_in(dir, bin, args), 1);
    cr_assert(strstr(rv_test_slurp_in(dir, "err.txt"), "exists already"), "%s", rv_test_slurp_in(dir, "err.txt"));
    char path[512];
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("not a database\n", f);
    fclose(f);
    cr_assert_eq(rv_test_run_in(dir, bin, "backup notes.txt other.db"), 1);
    cr_assert(strstr(rv_test_slurp_in(dir, "err.txt"), "notes.txt"), "%s", rv_test_slurp_in(dir, "err.txt"));
    snprintf(path, sizeof path, "%s/other.db", dir);
    cr_assert_neq(access(path, F_OK), 0, "a failed copy left a file behind");
    cr_assert_eq(rv_test_run_in(dir, bin, "backup missing.db other.db"), 1);
    cr_assert(strstr(rv_test_slurp_in(dir, "err.txt"), "missing.db"));

    free(at_copy);
    free(after);
    free(restored);
    server_stop(&b, SIGTERM);
    server_stop(&a, SIGTERM);
    server_cleanup(&a);
    rv_test_workdir_teardown(dir);
}
