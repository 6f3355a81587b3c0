/*
 * What paper and replay share: their common options (tt_live_opts), loading
 * and preparing the scenario, and the report step after the session.
 *
 * A live session (cli/cmd_paper.c) and the replay of its journal
 * (cli/cmd_replay.c) end alike: the reports of a backtest, the order-event
 * list as CSV for comparison, a few human lines ending with the fingerprint,
 * and with --json the same summary object as `backtest --json`, so a
 * session and its replay can be compared line for line; a paper session adds
 * what its feed lost (drops, rejects, gaps: a line of text, three JSON keys,
 * the report's header) and exits 3 when it dropped market data. A paper
 * session writes a session record into its journal (the scenario's canonical
 * text and its hash, every --set) that replay checks before it runs.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "core/fingerprint.h"
#include "core/metrics.h"
#include "reports/report.h"
#include "reports/report_run.h"
#include "sim/research.h"
#include "sim/scenario.h"

#define F(field) offsetof(tt_live_cli, field)

const tt_opt tt_live_opts[] = {
    {TT_OPT_LIST, "set", .off = F(sets), .count_off = F(nsets), .max_count = TT_LIVE_MAX_SETS,
     .arg = "KEY=VALUE", .flags = TT_OPT_KEYVAL,
     .help = "override a scenario key (a replay with overrides has another outcome)"},
    {TT_OPT_STRING, "out", .off = F(out_dir), .arg = "DIR",
     .def_text = "out/<scenario name>-<command>", .help = "reports directory"},
    {TT_OPT_STRING, "orders", .off = F(orders_file), .arg = "FILE",
     .help = "write the order-event list as CSV"},
    {TT_OPT_FLAG, "no-reports", .off = F(no_reports), .help = "write no report files"},
    {TT_OPT_FLAG, "json", .off = F(json),
     .help = "last line of stdout: the summary (as backtest --json)"},
    {TT_OPT_FLAG, "quiet", .off = F(quiet), .help = "no human lines on stdout"},
    {TT_OPT_END},
};

static int write_orders(const char *path, const tt_backtest_result *r, const tt_instruments *ins,
                        tt_err *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return tt_err_set(err, TT_EIO, "%s: cannot write", path);
    fprintf(f, "ts,client_id,venue_id,symbol,status,reason,side,price,qty\n");
    for (size_t i = 0; i < r->norders; i++) {
        const tt_order_record *o = &r->orders[i];
        const tt_instrument *in = tt_instruments_get(ins, o->symbol);
        fprintf(f, "%lld,%llu,%llu,%s,%s,%u,%d,%lld,%lld\n", (long long)o->ts,
                (unsigned long long)o->client_id, (unsigned long long)o->venue_id,
                in ? in->symbol : "?", tt_order_status_name(o->status), o->reason, o->side,
                (long long)o->price, (long long)o->qty);
    }
    int bad = ferror(f); /* a write that failed before the last flush */
    if (fclose(f) || bad)
        return tt_err_set(err, TT_EIO, "%s: write failed", path);
    return TT_OK;
}

int tt_live_finish(tt_scenario *s, tt_scenario_run *run, tt_backtest_result *r,
                   const tt_live_cli *o, const char *mode)
{
    tt_err err;
    tt_err_clear(&err);
    tt_metrics m = r->metrics; /* exact, computed during the run */
    char data[600];
    tt_report_run_data(s, run, o->feed, data, sizeof data);
    char *scen_text = tt_scenario_text(s);
    if (!scen_text) { /* a report without its scenario would say "(not given)" */
        tt_err_set(&err, TT_ENOMEM, "%s: out of memory (the scenario's text)",
                   tt_scenario_file(s));
        return tt_report_error(&err);
    }
    tt_report_input in;
    tt_report_run_input(&in, s, run, r, &m, scen_text, data, r->first_ts, r->last_ts);
    in.live = o->losses.live;
    in.drops = o->losses.drops;
    in.feed_rejects = o->losses.rejects;
    in.gaps = o->losses.gaps;
    int code = TT_EXIT_OK;
    char dir[4200] = "";
    if (!o->no_reports) {
        if (o->out_dir)
            snprintf(dir, sizeof dir, "%s", o->out_dir);
        else
            snprintf(dir, sizeof dir, "out/%s-%s", tt_scenario_name(s), mode);
        tt_report_outputs which = {run->outputs.html, run->outputs.json, run->outputs.csv,
                                   run->outputs.hdf5};
        if (tt_report_write_all(&in, dir, &which, &err) != TT_OK)
            code = tt_report_error(&err);
    }
    if (code == TT_EXIT_OK && o->orders_file &&
        write_orders(o->orders_file, r, run->instruments, &err) != TT_OK)
        code = tt_report_error(&err);
    if (!o->quiet) {
        char fp[33];
        tt_fingerprint_hex(r->fingerprint, fp);
        printf("%-12s %s (%s)\n", mode, tt_scenario_name(s), tt_scenario_file(s));
        printf("data         %s\n", data);
        printf("strategy     %s %s\n", in.strategy, in.params ? in.params : "");
        printf("events       %llu\n", (unsigned long long)r->events);
        printf("orders       %llu sent, %llu fills, %llu risk rejects; %zu order events\n",
               (unsigned long long)r->orders_sent, (unsigned long long)r->fills,
               (unsigned long long)r->risk_rejects, r->norders);
        tt_cli_print_figures(&in);
        if (o->losses.live)
            printf("feed         %llu messages; lost: %llu ticks dropped, %llu rejected, "
                   "%llu gaps\n",
                   (unsigned long long)o->losses.arrived, (unsigned long long)o->losses.drops,
                   (unsigned long long)o->losses.rejects, (unsigned long long)o->losses.gaps);
        if (dir[0])
            printf("reports      %s\n", dir);
        printf("fingerprint: %s\n", fp); /* the last line of every run */
    }
    if (o->json) {
        fflush(stdout);
        tt_report_json_write(&in, stdout, 1);
    }
    if (code == TT_EXIT_OK && o->losses.live && o->losses.drops && !o->allow_drops) {
        fprintf(stderr, "ticktape: %llu ticks were dropped: the session did not see all market "
                        "data (its figures are those of what it saw); --allow-drops accepts "
                        "that\n",
                (unsigned long long)o->losses.drops);
        code = TT_EXIT_PARTIAL;
    }
    free(scen_text);
    return code;
}

