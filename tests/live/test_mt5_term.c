/*
 * The two ends of the MT5 bridge over loopback, without the engine:
 * ticktape's link (live/mt5_link.h) against the terminal stand-in
 * (live/mt5_term.h) streaming the real EURUSD sample tape. The handshake in
 * both directions (a wrong secret is refused by either side), SPEC on SUB,
 * the snapshot, a trade's frames in the order the EA sends them (RESULT,
 * then DEAL and STATE), QUERY and HISTORY, every tick of the tape's first
 * hour delivered in order, a dropped connection that comes back as a new
 * session, a frame too long refused, BYE at the end of the data and the
 * deal log written.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "live/mt5_link.h"
#include "live/mt5_term.h"

#define TAPE TT_SOURCE_DIR "/scenarios/data/eurusd-2019-02"

/* ---- what the link saw ---- */

typedef struct seen {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    tt_mt5_frame *f;
    size_t n, cap;
    int ups, downs;
    char down_why[256];
    char log[4096];
} seen;

static void on_up(void *ctx, const tt_mt5_hello *h)
{
    seen *s = ctx;
    (void)h;
    pthread_mutex_lock(&s->mu);
    s->ups++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void on_frame(void *ctx, const tt_mt5_frame *f)
{
    seen *s = ctx;
    pthread_mutex_lock(&s->mu);
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 1024;
        s->f = realloc(s->f, s->cap * sizeof *s->f);
    }
    s->f[s->n++] = *f;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void on_down(void *ctx, const char *why)
{
    seen *s = ctx;
    pthread_mutex_lock(&s->mu);
    s->downs++;
    snprintf(s->down_why, sizeof s->down_why, "%s", why);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void on_log(void *ctx, const char *line)
{
    seen *s = ctx;
    pthread_mutex_lock(&s->mu);
    size_t used = strlen(s->log);
    snprintf(s->log + used, sizeof s->log - used, "%s\n", line);
    pthread_mutex_unlock(&s->mu);
}

/* Wait until pred holds (checked under the lock) or 20 s pass. */
typedef int (*pred_fn)(seen *s, void *arg);

static int wait_for(seen *s, pred_fn pred, void *arg)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    pthread_mutex_lock(&s->mu);
    int ok;
    while (!(ok = pred(s, arg)))
        if (pthread_cond_timedwait(&s->cv, &s->mu, &until))
            break;
    ok = pred(s, arg);
    pthread_mutex_unlock(&s->mu);
    return ok;
}

static int ups_at_least(seen *s, void *arg) { return s->ups >= *(int *)arg; }
static int downs_at_least(seen *s, void *arg) { return s->downs >= *(int *)arg; }

typedef struct want_type {
    int type;
    size_t from;
} want_type;

static int has_type(seen *s, void *arg)
{
    want_type *w = arg;
    for (size_t i = w->from; i < s->n; i++)
        if (s->f[i].type == w->type)
            return 1;
    return 0;
}

/* Index of the first frame of type at or after from (-1 when none yet). */
static long find(seen *s, int type, size_t from)
{
    pthread_mutex_lock(&s->mu);
    long at = -1;
    for (size_t i = from; i < s->n && at < 0; i++)
        if (s->f[i].type == type)
            at = (long)i;
    pthread_mutex_unlock(&s->mu);
    return at;
}

static long wait_type(seen *s, int type, size_t from)
{
    want_type w = {type, from};
    wait_for(s, has_type, &w);
    return find(s, type, from);
}

/* A copy of frame i (the array grows under the link's thread). */
static tt_mt5_frame get(seen *s, long i)
{
    tt_mt5_frame f;
    pthread_mutex_lock(&s->mu);
    assert_true(i >= 0 && (size_t)i < s->n);
    f = s->f[i];
    pthread_mutex_unlock(&s->mu);
    return f;
}

static seen *seen_new(void)
{
    seen *s = calloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    return s;
}

static void seen_free(seen *s)
{
    free(s->f);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

static tt_mt5_link *link_open(seen *s, const char *secret)
{
    static const char *const syms[] = {"EURUSD", NULL};
    tt_mt5_link_opts o;
    memset(&o, 0, sizeof o);
    o.host = "127.0.0.1";
    o.secret = secret;
    o.hb_ms = 200;
    o.symbols = syms;
    o.on_up = on_up;
    o.on_frame = on_frame;
    o.on_down = on_down;
    o.log = on_log;
    o.ctx = s;
    tt_mt5_link *l;
    tt_err err;
    if (tt_mt5_link_open(&l, &o, &err))
        fail_msg("%s", err.msg);
    return l;
}

/* ---- the terminal, on a thread ---- */

typedef struct term_run {
    tt_mt5_term *t;
    pthread_t th;
    int rc;
    tt_err err;
} term_run;

static void *term_main(void *arg)
{
    term_run *r = arg;
    r->rc = tt_mt5_term_run(r->t, &r->err);
    return NULL;
}

static term_run *term_start(int port, const char *secret, const char *const *faults,
                            const char *deals, int minutes, double speed)
{
    term_run *r = calloc(1, sizeof *r);
    tt_mt5_term_opts o;
    memset(&o, 0, sizeof o);
    o.host = "127.0.0.1";
    o.port = port;
    o.secret = secret;
    o.tape_dir = TAPE;
    tt_ts_parse("2019-02-04T00:00:00", &o.from);
    o.to = o.from + (int64_t)minutes * 60 * TT_NS_PER_SEC;
    tt_mt5_sim_config_default(&o.account);
    o.faults = faults;
    o.deals_path = deals;
    o.speed = speed;
    tt_err err;
    if (tt_mt5_term_new(&r->t, &o, &err))
        fail_msg("%s", err.msg);
    pthread_create(&r->th, NULL, term_main, r);
    return r;
}

static int term_join(term_run *r)
{
    pthread_join(r->th, NULL);
    int rc = r->rc;
    return rc;
}

static void send_frame(tt_mt5_link *l, const tt_mt5_frame *f)
{
    tt_err err;
    if (tt_mt5_link_send(l, f, &err))
        fail_msg("send %s: %s", tt_mt5_frame_name(f->type), err.msg);
}

static void test_session(void **state)
{
    (void)state;
    seen *s = seen_new();
    tt_mt5_link *l = link_open(s, "s3cret");
    char deals[] = "/tmp/tt-mt5-term-deals-XXXXXX";
    close(mkstemp(deals));
    term_run *r = term_start(tt_mt5_link_port(l), "s3cret", NULL, deals, 60, 1800); /* 2 s */
    int one = 1;
    assert_true(wait_for(s, ups_at_least, &one));
    /* SUB EURUSD was sent by the link: the SPEC comes back */
    long at = wait_type(s, TT_MT5_SPEC, 0);
    assert_true(at >= 0);
    assert_string_equal(get(s, at).u.spec.sym, "EURUSD");
    assert_int_equal(get(s, at).u.spec.digits, 5);
    /* the market opens with the first snapshot */
    tt_mt5_frame f;
    memset(&f, 0, sizeof f);
    f.type = TT_MT5_SNAPSHOT;
    f.u.snap.id = 1;
    send_frame(l, &f);
    long snap = wait_type(s, TT_MT5_SNAPEND, 0);
    assert_true(snap >= 0);
    long sn = find(s, TT_MT5_SNAP, 0);
    assert_true(sn >= 0 && sn < snap);
    assert_int_equal(get(s, sn).u.snap.positions, 0);
    assert_true(find(s, TT_MT5_ACCOUNT, 0) < snap);
    long tick = wait_type(s, TT_MT5_TICK, (size_t)snap);
    assert_true(tick > snap);
    /* a buy: RESULT, then the DEAL and STATE, then ACCOUNT */
    memset(&f, 0, sizeof f);
    f.type = TT_MT5_ORDER;
    f.u.order.id = 41;
    f.u.order.action = TT_MT5_ACT_DEAL;
    snprintf(f.u.order.sym, sizeof f.u.order.sym, "EURUSD");
    f.u.order.type = TT_MT5_OT_BUY;
    f.u.order.vol = TT_MT5_DEC_ONE / 10;
    f.u.order.filling = TT_MT5_FILL_FOK;
    f.u.order.magic = 900041;
    snprintf(f.u.order.comment, sizeof f.u.order.comment, "tt:41");
    size_t base = s->n;
    send_frame(l, &f);
    long res = wait_type(s, TT_MT5_RESULT, base);
    long deal = wait_type(s, TT_MT5_DEAL, base);
    long st = wait_type(s, TT_MT5_STATE, base);
    long acc = wait_type(s, TT_MT5_ACCOUNT, (size_t)res);
    assert_true(res >= 0 && res < deal && deal < st && st < acc);
    assert_int_equal(get(s, res).u.result.id, 41);
    assert_int_equal(get(s, res).u.result.retcode, TT_MT5_RC_DONE);
    assert_int_equal(get(s, res).u.result.deal, get(s, deal).u.deal.deal);
    assert_int_equal(get(s, deal).u.deal.magic, 900041);
    assert_string_equal(get(s, deal).u.deal.comment, "tt:41");
    /* the deal's price is the ask of the last tick sent before it */
    long last_tick = -1;
    for (long i = res; i >= 0 && last_tick < 0; i--)
        if (get(s, i).type == TT_MT5_TICK)
            last_tick = i;
    assert_int_equal(get(s, deal).u.deal.price, get(s, last_tick).u.tick.ask);
    /* QUERY by magic: the deal again, then the state */
    memset(&f, 0, sizeof f);
    f.type = TT_MT5_QUERY;
    f.u.query.id = 7;
    f.u.query.magic = 900041;
    base = s->n;
    send_frame(l, &f);
    st = wait_type(s, TT_MT5_STATE, base);
    deal = find(s, TT_MT5_DEAL, base);
    assert_true(deal >= 0 && deal < st);
    assert_int_equal(get(s, st).u.state.id, 7);
    assert_int_equal(get(s, st).u.state.state, TT_MT5_OS_FILLED);
    /* HISTORY from the start: one deal, then HISTEND */
    memset(&f, 0, sizeof f);
    f.type = TT_MT5_HISTORY;
    f.u.history.id = 8;
    base = s->n;
    send_frame(l, &f);
    long he = wait_type(s, TT_MT5_HISTEND, base);
    assert_int_equal(get(s, he).u.snap.deals, 1);
    /* the end of the data: BYE, the session goes down, the run returns 0 */
    assert_true(wait_for(s, downs_at_least, &one));
    assert_string_equal(s->down_why, "end of data");
    assert_int_equal(term_join(r), 0);
    /* every tick of the hour was delivered, in time order */
    const tt_mt5_term_stats *ts = tt_mt5_term_stats_get(r->t);
    size_t ticks = 0;
    int64_t last = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->f[i].type == TT_MT5_TICK) {
            assert_true(get(s, i).u.tick.t >= last);
            last = get(s, i).u.tick.t;
            ticks++;
        }
    assert_true(ts->ticks > 1000);
    assert_int_equal(ts->ticks_sent, ts->ticks);
    assert_int_equal(ticks, ts->ticks_sent); /* none before the market opened */
    FILE *df = fopen(deals, "r");
    char line[512];
    int rows = 0;
    while (fgets(line, sizeof line, df))
        rows++;
    fclose(df);
    assert_int_equal(rows, 2); /* header + the deal */
    unlink(deals);
    tt_mt5_term_free(r->t);
    free(r);
    tt_mt5_link_close(l, NULL);
    seen_free(s);
}

static void test_wrong_secret_refused(void **state)
{
    (void)state;
    seen *s = seen_new();
    tt_mt5_link *l = link_open(s, "right");
    term_run *r = term_start(tt_mt5_link_port(l), "wrong", NULL, NULL, 1, 0);
    for (int i = 0; i < 100 && !strstr(s->log, "authentication failed"); i++)
        usleep(20000);
    tt_mt5_term_stop(r->t);
    term_join(r);
    assert_non_null(strstr(s->log, "terminal connection refused: authentication failed"));
    assert_int_equal(tt_mt5_link_sessions(l), 0);
    assert_int_equal(s->ups, 0);
    tt_mt5_term_free(r->t);
    free(r);
    tt_mt5_link_close(l, NULL);
    seen_free(s);
}

/* A fake ticktape that does not know the secret: the terminal refuses it. */
static void test_terminal_checks_ticktape(void **state)
{
    (void)state;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    getsockname(lfd, (struct sockaddr *)&a, &al);
    listen(lfd, 1);
    term_run *r = term_start(ntohs(a.sin_port), "s3cret", NULL, NULL, 1, 0);
    int fd = accept(lfd, NULL, NULL);
    char buf[4096];
    tt_mt5_reader rd;
    tt_mt5_reader_init(&rd);
    const char *line;
    size_t len;
    int stage = 0;
    while (stage < 2) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        assert_true(n > 0);
        tt_mt5_reader_push(&rd, buf, (size_t)n);
        while (tt_mt5_reader_next(&rd, &line, &len, NULL) == 1) {
            stage++;
            const char *reply = stage == 1
                ? "CHALLENGE v=1 nonce=00112233445566778899aabbccddeeff\n"
                : "WELCOME mac=0000000000000000000000000000000000000000000000000000000000000000 "
                  "hb=1000\n";
            assert_true(send(fd, reply, strlen(reply), 0) > 0);
        }
    }
    assert_int_equal(term_join(r), TT_ENET);
    assert_non_null(strstr(r->err.msg, "failed to prove the shared secret"));
    close(fd);
    close(lfd);
    tt_mt5_term_free(r->t);
    free(r);
}

