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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "data/tape.h"
#include "sim/options.h"
#include "sim/synth.h"

static const char *SYNTH_USAGE =
    "usage: ticktape synth [--model gbm|merton|heston|regime|ou] [--symbol S | --symbols A,B]\n"
    "                      [--from T] [--to T] [--seed N] [--param KEY=VALUE ...]\n"
    "                      [--instruments FILE] (--tape DIR | --csv FILE|- | --bench) [--json]\n"
    "       ticktape synth options --at T [market options as above] [--strikes N]\n"
    "                      [--step X] [--expiries 7,30,90] [--vol V] [--skew X] [--smile X]\n"
    "                      [--r R] [--q Q] [--format csv|jsonl] [-o FILE] [--json]\n\n"
    "Generates quote ticks from a seeded price model: same seed, same ticks, bit for bit.\n"
    "  --tape DIR      append one quote stream per symbol to the tape at DIR\n"
    "  --csv FILE      write time,symbol,bid,ask,bid_volume,ask_volume (- for stdout)\n"
    "  --bench         generate without writing and report ticks per second\n"
    "  --json          the summary as one JSON object, the last line of stdout\n"
    "                  (of stderr with --csv -, where stdout carries the ticks)\n"
    "  --param K=V     any synthetic key, e.g. --param mu=0 --param sigma=0.1 (annualized),\n"
    "                  --param tick_rate=4 --param corr=0.6 --param spread=0.8\n"
    "                  (all keys: docs/synthetic.md)\n"
    "Defaults: EURUSD, GBM sigma 8%/yr, 2 ticks/s with intraday seasonality, spread 0.8 pip\n"
    "widening at the 22:00 UTC rollover, weekends closed, 2024-01-01 for 7 days, seed 1.\n"
    "T is ISO 8601 (2024-01-01, 2024-01-01T10:00:00Z) or an integer with a unit (ms, ns, s).\n\n"
    "options: the underlying is generated from --from (default: 30 days before --at) to --at\n"
    "and its last mid is the spot; the chain holds puts and calls for each strike and expiry\n"
    "with Black-Scholes prices and greeks (vega and rho per 1.00, theta per year), open\n"
    "interest and volume; put-call ratio and max pain per expiry are reported (stderr,\n"
    "or the last stdout line with --json).\n";

typedef struct market_opts {
    tt_synth_config cfg;
    const char *instruments;
    int from_set;
} market_opts;

/* Market options shared by both forms. Returns 1 when the option was taken,
 * 0 when it is not a market option, or an exit code + 100 on error. */
static int market_option(market_opts *m, const tt_opt *o, const char *cmd)
{
    static const char *const direct[] = {"model", "symbol", "symbols", "from", "to", "seed", NULL};
    tt_err err;
    for (const char *const *d = direct; *d; d++) {
        if (!tt_opt_is(o, *d))
            continue;
        if (!o->value)
            return 100 + tt_usage_error(cmd, "--%s needs a value", *d);
        if (tt_synth_config_set(&m->cfg, *d, o->value, &err))
            return 100 + tt_usage_error(cmd, "%s", err.msg);
        if (!strcmp(*d, "from"))
            m->from_set = 1;
        return 1;
    }
    if (tt_opt_is(o, "param")) {
        if (!o->value)
            return 100 + tt_usage_error(cmd, "--param needs KEY=VALUE");
        const char *eq = strchr(o->value, '=');
        if (!eq || eq == o->value)
            return 100 + tt_usage_error(cmd, "--param '%s' is not KEY=VALUE", o->value);
        char key[64];
        size_t k = (size_t)(eq - o->value);
        if (k >= sizeof key)
            return 100 + tt_usage_error(cmd, "--param key too long");
        memcpy(key, o->value, k);
        key[k] = 0;
        if (tt_synth_config_set(&m->cfg, key, eq + 1, &err))
            return 100 + tt_usage_error(cmd, "%s", err.msg);
        if (!strcmp(key, "from"))
            m->from_set = 1;
        return 1;
    }
    if (tt_opt_is(o, "instruments")) {
        if (!o->value)
            return 100 + tt_usage_error(cmd, "--instruments needs a file");
        m->instruments = o->value;
        return 1;
    }
    return 0;
}

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
    fprintf(f, "%s,%s,%s,%s,%g,%g\n", t, in->symbol, b, a, (double)e->u.quote.bid_vol,
            (double)e->u.quote.ask_vol);
}

