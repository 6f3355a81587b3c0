/*
 * Streaming indicators.
 *
 * Every indicator is a recurrence that touches a constant number of values per
 * update: running sums over a ring buffer (SMA, WMA, rolling variance),
 * exponential or Wilder smoothing (EMA, RSI, ATR, ADX), and van Herk /
 * Gil-Werman blocks for rolling extremes (Stochastic, Donchian). Buffers are
 * allocated once in _init; _update never allocates, so an indicator can sit on
 * the per-tick path.
 *
 * Drift. A running sum that adds x_new and subtracts x_old accumulates rounding
 * error without bound over millions of updates. Each windowed indicator counts
 * its updates and, once per window length, re-sums the window from the ring
 * with Neumaier compensation; the error is thereby reset to that of one
 * compensated sum. The variance sums deviations from a shift (the window mean at
 * the last re-sum), because sum(x^2) - sum(x)^2/n loses all digits for prices
 * like 1.14427 whose variance is 1e-8.
 *
 * Warm-up conventions follow pandas/TA-Lib (see core/indicators.h); the pandas
 * reference used by the tests is tests/core/indicators_ref.py.
 */
#include "indicators.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bars.h"

/* ---- helpers ---- */

/* Neumaier (improved Kahan) summation. */
typedef struct nsum {
    double s, c;
} nsum;

static inline void nsum_add(nsum *a, double x)
{
    double t = a->s + x;
    if (fabs(a->s) >= fabs(x))
        a->c += (a->s - t) + x;
    else
        a->c += (x - t) + a->s;
    a->s = t;
}

static inline double nsum_get(const nsum *a) { return a->s + a->c; }

static int check_n(const char *what, int n, tt_err *err)
{
    if (n < 1)
        return tt_err_set(err, TT_EINVAL, "%s: period must be >= 1, got %d", what, n);
    return TT_OK;
}

static int window_init(tt_window *w, int n, const char *what, tt_err *err)
{
    memset(w, 0, sizeof *w);
    int rc = check_n(what, n, err);
    if (rc)
        return rc;
    w->v = calloc((size_t)n, sizeof *w->v);
    if (!w->v)
        return tt_err_set(err, TT_ENOMEM, "%s: out of memory for a window of %d", what, n);
    w->n = n;
    return TT_OK;
}

/* Append x; returns 1 and sets *old when a value left the window. */
static inline int window_push(tt_window *w, double x, double *old)
{
    int evicted = w->count == w->n;
    if (evicted)
        *old = w->v[w->pos];
    else
        w->count++;
    w->v[w->pos] = x;
    w->pos = w->pos + 1 == w->n ? 0 : w->pos + 1;
    return evicted;
}

/* The i-th value, oldest first. */
static inline double window_at(const tt_window *w, int i)
{
    int start = w->count == w->n ? w->pos : 0;
    int k = start + i;
    return w->v[k >= w->n ? k - w->n : k];
}

static void window_free(tt_window *w)
{
    free(w->v);
    w->v = NULL;
}

static int rollext_init(tt_rollext *r, int n, int is_max, const char *what, tt_err *err)
{
    memset(r, 0, sizeof *r);
    r->cur = NAN;
    if (n < 1)
        return check_n(what, n, err);
    r->buf = calloc((size_t)n, sizeof *r->buf);
    r->suf = malloc((size_t)n * sizeof *r->suf);
    if (!r->buf || !r->suf) {
        free(r->buf);
        free(r->suf);
        r->buf = r->suf = NULL;
        return tt_err_set(err, TT_ENOMEM, "%s: out of memory for a window of %d", what, n);
    }
    /* No previous block yet: its suffix maxima are -inf, so early windows are the
     * prefix alone. */
    for (int i = 0; i < n; i++)
        r->suf[i] = -INFINITY;
    r->n = n;
    r->sign = is_max ? 1.0 : -1.0;
    return TT_OK;
}

static inline double dmax(double a, double b) { return a > b ? a : b; }

/* Push x and return the extreme of the last n values. The stream is cut into
 * blocks of n. A window ending at position p of the current block is positions
 * p+1..n-1 of the previous block plus 0..p of this one, so its max is
 * max(suffix max of the previous block from p+1, prefix max of this block up to
 * p); at p = n-1 the window is exactly this block. When a block completes, its
 * suffix maxima are computed once, for the next block's windows. */
