/* Fuzz target: snapshot bytes -> rv_snapshot_load.
 *
 * The first input byte picks a mode:
 *
 *   0  raw: the rest of the input is the snapshot, as read from a file;
 *   1  framed: the rest is "u16 D | D bytes of definition | state bytes",
 *      wrapped in a valid header and checksum, so every input reaches the
 *      parser and the classes' load functions;
 *   2+ mutated: a real snapshot (the M5 KNN or linear pipeline, or a family
 *      of the linear one, after learning a few events) edited by the rest of
 *      the input (overwrite, insert, delete, truncate, flip bits) inside its
 *      state, then re-checksummed and its length fields fixed.
 *
 * A load either fails with a message or gives a model that predicts, learns
 * and saves, and whose snapshot loads again to the same bytes. */
#include "fuzz.h"
#include "rivulet/family.h"

#include <xxhash.h>

enum { NBASE = 3 };
static rv_buf base[NBASE];

static void learn_some(rv_object *o, int n)
{
    static const char *ids[] = {"HOBBIES_1_001_CA_1", "FOODS_3_090_TX_2"};
    rv_event x;
    rv_event_init(&x);
    for (int i = 0; i < n; i++) {
        char date[16];
        snprintf(date, sizeof date, "2016-02-%02d", i % 28 + 1);
        rv_event_clear(&x);
        rv_event_set_str_copy(&x, rv_sym_intern_cstr("id"), ids[i % 2], strlen(ids[i % 2]));
        rv_event_set_str_copy(&x, rv_sym_intern_cstr("date"), date, strlen(date));
        rv_value y = rv_value_num(i % 5);
        rv_error err = {0};
        FZ_CHECK(rv_estimator_learn(o, &x, &y, &err) == RV_OK, "seed learn: %s", err.message);
    }
    rv_event_free(&x);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    rv_error err = {0};
    rv_object *m[NBASE] = {fz_m5_model("knn"), fz_m5_model("lm"), NULL};
    m[2] = rv_family_new(fz_m5_model("lm"), "id", &err);
    FZ_CHECK(m[2], "family: %s", err.message);
    for (int i = 0; i < NBASE; i++) {
        learn_some(m[i], 8);
        rv_buf_init(&base[i]);
        FZ_CHECK(rv_snapshot_save(m[i], &base[i]) == RV_OK, "seed snapshot");
        rv_object_free(m[i]);
    }
    return 0;
}

enum { TRAILER = 8 }; /* the XXH3-64 of everything before it (src/compose/snapshot.c) */

/* Recomputes the checksum over everything but the trailer. */
static void seal(rv_buf *b)
{
    uint64_t h = XXH3_64bits(b->data, b->len - TRAILER);
    for (int i = 0; i < TRAILER; i++)
        b->data[b->len - TRAILER + (size_t)i] = (char)(uint8_t)(h >> (8 * i));
}

static void frame(rv_buf *b, const char *def, size_t dlen, const void *state, size_t slen)
{
    rv_buf_put(b, "RIVULET", 8);
    rv_buf_put_u32(b, RV_SNAPSHOT_VERSION);
    rv_buf_put_u32(b, 0);
    rv_buf_put_bytes(b, def, (uint32_t)dlen);
    rv_buf_put_u64(b, slen);
    rv_buf_put(b, state, slen);
    rv_buf_put_u64(b, 0);
    seal(b);
}

/* Applies edits from the input to the state bytes of snapshot src. */
static void mutate(rv_buf *out, const rv_buf *src, fz_in *in)
{
    const uint8_t *s = (const uint8_t *)src->data;
    uint32_t d = (uint32_t)s[16] | (uint32_t)s[17] << 8 | (uint32_t)s[18] << 16 | (uint32_t)s[19] << 24;
    size_t state_at = 20 + d + 8;
    rv_buf st;
    rv_buf_init(&st);
    rv_buf_put(&st, src->data + state_at, src->len - state_at - TRAILER);
    for (int k = 0; k < 16 && in->n; k++) {
        uint8_t op = fz_u8(in);
        size_t at = st.len ? fz_u32(in) % st.len : 0;
        size_t len;
        const char *bytes = fz_bytes(in, 16, &len);
        switch (op % 5) {
        case 0: /* overwrite */
            for (size_t i = 0; i < len && at + i < st.len; i++)
                st.data[at + i] = bytes[i];
            break;
        case 1: { /* insert */
            rv_buf_put(&st, bytes, len); /* grow, then shift */
            memmove(st.data + at + len, st.data + at, st.len - len - at);
            memcpy(st.data + at, bytes, len);
            break;
        }
        case 2: /* delete */
            if (len > st.len - at)
                len = st.len - at;
            memmove(st.data + at, st.data + at + len, st.len - at - len);
            st.len -= len;
            break;
        case 3: /* truncate */
            st.len = at;
            break;
        default: /* flip a bit */
            if (st.len)
                st.data[at] ^= (char)(1u << (op >> 5));
            break;
        }
    }
    frame(out, src->data + 20, d, st.data, st.len);
    rv_buf_free(&st);
}

static void exercise(rv_object *o)
{
    rv_error err = {0};
    rv_buf s1, s2;
    rv_buf_init(&s1);
    rv_buf_init(&s2);
    FZ_CHECK(rv_snapshot_save(o, &s1) == RV_OK, "a loaded model does not save");
    rv_object *back = rv_snapshot_load(s1.data, s1.len, &err);
    FZ_CHECK(back, "a loaded model's snapshot does not load: %s", err.message);
    FZ_CHECK(rv_snapshot_save(back, &s2) == RV_OK && s1.len == s2.len && !memcmp(s1.data, s2.data, s1.len),
             "a loaded model's snapshot reloads differently");
    rv_object_free(back);
    if (rv_is_estimator(o)) {
        rv_event x;
        rv_event_init(&x);
        rv_event_set_str(&x, rv_sym_intern_cstr("id"), "HOBBIES_1_001_CA_1", 18);
        rv_event_set_str(&x, rv_sym_intern_cstr("date"), "2016-03-01", 10);
        rv_event_set_num(&x, rv_sym_intern_cstr("x"), 1.5);
        rv_prediction p;
        rv_prediction_init(&p);
        rv_value y = rv_value_num(2);
        rv_status st = rv_estimator_predict(o, &x, &p, &err);
        if (st != RV_OK && st != RV_EUNSUPPORTED)
            FZ_CHECK_ERROR(st, &err, "predict after load");
        st = rv_estimator_learn(o, &x, &y, &err);
        if (st != RV_OK)
            FZ_CHECK_ERROR(st, &err, "learn after load");
        rv_prediction_free(&p);
        rv_event_free(&x);
    }
    rv_buf_free(&s1);
    rv_buf_free(&s2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    uint8_t mode = fz_u8(&in);
    rv_buf b;
    rv_buf_init(&b);
    if (mode == 0) {
        rv_buf_put(&b, in.p, in.n);
    } else if (mode == 1) {
        size_t dlen = fz_u8(&in) | (size_t)fz_u8(&in) << 8;
        if (dlen > in.n)
            dlen = in.n;
        frame(&b, (const char *)in.p, dlen, in.p + dlen, in.n - dlen);
    } else {
        mutate(&b, &base[mode % NBASE], &in);
    }
    rv_error err = {0};
    rv_object *o = rv_snapshot_load(b.data, b.len, &err);
    if (o)
        exercise(o);
    else
        FZ_CHECK(err.message[0], "rv_snapshot_load failed without a message");
    rv_object_free(o);
    rv_buf_free(&b);
    return 0;
}
