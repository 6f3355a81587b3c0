/*
 * The status server's bodies (status_http.h): /health and /api/state as
 * JSON, /metrics in the Prometheus text exposition format 0.0.4.
 *
 * Everything is rendered from a tt_status_view, a copy of the snapshots
 * taken before rendering, so these functions read no shared state and the
 * tests can render a view they built. Metric names follow the Prometheus
 * conventions: the ticktape_ prefix, base units (seconds), _total on
 * counters, one HELP and TYPE line per family, label values escaped
 * (backslash, double quote, newline). Money is in the account currency's
 * units (a label names the currency). No secret is ever part of a view.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/order.h"
#include "../core/risk.h"
#include "../sim/research.h"
#include "status_http.h"

#define TRY(x)                                                                                    \
    do {                                                                                          \
        if ((x) != TT_OK)                                                                         \
            return TT_ENOMEM;                                                                     \
    } while (0)

static const char *const INPUT_KIND[TT_SI_N] = {"quote",   "trade", "bar",   "external",
                                                "control", "venue", "timer", "other"};

static double money(const tt_status_snapshot *s, tt_money m)
{
    return (double)m / (double)(s->minor_per_unit > 0 ? s->minor_per_unit : 100);
}

/* ---- JSON ---- */

static int health_parts(tt_buf *b, const tt_status_view *v)
{
    const tt_status_info *in = &v->info;
    TRY(tt_buf_printf(b, ",\"connections\":["));
    for (int i = 0; i < in->nconn; i++) {
        TRY(tt_buf_printf(b, "%s{\"name\":", i ? "," : ""));
        TRY(tt_buf_json_string(b, in->conn[i].name));
        TRY(tt_buf_printf(b, ",\"up\":%s}", in->conn[i].up ? "true" : "false"));
    }
    TRY(tt_buf_printf(b, "],\"sources\":["));
    for (int i = 0; i < in->nsrc; i++) {
        TRY(tt_buf_printf(b, "%s{\"name\":", i ? "," : ""));
        TRY(tt_buf_json_string(b, in->src[i].name));
        TRY(tt_buf_printf(
            b, ",\"inputs\":%llu,\"dropped\":%llu,\"rejected\":%llu,\"gaps\":%llu}",
            (unsigned long long)in->src[i].inputs, (unsigned long long)in->src[i].dropped,
            (unsigned long long)in->src[i].rejected, (unsigned long long)in->src[i].gaps));
    }
    TRY(tt_buf_printf(b, "],\"queues\":["));
    for (int i = 0; i < in->nqueue; i++) {
        TRY(tt_buf_printf(b, "%s{\"name\":", i ? "," : ""));
        TRY(tt_buf_json_string(b, in->queue[i].name));
        TRY(tt_buf_printf(b,
                          ",\"depth\":%llu,\"bytes\":%llu,\"capacity\":%llu,\"max_depth\":%llu}",
                          (unsigned long long)in->queue[i].depth,
                          (unsigned long long)(in->queue[i].depth * in->queue[i].event_bytes),
                          (unsigned long long)in->queue[i].capacity,
                          (unsigned long long)in->queue[i].max_depth));
    }
    TRY(tt_buf_printf(b, "]"));
    if (in->detail[0] == '{')
        TRY(tt_buf_printf(b, ",\"detail\":%s", in->detail));
    if (v->notify.enabled)
        TRY(tt_buf_printf(b,
                          ",\"notifications\":{\"sent\":%llu,\"failed\":%llu,\"dropped\":%llu,"
                          "\"queue\":%u}",
                          (unsigned long long)v->notify.sent, (unsigned long long)v->notify.failed,
                          (unsigned long long)v->notify.dropped, v->notify.depth));
    return TT_OK;
}