static double rollext_push(tt_rollext *r, double x)
{
    double y = r->sign * x;
    int p = r->pos;
    r->run = p == 0 ? y : dmax(r->run, y);
    r->buf[p] = y;
    double v;
    if (p == r->n - 1) {
        v = r->run;
        double m = r->suf[p] = y;
        for (int k = p - 1; k >= 0; k--)
            m = r->suf[k] = dmax(r->buf[k], m);
        r->pos = 0;
    } else {
        v = dmax(r->suf[p + 1], r->run);
        r->pos = p + 1;
    }
    r->t++;
    r->cur = r->sign * v;
    return r->cur;
}

static inline double rollext_value(const tt_rollext *r) { return r->cur; }
static inline int rollext_ready(const tt_rollext *r) { return r->n && r->t >= r->n; }

static void rollext_free(tt_rollext *r)
{
    free(r->buf);
    free(r->suf);
    r->buf = r->suf = NULL;
}

/* ---- SMA ---- */

int tt_sma_init(tt_sma *s, int n, tt_err *err)
{
    memset(s, 0, sizeof *s);
    return window_init(&s->w, n, "SMA", err);
}

double tt_sma_update(tt_sma *s, double x)
{
    double old;
    if (window_push(&s->w, x, &old))
        s->sum += x - old;
    else
        s->sum += x;
    if (++s->since_resum >= s->w.n) {
        nsum a = {0, 0};
        for (int i = 0; i < s->w.count; i++)
            nsum_add(&a, window_at(&s->w, i));
        s->sum = nsum_get(&a);
        s->since_resum = 0;
    }
    return tt_sma_value(s);
}

double tt_sma_value(const tt_sma *s) { return tt_sma_ready(s) ? s->sum / s->w.n : NAN; }
int tt_sma_ready(const tt_sma *s) { return s->w.n && s->w.count == s->w.n; }
void tt_sma_free(tt_sma *s) { window_free(&s->w); }

/* ---- EMA ---- */

int tt_ema_init_alpha(tt_ema *s, double alpha, int warmup, tt_err *err)
{
    memset(s, 0, sizeof *s);
    if (!(alpha > 0 && alpha <= 1))
        return tt_err_set(err, TT_EINVAL, "EMA: smoothing factor must be in (0, 1], got %g",
                          alpha);
    s->alpha = alpha;
    s->n = warmup < 1 ? 1 : warmup;
    s->value = NAN;
    return TT_OK;
}

int tt_ema_init(tt_ema *s, int n, tt_err *err)
{
    memset(s, 0, sizeof *s);
    int rc = check_n("EMA", n, err);
    if (rc)
        return rc;
    return tt_ema_init_alpha(s, 2.0 / (n + 1.0), n, err);
}

double tt_ema_update(tt_ema *s, double x)
{
    /* (1 - alpha) e + alpha x, the form pandas' ewm(adjust=False) evaluates. */
    s->value = s->count++ ? (1.0 - s->alpha) * s->value + s->alpha * x : x;
    return s->value;
}

double tt_ema_value(const tt_ema *s) { return s->value; }
int tt_ema_ready(const tt_ema *s) { return s->n && s->count >= s->n; }
void tt_ema_free(tt_ema *s) { (void)s; }

/* ---- WMA ---- */

int tt_wma_init(tt_wma *s, int n, tt_err *err)
{
    memset(s, 0, sizeof *s);
    return window_init(&s->w, n, "WMA", err);
}

double tt_wma_update(tt_wma *s, double x)
{
    double old;
    int c = s->w.count;
    if (window_push(&s->w, x, &old)) {
        /* Every kept value loses one unit of weight (minus the whole old sum, the
         * leaving value included, which had weight 1) and x enters with weight n. */
        s->wsum += s->w.n * x - s->sum;
        s->sum += x - old;
    } else {
        s->wsum += (c + 1) * x;
        s->sum += x;
    }
    if (++s->since_resum >= s->w.n) {
        nsum a = {0, 0}, b = {0, 0};
        for (int i = 0; i < s->w.count; i++) {
            double v = window_at(&s->w, i);
            nsum_add(&a, v);
            nsum_add(&b, (i + 1) * v);
        }
        s->sum = nsum_get(&a);
        s->wsum = nsum_get(&b);
        s->since_resum = 0;
    }
    return tt_wma_value(s);
}

