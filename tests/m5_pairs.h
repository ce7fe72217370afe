/* The creme 0.5.1 parity run of the write-up's two pipelines, shared by the
 * test built in C (test_compose.c) and the one parsed from examples/m5/
 * (test_parse.c).
 *
 * m5_small.csv goes through one (knn, lm) pair per item_id (the first three
 * parts of the id), each pair cloned from the given prototypes on the item's
 * first row; every row is predicted then learnt. Both must equal creme bit
 * for bit (m5_small_reference_ordered.csv, the KNN distance summed in
 * feature order) and be within 1e-12 of creme as released
 * (m5_small_reference.csv, distances summed in Python's set order). */
#ifndef RIVULET_TEST_M5_PAIRS_H
#define RIVULET_TEST_M5_PAIRS_H

#include "csv_support.h"
#include "support.h"
#include "rivulet/core.h"

#include <math.h>

/* The index of the pair of item_id (the id up to its third '_'), adding a
 * pair of clones when the item is new. */
static inline int m5_pair_of(const char *id, char (*keys)[32], rv_object *(*pairs)[2], int *nkeys, int max,
                             rv_object *const proto[2])
{
    const char *end = id;
    for (int parts = 0; parts < 3 && end; parts++)
        end = strchr(end, '_') ? strchr(end, '_') + (parts < 2) : NULL;
    cr_assert_not_null(end, "id %s has no item_id", id);
    size_t klen = (size_t)(end - id);
    cr_assert_lt(klen, 32);
    int k = 0;
    while (k < *nkeys && (strlen(keys[k]) != klen || memcmp(keys[k], id, klen) != 0))
        k++;
    if (k == *nkeys) {
        cr_assert_lt(*nkeys, max);
        memcpy(keys[k], id, klen);
        keys[k][klen] = 0;
        for (int m = 0; m < 2; m++)
            cr_assert_not_null(pairs[k][m] = rv_object_clone(proto[m], NULL));
        (*nkeys)++;
    }
    return k;
}

/* Runs the parity check above with prototypes knn and lm (not consumed). */
static inline void m5_pairs_match_creme(const char *dir, rv_object *knn, rv_object *lm)
{
    char path[4200], *text[3];
    const char *files[3] = {"m5_small.csv", "m5_small_reference_ordered.csv", "m5_small_reference.csv"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/reference/creme-0.5.1/m5/%s", dir, files[i]);
        cr_assert_not_null(text[i] = rv_test_read_file(path, NULL), "%s", path);
    }
    rv_object *const proto[2] = {knn, lm};
    enum { MAXKEYS = 64 };
    char keys[MAXKEYS][32];
    rv_object *pairs[MAXKEYS][2];
    int nkeys = 0, rows = 0;
    char *dc = text[0], *oc = text[1], *rc = text[2], *line, *f[8], *o[8], *r[8];
    next_line(&dc);
    next_line(&oc);
    next_line(&rc);
    rv_sym id = rv_sym_intern_cstr("id"), date = rv_sym_intern_cstr("date");
    rv_event x;
    rv_event_init(&x);
    rv_prediction pred;
    rv_prediction_init(&pred);
    while ((line = next_line(&dc))) {
        cr_assert_eq(csv_fields(line, f, 8), 3);
        cr_assert_eq(csv_fields(next_line(&oc), o, 8), 6);
        cr_assert_eq(csv_fields(next_line(&rc), r, 8), 6);
        int k = m5_pair_of(f[0], keys, pairs, &nkeys, MAXKEYS, proto);
        rv_event_clear(&x);
        rv_event_set_str(&x, id, f[0], strlen(f[0]));
        rv_event_set_str(&x, date, f[1], strlen(f[1]));
        rv_value y = rv_value_num(num_at(f[2]));
        for (int m = 0; m < 2; m++) {
            rv_error err = {0};
            cr_assert_eq(rv_estimator_predict(pairs[k][m], &x, &pred, &err), RV_OK, "%s", err.message);
            double want = num_at(o[4 + m]), loose = num_at(r[4 + m]);
            cr_assert(pred.num == want, "row %d %s: got %.17g, creme %.17g", rows, m ? "lm" : "knn",
                      pred.num, want);
            cr_assert(fabs(pred.num - loose) <= 1e-12, "row %d: %.17g vs %.17g", rows, pred.num, loose);
            cr_assert_eq(rv_estimator_learn(pairs[k][m], &x, &y, &err), RV_OK, "%s", err.message);
        }
        rows++;
    }
    cr_assert_eq(rows, 4800);
    cr_assert_eq(nkeys, 20);
    for (int k = 0; k < nkeys; k++) {
        rv_object_free(pairs[k][0]);
        rv_object_free(pairs[k][1]);
    }
    rv_prediction_free(&pred);
    rv_event_free(&x);
    for (int i = 0; i < 3; i++)
        free(text[i]);
}

#endif