int tt_status_health_json(tt_buf *b, const tt_status_view *v)
{
    int healthy = v->info.healthy;
    for (int i = 0; i < v->info.nconn; i++)
        healthy &= v->info.conn[i].up != 0;
    TRY(tt_buf_printf(b, "{\"status\":\"%s\",\"uptime_seconds\":%.3f,\"version\":",
                      healthy ? "ok" : "degraded", v->uptime));
    TRY(tt_buf_json_string(b, v->version));
    TRY(tt_buf_printf(b, ",\"mode\":"));
    TRY(tt_buf_json_string(b, v->mode));
    if (v->have_engine)
        TRY(tt_buf_printf(
            b, ",\"inputs\":%llu,\"kill_switch\":%s,\"halted\":%s",
            (unsigned long long)(v->hot.inputs[TT_SI_QUOTE] + v->hot.inputs[TT_SI_TRADE] +
                                 v->hot.inputs[TT_SI_BAR] + v->hot.inputs[TT_SI_EXTERNAL]),
            v->snap.killed ? "true" : "false", v->snap.halted ? "true" : "false"));
    TRY(health_parts(b, v));
    TRY(tt_buf_printf(b, "}\n"));
    return healthy;
}

static int price_json(tt_buf *b, int digits, int64_t points, tt_price p)
{
    return tt_buf_printf(b, "%.*f", digits, points > 0 ? (double)p / (double)points : (double)p);
}

static int state_orders(tt_buf *b, const tt_status_snapshot *s)
{
    TRY(tt_buf_printf(b, "\"open_orders\":%u,\"orders\":[", s->open_orders));
    for (int i = 0; i < s->norders; i++) {
        const tt_status_order *o = &s->orders[i];
        TRY(tt_buf_printf(b, "%s{\"client_id\":%llu,\"symbol\":", i ? "," : "",
                          (unsigned long long)o->client_id));
        TRY(tt_buf_json_string(b, o->symbol));
        static const char *const TYPES[] = {"?", "market", "limit", "stop", "stop_limit"};
        TRY(tt_buf_printf(b,
                          ",\"side\":\"%s\",\"type\":\"%s\",\"status\":\"%s\",\"lots\":%.8g,"
                          "\"leaves_lots\":%.8g,\"price\":",
                          o->side > 0 ? "buy" : "sell", TYPES[o->type < 5 ? o->type : 0],
                          tt_order_status_name(o->status), (double)o->qty * o->volume_step,
                          (double)o->leaves * o->volume_step));
        if (o->price)
            TRY(price_json(b, o->digits, o->points, o->price));
        else
            TRY(tt_buf_printf(b, "null"));
        TRY(tt_buf_printf(b, ",\"ts\":%lld}", (long long)o->ts));
    }
    return tt_buf_printf(b, "]");
}

static int state_positions(tt_buf *b, const tt_status_view *v)
{
    const tt_status_snapshot *s = &v->snap;
    TRY(tt_buf_printf(b, "\"positions\":["));
    int n = 0;
    for (int i = 0; i < s->npos; i++) {
        const tt_status_position *p = &s->pos[i];
        if (!p->qty)
            continue;
        TRY(tt_buf_printf(b, "%s{\"symbol\":", n++ ? "," : ""));
        TRY(tt_buf_json_string(b, p->symbol));
        TRY(tt_buf_printf(b, ",\"lots\":%.8g,\"side\":\"%s\",\"avg_price\":%.*f",
                          (double)p->qty * p->volume_step, p->qty > 0 ? "long" : "short",
                          p->digits + 1, p->avg_price));
        for (int k = 0; k < v->hot.nquotes; k++)
            if (!strcmp(v->hot.quotes[k].symbol, p->symbol)) {
                const tt_status_quote *q = &v->hot.quotes[k];
                TRY(tt_buf_printf(b, ",\"bid\":"));
                TRY(price_json(b, q->digits, q->points, q->bid));
                TRY(tt_buf_printf(b, ",\"ask\":"));
                TRY(price_json(b, q->digits, q->points, q->ask));
            }
        TRY(tt_buf_printf(b, "}"));
    }
    TRY(tt_buf_printf(b, "],\"quotes\":["));
    for (int k = 0; k < v->hot.nquotes; k++) {
        const tt_status_quote *q = &v->hot.quotes[k];
        TRY(tt_buf_printf(b, "%s{\"symbol\":", k ? "," : ""));
        TRY(tt_buf_json_string(b, q->symbol));
        TRY(tt_buf_printf(b, ",\"bid\":"));
        TRY(price_json(b, q->digits, q->points, q->bid));
        TRY(tt_buf_printf(b, ",\"ask\":"));
        TRY(price_json(b, q->digits, q->points, q->ask));
        TRY(tt_buf_printf(b, ",\"ts\":%lld}", (long long)q->ts));
    }
    return tt_buf_printf(b, "]");
}

