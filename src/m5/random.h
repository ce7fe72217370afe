/* A portable random source for the M5 generator: xoshiro256** (Blackman and
 * Vigna, 2018) seeded through splitmix64, and the few distributions the
 * generator draws from. Each stream is keyed by (seed, purpose, index), so an
 * item's series come out the same whatever else is generated; draws use only
 * integer arithmetic and IEEE double operations plus exp/log/sqrt/cos from
 * libm, so outputs agree across machines whose libm rounds those alike
 * (glibc, musl and macOS do for the arguments seen here, to the cent and to
 * the unit the files record). */
#ifndef RIVULET_M5_RANDOM_H
#define RIVULET_M5_RANDOM_H

#include <stdint.h>

typedef struct rv_m5_rng { uint64_t s[4]; } rv_m5_rng;

static inline uint64_t rv_m5_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline void rv_m5_rng_seed(rv_m5_rng *r, uint64_t seed, uint64_t purpose, uint64_t index)
{
    uint64_t x = seed ^ (purpose * 0xD1B54A32D192ED03ull) ^ (index * 0x8CB92BA72F3D8DD7ull);
    rv_m5_splitmix(&x);
    for (int i = 0; i < 4; i++)
        r->s[i] = rv_m5_splitmix(&x);
}

static inline uint64_t rv_m5_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rv_m5_next(rv_m5_rng *r)
{
    uint64_t *s = r->s, out = rv_m5_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rv_m5_rotl(s[3], 45);
    return out;
}

/* Uniform in (0, 1): never exactly 0, so log() is safe. */
static inline double rv_m5_unif(rv_m5_rng *r) { return ((rv_m5_next(r) >> 11) + 0.5) * 0x1.0p-53; }

double rv_m5_normal(rv_m5_rng *r);
double rv_m5_gamma(rv_m5_rng *r, double shape);  /* scale 1 */
uint32_t rv_m5_poisson(rv_m5_rng *r, double mean);
/* Negative binomial with this mean and size k (variance mean + mean^2 / k). */
uint32_t rv_m5_negbin(rv_m5_rng *r, double mean, double k);

#endif