double tt_wma_value(const tt_wma *s)
{
    if (!tt_wma_ready(s))
        return NAN;
    double n = s->w.n;
    return s->wsum / (n * (n + 1) / 2);
}

int tt_wma_ready(const tt_wma *s) { return s->w.n && s->w.count == s->w.n; }
void tt_wma_free(tt_wma *s) { window_free(&s->w); }

/* ---- rolling standard deviation ---- */

int tt_rstd_init(tt_rstd *s, int n, int ddof, tt_err *err)
{
    memset(s, 0, sizeof *s);
    s->mean = s->var = s->sd = NAN;
    if (ddof != 0 && ddof != 1)
        return tt_err_set(err, TT_EINVAL, "rolling std: ddof must be 0 or 1, got %d", ddof);
    if (n <= ddof)
        return tt_err_set(err, TT_EINVAL, "rolling std: period must be > ddof (%d), got %d",
                          ddof, n);
    s->ddof = ddof;
    return window_init(&s->w, n, "rolling std", err);
}

static void rstd_resum(tt_rstd *s)
{
    nsum m = {0, 0};
    for (int i = 0; i < s->w.count; i++)
        nsum_add(&m, window_at(&s->w, i));
    s->shift = nsum_get(&m) / s->w.count;
    nsum a = {0, 0}, b = {0, 0};
    for (int i = 0; i < s->w.count; i++) {
        double d = window_at(&s->w, i) - s->shift;
        nsum_add(&a, d);
        nsum_add(&b, d * d);
    }
    s->s1 = nsum_get(&a);
    s->s2 = nsum_get(&b);
    s->since_resum = 0;
}

double tt_rstd_update(tt_rstd *s, double x)
{
    if (s->w.count == 0)
        s->shift = x;
    s->same = (s->same && x == s->last) ? s->same + 1 : 1;
    s->last = x;
    double old, d = x - s->shift;
    if (window_push(&s->w, x, &old)) {
        double o = old - s->shift;
        s->s1 += d - o;
        s->s2 += d * d - o * o;
    } else {
        s->s1 += d;
        s->s2 += d * d;
    }
    if (++s->since_resum >= s->w.n)
        rstd_resum(s);
    /* Mean, variance and std are computed once here; the accessors (used several
     * times per update by Bollinger and the z-score) only read them. */
    if (s->w.count < s->w.n) {
        s->mean = s->var = s->sd = NAN;
    } else if (s->same >= s->w.n) {
        s->mean = s->last;
        s->var = s->sd = 0;
    } else {
        double n = s->w.n;
        double v = (s->s2 - s->s1 * s->s1 / n) / (n - s->ddof);
        s->mean = s->shift + s->s1 / n;
        s->var = v > 0 ? v : 0;
        s->sd = sqrt(s->var);
    }
    return s->sd;
}

double tt_rstd_var(const tt_rstd *s) { return s->var; }
double tt_rstd_value(const tt_rstd *s) { return s->sd; }
double tt_rstd_mean(const tt_rstd *s) { return s->mean; }
int tt_rstd_ready(const tt_rstd *s) { return s->w.n && s->w.count == s->w.n; }
void tt_rstd_free(tt_rstd *s) { window_free(&s->w); }

/* ---- z-score ---- */

int tt_zscore_init(tt_zscore *z, int n, int ddof, tt_err *err)
{
    z->z = NAN;
    int rc = tt_rstd_init(&z->s, n, ddof, err);
    if (rc)
        tt_err_prefix(err, "z-score: ");
    return rc;
}

double tt_zscore_update(tt_zscore *z, double x)
{
    double sd = tt_rstd_update(&z->s, x);
    if (!tt_rstd_ready(&z->s))
        z->z = NAN;
    else
        z->z = sd > 0 ? (x - tt_rstd_mean(&z->s)) / sd : 0;
    return z->z;
}

double tt_zscore_value(const tt_zscore *z) { return z->z; }
int tt_zscore_ready(const tt_zscore *z) { return tt_rstd_ready(&z->s); }
void tt_zscore_free(tt_zscore *z) { tt_rstd_free(&z->s); }

