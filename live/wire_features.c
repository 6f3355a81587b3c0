/*
 * The machine-learning outputs on the wire (wire.h): the FeatureRow of a
 * closed bar (features.{SYMBOL}.{tf}, ml_features_archive) and the helpers
 * that put a feature row into a signal's ModelPrediction. Separate from
 * wire.c because these messages are not engine events: a row is a few
 * kilobytes, far more than a tt_event carries, so the feature publisher
 * (features_pub.h) hands the values over itself.
 *
 * Invariants: no allocation (the names come from the catalog, the values are
 * the caller's); never more than TT_WIRE_FEATURES_MAX values; the JSON form
 * writes each double with 17 significant digits so it reads back bit for bit.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/bars.h"
#include "../core/features.h"
#include "ticktape.pb-c.h"
#include "wire.h"

void tt_wire_features_subject(const char *symbol, int tf, char *subj, size_t cap)
{
    const char *seed = tt_timeframe_seed_name(tf);
    snprintf(subj, cap, "features.%s.%s", symbol, seed[0] == '?' ? tt_timeframe_name(tf) : seed);
}

size_t tt_wire_features_encode(const tt_wire_features *r, uint8_t *buf, size_t cap)
{
    int n = r->n < TT_WIRE_FEATURES_MAX ? r->n : TT_WIRE_FEATURES_MAX;
    char *names[TT_WIRE_FEATURES_MAX];
    for (int i = 0; i < n; i++) {
        const char *nm = tt_feature_name(r->cols[i]);
        names[i] = (char *)(nm ? nm : "?");
    }
    Ticktape__FeatureRow m = TICKTAPE__FEATURE_ROW__INIT;
    m.symbol = (char *)r->symbol;
    m.timeframe = (char *)tt_timeframe_name(r->tf);
    m.side = (char *)tt_price_side_name(r->side);
    m.open_time_ns = r->open_ts;
    m.close_time_ns = r->close_ts;
    m.n_names = (size_t)n;
    m.names = names;
    m.n_values = (size_t)n;
    m.values = (double *)r->values;
    m.timestamp = r->close_ts / TT_NS_PER_MS;
    if (ticktape__feature_row__get_packed_size(&m) > cap)
        return 0;
    return ticktape__feature_row__pack(&m, buf);
}

size_t tt_wire_json_doubles(const double *v, int n, char *buf, size_t cap)
{
    size_t used = 0;
    if (cap < 2)
        return cap;
    buf[used++] = '[';
    for (int i = 0; i < n && v; i++) {
        int k = isfinite(v[i]) ? snprintf(buf + used, cap - used, "%s%.17g", i ? "," : "", v[i])
                               : snprintf(buf + used, cap - used, "%snull", i ? "," : "");
        if (k < 0 || (size_t)k >= cap - used)
            return cap;
        used += (size_t)k;
    }
    if (used + 1 >= cap)
        return cap;
    buf[used++] = ']';
    buf[used] = '\0';
    return used;
}

size_t tt_wire_features_json(const tt_wire_features *r, char *buf, size_t cap)
{
    char open[32], close[32];
    tt_ts_format(r->open_ts, open, sizeof open, 0);
    tt_ts_format(r->close_ts, close, sizeof close, 0);
    int n = r->n < TT_WIRE_FEATURES_MAX ? r->n : TT_WIRE_FEATURES_MAX;
    int k = snprintf(buf, cap,
                     "{\"symbol\":\"%s\",\"timeframe\":\"%s\",\"side\":\"%s\",\"open_time\":\"%s\","
                     "\"close_time\":\"%s\",\"timestamp\":%lld,\"features\":{",
                     r->symbol, tt_timeframe_name(r->tf), tt_price_side_name(r->side), open,
                     close, (long long)(r->close_ts / TT_NS_PER_MS));
    if (k < 0 || (size_t)k >= cap)
        return 0;
    size_t used = (size_t)k;
    for (int i = 0; i < n; i++) {
        const char *nm = tt_feature_name(r->cols[i]);
        double v = r->values[i];
        k = isfinite(v) ? snprintf(buf + used, cap - used, "%s\"%s\":%.17g", i ? "," : "",
                                   nm ? nm : "?", v)
                        : snprintf(buf + used, cap - used, "%s\"%s\":null", i ? "," : "",
                                   nm ? nm : "?");
        if (k < 0 || (size_t)k >= cap - used)
            return 0;
        used += (size_t)k;
    }
    k = snprintf(buf + used, cap - used, "}}");
    if (k < 0 || (size_t)k >= cap - used)
        return 0;
    return used + (size_t)k;
}
