/* The store's promises that the server builds on: tickets (log seqs) only
 * grow, across restarts too, whichever kind of write ended the last commit;
 * a lazy append is committed with the next ordinary write, or by a wait on
 * it, and comes back in order at replay. */
#include "rivulet/store.h"

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/rivulet-store-XXXXXX";
static char path[64];

static void setup(void)
{
    strcpy(dir, "/tmp/rivulet-store-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/s.db", dir);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

TestSuite(store, .init = setup, .fini = teardown);

static rv_store *open_store(void)
{
    rv_store *s = NULL;
    rv_error err = {0};
    cr_assert_eq(rv_store_open(path, &s, &err), RV_OK, "%s", err.message);
    return s;
}

static void wait_ok(rv_store *s, uint64_t t)
{
    rv_error err = {0};
    cr_assert_neq(t, 0);
    cr_assert_eq(rv_store_wait(s, t, &err), RV_OK, "%s", err.message);
}

typedef struct seen {
    uint64_t seq[16];
    char body[16][8];
    int n;
} seen;

static rv_status collect(void *ctx, uint64_t seq, const char *model, const void *p, size_t n)
{
    seen *v = ctx;
    (void)model;
    if (v->n < 16) {
        v->seq[v->n] = seq;
        snprintf(v->body[v->n], sizeof v->body[0], "%.*s", (int)n, (const char *)p);
        v->n++;
    }
    return RV_OK;
}

Test(store, tickets_keep_growing_across_restarts_whatever_ended_the_last_commit)
{
    rv_store *s = open_store();
    wait_ok(s, rv_store_append(s, "m", "a", 1));
    uint64_t after_append = rv_store_append(s, "m", "b", 1); /* a commit ending with the log */
    wait_ok(s, after_append);
    rv_store_close(s);

    s = open_store();
    uint64_t t = rv_store_put_meta(s, "k", "v", 1); /* a commit ending with meta */
    cr_assert_gt(t, after_append, "ticket %llu reused after restart (last was %llu)",
                 (unsigned long long)t, (unsigned long long)after_append);
    wait_ok(s, t);
    rv_store_close(s);

    s = open_store();
    uint64_t u = rv_store_append(s, "m", "c", 1);
    cr_assert_gt(u, t);
    wait_ok(s, u);
    seen v = {0};
    rv_error err = {0};
    cr_assert_eq(rv_store_each_event(s, 0, collect, &v, &err), RV_OK, "%s", err.message);
    cr_assert_eq(v.n, 3);
    cr_assert_str_eq(v.body[0], "a");
    cr_assert_str_eq(v.body[2], "c");
    cr_assert_eq(v.seq[2], u);
    rv_store_close(s);
}

Test(store, lazy_appends_commit_in_order_with_the_next_write_or_a_wait)
{
    rv_store *s = open_store();
    uint64_t l1 = rv_store_append_lazy(s, "m", "p1", 2);
    uint64_t l2 = rv_store_append_lazy(s, "m", "p2", 2);
    uint64_t t = rv_store_append(s, "m", "l", 1);
    wait_ok(s, t); /* covers the lazy ones queued before it */
    int done = 0;
    rv_error err = {0};
    cr_assert_eq(rv_store_check(s, l1, &done, &err), RV_OK);
    cr_assert(done);
    uint64_t l3 = rv_store_append_lazy(s, "m", "p3", 2);
    cr_assert(l1 < l2 && l2 < t && t < l3);
    wait_ok(s, l3); /* a wait on a lazy write commits it */
    rv_store_close(s);

    s = open_store();
    seen v = {0};
    cr_assert_eq(rv_store_each_event(s, 0, collect, &v, &err), RV_OK, "%s", err.message);
    cr_assert_eq(v.n, 4);
    const char *want[] = {"p1", "p2", "l", "p3"};
    for (int i = 0; i < 4; i++)
        cr_assert_str_eq(v.body[i], want[i], "event %d", i);
    rv_store_close(s);
}

Test(store, close_commits_what_lazy_writes_left_queued)
{
    rv_store *s = open_store();
    rv_store_append_lazy(s, "m", "p1", 2);
    rv_store_close(s);
    s = open_store();
    seen v = {0};
    rv_error err = {0};
    cr_assert_eq(rv_store_each_event(s, 0, collect, &v, &err), RV_OK, "%s", err.message);
    cr_assert_eq(v.n, 1);
    cr_assert_str_eq(v.body[0], "p1");
    rv_store_close(s);
}

/* Runs sql on the file at path with SQLite itself; returns the first column
 * of the first row, if any, in out. */
static void sql_on_file(const char *sql, char *out, size_t cap)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    if (out)
        out[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW && out)
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

Test(store, another_programs_database_is_refused_and_left_untouched)
{
    sql_on_file("CREATE TABLE orders(id INTEGER, meta TEXT)", NULL, 0);
    rv_store *s = NULL;
    rv_error err = {0};
    cr_assert_neq(rv_store_open(path, &s, &err), RV_OK);
    cr_assert_null(s);
    cr_assert_not_null(strstr(err.message, "not a rivulet store"), "%s", err.message);
    cr_assert_not_null(strstr(err.message, "'orders'"), "%s", err.message);
    char got[64];
    sql_on_file("SELECT group_concat(name) FROM sqlite_master", got, sizeof got);
    cr_assert_str_eq(got, "orders"); /* none of ours added */
    sql_on_file("PRAGMA journal_mode", got, sizeof got);
    cr_assert_str_eq(got, "delete"); /* not switched to WAL */
}

/* Two servers on one file would hand out the same seqs and overwrite each
 * other's checkpoints: the second open is refused, and the file is free
 * again once the first closes. */
Test(store, a_store_open_in_one_place_is_refused_in_another)
{
    rv_store *s = open_store(), *other = NULL;
    rv_error err = {0};
    cr_assert_neq(rv_store_open(path, &other, &err), RV_OK);
    cr_assert_null(other);
    cr_assert_not_null(strstr(err.message, "has the store open"), "%s", err.message);
    wait_ok(s, rv_store_put_meta(s, "k", "v", 1)); /* the first is unharmed */
    rv_store_close(s);
    rv_store_close(open_store());
}

static void expect_events(rv_store *s, uint64_t after, const char *const *want, int n)
{
    seen v = {0};
    rv_error err = {0};
    cr_assert_eq(rv_store_each_event(s, after, collect, &v, &err), RV_OK, "%s", err.message);
    cr_assert_eq(v.n, n, "%d events, want %d", v.n, n);
    for (int i = 0; i < n; i++)
        cr_assert_str_eq(v.body[i], want[i], "event %d", i);
    for (int i = 1; i < n; i++)
        cr_assert_gt(v.seq[i], v.seq[i - 1]);
}

/* The log is four tables used in turn; a trim empties only those it covers
 * whole (a truncation, not a row-by-row delete), and reading gives the
 * events in seq order across the turn, before and after a restart. */
Test(store, a_trim_empties_whole_log_segments_and_events_stay_in_order)
{
    rv_store *s = open_store();
    rv_store_set_segment_rows(s, 2);
    uint64_t t[13];
    char body[16];
    for (int i = 1; i <= 10; i++) { /* one commit, so one pack row, each */
        snprintf(body, sizeof body, "e%d", i);
        wait_ok(s, t[i] = rv_store_append(s, "m", body, strlen(body)));
    }
    /* log: e1 e2, log1: e3 e4, log2: e5 e6, log3: e7 .. e10 (log still full) */
    wait_ok(s, rv_store_trim(s, t[5]));
    const char *left[] = {"e5", "e6", "e7", "e8", "e9", "e10", "e11", "e12"};
    expect_events(s, 0, left, 6); /* log and log1 emptied; log2 keeps e5, covered, with e6 */
    wait_ok(s, t[11] = rv_store_append(s, "m", "e11", 3)); /* log is empty again: e11 goes there */
    wait_ok(s, t[12] = rv_store_append(s, "m", "e12", 3));
    expect_events(s, 0, left, 8);
    rv_store_close(s);

    char got[32];
    sql_on_file("SELECT count(*) FROM log1", got, sizeof got);
    cr_assert_str_eq(got, "0");
    sql_on_file("SELECT count(*) FROM log", got, sizeof got);
    cr_assert_str_eq(got, "2");

    s = open_store();
    expect_events(s, 0, left, 8);
    expect_events(s, t[9], left + 5, 3);
    uint64_t next = rv_store_append(s, "m", "e13", 3);
    cr_assert_gt(next, t[12]);
    wait_ok(s, next);
    wait_ok(s, rv_store_trim(s, next)); /* everything covered: every segment emptied */
    expect_events(s, 0, left, 0);
    rv_store_close(s);
}

/* A store written before the log had segments (its events in log alone)
 * reads back, and new events follow its last seq. */
Test(store, a_store_from_before_log_segments_reads_back_and_goes_on)
{
    rv_store *s = open_store();
    uint64_t old = rv_store_append(s, "m", "old", 3);
    wait_ok(s, old);
    rv_store_close(s);
    sql_on_file("DROP TABLE log1", NULL, 0);
    sql_on_file("DROP TABLE log2", NULL, 0);
    sql_on_file("DROP TABLE log3", NULL, 0);
    s = open_store();
    uint64_t t = rv_store_append(s, "m", "new", 3);
    cr_assert_gt(t, old);
    wait_ok(s, t);
    const char *want[] = {"old", "new"};
    expect_events(s, 0, want, 2);
    rv_store_close(s);
}

/* ===== Compressed packs ===== */

#define SIMILAR 40

static void similar_event(int i, char *out, size_t cap)
{
    snprintf(out, cap, "{\"features\": {\"id\": \"HOBBIES_1_%03d_CA_1\", \"date\": \"2016-01-04\"}, \"y\": %d}", i, i % 5);
}

typedef struct in_order {
    int n, wrong;
} in_order;

static rv_status check_similar(void *ctx, uint64_t seq, const char *model, const void *p, size_t n)
{
    in_order *v = ctx;
    char want[128];
    similar_event(v->n++, want, sizeof want);
    v->wrong += strcmp(model, "m5") != 0 || n != strlen(want) || memcmp(p, want, n) != 0;
    return RV_OK;
}

/* SIMILAR events in two commits of one session (lazy appends gather until
 * the wait), so the committer compresses more than its first pack. */
static void write_similar(void)
{
    rv_store *s = open_store();
    char body[128];
    for (int i = 0; i < SIMILAR; i++) {
        similar_event(i, body, sizeof body);
        if (i == SIMILAR / 2 - 1 || i == SIMILAR - 1)
            wait_ok(s, rv_store_append(s, "m5", body, strlen(body)));
        else
            rv_store_append_lazy(s, "m5", body, strlen(body));
    }
    rv_store_close(s);
}

/* Events that repeat their model and feature names, as a server's learns do,
 * are stored deflated, and read back byte for byte, in order, after a restart. */
Test(store, a_pack_of_similar_events_is_stored_compressed_and_reads_back_exactly)
{
    write_similar();
    char got[64];
    sql_on_file("SELECT count(*) || ' ' || sum(length(body)) FROM log WHERE model = char(1) || 'packz'", got, sizeof got);
    int rows = 0;
    long bytes = 0;
    cr_assert_eq(sscanf(got, "%d %ld", &rows, &bytes), 2, "%s", got);
    cr_assert_eq(rows, 2, "two compressed pack rows, got %s", got);
    long raw = 0; /* the pack's own encoding: per event u64 seq, u32 + model, u32 + body */
    char body[128];
    for (int i = 0; i < SIMILAR; i++) {
        similar_event(i, body, sizeof body);
        raw += 8 + 4 + 2 + 4 + (long)strlen(body);
    }
    cr_assert_lt(bytes * 3, raw, "%ld bytes stored for %ld", bytes, raw);

    rv_store *s = open_store();
    in_order v = {0};
    rv_error err = {0};
    cr_assert_eq(rv_store_each_event(s, 0, check_similar, &v, &err), RV_OK, "%s", err.message);
    cr_assert_eq(v.n, SIMILAR);
    cr_assert_eq(v.wrong, 0);
    rv_store_close(s);
}

static unsigned char noise[300];

typedef struct noise_seen {
    int n, same;
} noise_seen;

static rv_status same_as_noise(void *ctx, uint64_t seq, const char *model, const void *p, size_t n)
{
    noise_seen *v = ctx;
    v->n++;
    v->same += strcmp(model, "m") == 0 && n == sizeof noise && memcmp(p, noise, n) == 0;
    return RV_OK;
}

/* Bytes that deflate cannot shrink are stored as they are, and read back. */
Test(store, a_pack_that_does_not_compress_is_stored_as_it_is)
{
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof noise; i++) { /* xorshift32 */
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        noise[i] = (unsigned char)x;
    }
    rv_store *s = open_store();
    wait_ok(s, rv_store_append(s, "m", noise, sizeof noise));
    wait_ok(s, rv_store_append(s, "m", noise, sizeof noise)); /* after a pack stored plain, too */
    rv_store_close(s);
    char got[32];
    sql_on_file("SELECT count(*) FROM log WHERE model = char(1) || 'pack'", got, sizeof got);
    cr_assert_str_eq(got, "2");

    s = open_store();
    noise_seen v = {0};
    rv_error err = {0};
    cr_assert_eq(rv_store_each_event(s, 0, same_as_noise, &v, &err), RV_OK, "%s", err.message);
    cr_assert_eq(v.n, 2);
    cr_assert_eq(v.same, 2);
    rv_store_close(s);
}

