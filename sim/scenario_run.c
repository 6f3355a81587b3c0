/*
 * ticktape: from a scenario to a backtest (tt_scenario_check, _prepare).
 *
 * How this works: tt_scenario_check applies the rules that tie several keys
 * together (the only rules that are code rather than rows of the key table).
 * tt_scenario_prepare then starts from the backtest defaults and walks the
 * key table in order (scenario_keys.c): each key given, or with a default in
 * the table, is stored at its field of tt_scenario_run or passed to its
 * setter. The data rows come first because the lot sizes below them need
 * the first traded symbol's volume step; their setters are here: a tape
 * with its symbols and range, or a synthetic market whose keys go through
 * the synthetic table and whose whole-configuration errors are traced back
 * to the line of the key concerned.
 *
 * Strategy parameters are checked by the strategy when the backtest builds
 * it, long after prepare. So prepare also records where each
 * strategy.params.* entry was written and gives the backtest a callback
 * (tt_backtest_config.param_origin) that turns a parameter's key into
 * "file:line: strategy.params.KEY: ": the core reports the key, this layer
 * knows the file.
 */
#include "scenario.h"

#include "bar_model.h"
#include "scenario_keys.h"
#include "synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the rules that tie keys together ---- */

/* a and b are alternatives: at most one may be given. */
static int one_of(const tt_scenario *s, const char *a, const char *b, tt_err *err)
{
    const tt_scenario_entry *ea = tt_scenario_find(s, a), *eb = tt_scenario_find(s, b);
    if (!ea || !eb)
        return TT_OK;
    char m[200];
    snprintf(m, sizeof m, "give %s or %s, not both", strrchr(a, '.') + 1, strrchr(b, '.') + 1);
    return tt_scenario_err_at(err, TT_EINVAL, eb->file, eb->line, eb->key, m);
}

/* data.model and its spread keys: a bar model reads a tape; the spread keys
 * need a bar model, and spread_points is for a fixed spread. */
static int check_model(const tt_scenario *s, const tt_scenario_entry *syn, tt_err *err)
{
    const tt_scenario_entry *model = tt_scenario_find(s, "data.model");
    const tt_scenario_entry *pts = tt_scenario_find(s, "data.spread_points");
    const tt_scenario_entry *spread = tt_scenario_find(s, "data.spread");
    int m = TT_MODEL_REAL_TICKS, from_bars = 0;
    if (model)
        tt_parse_enum(model->value, tt_bar_models, &m, NULL);
    if (spread)
        tt_parse_enum(spread->value, tt_spread_sources, &from_bars, NULL);
    if (m != TT_MODEL_REAL_TICKS && syn)
        return tt_scenario_err_at(err, TT_EINVAL, model->file, model->line, "data.model",
                                  "a bar model generates prices from a tape's bars: not with "
                                  "data.synthetic");
    const tt_scenario_entry *bad = pts ? pts : spread;
    if (m == TT_MODEL_REAL_TICKS && bad)
        return tt_scenario_err_at(err, TT_EINVAL, bad->file, bad->line, bad->key,
                                  "only with a bar model (data.model: every_tick, ohlc_m1 or "
                                  "open_prices): real ticks carry their own spread");
    if (from_bars && pts)
        return tt_scenario_err_at(err, TT_EINVAL, pts->file, pts->line, pts->key,
                                  "give spread_points or spread: from_bars, not both");
    return TT_OK;
}

