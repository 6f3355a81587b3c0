/*
 * ticktape import polygon|csv|mt5|hdf5: the text and HDF5 importers.
 *
 * Each command parses its options, builds a tt_import pipeline (quality
 * filter and tape writer per stream, data/text_import.h) and hands every
 * input file to the format's reader in data/. The options shared by all four
 * (tape, instruments, quality settings, quarantine, --json) are parsed by
 * one function. Exit codes: 0 when every row was read, 3 when some rows were
 * bad (the rest was imported), 1 when the import could not proceed, 2 for
 * usage errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "core/instrument.h"
#include "data/csv_import.h"
#include "data/hdf5_io.h"
#include "data/mt5.h"
#include "data/polygon.h"
#include "data/quality.h"
#include "data/text_import.h"

#define MAX_FILES 4096
#define MAX_SYMBOLS 64

typedef struct common {
    const char *cmd;
    const char *tape;
    const char *instruments_file;
    tt_quality_config qc;
    int json;
    int dry_run;
    uint32_t max_logged;
    const char *files[MAX_FILES];
    int nfiles;
    const char *symbols[MAX_SYMBOLS + 1];
    int nsymbols;
    tt_instruments *ins;
} common;

static const char *const FLAGS[] = {"json", "dry-run", "header", "no-header", "help", NULL};

/* Returns 1 when the option was a common one, 0 when not, or an exit code + 10 on error. */
static int common_opt(common *c, const tt_opt *o)
{
    tt_err err;
    if (!o->name) {
        if (c->nfiles >= MAX_FILES)
            return 10 + tt_usage_error(c->cmd, "too many files (at most %d)", MAX_FILES);
        c->files[c->nfiles++] = o->value;
        return 1;
    }
    if (tt_opt_is(o, "tape")) {
        c->tape = o->value;
    } else if (tt_opt_is(o, "instruments")) {
        c->instruments_file = o->value;
    } else if (tt_opt_is(o, "quality")) {
        if (tt_quality_config_set(&c->qc, o->value, &err))
            return 10 + tt_usage_error(c->cmd, "--quality: %s", err.msg);
    } else if (tt_opt_is(o, "quarantine")) {
        c->qc.quarantine = o->value;
    } else if (tt_opt_is(o, "json")) {
        c->json = 1;
    } else if (tt_opt_is(o, "dry-run")) {
        c->dry_run = 1;
    } else if (tt_opt_is(o, "max-errors")) {
        uint64_t v;
        if (tt_parse_u64(o->value, &v) || v == 0 || v > 1000000)
            return 10 + tt_usage_error(c->cmd, "--max-errors: a number from 1 to 1000000");
        c->max_logged = (uint32_t)v;
    } else if (tt_opt_is(o, "symbol")) {
        if (c->nsymbols >= MAX_SYMBOLS)
            return 10 + tt_usage_error(c->cmd, "too many --symbol options");
        c->symbols[c->nsymbols++] = o->value;
        c->symbols[c->nsymbols] = NULL;
    } else {
        return 0;
    }
    if (!tt_opt_is(o, "json") && !tt_opt_is(o, "dry-run") && !o->value)
        return 10 + tt_usage_error(c->cmd, "--%s needs a value", o->name);
    return 1;
}

static const char COMMON_HELP[] =
    "  --tape DIR          tape to import into (required unless --dry-run)\n"
    "  --instruments FILE  extra instrument declarations (docs/instruments.md)\n"
    "  --quality KEY=VAL   data-quality rule setting (repeatable; see below)\n"
    "  --quarantine FILE   write dropped and repaired ticks to this CSV file\n"
    "  --max-errors N      list at most N bad rows (all are counted; default 20)\n"
    "  --dry-run           read and check, write nothing\n"
    "  --json              last line of stdout: the counts as one JSON object\n"
    "\nExit: 0 all rows read, 3 some rows were bad (the rest was imported),\n"
    "1 the import could not proceed, 2 usage error.\n";

static void print_help(const char *usage)
{
    fputs(usage, stdout);
    fputs(COMMON_HELP, stdout);
    fputs("\nquality settings:\n", stdout);
    fputs(tt_quality_config_help(), stdout);
}

static void common_init(common *c, const char *cmd)
{
    memset(c, 0, sizeof *c);
    c->cmd = cmd;
    tt_quality_config_default(&c->qc);
}

