/*
 * ticktape: shared pieces of the research tools (sweeps, walk-forward, gates,
 * workers).
 *
 * - tt_buf: a growable byte buffer (results travel as bytes: over a pipe from
 *   a pool child, as JSON over NATS);
 * - tt_param: one parameter assignment ("strategy.params.fast" = "10");
 * - tt_run_summary: what one run produced (status, fingerprint, figures);
 * - the figure table: every figure of tt_metrics that research tools print,
 *   gate or compare, by name;
 * - JSON: the summary's JSON form and a small reader for flat JSON objects
 *   (baselines, job and result messages);
 * - YAML helpers to read the research sections (sweep:, walkforward:, gates:)
 *   of a scenario file with line numbers for errors;
 * - durations ("30d", "12h") and run ids.
 *
 * No global state; everything is plain data owned by the caller.
 */
#ifndef TT_RESEARCH_H
#define TT_RESEARCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../core/error.h"
#include "../core/event.h"
#include "../core/fingerprint.h"
#include "../core/metrics.h"

/* ---- bytes ---- */

typedef struct tt_buf {
    uint8_t *data;
    size_t len, cap;
} tt_buf;

/* Append n bytes. TT_ENOMEM (buffer unchanged) when growing fails. */
int tt_buf_append(tt_buf *b, const void *p, size_t n);
/* Append the rest of an open stream. TT_ENOMEM, or TT_EIO on a read error
 * (what was read stays in b). */
int tt_buf_read_stream(tt_buf *b, FILE *f);
/* Append formatted text (no NUL is counted in len; data stays NUL-terminated).
 * TT_OK, TT_ENOMEM, or TT_EINVAL when the format fails (vsnprintf < 0). */
