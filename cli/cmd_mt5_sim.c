/*
 * `ticktape mt5-sim --connect HOST:PORT --tape TAPE`: a MetaTrader 5
 * terminal stand-in (live/mt5_term.h over the broker model live/mt5_sim.h).
 * It connects to ticktape as the TicktapeBridge EA does, streams the tape as
 * the broker's quotes, executes the orders with MT5's rules and the faults
 * asked for, and writes its deal log. For dry runs of `ticktape live` and
 * for tests. SIGINT or SIGTERM stop it: BYE, then the deal log.
 */
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "core/portfolio.h"
#include "live/mt5_term.h"

#define MAX_FAULTS 32

typedef struct sim_opts {
    tt_hostport connect;
    const char *tape, *deals, *secret_file, *symbols, *instruments_file, *tls_ca;
    const char *faults[MAX_FAULTS + 1];
    int nfaults;
    double speed, rate, balance, leverage, stop_out, commission, tz_hours, give_up;
    int mode, json, tls, tls_no_verify;
    uint64_t stops, freeze, login;
    tt_ts from, to;
} sim_opts;

static tt_mt5_term *g_term; /* for the signal handler only: the CLI owns the process */

static void on_signal(int sig)
{
    (void)sig;
    if (g_term)
        tt_mt5_term_stop(g_term);
}

static void log_stderr(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "ticktape mt5-sim: %s\n", line);
}

/* --speed max|K: 0 for max. */
static int opt_speed(void *opts, const tt_opt *o, const char *value, tt_err *err)
{
    double *speed = tt_opt_field(opts, o);
    char *e;
    if (!strcmp(value, "max")) {
        *speed = 0;
        return TT_OK;
    }
    *speed = strtod(value, &e);
    if (e == value || *e || !(*speed > 0))
        return tt_err_set(err, TT_EINVAL, "--%s: expected max or a positive number, got '%s'",
                          o->name, value);
    return TT_OK;
}

#define F(field) offsetof(sim_opts, field)

static const tt_opt SIM_OPTS[] = {
    {TT_OPT_CUSTOM, "connect", .off = F(connect), .arg = "HOST:PORT", .set = tt_opt_hostport,
     .flags = TT_OPT_REQUIRED, .help = "ticktape's address (ticktape live --mt5 HOST:PORT)"},
    {TT_OPT_STRING, "tape", .off = F(tape), .arg = "DIR", .flags = TT_OPT_REQUIRED,
     .help = "the broker's quotes"},
    {TT_OPT_CUSTOM, "speed", .off = F(speed), .arg = "max|K", .set = opt_speed, .def = "max",
     .help = "K times real time by the tape's timestamps, or as fast as ticktape takes them"},
    {TT_OPT_DOUBLE, "rate", .off = F(rate), .arg = "N", .min = 0, .max = 1e7,
     .flags = TT_OPT_MIN_OPEN, .help = "N quotes per second, whatever their timestamps"},
    {TT_OPT_ENUM, "account", .off = F(mode), .values = tt_account_modes,
     .ivals = tt_account_mode_values, .def = "netting", .help = "the account's position mode"},
    {TT_OPT_LIST, "fault", .off = F(faults), .count_off = F(nfaults), .max_count = MAX_FAULTS,
     .arg = "SPEC", .help = "inject a fault: KIND[:key=value,...] (docs/mt5-protocol.md, Faults)"},
    {TT_OPT_STRING, "deals", .off = F(deals), .arg = "FILE",
     .help = "write the deal log (CSV, one row per deal) at the end"},
    {TT_OPT_STRING, "secret-file", .off = F(secret_file), .arg = "FILE",
     .def_text = "$TT_MT5_SECRET", .help = "the shared secret (mode 600)"},
    {TT_OPT_FLAG, "tls", .off = F(tls),
     .help = "connect with TLS (as the EA's InpTls), the certificate checked against the "
             "system's roots and the --connect host"},
    {TT_OPT_STRING, "tls-ca", .off = F(tls_ca), .arg = "FILE",
     .help = "TLS, the certificate checked against these (PEM) instead"},
    {TT_OPT_FLAG, "tls-no-verify", .off = F(tls_no_verify),
     .help = "TLS, any certificate accepted (tests only: no protection from a man in the "
             "middle)"},
    {TT_OPT_STRING, "symbols", .off = F(symbols), .arg = "A,B", .def_text = "every quote stream",
     .help = "the tape's symbols the broker quotes"},
    {TT_OPT_TIME, "from", .off = F(from), .help = "start of the tape's range"},
    {TT_OPT_TIME, "to", .off = F(to), .help = "end of the tape's range (exclusive)"},
    {TT_OPT_DOUBLE, "balance", .off = F(balance), .arg = "AMOUNT", .min = 0, .max = 1e12,
     .def = "10000", .help = "the account's balance in its currency"},
    {TT_OPT_DOUBLE, "leverage", .off = F(leverage), .arg = "N", .min = 1, .max = 10000,
     .def = "100", .help = "the account's leverage"},
    {TT_OPT_DOUBLE, "stop-out", .off = F(stop_out), .arg = "PCT", .min = 0, .max = 1000,
     .def = "50", .help = "margin level (percent) at which positions are stopped out; 0 = never"},
    {TT_OPT_DOUBLE, "commission", .off = F(commission), .arg = "X", .min = 0, .max = 1000,
     .def = "0", .help = "commission per lot per side, account currency"},
    {TT_OPT_UINT, "stops", .off = F(stops), .arg = "POINTS", .max = 100000, .def = "0",
     .help = "every symbol's stops level"},
    {TT_OPT_UINT, "freeze", .off = F(freeze), .arg = "POINTS", .max = 100000, .def = "0",
     .help = "every symbol's freeze level"},
    {TT_OPT_DOUBLE, "tz", .off = F(tz_hours), .arg = "HOURS", .min = -14, .max = 14, .def = "2",
     .help = "the trade server's time zone (its clock is UTC + HOURS)"},
    {TT_OPT_UINT, "login", .off = F(login), .arg = "N", .min = 1, .max = 1e15, .def = "5012345",
     .help = "the account login in HELLO"},
    {TT_OPT_DOUBLE, "give-up", .off = F(give_up), .arg = "S", .min = 0, .max = 1e6, .def = "0",
     .help = "exit when ticktape has been unreachable S seconds (0 = keep trying)"},
    {TT_OPT_STRING, "instruments", .off = F(instruments_file), .arg = "FILE",
     .help = "extra instrument declarations (docs/instruments.md)"},
    {TT_OPT_FLAG, "json", .off = F(json), .help = "last line of stdout: a JSON summary"},
    {TT_OPT_END},
};

