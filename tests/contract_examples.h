/* Example definitions of the estimator classes that need arguments, and
 * whole models, shared by the contract test (tests/test_contract.c) and the
 * estimator fuzz target (fuzz/fuzz_estimators.c). */
#ifndef RIVULET_TEST_CONTRACT_EXAMPLES_H
#define RIVULET_TEST_CONTRACT_EXAMPLES_H

#include <stddef.h>

/* Example definitions, tried in order: the first that builds an instance of
 * the class is used (later ones stand in when optional classes are absent). */
static const struct {
    const char *cls;
    const char *defs[3];
} EXAMPLES[] = {
    {"feature_extraction.TargetAgg", {"feature_extraction.TargetAgg(by=['cat'], how=stats.Mean())"}},
    {"feature_extraction.Agg", {"feature_extraction.Agg(on='x1', by=['cat'], how=stats.Mean())"}},
    {"compose.Pipeline", {"preprocessing.StandardScaler() | linear_model.LinearRegression()",
                          "compose.Select('x1') | compose.Family(test.Counter(), by='id')"}},
    {"compose.TransformerUnion",
     {"feature_extraction.TargetAgg(by=['cat'], how=stats.Mean()) + "
      "feature_extraction.TargetAgg(by=['id'], how=stats.RollingMean(3))"}},
    {"compose.Select", {"compose.Select('x1', 'x2')"}},
    {"compose.Discard", {"compose.Discard('cat')"}},
    {"split", {"split('id', '_', item_id=[0, 3], store_id=[3, 5])"}},
    {"dateparts", {"dateparts('date', '%Y-%m-%d', wday=True)"}},
    {"compose.Family", {"compose.Family(linear_model.LinearRegression(), by='id')",
                        "compose.Family(test.Counter(scale=0.5), by='id')"}},
    {"model_selection.GreedyRegressor",
     {"model_selection.GreedyRegressor([linear_model.LinearRegression(), "
      "neighbors.KNeighborsRegressor()], metric=metrics.MAE())"}},
};

/* Whole models checked beside the classes, when their classes exist. */
static const char *const EXTRA_MODELS[] = {
    "(split('id', '_', item_id=[0, 3], store_id=[3, 5]) | dateparts('date', '%Y-%m-%d', wday=True)\n"
    " | (feature_extraction.TargetAgg(by=['item_id'], how=stats.RollingMean(2))\n"
    "    + feature_extraction.TargetAgg(by=['wday'], how=stats.RollingMean(3)))\n"
    " | preprocessing.StandardScaler()\n"
    " | neighbors.KNeighborsRegressor(window_size=30, n_neighbors=15, p=2))",
    "compose.Family(preprocessing.MinMaxScaler() | linear_model.LinearRegression("
    "optimizer=optim.SGD(0.005), intercept_lr=0.001), by='id')",
    "preprocessing.OneHotEncoder() | linear_model.LogisticRegression()",
};

#endif