/* ---- Bollinger bands ---- */

int tt_bbands_init(tt_bbands *b, int n, double k, tt_err *err)
{
    memset(b, 0, sizeof *b);
    if (!(k >= 0) || !isfinite(k))
        return tt_err_set(err, TT_EINVAL, "Bollinger: width k must be >= 0, got %g", k);
    b->k = k;
    int rc = tt_rstd_init(&b->s, n, 0, err);
    if (rc)
        tt_err_prefix(err, "Bollinger: ");
    return rc;
}

double tt_bbands_update(tt_bbands *b, double x)
{
    tt_rstd_update(&b->s, x);
    return tt_bbands_middle(b);
}

double tt_bbands_middle(const tt_bbands *b) { return tt_rstd_mean(&b->s); }
double tt_bbands_upper(const tt_bbands *b) { return b->s.mean + b->k * b->s.sd; }
double tt_bbands_lower(const tt_bbands *b) { return b->s.mean - b->k * b->s.sd; }
int tt_bbands_ready(const tt_bbands *b) { return tt_rstd_ready(&b->s); }
void tt_bbands_free(tt_bbands *b) { tt_rstd_free(&b->s); }

/* ---- Wilder smoothing, shared by RSI, ATR and ADX ---- */

static inline double wilder(double avg, double x, int n) { return avg + (x - avg) / n; }

/* ---- RSI ---- */

int tt_rsi_init(tt_rsi *s, int n, tt_err *err)
{
    memset(s, 0, sizeof *s);
    s->value = NAN;
    int rc = check_n("RSI", n, err);
    if (rc)
        return rc;
    s->n = n;
    return TT_OK;
}

static double rsi_of(double g, double l)
{
    if (l == 0)
        return g == 0 ? 50.0 : 100.0;
    return 100.0 - 100.0 / (1.0 + g / l);
}

double tt_rsi_update(tt_rsi *s, double x)
{
    if (s->count++ == 0) {
        s->prev = x;
        return s->value;
    }
    double d = x - s->prev;
    double g = d > 0 ? d : 0, l = d < 0 ? -d : 0;
    s->prev = x;
    if (s->count <= s->n + 1) {
        /* seeding: avg_* hold plain sums of the first n gains and losses */
        s->avg_gain += g;
        s->avg_loss += l;
        if (s->count == s->n + 1) {
            s->avg_gain /= s->n;
            s->avg_loss /= s->n;
            s->value = rsi_of(s->avg_gain, s->avg_loss);
        }
        return s->value;
    }
    s->avg_gain = wilder(s->avg_gain, g, s->n);
    s->avg_loss = wilder(s->avg_loss, l, s->n);
    s->value = rsi_of(s->avg_gain, s->avg_loss);
    return s->value;
}

double tt_rsi_value(const tt_rsi *s) { return s->value; }
int tt_rsi_ready(const tt_rsi *s) { return s->n && s->count >= s->n + 1; }
void tt_rsi_free(tt_rsi *s) { (void)s; }

/* ---- ATR ---- */

static inline double true_range(double h, double l, double pc)
{
    double tr = h - l, a = fabs(h - pc), b = fabs(l - pc);
    if (a > tr)
        tr = a;
    if (b > tr)
        tr = b;
    return tr;
}

int tt_atr_init(tt_atr *s, int n, tt_err *err)
{
    memset(s, 0, sizeof *s);
    int rc = check_n("ATR", n, err);
    if (rc)
        return rc;
    s->n = n;
    return TT_OK;
}

double tt_atr_update(tt_atr *s, double high, double low, double close)
{
    if (s->count++ == 0) {
        s->prev_close = close;
        return NAN;
    }
    double tr = true_range(high, low, s->prev_close);
    s->prev_close = close;
    if (s->count <= s->n + 1) {
        s->atr += tr; /* sum while seeding */
        if (s->count == s->n + 1)
            s->atr /= s->n;
    } else {
        s->atr = wilder(s->atr, tr, s->n);
    }
    return tt_atr_value(s);
}

double tt_atr_value(const tt_atr *s) { return tt_atr_ready(s) ? s->atr : NAN; }
int tt_atr_ready(const tt_atr *s) { return s->n && s->count >= s->n + 1; }
void tt_atr_free(tt_atr *s) { (void)s; }