static int run_mt5_sim(int argc, char **argv);

const tt_cmd tt_command_mt5_sim = {
    .name = "mt5-sim",
    .summary = "a MetaTrader 5 terminal stand-in for dry runs and tests",
    .run = run_mt5_sim,
    .opts = SIM_OPTS,
    .size = sizeof(sim_opts),
    .about = "Connects to ticktape as the TicktapeBridge EA does (docs/mt5-protocol.md),\n"
             "streams the tape as the broker's quotes, executes orders with MT5's rules\n"
             "(volume step, stops and freeze levels, filling modes, netting or hedging,\n"
             "commissions, swaps) and the faults asked for, and writes its deal log. The\n"
             "market opens when ticktape has subscribed and taken its snapshot; at the end\n"
             "of the tape it says BYE. SIGINT or SIGTERM stop it (BYE, then the deal log).\n",
    .epilog = "exit codes: 0 the tape ended or it was stopped, 1 failure (ticktape failed to\n"
              "prove the secret, unreachable for --give-up seconds), 2 usage error\n",
};

static int run_mt5_sim(int argc, char **argv)
{
    sim_opts a;
    memset(&a, 0, sizeof a);
    int code = tt_opts_parse(&tt_command_mt5_sim, &a, argc, argv, NULL);
    if (code != TT_OPTS_RUN)
        return code;
    tt_err err;
    char secret[512];
    if (tt_mt5_secret(a.secret_file, secret, sizeof secret, &err))
        return tt_usage_error("mt5-sim", "%s", err.msg);
    char symbuf[1024];
    const char *syms[65] = {NULL};
    if (a.symbols) {
        snprintf(symbuf, sizeof symbuf, "%s", a.symbols);
        int n = 0;
        for (char *s = NULL, *t = strtok_r(symbuf, ",", &s); t && n < 64; t = strtok_r(NULL, ",", &s))
            syms[n++] = t;
    }
    a.faults[a.nfaults] = NULL;
    tt_mt5_term_opts o;
    memset(&o, 0, sizeof o);
    o.host = a.connect.host;
    o.port = a.connect.port;
    o.secret = secret;
    o.tls = a.tls || a.tls_ca || a.tls_no_verify;
    o.tls_ca = a.tls_ca;
    o.tls_verify = !a.tls_no_verify;
    o.tape_dir = a.tape;
    o.symbols = a.symbols ? syms : NULL;
    o.from = a.from;
    o.to = a.to;
    o.speed = a.speed;
    o.rate = a.rate;
    tt_mt5_sim_config_default(&o.account);
    o.account.mode = a.mode == TT_MODE_HEDGING ? TT_MT5_HEDGING : TT_MT5_NETTING;
    o.account.balance = (tt_money)llround(a.balance * 100);
    o.account.leverage = a.leverage;
    o.account.stop_out = a.stop_out;
    o.account.tz = (int32_t)llround(a.tz_hours * 3600);
    o.account.login = a.login;
    o.account.stops = (uint32_t)a.stops;
    o.account.freeze = (uint32_t)a.freeze;
    o.account.comm = (tt_mt5_dec)llround(a.commission * TT_MT5_DEC_ONE);
    o.faults = a.faults;
    o.deals_path = a.deals;
    o.instruments_file = a.instruments_file;
    o.give_up_ms = (int64_t)(a.give_up * 1000);
    o.log = log_stderr;
    tt_mt5_term *t;
    if (tt_mt5_term_new(&t, &o, &err))
        return strstr(err.msg, "--fault") ? tt_usage_error("mt5-sim", "%s", err.msg)
                                         : tt_report_error(&err);
    g_term = t;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int rc = tt_mt5_term_run(t, &err);
    const tt_mt5_term_stats *st = tt_mt5_term_stats_get(t);
    fprintf(stderr, "ticktape mt5-sim: ticks %llu (sent %llu), requests %llu, deals %llu, "
            "sessions %llu, drops %llu\n", (unsigned long long)st->ticks,
            (unsigned long long)st->ticks_sent, (unsigned long long)st->requests,
            (unsigned long long)st->deals, (unsigned long long)st->connections,
            (unsigned long long)st->drops);
    if (a.json)
        printf("{\"ticks\":%llu,\"ticks_sent\":%llu,\"requests\":%llu,\"deals\":%llu,"
               "\"sessions\":%llu,\"drops\":%llu,\"bad_frames\":%llu}\n",
               (unsigned long long)st->ticks, (unsigned long long)st->ticks_sent,
               (unsigned long long)st->requests, (unsigned long long)st->deals,
               (unsigned long long)st->connections, (unsigned long long)st->drops,
               (unsigned long long)st->bad_frames);
    g_term = NULL;
    tt_mt5_term_free(t);
    memset(secret, 0, sizeof secret);
    return rc ? tt_report_error(&err) : TT_EXIT_OK;
}
