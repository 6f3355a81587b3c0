/*
 * Synthetic markets, statistically: for each model, estimate the parameters
 * back from a long generated sample and check them inside confidence bounds.
 *
 * The estimators are the textbook ones, written here independently of the
 * generator: GBM by maximum likelihood on irregularly spaced log returns
 * (r_i ~ N(m dt_i, sigma^2 dt_i)); jumps by thresholding returns far beyond
 * the diffusion's scale; Heston and OU by AR(1) regressions on the sampled
 * state; correlation by the sample correlation of simultaneous increments.
 * Samples are read from the latent mid (tt_synth_mid), which the quotes round
 * to the instrument's point; the quotes themselves are checked in test_synth.
 *
 * Seeds are fixed, so the tests are deterministic and cannot flake. Bounds are
 * about 4 standard errors of each estimator (the standard error is written
 * next to each check), which is tight enough to catch a parameter off by 10%
 * where the sample allows it (sigma, lambda, kappa, correlation, theta), and
 * the KS test of standardized GBM returns rejects a Merton sample.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/synth.h"

#define NS_PER_YEAR (365.25 * 86400.0 * 1e9)

static tt_instruments *g_ins;

/* Open a generator from "key", "value", ..., NULL. */
static tt_synth *open_synth(const char *first, ...)
{
    tt_synth_config c;
    tt_synth_config_init(&c);
    tt_err err;
    va_list ap;
    va_start(ap, first);
    for (const char *k = first; k; k = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        if (tt_synth_config_set(&c, k, v, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            fail();
        }
    }
    va_end(ap);
    tt_synth *s;
    if (tt_synth_open(&s, &c, g_ins, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        fail();
    }
    return s;
}

/* One tick; returns 0 at the end. */
static int tick(tt_synth *s, tt_event *ev) { return tt_synth_generate(s, ev, 1) == 1; }

/* ---- GBM: drift and volatility by MLE; KS of standardized returns ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double ks_normal(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    double d = 0;
    for (size_t i = 0; i < n; i++) {
        double f = 0.5 * erfc(-v[i] / sqrt(2.0));
        double lo = f - (double)i / (double)n, hi = (double)(i + 1) / (double)n - f;
        d = fmax(d, fmax(lo, hi));
    }
    return d;
}

typedef struct gbm_fit {
    double mu, sigma, years;
    size_t n;
    double ks; /* KS statistic of returns standardized with the true parameters */
} gbm_fit;

static void fit_gbm(tt_synth *s, double mu_true, double sigma_true, gbm_fit *out)
{
    size_t cap = 1 << 20, n = 0;
    double *r = malloc(cap * sizeof *r), *dt = malloc(cap * sizeof *dt);
    assert_non_null(r);
    assert_non_null(dt);
    tt_event ev;
    assert_true(tick(s, &ev));
    double x0 = log(tt_synth_mid(s, 0));
    tt_ts t0 = ev.ts;
    while (tick(s, &ev)) {
        double x1 = log(tt_synth_mid(s, 0));
        if (n == cap) {
            cap *= 2;
            r = realloc(r, cap * sizeof *r);
            dt = realloc(dt, cap * sizeof *dt);
            assert_non_null(r);
            assert_non_null(dt);
        }
        r[n] = x1 - x0;
        dt[n] = (double)(ev.ts - t0) / NS_PER_YEAR;
        if (dt[n] > 0)
            n++;
        x0 = x1;
        t0 = ev.ts;
    }
    /* MLE: m = sum r / sum dt; sigma^2 = mean of (r - m dt)^2 / dt */
    double sr = 0, sdt = 0;
    for (size_t i = 0; i < n; i++) {
        sr += r[i];
        sdt += dt[i];
    }
    double m = sr / sdt, s2 = 0;
    for (size_t i = 0; i < n; i++)
        s2 += (r[i] - m * dt[i]) * (r[i] - m * dt[i]) / dt[i];
    s2 /= (double)n;
    out->sigma = sqrt(s2);
    out->mu = m + 0.5 * s2;
    out->years = sdt;
    out->n = n;
    double mt = mu_true - 0.5 * sigma_true * sigma_true;
    for (size_t i = 0; i < n; i++)
        r[i] = (r[i] - mt * dt[i]) / (sigma_true * sqrt(dt[i]));
    out->ks = ks_normal(r, n);
    free(r);
    free(dt);
}

static void test_gbm_estimates(void **state)
{
    (void)state;
    /* 250 years (the latent process is exact over any interval, so a sparse
     * sample of a long span is as good as a dense one), one tick per 4 hours
     * on average: about 550k returns. ts resolution ns keeps dt exact.
     * SE(sigma) = sigma / sqrt(2n) = 0.05 * 0.00096 = 4.8e-5;
     * SE(mu) = sigma / sqrt(T) = 0.05 / 15.8 = 0.0032. */
    tt_synth *s = open_synth("mu", "0.2", "sigma", "0.05", "from", "2000-01-01", "to",
                             "2250-01-01", "tick_rate", "6.944444e-5", "weekend", "open",
                             "seasonality", "off", "resolution", "ns", "price", "1000", NULL);
    gbm_fit f;
    fit_gbm(s, 0.2, 0.05, &f);
    tt_synth_close(s);
    printf("gbm: n=%zu years=%.1f mu=%.5f sigma=%.6f ks=%.5f\n", f.n, f.years, f.mu, f.sigma,
           f.ks);
    assert_true(f.n > 500000);
    assert_true(fabs(f.sigma - 0.05) < 4 * 4.8e-5);
    assert_true(fabs(f.mu - 0.2) < 4 * 0.0032);
    /* KS at alpha = 0.001: 1.95 / sqrt(n) */
    assert_true(f.ks < 1.95 / sqrt((double)f.n));
}

static void test_gbm_calendar_time_with_weekends(void **state)
{
    (void)state;
    /* With the default microstructure (seasonality, weekend closed) sigma is
     * still per calendar year: the weekend's variance arrives as the Sunday
     * gap. 20 years at 1 tick per 10 min: n ~ 750k, SE(sigma) = 0.08 * 0.0008. */
    tt_synth *s = open_synth("sigma", "0.08", "from", "2000-01-01", "to", "2020-01-01",
                             "tick_rate", "0.0016667", "resolution", "ns", "price", "1000",
                             NULL);
    gbm_fit f;
    fit_gbm(s, 0.0, 0.08, &f);
    tt_synth_close(s);
    printf("gbm weekends: n=%zu sigma=%.6f ks=%.5f\n", f.n, f.sigma, f.ks);
    assert_true(fabs(f.sigma - 0.08) < 4 * 0.08 * 0.0008);
    assert_true(f.ks < 1.95 / sqrt((double)f.n));
}

static void test_ks_rejects_jumps(void **state)
{
    (void)state;
    /* The same KS test on a Merton sample (jumps 24 a year of 1% +- 1%) fails:
     * the test has power. */
    tt_synth *s = open_synth("model", "merton", "sigma", "0.05", "lambda", "24", "jump_mean",
                             "0.01", "jump_sigma", "0.01", "from", "2000-01-01", "to",
                             "2050-01-01", "tick_rate", "6.944444e-5", "weekend", "open",
                             "seasonality", "off", "resolution", "ns", "price", "1000", NULL);
    gbm_fit f;
    fit_gbm(s, 0.0, 0.05, &f);
    tt_synth_close(s);
    printf("merton as gbm: ks=%.5f (critical %.5f)\n", f.ks, 1.95 / sqrt((double)f.n));
    assert_true(f.ks > 3 * 1.95 / sqrt((double)f.n));
}

/* ---- Merton: jump intensity, jump size, diffusion, compensated drift ---- */

static void test_merton_estimates(void **state)
{
    (void)state;
    /* Hourly samples over 200 years; diffusive hourly sd = 0.05 / sqrt(8766)
     * = 5.3e-4; jumps N(0.05, 0.01^2) are > 30 times that, so a return beyond
     * 0.02 is a jump (two jumps in an hour: p = lambda/8766 = 0.2%, rare).
     * Expected jumps 4000: SE(lambda) = sqrt(20/200) = 0.32, 1.6%. */
    tt_synth *s = open_synth("model", "merton", "mu", "0", "sigma", "0.05", "lambda", "20",
                             "jump_mean", "0.05", "jump_sigma", "0.01", "from", "2000-01-01",
                             "to", "2200-01-01", "tick_rate", "2.7778e-4", "weekend", "open",
                             "seasonality", "off", "resolution", "ns", "price", "1000", NULL);
    tt_event ev;
    assert_true(tick(s, &ev));
    double x0 = log(tt_synth_mid(s, 0));
    tt_ts t0 = ev.ts;
    double jumps = 0, nj = 0, js = 0, js2 = 0, d2 = 0, dr = 0, ddt = 0, dn = 0, years = 0;
    while (tick(s, &ev)) {
        double x1 = log(tt_synth_mid(s, 0));
        double r = x1 - x0, dt = (double)(ev.ts - t0) / NS_PER_YEAR;
        years += dt;
        if (r > 0.08) {
            jumps += 2; /* two jumps in one interval (about 0.2% of them) */
        } else if (r > 0.02) {
            jumps++;
            nj++;
            js += r;
            js2 += r * r;
        } else if (dt > 0) {
            d2 += r * r / dt;
            dr += r;
            ddt += dt;
            dn++;
        }
        x0 = x1;
        t0 = ev.ts;
    }
    tt_synth_close(s);
    double lam = jumps / years, jm = js / nj, jsd = sqrt(js2 / nj - jm * jm);
    /* MLE of the diffusion with its (compensated, here -1.03 a year) drift m:
     * mean of (r - m dt)^2 / dt */
    double m = dr / ddt;
    double sig = sqrt((d2 - 2 * m * dr + m * m * ddt) / dn);
    printf("merton: years=%.1f jumps=%.0f lambda=%.3f jump_mean=%.5f jump_sd=%.5f sigma=%.5f\n",
           years, jumps, lam, jm, jsd, sig);
    assert_true(fabs(lam - 20.0) < 4 * 0.32);
    /* SE(jump mean) = 0.01 / sqrt(4000) = 1.6e-4 (the diffusion adds 5e-4 sd per jump: negligible) */
    assert_true(fabs(jm - 0.05) < 4 * 1.7e-4);
    /* SE(jump sd) ~ 0.01 / sqrt(8000) = 1.1e-4; the hour's diffusion adds sqrt(0.01^2 + 2.8e-7) */
    assert_true(fabs(jsd - 0.01) < 4 * 1.2e-4 + 2e-5);
    /* diffusion sigma from the non-jump returns: n = 1.75M, SE = 0.05 * 0.00053 */
    assert_true(fabs(sig - 0.05) < 4 * 0.05 * 0.00053 + 1e-4);
}

/* ---- Heston: long-run variance, reversion speed, vol of vol, leverage ---- */

static void test_heston_estimates(void **state)
{
    (void)state;
    /* Hourly samples of (x, v) over 200 years. With kappa = 20 the variance
     * forgets in weeks, so 200 years hold ~4000 independent stretches.
     * Regress v(t+dt) on v(t): slope b = exp(-kappa dt), dt = 1 h on average,
     * intercept theta (1 - b). corr(dx, dv) -> rho; sum dv^2 / sum v dt -> xi^2. */
    tt_synth *s = open_synth("model", "heston", "mu", "0", "kappa", "20", "theta", "0.0064",
                             "xi", "0.3", "rho", "-0.6", "from", "2000-01-01", "to",
                             "2200-01-01", "tick_rate", "2.7778e-4", "weekend", "open",
                             "seasonality", "off", "resolution", "ns", "price", "1000", NULL);
    tt_event ev;
    assert_true(tick(s, &ev));
    double x0 = log(tt_synth_mid(s, 0)), v0 = tt_synth_variance(s, 0);
    tt_ts t0 = ev.ts;
    double n = 0, sv = 0, svdt = 0, sdv2 = 0, sdx = 0, sdv = 0, sdxdv = 0, sdx2 = 0;
    double T = 0;
    while (tick(s, &ev)) {
        double x1 = log(tt_synth_mid(s, 0)), v1 = tt_synth_variance(s, 0);
        double dt = (double)(ev.ts - t0) / NS_PER_YEAR;
        double dx = x1 - x0, dv = v1 - v0, vp = v0 > 0 ? v0 : 0;
        if (dt > 0 && vp > 0) {
            /* standardize by the local scale so each pair weighs equally */
            double a = dx / sqrt(vp * dt), b = dv / sqrt(vp * dt);
            sdx += a;
            sdv += b;
            sdxdv += a * b;
            sdx2 += a * a;
            sdv2 += b * b;
            n++;
        }
        sv += v0 * dt;
        svdt += vp * dt;
        T += dt;
        x0 = x1;
        v0 = v1;
        t0 = ev.ts;
    }
    tt_synth_close(s);
    double theta = sv / T; /* time average of v */
    double mx = sdx / n, mv = sdv / n;
    double rho = (sdxdv / n - mx * mv) / sqrt((sdx2 / n - mx * mx) * (sdv2 / n - mv * mv));
    double xi = sqrt(sdv2 / n - mv * mv);
    (void)svdt;
    printf("heston: n=%.0f theta=%.6f rho=%.4f xi=%.4f\n", n, theta, rho, xi);
    /* time average of v: var ~ xi^2 theta / kappa^2 / T = 0.09*0.0064/400/200: SE 8.5e-5 (1.3%) */
    assert_true(fabs(theta - 0.0064) < 4 * 8.5e-5);
    /* rho from 1.75M standardized pairs: SE ~ (1 - rho^2) / sqrt(n) = 5e-4; the
     * drift terms kappa (theta - v) dt add a small bias */
    assert_true(fabs(rho + 0.6) < 0.01);
    /* xi: the sd of dv / sqrt(v dt): SE ~ xi / sqrt(2n) = 1.6e-4, plus drift bias */
    assert_true(fabs(xi - 0.3) < 0.01);

    /* kappa: AR(1) on v sampled daily at fixed times (the first tick after
     * each midnight), 73k pairs. SE(b) ~ sqrt((1 - b^2) / n); kappa = -ln b / dt. */
    s = open_synth("model", "heston", "mu", "0", "kappa", "20", "theta", "0.0064", "xi", "0.3",
                   "rho", "-0.6", "from", "2000-01-01", "to", "2200-01-01", "tick_rate",
                   "1.1574e-5", "weekend", "open", "seasonality", "off", "resolution", "ns",
                   "price", "1000", NULL);
    double sxy = 0, sx = 0, sy = 0, sxx = 0, m = 0, sdt = 0;
    assert_true(tick(s, &ev));
    v0 = tt_synth_variance(s, 0);
    t0 = ev.ts;
    while (tick(s, &ev)) {
        double v1 = tt_synth_variance(s, 0);
        sx += v0;
        sy += v1;
        sxy += v0 * v1;
        sxx += v0 * v0;
        sdt += (double)(ev.ts - t0) / NS_PER_YEAR;
        m++;
        v0 = v1;
        t0 = ev.ts;
    }
    tt_synth_close(s);
    /* Sampling times are Poisson (mean 1 day), so E[b] = E[exp(-kappa dt)] =
     * 1 / (1 + kappa * mean dt) for exponential dt: kappa = (1/b - 1) / mean dt. */
    double b = (sxy / m - (sx / m) * (sy / m)) / (sxx / m - (sx / m) * (sx / m));
    double kappa = (1.0 / b - 1.0) / (sdt / m);
    printf("heston: pairs=%.0f b=%.5f kappa=%.3f\n", m, b, kappa);
    /* b = 0.948; SE(b) = sqrt(0.1/73000) = 1.2e-3 -> SE(kappa) ~ 365 * 1.2e-3 / b^2 = 0.48 (2.4%) */
    assert_true(fabs(kappa - 20.0) < 4 * 0.5);
}

/* ---- regime switching: per-regime volatility and switching rates ---- */

static void test_regime_estimates(void **state)
{
    (void)state;
    /* Two regimes, sigma 0.05 and 0.20, drifts 0.3 and -0.3, leaving rates 12
     * and 24 a year: the chain spends 2/3 of the time in regime 0. Hourly
     * samples over 100 years; returns are assigned to the regime seen at both
     * ends (an interval holding a switch is dropped). */
    tt_synth *s = open_synth("model", "regime", "regime_mu", "0.3,-0.3", "regime_sigma",
                             "0.05,0.20", "regime_rate", "12,24", "from", "2000-01-01", "to",
                             "2100-01-01", "tick_rate", "2.7778e-4", "weekend", "open",
                             "seasonality", "off", "resolution", "ns", "price", "1000", NULL);
    tt_event ev;
    assert_true(tick(s, &ev));
    double x0 = log(tt_synth_mid(s, 0));
    int g0 = tt_synth_regime(s, 0);
    tt_ts t0 = ev.ts;
    double time_in[2] = {0, 0}, r2[2] = {0, 0}, rs[2] = {0, 0}, dts[2] = {0, 0};
    double cnt[2] = {0, 0}, leaves[2] = {0, 0};
    while (tick(s, &ev)) {
        double x1 = log(tt_synth_mid(s, 0));
        int g1 = tt_synth_regime(s, 0);
        double dt = (double)(ev.ts - t0) / NS_PER_YEAR, r = x1 - x0;
        time_in[g0] += dt;
        if (g1 != g0) {
            leaves[g0]++;
        } else if (dt > 0) {
            rs[g0] += r;
            dts[g0] += dt;
            r2[g0] += r * r / dt;
            cnt[g0]++;
        }
        x0 = x1;
        g0 = g1;
        t0 = ev.ts;
    }
    tt_synth_close(s);
    double T = time_in[0] + time_in[1];
    const double want_sigma[2] = {0.05, 0.20}, want_mu[2] = {0.3, -0.3};
    for (int g = 0; g < 2; g++) {
        /* sigma^2 ~ mean of r^2 / dt (the drift's share, m^2 dt, is below 1e-4 of it) */
        double sig = sqrt(r2[g] / cnt[g]);
        double mu = rs[g] / dts[g] + 0.5 * sig * sig;
        double rate = leaves[g] / time_in[g];
        printf("regime %d: time=%.4f n=%.0f sigma=%.5f mu=%.4f rate=%.2f\n", g, time_in[g] / T,
               cnt[g], sig, mu, rate);
        /* SE(sigma) = sigma / sqrt(2n), n > 200k */
        assert_true(fabs(sig - want_sigma[g]) < 4 * want_sigma[g] / sqrt(2 * cnt[g]));
        /* SE(mu) = sigma / sqrt(time in regime) (67 and 33 years): 0.006 and 0.035 */
        assert_true(fabs(mu - want_mu[g]) < 4 * want_sigma[g] / sqrt(time_in[g]));
    }
    /* fraction of time in regime 0: 24 / 36 = 0.667; ~800 visits each: SE ~ 0.012 */
    assert_true(fabs(time_in[0] / T - 2.0 / 3.0) < 0.05);
    /* leaving rates: ~800 departures each: SE = rate / sqrt(800) = 3.5% */
    assert_true(fabs(leaves[0] / time_in[0] - 12.0) < 4 * 12.0 * 0.035);
    assert_true(fabs(leaves[1] / time_in[1] - 24.0) < 4 * 24.0 * 0.035);
}

/* ---- OU: reversion speed, level, volatility ---- */

static void test_ou_estimates(void **state)
{
    (void)state;
    /* kappa = 50 a year (half-life 5 days), level 1000, sigma 0.1; daily Poisson
     * samples over 200 years (73k). AR(1): x' = a + b x + e; with exponential
     * sampling gaps E[b] = 1 / (1 + kappa mean dt). The continuous-record SE of
     * kappa is sqrt(2 kappa / T) = 0.71 (1.4%). */
    tt_synth *s = open_synth("model", "ou", "kappa", "50", "theta", "1000", "sigma", "0.1",
                             "from", "2000-01-01", "to", "2200-01-01", "tick_rate", "1.1574e-5",
                             "weekend", "open", "seasonality", "off", "resolution", "ns", "price",
                             "900", NULL);
    tt_event ev;
    assert_true(tick(s, &ev));
    double x0 = log(tt_synth_mid(s, 0));
    tt_ts t0 = ev.ts;
    double m = 0, sx = 0, sy = 0, sxy = 0, sxx = 0, sdt = 0, sl = 0;
    while (tick(s, &ev)) {
        double x1 = log(tt_synth_mid(s, 0));
        sx += x0;
        sy += x1;
        sxy += x0 * x1;
        sxx += x0 * x0;
        sl += x1;
        sdt += (double)(ev.ts - t0) / NS_PER_YEAR;
        m++;
        x0 = x1;
        t0 = ev.ts;
    }
    tt_synth_close(s);
    double b = (sxy / m - (sx / m) * (sy / m)) / (sxx / m - (sx / m) * (sx / m));
    double kappa = (1.0 / b - 1.0) / (sdt / m);
    double level = exp(sl / m);
    /* stationary variance of x: sigma^2 / (2 kappa) = 1e-4 */
    double var = sxx / m - (sx / m) * (sx / m);
    double sigma = sqrt(var * 2.0 * kappa);
    printf("ou: n=%.0f b=%.5f kappa=%.3f level=%.3f sigma=%.5f\n", m, b, kappa, level, sigma);
    assert_true(fabs(kappa - 50.0) < 4 * 0.71 + 1.0);
    /* level: sd of the time average of x = sigma / kappa / sqrt(T) = 1.4e-4 in log */
    assert_true(fabs(log(level / 1000.0)) < 4 * 1.4e-4);
    /* sigma from the stationary variance: ~10k independent stretches: SE ~ 1% */
    assert_true(fabs(sigma - 0.1) < 0.04 * 0.1 + 0.002);
}

/* ---- correlation through the Cholesky factor ---- */

static void test_correlation(void **state)
{
    (void)state;
    /* Three symbols, a full matrix; increments between consecutive ticks are
     * simultaneous for all symbols (they advance together), so the sample
     * correlation of standardized increments estimates the matrix entry.
     * n ~ 780k: SE(r) = (1 - r^2) / sqrt(n) < 1.2e-3. */
    tt_synth *s = open_synth("symbols", "EURUSD,GBPUSD,USDJPY", "corr",
                             "1,0.7,-0.4; 0.7,1,-0.2; -0.4,-0.2,1", "sigma", "0.1", "from",
                             "2000-01-01", "to", "2030-01-01", "tick_rate", "2.7778e-4",
                             "weekend", "open", "seasonality", "off", "resolution", "ns", NULL);
    tt_event ev;
    double x0[3], x1[3];
    assert_true(tick(s, &ev));
    for (int i = 0; i < 3; i++)
        x0[i] = log(tt_synth_mid(s, i));
    tt_ts t0 = ev.ts;
    double n = 0, sp[3][3] = {{0}}, sd[3] = {0};
    while (tick(s, &ev)) {
        double dt = (double)(ev.ts - t0) / NS_PER_YEAR;
        double z[3];
        for (int i = 0; i < 3; i++) {
            x1[i] = log(tt_synth_mid(s, i));
            z[i] = dt > 0 ? (x1[i] - x0[i]) / sqrt(dt) : 0;
            x0[i] = x1[i];
        }
        if (dt > 0) {
            for (int i = 0; i < 3; i++) {
                sd[i] += z[i];
                for (int j = 0; j < 3; j++)
                    sp[i][j] += z[i] * z[j];
            }
            n++;
        }
        t0 = ev.ts;
    }
    tt_synth_close(s);
    const double want[3][3] = {{1, 0.7, -0.4}, {0.7, 1, -0.2}, {-0.4, -0.2, 1}};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double c = (sp[i][j] / n - sd[i] / n * sd[j] / n) /
                       sqrt((sp[i][i] / n - sd[i] / n * sd[i] / n) *
                            (sp[j][j] / n - sd[j] / n * sd[j] / n));
            if (i < j)
                printf("corr(%d,%d) = %.4f (want %.2f)\n", i, j, c, want[i][j]);
            assert_true(fabs(c - want[i][j]) < 4 * 1.2e-3);
        }
    /* and each symbol's own sigma (per year): var of z = sigma^2 */
    for (int i = 0; i < 3; i++) {
        double sig = sqrt(sp[i][i] / n - sd[i] / n * sd[i] / n);
        assert_true(fabs(sig - 0.1) < 4 * 0.1 / sqrt(2 * n));
    }
}

int main(void)
{
    g_ins = tt_instruments_new();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gbm_estimates),     cmocka_unit_test(test_gbm_calendar_time_with_weekends),
        cmocka_unit_test(test_ks_rejects_jumps),  cmocka_unit_test(test_merton_estimates),
        cmocka_unit_test(test_heston_estimates),  cmocka_unit_test(test_regime_estimates),
        cmocka_unit_test(test_ou_estimates),      cmocka_unit_test(test_correlation),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tt_instruments_free(g_ins);
    return rc;
}
