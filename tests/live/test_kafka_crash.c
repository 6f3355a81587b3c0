/*
 * Kafka at least once, and once per journal, through a crash (issue 13).
 *
 * Real Dukascopy EURUSD ticks (2019-02-04) are produced to `tick_archive` on
 * librdkafka's mock cluster (3 partitions; keys spread the ticks over all
 * three). `ticktape paper --kafka --journal J1` consumes them as group G and
 * is killed with SIGKILL in the middle; `ticktape paper --kafka --journal J2`
 * with the same group then takes the rest and is stopped. The oracle is the
 * tape itself: the ticks of J1 and J2 together must be exactly the ticks
 * produced (by exchange time, bid and ask, as a multiset): none lost, none
 * journaled twice. Before this work the source auto-committed offsets: the
 * audit lost 2,492 of 76,219 ticks this way, and a restart re-journaled
 * everything since the last periodic commit.
 *
 * Also: publish --kafka counts delivery reports (an unreachable broker is an
 * error naming the undelivered count), and a bad --kafka-set key is a usage
 * error naming the key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <spawn.h>

#include "kafka_helpers.h"
#include "live/journal.h"
#include "live/publish.h"
#include "live/wire.h"
#include "live_helpers.h"

extern char **environ;

static tt_test_kafka kafka;
static char work[4096], tape[4200];

typedef struct tick {
    int64_t ms;
    tt_price bid, ask;
} tick;

static int tick_cmp(const void *a, const void *b)
{
    const tick *x = a, *y = b;
    if (x->ms != y->ms)
        return x->ms < y->ms ? -1 : 1;
    if (x->bid != y->bid)
        return x->bid < y->bid ? -1 : 1;
    return x->ask < y->ask ? -1 : x->ask > y->ask;
}

typedef struct ticks {
    tick *t;
    size_t n, cap;
} ticks;

static void add(ticks *v, const tt_event *ev, int64_t ms)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 65536;
        v->t = realloc(v->t, v->cap * sizeof *v->t);
        assert_non_null(v->t);
    }
    v->t[v->n++] = (tick){ms, ev->u.quote.bid, ev->u.quote.ask};
}

/* Produce the tape's ticks, keys spread over the partitions. */
static size_t produce(ticks *sent)
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
    tt_event ev;
    while (tt_tape_reader_next(r, &ev, &err) == 1) {
        if (ev.kind != TT_EV_QUOTE)
            continue;
        uint8_t buf[128];
        size_t len = tt_wire_tick_encode(ins, &ev, buf, sizeof buf);
        char key[16];
        snprintf(key, sizeof key, "EURUSD-%zu", sent->n % 7);
        while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("tick_archive"),
                                 RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(buf, len),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
        add(sent, &ev, ev.ts / TT_NS_PER_MS);
    }
    assert_int_equal(rd_kafka_flush(rk, 20000), 0);
    rd_kafka_destroy(rk);
    tt_tape_reader_close(r);
    tt_instruments_free(ins);
    return sent->n;
}

/* Start ticktape with args (after the binary's name), stderr into errfile,
 * stdout to /dev/null; no shell. */
static pid_t spawn_ticktape(char **args, const char *errfile)
{
    char bin[4200];
    snprintf(bin, sizeof bin, "%s/ticktape", TT_BINARY_DIR);
    char *argv[32] = {bin};
    for (int i = 0; args[i] && i < 30; i++)
        argv[i + 1] = args[i];
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, bin, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

/* Start `ticktape paper` with stderr into errfile. */
static pid_t start_paper(const char *journal, const char *errfile, int from_beginning)
{
    char scen[4200];
    snprintf(scen, sizeof scen, "%s/crash.yaml", work);
    /* a short session timeout: the group notices the killed member in 6 s, not 45 */
    char *args[] = {"paper", scen, "--kafka", kafka.brokers, "--journal", (char *)journal,
                    "--no-reports", "--quiet", "--status-every", "0.1",
                    "--kafka-set", "session.timeout.ms=6000",
                    from_beginning ? "--from-beginning" : "--quiet", NULL};
    return spawn_ticktape(args, errfile);
}

/* The inputs count of the last status line in errfile (-1 before the first). */
static long inputs(const char *errfile)
{
    FILE *f = fopen(errfile, "r");
    if (!f)
        return -1;
    char line[1024];
    long n = -1;
    while (fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "inputs ");
        long v;
        if (p && sscanf(p, "inputs %ld", &v) == 1)
            n = v;
    }
    fclose(f);
    return n;
}

/* Bytes in the journal's files so far. */
static long journal_bytes(const char *dir)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/%s/blob", dir, TT_JOURNAL_SYMBOL);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    long n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char f[4600];
        struct stat st;
        snprintf(f, sizeof f, "%s/%s", path, de->d_name);
        if (de->d_name[0] != '.' && stat(f, &st) == 0 && S_ISREG(st.st_mode))
            n += (long)st.st_size;
    }
    closedir(d);
    return n;
}

/* The quotes of a journal (a torn tail dropped). */
static void read_journal(const char *dir, ticks *got)
{
    tt_instruments *ins = tt_instruments_new();
    tt_journal_reader *jr;
    tt_err err;
    if (tt_journal_reader_open(&jr, dir, ins, &err))
        fail_msg("%s", err.msg);
    tt_event ev;
    int rc;
    while ((rc = tt_journal_reader_next(jr, &ev, &err)) == 1)
        if (ev.kind == TT_EV_QUOTE)
            add(got, &ev, ev.ts_init / TT_NS_PER_MS);
    assert_int_equal(rc, 0);
    tt_journal_reader_close(jr);
    tt_instruments_free(ins);
}

