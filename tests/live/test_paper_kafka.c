/*
 * Paper trading with the Kafka feed, in-process, and its replay.
 *
 * Real Dukascopy EURUSD ticks (2019-02-04 07:00-09:00) are produced to
 * `tick_archive` on librdkafka's mock cluster (or TT_KAFKA_BROKERS), keyed by
 * symbol. A paper session (tt_paper_attach around the backtest assembly, the
 * example tick-momentum plugin, 1 ms venue latency) consumes them as a
 * consumer group, journals them and archives its outputs to the seed's Kafka
 * topics; it is stopped once every tick has been taken in. The journal is
 * then replayed through the same scenario: fingerprint, event count and the
 * order-event list must be identical, and every archived message must have
 * been acknowledged.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "kafka_helpers.h"
#include "live/journal.h"
#include "live/paper.h"
#include "live/wire.h"
#include "live_helpers.h"
#include "sim/scenario.h"

static tt_test_kafka kafka;

static const char SCENARIO[] =
    "name: paper-kafka\n"
    "seed: 3\n"
    "data:\n"
    "  tape: unused\n"
    "  symbols: [EURUSD]\n"
    "account: {currency: USD, balance: 10000, leverage: 100}\n"
    "venue:\n"
    "  latency_ms: 1\n"
    "strategy:\n"
    "  name: " TT_BINARY_DIR "/tests/libexample_strategy.so\n"
    "  params: {n: 20, move: 4, qty: 1, sl: 6}\n";

static long produce_tape(const char *tape, uint64_t mark)
{
    tt_instruments *ins = tt_instruments_new();
    tt_tape_reader *r;
    tt_err err;
    tt_tape_query q = {0};
    if (tt_tape_reader_open(&r, tape, &q, ins, &err))
        fail_msg("%s", err.msg);
    char errstr[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", kafka.brokers, errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, errstr, sizeof errstr);
    assert_non_null(rk);
    long n = 0;
    tt_event ev;
    while (tt_tape_reader_next(r, &ev, &err) == 1) {
        ev.ts += (tt_ts)mark * TT_NS_PER_MS; /* run-unique times (a real cluster keeps old runs) */
        uint8_t buf[128];
        size_t len = tt_wire_tick_encode(ins, &ev, buf, sizeof buf);
        while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("tick_archive"), RD_KAFKA_V_KEY("EURUSD", 6),
                                 RD_KAFKA_V_VALUE(buf, len),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
        n++;
    }
    assert_int_equal(rd_kafka_flush(rk, 20000), 0);
    rd_kafka_destroy(rk);
    tt_tape_reader_close(r);
    tt_instruments_free(ins);
    return n;
}

typedef struct runner {
    tt_backtest *bt;
    tt_backtest_result res;
    tt_err err;
    int rc;
} runner;

static void *run_bt(void *arg)
{
    runner *r = arg;
    r->rc = tt_backtest_exec(r->bt, &r->res, &r->err);
    return NULL;
}

static void prepare(tt_scenario **s, tt_scenario_run *run)
{
    tt_err err;
    if (tt_scenario_parse(s, SCENARIO, strlen(SCENARIO), "paper-kafka.yaml", NULL, &err) ||
        tt_scenario_prepare(*s, run, &err))
        fail_msg("%s", err.msg);
}

