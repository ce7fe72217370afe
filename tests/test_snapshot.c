/* Snapshots: the byte layout (checked against an independent encoding),
 * save -> load -> continue with bit-identical predictions, rejection of every
 * truncation and every single-byte change, version errors, hostile lengths,
 * and atomic files. Models are families of test.Counter (tests/counter.h),
 * reached through the parser's test seam. */
#include "counter.h"
#include "rivulet/family.h"
#include "rivulet/model.h"
#include "support.h"

#include <xxhash.h>

#include <dirent.h>
#include <unistd.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <zlib.h>

static const char *DEF = "compose.Family(test.Counter(scale=0.5), by='id')";

static rv_object *make_model(void)
{
    rv_error err = {0};
    rv_object *m = rv_model_parse(DEF, strlen(DEF), NULL, &err);
    cr_assert(m, "%s", err.message);
    return m;
}

static void event_for(rv_event *e, int i)
{
    static const char *ids[] = {"HOBBIES_1_001_CA_1", "FOODS_3_090_TX_2", "x"};
    rv_event_clear(e);
    rv_event_set_str(e, rv_sym_intern_cstr("id"), ids[i % 3], strlen(ids[i % 3]));
    rv_event_set_num(e, rv_sym_intern_cstr("a"), 0.1 * i - 1.7);
}

/* Learns events [from, to) after predicting each; returns predictions. */
static void run(rv_object *m, int from, int to, double *preds)
{
    rv_event e;
    rv_event_init(&e);
    rv_prediction p;
    rv_prediction_init(&p);
    for (int i = from; i < to; i++) {
        event_for(&e, i);
        rv_error err = {0};
        cr_assert_eq(rv_estimator_predict(m, &e, &p, &err), RV_OK, "%s", err.message);
        if (preds)
            preds[i - from] = p.num;
        rv_value y = rv_value_num(i * 1.37 + 0.01);
        cr_assert_eq(rv_estimator_learn(m, &e, &y, &err), RV_OK, "%s", err.message);
    }
    rv_prediction_free(&p);
    rv_event_free(&e);
}

static void snapshot_of(rv_object *m, rv_buf *b)
{
    rv_buf_init(b);
    cr_assert_eq(rv_snapshot_save(m, b), RV_OK);
}

static uint32_t get32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return u[0] | u[1] << 8 | u[2] << 16 | (uint32_t)u[3] << 24;
}

Test(snapshot, byte_layout)
{
    rv_parse_set_lookup(counter_lookup);
    rv_object *m = make_model();
    run(m, 0, 7, NULL);
    rv_buf b, state;
    snapshot_of(m, &b);
    rv_buf_init(&state);
    m->cls->save(m, &state);
    size_t d = strlen(DEF);
    cr_assert_eq(b.len, 36 + d + state.len);
    cr_expect_eq(memcmp(b.data, "RIVULET\0", 8), 0);
    cr_expect_eq(get32(b.data + 8), 1);
    cr_expect_eq(get32(b.data + 12), 0);
    cr_expect_eq(get32(b.data + 16), d);
    cr_expect_eq(memcmp(b.data + 20, DEF, d), 0);
    cr_expect_eq(get32(b.data + 20 + d), state.len);
    cr_expect_eq(get32(b.data + 24 + d), 0);
    cr_expect_eq(memcmp(b.data + 28 + d, state.data, state.len), 0);
    /* the checksum is libxxhash's XXH3-64 of everything before it */
    uint64_t sum = XXH3_64bits(b.data, b.len - 8);
    cr_expect_eq(get32(b.data + b.len - 8), (uint32_t)sum);
    cr_expect_eq(get32(b.data + b.len - 4), (uint32_t)(sum >> 32));
    rv_buf_free(&state);
    rv_buf_free(&b);
    rv_object_free(m);
}

