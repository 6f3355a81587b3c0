/*
 * Inside the MT5 venue: the state shared by mt5_venue.c (commands, frames,
 * order events) and mt5_recon.c (the positions mirror and the
 * reconciliation). Installed with the other headers, but not part of the
 * API. Every function here expects the venue's mutex held.
 */
#ifndef TT_MT5_VENUE_INT_H
#define TT_MT5_VENUE_INT_H

#include <pthread.h>

#include "mt5_link.h"
#include "mt5_venue.h"

/* One live order of the engine (PENDING/SUBMITTED/ACCEPTED/partial). */
typedef struct tt_mt5v_order {
    uint64_t cid;
    uint32_t sym;
    tt_order_cmd cmd;       /* as submitted; prices follow MODIFIED */
    tt_order_cmd mod;       /* a modify in flight */
    uint64_t ticket;        /* MT5 order ticket; 0 = not known yet */
    uint64_t req;           /* request in flight (0 = none) */
    uint8_t req_kind;       /* TT_CMD_SUBMIT / CANCEL / MODIFY */
    int64_t req_ns;
    uint64_t qid;           /* QUERY in flight */
    int64_t q_ns;
    int unknown;            /* fate unknown (a request was in flight when the link went down) */
    int accepted;           /* ACCEPTED emitted */
    int want_cancel;        /* a cancel waits for the answer to the submit */
    tt_mt5_dec bfilled;     /* lots filled at the broker (deals seen) */
    int64_t eqty;           /* qty reported to the engine as filled */
    tt_money pcomm;         /* commission of deals not yet reported (part of a step) */
    /* how the order ended at the broker, waiting for its deals */
    int end_known, end_status, end_reason;
    tt_mt5_dec end_filled;  /* lots filled in all; < 0 = not known yet (ask) */
    int64_t end_ns;
} tt_mt5v_order;

/* The engine's positions as the venue's fills made them (the mirror). */
typedef struct tt_mt5v_pos {
    uint64_t ticket;        /* the engine's ticket (opening client id) */
    uint64_t bpos;          /* the broker's position id; 0 = not known */
    uint32_t sym;
    int8_t side;
    int64_t qty;
} tt_mt5v_pos;

typedef struct tt_mt5v_sym {
    int in_session;
    int ok;                 /* SPEC received and usable */
    tt_mt5_spec spec;
    tt_mt5_dec step;        /* the engine's volume_step in lots */
    int have_quote;
    tt_price bid, ask;
    int64_t quote_ns;       /* arrival of the last tick (monotonic) */
} tt_mt5v_sym;

struct tt_mt5_venue {
    tt_mt5_venue_opts o;
    pthread_mutex_t mu;
    tt_mt5_link *link;
    int live, connected, ready, gap_open;
    int killed;             /* kill switch: nothing that opens exposure leaves */
    int halted;             /* reconciliation halted: nothing leaves, for a human */
    int sync_pending;       /* a session came up before the first input: sync then */
    const char *subs[TT_MT5_SYM_MAX + 1]; /* the symbols the link subscribes */
    uint64_t tag;           /* session tag of the magic numbers; 0 = not known yet */
    tt_ts first_ts;         /* the session's first input */
    uint64_t last_cid;      /* the highest client id seen */
    tt_mt5v_sym *sym;
    uint32_t nsym;
    tt_mt5v_order *ord;
    size_t nord, capord;
    tt_mt5v_pos *pos;
    size_t npos, cappos;
    uint64_t *lost;         /* client ids that ended without an answer: late deals are theirs */
    size_t nlost, caplost;
    uint64_t *seen;         /* deal tickets seen this session (open addressing, 0 = empty) */
    size_t capseen, nseen;
    uint64_t req_seq, id_seq;
    int32_t tz;
    tt_ts last_deal;        /* UTC time of the latest deal known (journaled as the fill's
                               ts_init, so a restart knows it too); 0 = none */
    tt_ts deal_at;          /* the broker's time of the deal being reported as a fill */
    tt_mt5_deal *stash;     /* exit deals (stop-loss ...) of a position whose opening deal
                               has not come yet (an order whose answer is being asked for) */
    size_t nstash, capstash;
    uint64_t hist_id, snap_id;
    tt_mt5_pos *spos;       /* the snapshot being received */
    size_t nspos, capspos;
    tt_mt5_ord *sord;
    size_t nsord, capsord;
    tt_mt5_venue_stats st;
    tt_venue_totals totals; /* of the fills applied (the run's result) */
};

