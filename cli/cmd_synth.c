/*
 * `ticktape synth ...`: generate a synthetic market into a tape, as CSV, or
 * just measure the generator; `ticktape synth options ...`: an option chain
 * on a generated underlying, as CSV or JSONL.
 *
 * Every model and microstructure setting is a key of tt_synth_config_set
 * (sim/synth.h): the named options (--model, --symbol, --from, --to, --seed)
 * are shorthands for those keys, and --param k=v reaches all the others, so
 * the command, the scenario's `synthetic:` section and the library accept the
 * same keys with the same messages. The tape gets one quote stream per
 * symbol; events are appended in the generator's time order.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "core/decimal.h"
#include "data/tape.h"
#include "sim/options.h"
#include "sim/synth.h"

typedef struct market_opts {
    tt_synth_config cfg;
    const char *instruments;
    int from_set;
} market_opts;

/* --model, --symbol, --symbols, --from, --to, --seed: the synthetic key of
 * the option's name. */
static int opt_key(void *opts, const tt_opt *o, const char *value, tt_err *err)
{
    market_opts *m = opts;
    int rc = tt_synth_config_set(&m->cfg, o->name, value, err);
    if (!rc && !strcmp(o->name, "from"))
        m->from_set = 1;
    return rc;
}

/* --param KEY=VALUE: any synthetic key. */
static int opt_param(void *opts, const tt_opt *o, const char *value, tt_err *err)
{
    market_opts *m = opts;
    const char *eq = strchr(value, '=');
    if (!eq || eq == value)
        return tt_err_set(err, TT_EINVAL, "--%s '%s' is not KEY=VALUE", o->name, value);
    char key[64];
    size_t k = (size_t)(eq - value);
    if (k >= sizeof key)
        return tt_err_set(err, TT_EINVAL, "--%s key too long", o->name);
    memcpy(key, value, k);
    key[k] = 0;
    int rc = tt_synth_config_set(&m->cfg, key, eq + 1, err);
    if (!rc && !strcmp(key, "from"))
        m->from_set = 1;
    return rc;
}

#define M(field) offsetof(market_opts, field)

/* The market options of both forms: shorthands for keys of tt_synth_config_set
 * (sim/synth.h), --param for all the others. */
static const tt_opt MARKET_OPTS[] = {
    {TT_OPT_CUSTOM, "model", .arg = "gbm|merton|heston|regime|ou", .set = opt_key,
     .def_text = "gbm", .help = "the price model (docs/synthetic.md)"},
    {TT_OPT_CUSTOM, "symbol", .arg = "S", .set = opt_key, .def_text = "EURUSD",
     .help = "one symbol"},
    {TT_OPT_CUSTOM, "symbols", .arg = "A,B", .set = opt_key,
     .help = "several symbols, correlated by the corr key"},
    {TT_OPT_CUSTOM, "from", .arg = "T", .set = opt_key, .def_text = "2024-01-01",
     .help = "start of the market"},
    {TT_OPT_CUSTOM, "to", .arg = "T", .set = opt_key, .def_text = "7 days after --from",
     .help = "end of the market"},
    {TT_OPT_CUSTOM, "seed", .arg = "N", .set = opt_key, .def_text = "1",
     .help = "the seed: same seed, same ticks, bit for bit"},
    {TT_OPT_CUSTOM, "param", .arg = "KEY=VALUE", .set = opt_param,
     .help = "any synthetic key, repeatable, e.g. --param mu=0 --param sigma=0.1 (annualized), "
             "--param tick_rate=4 --param corr=0.6 --param spread=0.8 (all keys: "
             "docs/synthetic.md)"},
    {TT_OPT_STRING, "instruments", .off = M(instruments), .arg = "FILE",
     .help = "extra instrument declarations (docs/instruments.md)"},
    {TT_OPT_END},
};

static const char SYNTH_NOTES[] =
    "T is ISO 8601 (2024-01-01, 2024-01-01T10:00:00Z) or an integer with a unit\n"
    "(ms, ns, s).\n\n"
    "exit codes: 0 done, 1 failure (an unknown symbol, a write error), 2 usage error\n"
    "(a bad option or synthetic key)\n";

typedef struct synth_cli {
    market_opts m;
    const char *tape, *csv;
    int bench, json;
} synth_cli;

#define S(field) offsetof(synth_cli, field)

