/*
 * ticktape import polygon|csv|mt5|hdf5: the text and HDF5 importers.
 *
 * Each command parses its options (its own rows plus COMMON_OPTS: files,
 * tape, instruments, quality settings, --json ...), builds a tt_import
 * pipeline (quality filter and tape writer per stream, data/text_import.h)
 * and hands every input file to the format's reader in data/. Exit codes:
 * 0 when every row was read, 3 when some rows were bad (the rest was
 * imported), 1 when the import could not proceed, 2 for usage errors.
 */
#include <stddef.h>
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
    uint64_t max_logged; /* 0 = the pipeline's default */
    const char *files[MAX_FILES];
    int nfiles;
    const char *symbols[MAX_SYMBOLS + 1]; /* NULL-ended */
    int nsymbols;
    tt_instruments *ins;
} common;

#define C(field) offsetof(common, field)

static const tt_opt COMMON_OPTS[] = {
    {TT_OPT_ARGS, .arg = "FILE", .off = C(files), .count_off = C(nfiles),
     .max_count = MAX_FILES, .flags = TT_OPT_REQUIRED, .help = "input files"},
    {TT_OPT_STRING, "tape", .off = C(tape), .arg = "DIR",
     .help = "tape to import into (required unless --dry-run)"},
    {TT_OPT_STRING, "instruments", .off = C(instruments_file), .arg = "FILE",
     .help = "extra instrument declarations (docs/instruments.md)"},
    {TT_OPT_INCLUDE, .include = tt_quality_opts, .off = C(qc)},
    {TT_OPT_UINT, "max-errors", .off = C(max_logged), .arg = "N", .min = 1, .max = 1000000,
     .def_text = "20", .help = "list at most N bad rows (all are counted)"},
    {TT_OPT_FLAG, "dry-run", .off = C(dry_run), .help = "read and check, write nothing"},
    {TT_OPT_FLAG, "json", .off = C(json),
     .help = "last line of stdout: the counts as one JSON object"},
    {TT_OPT_END},
};

static const tt_opt_rule COMMON_RULES[] = {
    {TT_RULE_ANY_OF, {"tape", "dry-run"}, "--tape DIR is required (or --dry-run)"},
    {TT_RULE_END},
};

static const char COMMON_EPILOG[] =
    "exit codes: 0 all rows read, 3 some rows were bad (the rest was imported),\n"
    "1 the import could not proceed, 2 usage error\n";

/* The price side of bars: bid, ask or mid, any case. */
static const char *const SIDE_VALUES[] = {"bid", "ask", "mid", NULL};
static const int SIDE_IVALS[] = {TT_SIDE_BID, TT_SIDE_ASK, TT_SIDE_MID};

static void common_init(common *c, const char *cmd)
{
    memset(c, 0, sizeof *c);
    c->cmd = cmd;
    tt_quality_config_default(&c->qc);
}

/* Load the instrument table: TT_EXIT_OK or an exit code. */
static int common_ready(common *c)
{
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
    return TT_EXIT_OK;
}

/* The --symbol of a single-instrument input (its row takes one), NULL when
 * none; *rc = TT_EXIT_OK, or an exit code. */
static const tt_instrument *one_symbol(common *c, int *rc)
{
    *rc = TT_EXIT_OK;
    if (c->nsymbols == 0)
        return NULL;
    const tt_instrument *ins;
    tt_err err;
    if (tt_instruments_require(c->ins, c->symbols[0], &ins, &err)) {
        *rc = tt_report_error(&err);
        return NULL;
    }
    return ins;
}

