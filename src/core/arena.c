/* Bump allocator for the strings an event owns. Blocks are chained and never
 * moved, so a pointer handed out stays valid until reset or free. */
#include "rivulet/core.h"

#include <stdlib.h>
#include <string.h>

struct rv_arena_block {
    rv_arena_block *next;
    size_t used, cap;
    char data[];
};

void rv_arena_init(rv_arena *a) { a->head = NULL; }

void *rv_arena_alloc(rv_arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    rv_arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 4000 ? n : 4000;
        rv_arena_block *nb = malloc(sizeof *nb + cap);
        if (!nb)
            return NULL;
        nb->used = 0;
        nb->cap = cap;
        nb->next = b;
        a->head = b = nb;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

char *rv_arena_strdup(rv_arena *a, const char *s, size_t len)
{
    char *p = rv_arena_alloc(a, len + 1);
    if (p) {
        if (len)
            memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

void rv_arena_reset(rv_arena *a)
{
    rv_arena_block *b = a->head;
    if (!b)
        return;
    /* keep the oldest block: it is the one steady-state use fits in */
    while (b->next) {
        rv_arena_block *next = b->next;
        free(b);
        b = next;
    }
    b->used = 0;
    a->head = b;
}

void rv_arena_free(rv_arena *a)
{
    rv_arena_block *b = a->head;
    while (b) {
        rv_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}