static const tt_opt SYNTH_OPTS[] = {
    {TT_OPT_INCLUDE, .include = MARKET_OPTS, .off = S(m)},
    {TT_OPT_STRING, "tape", .off = S(tape), .arg = "DIR",
     .help = "append one quote stream per symbol to the tape at DIR"},
    {TT_OPT_STRING, "csv", .off = S(csv), .arg = "FILE",
     .help = "write time,symbol,bid,ask,bid_volume,ask_volume (- for stdout)"},
    {TT_OPT_FLAG, "bench", .off = S(bench),
     .help = "generate without writing and report ticks per second"},
    {TT_OPT_FLAG, "json", .off = S(json),
     .help = "the summary as one JSON object, the last line of stdout (of stderr with --csv -, "
             "where stdout carries the ticks)"},
    {TT_OPT_END},
};

static const tt_opt_rule SYNTH_RULES[] = {
    {TT_RULE_ONE_OF, {"tape", "csv", "bench"},
     "give exactly one of --tape DIR, --csv FILE, --bench (ticktape synth --help)"},
    {TT_RULE_END},
};

typedef struct chain_cli {
    market_opts m;
    tt_option_chain_spec spec;
    const char *out_path;
    int jsonl, json;
} chain_cli;

/* --expiries 7,30,90: day counts (a 'd' suffix is allowed). */
static int opt_expiries(void *opts, const tt_opt *o, const char *value, tt_err *err)
{
    tt_option_chain_spec *spec = tt_opt_field(opts, o);
    char buf[256];
    snprintf(buf, sizeof buf, "%s", value);
    spec->nexpiries = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *end;
        long long days = strtoll(t, &end, 10);
        if (*end == 'd')
            end++;
        if (end == t || *end || days < 1 || spec->nexpiries >= 16)
            return tt_err_set(err, TT_EINVAL, "--%s: '%s' is not a list of up to 16 day counts "
                              "(7,30,90)", o->name, value);
        spec->expiry_days[spec->nexpiries++] = days;
    }
    if (!spec->nexpiries)
        return tt_err_set(err, TT_EINVAL, "--%s: empty list", o->name);
    return TT_OK;
}

#define O(field) offsetof(chain_cli, field)

static const tt_opt CHAIN_OPTS[] = {
    {TT_OPT_TIME, "at", .off = O(spec.at), .flags = TT_OPT_REQUIRED,
     .help = "the valuation time: the underlying's last mid is the spot"},
    {TT_OPT_INCLUDE, .include = MARKET_OPTS, .off = O(m)},
    {TT_OPT_INT, "strikes", .off = O(spec.nstrikes), .arg = "N", .min = 1, .max = 10001,
     .def_text = "21", .help = "strikes per expiry, centred on the spot"},
    {TT_OPT_DOUBLE, "step", .off = O(spec.strike_step), .arg = "X",
     .def_text = "1, 2 or 5 times a power of ten, nearest below 1% of the spot",
     .help = "distance between strikes, in price units"},
    {TT_OPT_CUSTOM, "expiries", .off = O(spec), .arg = "7,30,90", .set = opt_expiries,
     .def_text = "7,30,90,180", .help = "expiries, in days from --at"},
    {TT_OPT_DOUBLE, "vol", .off = O(spec.atm_vol), .arg = "V",
     .def_text = "the model's sigma", .help = "implied volatility at the money"},
    {TT_OPT_DOUBLE, "skew", .off = O(spec.skew), .arg = "X", .def_text = "-0.1",
     .help = "d iv / d ln(K/S)"},
    {TT_OPT_DOUBLE, "smile", .off = O(spec.smile), .arg = "X", .def_text = "0.5",
     .help = "d2 iv / d ln(K/S)^2 (curvature)"},
    {TT_OPT_DOUBLE, "r", .off = O(spec.r), .arg = "R", .def_text = "0",
     .help = "the risk-free rate"},
    {TT_OPT_DOUBLE, "q", .off = O(spec.q), .arg = "Q", .def_text = "0",
     .help = "the dividend (foreign) rate"},
    {TT_OPT_ENUM, "format", .off = O(jsonl), .values = (const char *const[]){"csv", "jsonl",
     NULL}, .def = "csv", .help = "CSV with a header, or JSON lines"},
    {TT_OPT_STRING, "out", .alias = 'o', .off = O(out_path), .arg = "FILE",
     .def_text = "stdout", .help = "write the chain to FILE (- for stdout)"},
    {TT_OPT_FLAG, "json", .off = O(json),
     .help = "the statistics as one JSON object on the last line of stdout"},
    {TT_OPT_END},
};

static int synth_market(int argc, char **argv);
static int synth_options(int argc, char **argv);

