/*
 * Tapes consolidated into one (feedmerge.h).
 *
 * How this works: one tape reader per input (quotes of the symbols, the
 * range), each holding its next quote; the least by (time, source index) is
 * pushed into the consolidator; its merged quotes go to one tape writer per
 * symbol and its events, with the `sources` records, to the _merge blob
 * stream. All writing goes through the public tape writer. Memory is
 * constant in the span: a quote in hand per input, a block per writer.
 */
#include "feedmerge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tape.h"

typedef struct out_stream {
    uint32_t symbol;
    tt_tape_writer *w;
    uint32_t bid_from, ask_from; /* the sources of the last merged quote */
    int crossed, have;
} out_stream;

typedef struct fm {
    const tt_feedmerge_opts *o;
    tt_feedmerge_stats *st;
    const char *names[TT_CONSOL_MAX_SOURCES];
    char namebuf[TT_CONSOL_MAX_SOURCES][64];
    out_stream *outs;
    int nouts, capouts;
    tt_tape_writer *log;
    uint64_t log_seq;
    int rc;     /* the first write error, raised from the callbacks */
    tt_err err;
} fm;

void tt_feedmerge_name(const char *tape, char *buf, size_t cap)
{
    size_t n = strlen(tape);
    while (n > 1 && tape[n - 1] == '/')
        n--;
    size_t b = n;
    while (b > 0 && tape[b - 1] != '/')
        b--;
    snprintf(buf, cap, "%.*s", (int)(n - b), tape + b);
}

static void fail(fm *m, int rc, const tt_err *e)
{
    if (!m->rc) {
        m->rc = rc;
        m->err = *e;
    }
}

static void log_json(fm *m, tt_ts ts, const char *json, size_t len)
{
    if (m->rc)
        return;
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.ts = ev.ts_init = ts;
    ev.seq = ++m->log_seq;
    ev.kind = TT_EV_BLOB;
    ev.cls = TT_CLS_EXTERNAL;
    ev.u.blob.type = TT_FEEDMERGE_LOG;
    ev.u.blob.len = (uint32_t)len;
    ev.u.blob.data = (const uint8_t *)json;
    tt_err e;
    int rc = tt_tape_writer_append(m->log, &ev, &e);
    if (rc)
        fail(m, rc, &e);
    if (m->o->report)
        m->o->report(m->o->ctx, json);
}

static const char *symbol_name(const fm *m, uint32_t id)
{
    const tt_instrument *in = tt_instruments_get(m->o->ins, id);
    return in ? in->symbol : "?";
}

static out_stream *out_for(fm *m, uint32_t symbol)
{
    for (int i = 0; i < m->nouts; i++)
        if (m->outs[i].symbol == symbol)
            return &m->outs[i];
    if (m->nouts == m->capouts) {
        int cap = m->capouts ? m->capouts * 2 : 8;
        out_stream *v = realloc(m->outs, (size_t)cap * sizeof *v);
        if (!v)
            return NULL;
        m->outs = v;
        m->capouts = cap;
    }
    out_stream *s = &m->outs[m->nouts];
    memset(s, 0, sizeof *s);
    s->symbol = symbol;
    tt_stream_desc d;
    memset(&d, 0, sizeof d);
    snprintf(d.symbol, sizeof d.symbol, "%s", symbol_name(m, symbol));
    d.kind = TT_STREAM_QUOTE;
    tt_err e;
    int rc = tt_tape_writer_open(&s->w, m->o->out, &d, NULL, &e);
    if (rc) {
        fail(m, rc, &e);
        return NULL;
    }
    m->nouts++;
    return s;
}