static int check_data(const tt_scenario *s, tt_err *err)
{
    int rc;
    const tt_scenario_entry *tape = tt_scenario_find(s, "data.tape");
    size_t pos = 0;
    const tt_scenario_entry *syn = tt_scenario_next(s, "data.synthetic", &pos);
    if (tape && syn)
        return tt_scenario_err_at(err, TT_EINVAL, syn->file, syn->line, "data.synthetic",
                                  "give either data.tape or data.synthetic, not both");
    if (!tape && !syn)
        return tt_err_set(err, TT_EINVAL,
                          "%s: data: no market data (add data.tape with data.symbols, or a "
                          "data.synthetic section)",
                          tt_scenario_file(s));
    if (tape && !tt_scenario_find(s, "data.symbols"))
        return tt_scenario_err_at(err, TT_EINVAL, tape->file, tape->line, "data.symbols",
                                  "a tape needs the symbols to replay (data.symbols: [EURUSD])");
    if (syn) {
        const tt_scenario_entry *bad = tt_scenario_find(s, "data.symbols");
        if (!bad)
            bad = tt_scenario_find(s, "data.from");
        if (!bad)
            bad = tt_scenario_find(s, "data.to");
        if (bad)
            return tt_scenario_err_at(err, TT_EINVAL, bad->file, bad->line, bad->key,
                                      "with data.synthetic, give symbols, from and to inside the "
                                      "synthetic section");
    }
    if ((rc = check_model(s, syn, err)) != TT_OK)
        return rc;
    const tt_scenario_entry *ext = tt_scenario_find(s, "data.external");
    if (ext && !tape)
        return tt_scenario_err_at(err, TT_EINVAL, ext->file, ext->line, ext->key,
                                  "external streams are read from data.tape");
    const tt_scenario_entry *from = tt_scenario_find(s, "data.from");
    const tt_scenario_entry *to = tt_scenario_find(s, "data.to");
    if (from && to) {
        tt_ts a, b;
        if (tt_parse_ts(from->value, &a, NULL) == TT_OK &&
            tt_parse_ts(to->value, &b, NULL) == TT_OK && b <= a)
            return tt_scenario_err_at(err, TT_EINVAL, to->file, to->line, "data.to",
                                      "must be after data.from");
    }
    return TT_OK;
}

int tt_scenario_check(const tt_scenario *s, tt_err *err)
{
    int rc;
    if ((rc = check_data(s, err)) != TT_OK)
        return rc;
    if (!tt_scenario_find(s, "strategy.name"))
        return tt_err_set(err, TT_EINVAL, "%s: strategy.name: missing (which strategy to run?)",
                          tt_scenario_file(s));
    if ((rc = one_of(s, "venue.commission.per_lot", "venue.commission.per_million", err)) ||
        (rc = one_of(s, "risk.daily_loss_pct", "risk.daily_loss", err)))
        return rc;
    return TT_OK;
}

/* ---- the data rows ---- */

/* After the data: the lots of the rows below are in the first traded
 * symbol's volume steps. */
static void set_step(tt_scenario_prep *p)
{
    const tt_instrument *first = tt_instruments_find(p->run->instruments, p->run->symbols[0]);
    p->step = first && first->volume_step > 0 ? first->volume_step : 0.01;
}

/* data.tape: the tape, its symbols (data.symbols) and range (data.from, .to). */
int tt_scenario_data_tape(tt_scenario_prep *p, const tt_scenario_key *k,
                          const tt_scenario_entry *e, const char *value, tt_err *err)
{
    tt_scenario_run *run = p->run;
    tt_backtest_config *cfg = &run->cfg;
    int rc, nsym = 0;
    (void)e;
    (void)value;
    if ((rc = tt_scenario_path(p->s, k->key, run->tape, sizeof run->tape, err)) != TT_OK)
        return rc;
    cfg->tape_dir = run->tape;
    const tt_scenario_entry *syms = tt_scenario_find(p->s, "data.symbols");
    const char *s = syms->value;
    while (*s) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        while (len && *s == ' ') {
            s++;
            len--;
        }
        while (len && s[len - 1] == ' ')
            len--;
        if (len == 0 || len >= TT_SYMBOL_MAX || nsym >= TT_BACKTEST_MAX_SYMBOLS - 1)
            return tt_scenario_err_entry(
                err, TT_EINVAL, syms, syms->key,
                "bad symbol list (empty name, name too long or too many symbols)");
        memcpy(run->symbols[nsym], s, len);
        run->symbols[nsym][len] = '\0';
        const tt_instrument *ins;
        int rc = tt_instruments_require(run->instruments, run->symbols[nsym], &ins, err);
        if (rc != TT_OK) {
            tt_err_prefix(err, "%s:%d: data.symbols: ", syms->file, syms->line);
            return rc;
        }
        nsym++;
        s += len;
        while (*s == ' ')
            s++;
        if (*s == ',')
            s++;
    }
    if ((rc = tt_scenario_ts(p->s, "data.from", 0, &cfg->from, err)) != TT_OK ||
        (rc = tt_scenario_ts(p->s, "data.to", 0, &cfg->to, err)) != TT_OK)
        return rc;
    run->data_from = cfg->from;
    run->data_to = cfg->to;
    set_step(p);
    return TT_OK;
}

