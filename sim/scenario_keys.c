/*
 * ticktape: the scenario key table (see scenario_keys.h for the model).
 *
 * How this works: KEYS holds one row per key. Reading a scenario checks each
 * value against its row (tt_scenario_key_check: type, bounds, words; a
 * data.synthetic.* entry against the synthetic market's own table), so the
 * first bad value stops the load with its file, line and key.
 * tt_scenario_prepare then walks the rows in order and, for each key given
 * (or with a default), either parses and stores the value at the row's
 * offset in tt_scenario_run, or calls the row's setter: the keys whose value
 * needs a unit change (ms to ns, percent to a fraction), the account's
 * currency scale, the first symbol's volume step, a path resolved against
 * the scenario file, or a second field. The same rows describe themselves
 * for `--keys` and the documentation test.
 *
 * Invariants: every default the table states is the one applied (it is
 * parsed by the same code as a value from a file); a value stored here was
 * already checked when it was read, so storing cannot fail on a user's value.
 */
#include "scenario_keys.h"

#include "bar_model.h"
#include "synth_config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- setters: values that need more than a parse and a store ---- */

static void *field(const tt_scenario_prep *p, const tt_scenario_key *k)
{
    return (char *)p->run + k->off;
}

/* Exact decimal "123.45" -> 12345 with scale 100 (see scenario_keys.h). */
int tt_scenario_money_parse(const char *v, int64_t scale, int64_t *out)
{
    if (scale <= 0 || scale > 1000000)
        return TT_EINVAL;
    const char *p = v;
    int neg = 0;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    if (!isdigit((unsigned char)*p))
        return TT_EINVAL;
    int64_t whole = 0, frac = 0, fscale = 1;
    for (; isdigit((unsigned char)*p); p++) {
        if (whole > (INT64_MAX / 10 - 10) / scale)
            return TT_EINVAL;
        whole = whole * 10 + (*p - '0');
    }
    if (*p == '.') {
        p++;
        /* Up to 12 decimals count (frac * scale stays far inside int64);
         * further ones may only be zeros ("500.250000000000000"). */
        for (; isdigit((unsigned char)*p); p++) {
            if (fscale >= 1000000000000LL) {
                if (*p != '0')
                    return TT_EINVAL;
                continue;
            }
            frac = frac * 10 + (*p - '0');
            fscale *= 10;
        }
    }
    if (*p != '\0')
        return TT_EINVAL;
    /* frac / fscale must be a whole number of 1/scale */
    if ((frac * scale) % fscale != 0)
        return TT_EINVAL;
    int64_t m = whole * scale + frac * scale / fscale;
    *out = neg ? -m : m;
    return TT_OK;
}

/* A number already checked against the row; the error is for a bad default. */
static int number(const tt_scenario_key *k, const tt_scenario_entry *e, const char *value,
                  double *out, tt_err *err)
{
    if (tt_parse_double(value, out, err) == TT_OK)
        return TT_OK;
    return tt_scenario_err_entry(err, TT_EINVAL, e, k->key, err ? err->msg : "bad number");
}

/* seed: the run's and the venue's. */
static int set_seed(tt_scenario_prep *p, const tt_scenario_key *k, const tt_scenario_entry *e,
                    const char *value, tt_err *err)
{
    int64_t seed;
    if (tt_parse_int(value, &seed, err))
        return tt_scenario_err_entry(err, TT_EINVAL, e, k->key, "expected a whole number");
    p->run->cfg.seed = (uint64_t)seed;
    p->run->cfg.venue.seed = (uint64_t)seed;
    return TT_OK;
}

static int set_path(tt_scenario_prep *p, const tt_scenario_key *k, const tt_scenario_entry *e,
                    const char *value, tt_err *err)
{
    (void)e;
    (void)value;
    return tt_scenario_path(p->s, k->key, field(p, k), k->size, err);
}

static int set_instruments(tt_scenario_prep *p, const tt_scenario_key *k,
                           const tt_scenario_entry *e, const char *value, tt_err *err)
{
    char path[4096];
    int rc = tt_scenario_path(p->s, k->key, path, sizeof path, err);
    (void)value;
    if (rc == TT_OK && (rc = tt_instruments_load(p->run->instruments, path, err)) != TT_OK)
        tt_err_prefix(err, "%s:%d: %s: ", e->file, e->line, k->key);
    return rc;
}

/* account.balance: exact, in minor units of the account currency. */
static int set_balance(tt_scenario_prep *p, const tt_scenario_key *k, const tt_scenario_entry *e,
                       const char *value, tt_err *err)
{
    tt_money m;
    if (tt_scenario_money_parse(value, p->run->minor_per_unit, &m))
        return tt_scenario_err_entry(
            err, TT_EINVAL, e, k->key,
            "expected an amount with no more decimals than the currency has");
    memcpy(field(p, k), &m, sizeof m);
    return TT_OK;
}

