/*
 * ticktape API: a scenario stepped bar by bar, for reinforcement learning
 * (api/ticktape_api.h; python/ticktape/env.py is the Gymnasium-shaped face).
 *
 * How this works: an episode is one backtest of the scenario, built with the
 * stepping calls of sim/backtest.h (start, advance, pause, finish) and an
 * internal strategy ("env") in place of the scenario's. The strategy
 * subscribes to bars of the first symbol, feeds quotes and closed bars to a
 * feature engine (core/features.h), and on each closed bar writes the row
 * and pauses the engine: advance returns, the caller sees the observation
 * and chooses a target position. The orders that reach it are sent at the
 * next tick (market orders through the runner: the scenario's venue, costs
 * and risk gate apply as to any strategy).
 *
 * Determinism: an episode depends only on the scenario, the seed and the
 * targets given; nothing reads a clock. The same seed and actions give the
 * same observations, rewards and fingerprint.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "core/features.h"
#include "ml/spec.h"
#include "sim/ml_scenario.h"

struct tt_api_env {
    tt_scenario *base;              /* the scenario with the caller's overrides */
    int tf, side;
    int select[TT_ML_MAX_FEATURES];
    int nselect;
    tt_features *f;
    double *row;                    /* the last bar's features */
    int width;                      /* features + position */
    /* the episode */
    tt_scenario *ep;
    tt_scenario_run *run;
    tt_backtest *bt;
    tt_strategy_ctx *ctx;
    uint32_t sym;
    double step;                    /* the symbol's volume step (lots per qty unit) */
    int64_t minor;
    int have_bar, pending, active, done;
    int64_t target;                 /* qty */
    int64_t bar_ts;
    double equity, position;        /* currency units, lots */
    char fp[33];
};

/* ---- the strategy ---- */

static int env_create(tt_strategy_ctx *c, void **state)
{
    tt_api_env *env = tt_ctx_user(c);
    *state = env;
    env->ctx = c;
    env->sym = tt_ctx_symbol_at(c, 0);
    const tt_instrument *ins = tt_ctx_instrument(c, env->sym);
    env->step = ins && ins->volume_step > 0 ? ins->volume_step : 0.01;
    return tt_ctx_subscribe_bars(c, env->sym, env->tf, env->side);
}

static void env_on_quote(void *state, tt_strategy_ctx *c, const tt_event *ev)
{
    tt_api_env *env = state;
    if (ev->symbol != env->sym)
        return;
    tt_features_quote(env->f, &ev->u.quote);
    if (env->pending) {
        env->pending = 0;
        int64_t diff = env->target - tt_ctx_position(c, env->sym);
        if (diff)
            tt_ctx_market(c, env->sym, diff, 0, 0);
    }
}

static void env_on_bar(void *state, tt_strategy_ctx *c, const tt_event *ev)
{
    (void)c;
    tt_api_env *env = state;
    if (ev->symbol != env->sym || ev->u.bar.tf != env->tf)
        return;
    if (tt_features_bar(env->f, ev, env->row, NULL))
        return; /* a bar of another timeframe or out of order: not a step */
    env->bar_ts = ev->ts_init;
    env->have_bar = 1;
    tt_backtest_pause(env->bt);
}

static const tt_strategy_vtable ENV_STRATEGY = {
    .abi_version = TT_STRATEGY_ABI_VERSION,
    .struct_size = sizeof(tt_strategy_vtable),
    .name = "env",
    .summary = "the reinforcement-learning environment's strategy (target positions)",
    .params = "",
    .create = env_create,
    .on_quote = env_on_quote,
    .on_bar = env_on_bar,
};

/* ---- the environment ---- */

/* The observation: the row (NaN as 0) and the position in lots. */
static void observe(tt_api_env *env, double *obs)
{
    for (int i = 0; i < env->width - 1; i++)
        obs[i] = isfinite(env->row[i]) ? env->row[i] : 0.0;
    obs[env->width - 1] = env->position;
}