static const tt_cmd SYNTH_OPTIONS = {
    .name = "synth options",
    .summary = "an option chain on a generated underlying, as CSV or JSON lines",
    .run = synth_options,
    .opts = CHAIN_OPTS,
    .size = sizeof(chain_cli),
    .about = "The underlying is generated from --from (default: 30 days before --at) to --at\n"
             "and its last mid is the spot; the chain holds puts and calls for each strike and\n"
             "expiry with Black-Scholes prices and greeks (vega and rho per 1.00, theta per\n"
             "year), open interest and volume; put-call ratio and max pain per expiry are\n"
             "reported (stderr, or the last stdout line with --json).\n",
    .epilog = SYNTH_NOTES,
};

const tt_cmd tt_command_synth = {
    .name = "synth",
    .summary = "generate a synthetic market (gbm, merton, heston, regime, ou) or an option chain",
    .run = synth_market,
    .opts = SYNTH_OPTS,
    .size = sizeof(synth_cli),
    .rules = SYNTH_RULES,
    .about = "Generates quote ticks from a seeded price model: same seed, same ticks, bit for\n"
             "bit. Defaults: EURUSD, GBM sigma 8%/yr, 2 ticks/s with intraday seasonality,\n"
             "spread 0.8 pip widening at the 22:00 UTC rollover, weekends closed, 2024-01-01\n"
             "for 7 days, seed 1.\n",
    .epilog = SYNTH_NOTES,
    .subs = (const tt_cmd *const[]){&SYNTH_OPTIONS, NULL},
};

static int load_instruments(const market_opts *m, tt_instruments **out)
{
    tt_err err;
    *out = tt_instruments_new();
    if (!*out) {
        tt_err_set(&err, TT_ENOMEM, "out of memory");
        return tt_report_error(&err);
    }
    if (m->instruments && tt_instruments_load(*out, m->instruments, &err)) {
        tt_instruments_free(*out);
        return tt_report_error(&err);
    }
    return TT_EXIT_OK;
}

static void write_csv_row(FILE *f, const tt_instruments *ins, const tt_event *e)
{
    const tt_instrument *in = tt_instruments_get(ins, e->symbol);
    char t[48], b[40], a[40];
    tt_ts_format(e->ts, t, sizeof t, e->ts % TT_NS_PER_MS != 0);
    tt_price_format(in, e->u.quote.bid, b, sizeof b);
    tt_price_format(in, e->u.quote.ask, a, sizeof a);
    char bv[48], av[48]; /* exact: the float32's shortest decimal, not %g's six digits */
    tt_float32_format(e->u.quote.bid_vol, bv, sizeof bv);
    tt_float32_format(e->u.quote.ask_vol, av, sizeof av);
    fprintf(f, "%s,%s,%s,%s,%s,%s\n", t, in->symbol, b, a, bv, av);
}

