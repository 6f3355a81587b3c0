/*
 * Exact decimals (decimal.h).
 *
 * How this works: a float is turned into the shortest k-place decimal whose
 * nearest float is the float itself (k = 0..9, the mantissa by rounding
 * f * 10^k); sums rescale the smaller scale up (times a power of ten) with
 * overflow checks. Nothing here depends on the locale.
 */
#include "decimal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int64_t POW10[10] = {1,       10,       100,       1000,       10000,
                                  100000,  1000000,  10000000,  100000000,  1000000000};

tt_decimal tt_decimal_from_float(float f)
{
    tt_decimal d = {0, 0, 1};
    if (!isfinite(f))
        return d;
    for (int k = 0; k <= 9; k++) {
        double x = (double)f * (double)POW10[k];
        if (fabs(x) > 9.0e17)
            break;
        int64_t m = llround(x);
        if ((float)((double)m / (double)POW10[k]) == f)
            return (tt_decimal){m, k, 0};
    }
    return d;
}

/* m * 10^k, or 0 with *bad set on overflow. */
static int64_t scale_up(int64_t m, int k, int *bad)
{
    if (k == 0)
        return m;
    int64_t p = POW10[k];
    if (m > INT64_MAX / p || m < INT64_MIN / p) {
        *bad = 1;
        return 0;
    }
    return m * p;
}

void tt_decimal_add(tt_decimal *acc, tt_decimal x)
{
    if (acc->inexact || x.inexact) {
        acc->inexact = 1;
        return;
    }
    int bad = 0;
    int s = acc->scale > x.scale ? acc->scale : x.scale;
    int64_t a = scale_up(acc->mant, s - acc->scale, &bad);
    int64_t b = scale_up(x.mant, s - x.scale, &bad);
    if (bad || (b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b)) {
        acc->inexact = 1;
        return;
    }
    acc->mant = a + b;
    acc->scale = s;
}

void tt_decimal_half(tt_decimal *acc)
{
    if (acc->inexact)
        return;
    if (acc->mant % 2 == 0) {
        acc->mant /= 2;
        return;
    }
    int bad = 0;
    if (acc->scale >= 9) {
        acc->inexact = 1;
        return;
    }
    acc->mant = scale_up(acc->mant, 1, &bad) / 2;
    acc->scale++;
    if (bad)
        acc->inexact = 1;
}

int tt_decimal_format(const tt_decimal *d, char *buf, size_t n)
{
    if (d->inexact) {
        if (n)
            buf[0] = '\0';
        return -1;
    }
    uint64_t mag = d->mant < 0 ? (uint64_t)0 - (uint64_t)d->mant : (uint64_t)d->mant;
    uint64_t p = (uint64_t)POW10[d->scale];
    uint64_t whole = mag / p, frac = mag % p;
    int places = d->scale;
    while (places > 0 && frac % 10 == 0) {
        frac /= 10;
        places--;
    }
    if (places)
        snprintf(buf, n, "%s%llu.%0*llu", d->mant < 0 ? "-" : "", (unsigned long long)whole,
                 places, (unsigned long long)frac);
    else
        snprintf(buf, n, "%s%llu", d->mant < 0 ? "-" : "", (unsigned long long)whole);
    return 0;
}

void tt_float32_format(float f, char *buf, size_t n)
{
    if (isnan(f)) {
        snprintf(buf, n, "nan");
        return;
    }
    for (int p = 1; p <= 9; p++) {
        snprintf(buf, n, "%.*g", p, (double)f);
        float back = strtof(buf, NULL);
        if (memcmp(&back, &f, sizeof f) == 0)
            return;
    }
}

void tt_double_format(double v, char *buf, size_t n)
{
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, n, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}