/* The account now (a paused run), in currency units and lots. */
static void account_now(tt_api_env *env)
{
    tt_account a;
    tt_ctx_account(env->ctx, &a);
    env->equity = (double)a.equity / (double)env->minor;
    env->position = (double)tt_ctx_position(env->ctx, env->sym) * env->step;
}

static int select_features(tt_api_env *env, const char *tf, const char *side,
                           const char *features, tt_err *err)
{
    tt_ml_spec spec;
    int rc = tt_ml_scenario_spec(env->base, &spec, err);
    if (rc && rc != TT_ENOTFOUND)
        return rc;
    int has_ml = rc == TT_OK;
    env->tf = has_ml ? spec.tf : TT_TF_M1;
    env->side = has_ml ? spec.side : TT_SIDE_BID;
    env->nselect = has_ml ? tt_ml_spec_feature_list(&spec, env->select) : 0;
    if (tf && (env->tf = tt_timeframe_parse(tf)) <= TT_TF_NONE)
        return tt_err_set(err, TT_EINVAL, "env: unknown timeframe '%s'", tf);
    if (side && (env->side = tt_price_side_parse(side)) < 0)
        return tt_err_set(err, TT_EINVAL, "env: unknown side '%s' (bid, ask, mid)", side);
    if (features && *features) {
        env->nselect = 0;
        const char *p = features;
        while (*p) {
            size_t n = strcspn(p, ",");
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), p);
            int idx = tt_feature_find(name);
            if (idx < 0)
                return tt_err_set(err, TT_EINVAL, "env: unknown feature '%s' (ticktape "
                                  "features --list names them)", name);
            if (env->nselect == TT_ML_MAX_FEATURES)
                return tt_err_set(err, TT_EINVAL, "env: more than %d features",
                                  TT_ML_MAX_FEATURES);
            env->select[env->nselect++] = idx;
            p += n + (p[n] == ',');
        }
    }
    rc = tt_features_new(&env->f, env->tf, env->nselect ? env->select : NULL, env->nselect,
                         err);
    if (rc)
        return rc;
    env->width = tt_features_width(env->f) + 1;
    env->row = calloc((size_t)env->width, sizeof *env->row);
    return env->row ? TT_OK : tt_err_set(err, TT_ENOMEM, "out of memory");
}

int tt_api_env_open(tt_api_env **out, const char *scenario, int is_text, const char *base_dir,
                    const char *const *overrides, int n, const char *tf, const char *side,
                    const char *features, tt_err *err)
{
    *out = NULL;
    tt_api_env *env = calloc(1, sizeof *env);
    if (!env)
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    int rc = tt_api_scenario(&env->base, scenario, is_text, base_dir, overrides, n, err);
    if (!rc)
        rc = select_features(env, tf, side, features, err);
    if (rc) {
        tt_api_env_free(env);
        return rc;
    }
    *out = env;
    return TT_OK;
}

/* End the episode: the run finished (its fingerprint kept when finishing
 * succeeds) and every piece of it released. */
static int episode_end(tt_api_env *env, tt_err *err)
{
    int rc = TT_OK;
    if (env->bt && env->active) {
        tt_backtest_result r;
        memset(&r, 0, sizeof r);
        rc = tt_backtest_finish(env->bt, &r, err);
        if (!rc) {
            tt_fingerprint_hex(r.fingerprint, env->fp);
            env->equity = (double)r.final_equity / (double)env->minor;
            env->position = 0;
        }
        tt_backtest_result_free(&r);
    }
    tt_backtest_close(env->bt);
    env->bt = NULL;
    env->active = 0;
    env->ctx = NULL;
    if (env->run) {
        tt_scenario_release(env->run);
        free(env->run);
        env->run = NULL;
    }
    tt_scenario_free(env->ep);
    env->ep = NULL;
    return rc;
}