static int synth_market(int argc, char **argv)
{
    synth_cli args;
    memset(&args, 0, sizeof args);
    tt_synth_config_init(&args.m.cfg);
    int rc = tt_opts_parse(&tt_command_synth, &args, argc, argv, NULL);
    if (rc != TT_OPTS_RUN)
        return rc;
    market_opts *m = &args.m;
    const char *tape = args.tape, *csv = args.csv;
    int json = args.json;
    tt_err err;
    if (tt_synth_config_check(&m->cfg, &err))
        return tt_usage_error("synth", "%s", err.msg);

    tt_instruments *ins;
    rc = load_instruments(m, &ins);
    if (rc)
        return rc;
    tt_synth *s = NULL;
    tt_tape_writer *w[TT_SYNTH_MAX_SYMBOLS] = {0};
    uint32_t wid[TT_SYNTH_MAX_SYMBOLS] = {0};
    FILE *out = NULL;
    int exit_code = TT_EXIT_OK;
    if (tt_synth_open(&s, &m->cfg, ins, &err)) {
        exit_code = tt_report_error(&err);
        goto done;
    }
    int n = m->cfg.nsymbols;
    if (tape) {
        for (int i = 0; i < n; i++) {
            tt_stream_desc d;
            memset(&d, 0, sizeof d);
            snprintf(d.symbol, sizeof d.symbol, "%s", tt_synth_instrument(s, i)->symbol);
            d.kind = TT_STREAM_QUOTE;
            wid[i] = tt_synth_instrument(s, i)->id;
            if (tt_tape_writer_open(&w[i], tape, &d, NULL, &err)) {
                exit_code = tt_report_error(&err);
                goto done;
            }
        }
    } else if (csv) {
        out = strcmp(csv, "-") ? fopen(csv, "w") : stdout;
        if (!out) {
            tt_err_set(&err, TT_EIO, "%s: cannot create: %s", csv, strerror(errno));
            exit_code = tt_report_error(&err);
            goto done;
        }
        fputs("time,symbol,bid,ask,bid_volume,ask_volume\n", out);
    }

    static tt_event buf[4096];
    tt_progress prog;
    tt_progress_start(&prog, "synth", 1000);
    double t0 = tt_wall_seconds();
    uint64_t total = 0;
    size_t got;
    while ((got = tt_synth_generate(s, buf, sizeof buf / sizeof buf[0])) > 0) {
        total += got;
        if (tape) {
            for (size_t k = 0; k < got; k++) {
                int i = 0;
                while (i < n - 1 && wid[i] != buf[k].symbol)
                    i++;
                if (tt_tape_writer_append(w[i], &buf[k], &err)) {
                    exit_code = tt_report_error(&err);
                    goto done;
                }
            }
        } else if (csv) {
            for (size_t k = 0; k < got; k++)
                write_csv_row(out, ins, &buf[k]);
        }
        tt_ts last = buf[got - 1].ts;
        tt_progress_update(&prog, (uint64_t)((double)(last - m->cfg.from) /
                                             (double)(m->cfg.to - m->cfg.from) * 1000.0));
    }
    for (int i = 0; i < n; i++) {
        if (w[i]) {
            int r = tt_tape_writer_close(w[i], &err);
            w[i] = NULL;
            if (r) {
                exit_code = tt_report_error(&err);
                goto done;
            }
        }
    }
    double secs = tt_wall_seconds() - t0;
    tt_progress_finish(&prog);
    if (out && out != stdout && fclose(out)) {
        out = NULL;
        tt_err_set(&err, TT_EIO, "%s: write failed: %s", csv, strerror(errno));
        exit_code = tt_report_error(&err);
        goto done;
    }
    if (out == stdout)
        fflush(stdout);
    out = NULL;
    double rate = secs > 0 ? (double)total / secs : 0.0;
    FILE *info = csv && !strcmp(csv, "-") ? stderr : stdout;
    if (json) {
        fprintf(info, "{\"model\":\"%s\",\"seed\":%llu,\"ticks\":%llu,\"seconds\":%.6f,"
                      "\"ticks_per_second\":%.0f,\"symbols\":[",
                tt_synth_model_name(m->cfg.model), (unsigned long long)m->cfg.seed,
                (unsigned long long)total, secs, rate);
        for (int i = 0; i < n; i++)
            fprintf(info, "%s\"%s\"", i ? "," : "", tt_synth_instrument(s, i)->symbol);
        fprintf(info, "]");
        if (tape)
            fprintf(info, ",\"tape\":\"%s\"", tape);
        fprintf(info, "}\n");
    } else {
        fprintf(info, "synth %s seed %llu: %llu ticks for %d symbol(s) in %.3f s (%.1fM ticks/s)%s%s\n",
                tt_synth_model_name(m->cfg.model), (unsigned long long)m->cfg.seed,
                (unsigned long long)total, n, secs, rate / 1e6, tape ? " -> " : "",
                tape ? tape : "");
    }
done:
    for (int i = 0; i < TT_SYNTH_MAX_SYMBOLS; i++)
        if (w[i]) {
            tt_err e2;
            tt_tape_writer_close(w[i], &e2);
        }
    if (out && out != stdout)
        fclose(out);
    tt_synth_close(s);
    tt_instruments_free(ins);
    return exit_code;
}

/* ---- options ---- */

