/* Call statistics of predict and learn, as Chantilly's /api/stats reports
 * them, plus percentiles.
 *
 *   n_calls        number of calls timed
 *   mean_duration  running mean in ns (Welford's update: mean += (x - mean) / n)
 *   ewm_duration   exponentially weighted mean, alpha = 0.3 as Chantilly's
 *                  (storage.init_stats makes River's EWMean(.3)):
 *                  ewm = alpha * x + (1 - alpha) * ewm, the first call's x alone
 *   p50, p99       from a log-linear histogram: 4 sub-buckets per power of
 *                  two, so a percentile is within 19% of the true value; the
 *                  value reported is the bucket's upper bound.
 * The *_human fields spell a duration as Chantilly's humanize_ns does,
 * "1m2s3ms4μs5ns": minutes the largest unit, no separators, zero parts left
 * out, "0ns" for nothing.
 *
 * Each worker thread counts into its own shard (RV_THREAD_SLOTS, by a
 * per-thread index), so the workers never share a lock or a cache line on
 * the request path; a reader merges the shards (merge below).
 */
#include "internal.h"

#include <limits.h>
#include <stdatomic.h>
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
    for (int i = 0; i < RV_THREAD_SLOTS; i++)
        pthread_mutex_init(&t->shard[i].mu, NULL);
}

void rv_timing_reset(rv_timing *t)
{
    for (int i = 0; i < RV_THREAD_SLOTS; i++) {
        rv_timing_shard *h = &t->shard[i];
        pthread_mutex_lock(&h->mu);
        h->n = h->last = 0;
        h->mean = h->ewm = 0;
        memset(h->hist, 0, sizeof h->hist);
        pthread_mutex_unlock(&h->mu);
    }
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

/* This thread's shard: threads are numbered on their first call. */
unsigned rv_thread_slot(void)
{
    static atomic_uint next;
    static _Thread_local unsigned mine = UINT_MAX;
    if (mine == UINT_MAX)
        mine = atomic_fetch_add(&next, 1) % RV_THREAD_SLOTS;
    return mine;
}

#define EWM_ALPHA 0.3

void rv_timing_add(rv_timing *t, uint64_t start, uint64_t end)
{
    uint64_t ns = end - start;
    rv_timing_shard *h = &t->shard[rv_thread_slot()];
    pthread_mutex_lock(&h->mu);
    h->n++;
    h->mean += ((double)ns - h->mean) / (double)h->n;
    h->ewm = h->n == 1 ? (double)ns : EWM_ALPHA * (double)ns + (1 - EWM_ALPHA) * h->ewm;
    h->last = end;
    h->hist[bucket_of(ns)]++;
    pthread_mutex_unlock(&h->mu);
}

/* The shards merged into one: counts and histograms add up, the mean is
 * the calls' mean, and the exponentially weighted mean is that of the shard
 * with the latest call (each shard's EWM follows its own thread's calls; the
 * newest one is the freshest reading of the current duration). */
static void merge(rv_timing *t, rv_timing_shard *out)
{
    memset(out, 0, sizeof *out);
    double sum = 0;
    for (int i = 0; i < RV_THREAD_SLOTS; i++) {
        rv_timing_shard *h = &t->shard[i];
        pthread_mutex_lock(&h->mu);
        out->n += h->n;
        sum += h->mean * (double)h->n;
        if (h->n && h->last >= out->last) {
            out->last = h->last;
            out->ewm = h->ewm;
        }
        for (size_t b = 0; b < sizeof h->hist / sizeof h->hist[0]; b++)
            out->hist[b] += h->hist[b];
        pthread_mutex_unlock(&h->mu);
    }
    out->mean = out->n ? sum / (double)out->n : 0;
}

void rv_timing_totals(rv_timing *t, uint64_t *n, double *sum_ns)
{
    rv_timing_shard all;
    merge(t, &all);
    *n = all.n;
    *sum_ns = all.mean * (double)all.n;
}

static uint64_t percentile(const rv_timing_shard *t, double q)
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
        {"m", 60000000000ull}, {"s", 1000000000ull}, {"ms", 1000000ull}, {"μs", 1000ull}, {"ns", 1ull}};
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        uint64_t k = ns / units[i].ns;
        ns %= units[i].ns;
        if (k == 0 || len >= cap)
            continue;
        int w = snprintf(out + len, cap - len, "%llu%s", (unsigned long long)k, units[i].unit);
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
    rv_timing_shard all;
    merge(t, &all);
    uint64_t n = all.n, mean = (uint64_t)all.mean, ewm = (uint64_t)all.ewm;
    uint64_t p50 = percentile(&all, 0.50), p99 = percentile(&all, 0.99);
    json_t *o = json_object();
    json_object_set_new(o, "n_calls", json_integer((json_int_t)n));
    put_duration(o, "mean_duration", mean);
    put_duration(o, "ewm_duration", ewm);
    put_duration(o, "p50_duration", p50);
    put_duration(o, "p99_duration", p99);
    return o;
}
