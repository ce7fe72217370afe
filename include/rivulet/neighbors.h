/* neighbors: nearest-neighbour estimators over a window of recent points
 * (module "neighbors"). Build them with rv_create("neighbors.<Name>", args).
 *
 *   KNeighborsRegressor(n_neighbors=5, window_size=50, p=2, weighted=True)
 *       creme 0.5.1 exactly (SPEC.md section 6): distance sum |a-b| ** p with
 *       NO root (squared Euclidean for p=2), stable sort oldest first,
 *       exact-zero nearest -> its y, inverse-distance weights, uniform
 *       divides by n_neighbors even with fewer points, empty -> 0.0.
 *   KNNRegressor(n_neighbors=5, window_size=1000, leaf_size=30, p=2,
 *                aggregation_method='mean')         River, true distance;
 *       aggregation 'mean' | 'median' | 'weighted_mean'.
 *   KNNClassifier(n_neighbors=5, window_size=1000, leaf_size=30, p=2,
 *                 weighted=True, softmax=True)      River, true distance;
 *       predicts the probability of every class seen (labels: rv_label_of).
 *
 * Distances are summed in feature order over the window's schema (feature
 * names in first-seen order); a feature missing from a point counts as 0.
 * leaf_size is accepted for River compatibility; the search is exact.
 * String features are ignored; NaN and inf never crash. Predicting never
 * writes to the model, so concurrent predictions are safe. */
#ifndef RIVULET_NEIGHBORS_H
#define RIVULET_NEIGHBORS_H

#include "rivulet/core.h"

extern const rv_class rv_class_neighbors_KNeighborsRegressor;
extern const rv_class rv_class_neighbors_KNNRegressor;
extern const rv_class rv_class_neighbors_KNNClassifier;

#endif
