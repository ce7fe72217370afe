/* Chantilly's payload schemas and cerberus's messages (schema.c). */
#ifndef RIVULET_SERVER_SCHEMA_H
#define RIVULET_SERVER_SCHEMA_H

#include <jansson.h>
#include <string.h>

#define RV_SCHEMA_MAX_TYPES 2

typedef struct rv_schema_field {
    const char *name;
    int required;
    const char *types[RV_SCHEMA_MAX_TYPES]; /* cerberus type names; none: any type */
} rv_schema_field;

typedef struct rv_schema {
    const rv_schema_field *fields;
    size_t n;
} rv_schema;

extern const rv_schema rv_schema_init, rv_schema_predict, rv_schema_learn;

/* NULL when payload (a JSON object) passes; else a new object of field ->
 * cerberus's messages, to be answered as 400 {"message": errors}. */
json_t *rv_schema_errors(const rv_schema *schema, const json_t *payload);

#endif
