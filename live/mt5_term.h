/*
 * ticktape live: the terminal stand-in's session, what `ticktape mt5-sim`
 * runs. It does what the TicktapeBridge EA does in a MetaTrader 5 terminal,
 * over the same protocol (live/mt5_proto.h), with the broker model of
 * live/mt5_sim.h standing in for the trade server:
 *
 *   connect to ticktape (HOST:PORT), HELLO, answer the CHALLENGE, check
 *   ticktape's proof in WELCOME; SPEC for every SUB; a snapshot on SNAPSHOT;
 *   TICK frames for the subscribed symbols; ORDER -> RESULT, then the DEAL
 *   and STATE frames the request caused (as OnTradeTransaction reports them,
 *   after OrderSend returned); DEAL and STATE frames for what happens at the
 *   broker on its own (pending orders, SL/TP, stop-out); ACCOUNT after every
 *   deal; QUERY -> the order's DEALs then STATE; HISTORY -> DEALs, HISTEND;
 *   heartbeats; reconnects (every 200 ms) when the connection is lost.
 *
 * The broker's quotes come from a tape, paced by its own timestamps (speed x
 * real time), at a fixed rate, or as fast as the socket takes them. The
 * market does not wait for the terminal: while the connection is down, ticks
 * keep reaching the broker model (orders trigger, stops are hit) and are not
 * sent; the missed deals reach ticktape through HISTORY after reconnecting.
 *
 * At the end of the tape it sends BYE, closes and writes the deal log.
 * Single-threaded: one poll loop; tt_mt5_term_stop is async-signal-safe.
 */
#ifndef TT_MT5_TERM_H
#define TT_MT5_TERM_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "../core/event.h"
#include "mt5_sim.h"

typedef struct tt_mt5_term_opts {
    const char *host;            /* ticktape's address */
    int port;
    const char *secret;          /* the shared secret (required) */
    int tls;                     /* connect with TLS */
    const char *tls_ca;          /* TLS: trust these certificates (PEM); NULL = the system's */
    int tls_verify;              /* TLS: check the certificate and the host (0 = accept any) */
    const char *tape_dir;        /* the broker's quotes */
    const char *const *symbols;  /* tape symbols to read, NULL-terminated; NULL = all */
    tt_ts from, to;              /* time range of the tape; 0 = open */
    double speed;                /* tape seconds per wall second; 0 = as fast as possible */
    double rate;                 /* > 0: this many ticks per second, whatever their times */
    tt_mt5_sim_config account;   /* the broker model */
    const char *const *faults;   /* --fault SPECs, NULL-terminated (may be NULL) */
    const char *deals_path;      /* the deal log (NULL = none) */
    const char *instruments_file; /* extra instruments (NULL = the built-in table) */
    uint32_t build;              /* terminal build in HELLO; 0 = 4755 */
    int64_t give_up_ms;          /* stop when ticktape was unreachable this long; 0 = never */
    int record_times;            /* keep every tick's and order's time (see the stats) */
    void (*log)(void *ctx, const char *line); /* may be NULL */
    void *log_ctx;
} tt_mt5_term_opts;

typedef struct tt_mt5_term_stats {
    uint64_t ticks;           /* read from the tape (all reached the broker model) */
    uint64_t ticks_sent;      /* sent as TICK frames */
    uint64_t frames_in, frames_out, bad_frames;
    uint64_t requests;        /* ORDER frames */
    uint64_t connections;     /* sessions that got WELCOME */
    uint64_t drops;           /* connections lost or dropped by a fault */
    uint64_t deals;
    /* quote-to-order latency: for each ORDER, wall ns since the last TICK of
     * its symbol was written to the socket */
    int64_t *latency_ns;
    size_t nlatency, caplatency;
    /* with opts.record_times: the monotonic time each TICK was written and
     * each ORDER read (bench/bench_mt5.c matches an order to its tick) */
    int64_t *tick_ns, *order_ns;
    size_t ntick_ns, captick_ns, norder_ns, caporder_ns;
} tt_mt5_term_stats;

typedef struct tt_mt5_term tt_mt5_term;

/* Open the tape and the broker model. TT_EINVAL naming the option (bad fault
 * spec, no secret), the tape's errors. */
int tt_mt5_term_new(tt_mt5_term **t, const tt_mt5_term_opts *opts, tt_err *err);

/* Run until the tape ends (0), tt_mt5_term_stop (0), or a failure: ticktape
 * failed authentication, unreachable for give_up_ms (TT_ENET), a tape error.
 * The deal log is written in every case. */
int tt_mt5_term_run(tt_mt5_term *t, tt_err *err);

void tt_mt5_term_stop(tt_mt5_term *t); /* async-signal-safe */

/* Counters (valid during and after the run from the running thread, or after it). */
const tt_mt5_term_stats *tt_mt5_term_stats_get(const tt_mt5_term *t);
const tt_mt5_sim *tt_mt5_term_sim(const tt_mt5_term *t);

void tt_mt5_term_free(tt_mt5_term *t);

#endif