/* Validate the common options and load the instrument table. Returns an exit code or -1 to go on. */
static int common_ready(common *c)
{
    if (!c->nfiles)
        return tt_usage_error(c->cmd, "no input file given (--help for usage)");
    if (!c->tape && !c->dry_run)
        return tt_usage_error(c->cmd, "--tape DIR is required (or --dry-run)");
    c->ins = tt_instruments_new();
    if (!c->ins) {
        fprintf(stderr, "ticktape: error: out of memory\n");
        return TT_EXIT_FAIL;
    }
    if (c->instruments_file) {
        tt_err err;
        if (tt_instruments_load(c->ins, c->instruments_file, &err))
            return tt_report_error(&err);
    }
    return -1;
}

static const tt_instrument *one_symbol(common *c, int required, int *rc)
{
    *rc = -1;
    if (c->nsymbols == 0) {
        if (required)
            *rc = tt_usage_error(c->cmd, "--symbol is required: the file does not name it");
        return NULL;
    }
    if (c->nsymbols > 1) {
        *rc = tt_usage_error(c->cmd, "give one --symbol for this input");
        return NULL;
    }
    const tt_instrument *ins;
    tt_err err;
    if (tt_instruments_require(c->ins, c->symbols[0], &ins, &err)) {
        *rc = tt_report_error(&err);
        return NULL;
    }
    return ins;
}

static int parse_tf_side(const char *cmd, const char *tf_s, const char *side_s, uint8_t *tf,
                         uint8_t *side)
{
    if (tf_s) {
        int tf_v = tt_timeframe_parse(tf_s);
        if (tf_v <= TT_TF_NONE || tf_v >= TT_TF_COUNT)
            return tt_usage_error(cmd, "--timeframe: unknown '%s' (S1 M1 M5 M15 M30 H1 H4 D1 W1 "
                                  "MN1)", tf_s);
        *tf = (uint8_t)tf_v;
    }
    if (side_s) {
        if (!strcasecmp(side_s, "bid"))
            *side = TT_SIDE_BID;
        else if (!strcasecmp(side_s, "ask"))
            *side = TT_SIDE_ASK;
        else if (!strcasecmp(side_s, "mid"))
            *side = TT_SIDE_MID;
        else
            return tt_usage_error(cmd, "--side: bid, ask or mid");
    }
    return -1;
}

typedef int (*import_fn)(tt_import *im, const char *path, void *opts, tt_err *err);

/* Progress in bytes over all input files: files done so far plus the current one. */
typedef struct byte_progress {
    tt_progress bar;
    uint64_t base;
} byte_progress;

static void on_progress(void *ctx, uint64_t file_bytes)
{
    byte_progress *p = ctx;
    tt_progress_update(&p->bar, p->base + file_bytes);
}

/* Run `fn` over every file through one pipeline, print the report, pick the exit code. */
static int run_import(common *c, import_fn fn, void *opts)
{
    tt_import_opts io;
    memset(&io, 0, sizeof io);
    io.tape = c->dry_run ? NULL : c->tape;
    io.instruments = c->ins;
    io.quality = &c->qc;
    io.log = stderr;
    io.max_logged = c->max_logged;
    byte_progress prog;
    uint64_t total = 0;
    for (int i = 0; i < c->nfiles; i++) {
        struct stat st;
        if (stat(c->files[i], &st) == 0)
            total += (uint64_t)st.st_size;
    }
    tt_progress_start(&prog.bar, c->cmd, total);
    prog.base = 0;
    io.progress = on_progress;
    io.progress_ctx = &prog;
    tt_import *im;
    tt_err err;
    tt_err_clear(&err);
    if (tt_import_new(&im, &io, &err))
        return tt_report_error(&err);
    int rc = TT_OK;
    for (int i = 0; i < c->nfiles && !rc; i++) {
        rc = fn(im, c->files[i], opts, &err);
        struct stat st;
        if (stat(c->files[i], &st) == 0)
            prog.base += (uint64_t)st.st_size;
        tt_progress_update(&prog.bar, prog.base);
    }
    tt_progress_finish(&prog.bar);
    tt_err cerr;
    int crc = tt_import_close(im, &cerr);
    if (!rc && crc) {
        rc = crc;
        err = cerr;
    }
    FILE *rep = c->json ? stderr : stdout;
    tt_import_print(im, rep);
    tt_import_stats st;
    tt_import_get_stats(im, &st);
    if (c->json) {
        tt_import_print_json(im, stdout);
        fputc('\n', stdout);
    }
    tt_import_free(im);
    if (rc)
        return tt_report_error(&err);
    if (st.bad_rows) {
        fprintf(stderr, "ticktape: %llu bad row%s (listed above); the rest was imported\n",
                (unsigned long long)st.bad_rows, st.bad_rows == 1 ? "" : "s");
        return TT_EXIT_PARTIAL;
    }
    return TT_EXIT_OK;
}