static void on_quote(void *ctx, const tt_consol_quote *q)
{
    fm *m = ctx;
    if (m->rc)
        return;
    out_stream *s = out_for(m, q->symbol);
    if (!s) {
        if (!m->rc) {
            tt_err e;
            tt_err_set(&e, TT_ENOMEM, "out of memory (merge)");
            fail(m, TT_ENOMEM, &e);
        }
        return;
    }
    if (!s->have || s->bid_from != q->bid_from || s->ask_from != q->ask_from ||
        s->crossed != q->crossed) {
        char bid[160], ask[160], t[48], json[512];
        tt_consol_sources_text(q->bid_from, m->names, bid, sizeof bid);
        tt_consol_sources_text(q->ask_from, m->names, ask, sizeof ask);
        tt_ts_format(q->ts, t, sizeof t, 1);
        int n = snprintf(json, sizeof json,
                         "{\"event\":\"sources\",\"time\":\"%s\",\"symbol\":\"%s\",\"bid\":\"%s\","
                         "\"ask\":\"%s\",\"crossed\":%s}",
                         t, symbol_name(m, q->symbol), bid, ask, q->crossed ? "true" : "false");
        s->have = 1;
        s->bid_from = q->bid_from;
        s->ask_from = q->ask_from;
        s->crossed = q->crossed;
        m->st->provenance++;
        if (n > 0 && (size_t)n < sizeof json)
            log_json(m, q->ts, json, (size_t)n);
    }
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.ts = ev.ts_init = q->ts;
    ev.kind = TT_EV_QUOTE;
    ev.cls = TT_CLS_MARKET;
    ev.symbol = q->symbol;
    ev.u.quote = q->q;
    tt_err e;
    int rc = tt_tape_writer_append(s->w, &ev, &e);
    if (rc)
        fail(m, rc, &e);
    else
        m->st->out++;
}

static void on_event(void *ctx, const tt_consol_event *e)
{
    fm *m = ctx;
    char json[512];
    size_t n = tt_consol_event_json(e, m->names, symbol_name(m, e->symbol), json, sizeof json);
    m->st->states += e->kind == TT_CONSOL_STATE;
    m->st->failovers += e->kind == TT_CONSOL_FAILOVER;
    m->st->failbacks += e->kind == TT_CONSOL_FAILBACK;
    m->st->crosses += e->kind == TT_CONSOL_CROSS;
    if (n)
        log_json(m, e->ts, json, n);
}

/* 1 when an input tape has quotes of the instrument `in`. */
static int input_has(const fm *m, const tt_instrument *in)
{
    for (int k = 0; k < m->o->ntapes; k++) {
        tt_tape_info info;
        if (tt_tape_info_read(m->o->tapes[k], &info, NULL))
            continue;
        int has = 0;
        for (uint32_t i = 0; i < info.nstreams && !has; i++)
            has = info.streams[i].desc.kind == TT_STREAM_QUOTE &&
                  tt_instruments_find(m->o->ins, info.streams[i].desc.symbol) == in;
        tt_tape_info_free(&info);
        if (has)
            return 1;
    }
    return 0;
}

/* The output must not hold a merge log or the quotes of an input symbol. */
static int check_out(const fm *m, tt_err *err)
{
    tt_tape_info info;
    if (tt_tape_info_read(m->o->out, &info, NULL))
        return TT_OK; /* a new tape */
    int rc = TT_OK;
    for (uint32_t i = 0; i < info.nstreams && !rc; i++) {
        const tt_stream_info *s = &info.streams[i];
        const tt_instrument *in = tt_instruments_find(m->o->ins, s->desc.symbol);
        int log = s->desc.kind == TT_STREAM_BLOB && !strcmp(s->desc.symbol, TT_FEEDMERGE_STREAM);
        int taken = log || (s->desc.kind == TT_STREAM_QUOTE && in && input_has(m, in));
        if (taken)
            rc = tt_err_set(err, TT_EINVAL,
                            "%s already holds %s/%s: merge writes into a new tape (or one "
                            "without these symbols)",
                            m->o->out, s->desc.symbol,
                            s->desc.kind == TT_STREAM_QUOTE ? "quote" : "blob");
    }
    tt_tape_info_free(&info);
    return rc;
}

static int open_inputs(fm *m, tt_tape_reader **rd, tt_err *err)
{
    const tt_feedmerge_opts *o = m->o;
    for (int k = 0; k < o->ntapes; k++) {
        if (o->names && o->names[k])
            snprintf(m->namebuf[k], sizeof m->namebuf[k], "%s", o->names[k]);
        else
            tt_feedmerge_name(o->tapes[k], m->namebuf[k], sizeof m->namebuf[k]);
        m->names[k] = m->namebuf[k];
        for (int j = 0; j < k; j++)
            if (!strcmp(m->names[j], m->names[k]))
                return tt_err_set(err, TT_EINVAL,
                                  "two sources named '%s' (give --names, or tapes in folders "
                                  "of different names)",
                                  m->names[k]);
        tt_tape_query q;
        memset(&q, 0, sizeof q);
        q.symbols = o->symbols;
        q.kinds = 1u << TT_STREAM_QUOTE;
        q.from = o->from;
        q.to = o->to;
        int rc = tt_tape_reader_open(&rd[k], o->tapes[k], &q, o->ins, err);
        if (rc) {
            tt_err_prefix(err, "source %s: ", m->names[k]);
            return rc;
        }
    }
    return check_out(m, err);
}