static int synth_options(int argc, char **argv)
{
    const char *cmd = SYNTH_OPTIONS.name;
    chain_cli args;
    memset(&args, 0, sizeof args);
    tt_synth_config_init(&args.m.cfg);
    tt_option_chain_spec_init(&args.spec);
    tt_opts_seen seen;
    int rc = tt_opts_parse(&SYNTH_OPTIONS, &args, argc, argv, &seen);
    if (rc != TT_OPTS_RUN)
        return rc;
    market_opts *m = &args.m;
    tt_option_chain_spec spec = args.spec;
    const char *out_path = args.out_path;
    int json = args.json;
    m->cfg.to = spec.at + 1;
    if (!m->from_set)
        m->cfg.from = spec.at - 30 * TT_NS_PER_DAY;
    if (m->cfg.nsymbols != 1)
        return tt_usage_error(cmd, "one underlying symbol, please (--symbol S)");
    tt_err err;
    if (tt_synth_config_check(&m->cfg, &err))
        return tt_usage_error(cmd, "%s", err.msg);
    if (!tt_opts_given(&seen, "vol"))
        spec.atm_vol = m->cfg.model == TT_SYNTH_REGIME ? m->cfg.regime_sigma[0] : m->cfg.sigma;
    spec.seed = m->cfg.seed;

    tt_instruments *ins;
    rc = load_instruments(m, &ins);
    if (rc)
        return rc;
    tt_synth *s;
    if (tt_synth_open(&s, &m->cfg, ins, &err)) {
        tt_instruments_free(ins);
        return tt_report_error(&err);
    }
    static tt_event buf[4096];
    while (tt_synth_generate(s, buf, sizeof buf / sizeof buf[0]) > 0) {
    }
    spec.spot = tt_synth_mid(s, 0);
    char symbol[TT_SYMBOL_MAX];
    snprintf(symbol, sizeof symbol, "%s", tt_synth_instrument(s, 0)->symbol);
    tt_synth_close(s);
    tt_instruments_free(ins);

    tt_option_row *rows;
    size_t n;
    if (tt_option_chain_build(&spec, &rows, &n, &err))
        return tt_report_error(&err);
    FILE *out = out_path && strcmp(out_path, "-") ? fopen(out_path, "w") : stdout;
    if (!out) {
        free(rows);
        tt_err_set(&err, TT_EIO, "%s: cannot create: %s", out_path, strerror(errno));
        return tt_report_error(&err);
    }
    int csv = !args.jsonl;
    if (csv)
        fputs("symbol,expiry,days,strike,type,iv,price,delta,gamma,vega,theta,rho,"
              "open_interest,volume\n",
              out);
    for (size_t i = 0; i < n; i++) {
        const tt_option_row *r = &rows[i];
        char exp[48];
        tt_ts_format(r->expiry, exp, sizeof exp, 0);
        double days = r->T * 365.25;
        if (csv)
            fprintf(out, "%s,%s,%.0f,%.10g,%s,%.15g,%.10g,%.8f,%.8g,%.8g,%.8g,%.8g,%llu,%llu\n",
                    symbol, exp, days, r->strike, r->kind == TT_CALL ? "call" : "put", r->iv,
                    r->g.price, r->g.delta, r->g.gamma, r->g.vega, r->g.theta, r->g.rho,
                    (unsigned long long)r->open_interest, (unsigned long long)r->volume);
        else
            fprintf(out, "{\"symbol\":\"%s\",\"expiry\":\"%s\",\"days\":%.0f,\"strike\":%.10g,"
                         "\"type\":\"%s\",\"iv\":%.15g,\"price\":%.10g,\"delta\":%.8f,"
                         "\"gamma\":%.8g,\"vega\":%.8g,\"theta\":%.8g,\"rho\":%.8g,"
                         "\"open_interest\":%llu,\"volume\":%llu}\n",
                    symbol, exp, days, r->strike, r->kind == TT_CALL ? "call" : "put", r->iv,
                    r->g.price, r->g.delta, r->g.gamma, r->g.vega, r->g.theta, r->g.rho,
                    (unsigned long long)r->open_interest, (unsigned long long)r->volume);
    }
    if (out != stdout && fclose(out)) {
        free(rows);
        tt_err_set(&err, TT_EIO, "%s: write failed: %s", out_path, strerror(errno));
        return tt_report_error(&err);
    }
    /* per-expiry statistics: rows are grouped by expiry */
    FILE *info = json ? stdout : stderr;
    if (json)
        fprintf(info, "{\"symbol\":\"%s\",\"spot\":%.10g,\"rows\":%zu,\"put_call_ratio\":%.6f,"
                      "\"expiries\":[",
                symbol, spec.spot, n, tt_option_chain_put_call_ratio(rows, n));
    else
        fprintf(info, "%s spot %.10g: %zu rows, put/call open interest %.3f\n", symbol, spec.spot,
                n, tt_option_chain_put_call_ratio(rows, n));
    size_t a = 0;
    int k = 0;
    while (a < n) {
        size_t b = a;
        while (b < n && rows[b].expiry == rows[a].expiry)
            b++;
        char exp[48];
        tt_ts_format(rows[a].expiry, exp, sizeof exp, 0);
        double pcr = tt_option_chain_put_call_ratio(rows + a, b - a);
        double mp = tt_option_chain_max_pain(rows + a, b - a);
        if (json)
            fprintf(info, "%s{\"expiry\":\"%s\",\"put_call_ratio\":%.6f,\"max_pain\":%.10g}",
                    k ? "," : "", exp, pcr, mp);
        else
            fprintf(info, "  expiry %s: put/call %.3f, max pain %.10g\n", exp, pcr, mp);
        a = b;
        k++;
    }
    if (json)
        fprintf(info, "]}\n");
    free(rows);
    return TT_EXIT_OK;
}