static void common_free(common *c)
{
    tt_instruments_free(c->ins);
}

/* ---------------------------------------------------------------- polygon */

typedef struct polygon_run {
    tt_polygon_opts o;
    int kind; /* 0 auto by name, 1 quotes, 2 aggs */
} polygon_run;

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

static int polygon_one(tt_import *im, const char *path, void *opts, tt_err *err)
{
    polygon_run *p = opts;
    int aggs = p->kind == 2 || (p->kind == 0 && (ends_with(path, ".json") ||
                                                 ends_with(path, ".json.gz")));
    if (aggs)
        return tt_polygon_aggs_file(im, path, &p->o, err);
    return tt_polygon_quotes_file(im, path, &p->o, err);
}

int tt_cmd_import_polygon(int argc, char **argv)
{
    static const char usage[] =
        "usage: ticktape import polygon FILE... --tape DIR [options]\n\n"
        "Import Polygon.io forex data: quote flat files (CSV or .csv.gz with\n"
        "ticker,ask_exchange,ask_price,bid_exchange,bid_price,participant_timestamp)\n"
        "and v2 aggregates responses (.json, .json.gz) as bars.\n\n"
        "  --kind quotes|aggs  input kind (default: .json/.json.gz are aggs)\n"
        "  --symbol S          quotes: import only S (repeatable; others are counted as\n"
        "                      skipped); aggs: the instrument when the JSON has no ticker\n"
        "  --timeframe TF      aggs: the bars' timeframe (default M1)\n"
        "  --side bid|ask|mid  aggs: the bars' price side (default bid)\n";
    common c;
    common_init(&c, "import polygon");
    polygon_run p;
    memset(&p, 0, sizeof p);
    p.o.tf = TT_TF_M1;
    p.o.side = TT_SIDE_BID;
    const char *tf_s = NULL, *side_s = NULL;
    tt_opt o;
    tt_opt_init(&o, argc, argv);
    int r;
    while (tt_opt_next(&o, FLAGS)) {
        if (tt_opt_is(&o, "help")) {
            print_help(usage);
            return TT_EXIT_OK;
        }
        if ((r = common_opt(&c, &o)) >= 10)
            return r - 10;
        if (r)
            continue;
        if (tt_opt_is(&o, "kind") && o.value && !strcmp(o.value, "quotes"))
            p.kind = 1;
        else if (tt_opt_is(&o, "kind") && o.value && !strcmp(o.value, "aggs"))
            p.kind = 2;
        else if (tt_opt_is(&o, "timeframe") && o.value)
            tf_s = o.value;
        else if (tt_opt_is(&o, "side") && o.value)
            side_s = o.value;
        else
            return tt_usage_error(c.cmd, "unknown option --%s or bad value", o.name);
    }
    if ((r = parse_tf_side(c.cmd, tf_s, side_s, &p.o.tf, &p.o.side)) >= 0)
        return r;
    if ((r = common_ready(&c)) >= 0) {
        common_free(&c);
        return r;
    }
    if (c.nsymbols) {
        p.o.symbols = c.symbols;
        if (c.nsymbols == 1)
            p.o.instrument = tt_instruments_find(c.ins, c.symbols[0]);
        for (int i = 0; i < c.nsymbols; i++) {
            const tt_instrument *ins;
            tt_err err;
            if (tt_instruments_require(c.ins, c.symbols[i], &ins, &err)) {
                common_free(&c);
                return tt_report_error(&err);
            }
        }
    }
    r = run_import(&c, polygon_one, &p);
    common_free(&c);
    return r;
}

/* ---------------------------------------------------------------- csv */

static int csv_one(tt_import *im, const char *path, void *opts, tt_err *err)
{
    tt_csv_import *ci;
    int rc = tt_csv_import_new(&ci, im, opts, err);
    if (rc)
        return rc;
    rc = tt_csv_import_file(ci, path, err);
    tt_csv_import_free(ci);
    return rc;
}