static int synth_market(int argc, char **argv)
{
    market_opts m;
    memset(&m, 0, sizeof m);
    tt_synth_config_init(&m.cfg);
    const char *tape = NULL, *csv = NULL;
    int bench = 0, json = 0;
    tt_opt o;
    static const char *const flags[] = {"bench", "json", "help", "h", NULL};
    tt_opt_init(&o, argc, argv);
    while (tt_opt_next(&o, flags)) {
        int r = o.name ? market_option(&m, &o, "synth") : 0;
        if (r >= 100)
            return r - 100;
        if (r == 1)
            continue;
        if (tt_opt_is(&o, "help") || tt_opt_is(&o, "h")) {
            fputs(SYNTH_USAGE, stdout);
            return TT_EXIT_OK;
        } else if (tt_opt_is(&o, "tape") && o.value) {
            tape = o.value;
        } else if (tt_opt_is(&o, "csv") && o.value) {
            csv = o.value;
        } else if (tt_opt_is(&o, "bench")) {
            bench = 1;
        } else if (tt_opt_is(&o, "json")) {
            json = 1;
        } else {
            return tt_usage_error("synth", "unexpected argument '%s'%s",
                                  o.name ? o.name : o.value,
                                  o.name && !o.value ? " (missing value?)" : "");
        }
    }
    if (!!tape + !!csv + bench != 1)
        return tt_usage_error("synth", "give exactly one of --tape DIR, --csv FILE, --bench "
                                       "(ticktape synth --help)");
    tt_err err;
    if (tt_synth_config_check(&m.cfg, &err))
        return tt_usage_error("synth", "%s", err.msg);

    tt_instruments *ins;
    int rc = load_instruments(&m, &ins);
    if (rc)
        return rc;
    tt_synth *s = NULL;
    tt_tape_writer *w[TT_SYNTH_MAX_SYMBOLS] = {0};
    uint32_t wid[TT_SYNTH_MAX_SYMBOLS] = {0};
    FILE *out = NULL;
    int exit_code = TT_EXIT_OK;
    if (tt_synth_open(&s, &m.cfg, ins, &err)) {
        exit_code = tt_report_error(&err);
        goto done;
    }
    int n = m.cfg.nsymbols;
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
        tt_progress_update(&prog, (uint64_t)((double)(last - m.cfg.from) /
                                             (double)(m.cfg.to - m.cfg.from) * 1000.0));
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
                tt_synth_model_name(m.cfg.model), (unsigned long long)m.cfg.seed,
                (unsigned long long)total, secs, rate);
        for (int i = 0; i < n; i++)
            fprintf(info, "%s\"%s\"", i ? "," : "", tt_synth_instrument(s, i)->symbol);
        fprintf(info, "]");
        if (tape)
            fprintf(info, ",\"tape\":\"%s\"", tape);
        fprintf(info, "}\n");
    } else {
        fprintf(info, "synth %s seed %llu: %llu ticks for %d symbol(s) in %.3f s (%.1fM ticks/s)%s%s\n",
                tt_synth_model_name(m.cfg.model), (unsigned long long)m.cfg.seed,
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

static int parse_double_opt(const char *cmd, const tt_opt *o, double *out)
{
    char *end;
    if (!o->value)
        return tt_usage_error(cmd, "--%s needs a number", o->name);
    errno = 0;
    *out = strtod(o->value, &end);
    if (end == o->value || *end || errno)
        return tt_usage_error(cmd, "--%s: '%s' is not a number", o->name, o->value);
    return 0;
}

static int synth_options(int argc, char **argv)
{
    const char *cmd = "synth options";
    market_opts m;
    memset(&m, 0, sizeof m);
    tt_synth_config_init(&m.cfg);
    tt_option_chain_spec spec;
    tt_option_chain_spec_init(&spec);
    const char *out_path = NULL, *format = "csv";
    int json = 0, at_set = 0, vol_set = 0;
    tt_opt o;
    static const char *const flags[] = {"json", "help", "h", NULL};
    tt_opt_init(&o, argc, argv);
    while (tt_opt_next(&o, flags)) {
        int r = o.name ? market_option(&m, &o, cmd) : 0;
        if (r >= 100)
            return r - 100;
        if (r == 1)
            continue;
        if (tt_opt_is(&o, "help") || tt_opt_is(&o, "h")) {
            fputs(SYNTH_USAGE, stdout);
            return TT_EXIT_OK;
        } else if (tt_opt_is(&o, "at")) {
            if (!o.value || tt_ts_parse(o.value, &spec.at))
                return tt_usage_error(cmd, "--at: '%s' is not a time", o.value ? o.value : "");
            at_set = 1;
        } else if (tt_opt_is(&o, "strikes")) {
            uint64_t k;
            if (!o.value || tt_parse_u64(o.value, &k) || k < 1 || k > 10001)
                return tt_usage_error(cmd, "--strikes: need a count in 1..10001");
            spec.nstrikes = (int)k;
        } else if (tt_opt_is(&o, "expiries")) {
            if (!o.value)
                return tt_usage_error(cmd, "--expiries needs a list of days");
            char buf[256];
            snprintf(buf, sizeof buf, "%s", o.value);
            spec.nexpiries = 0;
            char *save = NULL;
            for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                char *end;
                long long days = strtoll(t, &end, 10);
                if (*end == 'd')
                    end++;
                if (end == t || *end || days < 1 || spec.nexpiries >= 16)
                    return tt_usage_error(cmd, "--expiries: '%s' is not a list of up to 16 day "
                                               "counts (7,30,90)", o.value);
                spec.expiry_days[spec.nexpiries++] = days;
            }
            if (!spec.nexpiries)
                return tt_usage_error(cmd, "--expiries: empty list");
        } else if (tt_opt_is(&o, "step")) {
            if ((r = parse_double_opt(cmd, &o, &spec.strike_step)))
                return r;
        } else if (tt_opt_is(&o, "vol")) {
            if ((r = parse_double_opt(cmd, &o, &spec.atm_vol)))
                return r;
            vol_set = 1;
        } else if (tt_opt_is(&o, "skew")) {
            if ((r = parse_double_opt(cmd, &o, &spec.skew)))
                return r;
        } else if (tt_opt_is(&o, "smile")) {
            if ((r = parse_double_opt(cmd, &o, &spec.smile)))
                return r;
        } else if (tt_opt_is(&o, "r")) {
            if ((r = parse_double_opt(cmd, &o, &spec.r)))
                return r;
        } else if (tt_opt_is(&o, "q")) {
            if ((r = parse_double_opt(cmd, &o, &spec.q)))
                return r;
        } else if (tt_opt_is(&o, "format") && o.value) {
            format = o.value;
            if (strcmp(format, "csv") && strcmp(format, "jsonl"))
                return tt_usage_error(cmd, "--format: '%s' is not csv or jsonl", format);
        } else if ((tt_opt_is(&o, "o") || tt_opt_is(&o, "out")) && o.value) {
            out_path = o.value;
        } else if (tt_opt_is(&o, "json")) {
            json = 1;
        } else {
            return tt_usage_error(cmd, "unexpected argument '%s'", o.name ? o.name : o.value);
        }
    }
    if (!at_set)
        return tt_usage_error(cmd, "missing --at T (the valuation time)");
    m.cfg.to = spec.at + 1;
    if (!m.from_set)
        m.cfg.from = spec.at - 30 * TT_NS_PER_DAY;
    if (m.cfg.nsymbols != 1)
        return tt_usage_error(cmd, "one underlying symbol, please (--symbol S)");
    tt_err err;
    if (tt_synth_config_check(&m.cfg, &err))
        return tt_usage_error(cmd, "%s", err.msg);
    if (!vol_set)
        spec.atm_vol = m.cfg.model == TT_SYNTH_REGIME ? m.cfg.regime_sigma[0] : m.cfg.sigma;
    spec.seed = m.cfg.seed;

    tt_instruments *ins;
    int rc = load_instruments(&m, &ins);
    if (rc)
        return rc;
    tt_synth *s;
    if (tt_synth_open(&s, &m.cfg, ins, &err)) {
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
    int csv = !strcmp(format, "csv");
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

int tt_cmd_synth(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "options"))
        return synth_options(argc - 1, argv + 1);
    return synth_market(argc, argv);
}