/* A number of account currency units -> minor units, rounded. */
static int set_money_of(tt_scenario_prep *p, const tt_scenario_key *k,
                        const tt_scenario_entry *e, const char *value, tt_err *err)
{
    double v;
    int rc = number(k, e, value, &v, err);
    tt_money m = (tt_money)llround(v * (double)p->run->minor_per_unit);
    if (rc == TT_OK)
        memcpy(field(p, k), &m, sizeof m);
    return rc;
}

/* Percent of the initial balance -> minor units (risk.daily_loss_pct). */
static int set_pct_of_balance(tt_scenario_prep *p, const tt_scenario_key *k,
                              const tt_scenario_entry *e, const char *value, tt_err *err)
{
    double pct;
    int rc = number(k, e, value, &pct, err);
    tt_money balance = p->run->cfg.venue.account.initial_balance;
    tt_money m = (tt_money)llround((double)balance * pct / 100.0);
    if (rc == TT_OK)
        memcpy(field(p, k), &m, sizeof m);
    return rc;
}

/* Percent -> a fraction (risk.max_drawdown_pct). */
static int set_fraction(tt_scenario_prep *p, const tt_scenario_key *k,
                        const tt_scenario_entry *e, const char *value, tt_err *err)
{
    double pct;
    int rc = number(k, e, value, &pct, err);
    double f = pct / 100.0;
    if (rc == TT_OK)
        memcpy(field(p, k), &f, sizeof f);
    return rc;
}

/* Milliseconds -> nanoseconds (venue.latency_ms). */
static int set_ms_to_ns(tt_scenario_prep *p, const tt_scenario_key *k,
                        const tt_scenario_entry *e, const char *value, tt_err *err)
{
    double ms;
    int rc = number(k, e, value, &ms, err);
    int64_t ns = (int64_t)llround(ms * 1e6);
    if (rc == TT_OK)
        memcpy(field(p, k), &ns, sizeof ns);
    return rc;
}

/* Lots -> qty in units of the volume step; must be a whole number of steps. */
static int set_lots(tt_scenario_prep *p, const tt_scenario_key *k, const tt_scenario_entry *e,
                    const char *value, tt_err *err)
{
    double lots;
    int rc = number(k, e, value, &lots, err);
    int64_t qty = 0;
    if (rc != TT_OK)
        return rc;
    if (lots != 0) {
        double q = lots / p->step;
        double r = floor(q + 0.5);
        if (fabs(q - r) > 1e-6 * (r > 1 ? r : 1)) {
            char m[160];
            snprintf(m, sizeof m, "%g lots is not a whole number of volume steps (%g)", lots,
                     p->step);
            return tt_scenario_err_entry(err, TT_EINVAL, e, k->key, m);
        }
        qty = (int64_t)r;
    }
    memcpy(field(p, k), &qty, sizeof qty);
    return TT_OK;
}

/* venue.commission.per_lot / per_million (tt_scenario_check allows one). */
static int set_per_lot(tt_scenario_prep *p, const tt_scenario_key *k, const tt_scenario_entry *e,
                       const char *value, tt_err *err)
{
    p->run->cfg.venue.commission = TT_COMM_PER_LOT;
    return set_money_of(p, k, e, value, err);
}

static int set_per_million(tt_scenario_prep *p, const tt_scenario_key *k,
                           const tt_scenario_entry *e, const char *value, tt_err *err)
{
    double per_million;
    int rc = number(k, e, value, &per_million, err);
    double rate = per_million / 1e6;
    if (rc != TT_OK)
        return rc;
    p->run->cfg.venue.commission = TT_COMM_PER_NOTIONAL;
    memcpy(field(p, k), &rate, sizeof rate);
    return TT_OK;
}

/* metrics.min_days / min_returns: 0 in a scenario is "no minimum", which
 * tt_metrics_opts spells -1 (its 0 is "the default"). */
static int set_min_rule(tt_scenario_prep *p, const tt_scenario_key *k,
                        const tt_scenario_entry *e, const char *value, tt_err *err)
{
    int64_t v;
    if (tt_parse_int(value, &v, err))
        return tt_scenario_err_entry(err, TT_EINVAL, e, k->key, "expected a whole number");
    int x = v == 0 ? -1 : (int)v;
    memcpy(field(p, k), &x, sizeof x);
    return TT_OK;
}