static int state_risk(tt_buf *b, const tt_status_snapshot *s)
{
    TRY(tt_buf_printf(b,
                      "\"risk\":{\"kill_switch\":%s,\"halted\":%s,\"rejects\":%llu,"
                      "\"rejects_by_rule\":{",
                      s->killed ? "true" : "false", s->halted ? "true" : "false",
                      (unsigned long long)s->risk_rejects));
    int n = 0;
    for (int r = 1; r < 16; r++)
        if (s->rejects_by_rule[r])
            TRY(tt_buf_printf(b, "%s\"%s\":%llu", n++ ? "," : "", tt_risk_rule_name(r),
                              (unsigned long long)s->rejects_by_rule[r]));
    TRY(tt_buf_printf(b, "},\"alerts\":["));
    for (int i = 0; i < s->nalerts; i++) {
        TRY(tt_buf_printf(b, "%s{\"ts\":%lld,\"subject\":", i ? "," : "",
                          (long long)s->alerts[i].ts));
        TRY(tt_buf_json_string(b, s->alerts[i].subject));
        TRY(tt_buf_printf(b, ",\"value\":"));
        TRY(tt_buf_json_double(b, s->alerts[i].value));
        TRY(tt_buf_printf(b, ",\"limit\":"));
        TRY(tt_buf_json_double(b, s->alerts[i].limit));
        TRY(tt_buf_printf(b, "}"));
    }
    return tt_buf_printf(b, "]}");
}

int tt_status_state_json(tt_buf *b, const tt_status_view *v)
{
    const tt_status_snapshot *s = &v->snap;
    TRY(tt_buf_printf(b, "{\"mode\":"));
    TRY(tt_buf_json_string(b, v->mode));
    TRY(tt_buf_printf(b,
                      ",\"engine\":%s,\"version\":%llu,\"engine_time\":%lld,"
                      "\"uptime_seconds\":%.3f,",
                      v->have_engine ? "true" : "false", (unsigned long long)s->version,
                      (long long)v->hot.engine_now, v->uptime));
    TRY(tt_buf_printf(b, "\"account\":{\"currency\":"));
    TRY(tt_buf_json_string(b, s->currency));
    if (s->have_equity)
        TRY(tt_buf_printf(b,
                          ",\"balance\":%.2f,\"equity\":%.2f,\"margin\":%.2f,"
                          "\"free_margin\":%.2f,\"pnl\":%.2f",
                          money(s, s->balance), money(s, s->equity), money(s, s->margin),
                          money(s, s->free_margin), money(s, s->equity - s->initial_balance)));
    TRY(tt_buf_printf(b,
                      "},\"counts\":{\"inputs\":%llu,\"orders\":%llu,\"fills\":%llu,"
                      "\"alerts\":%llu},",
                      (unsigned long long)(v->hot.inputs[TT_SI_QUOTE] +
                                           v->hot.inputs[TT_SI_TRADE] + v->hot.inputs[TT_SI_BAR] +
                                           v->hot.inputs[TT_SI_EXTERNAL]),
                      (unsigned long long)s->order_cmds, (unsigned long long)s->fills,
                      (unsigned long long)s->alerts_total));
    TRY(state_positions(b, v));
    TRY(tt_buf_printf(b, ","));
    TRY(state_orders(b, s));
    TRY(tt_buf_printf(b, ","));
    TRY(state_risk(b, s));
    TRY(tt_buf_printf(b, ",\"equity_curve\":["));
    for (int i = 0; i < s->neq; i++)
        TRY(tt_buf_printf(b, "%s[%lld,%.2f,%.2f]", i ? "," : "", (long long)s->eq[i].ts,
                          money(s, s->eq[i].balance), money(s, s->eq[i].equity)));
    TRY(tt_buf_printf(b, "],\"sources\":["));
    for (int i = 0; i < v->info.nsrc; i++) {
        TRY(tt_buf_printf(b, "%s{\"name\":", i ? "," : ""));
        TRY(tt_buf_json_string(b, v->info.src[i].name));
        TRY(tt_buf_printf(b, ",\"inputs\":%llu,\"dropped\":%llu,\"rejected\":%llu}",
                          (unsigned long long)v->info.src[i].inputs,
                          (unsigned long long)v->info.src[i].dropped,
                          (unsigned long long)v->info.src[i].rejected));
    }
    TRY(tt_buf_printf(b, "],\"connections\":["));
    for (int i = 0; i < v->info.nconn; i++) {
        TRY(tt_buf_printf(b, "%s{\"name\":", i ? "," : ""));
        TRY(tt_buf_json_string(b, v->info.conn[i].name));
        TRY(tt_buf_printf(b, ",\"up\":%s}", v->info.conn[i].up ? "true" : "false"));
    }
    return tt_buf_printf(b, "]}\n");
}

