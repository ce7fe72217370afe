/* Whether predicting (or transforming with) a model can change its state.
 *
 * creme 0.5.1's pipelines learn their unsupervised steps during predict
 * (learn_during_predict=True, compose.h), and that property travels: a
 * GreedyRegressor predicts with its best model, a union transforms with each
 * part, a family predicts with a member. So the walk is: a pipeline in that
 * mode says yes; otherwise a pipeline asks its steps, a union its parts (a
 * fused part is a TargetAgg, pure on predict), a GreedyRegressor its models,
 * a family its prototype. Every other estimator is pure on predict.
 *
 * Callers: the family (a member created by a learn first replays the
 * predict it would have had, family.c), the server (such models are
 * predicted under the write lock and their predicts are logged). */
#include "rivulet/compose.h"
#include "rivulet/family.h"

extern const rv_class rv_class_model_selection_GreedyRegressor;

static int is_greedy(const rv_object *o)
{
    return o->cls->ops == rv_class_model_selection_GreedyRegressor.ops; /* variants share ops */
}

int rv_predict_changes_state(const rv_object *model)
{
    if (!model || !rv_is_estimator(model))
        return 0;
    if (rv_is_family(model))
        return rv_predict_changes_state(rv_family_prototype(model));
    if (rv_is_pipeline(model)) {
        if (rv_pipeline_learns_during_predict(model))
            return 1;
        for (size_t i = 0; i < rv_pipeline_len(model); i++)
            if (rv_predict_changes_state(rv_pipeline_step(model, i)))
                return 1;
        return 0;
    }
    if (rv_is_union(model)) {
        for (size_t i = 0; i < rv_union_len(model); i++)
            if (rv_predict_changes_state(rv_union_part(model, i)))
                return 1;
        return 0;
    }
    if (is_greedy(model)) {
        for (size_t i = 0; i < rv_greedy_len(model); i++)
            if (rv_predict_changes_state(rv_greedy_model(model, i)))
                return 1;
    }
    return 0;
}