/* 1 when (source k, symbol) is already in the set. */
static int in_set(const int *src, const tt_event *set, int n, int k, uint32_t symbol)
{
    for (int i = 0; i < n; i++)
        if (src[i] == k && set[i].symbol == symbol)
            return 1;
    return 0;
}

/* Read every input in time order into the consolidator; the quotes of one time
 * stamp go in together (tt_consolidator_push_set), in source order. */
static int pump(fm *m, tt_consolidator *c, tt_tape_reader **rd, tt_err *err)
{
    int n = m->o->ntapes, rc;
    tt_event head[TT_CONSOL_MAX_SOURCES], set[TT_CONSOL_MAX_SET];
    int have[TT_CONSOL_MAX_SOURCES], src[TT_CONSOL_MAX_SET];
    for (int k = 0; k < n; k++) {
        if ((rc = tt_tape_reader_next(rd[k], &head[k], err)) < 0)
            return rc;
        have[k] = rc;
    }
    for (;;) {
        int best = -1;
        for (int k = 0; k < n; k++)
            if (have[k] && (best < 0 || head[k].ts < head[best].ts))
                best = k;
        if (best < 0)
            return TT_OK;
        tt_ts t = head[best].ts;
        int ns = 0;
        for (int k = 0; k < n; k++) {
            while (have[k] && head[k].ts == t && ns < TT_CONSOL_MAX_SET &&
                   !in_set(src, set, ns, k, head[k].symbol)) {
                src[ns] = k;
                set[ns++] = head[k];
                m->st->in[k]++;
                if ((rc = tt_tape_reader_next(rd[k], &head[k], err)) < 0) {
                    tt_err_prefix(err, "source %s: ", m->names[k]);
                    return rc;
                }
                have[k] = rc;
            }
        }
        if ((rc = tt_consolidator_push_set(c, ns, src, set, err)) < 0)
            return rc;
        if (m->rc) {
            *err = m->err;
            return m->rc;
        }
    }
}

int tt_feedmerge_run(const tt_feedmerge_opts *o, tt_feedmerge_stats *st,
                     void (*done)(void *ctx, const tt_consolidator *c), void *done_ctx,
                     tt_err *err)
{
    memset(st, 0, sizeof *st);
    if (o->ntapes < 1 || o->ntapes > TT_CONSOL_MAX_SOURCES || !o->out || !o->ins)
        return tt_err_set(err, TT_EINVAL, "merge: 1..%d input tapes, an output and instruments",
                          TT_CONSOL_MAX_SOURCES);
    fm m;
    memset(&m, 0, sizeof m);
    m.o = o;
    m.st = st;
    tt_tape_reader *rd[TT_CONSOL_MAX_SOURCES] = {0};
    tt_consolidator *c = NULL;
    tt_consol_config cfg = o->cfg;
    cfg.nsources = o->ntapes;
    int rc = open_inputs(&m, rd, err);
    if (!rc)
        rc = tt_consolidator_new(&c, &cfg, err);
    tt_stream_desc d;
    memset(&d, 0, sizeof d);
    snprintf(d.symbol, sizeof d.symbol, "%s", TT_FEEDMERGE_STREAM);
    d.kind = TT_STREAM_BLOB;
    if (!rc)
        rc = tt_tape_writer_open(&m.log, o->out, &d, NULL, err);
    if (!rc) {
        tt_consolidator_listen(c, on_quote, on_event, &m);
        rc = pump(&m, c, rd, err);
    }
    if (!rc && done)
        done(done_ctx, c);
    if (c)
        st->nsymbols = tt_consolidator_symbol_count(c);
    for (int i = 0; i < m.nouts; i++) {
        int crc = tt_tape_writer_close(m.outs[i].w, rc ? NULL : err);
        rc = rc ? rc : crc;
    }
    int crc = tt_tape_writer_close(m.log, rc ? NULL : err);
    rc = rc ? rc : crc;
    for (int k = 0; k < o->ntapes; k++)
        tt_tape_reader_close(rd[k]);
    tt_consolidator_free(c);
    free(m.outs);
    return rc;
}