/* ---- MACD ---- */

int tt_macd_init(tt_macd *m, int fast, int slow, int signal, tt_err *err)
{
    memset(m, 0, sizeof *m);
    m->macd = NAN;
    int rc;
    if ((rc = check_n("MACD fast", fast, err)) || (rc = check_n("MACD slow", slow, err)) ||
        (rc = check_n("MACD signal", signal, err)))
        return rc;
    if (fast >= slow)
        return tt_err_set(err, TT_EINVAL, "MACD: fast period (%d) must be below slow (%d)", fast,
                          slow);
    tt_ema_init(&m->fast, fast, NULL);
    tt_ema_init(&m->slow, slow, NULL);
    tt_ema_init(&m->signal, signal, NULL);
    m->warmup = slow + signal - 1;
    return TT_OK;
}

double tt_macd_update(tt_macd *m, double x)
{
    m->count++;
    m->macd = tt_ema_update(&m->fast, x) - tt_ema_update(&m->slow, x);
    tt_ema_update(&m->signal, m->macd);
    return m->macd;
}

double tt_macd_value(const tt_macd *m) { return m->macd; }
double tt_macd_signal(const tt_macd *m) { return tt_ema_value(&m->signal); }
double tt_macd_hist(const tt_macd *m) { return m->macd - tt_ema_value(&m->signal); }
int tt_macd_ready(const tt_macd *m) { return m->warmup && m->count >= m->warmup; }
void tt_macd_free(tt_macd *m) { (void)m; }

/* ---- Stochastic ---- */

int tt_stoch_init(tt_stoch *s, int n, int smooth, int d, tt_err *err)
{
    memset(s, 0, sizeof *s);
    s->raw = NAN;
    int rc;
    if ((rc = rollext_init(&s->hh, n, 1, "Stochastic %K", err)) ||
        (rc = rollext_init(&s->ll, n, 0, "Stochastic %K", err)) ||
        (rc = window_init(&s->ksm.w, smooth, "Stochastic smoothing", err)) ||
        (rc = window_init(&s->d.w, d, "Stochastic %D", err))) {
        tt_stoch_free(s);
        return rc;
    }
    return TT_OK;
}

double tt_stoch_update(tt_stoch *s, double high, double low, double close)
{
    double hh = rollext_push(&s->hh, high), ll = rollext_push(&s->ll, low);
    if (!rollext_ready(&s->hh))
        return NAN;
    s->raw = hh > ll ? 100.0 * (close - ll) / (hh - ll) : 50.0;
    double k = tt_sma_update(&s->ksm, s->raw);
    if (tt_sma_ready(&s->ksm))
        tt_sma_update(&s->d, k);
    return k;
}

double tt_stoch_k(const tt_stoch *s) { return tt_sma_value(&s->ksm); }
double tt_stoch_d(const tt_stoch *s) { return tt_sma_value(&s->d); }
int tt_stoch_ready(const tt_stoch *s) { return tt_sma_ready(&s->d); }

void tt_stoch_free(tt_stoch *s)
{
    rollext_free(&s->hh);
    rollext_free(&s->ll);
    tt_sma_free(&s->ksm);
    tt_sma_free(&s->d);
}

/* ---- ADX ---- */

int tt_adx_init(tt_adx *s, int n, tt_err *err)
{
    memset(s, 0, sizeof *s);
    s->adx = s->pdi = s->mdi = NAN;
    int rc = check_n("ADX", n, err);
    if (rc)
        return rc;
    s->n = n;
    return TT_OK;
}

