/*
 * ticktape: exact decimals for numbers that sources give as binary floats.
 *
 * A tick's volume is a float32 as the source gave it (Dukascopy: 1.12 for
 * 1.12 million). Printed as the shortest decimal that reads back as the same
 * float it is exact ("1.12"); but a sum of them in binary is not: 589 ticks
 * of a five-minute bar add up to 1376.1600006818771, the error of every
 * float32 summed. tt_decimal holds a number as an integer mantissa and a
 * power of ten, so the sum of the ticks' decimals is 1376.16, exactly.
 *
 * Invariants: a tt_decimal is mant / 10^scale, 0 <= scale <= 9; arithmetic is
 * integer and exact, or marks the result inexact (overflow, a value with no
 * decimal of at most 9 places), and the caller then prints the binary value.
 */
#ifndef TT_DECIMAL_H
#define TT_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

typedef struct tt_decimal {
    int64_t mant;
    int scale;   /* decimals, 0..9 */
    int inexact; /* 1: not exact (overflow, NaN, a float without a short decimal) */
} tt_decimal;

/* The shortest decimal with at most 9 places that reads back as f
 * (1.12f -> 112 / 10^2). A NaN, an infinity or a number that needs more
 * places gives inexact. Cannot fail. */
tt_decimal tt_decimal_from_float(float f);

/* acc += x, exactly (the scale is the larger of the two); inexact spreads.
 * Cannot fail (an overflow marks acc inexact). */
void tt_decimal_add(tt_decimal *acc, tt_decimal x);

/* acc /= 2, exactly (one more decimal when the mantissa is odd). Cannot fail
 * (past 9 places, inexact). */
void tt_decimal_half(tt_decimal *acc);

/* As text with its decimals, trailing zeros dropped ("1376.16", "3", "-0.5").
 * Returns 0, or -1 (buf set to "") when d is inexact: print the binary value. */
int tt_decimal_format(const tt_decimal *d, char *buf, size_t n);

/* The shortest decimal that reads back as the same float32 ("1.12", "1e-12",
 * "nan"): how a float the source gave is printed exactly. Cannot fail. */
void tt_float32_format(float f, char *buf, size_t n);

/* The shortest decimal that reads back as the same double. Cannot fail. */
void tt_double_format(double v, char *buf, size_t n);

#endif