/* ---- the session record: what a journal was recorded with ---- */

#define SESSION_FILE "session.txt"

/* The scenario's canonical text ("key: value" lines, no override) and its
 * XXH3-128 as 32 hex digits: insensitive to comments and layout, sensitive
 * to every value. The text is malloc'd; NULL with err on failure. */
static char *scenario_canon(const char *path, char hex[33], tt_err *err)
{
    tt_scenario *s;
    if (tt_scenario_load(&s, path, err) != TT_OK)
        return NULL;
    char *text = tt_scenario_text(s);
    tt_scenario_free(s);
    tt_fp_state *fp = text ? tt_fp_new() : NULL;
    if (!fp) {
        free(text);
        tt_err_set(err, TT_ENOMEM, "out of memory");
        return NULL;
    }
    tt_fp_update(fp, text, strlen(text));
    tt_fingerprint_hex(tt_fp_digest(fp), hex);
    tt_fp_free(fp);
    return text;
}

int tt_live_session_write(const char *dir, const char *scenario, const tt_live_cli *o,
                          tt_err *err)
{
    char hex[33], path[4200], tmp[4300];
    char *text = scenario_canon(scenario, hex, err);
    if (!text)
        return err ? err->code : TT_EINVAL;
    snprintf(path, sizeof path, "%s/" SESSION_FILE, dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        free(text);
        return tt_err_set(err, TT_EIO, "%s: cannot write the session record", tmp);
    }
    fprintf(f, "ticktape session 1\nscenario %s\nscenario_hash %s\n", scenario, hex);
    for (int i = 0; i < o->nsets; i++)
        fprintf(f, "set %s\n", o->sets[i]);
    fprintf(f, "scenario_text\n%s", text);
    free(text);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return tt_err_set(err, TT_EIO, "%s: cannot write the session record", path);
    }
    return TT_OK;
}

/* The value of key in canonical text (a pointer into it, up to the line's
 * end, length in *n), or NULL. */
static const char *canon_get(const char *text, const char *key, size_t *n)
{
    size_t k = strlen(key);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (!strncmp(l, key, k) && l[k] == ':' && l[k + 1] == ' ') {
            const char *v = l + k + 2, *e = strchr(v, '\n');
            *n = e ? (size_t)(e - v) : strlen(v);
            return v;
        }
    }
    return NULL;
}

/* Every key whose value differs between two canonical texts, as
 * "key (session: v, now: w)" items, into buf. */
static void canon_diff(const char *was, const char *now, char *buf, size_t bufsize)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int pass = 0; pass < 2; pass++) {
        const char *a = pass ? now : was, *b = pass ? was : now;
        for (const char *l = a; l && *l && used < bufsize;
             l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
            const char *colon = strstr(l, ": ");
            const char *eol = strchr(l, '\n');
            if (!colon || (eol && colon > eol))
                continue;
            char key[256];
            snprintf(key, sizeof key, "%.*s", (int)(colon - l), l);
            size_t na = eol ? (size_t)(eol - colon - 2) : strlen(colon + 2), nb = 0;
            const char *vb = canon_get(b, key, &nb);
            if (pass && vb)
                continue; /* changed keys were listed in the first pass */
            if (vb && nb == na && !strncmp(vb, colon + 2, na))
                continue;
            used += (size_t)snprintf(buf + used, bufsize - used, "%s%s (session: %.*s, now: %.*s)",
                                     used ? "; " : "", key, pass ? 0 : (int)na,
                                     pass ? "" : colon + 2, pass ? (int)na : (int)nb,
                                     pass ? colon + 2 : vb ? vb : "");
        }
    }
}