/* Prefix err with the line of data.synthetic.<key>, or of the section's
 * first entry when that key was not written (a default at fault). */
static int synthetic_error(const tt_scenario *s, const char *key, int rc, tt_err *err)
{
    char full[128];
    snprintf(full, sizeof full, "data.synthetic.%s", key ? key : "");
    const tt_scenario_entry *e = key ? tt_scenario_find(s, full) : NULL;
    if (!e) {
        size_t pos = 0;
        e = tt_scenario_next(s, "data.synthetic", &pos);
        snprintf(full, sizeof full, "data.synthetic");
    }
    if (e->line > 0)
        tt_err_prefix(err, "%s:%d: %s: ", e->file, e->line, full);
    else
        tt_err_prefix(err, "%s %s: ", e->file, full);
    return rc;
}

static int synth_assign(void *ctx, const char *key, const char *value, tt_err *err)
{
    return tt_synth_config_assign(ctx, key, value, err) ? TT_EINVAL : TT_OK;
}

/* data.synthetic.*: a synthetic market, seeded with the scenario seed unless
 * the section gives its own. */
int tt_scenario_data_synthetic(tt_scenario_prep *p, const tt_scenario_key *k,
                               const tt_scenario_entry *e, const char *value, tt_err *err)
{
    tt_scenario_run *run = p->run;
    tt_synth_config sc;
    const char *key = NULL;
    int rc;
    (void)k;
    (void)e;
    (void)value;
    tt_synth_config_init(&sc);
    sc.seed = run->cfg.seed;
    if ((rc = tt_scenario_each(p->s, "data.synthetic", synth_assign, &sc, err)) != TT_OK)
        return rc;
    if ((rc = tt_synth_config_check_key(&sc, &key, err)) != TT_OK)
        return synthetic_error(p->s, key, rc, err);
    int nsym = 0;
    for (int i = 0; i < sc.nsymbols && nsym < TT_BACKTEST_MAX_SYMBOLS - 1; i++)
        snprintf(run->symbols[nsym++], TT_SYMBOL_MAX, "%s", sc.symbols[i]);
    if ((rc = tt_synth_source_open(&sc, run->instruments, &run->synth_source, &run->synth,
                                   err)) != TT_OK)
        return synthetic_error(p->s, NULL, rc, err);
    run->cfg.source = &run->synth_source;
    run->synthetic = 1;
    run->data_from = sc.from;
    run->data_to = sc.to;
    set_step(p);
    return TT_OK;
}

/* ---- where the strategy parameters came from ---- */

typedef struct origin {
    char *key;  /* the parameter's name (after "strategy.params.") */
    char *file; /* scenario file or "--set" */
    int line;
} origin;

typedef struct origins {
    origin *v;
    size_t n;
    origin strategy; /* strategy.name: for the parameters as a whole */
} origins;

static void origins_free(origins *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++) {
        free(o->v[i].key);
        free(o->v[i].file);
    }
    free(o->v);
    free(o->strategy.file);
    free(o);
}

/* The tt_param_origin_fn of a prepared run. */
static void param_origin(void *ctx, const char *key, char *buf, size_t bufsize)
{
    const origins *o = ctx;
    const origin *at = &o->strategy;
    for (size_t i = 0; key && i < o->n; i++)
        if (!strcmp(o->v[i].key, key))
            at = &o->v[i];
    char name[200];
    if (key)
        snprintf(name, sizeof name, "strategy.params.%s", key);
    else
        snprintf(name, sizeof name, "strategy.name");
    if (at->line > 0)
        snprintf(buf, bufsize, "%s:%d: %s: ", at->file, at->line, name);
    else
        snprintf(buf, bufsize, "%s %s: ", at->file, name);
}