/* Minutes -> nanoseconds (risk.news_blackout.*). */
static int set_min_to_ns(tt_scenario_prep *p, const tt_scenario_key *k,
                         const tt_scenario_entry *e, const char *value, tt_err *err)
{
    double min;
    int rc = number(k, e, value, &min, err);
    int64_t ns = (int64_t)llround(min * 60e9);
    if (rc == TT_OK)
        memcpy(field(p, k), &ns, sizeof ns);
    return rc;
}

/* data.external: blob streams of the tape, by name, into cfg.external. */
static int set_external(tt_scenario_prep *p, const tt_scenario_key *k,
                        const tt_scenario_entry *e, const char *value, tt_err *err)
{
    tt_scenario_run *run = p->run;
    int n = 0;
    (void)k;
    for (const char *s = value; *s;) {
        while (*s == ' ' || *s == ',')
            s++;
        size_t len = strcspn(s, ",");
        while (len && s[len - 1] == ' ')
            len--;
        if (!len)
            break;
        if (len >= TT_SYMBOL_MAX || n == TT_BACKTEST_MAX_EXTERNAL)
            return tt_scenario_err_entry(err, TT_EINVAL, e, "data.external",
                                         "bad list (a name too long, or more than 8 streams)");
        memcpy(run->external[n], s, len);
        run->external[n][len] = '\0';
        run->cfg.external[n] = run->external[n];
        n++;
        s += len;
        while (*s == ' ')
            s++;
    }
    run->cfg.external[n] = NULL;
    return TT_OK;
}

/* The impacts a news blackout can start at (non-economic never does). */
static const tt_enum_value IMPACTS[] = {
    {"low", TT_IMPACT_LOW, 0}, {"medium", TT_IMPACT_MEDIUM, 0}, {"high", TT_IMPACT_HIGH, 0},
    {NULL, 0, 0}};

/* A timeframe -> its length in ns; calendar timeframes (MN1) have none. */
static int set_interval(tt_scenario_prep *p, const tt_scenario_key *k,
                        const tt_scenario_entry *e, const char *value, tt_err *err)
{
    int64_t ns = tt_timeframe_ns(tt_timeframe_parse(value));
    if (ns <= 0)
        return tt_scenario_err_entry(err, TT_EINVAL, e, k->key,
                                     "needs a fixed-length timeframe (S1 .. W1)");
    memcpy(field(p, k), &ns, sizeof ns);
    return TT_OK;
}

/* strategy.name: a built-in name as written, a plugin path resolved. */
static int set_strategy_name(tt_scenario_prep *p, const tt_scenario_key *k,
                             const tt_scenario_entry *e, const char *value, tt_err *err)
{
    size_t n = strlen(value);
    if (strchr(value, '/') || (n > 3 && !strcmp(value + n - 3, ".so")))
        return set_path(p, k, e, value, err);
    snprintf(field(p, k), k->size, "%s", value);
    return TT_OK;
}

/* strategy.params.*: "key=value" words joined by spaces, in file order. */
static int set_params(tt_scenario_prep *p, const tt_scenario_key *k, const tt_scenario_entry *e,
                      const char *value, tt_err *err)
{
    char *params = field(p, k);
    size_t pos = 0, used = 0, plen = strlen(k->key) - 1; /* "strategy.params." */
    (void)value;
    params[0] = '\0';
    while ((e = tt_scenario_next(p->s, "strategy.params", &pos)) != NULL) {
        const char *key = e->key + plen;
        if (strchr(e->value, ' ') || strchr(key, '.'))
            return tt_scenario_err_entry(
                err, TT_EINVAL, e, e->key,
                "strategy parameters are single words (no spaces, no nesting)");
        /* the xgb strategy's model file resolves like any path of the scenario */
        char model[4096];
        const char *val = e->value;
        if (!strcmp(key, "model") && !strcmp(tt_scenario_get(p->s, "strategy.name", ""), "xgb")) {
            int rc = tt_scenario_path(p->s, e->key, model, sizeof model, err);
            if (rc)
                return rc;
            val = model;
        }
        int n = snprintf(params + used, k->size - used, "%s%s=%s", used ? " " : "", key, val);
        if (n < 0 || (size_t)n >= k->size - used)
            return tt_scenario_err_entry(err, TT_EINVAL, e, e->key,
                                         "strategy parameters too long");
        used += (size_t)n;
    }
    return TT_OK;
}

/* data.synthetic.KEY: checked by the synthetic market's own table. */
static int check_synthetic(const char *key, const char *value, tt_err *err)
{
    tt_synth_config scratch;
    tt_synth_config_init(&scratch);
    int rc = tt_synth_config_assign(&scratch, key, value, err);
    return rc ? TT_EINVAL : TT_OK;
}

/* ---- the table ---- */

