/* Readers for the creme 0.5.1 golden files (../shared/reference/creme-0.5.1/
 * golden): the input stream regression.csv and the per-row outputs. */
#ifndef RIVULET_TEST_GOLDEN_H
#define RIVULET_TEST_GOLDEN_H

#include "support.h"

#include <jansson.h>

#define GOLDEN_MAX_ROWS 1000

typedef struct golden_input {
    size_t n;
    double x1[GOLDEN_MAX_ROWS], x2[GOLDEN_MAX_ROWS], x3[GOLDEN_MAX_ROWS], c[GOLDEN_MAX_ROWS],
        g[GOLDEN_MAX_ROWS], y[GOLDEN_MAX_ROWS];
} golden_input;

static inline char *golden_read(const char *dir, const char *file)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/reference/creme-0.5.1/golden/%s", dir, file);
    char *text = rv_test_read_file(path, NULL);
    cr_assert_not_null(text, "cannot read %s", path);
    return text;
}

/* regression.csv: x1,x2,x3,c,g,y */
static inline void golden_load_input(const char *dir, golden_input *in)
{
    char *text = golden_read(dir, "regression.csv");
    char *line = strchr(text, '\n') + 1;
    in->n = 0;
    while (*line && in->n < GOLDEN_MAX_ROWS) {
        char *p = line;
        double *cols[6] = {in->x1, in->x2, in->x3, in->c, in->g, in->y};
        for (int k = 0; k < 6; k++) {
            cols[k][in->n] = strtod(p, &p);
            if (*p == ',')
                p++;
        }
        in->n++;
        line = strchr(p, '\n');
        if (!line)
            break;
        line++;
    }
    free(text);
}

/* The third column of each row of a golden output: a number, or (for
 * transformer cases) the JSON object text, unquoted. Returns the rows. */
static inline size_t golden_load_column(const char *dir, const char *file, char ***out)
{
    char *text = golden_read(dir, file);
    size_t n = 0, cap = 512;
    char **rows = malloc(cap * sizeof *rows);
    char *line = strchr(text, '\n') + 1;
    while (line && *line) {
        char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char *p = memchr(line, ',', len);
        p = memchr(p + 1, ',', len - (size_t)(p + 1 - line)) + 1;
        size_t rest = len - (size_t)(p - line);
        char *cell = malloc(rest + 1), *w = cell;
        if (*p == '"') { /* quoted: drop the quotes, "" -> " */
            for (size_t i = 1; i + 1 < rest; i++) {
                *w++ = p[i];
                if (p[i] == '"' && p[i + 1] == '"')
                    i++;
            }
        } else {
            memcpy(w, p, rest);
            w += rest;
        }
        *w = '\0';
        if (n == cap)
            rows = realloc(rows, (cap *= 2) * sizeof *rows);
        rows[n++] = cell;
        line = end ? end + 1 : NULL;
    }
    free(text);
    *out = rows;
    return n;
}

static inline void golden_free_column(char **rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(rows[i]);
    free(rows);
}

#endif