/* Rewrites the compressed pack's body through fn, which returns its new
 * length (the buffer has 64 bytes to spare), with SQLite itself. */
static void damage_pack(int (*fn)(unsigned char *p, int n))
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT seq, body FROM log WHERE model = char(1) || 'packz'", -1, &st, NULL),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    sqlite3_int64 seq = sqlite3_column_int64(st, 0);
    int n = sqlite3_column_bytes(st, 1);
    unsigned char *p = malloc((size_t)n + 64);
    memcpy(p, sqlite3_column_blob(st, 1), (size_t)n);
    sqlite3_finalize(st);
    n = fn(p, n);
    cr_assert_eq(sqlite3_prepare_v2(db, "UPDATE log SET body = ?1 WHERE seq = ?2", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_blob(st, 1, p, n, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, seq);
    cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(p);
}

static void set_u32(unsigned char *p, uint32_t x)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(x >> (8 * i));
}
static uint32_t get_u32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static int flip_a_byte(unsigned char *p, int n) { p[n / 2] ^= 0x40; return n; }
static int claim_4_gib(unsigned char *p, int n) { set_u32(p, UINT32_MAX); return n; }
static int claim_one_more(unsigned char *p, int n) { set_u32(p, get_u32(p) + 1); return n; }
static int claim_one_less(unsigned char *p, int n) { set_u32(p, get_u32(p) - 1); return n; }
static int zero_the_check(unsigned char *p, int n) { memset(p + n - 4, 0, 4); return n; }
static int cut_short(unsigned char *p, int n) { return n - 6; }
static int trailing_bytes(unsigned char *p, int n) { memset(p + n, 0, 8); return n + 8; }