void tt_api_env_free(tt_api_env *env)
{
    if (!env)
        return;
    episode_end(env, NULL);
    tt_features_free(env->f);
    free(env->row);
    tt_scenario_free(env->base);
    free(env);
}

int tt_api_env_width(const tt_api_env *env) { return env->width; }

const char *tt_api_env_column(const tt_api_env *env, int i)
{
    if (i == env->width - 1)
        return "position";
    if (i < 0 || i >= env->width)
        return NULL;
    return tt_feature_name(tt_features_index(env->f, i));
}

/* Run to the next closed bar: TT_OK with have_bar, or TT_OK with done (the
 * data ended, the run finished), or the run's error. */
static int advance(tt_api_env *env, tt_err *err)
{
    env->have_bar = 0;
    int rc = tt_backtest_advance(env->bt, err);
    if (rc == TT_ENGINE_PAUSED && env->have_bar) {
        account_now(env);
        return TT_OK;
    }
    if (rc < 0)
        return rc;
    env->done = 1;
    return episode_end(env, err);
}

static int episode_start(tt_api_env *env, int seed_given, uint64_t seed, tt_err *err)
{
    env->ep = tt_scenario_clone(env->base);
    env->run = calloc(1, sizeof *env->run);
    if (!env->ep || !env->run) {
        free(env->run);
        env->run = NULL;
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    }
    char set[64];
    snprintf(set, sizeof set, "seed=%llu", (unsigned long long)seed);
    int rc = seed_given ? tt_scenario_set(env->ep, set, err) : TT_OK;
    if (!rc && (rc = tt_scenario_prepare(env->ep, env->run, err)) != TT_OK) {
        free(env->run);
        env->run = NULL;
    }
    if (rc)
        return rc;
    env->minor = env->run->minor_per_unit > 0 ? env->run->minor_per_unit : 100;
    env->run->cfg.strategy_vtable = &ENV_STRATEGY;
    env->run->cfg.strategy_user = env;
    env->run->cfg.params = NULL; /* the scenario's strategy is not run */
    tt_features_reset(env->f);
    if ((rc = tt_backtest_open(&env->bt, &env->run->cfg, err)))
        return rc;
    rc = tt_backtest_start(env->bt, err);
    env->active = 1; /* finish even a failed start (sim/backtest.h) */
    return rc;
}

int tt_api_env_reset(tt_api_env *env, int seed_given, uint64_t seed, double *obs, tt_err *err)
{
    episode_end(env, NULL);
    env->done = env->pending = 0;
    env->fp[0] = '\0';
    env->equity = env->position = 0;
    int rc = episode_start(env, seed_given, seed, err);
    if (!rc)
        rc = advance(env, err);
    if (!rc && env->done)
        rc = tt_err_set(err, TT_ENOTFOUND, "env: the data has no closed %s bar",
                        tt_timeframe_name(env->tf));
    if (rc) {
        episode_end(env, NULL);
        env->done = 1;
        return rc;
    }
    observe(env, obs);
    return TT_OK;
}

int tt_api_env_step(tt_api_env *env, double target_lots, double *obs, double *reward, int *done,
                    tt_err *err)
{
    if (!env->active || env->done)
        return tt_err_set(err, TT_ESTATE, "env: no episode running (call reset)");
    if (!isfinite(target_lots))
        return tt_err_set(err, TT_EINVAL, "env: the target position is not a number");
    double before = env->equity;
    env->target = llround(target_lots / env->step);
    env->pending = 1;
    int rc = advance(env, err);
    if (rc) {
        episode_end(env, NULL);
        env->done = 1;
        return rc;
    }
    *reward = env->equity - before;
    *done = env->done;
    observe(env, obs);
    return TT_OK;
}

void tt_api_env_info(const tt_api_env *env, int64_t *ts, double *equity, double *position,
                     const char **fingerprint)
{
    *ts = env->bar_ts;
    *equity = env->equity;
    *position = env->position;
    *fingerprint = env->fp;
}
