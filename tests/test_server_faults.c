/* End-to-end tests of `rivulet serve` when its disk fails it: a commit that
 * cannot be written (here the file size limit, as a full disk would) refuses
 * every later learn, and the server says so where supervisors look, so that
 * it is restarted and reloads what was durable. Every wait is bounded. */
#include "server_client.h"

#include <sys/resource.h>

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* Learns batches of wide events until a line is refused, leaving that
 * batch's answer in r; the lines acknowledged (201), that batch's included. */
static int learn_until_refused(int port, http_resp *r)
{
    int acked = 0;
    char *body = malloc(200 * 2100);
    for (int round = 0; round < 100; round++) {
        size_t len = 0;
        for (int i = 0; i < 200; i++)
            len += (size_t)sprintf(body + len, "{\"features\": {\"x\": %d, \"pad\": \"%02000d\"}, \"ground_truth\": 1}\n",
                                   i, round);
        cr_assert_eq(http_req(port, "POST", "/api/learn/batch", NULL, body, len, r), 0);
        acked += count(r->body, "\"status\":201");
        if (r->status != 200 || strstr(r->body, "\"status\":5"))
            break;
        http_free(r);
    }
    free(body);
    return acked;
}

Test(server_faults, a_store_that_cannot_commit_refuses_learns_and_fails_its_health_checks, .timeout = 60)
{
    /* The server (a fork of this worker) may not grow a file past 1 MiB, and
     * writing past it fails with EFBIG instead of killing it (SIGXFSZ). */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit was, small;
    cr_assert_eq(getrlimit(RLIMIT_FSIZE, &was), 0);
    small = was;
    small.rlim_cur = 1 << 20;
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    test_server ts;
    server_start_args(&ts, NULL, 1);
    http_resp r;
    cr_assert_eq(http_json(ts.port, "POST", "/api/init", "{\"flavor\": \"regression\"}", &r), 0);
    http_free(&r);
    expect_answer(ts.port, "POST", "/api/model/m", "linear_model.LinearRegression()", 201);
    expect_answer(ts.port, "GET", "/healthz", NULL, 200);

    /* the batch that met the failure answers line by line: the lines of the
     * commits before it stay 201 (they are durable), the rest are 500 */
    int acked = learn_until_refused(ts.port, &r);
    cr_assert_eq(r.status, 200, "%d %s", r.status, r.body);
    cr_assert_gt(count(r.body, "\"status\":500"), 0, "no commit failed: %.300s", r.body);
    cr_assert(strstr(r.body, "store commit failed"), "%.300s", r.body);
    cr_assert_eq(count(r.body, "\"status\":201") + count(r.body, "\"status\":500"), 200, "%.300s", r.body);
    http_free(&r);
    expect_answer(ts.port, "POST", "/api/learn", "{\"features\": {\"x\": 1}, \"ground_truth\": 1}", 500);
    /* nothing changes in memory either: a reset and an upload are refused before they start */
    expect_answer(ts.port, "POST", "/api/init", "{\"flavor\": \"binary\"}", 500);
    expect_answer(ts.port, "POST", "/api/model/other", "linear_model.LinearRegression()", 500);
    cr_assert_eq(http_json(ts.port, "GET", "/api/models", NULL, &r), 0);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "default")), "m", "%s", r.body);
    cr_assert_eq(json_array_size(json_object_get(r.json, "models")), 1, "%s", r.body);
    http_free(&r);
    cr_assert_eq(http_json(ts.port, "GET", "/api/init", NULL, &r), 0);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "flavor")), "regression", "%s", r.body);
    http_free(&r);
    cr_assert_eq(http_json(ts.port, "GET", "/healthz", NULL, &r), 0);
    cr_assert_eq(r.status, 503, "/healthz: %d %s", r.status, r.body);
    cr_assert(strstr(resp_message(&r), "store commit failed"), "%s", r.body);
    http_free(&r);
    expect_answer(ts.port, "GET", "/readyz", NULL, 503);
    /* predicts go on, but one with an id, which the store must keep, is refused and not kept */
    expect_answer(ts.port, "POST", "/api/predict", "{\"features\": {\"x\": 1}}", 200);
    expect_answer(ts.port, "POST", "/api/predict", "{\"features\": {\"x\": 1}, \"id\": \"k\"}", 500);
    cr_assert_eq(http_req(ts.port, "GET", "/metrics", NULL, NULL, 0, &r), 0);
    cr_assert(strstr(r.body, "rivulet_store_failed 1\n"), "%s", r.body);
    cr_assert(strstr(r.body, "rivulet_kept_predictions 0\n"), "%s", r.body);
    http_free(&r);
    server_stop(&ts, SIGTERM);

    /* the cause fixed, a restart reloads what was durable and learns again */
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &was), 0);
    server_start_args(&ts, NULL, 0);
    expect_answer(ts.port, "GET", "/healthz", NULL, 200);
    cr_assert_eq(http_json(ts.port, "GET", "/api/model/m/metrics", NULL, &r), 0);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "n_learned")), acked,
                 "learned %lld after the restart, acknowledged %d: %s",
                 (long long)json_integer_value(json_object_get(r.json, "n_learned")), acked, r.body);
    http_free(&r);
    expect_answer(ts.port, "POST", "/api/learn",
                  "{\"features\": {\"x\": 1}, \"ground_truth\": 1, \"model\": \"m\"}", 201);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