static int record_origins(const tt_scenario *s, tt_scenario_run *run, tt_err *err)
{
    origins *o = calloc(1, sizeof *o);
    size_t pos = 0, n = 0;
    while (tt_scenario_next(s, "strategy.params", &pos))
        n++;
    if (!o || !(o->v = calloc(n ? n : 1, sizeof *o->v))) {
        free(o);
        return tt_err_set(err, TT_ENOMEM, "scenario: out of memory");
    }
    run->origins = o;
    const tt_scenario_entry *e = tt_scenario_find(s, "strategy.name");
    o->strategy.file = strdup(e ? e->file : tt_scenario_file(s));
    o->strategy.line = e ? e->line : 0;
    if (!o->strategy.file)
        return tt_err_set(err, TT_ENOMEM, "scenario: out of memory");
    pos = 0;
    while ((e = tt_scenario_next(s, "strategy.params", &pos)) != NULL) {
        origin *x = &o->v[o->n];
        x->key = strdup(e->key + strlen("strategy.params."));
        x->file = strdup(e->file);
        x->line = e->line;
        o->n++;
        if (!x->key || !x->file)
            return tt_err_set(err, TT_ENOMEM, "scenario: out of memory");
    }
    run->cfg.param_origin = param_origin;
    run->cfg.param_origin_ctx = o;
    return TT_OK;
}

/* ---- prepare ---- */

/* Every row of the key table, in order: the value given, else the default. */
static int apply_keys(tt_scenario_prep *p, tt_err *err)
{
    const tt_scenario_key *k;
    for (size_t i = 0; (k = tt_scenario_key_at(i)) != NULL; i++) {
        const tt_scenario_entry *e;
        const char *value;
        if (k->type == TT_SK_SECTION) {
            char prefix[64];
            size_t pos = 0;
            snprintf(prefix, sizeof prefix, "%.*s", (int)(strlen(k->key) - 2), k->key);
            e = tt_scenario_next(p->s, prefix, &pos);
            value = e ? e->value : NULL;
        } else {
            e = tt_scenario_find(p->s, k->key);
            value = e ? e->value : k->def;
        }
        if (!value || (!k->set && !k->size))
            continue;
        int rc = k->set ? k->set(p, k, e, value, err)
                        : tt_scenario_key_store(k, p->run, value, err);
        if (rc != TT_OK)
            return rc;
    }
    return TT_OK;
}

static int prepare(const tt_scenario *s, tt_scenario_run *run, tt_err *err)
{
    tt_backtest_config *cfg = &run->cfg;
    tt_backtest_config_default(cfg);
    run->instruments = tt_instruments_new();
    if (!run->instruments)
        return tt_err_set(err, TT_ENOMEM, "scenario: out of memory");
    cfg->instruments = run->instruments;
    cfg->strategy = run->strategy;
    cfg->params = run->params;
    tt_portfolio_config *acc = &cfg->venue.account;
    run->minor_per_unit = acc->minor_per_unit > 0 ? acc->minor_per_unit : 100;

    tt_scenario_prep p = {s, run, 0.01};
    int rc = apply_keys(&p, err);
    if (rc != TT_OK)
        return rc;
    int nsym = 0;
    while (nsym < TT_BACKTEST_MAX_SYMBOLS - 1 && run->symbols[nsym][0]) {
        cfg->symbols[nsym] = run->symbols[nsym];
        nsym++;
    }
    cfg->symbols[nsym] = NULL;
    cfg->metrics = run->metrics; /* the figures are computed during the run */
    return record_origins(s, run, err);
}

int tt_scenario_prepare(const tt_scenario *s, tt_scenario_run *run, tt_err *err)
{
    memset(run, 0, sizeof *run);
    int rc = tt_scenario_check(s, err);
    if (rc == TT_OK)
        rc = prepare(s, run, err);
    if (rc != TT_OK)
        tt_scenario_release(run);
    return rc;
}

void tt_scenario_release(tt_scenario_run *run)
{
    if (run->synth)
        tt_synth_source_close(run->synth);
    run->synth = NULL;
    tt_instruments_free(run->instruments);
    run->instruments = NULL;
    run->cfg.source = NULL;
    origins_free(run->origins);
    run->origins = NULL;
    run->cfg.param_origin = NULL;
    run->cfg.param_origin_ctx = NULL;
}