/* --utc-offset +02:00 into a tt_ts. */
static int opt_utc_offset(void *opts, const tt_opt *o, const char *value, tt_err *err)
{
    if (tt_csv_offset_parse(value, tt_opt_field(opts, o)))
        return tt_err_set(err, TT_EINVAL, "--%s: expected e.g. +02:00, got '%s'", o->name, value);
    return TT_OK;
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
    io.max_logged = (uint32_t)c->max_logged;
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

typedef struct polygon_cli {
    common c;
    int kind;     /* 0 auto by name, 1 quotes, 2 aggs */
    int tf, side; /* aggs */
} polygon_cli;

#define P(field) offsetof(polygon_cli, field)

static const tt_opt POLYGON_OPTS[] = {
    {TT_OPT_INCLUDE, .include = COMMON_OPTS, .off = P(c)},
    {TT_OPT_ENUM, "kind", .off = P(kind), .values = (const char *const[]){"quotes", "aggs", NULL},
     .ivals = (const int[]){1, 2}, .def_text = "by name: .json and .json.gz are aggs",
     .help = "input kind"},
    {TT_OPT_LIST, "symbol", .off = P(c.symbols), .count_off = P(c.nsymbols),
     .max_count = MAX_SYMBOLS, .arg = "S",
     .help = "quotes: import only S (others are counted as skipped); aggs: the instrument "
             "when the JSON has no ticker"},
    {TT_OPT_TIMEFRAME, "timeframe", .off = P(tf), .def = "M1", .help = "aggs: the bars' timeframe"},
    {TT_OPT_ENUM, "side", .off = P(side), .values = SIDE_VALUES, .ivals = SIDE_IVALS,
     .flags = TT_OPT_NOCASE, .def = "bid", .help = "aggs: the bars' price side"},
    {TT_OPT_END},
};

static int import_polygon(int argc, char **argv);

const tt_cmd tt_command_import_polygon = {
    .name = "import polygon",
    .summary = "Polygon.io flat files and aggregates",
    .run = import_polygon,
    .opts = POLYGON_OPTS,
    .size = sizeof(polygon_cli),
    .rules = COMMON_RULES,
    .about = "Import Polygon.io forex data: quote flat files (CSV or .csv.gz with\n"
             "ticker,ask_exchange,ask_price,bid_exchange,bid_price,participant_timestamp)\n"
             "and v2 aggregates responses (.json, .json.gz) as bars.\n",
    .epilog = COMMON_EPILOG,
    .more = tt_quality_config_help,
};

static int import_polygon(int argc, char **argv)
{
    polygon_cli a;
    common_init(&a.c, tt_command_import_polygon.name);
    a.kind = 0;
    int r = tt_opts_parse(&tt_command_import_polygon, &a, argc, argv, NULL);
    if (r != TT_OPTS_RUN)
        return r;
    common *c = &a.c;
    polygon_run p;
    memset(&p, 0, sizeof p);
    p.kind = a.kind;
    p.o.tf = (uint8_t)a.tf;
    p.o.side = (uint8_t)a.side;
    if ((r = common_ready(c)) != TT_EXIT_OK) {
        common_free(c);
        return r;
    }
    if (c->nsymbols) {
        p.o.symbols = c->symbols;
        if (c->nsymbols == 1)
            p.o.instrument = tt_instruments_find(c->ins, c->symbols[0]);
        for (int i = 0; i < c->nsymbols; i++) {
            const tt_instrument *ins;
            tt_err err;
            if (tt_instruments_require(c->ins, c->symbols[i], &ins, &err)) {
                common_free(c);
                return tt_report_error(&err);
            }
        }
    }
    r = run_import(c, polygon_one, &p);
    common_free(c);
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

typedef struct csv_cli {
    common c;
    tt_csv_opts co;
    int tf, side;
} csv_cli;

static int opt_time_format(void *opts, const tt_opt *o, const char *value, tt_err *err)
{
    int f = tt_csv_time_format_parse(value);
    if (f < 0)
        return tt_err_set(err, TT_EINVAL, "--%s: unknown '%s' (auto, iso, epoch-s, epoch-ms, "
                          "epoch-us, epoch-ns, histdata)", o->name, value);
    *(int *)tt_opt_field(opts, o) = f;
    return TT_OK;
}

static int opt_delimiter(void *opts, const tt_opt *o, const char *value, tt_err *err)
{
    unsigned char *delim = tt_opt_field(opts, o);
    if (!strcmp(value, "tab") || !strcmp(value, "\\t"))
        *delim = '\t';
    else if (!strcmp(value, "semicolon"))
        *delim = ';';
    else if (strlen(value) == 1 && value[0] != '"' && value[0] != '\n')
        *delim = (unsigned char)value[0];
    else
        return tt_err_set(err, TT_EINVAL, "--%s: one character, tab or semicolon, not '%s'",
                          o->name, value);
    return TT_OK;
}

#define V(field) offsetof(csv_cli, field)

static const tt_opt CSV_OPTS[] = {
    {TT_OPT_INCLUDE, .include = COMMON_OPTS, .off = V(c)},
    {TT_OPT_STRING, "columns", .off = V(co.columns), .arg = "MAP", .flags = TT_OPT_REQUIRED,
     .help = "what each column holds, in order, comma-separated: time | date,clock | symbol | "
             "bid,ask[,bid_volume,ask_volume] | price[,size] | "
             "open,high,low,close[,volume][,ticks] | skip (e.g. --columns time,bid,ask)"},
    {TT_OPT_CUSTOM, "time-format", .off = V(co.time_format), .arg = "F", .set = opt_time_format,
     .def_text = "auto",
     .help = "auto, iso, epoch-s, epoch-ms, epoch-us, epoch-ns, histdata (YYYYMMDD "
             "HHMMSSmmm, EST = UTC-05:00 by default)"},
    {TT_OPT_CUSTOM, "utc-offset", .off = V(co.utc_offset), .arg = "OFF", .set = opt_utc_offset,
     .help = "the file's clock is UTC+OFF (e.g. +02:00); subtracted"},
    {TT_OPT_CUSTOM, "delimiter", .off = V(co.delim), .arg = "C", .set = opt_delimiter,
     .def_text = ",", .help = "field separator: a character, or tab, semicolon"},
    {TT_OPT_FLAG, "header", .off = V(co.header), .help = "the first line is a header"},
    {TT_OPT_FLAG, "no-header", .off = V(co.header), .flags = TT_OPT_NEGATE,
     .help = "the first line is data (default: a header when none of its fields starts with "
             "a digit)"},
    {TT_OPT_LIST, "symbol", .off = V(c.symbols), .count_off = V(c.nsymbols), .max_count = 1,
     .arg = "S", .help = "the instrument when there is no symbol column"},
    {TT_OPT_TIMEFRAME, "timeframe", .off = V(tf), .help = "bars: timeframe (required for bars)"},
    {TT_OPT_ENUM, "side", .off = V(side), .values = SIDE_VALUES, .ivals = SIDE_IVALS,
     .flags = TT_OPT_NOCASE, .def = "bid", .help = "bars: price side"},
    {TT_OPT_END},
};

static int import_csv(int argc, char **argv);

const tt_cmd tt_command_import_csv = {
    .name = "import csv",
    .summary = "generic CSV ticks or bars",
    .run = import_csv,
    .opts = CSV_OPTS,
    .size = sizeof(csv_cli),
    .rules = COMMON_RULES,
    .about = "Import delimited text (plain or .gz) with a column mapping.\n",
    .epilog = COMMON_EPILOG,
    .more = tt_quality_config_help,
};

/* Check the mapping once, before any file is opened: TT_EXIT_OK or an exit code. */
static int check_mapping(common *c, const tt_csv_opts *co)
{
    tt_import_opts io;
    memset(&io, 0, sizeof io);
    io.instruments = c->ins;
    tt_import *im;
    tt_csv_import *ci;
    tt_err err;
    if (tt_import_new(&im, &io, &err))
        return tt_report_error(&err);
    int bad = tt_csv_import_new(&ci, im, co, &err);
    tt_csv_import_free(bad ? NULL : ci);
    tt_import_free(im);
    return bad ? tt_usage_error(c->cmd, "%s", err.msg) : TT_EXIT_OK;
}

static int import_csv(int argc, char **argv)
{
    csv_cli a;
    common_init(&a.c, tt_command_import_csv.name);
    memset(&a.co, 0, sizeof a.co);
    a.co.header = -1;
    a.tf = TT_TF_NONE;
    tt_opts_seen seen;
    int r = tt_opts_parse(&tt_command_import_csv, &a, argc, argv, &seen);
    if (r != TT_OPTS_RUN)
        return r;
    common *c = &a.c;
    tt_csv_opts co = a.co;
    co.has_offset = tt_opts_given(&seen, "utc-offset");
    co.tf = (uint8_t)a.tf;
    co.side = (uint8_t)a.side;
    if ((r = common_ready(c)) != TT_EXIT_OK) {
        common_free(c);
        return r;
    }
    co.instrument = one_symbol(c, &r);
    if (r == TT_EXIT_OK)
        r = check_mapping(c, &co);
    if (r == TT_EXIT_OK)
        r = run_import(c, csv_one, &co);
    common_free(c);
    return r;
}

/* ---------------------------------------------------------------- mt5 */

static int mt5_one(tt_import *im, const char *path, void *opts, tt_err *err)
{
    return tt_mt5_import_file(im, path, opts, err);
}

typedef struct mt5_cli {
    common c;
    tt_ts utc_offset;
    int tf, side;
} mt5_cli;

#define M(field) offsetof(mt5_cli, field)

static const tt_opt MT5_OPTS[] = {
    {TT_OPT_INCLUDE, .include = COMMON_OPTS, .off = M(c)},
    {TT_OPT_LIST, "symbol", .off = M(c.symbols), .count_off = M(c.nsymbols), .max_count = 1,
     .arg = "S", .flags = TT_OPT_REQUIRED,
     .help = "the file's instrument (exports do not name it)"},
    {TT_OPT_CUSTOM, "utc-offset", .off = M(utc_offset), .arg = "OFF", .set = opt_utc_offset,
     .def_text = "0", .help = "the trade server's clock is UTC+OFF (e.g. +02:00)"},
    {TT_OPT_TIMEFRAME, "timeframe", .off = M(tf),
     .help = "bars: timeframe (required for bar exports)"},
    {TT_OPT_ENUM, "side", .off = M(side), .values = SIDE_VALUES, .ivals = SIDE_IVALS,
     .flags = TT_OPT_NOCASE, .def = "bid", .help = "bars: price side (bid, as MT5 charts)"},
    {TT_OPT_END},
};

static int import_mt5(int argc, char **argv);

const tt_cmd tt_command_import_mt5 = {
    .name = "import mt5",
    .summary = "MetaTrader 5 exported ticks or bars",
    .run = import_mt5,
    .opts = MT5_OPTS,
    .size = sizeof(mt5_cli),
    .rules = COMMON_RULES,
    .about = "Import MetaTrader 5 tick or bar exports (tab-separated, <DATE> <TIME> <BID> ...\n"
             "or <DATE> <TIME> <OPEN> ...; UTF-16 or UTF-8; plain or .gz).\n",
    .epilog = COMMON_EPILOG,
    .more = tt_quality_config_help,
};

static int import_mt5(int argc, char **argv)
{
    mt5_cli a;
    common_init(&a.c, tt_command_import_mt5.name);
    a.utc_offset = 0;
    a.tf = TT_TF_NONE;
    int r = tt_opts_parse(&tt_command_import_mt5, &a, argc, argv, NULL);
    if (r != TT_OPTS_RUN)
        return r;
    common *c = &a.c;
    tt_mt5_opts mo;
    memset(&mo, 0, sizeof mo);
    mo.utc_offset = a.utc_offset;
    mo.tf = (uint8_t)a.tf;
    mo.side = (uint8_t)a.side;
    if ((r = common_ready(c)) != TT_EXIT_OK) {
        common_free(c);
        return r;
    }
    mo.instrument = one_symbol(c, &r);
    if (r == TT_EXIT_OK)
        r = run_import(c, mt5_one, &mo);
    common_free(c);
    return r;
}

/* ---------------------------------------------------------------- hdf5 */

static int hdf5_one(tt_import *im, const char *path, void *opts, tt_err *err)
{
    return tt_hdf5_import(im, path, opts, err);
}

static const tt_opt HDF5_OPTS[] = {
    {TT_OPT_INCLUDE, .include = COMMON_OPTS},
    {TT_OPT_LIST, "symbol", .off = C(symbols), .count_off = C(nsymbols), .max_count = MAX_SYMBOLS,
     .arg = "S", .help = "import only S"},
    {TT_OPT_END},
};

static int import_hdf5(int argc, char **argv);

const tt_cmd tt_command_import_hdf5 = {
    .name = "import hdf5",
    .summary = "HDF5 tick or bar tables",
    .run = import_hdf5,
    .opts = HDF5_OPTS,
    .size = sizeof(common),
    .rules = COMMON_RULES,
    .about = "Import ticks and bars from an HDF5 file in ticktape's layout (as written by\n"
             "`ticktape tape export --format hdf5`; see docs/hdf5-layout.md).\n",
    .epilog = COMMON_EPILOG,
    .more = tt_quality_config_help,
};

static int import_hdf5(int argc, char **argv)
{
    common c;
    common_init(&c, tt_command_import_hdf5.name);
    int r = tt_opts_parse(&tt_command_import_hdf5, &c, argc, argv, NULL);
    if (r != TT_OPTS_RUN)
        return r;
    if ((r = common_ready(&c)) != TT_EXIT_OK) {
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