static void test_paper_on_kafka_replays_exactly(void **state)
{
    (void)state;
    char dir[4096], tape[4200], journal[4200];
    tt_test_tmpdir(dir, sizeof dir, "paper-kafka");
    snprintf(tape, sizeof tape, "%s/tape", dir);
    snprintf(journal, sizeof journal, "%s/journal", dir);
    assert_true(tt_test_eurusd_tape(tape, 7, 9) > 1000);
    tt_wallclock clk;
    tt_wallclock_init(&clk);
    /* under a year: the shifted ticks stay in the past (a tick more than a
     * minute in the future of its arrival is refused, live/wire.h) */
    uint64_t mark = (uint64_t)tt_wallclock_now(&clk) / TT_NS_PER_MS % (365ULL * 86400000ULL);
    long n = produce_tape(tape, mark);

    tt_scenario *s;
    tt_scenario_run *run = calloc(1, sizeof *run);
    prepare(&s, run);
    char group[64];
    snprintf(group, sizeof group, "tt-paper-%llu", (unsigned long long)mark);
    tt_paper_opts po = {.kafka_brokers = kafka.brokers, .kafka_group = group,
                        .kafka_from_beginning = 1, .journal_dir = journal,
                        .queue_capacity = 1 << 20};
    tt_paper *p;
    tt_backtest *bt;
    tt_err err;
    if (tt_backtest_open(&bt, &run->cfg, &err) ||
        tt_paper_attach(&p, bt, run->instruments, &po, &err))
        fail_msg("%s", err.msg);
    runner rn = {.bt = bt};
    pthread_t th;
    pthread_create(&th, NULL, run_bt, &rn);
    /* Stop once every tick of this run was taken in (older runs' ticks on a
     * real cluster are journaled too and do not matter here). */
    int64_t dl = tt_mono_ns() + 60 * TT_NS_PER_SEC;
    tt_paper_status st;
    do {
        tt_test_sleep_ms(20);
        tt_paper_status_get(p, &st);
    } while (st.inbox.pushed < (uint64_t)n && tt_mono_ns() < dl);
    tt_test_sleep_ms(50);
    tt_paper_stop(p);
    pthread_join(th, NULL);
    tt_backtest_close(bt);
    if (rn.rc)
        fail_msg("paper: %s", rn.err.msg);
    tt_paper_status_get(p, &st);
    tt_paper_outputs out;
    tt_paper_outputs_get(p, &out);
    assert_int_equal(tt_paper_close(p, &err), TT_OK);
    assert_true(st.inbox.pushed >= (uint64_t)n);
    assert_int_equal(st.inbox.dropped, 0);
    assert_true(rn.res.norders >= 6);
    assert_true(rn.res.fills >= 2);
    assert_true(out.kafka_produced > 0);
    assert_int_equal(out.kafka_delivered, out.kafka_produced); /* every archive message acked */
    assert_int_equal(out.kafka_failed + out.kafka_undelivered, 0);
    print_message("paper on kafka: %ld ticks, %llu events, %zu order events, %llu fills, "
                  "%llu archive messages acknowledged\n",
                  n, (unsigned long long)rn.res.events, rn.res.norders,
                  (unsigned long long)rn.res.fills, (unsigned long long)out.kafka_delivered);
    tt_scenario_release(run);
    tt_scenario_free(s);

    /* Replay the journal through the same scenario. */
    memset(run, 0, sizeof *run);
    prepare(&s, run);
    tt_journal_reader *jr;
    if (tt_journal_reader_open(&jr, journal, run->instruments, &err))
        fail_msg("%s", err.msg);
    tt_source src = tt_journal_reader_source(jr);
    run->cfg.source = &src;
    run->cfg.tape_dir = NULL;
    tt_backtest_result rr;
    memset(&rr, 0, sizeof rr);
    if (tt_backtest_run(&run->cfg, &rr, &err))
        fail_msg("replay: %s", err.msg);
    assert_true(rr.fingerprint.hi == rn.res.fingerprint.hi &&
                rr.fingerprint.lo == rn.res.fingerprint.lo);
    assert_int_equal(rr.events, rn.res.events);
    assert_int_equal(rr.norders, rn.res.norders);
    assert_memory_equal(rr.orders, rn.res.orders, rr.norders * sizeof *rr.orders);
    assert_int_equal(rr.ntrades, rn.res.ntrades);
    tt_backtest_result_free(&rr);
    tt_backtest_result_free(&rn.res);
    tt_journal_reader_close(jr);
    tt_scenario_release(run);
    tt_scenario_free(s);
    free(run);
    tt_test_rmdir(dir);
}

int main(void)
{
    if (tt_test_kafka_start(&kafka, 3))
        return 1;
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_paper_on_kafka_replays_exactly)};
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tt_test_kafka_stop(&kafka);
    return rc;
}
