/* rivulet models as text and as bytes.
 *
 * Text: a model is written in the subset of Python expression syntax that
 * River users write, e.g.
 *
 *     scale = preprocessing.StandardScaler()
 *     model = scale | linear_model.LinearRegression(optimizer=optim.SGD(0.005))
 *
 * Names may be module-qualified or bare; calls take positional and keyword
 * arguments; values are numbers, strings, True/False/None, lists, tuples,
 * dicts and objects; `a | b` builds a pipeline, `a + b` a transformer union
 * (+ binds tighter than |, as in Python; list + list concatenates);
 * `name = expr` defines a name that later expressions reuse (each use gets
 * its own copy). Lists repeat themselves as in Python: range(), list
 * comprehensions `[expr for k in iterable]` (expr is evaluated afresh per
 * item) and `*list` unpacking in lists and call arguments, e.g.
 *
 *     compose.TransformerUnion(*[feature_extraction.TargetAgg(
 *         by=['wday'], how=stats.RollingMean(k)) for k in [*range(1, 21), 25, 30]])
 *
 * rv_object_describe writes text that this parser reads back to the same
 * model.
 *
 * Bytes: a snapshot is the model's definition text plus its learned state,
 * versioned and checksummed (layout drawn in src/compose/snapshot.c). */
#ifndef RIVULET_MODEL_H
#define RIVULET_MODEL_H

#include "rivulet/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Parses a model definition. The model is the object named `entry`, or the
 * value of the last statement when entry is NULL. NULL on error, with err
 * holding "line L, column C: ..." (unknown names with a suggestion, unknown
 * keywords, wrong types, unterminated strings, unbalanced brackets,
 * undefined names). Never crashes, whatever the input. */
rv_object *rv_model_parse(const char *text, size_t len, const char *entry, rv_error *err);

/* Snapshot format version written by rv_snapshot_save. */
#define RV_SNAPSHOT_VERSION 1u

/* Appends a snapshot of model (definition + state + checksum) to out. */
rv_status rv_snapshot_save(const rv_object *model, rv_buf *out);
/* Rebuilds a model from a snapshot; NULL with err set on truncated, corrupt,
 * wrong-version or hostile bytes (RV_ECORRUPT, RV_EVERSION, ...). */
rv_object *rv_snapshot_load(const void *bytes, size_t len, rv_error *err);
/* Loads a file holding either definition text or a snapshot (told apart by
 * the snapshot's magic bytes). */
rv_object *rv_model_load_file(const char *path, rv_error *err);
/* Writes a snapshot atomically: a temporary file in the same directory,
 * fsync, rename over path, fsync of the directory. */
rv_status rv_snapshot_write_file(const rv_object *model, const char *path, rv_error *err);

#ifdef __cplusplus
}
#endif
#endif