int tt_cmd_import_csv(int argc, char **argv)
{
    static const char usage[] =
        "usage: ticktape import csv FILE... --columns MAP --tape DIR [options]\n\n"
        "Import delimited text (plain or .gz) with a column mapping.\n\n"
        "  --columns MAP       what each column holds, in order, comma-separated:\n"
        "                      time | date,clock | symbol | bid,ask[,bid_volume,ask_volume]\n"
        "                      | price[,size] | open,high,low,close[,volume][,ticks] | skip\n"
        "  --time-format F     auto (default), iso, epoch-s, epoch-ms, epoch-us, epoch-ns,\n"
        "                      histdata (YYYYMMDD HHMMSSmmm, EST = UTC-05:00 by default)\n"
        "  --utc-offset OFF    the file's clock is UTC+OFF (e.g. +02:00); subtracted\n"
        "  --delimiter C       field separator: a character, or tab, semicolon (default ,)\n"
        "  --header/--no-header  first line is/is not a header (default: a header when\n"
        "                      none of its fields starts with a digit)\n"
        "  --symbol S          the instrument when there is no symbol column\n"
        "  --timeframe TF      bars: timeframe (required for bars)\n"
        "  --side bid|ask|mid  bars: price side (default bid)\n";
    common c;
    common_init(&c, "import csv");
    tt_csv_opts co;
    memset(&co, 0, sizeof co);
    co.header = -1;
    co.side = TT_SIDE_BID;
    const char *tf_s = NULL, *side_s = NULL;
    tt_opt o;
    tt_opt_init(&o, argc, argv);
    int r;
    while (tt_opt_next(&o, FLAGS)) {
        if (tt_opt_is(&o, "help")) {
            print_help(usage);
            return TT_EXIT_OK;
        }
        if ((r = common_opt(&c, &o)) >= 10)
            return r - 10;
        if (r)
            continue;
        if (tt_opt_is(&o, "header")) {
            co.header = 1;
        } else if (tt_opt_is(&o, "no-header")) {
            co.header = 0;
        } else if (!o.value) {
            return tt_usage_error(c.cmd, "unknown option --%s or missing value", o.name);
        } else if (tt_opt_is(&o, "columns")) {
            co.columns = o.value;
        } else if (tt_opt_is(&o, "time-format")) {
            int f = tt_csv_time_format_parse(o.value);
            if (f < 0)
                return tt_usage_error(c.cmd, "--time-format: unknown '%s'", o.value);
            co.time_format = f;
        } else if (tt_opt_is(&o, "utc-offset")) {
            if (tt_csv_offset_parse(o.value, &co.utc_offset))
                return tt_usage_error(c.cmd, "--utc-offset: expected e.g. +02:00, got '%s'",
                                      o.value);
            co.has_offset = 1;
        } else if (tt_opt_is(&o, "delimiter")) {
            if (!strcmp(o.value, "tab") || !strcmp(o.value, "\\t"))
                co.delim = '\t';
            else if (!strcmp(o.value, "semicolon"))
                co.delim = ';';
            else if (strlen(o.value) == 1 && o.value[0] != '"' && o.value[0] != '\n')
                co.delim = (unsigned char)o.value[0];
            else
                return tt_usage_error(c.cmd, "--delimiter: one character, tab or semicolon");
        } else if (tt_opt_is(&o, "timeframe")) {
            tf_s = o.value;
        } else if (tt_opt_is(&o, "side")) {
            side_s = o.value;
        } else {
            return tt_usage_error(c.cmd, "unknown option --%s", o.name);
        }
    }
    if ((r = parse_tf_side(c.cmd, tf_s, side_s, &co.tf, &co.side)) >= 0)
        return r;
    if (!co.columns)
        return tt_usage_error(c.cmd, "--columns is required (e.g. --columns time,bid,ask)");
    if ((r = common_ready(&c)) >= 0) {
        common_free(&c);
        return r;
    }
    co.instrument = one_symbol(&c, 0, &r);
    if (r >= 0) {
        common_free(&c);
        return r;
    }
    /* Check the mapping once, before any file is opened. */
    {
        tt_import_opts io;
        memset(&io, 0, sizeof io);
        io.instruments = c.ins;
        tt_import *im;
        tt_csv_import *ci;
        tt_err err;
        if (tt_import_new(&im, &io, &err)) {
            common_free(&c);
            return tt_report_error(&err);
        }
        int bad = tt_csv_import_new(&ci, im, &co, &err);
        tt_csv_import_free(bad ? NULL : ci);
        tt_import_free(im);
        if (bad) {
            common_free(&c);
            return tt_usage_error(c.cmd, "%s", err.msg);
        }
    }
    r = run_import(&c, csv_one, &co);
    common_free(&c);
    return r;
}