static inline uint64_t tt_mt5v_magic(const tt_mt5_venue *v, uint64_t cid)
{
    return v->tag << 32 | cid;
}

static inline const tt_instrument *tt_mt5v_ins(const tt_mt5_venue *v, uint32_t sym)
{
    return tt_instruments_get(v->o.ins, sym);
}

static inline tt_mt5_dec tt_mt5v_px_dec(const tt_mt5_venue *v, uint32_t sym, tt_price p)
{
    return p ? tt_mt5_dec_from_scaled(p, tt_mt5v_ins(v, sym)->digits) : 0;
}

/* ---- mt5_venue.c ---- */
void tt_mt5v_log(tt_mt5_venue *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
tt_mt5v_order *tt_mt5v_find(tt_mt5_venue *v, uint64_t cid);
/* Push an order event into the inbox, after applying it to the state. */
void tt_mt5v_emit(tt_mt5_venue *v, tt_event *ev);
/* A venue deal (client id 0) of qty at px on the engine position `ticket`. */
void tt_mt5v_venue_deal(tt_mt5_venue *v, uint32_t sym, int side, int64_t qty, tt_price px,
                        tt_money comm, uint64_t ticket, int reason);
/* A request of the venue's own (magic with client id 0): close or remove. */
int tt_mt5v_send_own(tt_mt5_venue *v, tt_mt5_frame *f);
void tt_mt5v_report(tt_mt5_venue *v, const char *symbol, uint64_t cid, uint32_t retcode,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
uint64_t tt_mt5v_cid_of(const tt_mt5_venue *v, uint64_t magic);
uint32_t tt_mt5v_sym_of(const tt_mt5_venue *v, const char *name);

/* An order event of order x (fill: qty at px with its commission, on the
 * engine position venue_id; 0 = the order's ticket). */
void tt_mt5v_order_event(tt_mt5_venue *v, const tt_mt5v_order *x, int status, int reason,
                         int64_t fill, tt_price px, tt_money comm, uint64_t venue_id);

/* ---- mt5_venue_req.c ---- */
int tt_mt5v_command(void *self, const tt_event *cmd, tt_err *err); /* the port's command() */
int tt_mt5v_send_frame(tt_mt5_venue *v, const tt_mt5_frame *f, tt_err *err);
void tt_mt5v_query(tt_mt5_venue *v, tt_mt5v_order *x);
void tt_mt5v_send_remove(tt_mt5_venue *v, tt_mt5v_order *x);

/* ---- mt5_recon.c ---- */
/* Apply an engine fill to the mirror: client orders (cid, with the position a
 * hedging close named) and venue deals (cid 0, ticket = the position). */
void tt_mt5v_mirror_fill(tt_mt5_venue *v, uint32_t sym, int side, int64_t qty, uint64_t cid,
                         uint64_t ticket);
tt_mt5v_pos *tt_mt5v_mirror_by_ticket(tt_mt5_venue *v, uint64_t ticket);
tt_mt5v_pos *tt_mt5v_mirror_by_bpos(tt_mt5_venue *v, uint64_t bpos);
tt_mt5v_pos *tt_mt5v_mirror_net(tt_mt5_venue *v, uint32_t sym);
/* The snapshot is complete: compare, report, apply the policy. */
void tt_mt5v_reconcile(tt_mt5_venue *v);

#endif