static void test_drop_and_too_long(void **state)
{
    (void)state;
    seen *s = seen_new();
    tt_mt5_link *l = link_open(s, "s3cret");
    static const char *const faults[] = {"drop:at=200,down=50", NULL};
    term_run *r = term_start(tt_mt5_link_port(l), "s3cret", faults, NULL, 10, 300); /* 2 s */
    int one = 1, two = 2;
    assert_true(wait_for(s, ups_at_least, &one));
    tt_mt5_frame f;
    memset(&f, 0, sizeof f);
    f.type = TT_MT5_SNAPSHOT;
    send_frame(l, &f);
    /* after 200 ticks the connection drops; the terminal comes back */
    assert_true(wait_for(s, downs_at_least, &one));
    assert_true(wait_for(s, ups_at_least, &two));
    assert_int_equal(tt_mt5_link_sessions(l), 2);
    /* a frame too long from a stranger is refused with BYE, and the session stays */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)tt_mt5_link_port(l));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char junk[3000];
    memset(junk, 'x', sizeof junk);
    assert_int_equal(send(fd, junk, sizeof junk, 0), (ssize_t)sizeof junk);
    char reply[512] = "";
    ssize_t n = recv(fd, reply, sizeof reply - 1, 0);
    assert_true(n > 0);
    assert_non_null(strstr(reply, "BYE reason=mt5%20frame:%20more%20than%202048%20bytes"));
    close(fd);
    assert_true(tt_mt5_link_up(l));
    tt_mt5_term_stop(r->t);
    assert_int_equal(term_join(r), 0);
    tt_mt5_term_free(r->t);
    free(r);
    tt_mt5_link_close(l, NULL);
    seen_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session),
        cmocka_unit_test(test_wrong_secret_refused),
        cmocka_unit_test(test_terminal_checks_ticktape),
        cmocka_unit_test(test_drop_and_too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
