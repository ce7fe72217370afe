/* preprocessing: per-feature scalers and encoders (module "preprocessing").
 *
 * Every class here is a transformer (RV_F_TRANSFORMER): learn(x, y = NULL)
 * updates its state, transform(x, out) clears out and writes the transformed
 * event (string values in out are borrowed from x; out must not be x).
 * Build them by name with rv_create("preprocessing.StandardScaler", args),
 * or through the classes below.
 *
 *   StandardScaler(with_std=True)  creme 0.5.1 exactly: Welford mean and
 *                                  sample variance (ddof=1), (v - mean) /
 *                                  var ** .5, safe_div (var 0 -> v - mean)
 *   MinMaxScaler()                 creme 0.5.1 exactly: (v - min) / (max -
 *                                  min), safe_div; never learned -> NaN
 *   MaxAbsScaler()                 River: v / max|v|, 0.0 when max|v| is 0
 *   OneHotEncoder(categories=None, drop_zeros=False, drop_first=False)
 *                                  River: `<name>_<value>` = 1, known ones 0
 *   FeatureHasher(n_features=1048576, seed=None)
 *                                  River's shape, own portable hash
 *
 * The numeric scalers keep state per numeric feature (in first-seen order);
 * string features pass through them unchanged. NaN, inf and features never
 * learned never crash (see each source file for the exact output). */
#ifndef RIVULET_PREPROCESSING_H
#define RIVULET_PREPROCESSING_H

#include "rivulet/core.h"

extern const rv_class rv_class_preprocessing_StandardScaler;
extern const rv_class rv_class_preprocessing_MinMaxScaler;
extern const rv_class rv_class_preprocessing_MaxAbsScaler;
extern const rv_class rv_class_preprocessing_OneHotEncoder;
extern const rv_class rv_class_preprocessing_FeatureHasher;

/* FeatureHasher's hash of a key: seeded 64-bit FNV-1a plus a finaliser,
 * identical on every host. The bucket is rv_feature_hash(...) % n_features. */
uint64_t rv_feature_hash(const void *p, size_t n, uint64_t seed);

#endif
