/*
 * `ticktape bars`: OHLCV bars of one symbol, built from the tape's quote ticks.
 *
 * Reads the symbol's quote stream through the tape reader and feeds one
 * tt_bar_builder (core/bars.h), so the bars printed here are exactly the bars a
 * run's bar component emits. The last bar of the selection is printed too
 * (flushed), even when the data ends inside its period; --no-partial drops it.
 * Prices are printed as exact decimals at the instrument's precision; volumes
 * as the exact sum of the ticks' decimal volumes (core/decimal.h), kept next
 * to the builder's binary sum (1376.16, not 1376.1600006818771).
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "commands.h"
#include "core/bars.h"
#include "core/decimal.h"
#include "core/instrument.h"
#include "data/tape.h"

#define CSV_HEADER "time,open,high,low,close,volume,ticks\n"

/* The volume as printed: the exact sum of the ticks' decimals when it is
 * known, else the binary sum's shortest decimal; NaN (a source without
 * volumes) is null in JSON. */
static void write_volume(FILE *f, const tt_bar *b, const tt_decimal *exact, int jsonl)
{
    char buf[48];
    if (isnan(b->volume)) {
        fputs(jsonl ? "null" : "nan", f);
        return;
    }
    if (!exact || tt_decimal_format(exact, buf, sizeof buf) != 0)
        tt_double_format(b->volume, buf, sizeof buf);
    fputs(buf, f);
}

static void write_bar(FILE *f, const tt_instrument *ins, const tt_event *ev, int jsonl, int tfmt,
                      const tt_decimal *volume)
{
    const tt_bar *b = &ev->u.bar;
    char o[48], h[48], l[48], c[48];
    tt_price_format(ins, b->open, o, sizeof o);
    tt_price_format(ins, b->high, h, sizeof h);
    tt_price_format(ins, b->low, l, sizeof l);
    tt_price_format(ins, b->close, c, sizeof c);
    if (jsonl) {
        fputs("{\"time\":", f);
        if (tfmt == TT_TIME_ISO)
            fputc('"', f);
        tt_time_format_write(f, ev->ts, tfmt);
        if (tfmt == TT_TIME_ISO)
            fputc('"', f);
        fprintf(f, ",\"open\":%s,\"high\":%s,\"low\":%s,\"close\":%s,\"volume\":", o, h, l, c);
        write_volume(f, b, volume, 1);
        fprintf(f, ",\"ticks\":%u}\n", (unsigned)b->ticks);
    } else {
        tt_time_format_write(f, ev->ts, tfmt);
        fprintf(f, ",%s,%s,%s,%s,", o, h, l, c);
        write_volume(f, b, volume, 0);
        fprintf(f, ",%u\n", (unsigned)b->ticks);
    }
}

/* A quote's volume on the chosen side, as an exact decimal (mid: the mean). */
static tt_decimal tick_volume(const tt_event *q, int side)
{
    if (side == TT_SIDE_BID)
        return tt_decimal_from_float(q->u.quote.bid_vol);
    if (side == TT_SIDE_ASK)
        return tt_decimal_from_float(q->u.quote.ask_vol);
    tt_decimal d = tt_decimal_from_float(q->u.quote.bid_vol);
    tt_decimal_add(&d, tt_decimal_from_float(q->u.quote.ask_vol));
    tt_decimal_half(&d);
    return d;
}

/* Nothing was read: an empty range is fine, but a symbol without a quote stream is
 * most likely a typo or the wrong tape, so say what the tape holds. */