#define AT(f) .off = offsetof(tt_scenario_run, f), .size = sizeof(((tt_scenario_run *)0)->f)
#define ATLEAST(m) .min = (m)
#define RANGE(a, b) .min = (a), .max = (b), .has_max = 1
#define STR_(x) #x
#define STR(x) STR_(x)

static const tt_scenario_key KEYS[] = {
    {.key = "name", .type = TT_SK_STR, .defdoc = "the file name",
     .help = "name of the run, shown in reports"},
    {.key = "description", .type = TT_SK_STR, .help = "free text shown in reports"},
    {.key = "seed", .type = TT_SK_UINT, .set = set_seed, .def = "1",
     .help = "scenario seed: every random stream of the run derives from it"},

    {.key = "data.instruments", .type = TT_SK_PATH, .set = set_instruments,
     .help = "extra instrument table (docs/instruments.md)"},
    {.key = "data.tape", .type = TT_SK_PATH, AT(tape), .set = tt_scenario_data_tape,
     .help = "tape directory to replay (or data.synthetic)"},
    {.key = "data.symbols", .type = TT_SK_LIST, .help = "symbols to replay from the tape"},
    {.key = "data.from", .type = TT_SK_TS, .defdoc = "the tape's start",
     .help = "start of the tape range (inclusive), UTC"},
    {.key = "data.to", .type = TT_SK_TS, .defdoc = "the tape's end",
     .help = "end of the tape range (exclusive), UTC"},
    {.key = "data.model", .type = TT_SK_ENUM, .values = tt_bar_models, AT(cfg.model),
     .def = "real_ticks",
     .help = "price points from the tape's ticks, or generated from its M1 bars"},
    {.key = "data.spread_points", .type = TT_SK_INT, RANGE(0, 1e9), AT(cfg.spread_points),
     .def = "0", .help = "bar models: spread added to the BID bars, points"},
    {.key = "data.spread", .type = TT_SK_ENUM, .values = tt_spread_sources,
     AT(cfg.spread_from_bars), .def = "fixed",
     .help = "bar models: fixed (data.spread_points) or from_bars (the ask bars)"},
    {.key = "data.external", .type = TT_SK_LIST, .set = set_external,
     .help = "external streams of the tape replayed with the quotes: [calendar] (docs/external.md)"},
    {.key = "data.synthetic.*", .type = TT_SK_SECTION, .set = tt_scenario_data_synthetic,
     .check_sub = check_synthetic,
     .help = "a synthetic market instead of a tape (keys below, docs/synthetic.md)"},

    {.key = "account.currency", .type = TT_SK_CURRENCY, AT(cfg.venue.account.currency),
     .def = "USD", .help = "account currency"},
    {.key = "account.balance", .type = TT_SK_MONEY, AT(cfg.venue.account.initial_balance),
     .set = set_balance, .def = "10000", .help = "initial balance in currency units"},
    {.key = "account.leverage", .type = TT_SK_DOUBLE, .min_open = 1,
     AT(cfg.venue.account.leverage), .def = "100", .help = "leverage, 100 for 1:100"},
    {.key = "account.swaps", .type = TT_SK_BOOL, AT(cfg.venue.account.swaps), .def = "true",
     .help = "charge swaps at the daily rollover"},
    {.key = "account.mode", .type = TT_SK_ENUM, .values = tt_position_modes,
     AT(cfg.venue.account.mode), .def = "netting", .help = "position mode"},

    {.key = "venue.latency_ms", .type = TT_SK_DOUBLE, RANGE(0, 3600000),
     AT(cfg.venue.latency_ns), .set = set_ms_to_ns, .def = "0",
     .help = "order travel time to the venue, ms"},
    {.key = "venue.slippage.model", .type = TT_SK_ENUM, .values = tt_slippage_models,
     AT(cfg.venue.slippage), .def = "none",
     .help = "none, fixed points against the order, or uniform 0..points"},
    {.key = "venue.slippage.points", .type = TT_SK_INT, RANGE(0, 1e9),
     AT(cfg.venue.slippage_points), .def = "0", .help = "slippage size in points"},
    {.key = "venue.commission.per_lot", .type = TT_SK_DOUBLE, ATLEAST(0),
     AT(cfg.venue.commission_per_lot), .set = set_per_lot, .defdoc = "0",
     .help = "commission per lot per side, account currency"},
    {.key = "venue.commission.per_million", .type = TT_SK_DOUBLE, ATLEAST(0),
     AT(cfg.venue.commission_rate), .set = set_per_million, .defdoc = "0",
     .help = "commission per million of notional per side; not with per_lot"},
    {.key = "venue.margin_call_pct", .type = TT_SK_DOUBLE, ATLEAST(0),
     AT(cfg.venue.margin_call_level), .def = "100",
     .help = "margin level (%) of a margin call; 0 = off"},
    {.key = "venue.stop_out_pct", .type = TT_SK_DOUBLE, ATLEAST(0), AT(cfg.venue.stop_out_level),
     .def = "50", .help = "margin level (%) of a stop-out; 0 = off"},
    {.key = "venue.max_fill_lots", .type = TT_SK_DOUBLE, ATLEAST(0), AT(cfg.venue.max_fill_qty),
     .set = set_lots, .def = "0", .help = "most volume filled per quote, lots; 0 = all"},

    {.key = "risk.max_position_lots", .type = TT_SK_DOUBLE, ATLEAST(0), AT(cfg.risk.max_position),
     .set = set_lots, .def = "0", .help = "largest net position per symbol, lots; 0 = off"},
    {.key = "risk.max_order_lots", .type = TT_SK_DOUBLE, ATLEAST(0), AT(cfg.risk.max_order_qty),
     .set = set_lots, .def = "0", .help = "largest single order, lots; 0 = off"},
    {.key = "risk.max_exposure", .type = TT_SK_DOUBLE, ATLEAST(0), AT(cfg.risk.max_exposure),
     .set = set_money_of, .def = "0",
     .help = "largest gross notional, account currency; 0 = off"},
    {.key = "risk.max_orders_per_sec", .type = TT_SK_UINT, RANGE(0, 1e9),
     AT(cfg.risk.max_orders_per_sec), .def = "0", .help = "order rate limit; 0 = off"},
    {.key = "risk.daily_loss_pct", .type = TT_SK_DOUBLE, RANGE(0, 100),
     AT(cfg.risk.daily_loss_limit), .set = set_pct_of_balance, .defdoc = "0",
     .help = "halt for the day past this loss, % of the initial balance; 0 = off"},
    {.key = "risk.daily_loss", .type = TT_SK_DOUBLE, ATLEAST(0), AT(cfg.risk.daily_loss_limit),
     .set = set_money_of, .defdoc = "0",
     .help = "halt for the day past this loss, account currency; not with daily_loss_pct"},
    {.key = "risk.max_drawdown_pct", .type = TT_SK_DOUBLE, RANGE(0, 99.999),
     AT(cfg.risk.max_drawdown), .set = set_fraction, .def = "0",
     .help = "halt past this drawdown from the peak, %; 0 = off"},
    {.key = "risk.news_blackout.before_min", .type = TT_SK_DOUBLE, RANGE(0, 10080),
     AT(cfg.risk.news_before), .set = set_min_to_ns, .def = "0",
     .help = "no new position from this many minutes before a release (docs/risk.md)"},
    {.key = "risk.news_blackout.after_min", .type = TT_SK_DOUBLE, RANGE(0, 10080),
     AT(cfg.risk.news_after), .set = set_min_to_ns, .def = "0",
     .help = "... to this many minutes after it; both 0 = off"},
    {.key = "risk.news_blackout.impact", .type = TT_SK_ENUM, .values = IMPACTS,
     AT(cfg.risk.news_impact), .def = "high",
     .help = "the lowest impact of the releases that start a blackout"},
    {.key = "risk.flatten_on_halt", .type = TT_SK_BOOL, AT(cfg.flatten_on_halt), .def = "true",
     .help = "close positions when a limit halts trading"},

    {.key = "strategy.name", .type = TT_SK_STR, AT(strategy), .set = set_strategy_name,
     .help = "built-in strategy name, or a plugin path (.so)"},
    {.key = "strategy.params.*", .type = TT_SK_SECTION, AT(params), .set = set_params,
     .help = "strategy parameters, passed to it as key=value in file order"},

    {.key = "metrics.periods_per_year", .type = TT_SK_UINT, RANGE(1, 100000),
     AT(metrics.periods_per_year), .def = "252", .help = "annualization of daily figures"},
    {.key = "metrics.risk_free", .type = TT_SK_DOUBLE, RANGE(-1, 1), AT(metrics.risk_free),
     .def = "0", .help = "annual risk-free rate as a fraction"},
    {.key = "metrics.min_days", .type = TT_SK_UINT, RANGE(0, 100000), AT(metrics.min_days),
     .set = set_min_rule, .def = STR(TT_METRICS_MIN_DAYS),
     .help = "annualised figures (CAGR, volatility, Sharpe, Sortino, Calmar) need a span of at "
             "least this many days, else n/a; 0 = no minimum"},
    {.key = "metrics.min_returns", .type = TT_SK_UINT, RANGE(0, 100000),
     AT(metrics.min_returns), .set = set_min_rule, .def = STR(TT_METRICS_MIN_RETURNS),
     .help = "... and at least this many daily returns; 0 = no minimum"},
    {.key = "metrics.equity_interval", .type = TT_SK_TF, AT(cfg.equity_interval),
     .set = set_interval, .def = "M1", .help = "equity curve sampling: a fixed timeframe"},
    {.key = "metrics.equity_points", .type = TT_SK_UINT, ATLEAST(0), AT(cfg.equity_keep_max),
     .def = "200000", .help = "most equity points kept for charts and series.h5; 0 = all"},
    {.key = "metrics.trades_in_memory", .type = TT_SK_UINT, ATLEAST(0), AT(cfg.trades_keep_max),
     .def = STR(TT_BACKTEST_TRADES_KEEP),
     .help = "closed trades kept in memory, the rest in a temporary file; 0 = all in memory"},

    {.key = "outputs.dir", .type = TT_SK_PATH, AT(outputs.dir), .set = set_path,
     .defdoc = "out/<name>", .help = "where reports go (--out wins)"},
    {.key = "outputs.html", .type = TT_SK_BOOL, AT(outputs.html), .def = "true",
     .help = "write report.html"},
    {.key = "outputs.json", .type = TT_SK_BOOL, AT(outputs.json), .def = "true",
     .help = "write summary.json"},
    {.key = "outputs.csv", .type = TT_SK_BOOL, AT(outputs.csv), .def = "true",
     .help = "write trades.csv"},
    {.key = "outputs.hdf5", .type = TT_SK_BOOL, AT(outputs.hdf5), .def = "true",
     .help = "write series.h5"},

    {.key = "sweep.*", .type = TT_SK_SECTION, .help = "parameter sweep settings (research tools)"},
    {.key = "walkforward.*", .type = TT_SK_SECTION,
     .help = "walk-forward settings (research tools)"},
    {.key = "gates.*", .type = TT_SK_SECTION, .help = "CI gates on the figures (research tools)"},
    {.key = "research.*", .type = TT_SK_SECTION, .help = "other research-tool settings"},
    {.key = "ml.*", .type = TT_SK_SECTION,
     .help = "machine learning: timeframe, features, label, xgboost (docs/ml.md)"},
};
#define NKEYS (sizeof KEYS / sizeof KEYS[0])

