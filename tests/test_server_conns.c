/* End-to-end tests of how `rivulet serve` keeps its connection slots for
 * clients that use them: the cap on connections (--max-connections), a deadline for
 * receiving each request, so that a client sending its headers or body a
 * byte at a time is closed, and connections that have waited long for a
 * request giving way at the cap (src/server/deadline.c). Every wait is
 * bounded. */
#include "server_client.h"
#include "server/deadline.h"

#define REGRESSOR "preprocessing.StandardScaler() | linear_model.LinearRegression()"

static void setup(test_server *ts, const char *const *extra)
{
    server_start_args(ts, extra, 1);
    http_resp r;
    cr_assert_eq(http_json(ts->port, "POST", "/api/init", "{\"flavor\": \"regression\"}", &r), 0);
    cr_assert_eq(r.status, 201);
    http_free(&r);
    usleep(300 * 1000); /* the setup's own connection is closed by now */
}

/* Sends fd one byte of drip every 200 ms until the server closes it or
 * limit_s pass: the seconds until it closed, or -1 if it never did. */
static double drip_until_closed(int fd, char drip, double limit_s)
{
    double t0 = now_s();
    while (now_s() - t0 < limit_s) {
        if (send(fd, &drip, 1, MSG_NOSIGNAL) != 1)
            return now_s() - t0;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 200) > 0) {
            char b[256];
            if (recv(fd, b, sizeof b, 0) <= 0)
                return now_s() - t0;
        }
    }
    return -1;
}

/* Sends start on a new connection, then drips; the server (--timeout 1)
 * must close the connection after about a second. */
static void assert_cut_after_a_second(int port, const char *start, char drip)
{
    int fd = tcp_connect(port);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write_all(fd, start, strlen(start)), 0);
    double took = drip_until_closed(fd, drip, 6);
    cr_assert(took >= 0.8 && took < 4, "closed after %.2f s (-1: never), want about 1 s", took);
    close(fd);
}

/* Whether the server has closed fd (within 1 s). */
static int closed_by_server(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    char b[256];
    return poll(&p, 1, 1000) > 0 && recv(fd, b, sizeof b, MSG_DONTWAIT) == 0;
}

/* --max-connections caps open connections: over the cap a new connection is closed
 * unanswered (none here has waited a second for a request, so none gives
 * way), and a slot frees when a client leaves. (libmicrohttpd 0.9.75
 * deadlocked both workers here when it kept the cap itself: acceptor.c.) */
