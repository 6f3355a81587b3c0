/*
 * Synthetic market generator (see synth.h for the models and keys).
 *
 * State: for every symbol, the latent log mid price x = ln(mid in points)
 * (plus the Heston variance, the current regime, the time left to the next
 * jump or regime switch), and the time of its next tick. Each step takes the
 * symbol whose next tick is earliest (ties: the lower symbol index), advances
 * the latent state to that instant, writes a quote and draws that symbol's
 * following arrival. So ticks come out in time order, lazily, in constant
 * memory, and the latent process runs in calendar time whether or not ticks
 * are observed (the weekend's move is a gap at the Sunday open).
 *
 * Arrivals: a non-homogeneous Poisson process per symbol, sampled by time
 * change: draw E ~ Exp(1) and walk hour by hour, spending rate * length of
 * each hour, until E is used up. The hourly rate is piecewise constant, so
 * this is exact. Closed hours have rate 0.
 *
 * Independence: with no correlation, a symbol advances only at its own ticks
 * and draws only from its own streams ("synth/clock/EURUSD",
 * "synth/price/EURUSD", ...), so adding a symbol leaves the others' ticks bit
 * for bit unchanged. With a correlation matrix, every tick advances all
 * symbols together with correlated shocks w = L z (z from each symbol's own
 * price stream), which ties the symbols of one market together by design.
 *
 * Exactness of the steps: GBM, Merton's diffusion part and OU are sampled from
 * their exact transition laws over any interval; Merton's jumps and the regime
 * switches are exponential countdowns in calendar time, so they land where
 * they fall, not on tick boundaries (the regime model integrates drift and
 * variance piecewise over the interval and uses one normal, which is exact).
 * Heston has no exact cheap step: full-truncation Euler, with long intervals
 * (gaps, weekends) cut into steps of at most five minutes.
 *
 * Same bits on every machine: only + - * /, sqrt and the deterministic
 * tt_det_exp / tt_det_log (sim/random.h), never libm's exp or log, whose
 * last bit depends on the CPU glibc detects.
 */
#include "synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcg.h"
#include "random.h"

#define NS_PER_YEAR (365.25 * 86400.0 * 1e9)
#define HESTON_MAX_STEP (5 * TT_NS_PER_MIN)
#define SRC_BATCH 256

int tt_synth__cholesky(const tt_synth_config *cfg, double *L, tt_err *err);

typedef struct sym {
    const tt_instrument *ins;
    uint32_t id;
    double x;            /* ln(mid in points) */
    double v;            /* Heston variance */
    double ou_level;     /* OU: ln(theta in points) */
    int regime;
    double regime_left;  /* ns until the next regime switch */
    double jump_left;    /* ns until the next jump */
    tt_ts last;          /* the time x was advanced to (uncorrelated mode) */
    tt_ts next;          /* the next tick, exact ns; TT_TS_MAX when none */
    tt_ts seg_end;       /* arrival segment cache: end of the current hour */
    double seg_rate;     /* arrivals per ns in the current hour */
    double seg_inv;      /* 1 / seg_rate (0 when closed) */
    double spread_base;  /* points */
    tt_pcg64 g_clock, g_price, g_jump, g_var, g_regime, g_vol;
} sym;

struct tt_synth {
    tt_synth_config cfg;
    const tt_instruments *instruments;
    tt_random_tables tabs;
    int n;
    int joint; /* correlated: all symbols advance together */
    double L[TT_SYNTH_MAX_SYMBOLS * TT_SYNTH_MAX_SYMBOLS];
    sym s[TT_SYNTH_MAX_SYMBOLS];
    double season[24]; /* arrivals per ns for each UTC hour while open */
    /* model constants, per ns */
    double drift_ns, vol_ns;      /* gbm, merton: x drift and sigma / sqrt(ns) */
    double lambda_ns;             /* merton: jumps per ns */
    double base_vol;              /* volatility at which the spread is its base */
    tt_ts now;                    /* joint mode: the time every x is at */
    tt_ts day0;                   /* start of the UTC day of the last tick (ticks are in order) */
    tt_ts rollover_lo, rollover_hi; /* that day's rollover window (ns from day0) */
    tt_ts rollover_half;          /* half-width of the window */
    uint64_t seq;
    /* as an engine source */
    tt_event buf[SRC_BATCH];
    size_t buf_n, buf_pos;
};