static void expect_damage_reported(void)
{
    rv_store *s = open_store();
    in_order v = {0};
    rv_error err = {0};
    cr_assert_eq(rv_store_each_event(s, 0, check_similar, &v, &err), RV_EIO);
    cr_assert_not_null(strstr(err.message, "damaged"), "%s", err.message);
    cr_assert_eq(v.wrong, 0, "no event read wrong before the damage was seen");
    rv_store_close(s);
}

/* A compressed pack that does not read back is an error that says so, never
 * events made up from damaged bytes or an allocation a length field asks for. */
Test(store, a_damaged_compressed_pack_is_reported_not_misread)
{
    int (*damage[])(unsigned char *, int) = {flip_a_byte,    claim_4_gib, claim_one_more, claim_one_less,
                                             zero_the_check, cut_short,   trailing_bytes};
    for (size_t k = 0; k < sizeof damage / sizeof *damage; k++) {
        teardown();
        setup();
        write_similar();
        damage_pack(damage[k]);
        expect_damage_reported();
    }
}

/* A store stamped by a later rivulet (the table format) is refused and left
 * as it was; one from before compressed packs (no such table) is stamped on
 * open. Builds from before the table refuse it as another program's. */
Test(store, a_store_of_a_later_format_is_refused_and_an_older_one_stamped)
{
    rv_store_close(open_store());
    char got[32];
    sql_on_file("SELECT group_concat(version) FROM format", got, sizeof got);
    cr_assert_str_eq(got, "1");
    sql_on_file("DROP TABLE format", NULL, 0);
    rv_store_close(open_store());
    sql_on_file("SELECT group_concat(version) FROM format", got, sizeof got);
    cr_assert_str_eq(got, "1");

    const char *later[] = {"-3", "9"};
    for (int k = 0; k < 2; k++) {
        char sql[64], want[32];
        snprintf(sql, sizeof sql, "UPDATE format SET version = %s", later[k]);
        sql_on_file(sql, NULL, 0);
        rv_store *s = NULL;
        rv_error err = {0};
        cr_assert_neq(rv_store_open(path, &s, &err), RV_OK);
        cr_assert_null(s);
        snprintf(want, sizeof want, "format %s,", later[k]);
        cr_assert_not_null(strstr(err.message, want), "%s", err.message);
        cr_assert_not_null(strstr(err.message, "newer rivulet"), "%s", err.message);
        sql_on_file("SELECT group_concat(version) FROM format", got, sizeof got);
        cr_assert_str_eq(got, later[k]);
    }
}