/* ---------------------------------------------------------------- mt5 */

static int mt5_one(tt_import *im, const char *path, void *opts, tt_err *err)
{
    return tt_mt5_import_file(im, path, opts, err);
}

int tt_cmd_import_mt5(int argc, char **argv)
{
    static const char usage[] =
        "usage: ticktape import mt5 FILE... --symbol S --tape DIR [options]\n\n"
        "Import MetaTrader 5 tick or bar exports (tab-separated, <DATE> <TIME> <BID> ...\n"
        "or <DATE> <TIME> <OPEN> ...; UTF-16 or UTF-8; plain or .gz).\n\n"
        "  --symbol S          the file's instrument (required)\n"
        "  --utc-offset OFF    the trade server's clock is UTC+OFF (e.g. +02:00; default 0)\n"
        "  --timeframe TF      bars: timeframe (required for bar exports)\n"
        "  --side bid|ask|mid  bars: price side (default bid, as MT5 charts)\n";
    common c;
    common_init(&c, "import mt5");
    tt_mt5_opts mo;
    memset(&mo, 0, sizeof mo);
    mo.side = TT_SIDE_BID;
    const char *tf_s = NULL, *side_s = NULL;
    tt_opt o;
    tt_opt_init(&o, argc, argv);
    int r;
    while (tt_opt_next(&o, FLAGS)) {
        if (tt_opt_is(&o, "help")) {
            print_help(usage);
            return TT_EXIT_OK;
        }
        if ((r = common_opt(&c, &o)) >= 10)
            return r - 10;
        if (r)
            continue;
        if (!o.value)
            return tt_usage_error(c.cmd, "unknown option --%s or missing value", o.name);
        if (tt_opt_is(&o, "utc-offset")) {
            if (tt_csv_offset_parse(o.value, &mo.utc_offset))
                return tt_usage_error(c.cmd, "--utc-offset: expected e.g. +02:00, got '%s'",
                                      o.value);
        } else if (tt_opt_is(&o, "timeframe")) {
            tf_s = o.value;
        } else if (tt_opt_is(&o, "side")) {
            side_s = o.value;
        } else {
            return tt_usage_error(c.cmd, "unknown option --%s", o.name);
        }
    }
    if ((r = parse_tf_side(c.cmd, tf_s, side_s, &mo.tf, &mo.side)) >= 0)
        return r;
    if ((r = common_ready(&c)) >= 0) {
        common_free(&c);
        return r;
    }
    mo.instrument = one_symbol(&c, 1, &r);
    if (r >= 0) {
        common_free(&c);
        return r;
    }
    r = run_import(&c, mt5_one, &mo);
    common_free(&c);
    return r;
}

/* ---------------------------------------------------------------- hdf5 */

static int hdf5_one(tt_import *im, const char *path, void *opts, tt_err *err)
{
    return tt_hdf5_import(im, path, opts, err);
}

int tt_cmd_import_hdf5(int argc, char **argv)
{
    static const char usage[] =
        "usage: ticktape import hdf5 FILE.h5... --tape DIR [options]\n\n"
        "Import ticks and bars from an HDF5 file in ticktape's layout (as written by\n"
        "`ticktape tape export --format hdf5`; see docs/hdf5-layout.md).\n\n"
        "  --symbol S          import only S (repeatable)\n";
    common c;
    common_init(&c, "import hdf5");
    tt_opt o;
    tt_opt_init(&o, argc, argv);
    int r;
    while (tt_opt_next(&o, FLAGS)) {
        if (tt_opt_is(&o, "help")) {
            print_help(usage);
            return TT_EXIT_OK;
        }
        if ((r = common_opt(&c, &o)) >= 10)
            return r - 10;
        if (!r)
            return tt_usage_error(c.cmd, "unknown option --%s", o.name);
    }
    if ((r = common_ready(&c)) >= 0) {
        common_free(&c);
        return r;
    }
    tt_hdf5_import_opts ho;
    memset(&ho, 0, sizeof ho);
    ho.symbols = c.nsymbols ? c.symbols : NULL;
    r = run_import(&c, hdf5_one, &ho);
    common_free(&c);
    return r;
}