/* ---- Prometheus ---- */

/* A label value, escaped as the format requires. */
static int label(tt_buf *b, const char *s)
{
    for (; *s; s++) {
        const char *esc = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : NULL;
        TRY(esc ? tt_buf_append(b, esc, strlen(esc)) : tt_buf_append(b, s, 1));
    }
    return TT_OK;
}

static int family(tt_buf *b, const char *name, const char *type, const char *help)
{
    return tt_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int sample(tt_buf *b, const char *name, const char *lname, const char *lval, double v)
{
    TRY(tt_buf_printf(b, "%s", name));
    if (lname) {
        TRY(tt_buf_printf(b, "{%s=\"", lname));
        TRY(label(b, lval));
        TRY(tt_buf_printf(b, "\"}"));
    }
    if (isinf(v))
        return tt_buf_printf(b, " %s\n", v > 0 ? "+Inf" : "-Inf");
    if (isnan(v))
        return tt_buf_printf(b, " NaN\n");
    if (v == floor(v) && fabs(v) < 1e15)
        return tt_buf_printf(b, " %.0f\n", v);
    return tt_buf_printf(b, " %.17g\n", v);
}

static int one(tt_buf *b, const char *name, const char *type, const char *help, double v)
{
    TRY(family(b, name, type, help));
    return sample(b, name, NULL, NULL, v);
}

static int metrics_engine(tt_buf *b, const tt_status_view *v)
{
    const tt_status_snapshot *s = &v->snap;
    TRY(family(b, "ticktape_inputs_total", "counter", "Input events dispatched by the engine."));
    for (int k = 0; k < TT_SI_N; k++)
        TRY(sample(b, "ticktape_inputs_total", "kind", INPUT_KIND[k], (double)v->hot.inputs[k]));
    TRY(one(b, "ticktape_outputs_total", "counter", "Outputs emitted by the engine.",
            (double)s->outputs));
    TRY(family(b, "ticktape_order_commands_total", "counter", "Order commands sent."));
    TRY(sample(b, "ticktape_order_commands_total", "command", "submit", (double)s->order_cmds));
    TRY(sample(b, "ticktape_order_commands_total", "command", "cancel_modify",
               (double)s->cancels));
    TRY(family(b, "ticktape_order_events_total", "counter", "Order events by status."));
    for (int st = TT_OS_PENDING; st <= TT_OS_FAILED; st++)
        TRY(sample(b, "ticktape_order_events_total", "status", tt_order_status_name(st),
                   (double)s->by_status[st]));
    TRY(one(b, "ticktape_fills_total", "counter", "Fills received.", (double)s->fills));
    TRY(one(b, "ticktape_fill_volume_total", "counter",
            "Filled volume, instrument volume units, both sides.", (double)s->fill_volume));
    TRY(one(b, "ticktape_open_orders", "gauge", "Orders working now.", (double)s->open_orders));
    TRY(family(b, "ticktape_risk_rejects_total", "counter",
               "Orders the risk gate rejected, by rule."));
    for (int r = 1; r < TT_RULE_COUNT; r++)
        TRY(sample(b, "ticktape_risk_rejects_total", "rule", tt_risk_rule_name(r),
                   (double)s->rejects_by_rule[r]));
    TRY(one(b, "ticktape_alerts_total", "counter", "Risk and performance alerts raised.",
            (double)s->alerts_total));
    TRY(one(b, "ticktape_signals_total", "counter", "Strategy signals emitted.",
            (double)s->signals));
    TRY(one(b, "ticktape_kill_switch_engaged", "gauge", "1 when the kill switch is engaged.",
            s->killed));
    TRY(one(b, "ticktape_trading_halted", "gauge", "1 when the risk gate halted trading.",
            s->halted));
    TRY(family(b, "ticktape_position_lots", "gauge", "Net position, lots (negative short)."));
    for (int i = 0; i < s->npos; i++)
        TRY(sample(b, "ticktape_position_lots", "symbol", s->pos[i].symbol,
                   (double)s->pos[i].qty * s->pos[i].volume_step));
    if (s->have_equity) {
        static const char *const N[] = {"ticktape_account_balance", "ticktape_account_equity",
                                        "ticktape_account_margin", "ticktape_account_free_margin",
                                        "ticktape_pnl"};
        static const char *const H[] = {
            "Account balance, account currency.", "Account equity, account currency.",
            "Margin in use, account currency.", "Free margin, account currency.",
            "Equity minus the first balance seen, account currency."};
        tt_money val[] = {s->balance, s->equity, s->margin, s->free_margin,
                          s->equity - s->initial_balance};
        for (int i = 0; i < 5; i++) {
            TRY(family(b, N[i], "gauge", H[i]));
            TRY(sample(b, N[i], "currency", s->currency, money(s, val[i])));
        }
    }
    TRY(one(b, "ticktape_engine_time_seconds", "gauge",
            "Timestamp of the last event the engine dispatched, Unix seconds.",
            (double)v->hot.engine_now / 1e9));
    const char *h = "ticktape_tick_to_trade_seconds";
    TRY(family(b, h, "histogram",
               "From the arrival of the last tick to the emission of an order command."));
    uint64_t cum = 0;
    for (int i = 0; i <= TT_STATUS_LAT_BUCKETS; i++) {
        cum += s->lat_buckets[i];
        char le[32];
        if (i < TT_STATUS_LAT_BUCKETS)
            snprintf(le, sizeof le, "%g", tt_status_lat_bounds[i]);
        else
            snprintf(le, sizeof le, "+Inf");
        TRY(sample(b, "ticktape_tick_to_trade_seconds_bucket", "le", le, (double)cum));
    }
    TRY(sample(b, "ticktape_tick_to_trade_seconds_sum", NULL, NULL, s->lat_sum));
    return sample(b, "ticktape_tick_to_trade_seconds_count", NULL, NULL, (double)s->lat_count);
}

static int metrics_info(tt_buf *b, const tt_status_view *v)
{
    const tt_status_info *in = &v->info;
    if (in->nconn) {
        TRY(family(b, "ticktape_connection_up", "gauge", "1 when the connection is up."));
        for (int i = 0; i < in->nconn; i++)
            TRY(sample(b, "ticktape_connection_up", "name", in->conn[i].name, in->conn[i].up));
    }
    if (in->nsrc) {
        static const char *const N[] = {
            "ticktape_source_inputs_total", "ticktape_source_dropped_total",
            "ticktape_source_rejected_total", "ticktape_source_gaps_total"};
        static const char *const H[] = {
            "Events a source delivered.", "Market events dropped (queue full).",
            "Messages that could not be decoded.", "Feed gaps marked."};
        for (int m = 0; m < 4; m++) {
            TRY(family(b, N[m], "counter", H[m]));
            for (int i = 0; i < in->nsrc; i++) {
                uint64_t x = m == 0   ? in->src[i].inputs
                             : m == 1 ? in->src[i].dropped
                             : m == 2 ? in->src[i].rejected
                                      : in->src[i].gaps;
                TRY(sample(b, N[m], "source", in->src[i].name, (double)x));
            }
        }
    }
    if (in->nqueue) {
        static const char *const N[] = {
            "ticktape_queue_depth_events", "ticktape_queue_depth_bytes",
            "ticktape_queue_capacity_events", "ticktape_queue_max_depth_events"};
        static const char *const H[] = {"Events waiting in the queue.",
                                        "Bytes of the events waiting in the queue.",
                                        "Queue capacity, events.", "Most events queued at once."};
        for (int m = 0; m < 4; m++) {
            TRY(family(b, N[m], "gauge", H[m]));
            for (int i = 0; i < in->nqueue; i++) {
                uint64_t x = m == 0   ? in->queue[i].depth
                             : m == 1 ? in->queue[i].depth * in->queue[i].event_bytes
                             : m == 2 ? in->queue[i].capacity
                                      : in->queue[i].max_depth;
                TRY(sample(b, N[m], "queue", in->queue[i].name, (double)x));
            }
        }
    }
    for (int i = 0; i < in->nextra; i++)
        TRY(one(b, in->extra[i].name, in->extra[i].counter ? "counter" : "gauge",
                in->extra[i].help, in->extra[i].value));
    return TT_OK;
}

int tt_status_metrics_text(tt_buf *b, const tt_status_view *v)
{
    TRY(family(b, "ticktape_build_info", "gauge", "Version and mode of this process."));
    TRY(tt_buf_printf(b, "ticktape_build_info{version=\""));
    TRY(label(b, v->version));
    TRY(tt_buf_printf(b, "\",mode=\""));
    TRY(label(b, v->mode));
    TRY(tt_buf_printf(b, "\"} 1\n"));
    TRY(one(b, "ticktape_uptime_seconds", "gauge", "Seconds since the process started serving.",
            v->uptime));
    if (v->have_engine)
        TRY(metrics_engine(b, v));
    TRY(metrics_info(b, v));
    if (v->notify.enabled) {
        TRY(one(b, "ticktape_notifications_sent_total", "counter", "Notifications delivered.",
                (double)v->notify.sent));
        TRY(one(b, "ticktape_notifications_failed_total", "counter",
                "Notifications given up after their retries.", (double)v->notify.failed));
        TRY(one(b, "ticktape_notifications_dropped_total", "counter",
                "Notifications dropped: queue full.", (double)v->notify.dropped));
        TRY(one(b, "ticktape_notification_retries_total", "counter", "Delivery attempts retried.",
                (double)v->notify.retries));
        TRY(one(b, "ticktape_notifications_rate_limited_total", "counter",
                "Notifications a route's rate limit held back.", (double)v->notify.rate_limited));
        TRY(one(b, "ticktape_notification_queue_depth", "gauge", "Notifications waiting.",
                v->notify.depth));
    }
    TRY(one(b, "ticktape_http_requests_total", "counter", "HTTP requests answered.",
            (double)v->http_requests));
    TRY(one(b, "ticktape_http_unauthorized_total", "counter",
            "HTTP requests refused for a missing or wrong token.", (double)v->http_unauthorized));
    TRY(one(b, "ticktape_sse_clients", "gauge", "Event-stream clients connected.",
            (double)v->sse_clients));
    return one(b, "ticktape_sse_dropped_clients_total", "counter",
               "Event-stream clients dropped for reading too slowly.", (double)v->sse_dropped);
}