/* A typical start level, so a default market looks like its symbol. */
static double default_price(const tt_instrument *ins)
{
    static const struct { const char *s; double p; } T[] = {
        {"EURUSD", 1.10},  {"GBPUSD", 1.27},  {"USDJPY", 145.0}, {"USDCHF", 0.88},
        {"AUDUSD", 0.66},  {"USDCAD", 1.35},  {"NZDUSD", 0.61},  {"EURGBP", 0.86},
        {"EURJPY", 160.0}, {"GBPJPY", 185.0}, {"EURCHF", 0.95},  {"XAUUSD", 2000.0},
        {"XAGUSD", 23.0},  {"BTCUSD", 40000.0}};
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++)
        if (!strcmp(ins->symbol, T[i].s))
            return T[i].p;
    if (!strcmp(ins->quote, "JPY"))
        return 100.0;
    return 1.0;
}

/* Relative intensity of ticks per UTC hour: Asia quiet, London busy, the
 * London-New York overlap busiest, thin around the rollover. Normalized at
 * open to mean 1 over the day. */
static const double SEASON[24] = {
    0.50, 0.50, 0.55, 0.55, 0.50, 0.50, 0.70, 1.40, 1.60, 1.50, 1.40, 1.30,
    1.70, 2.20, 2.20, 2.00, 1.60, 1.10, 0.90, 0.80, 0.70, 0.50, 0.30, 0.40};