int tt_buf_printf(tt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal (quotes and escapes included). TT_OK or
 * TT_ENOMEM (a part may have been appended). */
int tt_buf_json_string(tt_buf *b, const char *s);
/* Append a double as JSON: %.17g (round-trips exactly), non-finite as null.
 * TT_OK or TT_ENOMEM. */
int tt_buf_json_double(tt_buf *b, double v);
void tt_buf_reset(tt_buf *b); /* len = 0, memory kept; cannot fail */
void tt_buf_free(tt_buf *b);  /* releases memory, leaves an empty buffer; cannot fail */

/* ---- parameters ---- */

#define TT_PARAM_KEY_MAX 96
#define TT_PARAM_VALUE_MAX 64

/* One parameter assignment: a dotted scenario key and its value as YAML text. */
typedef struct tt_param {
    char key[TT_PARAM_KEY_MAX];
    char value[TT_PARAM_VALUE_MAX];
} tt_param;

/* ---- one run's result ---- */

enum tt_run_status {
    TT_RUN_OK = 0,      /* the run completed; figures and fingerprint are valid */
    TT_RUN_FAILED = 1,  /* the run returned an error (message in error) */
    TT_RUN_CRASHED = 2, /* the process running it died (signal, or exit without a result) */
    TT_RUN_PENDING = 3  /* no result yet */
};

/* "ok", "failed", "crashed", "pending" (also for an unknown status). Cannot fail. */
const char *tt_run_status_name(int status);

#define TT_RUN_ID_MAX 64

typedef struct tt_run_summary {
    uint32_t index;             /* job index in the sweep (job order) */
    int status;                 /* enum tt_run_status */
    int signal;                 /* TT_RUN_CRASHED: the signal, 0 if it exited */
    char run_id[TT_RUN_ID_MAX]; /* one NATS token: [A-Za-z0-9_-] */
    char error[256];            /* TT_RUN_FAILED / TT_RUN_CRASHED: what happened */
    tt_fingerprint fp;          /* fingerprint of the run's outputs */
    uint64_t events;            /* input events processed */
    tt_ts first_ts, last_ts;    /* time of the first and last input event the run read */
    tt_metrics m;               /* the figures */
} tt_run_summary;

/* ---- figures by name ---- */

/* MONEY: tt_money (minor units); COUNT: uint64_t; RATIO: a double; MINOR: a
 * double in minor units of money (expectancy). */
enum tt_figure_kind { TT_FIG_MONEY = 0, TT_FIG_COUNT = 1, TT_FIG_RATIO = 2, TT_FIG_MINOR = 3 };

/* Direction in which a figure is better (for objectives and baseline gates). */
enum tt_figure_better { TT_BETTER_HIGHER = 1, TT_BETTER_LOWER = -1 };

typedef struct tt_figure {
    const char *name; /* "sharpe", "net_pnl", "max_drawdown_pct", ... */
    int kind;         /* enum tt_figure_kind */
    int better;       /* enum tt_figure_better */
    size_t offset;    /* offsetof(tt_metrics, field) */
} tt_figure;

/* The figures research tools print and compare, in table column order. *n
 * receives the count. The table is constant. These four cannot fail. */
const tt_figure *tt_figures(size_t *n);
/* A figure by name, or NULL. */
const tt_figure *tt_figure_find(const char *name);
/* For a name that was a figure before the percent convention ("cagr",
 * "win_rate", "ann_volatility", "time_in_market", all fractions), the
 * percent figure that replaced it ("cagr_pct", ...); NULL for any other. So
 * that a gate or --figure written with an old name is refused with the new
 * one named rather than compared in the wrong unit. */
const char *tt_figure_renamed(const char *name);
/* The value of a figure as a double (money and counts converted exactly up to 2^53). */
double tt_figure_value(const tt_figure *f, const tt_metrics *m);
/* Set a figure from a double (rounded for money and counts; a value that is not
 * finite sets them to 0). */
void tt_figure_set(const tt_figure *f, tt_metrics *m, double v);

/* ---- JSON ---- */

/* Append the summary as one JSON object without a newline:
 * {"index":..,"run_id":"..","status":"ok","fingerprint":"<32 hex>","events":..,
 *  <every figure>: value, "error": ".." (when not ok)}. params (may be NULL)
 * are added as "params":{"key":"value",...}. TT_OK or TT_ENOMEM (b may hold a
 * part of the object). */
int tt_run_summary_json(tt_buf *b, const tt_run_summary *s, const tt_param *params,
                        size_t nparams);

/* A flat view of a JSON object: nested objects are flattened into dotted keys
 * ({"a":{"b":1}} gives "a.b"), strings are unescaped, numbers kept as text,
 * null as a NULL value. Arrays are refused (TT_EFORMAT). */
typedef struct tt_json_kv {
    char *key;
    char *value;  /* NULL for null; "true"/"false" for booleans */
    int is_string;
} tt_json_kv;

typedef struct tt_json_flat {
    tt_json_kv *kv;
    size_t n;
} tt_json_flat;

/* Parse text (len bytes, need not be NUL-terminated). what names the input in
 * error messages ("baseline.json", "subject backtest.completed.x"). TT_EFORMAT
 * with the byte offset on bad JSON, TT_ENOMEM; *out is then empty. */
int tt_json_flat_parse(tt_json_flat *out, const char *text, size_t len, const char *what,
                       tt_err *err);
/* The value of key, NULL when absent or null; *present (may be NULL) tells which.
 * Cannot fail. */
const char *tt_json_flat_get(const tt_json_flat *j, const char *key, int *present);
void tt_json_flat_free(tt_json_flat *j); /* cannot fail */

/* Rebuild a summary from its JSON form (tt_run_summary_json). Figures that are
 * null become NaN. TT_EFORMAT naming the field when a required field (status,
 * fingerprint for ok runs) is missing or bad. TT_OK otherwise. */
int tt_run_summary_from_json(tt_run_summary *s, const tt_json_flat *j, const char *what,
                             tt_err *err);

/* A completion message (the JSON of tt_run_summary_json) into s; a payload
 * that does not parse makes s a failed run saying why ("bad result message:
 * ..."). Never fails: a queue's bad message is that run's failure. */
void tt_run_summary_from_payload(tt_run_summary *s, const char *payload, size_t len);

/* Parse 32 hex digits into a fingerprint. TT_OK, or TT_EFORMAT (no tt_err) on
 * anything else. */
int tt_fingerprint_parse(const char *hex, tt_fingerprint *fp);

/* ---- durations and run ids ---- */

/* "30d", "12h", "90m", "45s", "2w", or a bare number of days. TT_EINVAL with
 * `what` (e.g. "walkforward.train (file.yaml:5)") named on bad text, <= 0 or
 * too long; *out untouched then. TT_OK otherwise. */
int tt_duration_parse(const char *s, tt_ts *out, const char *what, tt_err *err);

/* A run id "<prefix>-<index, 4+ digits>", e.g. "s1a2b3c4d-0007". The prefix is
 * sanitized to NATS-token characters. Cannot fail (cut to TT_RUN_ID_MAX). */
void tt_run_id_make(char out[TT_RUN_ID_MAX], const char *prefix, uint32_t index);

/* A stable 32-bit hex tag of bytes (XXH3 low bits): identifies a scenario text.
 * Cannot fail. */
void tt_research_tag(const void *data, size_t len, char out[9]);

/* The tag of a file's bytes (a regular file of at most 64 MiB: never a FIFO
 * or a device). TT_EIO when it cannot be opened ("PATH: cannot open"),
 * TT_EPERM, TT_ENOMEM. */
int tt_research_file_tag(const char *path, char out[9], tt_err *err);

/* ---- the research sections of a scenario file ---- */

/* A loaded YAML scenario, kept as a document tree so that each research
 * module reads its own section with line numbers. Opaque. */
typedef struct tt_research_doc tt_research_doc;

/* Load path. TT_OK, or TT_EIO (cannot open or read), TT_EFORMAT (YAML syntax
 * error with line), TT_ENOMEM; *doc is then NULL. */
int tt_research_doc_load(tt_research_doc **doc, const char *path, tt_err *err);
/* Parse YAML text held in memory; `name` stands for the file in messages. The
 * same results but TT_EIO. */
int tt_research_doc_parse(tt_research_doc **doc, const char *text, size_t len, const char *name,
                          tt_err *err);
void tt_research_doc_free(tt_research_doc *doc); /* NULL is allowed; cannot fail */
/* The file name given at load. The node accessors below cannot fail: a handle
 * that is 0 or of the wrong type gives 0, NULL or "none" as stated. */
const char *tt_research_doc_name(const tt_research_doc *doc);

/* A node handle inside a document (0 = none). */
typedef int tt_ynode;

/* The mapping value of a top-level key (0 when absent). */
tt_ynode tt_research_doc_section(const tt_research_doc *doc, const char *key);
/* A child of a mapping node by key (0 when absent or node is not a mapping). */
tt_ynode tt_ynode_get(const tt_research_doc *doc, tt_ynode map, const char *key);
/* 1-based line of a node (0 for none). */
int tt_ynode_line(const tt_research_doc *doc, tt_ynode n);
/* Scalar text of a node, NULL if it is not a scalar. */
const char *tt_ynode_scalar(const tt_research_doc *doc, tt_ynode n);
/* Node type: 's' scalar, 'm' mapping, 'q' sequence, 0 none. */
int tt_ynode_type(const tt_research_doc *doc, tt_ynode n);
/* Mapping: number of pairs and the i-th key text and value node. */
size_t tt_ynode_map_size(const tt_research_doc *doc, tt_ynode map);
const char *tt_ynode_map_key(const tt_research_doc *doc, tt_ynode map, size_t i);
tt_ynode tt_ynode_map_value(const tt_research_doc *doc, tt_ynode map, size_t i);
/* Sequence: number of items and the i-th item. */
size_t tt_ynode_seq_size(const tt_research_doc *doc, tt_ynode seq);
tt_ynode tt_ynode_seq_item(const tt_research_doc *doc, tt_ynode seq, size_t i);

/* Format an error about node n into err: returns TT_EINVAL, with "file:line:
 * <message>". */
int tt_ynode_error(tt_err *err, const tt_research_doc *doc, tt_ynode n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Read a scalar as a finite double / a whole number. On a missing node or bad
 * text: TT_EINVAL naming "file:line: section.key" (*out untouched). TT_OK otherwise. */
int tt_ynode_double(const tt_research_doc *doc, tt_ynode n, const char *what, double *out,
                    tt_err *err);
int tt_ynode_u64(const tt_research_doc *doc, tt_ynode n, const char *what, uint64_t *out,
                 tt_err *err);

#endif
