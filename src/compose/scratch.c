/* Per-thread scratch events (see internal.h).
 *
 * Each thread owns a stack of heap-allocated events; push hands out the next
 * one (creating it the first time), pop gives them back. Events keep their
 * item arrays and arenas between uses, so steady-state transforms allocate
 * nothing. A pthread key frees a thread's stack when the thread exits. */
#include "compose/internal.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct scratch {
    rv_event **ev;
    uint32_t top, n, cap;
} scratch;

static _Thread_local scratch *tls;
static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void release(void *p)
{
    scratch *s = p;
    for (uint32_t i = 0; i < s->n; i++) {
        rv_event_free(s->ev[i]);
        free(s->ev[i]);
    }
    free(s->ev);
    free(s);
}

static void make_key(void) { pthread_key_create(&key, release); }

static scratch *mine(void)
{
    if (!tls) {
        pthread_once(&once, make_key);
        tls = calloc(1, sizeof *tls);
        if (tls)
            pthread_setspecific(key, tls);
    }
    return tls;
}

rv_event *rv_scratch_push(void)
{
    scratch *s = mine();
    if (!s)
        return NULL;
    if (s->top == s->n) {
        if (s->n == s->cap) {
            uint32_t cap = s->cap ? 2 * s->cap : 16;
            rv_event **ev = realloc(s->ev, cap * sizeof *ev);
            if (!ev)
                return NULL;
            s->ev = ev;
            s->cap = cap;
        }
        rv_event *e = malloc(sizeof *e);
        if (!e)
            return NULL;
        rv_event_init(e);
        s->ev[s->n++] = e;
    }
    rv_event *e = s->ev[s->top++];
    rv_event_clear(e);
    return e;
}

/* n = 0 is fine on a thread that never pushed (its stack is not made yet):
 * a pipeline whose first step fails pops what it pushed, nothing. */
void rv_scratch_pop(uint32_t n)
{
    if (n)
        tls->top -= n;
}