static void test_crash_restart(void **state)
{
    (void)state;
    if (kafka.real)
        skip(); /* the exact count needs a topic of our own */
    ticks sent = {0}, got = {0};
    size_t n = produce(&sent);
    assert_true(n > 50000);
    char scen[4200];
    snprintf(scen, sizeof scen, "%s/crash.yaml", work);
    FILE *f = fopen(scen, "w");
    assert_non_null(f);
    fprintf(f, "name: crash\nseed: 1\ndata: {tape: unused, symbols: [EURUSD]}\n"
               "account: {currency: USD, balance: 10000, leverage: 100}\n"
               "venue: {latency_ms: 1}\n"
               "strategy: {name: sma_cross, params: {tf: M1, fast: 5, slow: 20, qty: 1}}\n");
    fclose(f);
    char j1[4200], j2[4200], e1[4200], e2[4200];
    snprintf(j1, sizeof j1, "%s/j1", work);
    snprintf(j2, sizeof j2, "%s/j2", work);
    snprintf(e1, sizeof e1, "%s/paper1.err", work);
    snprintf(e2, sizeof e2, "%s/paper2.err", work);
    /* Session 1, killed in the middle: as soon as its journal has a block
     * on disk (the source is then well ahead of the journal). */
    pid_t p1 = start_paper(j1, e1, 1);
    long in1 = -1;
    for (int i = 0; i < 30000 && journal_bytes(j1) < 300000; i++) /* a few blocks (~100 KB) */
        tt_test_sleep_ms(1);
    kill(p1, SIGKILL);
    in1 = inputs(e1);
    int st;
    waitpid(p1, &st, 0);
    assert_true(WIFSIGNALED(st));
    read_journal(j1, &got);
    size_t in_j1 = got.n;
    fprintf(stderr, "session 1: %ld inputs seen, %zu ticks in its journal, killed\n", in1, in_j1);
    assert_true(in_j1 < n); /* it died in the middle */
    /* Session 2, the same group: takes the rest and nothing else. */
    pid_t p2 = start_paper(j2, e2, 0);
    long last = -2;
    int still = 0;
    for (int i = 0; i < 1200 && still < 20; i++) { /* joined, then quiet for 2 s */
        tt_test_sleep_ms(100);
        long now = inputs(e2);
        still = now == last && now > 0 ? still + 1 : 0;
        last = now;
    }
    kill(p2, SIGINT);
    waitpid(p2, &st, 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    read_journal(j2, &got);
    fprintf(stderr, "session 2: %zu ticks in its journal; together %zu of %zu\n",
            got.n - in_j1, got.n, n);
    qsort(sent.t, sent.n, sizeof *sent.t, tick_cmp);
    qsort(got.t, got.n, sizeof *got.t, tick_cmp);
    size_t lost = 0, twice = 0, i = 0, k = 0;
    while (i < sent.n || k < got.n) {
        int c = i == sent.n ? 1 : k == got.n ? -1 : tick_cmp(&sent.t[i], &got.t[k]);
        if (c < 0)
            lost++, i++;
        else if (c > 0)
            twice++, k++;
        else
            i++, k++;
    }
    fprintf(stderr, "lost %zu, journaled twice %zu\n", lost, twice);
    assert_int_equal(lost, 0);
    assert_int_equal(twice, 0);
    free(sent.t);
    free(got.t);
}

/* Run ticktape with args, stderr into errfile; its exit status, and the
 * text of errfile in text. */
static int run_ticktape(char **args, const char *errfile, char *text, size_t cap)
{
    pid_t pid = spawn_ticktape(args, errfile);
    int st;
    waitpid(pid, &st, 0);
    FILE *f = fopen(errfile, "r");
    assert_non_null(f);
    size_t got = fread(text, 1, cap - 1, f);
    text[got] = 0;
    fclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* publish --kafka: delivery reports, not "taken by the producer". */
static void test_publish_reports(void **state)
{
    (void)state;
    char out[4200], text[8192];
    snprintf(out, sizeof out, "%s/publish.err", work);
    /* nobody listens on port 1: every tick times out */
    char *a1[] = {"publish", tape, "--kafka", "127.0.0.1:1", "--limit", "50",
                  "--kafka-set", "message.timeout.ms=1500",
                  "--kafka-set", "sasl.username=secret-user-42", NULL};
    assert_int_equal(run_ticktape(a1, out, text, sizeof text), 1);
    assert_non_null(strstr(text, "50 of 50 ticks were not delivered"));
    assert_null(strstr(text, "secret-user-42"));
    char *a2[] = {"publish", tape, "--kafka", "127.0.0.1:1", "--kafka-set", "bogus.key=hunter2",
                  NULL};
    assert_int_equal(run_ticktape(a2, out, text, sizeof text), 2);
    assert_non_null(strstr(text, "bogus.key"));
    assert_null(strstr(text, "hunter2"));
}

int main(void)
{
    tt_test_tmpdir(work, sizeof work, "kafka-crash");
    snprintf(tape, sizeof tape, "%s/tape", work);
    if (tt_test_eurusd_tape(tape, 0, 24) < 50000) {
        fprintf(stderr, "cannot import the sample\n");
        return 1;
    }
    if (tt_test_kafka_start(&kafka, 1)) {
        fprintf(stderr, "cannot start the mock cluster\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_reports),
        cmocka_unit_test(test_crash_restart),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tt_test_kafka_stop(&kafka);
    if (!rc) /* kept when something failed, for the session logs */
        tt_test_rmdir(work);
    return rc;
}
