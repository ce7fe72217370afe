/* The squared (p = 2) distance search of the nearest-neighbour window,
 * exact to creme: dist = sum over features, in order, of pow(|d|, 2.0)
 * (Python's |d| ** 2), which glibc does not always round as d * d
 * (core/numeric.c). knn.c calls it first and falls back to its portable
 * rv_pow_two loop when this returns 0.
 *
 * Fast path (x86-64 with AVX2 and FMA, checked at run time; windows of at
 * most 256 points and 64 features):
 *
 * 1. Every point's sum of squares, four points per vector over the
 *    column-major window (knn.c), each point's sum in feature order. Per
 *    term, with p = d * d, e = fma(d, d, -p) is exactly d^2 - p, and
 *    |e| <= h = ulp(p) / 2. pow can only differ from p when d^2 lies within
 *    1/64 ulp of a rounding midpoint (the bound rv_pow_two uses), i.e. when
 *    |e| > (31/32) h; h * 31/32 = 2^E * 31 * 2^-58 for p's power of two 2^E.
 *    (p = 2^E with d^2 < p never occurs: that would need a 53-bit
 *    significand m with m^2 in [2^105 - 2^51, 2^105) or [2^106 - 2^52,
 *    2^106), and none exists; so p's binade is always the exact square's.)
 *    Such terms are flagged. A point with a term 0 < p < 2^-64 from d != 0
 *    (outside pow's error analysis) or a NaN, infinite or >= 2^66 sum is
 *    "wild": its distance comes from the portable loop.
 *
 * 2. For a flagged term pow returns p or the other double next to d^2 (its
 *    error is under 0.54 ulp), so the vector pass sums, besides, the lower
 *    and the upper of the two (p's bits minus or plus 1) for flagged terms:
 *    lo <= exact <= hi, since a rounded sum is monotone in every term.
 *    Where lo == hi (most points: a one-ulp change of one term rarely moves
 *    the rounded sum), that is the exact distance, with no pow call at all.
 *    A point with at least k upper bounds below its lo has k points
 *    strictly nearer: it cannot be among the k nearest, whatever the tie
 *    rule, and keeps lo. Only the remaining points with lo != hi get their
 *    exact sum again, with rv_pow_two (pow only where it can differ).
 *
 * The caller then ranks dist with its stable insertion, so the k nearest,
 * their order and their distances are bit-identical to the portable path
 * (tests/test_neighbors.c compares both against pow on random windows). */
#include "neighbors/knn.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define RV_KNN_SQ_X86 1
#endif

enum { MAX_ROWS = 256, MAX_COLS = 64 };

static int enabled = 1;

void rv_knn_sq_enable(int on) { enabled = on; }

#ifdef RV_KNN_SQ_X86
/* One term for four rows: adds p = d * d to *s, and to the bounds *lo and
 * *hi the two doubles around d^2 (p and its other neighbour) when the term
 * is flagged, else p; returns the flag mask (all ones per flagged lane) and
 * ORs lanes with 0 < |d| and p < 2^-64 into *wild. */
__attribute__((target("avx2,fma"))) static inline __m256d
term(__m256d d, __m256d *lo, __m256d *hi, __m256d *wild)
{
    const __m256d absm = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));
    const __m256d expm = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7ff0000000000000LL));
    const __m256d frac = _mm256_set1_pd(31 * 0x1p-58), tiny = _mm256_set1_pd(0x1p-64);
    const __m256d zero = _mm256_setzero_pd();
    __m256d p = _mm256_mul_pd(d, d);
    __m256d e = _mm256_fmsub_pd(d, d, p); /* d^2 - p, exactly */
    __m256d g = _mm256_cmp_pd(_mm256_and_pd(e, absm),
                              _mm256_mul_pd(_mm256_and_pd(p, expm), frac), _CMP_GT_OQ);
    /* the neighbour on d^2's side: bits of p minus 1 (e < 0) or plus 1 */
    __m256i down = _mm256_castpd_si256(_mm256_and_pd(g, _mm256_cmp_pd(e, zero, _CMP_LT_OQ)));
    __m256i up = _mm256_castpd_si256(_mm256_and_pd(g, _mm256_cmp_pd(e, zero, _CMP_GT_OQ)));
    __m256i pb = _mm256_castpd_si256(p);
    *lo = _mm256_add_pd(*lo, _mm256_castsi256_pd(_mm256_add_epi64(pb, down))); /* -1 */
    *hi = _mm256_add_pd(*hi, _mm256_castsi256_pd(_mm256_sub_epi64(pb, up)));   /* +1 */
    *wild = _mm256_or_pd(*wild, _mm256_andnot_pd(_mm256_cmp_pd(d, zero, _CMP_EQ_OQ),
                                                 _mm256_cmp_pd(p, tiny, _CMP_LT_OQ)));
    return g;
}

