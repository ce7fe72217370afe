/* Tests of progressive validation: predict, metric, learn order; delayed
 * labels learned d steps later from deep copies; predict-only rows. */
#include <math.h>

#include "rivulet/eval.h"
#include "rivulet/metrics.h"
#include "support.h"
#include "compose_support.h"

Test(eval, progressive_predicts_scores_then_learns)
{
    rv_object *model = probe_new(); /* predicts the first numeric feature */
    probe *pr = (probe *)model;
    rv_error err = {0};
    rv_object *mae = rv_create("metrics.MAE", NULL, &err);
    cr_assert_not_null(mae, "%s", err.message);
    rv_progressive *pv = rv_progressive_new(model, &mae, 1, 0, &err);
    cr_assert_not_null(pv, "%s", err.message);
    rv_event x;
    rv_event_init(&x);
    rv_sym a = rv_sym_intern_cstr("a");
    rv_prediction p;
    rv_prediction_init(&p);
    double xs[] = {1, 4}, ys[] = {2, 2};
    for (int i = 0; i < 2; i++) {
        rv_event_set_num(&x, a, xs[i]);
        rv_value y = rv_value_num(ys[i]);
        cr_assert_eq(rv_progressive_step(pv, &x, &y, &p, &err), RV_OK, "%s", err.message);
        cr_assert_eq(p.num, xs[i]);
        cr_assert_eq(pr->learned, i + 1);
    }
    cr_assert_eq(rv_metric_get(mae), 1.5); /* (|2-1| + |2-4|) / 2 */
    cr_assert_eq(rv_progressive_count(pv), 2);
    cr_assert_eq(rv_progressive_step(pv, &x, NULL, &p, &err), RV_OK); /* predict only */
    cr_assert_eq(pr->learned, 2);
    cr_assert_eq(rv_metric_get(mae), 1.5);
    rv_progressive_free(pv);
    rv_prediction_free(&p);
    rv_event_free(&x);
    rv_object_free(mae);
    rv_object_free(model);
}

Test(eval, delayed_labels_are_learned_later_from_copies)
{
    rv_object *model = probe_new();
    probe *pr = (probe *)model;
    rv_progressive *pv = rv_progressive_new(model, NULL, 0, 2, NULL);
    cr_assert_not_null(pv);
    rv_event x;
    rv_event_init(&x);
    rv_sym name = rv_sym_intern_cstr("name");
    char buf[8];
    const char *labels[] = {"first", "second", "third", "fourth"};
    for (int i = 0; i < 4; i++) {
        strcpy(buf, labels[i]);
        rv_event_set_str(&x, name, buf, strlen(buf));
        rv_value y = rv_value_num(i);
        cr_assert_eq(rv_progressive_step(pv, &x, &y, NULL, NULL), RV_OK);
        memset(buf, 'X', sizeof buf - 1); /* the waiting copy must not see this */
        cr_assert_eq(pr->learned, i < 2 ? 0 : i - 1);
        if (i >= 2) {
            cr_assert_eq(pr->last_y, i - 2);
            cr_assert_str_eq(pr->last_str, labels[i - 2]);
        }
    }
    cr_assert_eq(rv_progressive_flush(pv, NULL), RV_OK);
    cr_assert_eq(pr->learned, 4);
    cr_assert_str_eq(pr->last_str, "fourth");
    rv_progressive_free(pv);
    rv_event_free(&x);
    rv_object_free(model);
}

Test(eval, rejects_a_transformer)
{
    rv_error err = {0};
    rv_object *t = rv_create("preprocessing.StandardScaler", NULL, &err);
    cr_assert_not_null(t);
    cr_assert_null(rv_progressive_new(t, NULL, 0, 0, &err));
    cr_assert_eq(err.code, RV_EINVAL);
    rv_object_free(t);
}