static int check_stream(const char *tape, const char *symbol, tt_err *err)
{
    tt_tape_info info;
    memset(&info, 0, sizeof info);
    if (tt_tape_info_read(tape, &info, err))
        return tt_report_error(err);
    char have[512] = "";
    size_t len = 0;
    int found = 0;
    for (uint32_t i = 0; i < info.nstreams; i++) {
        const tt_stream_desc *d = &info.streams[i].desc;
        if (d->kind != TT_STREAM_QUOTE)
            continue;
        if (!strcasecmp(d->symbol, symbol))
            found = 1;
        if (len < sizeof have - TT_SYMBOL_MAX - 3)
            len += (size_t)snprintf(have + len, sizeof have - len, "%s%s", len ? ", " : "",
                                    d->symbol);
    }
    tt_tape_info_free(&info);
    if (found)
        return TT_EXIT_OK;
    tt_err_set(err, TT_ENOTFOUND, "%s: no quote stream for %s (quotes of: %s)", tape, symbol,
               len ? have : "none");
    return tt_report_error(err);
}

typedef struct bars_opts {
    const char *tape, *symbol, *inst_path;
    int tf, side, jsonl, tfmt, no_partial;
    tt_ts from, to;
} bars_opts;

#define F(field) offsetof(bars_opts, field)

static const tt_opt BARS_OPTS[] = {
    {TT_OPT_ARG, .arg = "TAPE", .off = F(tape), .flags = TT_OPT_REQUIRED,
     .help = "the tape directory"},
    {TT_OPT_STRING, "symbol", .off = F(symbol), .arg = "S", .flags = TT_OPT_REQUIRED,
     .help = "instrument, e.g. EURUSD"},
    {TT_OPT_TIMEFRAME, "timeframe", .off = F(tf), .flags = TT_OPT_REQUIRED,
     .help = "S1 M1 M5 M15 M30 H1 H4 D1 W1 MN1 (or 1m 5m 1h ...)"},
    {TT_OPT_ENUM, "side", .off = F(side), .values = (const char *const[]){"bid", "ask", "mid",
     NULL}, .ivals = (const int[]){TT_SIDE_BID, TT_SIDE_ASK, TT_SIDE_MID}, .def = "bid",
     .help = "the price side; mid = (bid+ask)/2 rounded half to even"},
    {TT_OPT_ENUM, "format", .off = F(jsonl), .values = (const char *const[]){"csv", "jsonl",
     NULL}, .def = "csv", .help = "CSV with a header line, or JSON lines"},
    {TT_OPT_ENUM, "time-format", .off = F(tfmt), .values = tt_time_format_names, .def = "iso",
     .help = "how times are written"},
    {TT_OPT_TIME, "from", .off = F(from), .help = "start of the ticks read (inclusive)"},
    {TT_OPT_TIME, "to", .off = F(to), .help = "end of the ticks read (exclusive)"},
    {TT_OPT_STRING, "instruments", .off = F(inst_path), .arg = "FILE",
     .help = "extra instrument definitions (docs/instruments.md)"},
    {TT_OPT_FLAG, "no-partial", .off = F(no_partial),
     .help = "do not print the last bar when the data ends inside it"},
    {TT_OPT_END},
};

static int run_bars(int argc, char **argv);

const tt_cmd tt_command_bars = {
    .name = "bars",
    .summary = "print OHLCV bars (S1..MN1) built from a tape's quotes",
    .run = run_bars,
    .opts = BARS_OPTS,
    .size = sizeof(bars_opts),
    .about = "Print the OHLCV bars of SYMBOL built from the tape's quote ticks, exactly the\n"
             "bars a run's bar component emits (docs/bars.md).\n",
    .epilog = "Periods are UTC, [open, close); W1 opens Monday 00:00 UTC, MN1 on the 1st.\n"
              "time = the bar's open time. volume = sum of the side's tick volumes (mid: their\n"
              "mean); ticks = number of quotes. Periods without a tick have no bar.\n"
              "CSV header: time,open,high,low,close,volume,ticks\n\n"
              "exit codes: 0 done, 3 a torn tape tail (the complete blocks' bars printed),\n"
              "1 failure, 2 usage error\n",
};

