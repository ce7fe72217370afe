/* Keyed model families: one model per value of a key feature.
 *
 * `compose.Family(<model>, by='id')` holds one definition (the prototype) and
 * a member per key seen: the first event of an unseen key gets a fresh clone
 * of the prototype, and events of other keys never touch it. A family is
 * itself an estimator: learn, predict and transform go to the event's member;
 * it clones, copies, saves, loads and describes itself like any other.
 *
 * Threads: learn/predict/transform on events of DIFFERENT keys may run
 * concurrently (the key map is guarded by a read-write lock; member pointers
 * never move). Two threads on the same key must be serialised by the caller,
 * as must rv_family_put/rv_family_take of a key against its use. */
#ifndef RIVULET_FAMILY_H
#define RIVULET_FAMILY_H

#include "rivulet/core.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const rv_class rv_class_compose_Family;

/* A family of clones of prototype (owned, also on failure), keyed by the
 * feature named key_feature. NULL with err set if prototype is not an
 * estimator or the key name is empty. */
rv_object *rv_family_new(rv_object *prototype, const char *key_feature, rv_error *err);
int rv_is_family(const rv_object *o);
size_t rv_family_size(const rv_object *fam); /* members */
const rv_object *rv_family_prototype(const rv_object *fam);
const char *rv_family_key_feature(const rv_object *fam);

/* The key of an event: a string feature as is, a number as Python's str()
 * of an int when it is integral ("42"), else of a float ("2.5", "nan",
 * "inf"). *key borrows from x, or from a per-thread buffer valid until the
 * thread's next call. A missing key feature is RV_ENOTFOUND. */
rv_status rv_family_key_of(const rv_object *fam, const rv_event *x, const char **key, size_t *len,
                           rv_error *err);
/* The member of a key (borrowed), NULL if absent. */
rv_object *rv_family_get(rv_object *fam, const char *key, size_t len);
/* The member of a key (borrowed), created as a fresh clone of the
 * prototype on first sight, as learn and predict do. NULL with err set on
 * failure. Thread-safe like learn/predict. */
rv_object *rv_family_member(rv_object *fam, const char *key, size_t len, rv_error *err);
/* Installs model (owned, also on failure) as the member of key, replacing
 * and freeing any previous one. */
rv_status rv_family_put(rv_object *fam, const char *key, size_t len, rv_object *model, rv_error *err);
/* Removes a key's member and hands it to the caller (NULL if absent). */
rv_object *rv_family_take(rv_object *fam, const char *key, size_t len);
/* The i-th key in insertion order, i < rv_family_size (NULL beyond). */
const char *rv_family_key_at(const rv_object *fam, size_t i, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
