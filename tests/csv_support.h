/* Reading small CSV files in tests: lines and comma-separated fields, in place. */
#ifndef RIVULET_TEST_CSV_SUPPORT_H
#define RIVULET_TEST_CSV_SUPPORT_H

#include <stdlib.h>
#include <string.h>

/* Splits a CSV line in place (no quoting); returns the number of fields. */
static inline int csv_fields(char *line, char **f, int max)
{
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p && n < max; p++)
        if (*p == ',') {
            *p = 0;
            f[n++] = p + 1;
        }
    return n;
}

/* Next line of a NUL-terminated buffer (modified in place); NULL at the end. */
static inline char *next_line(char **cursor)
{
    char *s = *cursor;
    if (!s || !*s)
        return NULL;
    char *nl = strchr(s, '\n');
    if (nl) {
        *nl = 0;
        *cursor = nl + 1;
        if (nl > s && nl[-1] == '\r')
            nl[-1] = 0;
    } else
        *cursor = s + strlen(s);
    return s;
}

static inline double num_at(const char *s) { return strtod(s, NULL); }

#endif