/* Step 1 for rows [0, size) (8 at a time; later rows are read but unused):
 * the bounds lo[r] <= exact <= hi[r] and wild[r / 4] (bit r % 4). Which
 * terms were flagged is not kept: the few rows summed again use rv_pow_two,
 * which equals pow and tests each term itself. */
__attribute__((target("avx2,fma"))) static void
sums_avx2(const double *rows, size_t cap, uint32_t size, const double *q, uint32_t cols,
          const double *ext, uint32_t ne, double *lo, double *hi, uint8_t *wild)
{
    uint32_t nv = (size + 7) / 8 * 2;
    for (uint32_t v = 0; v < nv; v += 2) {
        __m256d l0 = _mm256_setzero_pd(), l1 = l0, h0 = l0, h1 = l0, w0 = l0, w1 = l0;
        const double *base = rows + (size_t)v * 4;
        for (uint32_t c = 0; c < cols; c++) {
            const double *col = base + c * cap;
            __m256d qc = _mm256_broadcast_sd(q + c);
            term(_mm256_sub_pd(qc, _mm256_loadu_pd(col)), &l0, &h0, &w0);
            term(_mm256_sub_pd(qc, _mm256_loadu_pd(col + 4)), &l1, &h1, &w1);
        }
        for (uint32_t e = 0; e < ne; e++) {
            __m256d t = _mm256_broadcast_sd(ext + e);
            l0 = _mm256_add_pd(l0, t);
            l1 = _mm256_add_pd(l1, t);
            h0 = _mm256_add_pd(h0, t);
            h1 = _mm256_add_pd(h1, t);
        }
        _mm256_storeu_pd(lo + v * 4, l0);
        _mm256_storeu_pd(lo + v * 4 + 4, l1);
        _mm256_storeu_pd(hi + v * 4, h0);
        _mm256_storeu_pd(hi + v * 4 + 4, h1);
        wild[v] = (uint8_t)_mm256_movemask_pd(w0);
        wild[v + 1] = (uint8_t)_mm256_movemask_pd(w1);
    }
}
#endif

/* The portable sum for one row (knn.c's power_sum with p = 2). */
static double portable_sum(const double *row, size_t cap, const double *q, uint32_t cols,
                           const double *ext, uint32_t ne)
{
    double s = 0.0;
    for (uint32_t c = 0; c < cols; c++)
        s += rv_pow_two(q[c] - row[c * cap]);
    for (uint32_t e = 0; e < ne; e++)
        s += ext[e];
    return s;
}

/* Whether at least k of hi[0..n) are below x: then every point that could
 * be at x has k points strictly nearer. NaN never counts. */
static int k_below(const double *hi, uint32_t n, uint32_t k, double x)
{
    uint32_t below = 0;
    for (uint32_t i = 0; i < n; i++)
        below += hi[i] < x;
    return below >= k;
}

int rv_knn_sq_distances(const rv_knn_window *w, const double *q, const double *extra,
                        uint32_t ne, uint32_t k, double *dist)
{
#ifdef RV_KNN_SQ_X86
    uint32_t size = w->size, cols = w->schema.n;
    if (!enabled || size == 0 || size > MAX_ROWS || cols > MAX_COLS || ne > MAX_COLS ||
        !__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        return 0;
    double ext[MAX_COLS], lo[MAX_ROWS + 8], hi[MAX_ROWS + 8];
    uint8_t wild[MAX_ROWS / 4 + 2];
    for (uint32_t e = 0; e < ne; e++)
        ext[e] = rv_pow_two(extra[e]);
    sums_avx2(w->rows, w->cap, size, q, cols, ext, ne, lo, hi, wild);
    uint8_t open[MAX_ROWS]; /* rows whose bounds differ */
    uint32_t nopen = 0;
    for (uint32_t r = 0; r < size; r++) {
        open[r] = 0;
        if ((wild[r / 4] >> (r % 4) & 1) || !(hi[r] < 0x1p66)) {
            /* tiny terms, NaN, inf or huge: the portable loop, exact */
            lo[r] = hi[r] = dist[r] = portable_sum(w->rows + r, w->cap, q, cols, ext, ne);
        } else {
            dist[r] = lo[r];
            open[r] = lo[r] != hi[r];
            nopen += open[r];
        }
    }
    for (uint32_t r = 0; r < size && nopen; r++)
        if (open[r] && !k_below(hi, size, k, lo[r]))
            dist[r] = portable_sum(w->rows + r, w->cap, q, cols, ext, ne);
    return 1;
#else
    (void)w, (void)q, (void)extra, (void)ne, (void)k, (void)dist, (void)portable_sum,
        (void)k_below;
    return 0;
#endif
}
