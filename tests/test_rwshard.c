/* The server's split reader-writer lock (rv_rwshard, src/server/internal.h),
 * which guards the models table and each model: readers on different
 * threads never wait for each other, a writer waits for every reader
 * whatever its slot and shuts all of them out, and unlock undoes whichever
 * lock the caller took. Every wait is bounded. */
#include "server/internal.h"

#include <criterion/criterion.h>
#include <time.h>
#include <unistd.h>

static rv_rwshard lock;

typedef struct {
    int write;        /* take it for writing, else reading */
    atomic_int held;  /* 1 once taken */
    atomic_int leave; /* set to make it unlock and end */
} holder;

static void *hold(void *arg)
{
    holder *h = arg;
    if (h->write)
        rv_rwshard_wrlock(&lock);
    else
        rv_rwshard_rdlock(&lock);
    atomic_store(&h->held, 1);
    for (int i = 0; i < 5000 && !atomic_load(&h->leave); i++)
        usleep(1000);
    rv_rwshard_unlock(&lock);
    return NULL;
}

/* Whether h gets its lock within ms. */
static int taken_within(holder *h, int ms)
{
    for (int i = 0; i < ms && !atomic_load(&h->held); i++)
        usleep(1000);
    return atomic_load(&h->held);
}

static void start(pthread_t *t, holder *h, int write)
{
    *h = (holder){.write = write};
    cr_assert_eq(pthread_create(t, NULL, hold, h), 0);
}

static void finish(pthread_t t, holder *h)
{
    atomic_store(&h->leave, 1);
    pthread_join(t, NULL);
}

Test(rwshard, readers_share_and_a_writer_waits_for_every_one)
{
    rv_rwshard_init(&lock);
    /* Threads get consecutive slots: among three readers at least two have
     * different slots, and all three hold it at once. */
    pthread_t r[3], w;
    holder hr[3], hw;
    for (int i = 0; i < 3; i++) {
        start(&r[i], &hr[i], 0);
        cr_assert(taken_within(&hr[i], 2000), "reader %d waited for another reader", i);
    }
    start(&w, &hw, 1);
    cr_assert_not(taken_within(&hw, 150), "the writer got in past three readers");
    finish(r[0], &hr[0]);
    finish(r[1], &hr[1]);
    cr_assert_not(taken_within(&hw, 100), "the writer got in past the last reader");
    finish(r[2], &hr[2]);
    cr_assert(taken_within(&hw, 2000), "the writer never got in");
    /* Held for writing, it shuts out readers of any slot. */
    pthread_t late[2];
    holder hl[2];
    for (int i = 0; i < 2; i++)
        start(&late[i], &hl[i], 0);
    cr_assert_not(taken_within(&hl[0], 150) || taken_within(&hl[1], 1), "a reader got in past the writer");
    finish(w, &hw);
    for (int i = 0; i < 2; i++) {
        cr_assert(taken_within(&hl[i], 2000), "reader %d never got in after the writer left", i);
        finish(late[i], &hl[i]);
    }
    /* All released: a writer gets straight in, and out. */
    rv_rwshard_wrlock(&lock);
    rv_rwshard_unlock(&lock);
    rv_rwshard_rdlock(&lock);
    rv_rwshard_unlock(&lock);
    rv_rwshard_destroy(&lock);
}