const tt_scenario_key *tt_scenario_key_at(size_t i) { return i < NKEYS ? &KEYS[i] : NULL; }

const tt_scenario_key *tt_scenario_key_find(const char *key)
{
    for (size_t i = 0; i < NKEYS; i++) {
        const char *k = KEYS[i].key;
        size_t n = strlen(k);
        if (KEYS[i].type == TT_SK_SECTION) {
            if (!strncmp(key, k, n - 1) && key[n - 1] != '\0')
                return &KEYS[i];
        } else if (!strcmp(key, k)) {
            return &KEYS[i];
        }
    }
    return NULL;
}

int tt_scenario_key_is_section(const char *prefix)
{
    size_t n = strlen(prefix);
    for (size_t i = 0; i < NKEYS; i++)
        if (!strncmp(KEYS[i].key, prefix, n) && KEYS[i].key[n] == '.')
            return 1;
    return 0;
}

/* ---- messages ---- */

int tt_scenario_err_at(tt_err *err, int code, const char *file, int line, const char *key,
                       const char *msg)
{
    if (line > 0)
        return tt_err_set(err, code, "%s:%d: %s: %s", file, line, key, msg);
    return tt_err_set(err, code, "%s %s: %s", file, key, msg);
}

int tt_scenario_err_entry(tt_err *err, int code, const tt_scenario_entry *e, const char *key,
                          const char *msg)
{
    /* msg may be err->msg itself: format from a copy */
    char m[sizeof err->msg];
    snprintf(m, sizeof m, "%s", msg);
    if (!e)
        return tt_err_set(err, code, "%s: %s (the default)", key, m);
    return tt_scenario_err_at(err, code, e->file, e->line, key, m);
}