static int run_bars(int argc, char **argv)
{
    bars_opts o;
    memset(&o, 0, sizeof o);
    int rc = tt_opts_parse(&tt_command_bars, &o, argc, argv, NULL);
    if (rc != TT_OPTS_RUN)
        return rc;
    const char *tape = o.tape, *symbol = o.symbol, *inst_path = o.inst_path;
    int tf = o.tf, side = o.side, jsonl = o.jsonl, tfmt = o.tfmt, partial = !o.no_partial;
    tt_ts from = o.from, to = o.to;
    if (from && to && from >= to)
        return tt_usage_error("bars", "--from must be earlier than --to");

    tt_err err;
    tt_err_clear(&err);
    rc = TT_EXIT_OK;
    tt_tape_reader *r = NULL;
    const tt_instrument *ins;
    tt_instruments *instruments = tt_instruments_new();
    if (!instruments) {
        tt_err_set(&err, TT_ENOMEM, "out of memory");
        return tt_report_error(&err);
    }
    if ((inst_path && tt_instruments_load(instruments, inst_path, &err)) ||
        tt_instruments_require(instruments, symbol, &ins, &err)) {
        rc = tt_report_error(&err);
        goto done;
    }
    const char *syms[2] = {symbol, NULL};
    tt_tape_query q;
    memset(&q, 0, sizeof q);
    q.symbols = syms;
    q.kinds = 1u << TT_STREAM_QUOTE;
    q.from = from;
    q.to = to;
    if (tt_tape_reader_open(&r, tape, &q, instruments, &err)) {
        rc = tt_report_error(&err);
        goto done;
    }

    /* One symbol is read, so the builder takes every quote (symbol 0). */
    tt_bar_builder b;
    tt_bar_builder_init(&b, 0, tf, side, NULL);
    tt_progress prog;
    tt_progress_start(&prog, "bars", 0);
    uint64_t n = 0, n_bars = 0;
    tt_event ev, bar;
    tt_decimal volume = {0, 0, 0}; /* the exact volume of the bar in progress */
    for (;;) {
        int s = tt_tape_reader_next(r, &ev, &err);
        if (s < 0) {
            rc = tt_report_error(&err);
            goto done;
        }
        if (s == 0)
            break;
        uint64_t skipped = b.skipped;
        s = tt_bar_builder_update(&b, &ev, &bar, &err);
        if (s < 0) {
            tt_err_prefix(&err, "%s: %s: ", tape, symbol);
            rc = tt_report_error(&err);
            goto done;
        }
        if (s) { /* the closed bar holds the quotes before this one */
            if (n_bars++ == 0 && !jsonl)
                fputs(CSV_HEADER, stdout);
            write_bar(stdout, ins, &bar, jsonl, tfmt, &volume);
            volume = (tt_decimal){0, 0, 0};
        }
        if (b.skipped == skipped)
            tt_decimal_add(&volume, tick_volume(&ev, side));
        if ((++n & 0xffff) == 0)
            tt_progress_update(&prog, n);
    }
    if (n == 0 && (rc = check_stream(tape, ins->symbol, &err)) != TT_EXIT_OK)
        goto done;
    if (n_bars == 0 && !jsonl)
        fputs(CSV_HEADER, stdout); /* an empty range still gets its header */
    if (partial && tt_bar_builder_flush(&b, &bar))
        write_bar(stdout, ins, &bar, jsonl, tfmt, &volume);
    tt_progress_finish(&prog);
    if (b.skipped)
        fprintf(stderr, "ticktape bars: %llu quotes without a %s price were skipped\n",
                (unsigned long long)b.skipped, tt_price_side_name(side));
    for (int i = 0; i < tt_tape_reader_warning_count(r); i++)
        fprintf(stderr, "ticktape: warning: %s\n", tt_tape_reader_warning(r, i));
    if (tt_tape_reader_warning_count(r))
        rc = TT_EXIT_PARTIAL;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        tt_err_set(&err, TT_EIO, "writing the bars to standard output failed");
        rc = tt_report_error(&err);
    }
done:
    if (r)
        tt_tape_reader_close(r);
    tt_instruments_free(instruments);
    return rc;
}
