/* features: feature extraction by group (creme 0.5.1 feature_extraction).
 *
 *   feature_extraction.Agg(on, by, how)        <on>_<how name>_by_<by joined by _and_>
 *       the running statistic `how` of feature `on` within the group of x;
 *       unsupervised: learns x[on] into its group.
 *   feature_extraction.TargetAgg(by, how, target_name='target')
 *       <target_name>_<how name>_by_<by>: the running statistic of the
 *       target within the group; supervised: transform reads, learn(x, y)
 *       updates the group with y.
 *
 * Both emit one feature and nothing else (creme's transform_one returns a
 * one-key dict). The group of x is identified by a 64-bit hash of the raw
 * values of its `by` features (see rv_group_key), never by formatting them. */
#ifndef RIVULET_FEATURES_H
#define RIVULET_FEATURES_H

#include "rivulet/core.h"

/* Constructors; `how` is a statistic (stats.*), ownership moves in. */
rv_object *rv_agg_new(const char *on, const char *const *by, size_t nby, rv_object *how,
                      rv_error *err);
rv_object *rv_target_agg_new(const char *const *by, size_t nby, rv_object *how, rv_error *err);
/* Same, from interned names and with a target name other than "target". */
rv_object *rv_target_agg_new_syms(const rv_sym *by, uint32_t nby, rv_object *how,
                                  rv_sym target_name, rv_error *err);

int rv_is_agg(const rv_object *o);        /* Agg or TargetAgg */
int rv_is_target_agg(const rv_object *o); /* TargetAgg only */
/* The feature an Agg/TargetAgg emits. */
rv_sym rv_agg_feature(const rv_object *agg);
/* The grouping features (borrowed array) and their count. */
uint32_t rv_agg_by(const rv_object *agg, const rv_sym **by);
/* The prototype statistic (never updated itself: each group gets a clone). */
const rv_object *rv_agg_how(const rv_object *agg);
/* TargetAgg's target_name ("target" by default); RV_SYM_NONE for Agg. */
rv_sym rv_agg_target_name(const rv_object *agg);
/* Number of groups seen so far. */
uint32_t rv_agg_ngroups(const rv_object *agg);

/* The group key of x: a hash of the kind and raw value of each `by` feature
 * in order (a missing feature hashes as None). Numbers hash by their bits
 * (all NaNs alike), strings by their bytes. Two groups collide with
 * probability 2^-64 per pair; creme's '_'.join(str(v)) key has its own
 * collisions ('a_b'+'c' == 'a'+'b_c') which this does not reproduce. */
uint64_t rv_group_key(const rv_event *x, const rv_sym *by, uint32_t nby);

#endif