/* "number in [0, 3.6e+06]", "whole number >= 0", "number > 0". */
static void numeric_type(const tt_scenario_key *k, char *buf, size_t bufsize)
{
    const char *name = k->type == TT_SK_UINT ? "whole number"
                       : k->type == TT_SK_INT ? "integer"
                                              : "number";
    if (k->has_max)
        snprintf(buf, bufsize, "%s in %c%g, %g]", name, k->min_open ? '(' : '[', k->min, k->max);
    else
        snprintf(buf, bufsize, "%s %s %g", name, k->min_open ? ">" : ">=", k->min);
}

static void type_text(const tt_scenario_key *k, char *buf, size_t bufsize)
{
    static const char *const names[] = {
        [TT_SK_STR] = "string",   [TT_SK_CURRENCY] = "currency", [TT_SK_BOOL] = "bool",
        [TT_SK_TS] = "time",      [TT_SK_PATH] = "path",         [TT_SK_LIST] = "list",
        [TT_SK_MONEY] = "money",  [TT_SK_TF] = "timeframe",      [TT_SK_SECTION] = "section"};
    if (k->type == TT_SK_UINT || k->type == TT_SK_INT || k->type == TT_SK_DOUBLE)
        numeric_type(k, buf, bufsize);
    else if (k->type == TT_SK_ENUM)
        tt_enum_list(k->values, "|", buf, bufsize);
    else
        snprintf(buf, bufsize, "%s", names[k->type] ? names[k->type] : "?");
}