/* The recorded session (file text), parsed in place: hash, sets, text. */
typedef struct session_rec {
    char *buf;
    const char *hash, *scenario, *text;
    const char *sets[TT_LIVE_MAX_SETS];
    int nsets;
} session_rec;

static int session_read(const char *dir, session_rec *r, tt_err *err)
{
    memset(r, 0, sizeof *r);
    char path[4200];
    snprintf(path, sizeof path, "%s/" SESSION_FILE, dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return TT_ENOTFOUND;
    tt_buf b = {0};
    int rc = tt_buf_read_stream(&b, f);
    fclose(f);
    r->buf = (char *)b.data;
    if (rc || !r->buf || strncmp(r->buf, "ticktape session 1\n", 19))
        return tt_err_set(err, TT_EFORMAT, "%s: not a session record of this version", path);
    for (char *l = r->buf; l && *l;) {
        char *e = strchr(l, '\n');
        if (e)
            *e = '\0';
        if (!strncmp(l, "scenario_hash ", 14))
            r->hash = l + 14;
        else if (!strncmp(l, "scenario ", 9))
            r->scenario = l + 9;
        else if (!strncmp(l, "set ", 4) && r->nsets < TT_LIVE_MAX_SETS)
            r->sets[r->nsets++] = l + 4;
        else if (!strcmp(l, "scenario_text")) {
            r->text = e ? e + 1 : "";
            break;
        }
        l = e ? e + 1 : NULL;
    }
    if (!r->hash || !r->text)
        return tt_err_set(err, TT_EFORMAT, "%s: incomplete session record", path);
    return TT_OK;
}

int tt_live_session_check(const char *dir, const char *scenario, const tt_live_cli *o, int force)
{
    tt_err err;
    tt_err_clear(&err);
    session_rec rec;
    int rc = session_read(dir, &rec, &err);
    if (rc == TT_ENOTFOUND) {
        fprintf(stderr, "ticktape: warning: %s has no session record (a journal of an older "
                        "ticktape): the scenario and overrides are not checked\n", dir);
        return TT_EXIT_OK;
    }
    if (rc) {
        free(rec.buf);
        return tt_report_error(&err);
    }
    char hex[33], what[3000] = "";
    char *now = scenario_canon(scenario, hex, &err);
    if (!now) {
        free(rec.buf);
        return tt_report_error(&err);
    }
    size_t used = 0;
    if (strcmp(hex, rec.hash)) {
        char diff[2000];
        canon_diff(rec.text, now, diff, sizeof diff);
        used += (size_t)snprintf(what, sizeof what, "the scenario differs from the one the "
                                 "session ran (%s): %s", rec.scenario ? rec.scenario : "?", diff);
    }
    int same = rec.nsets == o->nsets;
    for (int i = 0; same && i < o->nsets; i++)
        same = !strcmp(rec.sets[i], o->sets[i]);
    if (!same && used < sizeof what) {
        used += (size_t)snprintf(what + used, sizeof what - used, "%sthe session ran with",
                                 used ? "; " : "");
        for (int i = 0; i < rec.nsets && used < sizeof what; i++)
            used += (size_t)snprintf(what + used, sizeof what - used, " --set %s", rec.sets[i]);
        used += (size_t)snprintf(what + used, sizeof what - used, "%s, this replay with",
                                 rec.nsets ? "" : " no override");
        for (int i = 0; i < o->nsets && used < sizeof what; i++)
            used += (size_t)snprintf(what + used, sizeof what - used, " --set %s", o->sets[i]);
        if (!o->nsets && used < sizeof what)
            snprintf(what + used, sizeof what - used, " none");
    }
    free(now);
    free(rec.buf);
    if (!what[0])
        return TT_EXIT_OK;
    if (force) {
        fprintf(stderr, "ticktape: warning: replaying anyway (--force), the outcome will differ: "
                        "%s\n", what);
        return TT_EXIT_OK;
    }
    tt_err_set(&err, TT_EINVAL, "%s: %s; replay what the session ran, or --force", dir, what);
    return tt_report_error(&err);
}

/* Load the scenario, apply --set, prepare the run. */
int tt_live_prepare(const char *path, const tt_live_cli *o, const char *cmd, tt_scenario **s,
                    tt_scenario_run **run)
{
    tt_err err;
    if (tt_scenario_load(s, path, &err) != TT_OK)
        return tt_report_error(&err);
    for (int i = 0; i < o->nsets; i++) {
        if (tt_scenario_set(*s, o->sets[i], &err) != TT_OK) {
            tt_scenario_free(*s);
            return tt_usage_error(cmd, "%s", err.msg);
        }
    }
    *run = calloc(1, sizeof **run);
    if (!*run) {
        tt_scenario_free(*s);
        tt_err_set(&err, TT_ENOMEM, "out of memory");
        return tt_report_error(&err);
    }
    if (tt_scenario_prepare(*s, *run, &err) != TT_OK) {
        free(*run);
        tt_scenario_free(*s);
        return tt_report_error(&err);
    }
    return TT_EXIT_OK;
}
