/* Call statistics of predict and learn, as Chantilly's /api/stats reports
 * them, plus percentiles.
 *
 *   n_calls        number of calls timed
 *   mean_duration  running mean in ns (Welford's update: mean += (x - mean) / n)
 *   ewm_duration   exponentially weighted mean, alpha = 0.5 as Chantilly's
 *                  creme.stats.EWMean default: ewm = alpha * x + (1 - alpha) * ewm
 *   p50, p99       from a log-linear histogram: 4 sub-buckets per power of
 *                  two, so a percentile is within 19% of the true value; the
 *                  value reported is the bucket's upper bound.
 * The *_human fields spell a duration as "1ms, 234μs, 567ns".
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

uint64_t rv_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void rv_timing_init(rv_timing *t)
{
    memset(t, 0, sizeof *t);
    rv_mutex_init_spinning(&t->mu);
}

void rv_timing_reset(rv_timing *t)
{
    pthread_mutex_lock(&t->mu);
    t->n = 0;
    t->mean = t->ewm = 0;
    memset(t->hist, 0, sizeof t->hist);
    pthread_mutex_unlock(&t->mu);
}

static unsigned bucket_of(uint64_t ns)
{
    if (ns < 4)
        return (unsigned)ns;
    unsigned lg = 63u - (unsigned)__builtin_clzll(ns);
    unsigned sub = (unsigned)((ns >> (lg - 2)) & 3u);
    return lg * 4 + sub;
}

static uint64_t bucket_upper(unsigned b)
{
    if (b < 4)
        return b;
    unsigned lg = b / 4, sub = b % 4;
    return ((uint64_t)(4 + sub + 1) << (lg - 2)) - 1;
}

void rv_timing_add(rv_timing *t, uint64_t ns)
{
    pthread_mutex_lock(&t->mu);
    t->n++;
    t->mean += ((double)ns - t->mean) / (double)t->n;
    t->ewm = t->n == 1 ? (double)ns : 0.5 * (double)ns + 0.5 * t->ewm;
    t->hist[bucket_of(ns)]++;
    pthread_mutex_unlock(&t->mu);
}

static uint64_t percentile(const rv_timing *t, double q)
{
    if (t->n == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)t->n);
    if (rank >= t->n)
        rank = t->n - 1;
    uint64_t seen = 0;
    for (unsigned b = 0; b < sizeof t->hist / sizeof t->hist[0]; b++) {
        seen += t->hist[b];
        if (seen > rank)
            return bucket_upper(b);
    }
    return 0;
}

void rv_humanize_ns(uint64_t ns, char *out, size_t cap)
{
    static const struct { const char *unit; uint64_t ns; } units[] = {
        {"h", 3600000000000ull}, {"m", 60000000000ull}, {"s", 1000000000ull},
        {"ms", 1000000ull}, {"μs", 1000ull}, {"ns", 1ull}};
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        uint64_t k = ns / units[i].ns;
        ns %= units[i].ns;
        if (k == 0 || len >= cap)
            continue;
        int w = snprintf(out + len, cap - len, "%s%llu%s", len ? ", " : "", (unsigned long long)k,
                         units[i].unit);
        len += w > 0 ? (size_t)w : 0;
    }
    if (out[0] == '\0')
        snprintf(out, cap, "0ns");
}

static void put_duration(json_t *o, const char *key, uint64_t ns)
{
    char human[96], hkey[64];
    rv_humanize_ns(ns, human, sizeof human);
    snprintf(hkey, sizeof hkey, "%s_human", key);
    json_object_set_new(o, key, json_integer((json_int_t)ns));
    json_object_set_new(o, hkey, json_string(human));
}

json_t *rv_timing_to_json(rv_timing *t)
{
    pthread_mutex_lock(&t->mu);
    uint64_t n = t->n, mean = (uint64_t)t->mean, ewm = (uint64_t)t->ewm;
    uint64_t p50 = percentile(t, 0.50), p99 = percentile(t, 0.99);
    pthread_mutex_unlock(&t->mu);
    json_t *o = json_object();
    json_object_set_new(o, "n_calls", json_integer((json_int_t)n));
    put_duration(o, "mean_duration", mean);
    put_duration(o, "ewm_duration", ewm);
    put_duration(o, "p50_duration", p50);
    put_duration(o, "p99_duration", p99);
    return o;
}