/* The keys a section takes, for the "unknown key" message: for "venue.x" the
 * keys under venue (relative), for a top-level key the section names. */
static void section_keys(const char *key, char *buf, size_t bufsize)
{
    const char *dot = strrchr(key, '.');
    size_t plen = dot ? (size_t)(dot - key) : 0;
    size_t used = 0;
    buf[0] = '\0';
    const char *last = NULL;
    size_t last_len = 0;
    for (size_t i = 0; i < NKEYS && used < bufsize; i++) {
        const char *k = KEYS[i].key;
        if (plen && (strncmp(k, key, plen) || k[plen] != '.'))
            continue;
        const char *rest = plen ? k + plen + 1 : k;
        size_t len = strlen(rest);
        if (!plen) {
            const char *d = strchr(rest, '.');
            if (d)
                len = (size_t)(d - rest);
            /* the table lists a section's keys together: skip repeats */
            if (last && last_len == len && !strncmp(last, rest, len))
                continue;
            last = rest;
            last_len = len;
        }
        int n = snprintf(buf + used, bufsize - used, "%s%.*s", used ? ", " : "", (int)len, rest);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

/* ---- checking a value ---- */

static int check_number(const tt_scenario_key *k, const char *v, char *msg, size_t msgsize)
{
    double d = 0;
    int64_t i = 0;
    int ok;
    if (k->type == TT_SK_DOUBLE) {
        ok = tt_parse_double(v, &d, NULL) == TT_OK;
    } else {
        ok = tt_parse_int(v, &i, NULL) == TT_OK;
        d = (double)i;
    }
    if (ok && !(k->min_open ? d > k->min : d >= k->min))
        ok = 0;
    if (ok && k->has_max && d > k->max)
        ok = 0;
    if (ok)
        return TT_OK;
    char type[120];
    numeric_type(k, type, sizeof type);
    snprintf(msg, msgsize, "expected a%s %s, got '%.300s'", type[0] == 'i' ? "n" : "", type, v);
    return TT_EINVAL;
}

/* What is wrong with v as a value of row k (msg), or TT_OK. */
static int check_value(const tt_scenario_key *k, const char *v, char *msg, size_t msgsize)
{
    tt_err e;
    int64_t m;
    switch (k->type) {
    case TT_SK_SECTION:
    case TT_SK_LIST:
        return TT_OK;
    case TT_SK_STR:
    case TT_SK_PATH:
        if (*v)
            return TT_OK;
        snprintf(msg, msgsize, "expected a value, got nothing");
        return TT_EINVAL;
    case TT_SK_CURRENCY:
        if (strlen(v) == 3 && isupper((unsigned char)v[0]) && isupper((unsigned char)v[1]) &&
            isupper((unsigned char)v[2]))
            return TT_OK;
        snprintf(msg, msgsize, "expected a 3-letter currency code such as USD, got '%.300s'", v);
        return TT_EINVAL;
    case TT_SK_MONEY:
        if (tt_scenario_money_parse(v, 100, &m) == TT_OK && m > 0)
            return TT_OK;
        snprintf(msg, msgsize, "expected a positive amount with at most 2 decimals, got '%.300s'",
                 v);
        return TT_EINVAL;
    case TT_SK_TF:
        if (tt_timeframe_parse(v) != TT_TF_NONE)
            return TT_OK;
        snprintf(msg, msgsize, "expected a timeframe (M1, H1, ...), got '%.300s'", v);
        return TT_EINVAL;
    case TT_SK_BOOL: {
        int b;
        if (tt_parse_bool(v, &b, &e) == TT_OK)
            return TT_OK;
        break;
    }
    case TT_SK_TS: {
        tt_ts t;
        if (tt_parse_ts(v, &t, &e) == TT_OK)
            return TT_OK;
        break;
    }
    case TT_SK_ENUM: {
        int x;
        if (tt_parse_enum(v, k->values, &x, &e) == TT_OK)
            return TT_OK;
        break;
    }
    default:
        return check_number(k, v, msg, msgsize);
    }
    snprintf(msg, msgsize, "%s", e.msg);
    return TT_EINVAL;
}

int tt_scenario_key_check(const char *key, const char *value, const char *file, int line,
                          tt_err *err)
{
    const tt_scenario_key *k = tt_scenario_key_find(key);
    char msg[900];
    if (!k) {
        if (tt_scenario_key_is_section(key))
            return tt_scenario_err_at(err, TT_EINVAL, file, line, key,
                                      "expected a mapping (a section of keys), got a value");
        char keys[700];
        section_keys(key, keys, sizeof keys);
        snprintf(msg, sizeof msg, "unknown key (known here: %s)", keys);
        return tt_scenario_err_at(err, TT_EINVAL, file, line, key, msg);
    }
    if (k->type == TT_SK_SECTION && k->check_sub) {
        tt_err sub;
        if (k->check_sub(key + strlen(k->key) - 1, value, &sub) == TT_OK)
            return TT_OK;
        return tt_scenario_err_at(err, TT_EINVAL, file, line, key, sub.msg);
    }
    if (check_value(k, value, msg, sizeof msg) == TT_OK)
        return TT_OK;
    return tt_scenario_err_at(err, TT_EINVAL, file, line, key, msg);
}

/* ---- storing a value ---- */

static void store_int(void *f, size_t size, int64_t v)
{
    switch (size) {
    case 1: {
        uint8_t x = (uint8_t)v;
        memcpy(f, &x, 1);
        break;
    }
    case 2: {
        uint16_t x = (uint16_t)v;
        memcpy(f, &x, 2);
        break;
    }
    case 4: {
        int32_t x = (int32_t)v;
        memcpy(f, &x, 4);
        break;
    }
    default:
        memcpy(f, &v, sizeof v);
    }
}

int tt_scenario_key_store(const tt_scenario_key *k, tt_scenario_run *run, const char *value,
                          tt_err *err)
{
    void *f = (char *)run + k->off;
    int rc = TT_OK, x = 0;
    int64_t i = 0;
    double d = 0;
    switch (k->type) {
    case TT_SK_STR:
    case TT_SK_CURRENCY:
        snprintf(f, k->size, "%s", value);
        return TT_OK;
    case TT_SK_DOUBLE:
        if ((rc = tt_parse_double(value, &d, err)) == TT_OK)
            memcpy(f, &d, sizeof d);
        break;
    case TT_SK_INT:
    case TT_SK_UINT:
        if ((rc = tt_parse_int(value, &i, err)) == TT_OK)
            store_int(f, k->size, i);
        break;
    case TT_SK_BOOL:
        if ((rc = tt_parse_bool(value, &x, err)) == TT_OK)
            store_int(f, k->size, x);
        break;
    case TT_SK_ENUM:
        if ((rc = tt_parse_enum(value, k->values, &x, err)) == TT_OK)
            store_int(f, k->size, x);
        break;
    default:
        return tt_err_set(err, TT_EINVAL, "%s: no field to store a %d into", k->key, k->type);
    }
    if (rc)
        tt_err_prefix(err, "%s: ", k->key);
    return rc;
}

/* ---- describing the keys ---- */

int tt_scenario_key_describe(size_t i, tt_keydoc *out)
{
    if (i >= NKEYS)
        return TT_ENOTFOUND;
    const tt_scenario_key *k = &KEYS[i];
    snprintf(out->key, sizeof out->key, "%s", k->key);
    type_text(k, out->type, sizeof out->type);
    snprintf(out->def, sizeof out->def, "%s", k->def ? k->def : k->defdoc ? k->defdoc : "-");
    out->help = k->help;
    return TT_OK;
}

static void write_key(FILE *f, const char *prefix, const tt_keydoc *d)
{
    char key[200];
    snprintf(key, sizeof key, "%s%s", prefix, d->key);
    if (strcmp(d->def, "-"))
        fprintf(f, "%-32s %-28s %s (default: %s)\n", key, d->type, d->help, d->def);
    else
        fprintf(f, "%-32s %-28s %s\n", key, d->type, d->help);
}

void tt_scenario_schema_write(FILE *f)
{
    tt_keydoc d;
    for (size_t i = 0; tt_scenario_key_describe(i, &d) == TT_OK; i++) {
        write_key(f, "", &d);
        if (!strcmp(d.key, "data.synthetic.*")) {
            tt_keydoc s;
            for (size_t j = 0; tt_synth_config_key_describe(j, &s) == TT_OK; j++)
                write_key(f, "  data.synthetic.", &s);
        }
    }
}