Test(server, connections_over_the_cap_are_closed_until_one_leaves, .timeout = 60)
{
    enum { CAP = 4 };
    test_server ts;
    const char *extra[] = {"--max-connections", "4", "--workers", "2", NULL};
    setup(&ts, extra);
    int fds[CAP + 2];
    for (int i = 0; i < CAP + 2; i++)
        cr_assert_geq(fds[i] = tcp_connect(ts.port), 0);
    int answered = 0;
    for (int i = 0; i < CAP + 2; i++)
        answered += healthz_answers(fds[i]);
    cr_assert_eq(answered, CAP, "%d of %d connections answered under a cap of %d", answered, CAP + 2, CAP);
    for (int i = 0; i < CAP + 2; i++)
        close(fds[i]);
    int again = -1;
    for (int tries = 0; tries < 20 && again != 1; tries++) { /* the server notices the closes */
        usleep(100 * 1000);
        int fd = tcp_connect(ts.port);
        again = fd >= 0 && healthz_answers(fd);
        if (fd >= 0)
            close(fd);
    }
    cr_assert_eq(again, 1, "no connection was served after the others left");
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

/* ===== The deadline for receiving a request ===== */

/* libmicrohttpd's idle timeout restarts with every byte, so a client sending
 * a header a byte at a time held its connection for ever (slowloris). */
Test(server, headers_sent_a_byte_at_a_time_are_cut_at_the_timeout, .timeout = 60)
{
    test_server ts;
    const char *extra[] = {"--timeout", "1", NULL};
    setup(&ts, extra);
    assert_cut_after_a_second(ts.port, "POST /api/learn HTTP/1.1\r\nHost: x\r\nX-Slow: ", 'a');
    int fd = tcp_connect(ts.port); /* the server is fine */
    cr_assert(healthz_answers(fd));
    close(fd);
    http_resp r;
    cr_assert_eq(http_req(ts.port, "GET", "/metrics", NULL, NULL, 0, &r), 0);
    cr_assert(strstr(r.body, "rivulet_connections_expired_total 1\n"), "%s", r.body);
    http_free(&r);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

Test(server, a_body_trickling_in_is_cut_at_the_timeout, .timeout = 60)
{
    test_server ts;
    const char *extra[] = {"--timeout", "1", NULL};
    setup(&ts, extra);
    assert_cut_after_a_second(ts.port, "POST /api/learn HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{",
                              ' ');
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

/* Each body byte buys time: a 64 KiB body sent over 1.6 s (40 KiB/s) is
 * well within a 1 s timeout. */
Test(server, a_body_at_a_steady_pace_is_received_whole, .timeout = 60)
{
    enum { BODY = 65536, PIECE = 4096 };
    test_server ts;
    const char *extra[] = {"--timeout", "1", NULL};
    setup(&ts, extra);
    http_resp r;
    cr_assert_eq(http_json(ts.port, "POST", "/api/model/m", REGRESSOR, &r), 0);
    cr_assert_eq(r.status, 201, "%s", r.body);
    http_free(&r);
    char *body = malloc(BODY);
    memset(body, ' ', BODY);
    const char json[] = "{\"features\": {\"x\": 1}}";
    memcpy(body + BODY - (sizeof json - 1), json, sizeof json - 1);
    int fd = tcp_connect(ts.port);
    cr_assert_geq(fd, 0);
    char head[200];
    int n = snprintf(head, sizeof head,
                     "POST /api/predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     "Content-Length: %d\r\n\r\n", BODY);
    cr_assert_eq(write_all(fd, head, (size_t)n), 0);
    for (int off = 0; off < BODY; off += PIECE) {
        usleep(100 * 1000);
        cr_assert_eq(write_all(fd, body + off, PIECE), 0, "cut at byte %d", off);
    }
    size_t len;
    char *raw = read_until_close(fd, &len, 5000);
    cr_assert(strstr(raw, " 200 ") && strstr(raw, "\"prediction\""), "%s", raw);
    free(raw);
    free(body);
    close(fd);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

/* ===== At the cap, a long wait gives way ===== */

/* A new connection at the cap takes the slot of the one that has waited
 * longest (over a second) for a request; an event stream, being served,
 * is never taken, nor a connection that has just been answered. */
Test(server, at_the_cap_a_connection_idle_for_a_second_gives_way, .timeout = 60)
{
    test_server ts;
    const char *extra[] = {"--max-connections", "3", "--workers", "2", NULL};
    setup(&ts, extra);
    int stream = open_stream(ts.port, "/api/stream/events");
    int idle1 = tcp_connect(ts.port);
    usleep(200 * 1000);
    int idle2 = tcp_connect(ts.port);
    cr_assert(idle1 >= 0 && idle2 >= 0);
    usleep(1300 * 1000);
    int a = tcp_connect(ts.port);
    cr_assert(a >= 0 && healthz_answers(a), "a new connection was refused at the cap");
    cr_assert(closed_by_server(idle1), "the connection idle longest was not the one closed");
    int b = tcp_connect(ts.port);
    cr_assert(b >= 0 && healthz_answers(b), "a second new connection was refused at the cap");
    cr_assert(closed_by_server(idle2));
    int c = tcp_connect(ts.port); /* a and b were just answered, and the stream is served */
    cr_assert(c < 0 || !healthz_answers(c), "a connection answered under a second ago gave way");
    char buf[256];
    ssize_t got;
    for (int i = 0; i < 100 && (got = recv(stream, buf, sizeof buf, MSG_DONTWAIT)) > 0; i++)
        ; /* what the stream sent so far */
    cr_assert(got < 0 && errno == EAGAIN, "the event stream was closed");
    http_resp r;
    close(a); /* a slot for the metrics */
    usleep(300 * 1000);
    cr_assert_eq(http_req(ts.port, "GET", "/metrics", NULL, NULL, 0, &r), 0);
    cr_assert(strstr(r.body, "rivulet_connections_evicted_total 2\n"), "%s", r.body);
    http_free(&r);
    close(stream);
    close(idle1);
    close(idle2);
    close(b);
    if (c >= 0)
        close(c);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

/* ===== Event streams take at most half the connections ===== */

/* Streams never time out nor give way, so without a limit of their own a
 * client opening --max-connections of them locked the API out. */
Test(server, event_streams_past_half_the_cap_are_503_and_the_api_stays_reachable, .timeout = 60)
{
    test_server ts;
    const char *extra[] = {"--max-connections", "4", "--workers", "2", NULL};
    setup(&ts, extra);
    int one = open_stream(ts.port, "/api/stream/events");
    int two = open_stream(ts.port, "/api/stream/metrics");
    http_resp r;
    cr_assert_eq(http_req(ts.port, "GET", "/api/stream/events", NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 503, "%d %s", r.status, r.body);
    cr_assert(strstr(resp_message(&r), "--max-streams"), "%s", r.body);
    http_free(&r);
    int fd = tcp_connect(ts.port);
    cr_assert(fd >= 0 && healthz_answers(fd), "the API was not reachable with the streams open");
    close(fd);
    close(two);
    int again = -1;
    for (int tries = 0; tries < 20 && again < 0; tries++) { /* the server notices the close */
        usleep(100 * 1000);
        fd = tcp_connect(ts.port);
        const char req[] = "GET /api/stream/metrics HTTP/1.1\r\nHost: x\r\n\r\n";
        cr_assert_eq(write_all(fd, req, sizeof req - 1), 0);
        char buf[200] = {0};
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 2000) > 0 && recv(fd, buf, sizeof buf - 1, 0) > 0 && strstr(buf, " 200 "))
            again = fd;
        else
            close(fd);
    }
    cr_assert_geq(again, 0, "no stream opened after one closed");
    close(again);
    close(one);
    server_stop(&ts, SIGTERM);
    server_cleanup(&ts);
}

/* ===== The race between a request and its deadline ===== */

/* A request may come in just as its connection is shut down for waiting
 * too long: exactly one side wins. It was possible for the learn to run on
 * a connection already shut down, so that the client, cut off, could not
 * tell it was made. */
Test(server, a_connection_shut_down_is_never_served_and_one_served_is_never_shut)
{
    rv_error err = {0};
    rv_deadlines *d = rv_deadlines_start(30, &err);
    cr_assert_not_null(d, "%s", err.message);
    int idle[2], busy[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, idle), 0);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, busy), 0);
    rv_conn_clock a, b;
    rv_deadlines_track(d, &a, idle[0]);
    rv_deadlines_track(d, &b, busy[0]);
    usleep(1100 * 1000); /* both have waited over a second for a request */
    cr_assert(rv_conn_clock_headers(&b), "b's headers came in first");
    cr_assert_eq(rv_deadlines_evict(d), 1, "a, still waiting, was not taken");
    cr_assert_not(rv_conn_clock_headers(&a), "a's request ran on a connection shut down");
    cr_assert_not(rv_conn_clock_serving(&a));
    char byte;
    cr_assert_eq(recv(idle[1], &byte, 1, 0), 0, "a's client was not cut off");
    cr_assert_eq(rv_deadlines_evict(d), 0, "b, receiving its body, was taken");
    cr_assert(rv_conn_clock_serving(&b));
    rv_deadlines_untrack(d, &a);
    rv_deadlines_untrack(d, &b);
    rv_deadlines_stop(d);
    for (int i = 0; i < 2; i++) {
        close(idle[i]);
        close(busy[i]);
    }
}