/* A second server on a store in use (an upgrade that starts the new binary
 * before stopping the old, a unit started twice) exits at startup: it would
 * reuse the first one's log seqs and checkpoint its stale models over the
 * first one's learns. The first goes on learning. */
Test(server_faults, a_second_server_on_the_same_db_refuses_to_start, .timeout = 60)
{
    test_server ts;
    server_start(&ts);
    char port_file[320];
    snprintf(port_file, sizeof port_file, "%s/port2", ts.dir);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        const char *argv[] = {"serve", "--port", "0", "--db", ts.db, "--port-file", port_file};
        _exit(rv_serve_main(7, (char **)argv));
    }
    int st = 0, exited = 0;
    for (double end = now_s() + 10; !exited && now_s() < end; usleep(5000))
        exited = waitpid(pid, &st, WNOHANG) == pid;
    if (!exited) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    cr_assert(exited && WIFEXITED(st) && WEXITSTATUS(st) == 1, "the second server is still serving the same db");
    cr_assert_neq(access(port_file, F_OK), 0, "the second server listened");
    expect_answer(ts.port, "POST", "/api/init", "{\"flavor\": \"regression\"}", 201);
    server_stop(&ts, SIGTERM);
    server_start_args(&ts, NULL, 0); /* free again once the first has stopped */
    expect_answer(ts.port, "GET", "/api/init", NULL, 200);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

/* Sends a POST on a connection of its own and leaves it to be answered. */
static int send_post(int port, const char *path, const char *payload)
{
    int fd = tcp_connect(port);
    cr_assert_geq(fd, 0);
    char req[512];
    int n = snprintf(req, sizeof req,
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                     "Content-Length: %zu\r\n\r\n%s", path, strlen(payload), payload);
    cr_assert_eq(write_all(fd, req, (size_t)n), 0);
    return fd;
}

/* The answer on fd (closed): its status, and its body in body (malloc'ed). */
static int answer_status(int fd, char **body)
{
    size_t n;
    char *raw = read_until_close(fd, &n, 10000);
    int status = 0;
    if (sscanf(raw, "HTTP/1.%*d %d", &status) != 1)
        status = -1;
    *body = raw;
    close(fd);
    return status;
}

/* A learn whose commit succeeded is durable, so it is 201 even when a later
 * commit fails before its answer goes out (its worker was busy): a 500 made
 * the client send it again after the restart, and the model learn it twice.
 * With one worker and --test-slow-learn-ms: learn A sleeps, then waits for
 * its commit, which is done while batch B, sent meanwhile, holds the worker;
 * the file size limit then drops, so B's first line fails its commit while
 * B's second line sleeps, and A is answered after the failure. */
Test(server_faults, a_learn_committed_before_a_failure_stays_201, .timeout = 60)
{
    signal(SIGXFSZ, SIG_IGN);
    test_server ts;
    const char *extra[] = {"--workers", "1", "--test-slow-learn-ms", "1500", NULL};
    server_start_args(&ts, extra, 1);
    http_resp r;
    cr_assert_eq(http_json(ts.port, "POST", "/api/init", "{\"flavor\": \"regression\"}", &r), 0);
    http_free(&r);
    expect_answer(ts.port, "POST", "/api/model/m", "linear_model.LinearRegression()", 201);

    int a = send_post(ts.port, "/api/learn", "{\"features\": {\"x\": 1, \"slow\": 1}, \"ground_truth\": 1}");
    usleep(500 * 1000); /* A sleeps in the worker until 1.5 s */
    int b = send_post(ts.port, "/api/learn/batch",
                      "{\"features\": {\"x\": 2, \"slow\": 1}, \"ground_truth\": 2}\n"
                      "{\"features\": {\"x\": 3, \"slow\": 1}, \"ground_truth\": 3}\n");
    usleep(1800 * 1000); /* A committed near 1.5 s; B's first line sleeps until 3 s */
    struct pollfd pa = {a, POLLIN, 0};
    cr_assert_eq(poll(&pa, 1, 0), 0, "A was answered before the failure: the test proves nothing");
    struct rlimit lim;
    cr_assert_eq(getrlimit(RLIMIT_FSIZE, &lim), 0);
    lim.rlim_cur = 1; /* the WAL cannot grow: B's commit fails */
    cr_assert_eq(prlimit(ts.pid, RLIMIT_FSIZE, &lim, NULL), 0);
    char *body_b, *body_a;
    int status_b = answer_status(b, &body_b), status_a = answer_status(a, &body_a);
    cr_assert_eq(status_b, 200, "%s", body_b);
    cr_assert(strstr(body_b, "store commit failed"), "B's commit did not fail: %s", body_b);
    cr_assert_eq(status_a, 201, "A, committed before the failure, was answered: %s", body_a);
    free(body_a);
    free(body_b);
    server_stop(&ts, SIGTERM);

    server_start_args(&ts, NULL, 0); /* A is there, B is not */
    cr_assert_eq(http_json(ts.port, "GET", "/api/model/m/metrics", NULL, &r), 0);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "n_learned")), 1, "%s", r.body);
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}