static inline tt_ts floor_div(tt_ts a, tt_ts b)
{
    tt_ts q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Weekday of a day number (days since 1970-01-01, a Thursday); 0 = Sunday. */
static int weekday_of(tt_ts day) { return (int)(((day + 4) % 7 + 7) % 7); }

/* US daylight saving time (rules since 2007: from the second Sunday of March
 * to the first Sunday of November) for a UTC day. The rollover is 17:00 New
 * York, so what matters is the clock late in the day: the switches happen at
 * 02:00 local, before it, on the switching Sundays. */
static int us_dst(tt_ts day)
{
    int y, mo, d, h, mi, sec;
    int64_t ns;
    tt_ts_to_civil(day * TT_NS_PER_DAY, &y, &mo, &d, &h, &mi, &sec, &ns);
    if (mo < 3 || mo > 11)
        return 0;
    if (mo > 3 && mo < 11)
        return 1;
    tt_ts first = tt_ts_from_civil(y, mo, 1, 0, 0, 0, 0) / TT_NS_PER_DAY;
    int first_sunday = 1 + (7 - weekday_of(first)) % 7;
    if (mo == 3)
        return d >= first_sunday + 7;
    return d < first_sunday;
}

/* The UTC hour of the daily rollover on a day: 17:00 New York (22:00 UTC, or
 * 21:00 under US DST), or 22:00 UTC all year with rollover_tz=utc. */
static int rollover_hour(const tt_synth *S, tt_ts day)
{
    return S->cfg.rollover_utc ? 22 : (us_dst(day) ? 21 : 22);
}

/* Closed from Friday's rollover to Sunday's. */
static int is_closed(const tt_synth *S, tt_ts t)
{
    if (!S->cfg.weekend_closed)
        return 0;
    tt_ts day = floor_div(t, TT_NS_PER_DAY);
    int wd = weekday_of(day);
    if (wd != 5 && wd != 6 && wd != 0)
        return 0;
    int hour = (int)((t - day * TT_NS_PER_DAY) / TT_NS_PER_HOUR);
    return (wd == 5 && hour >= rollover_hour(S, day)) || wd == 6 ||
           (wd == 0 && hour < rollover_hour(S, day));
}

/* Move the day cache to the day holding t (ticks come in time order). */
static void set_day(tt_synth *S, tt_ts t)
{
    tt_ts day = floor_div(t, TT_NS_PER_DAY);
    S->day0 = day * TT_NS_PER_DAY;
    tt_ts roll = rollover_hour(S, day) * TT_NS_PER_HOUR;
    S->rollover_lo = roll - S->rollover_half;
    S->rollover_hi = roll + S->rollover_half;
}

/* Fill the arrival segment cache for time t: rate of the hour holding t, and its end. */
static void set_segment(const tt_synth *S, sym *s, tt_ts t)
{
    tt_ts hour_start = floor_div(t, TT_NS_PER_HOUR) * TT_NS_PER_HOUR;
    s->seg_end = hour_start + TT_NS_PER_HOUR;
    if (s->seg_end > S->cfg.to)
        s->seg_end = S->cfg.to;
    if (is_closed(S, t)) {
        s->seg_rate = 0.0;
        s->seg_inv = 0.0;
    } else {
        int h = (int)((hour_start - floor_div(t, TT_NS_PER_DAY) * TT_NS_PER_DAY) / TT_NS_PER_HOUR);
        s->seg_rate = S->season[h];
        s->seg_inv = 1.0 / s->seg_rate;
    }
}

/* The first arrival strictly after t (or at t when the exponential rounds to
 * under a nanosecond), or TT_TS_MAX when none falls before cfg.to. */
static tt_ts next_arrival(tt_synth *S, sym *s, tt_ts t)
{
    double e = tt_random_exponential(&s->g_clock, &S->tabs);
    for (;;) {
        if (t >= s->seg_end)
            set_segment(S, s, t);
        if (s->seg_rate > 0.0) {
            double dt = e * s->seg_inv;
            double room = (double)(s->seg_end - t);
            if (dt < room)
                return t + (tt_ts)dt;
            e -= room * s->seg_rate;
        }
        t = s->seg_end;
        if (t >= S->cfg.to)
            return TT_TS_MAX;
    }
}

static double regime_wait(tt_synth *S, sym *s)
{
    double rate = S->cfg.regime_rate[s->regime] / NS_PER_YEAR;
    if (S->cfg.nregimes < 2 || !(rate > 0.0))
        return INFINITY;
    return tt_random_exponential(&s->g_regime, &S->tabs) / rate;
}

/* Advance one symbol's latent state by dtn nanoseconds with the standard
 * normal shock w (already correlated with the other symbols' when joint). */
static void step(tt_synth *S, sym *s, double dtn, double w)
{
    const tt_synth_config *c = &S->cfg;
    switch (c->model) {
    case TT_SYNTH_GBM:
        s->x += S->drift_ns * dtn + S->vol_ns * sqrt(dtn) * w;
        break;
    case TT_SYNTH_MERTON:
        s->x += S->drift_ns * dtn + S->vol_ns * sqrt(dtn) * w;
        s->jump_left -= dtn;
        while (s->jump_left <= 0.0) {
            s->x += c->jump_mean + c->jump_sigma * tt_random_normal(&s->g_jump, &S->tabs);
            s->jump_left += tt_random_exponential(&s->g_jump, &S->tabs) / S->lambda_ns;
        }
        break;
    case TT_SYNTH_HESTON: {
        double dt = dtn / NS_PER_YEAR;
        double vp = s->v > 0.0 ? s->v : 0.0;
        double sq = sqrt(vp * dt);
        double z2 = tt_random_normal(&s->g_var, &S->tabs);
        s->x += (c->mu - 0.5 * vp) * dt + sq * w;
        s->v += c->kappa * (c->theta - vp) * dt +
                c->xi * sq * (c->rho * w + sqrt(1.0 - c->rho * c->rho) * z2);
        break;
    }
    case TT_SYNTH_REGIME: {
        /* Piecewise-constant (mu, sigma) over the interval: the log return is
         * normal with the summed drift and variance, so one shock suffices. */
        double drift = 0.0, var = 0.0, rem = dtn;
        while (s->regime_left <= rem) {
            double m = c->regime_mu[s->regime], sg = c->regime_sigma[s->regime];
            drift += (m - 0.5 * sg * sg) * s->regime_left;
            var += sg * sg * s->regime_left;
            rem -= s->regime_left;
            int k = (int)tt_pcg64_bounded(&s->g_regime, (uint64_t)(c->nregimes - 1));
            s->regime = (s->regime + 1 + k) % c->nregimes;
            s->regime_left = regime_wait(S, s);
        }
        double m = c->regime_mu[s->regime], sg = c->regime_sigma[s->regime];
        drift += (m - 0.5 * sg * sg) * rem;
        var += sg * sg * rem;
        s->regime_left -= rem;
        s->x += drift / NS_PER_YEAR + sqrt(var / NS_PER_YEAR) * w;
        break;
    }
    case TT_SYNTH_OU: {
        double kdt = c->kappa * dtn / NS_PER_YEAR;
        double a = tt_det_exp(-kdt);
        double sd = c->sigma * sqrt(-tt_det_expm1(-2.0 * kdt) / (2.0 * c->kappa));
        s->x = s->ou_level + (s->x - s->ou_level) * a + sd * w;
        break;
    }
    default:
        break;
    }
}

/* Bring the latent state to time t for a tick of symbol k. */
static void advance(tt_synth *S, int k, tt_ts t)
{
    int heston = S->cfg.model == TT_SYNTH_HESTON;
    if (!S->joint) {
        sym *s = &S->s[k];
        while (s->last < t) {
            tt_ts end = heston && t - s->last > HESTON_MAX_STEP ? s->last + HESTON_MAX_STEP : t;
            step(S, s, (double)(end - s->last), tt_random_normal(&s->g_price, &S->tabs));
            s->last = end;
        }
        return;
    }
    int n = S->n;
    while (S->now < t) {
        tt_ts end = heston && t - S->now > HESTON_MAX_STEP ? S->now + HESTON_MAX_STEP : t;
        double z[TT_SYNTH_MAX_SYMBOLS];
        for (int i = 0; i < n; i++)
            z[i] = tt_random_normal(&S->s[i].g_price, &S->tabs);
        for (int i = 0; i < n; i++) {
            double w = 0.0;
            for (int j = 0; j <= i; j++)
                w += S->L[i * n + j] * z[j];
            step(S, &S->s[i], (double)(end - S->now), w);
        }
        S->now = end;
    }
}

static void write_quote(tt_synth *S, sym *s, tt_ts t, tt_event *e)
{
    const tt_synth_config *c = &S->cfg;
    double x = s->x;
    /* keep absurd parameter sets defined: e^-40 .. e^40 points (NaN -> the top) */
    if (!(x <= 40.0))
        x = 40.0;
    if (x < -40.0)
        x = -40.0;
    double mid = tt_det_exp(x);
    double spread = s->spread_base;
    if (c->spread_vol > 0.0 && S->base_vol > 0.0 &&
        (c->model == TT_SYNTH_HESTON || c->model == TT_SYNTH_REGIME)) {
        double vol = c->model == TT_SYNTH_HESTON ? sqrt(s->v > 0.0 ? s->v : 0.0)
                                                  : c->regime_sigma[s->regime];
        double f = 1.0 + c->spread_vol * (vol / S->base_vol - 1.0);
        spread *= f > 0.25 ? f : 0.25; /* NaN (a runaway Heston variance) -> 0.25 */
    }
    if (t - S->day0 >= TT_NS_PER_DAY)
        set_day(S, t);
    tt_ts tod = t - S->day0;
    if (tod >= S->rollover_lo && tod < S->rollover_hi)
        spread *= c->rollover_spread;
    double sp = floor(spread + 0.5);
    if (sp < 1.0 && c->spread_pips > 0.0)
        sp = 1.0;
    if (sp > 1e15) /* a runaway variance: keep bid + spread inside int64 (mid <= e^40) */
        sp = 1e15;
    tt_price bid = (tt_price)floor(mid - 0.5 * sp + 0.5);
    if (bid < 1)
        bid = 1;
    uint64_t b = tt_pcg64_next(&s->g_vol);
    /* constant divisors for the usual resolutions (a multiply, not a divide);
     * a day is a whole number of each, so flooring within the day is flooring */
    tt_ts ts;
    switch (c->resolution_ns) {
    case 1: ts = t; break;
    case TT_NS_PER_US: ts = t - tod % TT_NS_PER_US; break;
    case TT_NS_PER_MS: ts = t - tod % TT_NS_PER_MS; break;
    case TT_NS_PER_SEC: ts = t - tod % TT_NS_PER_SEC; break;
    default: ts = floor_div(t, c->resolution_ns) * c->resolution_ns; break;
    }
    memset(e, 0, sizeof *e);
    e->ts = ts;
    e->ts_init = ts;
    e->seq = ++S->seq;
    e->symbol = s->id;
    e->source = c->source_id;
    e->kind = TT_EV_QUOTE;
    e->cls = TT_CLS_MARKET;
    e->u.quote.bid = bid;
    e->u.quote.ask = bid + (tt_price)sp;
    /* volumes in millions, quarter steps 0.25 .. 4 (exact in float) */
    e->u.quote.bid_vol = (float)(0.25 * (double)(1 + (b & 15)));
    e->u.quote.ask_vol = (float)(0.25 * (double)(1 + ((b >> 4) & 15)));
}

size_t tt_synth_generate(tt_synth *S, tt_event *buf, size_t cap)
{
    size_t n = 0;
    while (n < cap) {
        int k = 0;
        tt_ts t = S->s[0].next;
        for (int i = 1; i < S->n; i++)
            if (S->s[i].next < t) {
                t = S->s[i].next;
                k = i;
            }
        if (t >= S->cfg.to)
            break;
        advance(S, k, t);
        write_quote(S, &S->s[k], t, &buf[n++]);
        S->s[k].next = next_arrival(S, &S->s[k], t);
    }
    return n;
}

static void stream_name(char *buf, size_t size, const char *what, const char *symbol)
{
    snprintf(buf, size, "synth/%s/%s", what, symbol);
}

int tt_synth_open(tt_synth **out, const tt_synth_config *cfg, const tt_instruments *instruments,
                  tt_err *err)
{
    *out = NULL;
    int rc = tt_synth_config_check(cfg, err);
    if (rc)
        return rc;
    tt_synth *S = calloc(1, sizeof *S);
    if (!S)
        return tt_err_set(err, TT_ENOMEM, "synthetic: out of memory");
    S->cfg = *cfg;
    tt_synth_config *c = &S->cfg;
    S->instruments = instruments;
    S->n = c->nsymbols;
    if ((rc = tt_synth__cholesky(c, S->L, err))) {
        free(S);
        return rc;
    }
    S->joint = c->has_corr && S->n > 1;
    tt_random_tables_init(&S->tabs);

    /* model constants; defaults that depend on the model */
    if (c->model == TT_SYNTH_HESTON) {
        if (!c->theta_set)
            c->theta = c->sigma * c->sigma;
        if (!c->v0_set)
            c->v0 = c->theta;
        S->base_vol = sqrt(c->theta);
    } else if (c->model == TT_SYNTH_REGIME) {
        S->base_vol = c->regime_sigma[0];
    } else {
        S->base_vol = c->sigma;
    }
    double jump_comp = 0.0;
    if (c->model == TT_SYNTH_MERTON) {
        jump_comp = c->lambda * tt_det_expm1(c->jump_mean + 0.5 * c->jump_sigma * c->jump_sigma);
        S->lambda_ns = c->lambda / NS_PER_YEAR;
    }
    S->drift_ns = (c->mu - 0.5 * c->sigma * c->sigma - jump_comp) / NS_PER_YEAR;
    S->vol_ns = c->sigma / sqrt(NS_PER_YEAR);

    double mean = 0.0;
    for (int h = 0; h < 24; h++)
        mean += SEASON[h];
    mean /= 24.0;
    for (int h = 0; h < 24; h++)
        S->season[h] = c->tick_rate * (c->seasonality ? SEASON[h] / mean : 1.0) / 1e9;
    tt_ts rw = (tt_ts)(c->rollover_minutes * 60.0 * 1e9);
    S->rollover_half = rw;
    S->now = c->from;
    set_day(S, c->from);

    for (int i = 0; i < S->n; i++) {
        sym *s = &S->s[i];
        const tt_instrument *ins;
        if ((rc = tt_instruments_require(instruments, c->symbols[i], &ins, err))) {
            tt_err_prefix(err, "synthetic: symbols: ");
            free(S);
            return rc;
        }
        s->ins = ins;
        s->id = ins->id;
        char name[64];
        const char *sy = ins->symbol;
        stream_name(name, sizeof name, "clock", sy);
        s->g_clock = tt_rng_derive(c->seed, name);
        stream_name(name, sizeof name, "price", sy);
        s->g_price = tt_rng_derive(c->seed, name);
        stream_name(name, sizeof name, "jump", sy);
        s->g_jump = tt_rng_derive(c->seed, name);
        stream_name(name, sizeof name, "var", sy);
        s->g_var = tt_rng_derive(c->seed, name);
        stream_name(name, sizeof name, "regime", sy);
        s->g_regime = tt_rng_derive(c->seed, name);
        stream_name(name, sizeof name, "volume", sy);
        s->g_vol = tt_rng_derive(c->seed, name);

        double p0 = c->nprice == 0 ? default_price(ins) : c->price[c->nprice == 1 ? 0 : i];
        s->x = tt_det_log(p0 * (double)ins->points);
        s->v = c->v0;
        double level = c->model == TT_SYNTH_OU && c->theta_set ? c->theta : p0;
        s->ou_level = tt_det_log(level * (double)ins->points);
        s->regime = 0;
        s->regime_left = c->model == TT_SYNTH_REGIME ? regime_wait(S, s) : INFINITY;
        s->jump_left = c->model == TT_SYNTH_MERTON && S->lambda_ns > 0.0
                           ? tt_random_exponential(&s->g_jump, &S->tabs) / S->lambda_ns
                           : INFINITY;
        s->spread_base = c->spread_pips * (double)ins->pip;
        s->last = c->from;
        s->seg_end = c->from; /* forces set_segment on the first arrival */
        s->next = next_arrival(S, s, c->from);
    }
    *out = S;
    return TT_OK;
}

uint64_t tt_synth_count(const tt_synth *s) { return s->seq; }

double tt_synth_mid(const tt_synth *s, int i)
{
    if (i < 0 || i >= s->n)
        return 0.0;
    return tt_det_exp(s->s[i].x) / (double)s->s[i].ins->points;
}

double tt_synth_variance(const tt_synth *s, int i)
{
    if (i < 0 || i >= s->n)
        return 0.0;
    switch (s->cfg.model) {
    case TT_SYNTH_HESTON:
        return s->s[i].v;
    case TT_SYNTH_REGIME:
        return s->cfg.regime_sigma[s->s[i].regime] * s->cfg.regime_sigma[s->s[i].regime];
    default:
        return s->cfg.sigma * s->cfg.sigma;
    }
}

int tt_synth_regime(const tt_synth *s, int i)
{
    return i < 0 || i >= s->n ? 0 : s->s[i].regime;
}

const tt_instrument *tt_synth_instrument(const tt_synth *s, int i)
{
    return i < 0 || i >= s->n ? NULL : s->s[i].ins;
}

void tt_synth_close(tt_synth *s) { free(s); }

/* ---- engine source ---- */

static int source_next(void *self, tt_event *ev, tt_err *err)
{
    (void)err;
    tt_synth *S = self;
    if (S->buf_pos == S->buf_n) {
        S->buf_n = tt_synth_generate(S, S->buf, SRC_BATCH);
        S->buf_pos = 0;
        if (S->buf_n == 0)
            return TT_SRC_END;
    }
    *ev = S->buf[S->buf_pos++];
    return TT_SRC_EVENT;
}

/* The batch port: what next() has buffered first, then straight into the
 * engine's buffer (no copy through ours). */
static int source_next_batch(void *self, tt_event *buf, int cap, int *count, tt_err *err)
{
    (void)err;
    tt_synth *S = self;
    size_t k = 0, want = cap > 0 ? (size_t)cap : 0;
    while (S->buf_pos < S->buf_n && k < want)
        buf[k++] = S->buf[S->buf_pos++];
    if (k < want)
        k += tt_synth_generate(S, buf + k, want - k);
    *count = (int)k;
    return k ? TT_SRC_EVENT : TT_SRC_END;
}

static void source_close(void *self) { tt_synth_close(self); }

int tt_synth_source_open(const tt_synth_config *cfg, const tt_instruments *instruments,
                         tt_source *out, void **handle, tt_err *err)
{
    tt_synth *S;
    int rc = tt_synth_open(&S, cfg, instruments, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out); /* optional ports (e.g. a batch path) stay NULL */
    out->self = S;
    out->next = source_next;
    out->next_batch = source_next_batch;
    out->close = source_close;
    if (handle)
        *handle = S;
    return TT_OK;
}

void tt_synth_source_close(void *handle) { tt_synth_close(handle); }
