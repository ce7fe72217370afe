/* Chantilly's payload schemas, checked as Chantilly checks them (with the
 * cerberus library) and refused with the same messages, so that a client
 * which reads r.json()['message'] sees what Chantilly would have said.
 *
 * Chantilly (chantilly/api.py) validates every payload before doing
 * anything else and answers 400 {"message": v.errors}: not a sentence but
 * cerberus's error tree, one list of messages per field at fault, all fields
 * at once:
 *
 *   {"features": ["required field"]}                       missing
 *   {"model": ["null value not allowed"]}                  null (nullable is off)
 *   {"model": ["must be of string type"]}                  one allowed type
 *   {"id": ["no definitions validate",                     anyof of types
 *           {"anyof definition 0": ["must be of integer type"],
 *            "anyof definition 1": ["must be of string type"]}]}
 *
 * cerberus's types as JSON sees them: "string" a string, "dict" an object,
 * "integer" an integer or a boolean (Python's bool is an int). A rule with no
 * type (ground_truth) only has to be there and not be null.
 *
 * One difference on purpose: cerberus also refuses fields the schema does
 * not name ({"foo": ["unknown field"]}); rivulet ignores them, so a request
 * Chantilly answers is answered the same and no valid one is refused.
 */
#include "schema.h"

#include <stdio.h>

/* The schemas of chantilly/api.py (InitSchema, PredictSchema, LearnSchema). */
static const rv_schema_field init_fields[] = {{"flavor", 1, {"string"}}};
static const rv_schema_field predict_fields[] = {
    {"features", 1, {"dict", "string"}}, {"id", 0, {"integer", "string"}}, {"model", 0, {"string"}}};
static const rv_schema_field learn_fields[] = {{"features", 0, {"dict", "string"}},
                                               {"id", 0, {"integer", "string"}},
                                               {"ground_truth", 1, {NULL}},
                                               {"model", 0, {"string"}}};

#define SCHEMA(f) {f, sizeof f / sizeof f[0]}
const rv_schema rv_schema_init = SCHEMA(init_fields);
const rv_schema rv_schema_predict = SCHEMA(predict_fields);
const rv_schema rv_schema_learn = SCHEMA(learn_fields);

static int is_type(const json_t *v, const char *type)
{
    if (strcmp(type, "string") == 0)
        return json_is_string(v);
    if (strcmp(type, "dict") == 0)
        return json_is_object(v);
    return json_is_integer(v) || json_is_boolean(v); /* "integer" */
}

static json_t *type_message(const char *type)
{
    char msg[64];
    snprintf(msg, sizeof msg, "must be of %s type", type);
    return json_pack("[s]", msg);
}

/* The messages for one field's value against its types, or NULL if it
 * passes: a single type is cerberus's "type" rule, several its "anyof". */
static json_t *check_types(const json_t *v, const rv_schema_field *f)
{
    size_t n = 0;
    while (n < RV_SCHEMA_MAX_TYPES && f->types[n])
        n++;
    for (size_t i = 0; i < n; i++)
        if (is_type(v, f->types[i]))
            return NULL;
    if (n == 0)
        return NULL;
    if (n == 1)
        return type_message(f->types[0]);
    json_t *each = json_object();
    for (size_t i = 0; i < n; i++) {
        char key[40];
        snprintf(key, sizeof key, "anyof definition %zu", i);
        json_object_set_new(each, key, type_message(f->types[i]));
    }
    return json_pack("[s,o]", "no definitions validate", each);
}

json_t *rv_schema_errors(const rv_schema *schema, const json_t *payload)
{
    json_t *errors = NULL;
    for (size_t i = 0; i < schema->n; i++) {
        const rv_schema_field *f = &schema->fields[i];
        json_t *v = json_object_get(payload, f->name), *why = NULL;
        if (!v)
            why = f->required ? json_pack("[s]", "required field") : NULL;
        else if (json_is_null(v))
            why = json_pack("[s]", "null value not allowed");
        else
            why = check_types(v, f);
        if (why) {
            if (!errors)
                errors = json_object();
            json_object_set_new(errors, f->name, why);
        }
    }
    return errors;
}
