/* Class variants. rv_class.flags is a property of the class, but a pipeline
 * is a regressor, a classifier or a transformer depending on its last step,
 * and a union is supervised when one of its parts is. Each such class gets a
 * table of copies of itself, one per flags value, filled on first use; the
 * registered class stays the one the registry finds by name. */
#include "compose/internal.h"

#include <pthread.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

const rv_class *rv_class_variant(const rv_class *base, rv_class *table, unsigned flags)
{
    flags &= 127;
    pthread_mutex_lock(&lock);
    if (!table[flags].name) {
        table[flags] = *base;
        table[flags].flags = flags;
    }
    pthread_mutex_unlock(&lock);
    return &table[flags];
}
