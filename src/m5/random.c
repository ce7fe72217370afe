/* Distributions for the M5 generator (see random.h for the source).
 *
 *   normal     Box-Muller, one of the pair (simpler than caching the other).
 *   gamma      Marsaglia and Tsang (2000) for shape >= 1; shape < 1 by the
 *              boost gamma(shape + 1) * U^(1 / shape).
 *   poisson    inversion by sequential search for means under 30 (the
 *              common case: most series sell a unit or two a day), otherwise
 *              the normal approximation's neighbourhood is too wide to search
 *              so PTRS (Hoermann 1993, transformed rejection) is used.
 *   negbin     the gamma-Poisson mixture: Poisson(mean * Gamma(k) / k).
 */
#include "m5/random.h"

#include <math.h>

double rv_m5_normal(rv_m5_rng *r)
{
    double u = rv_m5_unif(r), v = rv_m5_unif(r);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

double rv_m5_gamma(rv_m5_rng *r, double shape)
{
    if (shape < 1.0) {
        double g = rv_m5_gamma(r, shape + 1.0);
        return g * exp(log(rv_m5_unif(r)) / shape);
    }
    double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x, v;
        do {
            x = rv_m5_normal(r);
            v = 1.0 + c * x;
        } while (v <= 0.0);
        v = v * v * v;
        double u = rv_m5_unif(r);
        if (u < 1.0 - 0.0331 * x * x * x * x)
            return d * v;
        if (log(u) < 0.5 * x * x + d * (1.0 - v + log(v)))
            return d * v;
    }
}

static uint32_t poisson_ptrs(rv_m5_rng *r, double lam)
{
    double slam = sqrt(lam), loglam = log(lam);
    double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
    double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
        double u = rv_m5_unif(r) - 0.5, v = rv_m5_unif(r);
        double us = 0.5 - fabs(u);
        double k = floor((2 * a / us + b) * u + lam + 0.43);
        if (us >= 0.07 && v <= vr)
            return (uint32_t)k;
        if (k < 0 || (us < 0.013 && v > us))
            continue;
        if (log(v) + log(invalpha) - log(a / (us * us) + b) <= -lam + k * loglam - lgamma(k + 1))
            return (uint32_t)k;
    }
}

uint32_t rv_m5_poisson(rv_m5_rng *r, double mean)
{
    if (!(mean > 0.0))
        return 0;
    if (mean >= 30.0)
        return poisson_ptrs(r, mean);
    double u = rv_m5_unif(r), p = exp(-mean), cdf = p;
    uint32_t k = 0;
    while (u > cdf && k < 1000) {
        k++;
        p *= mean / k;
        cdf += p;
    }
    return k;
}

uint32_t rv_m5_negbin(rv_m5_rng *r, double mean, double k)
{
    if (!(mean > 0.0))
        return 0;
    return rv_m5_poisson(r, mean * rv_m5_gamma(r, k) / k);
}