Test(snapshot, save_load_continue_is_bit_identical)
{
    rv_parse_set_lookup(counter_lookup);
    rv_object *m = make_model();
    run(m, 0, 50, NULL);
    rv_buf b;
    snapshot_of(m, &b);
    rv_error err = {0};
    rv_object *back = rv_snapshot_load(b.data, b.len, &err);
    cr_assert(back, "%s", err.message);
    cr_expect_eq(rv_family_size(back), 3);
    double p1[60], p2[60];
    run(m, 50, 110, p1);
    run(back, 50, 110, p2);
    cr_expect_eq(memcmp(p1, p2, sizeof p1), 0);
    /* the reloaded model's state re-saves to the same bytes */
    rv_buf b1, b2;
    snapshot_of(m, &b1);
    snapshot_of(back, &b2);
    cr_expect(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
    rv_buf_free(&b);
    rv_buf_free(&b1);
    rv_buf_free(&b2);
    rv_object_free(m);
    rv_object_free(back);
}

Test(snapshot, every_truncation_and_byte_flip_is_rejected)
{
    rv_parse_set_lookup(counter_lookup);
    rv_object *m = make_model();
    run(m, 0, 5, NULL);
    rv_buf b;
    snapshot_of(m, &b);
    rv_error err;
    for (size_t n = 0; n < b.len; n++) {
        err.code = 0;
        rv_object *o = rv_snapshot_load(b.data, n, &err);
        cr_expect_null(o, "truncation to %zu bytes accepted", n);
        cr_expect(err.code < 0);
        rv_object_free(o);
    }
    char *copy = malloc(b.len);
    for (size_t i = 0; i < b.len; i++)
        for (int mask = 1; mask < 256; mask <<= 3) {
            memcpy(copy, b.data, b.len);
            copy[i] ^= (char)mask;
            err.code = 0;
            rv_object *o = rv_snapshot_load(copy, b.len, &err);
            cr_expect_null(o, "flip 0x%02x of byte %zu accepted", mask, i);
            cr_expect(err.code < 0);
            rv_object_free(o);
        }
    /* one byte too many */
    rv_buf_put_u8(&b, 0);
    cr_expect_null(rv_snapshot_load(b.data, b.len, &err));
    free(copy);
    rv_buf_free(&b);
    rv_object_free(m);
}

/* Rewrites the checksum after an edit, to reach the checks behind it. */
static void reseal(rv_buf *b)
{
    uint64_t sum = XXH3_64bits(b->data, b->len - 8);
    for (int i = 0; i < 8; i++)
        b->data[b->len - 8 + (size_t)i] = (char)(sum >> (8 * i));
}

/* A snapshot written through a symlink lands in its target and leaves the
 * link; one written to a file that is not regular (a FIFO here; /dev/null
 * and /dev/full in the field) goes into it, never renamed over it. */
Test(snapshot, writes_through_links_and_into_special_files)
{
    rv_parse_set_lookup(counter_lookup);
    char dir[] = "/tmp/rv-snapshot-XXXXXX";
    cr_assert(mkdtemp(dir));
    char target[256], link[300], fifo[256];
    snprintf(target, sizeof target, "%s/target.rvs", dir);
    snprintf(link, sizeof link, "%s/link.rvs", dir);
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    rv_object *m = make_model();
    run(m, 0, 20, NULL);
    rv_error err = {0};
    cr_assert_eq(symlink("target.rvs", link), 0);
    cr_assert_eq(rv_snapshot_write_file(m, link, &err), RV_OK, "%s", err.message);
    struct stat sb;
    cr_assert_eq(lstat(link, &sb), 0);
    cr_assert(S_ISLNK(sb.st_mode), "the link was replaced");
    rv_object *back = rv_model_load_file(target, &err);
    cr_assert(back, "%s", err.message);
    rv_object_free(back);

    rv_buf want;
    rv_buf_init(&want);
    cr_assert_eq(rv_snapshot_save(m, &want), RV_OK);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    fflush(NULL);
    pid_t reader = fork();
    cr_assert_neq(reader, -1);
    if (reader == 0) { /* counts what arrives, and says it in its exit status */
        int fd = open(fifo, O_RDONLY);
        size_t n = 0;
        char buf[65536];
        for (ssize_t r; fd >= 0 && (r = read(fd, buf, sizeof buf)) > 0;)
            n += (size_t)r;
        _exit(n == want.len ? 0 : 1);
    }
    rv_status st = rv_snapshot_write_file(m, fifo, &err);
    int status = -1;
    for (int i = 0; i < 300 && waitpid(reader, &status, WNOHANG) == 0; i++)
        usleep(10000);
    if (status == -1) { /* the reader never saw a writer */
        kill(reader, SIGKILL);
        waitpid(reader, NULL, 0);
    }
    cr_assert_eq(lstat(fifo, &sb), 0);
    int still_fifo = S_ISFIFO(sb.st_mode);
    unlink(fifo);
    unlink(link);
    unlink(target);
    rmdir(dir);
    rv_buf_free(&want);
    rv_object_free(m);
    cr_assert_eq(st, RV_OK, "%s", err.message);
    cr_assert(still_fifo, "the FIFO was replaced by a regular file");
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the FIFO's reader got %d", status);
}

Test(snapshot, wrong_version_says_so)
{
    rv_parse_set_lookup(counter_lookup);
    rv_object *m = make_model();
    rv_buf b;
    snapshot_of(m, &b);
    b.data[8] = 2;
    reseal(&b);
    rv_error err = {0};
    cr_expect_null(rv_snapshot_load(b.data, b.len, &err));
    cr_expect_eq(err.code, RV_EVERSION);
    cr_expect_str_eq(err.message, "snapshot format version 2 is not supported (this build reads version 1)");
    rv_buf_free(&b);
    rv_object_free(m);
}

Test(snapshot, hostile_contents_fail_cleanly)
{
    rv_parse_set_lookup(counter_lookup);
    rv_object *m = make_model();
    run(m, 0, 4, NULL);
    rv_buf b;
    snapshot_of(m, &b);
    size_t d = strlen(DEF), state_at = 28 + d;
    rv_error err = {0};
    /* a member count far beyond the data, with a valid checksum */
    rv_buf h = b;
    h.data = malloc(b.len);
    memcpy(h.data, b.data, b.len);
    memset(h.data + state_at, 0xff, 4);
    reseal(&h);
    cr_expect_null(rv_snapshot_load(h.data, h.len, &err));
    cr_expect(strstr(err.message, "count larger than the data left"), "%s", err.message);
    /* a definition that is not a model */
    memcpy(h.data, b.data, b.len);
    memcpy(h.data + 20, "compose.Fumily", 14);
    reseal(&h);
    cr_expect_null(rv_snapshot_load(h.data, h.len, &err));
    cr_expect(strstr(err.message, "snapshot definition: line 1, column 1: unknown estimator"), "%s",
              err.message);
    /* garbage, empty, NULL */
    cr_expect_null(rv_snapshot_load("hello world, not a snapshot", 27, &err));
    cr_expect_str_eq(err.message, "not a rivulet snapshot (bad magic bytes)");
    cr_expect_null(rv_snapshot_load(NULL, 0, &err));
    cr_expect_null(rv_snapshot_load("RIVU", 4, &err));
    cr_expect_str_eq(err.message, "truncated snapshot (4 bytes)");
    free(h.data);
    rv_buf_free(&b);
    rv_object_free(m);
}

Test(snapshot, files_are_written_atomically_and_read_back)
{
    rv_parse_set_lookup(counter_lookup);
    char dir[] = "/tmp/rv-snapshot-XXXXXX";
    cr_assert(mkdtemp(dir));
    char path[256], text[256];
    snprintf(path, sizeof path, "%s/model.rvs", dir);
    snprintf(text, sizeof text, "%s/model.py", dir);
    rv_object *m = make_model();
    run(m, 0, 20, NULL);
    rv_error err = {0};
    cr_assert_eq(rv_snapshot_write_file(m, path, &err), RV_OK, "%s", err.message);
    cr_assert_eq(rv_snapshot_write_file(m, path, &err), RV_OK, "%s", err.message); /* replaces */
    rv_object *back = rv_model_load_file(path, &err);
    cr_assert(back, "%s", err.message);
    double p1[10], p2[10];
    run(m, 20, 30, p1);
    run(back, 20, 30, p2);
    cr_expect_eq(memcmp(p1, p2, sizeof p1), 0);
    /* only the snapshot is left in the directory: no temporary files */
    DIR *dh = opendir(dir);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(dh)))
        files += de->d_name[0] != '.';
    closedir(dh);
    cr_expect_eq(files, 1);
    /* a definition file loads as text */
    FILE *f = fopen(text, "w");
    fprintf(f, "# per-series counters\nmodel = %s\n", DEF);
    fclose(f);
    rv_object *fresh = rv_model_load_file(text, &err);
    cr_assert(fresh, "%s", err.message);
    cr_expect_eq(rv_family_size(fresh), 0);
    cr_expect_null(rv_model_load_file("/nonexistent/dir/model", &err));
    cr_expect_eq(err.code, RV_EIO);
    cr_expect_neq(rv_snapshot_write_file(m, "/nonexistent/dir/model", &err), RV_OK);
    unlink(path);
    unlink(text);
    rmdir(dir);
    rv_object_free(fresh);
    rv_object_free(back);
    rv_object_free(m);
}