double tt_adx_update(tt_adx *s, double high, double low, double close)
{
    if (s->count++ == 0) {
        s->prev_high = high;
        s->prev_low = low;
        s->prev_close = close;
        return NAN;
    }
    double tr = true_range(high, low, s->prev_close);
    double up = high - s->prev_high, down = s->prev_low - low;
    double pdm = (up > down && up > 0) ? up : 0;
    double mdm = (down > up && down > 0) ? down : 0;
    s->prev_high = high;
    s->prev_low = low;
    s->prev_close = close;
    int n = s->n;
    if (s->count <= n + 1) {
        s->tr += tr; /* sums while seeding */
        s->pdm += pdm;
        s->mdm += mdm;
        if (s->count < n + 1)
            return NAN;
        s->tr /= n;
        s->pdm /= n;
        s->mdm /= n;
    } else {
        s->tr = wilder(s->tr, tr, n);
        s->pdm = wilder(s->pdm, pdm, n);
        s->mdm = wilder(s->mdm, mdm, n);
    }
    s->pdi = s->tr > 0 ? 100.0 * s->pdm / s->tr : 0;
    s->mdi = s->tr > 0 ? 100.0 * s->mdm / s->tr : 0;
    double sum = s->pdi + s->mdi;
    double dx = sum > 0 ? 100.0 * fabs(s->pdi - s->mdi) / sum : 0;
    /* DX exists from bar n + 1 (count n + 1); ADX seeds on the first n of them. */
    if (s->count < 2 * (int64_t)n) {
        s->dx_sum += dx;
    } else if (s->count == 2 * (int64_t)n) {
        s->dx_sum += dx;
        s->adx = s->dx_sum / n;
    } else {
        s->adx = wilder(s->adx, dx, n);
    }
    return s->adx;
}

double tt_adx_value(const tt_adx *s) { return s->adx; }
double tt_adx_plus_di(const tt_adx *s) { return s->pdi; }
double tt_adx_minus_di(const tt_adx *s) { return s->mdi; }
int tt_adx_ready(const tt_adx *s) { return s->n && s->count >= 2 * (int64_t)s->n; }
void tt_adx_free(tt_adx *s) { (void)s; }

/* ---- Donchian ---- */

int tt_donchian_init(tt_donchian *s, int n, tt_err *err)
{
    memset(s, 0, sizeof *s);
    int rc;
    if ((rc = rollext_init(&s->hh, n, 1, "Donchian", err)) ||
        (rc = rollext_init(&s->ll, n, 0, "Donchian", err))) {
        tt_donchian_free(s);
        return rc;
    }
    return TT_OK;
}

double tt_donchian_update(tt_donchian *s, double high, double low)
{
    rollext_push(&s->hh, high);
    rollext_push(&s->ll, low);
    return tt_donchian_middle(s);
}

double tt_donchian_upper(const tt_donchian *s)
{
    return tt_donchian_ready(s) ? rollext_value(&s->hh) : NAN;
}
double tt_donchian_lower(const tt_donchian *s)
{
    return tt_donchian_ready(s) ? rollext_value(&s->ll) : NAN;
}
double tt_donchian_middle(const tt_donchian *s)
{
    return (tt_donchian_upper(s) + tt_donchian_lower(s)) / 2;
}
int tt_donchian_ready(const tt_donchian *s) { return rollext_ready(&s->hh); }

void tt_donchian_free(tt_donchian *s)
{
    rollext_free(&s->hh);
    rollext_free(&s->ll);
}

/* ---- VWAP ---- */

int tt_vwap_init(tt_vwap *s, int anchor_tf, tt_err *err)
{
    memset(s, 0, sizeof *s);
    s->value = NAN;
    if (anchor_tf < TT_TF_NONE || anchor_tf >= TT_TF_COUNT)
        return tt_err_set(err, TT_EINVAL, "VWAP: unknown anchor timeframe %d", anchor_tf);
    s->anchor = anchor_tf;
    s->period_close = TT_TS_MIN;
    return TT_OK;
}

double tt_vwap_update(tt_vwap *s, tt_ts ts, double price, double volume)
{
    if (s->anchor != TT_TF_NONE && ts >= s->period_close) {
        tt_ts open;
        tt_bar_period(s->anchor, ts, &open, &s->period_close);
        s->pv = s->pv_c = s->vol = s->vol_c = 0;
    }
    nsum a = {s->pv, s->pv_c}, b = {s->vol, s->vol_c};
    nsum_add(&a, price * volume);
    nsum_add(&b, volume);
    s->pv = a.s;
    s->pv_c = a.c;
    s->vol = b.s;
    s->vol_c = b.c;
    double v = nsum_get(&b);
    s->value = v > 0 ? nsum_get(&a) / v : NAN;
    return s->value;
}

double tt_vwap_value(const tt_vwap *s) { return s->value; }
int tt_vwap_ready(const tt_vwap *s) { return !isnan(s->value); }
void tt_vwap_free(tt_vwap *s) { (void)s; }
