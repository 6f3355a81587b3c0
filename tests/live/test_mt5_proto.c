/*
 * The MT5 wire protocol (live/mt5_proto.h): one example line of every frame
 * type, the very lines docs/mt5-protocol.md shows, decoded field by field and
 * written back byte for byte; errors that name the field; decimals; the line
 * reader's limits; the handshake's HMAC against Python's hmac module (the
 * expected proofs were computed with
 *   python3 -c "import hmac,hashlib; print(hmac.new(b'correct horse', MSG,
 *               hashlib.sha256).hexdigest())"
 * for the two messages named in the test); and random corruptions of every
 * example, each either refused with an error or accepted and round-tripped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "live/mt5_proto.h"

#define D(x) ((tt_mt5_dec)((x) * 1e8 + ((x) < 0 ? -0.5 : 0.5))) /* test literals only */

/* One line per frame type, exactly as docs/mt5-protocol.md prints them. */
static const char *const examples[] = {
    "HELLO v=1 build=4755 login=5012345 server=MetaQuotes-Demo company=MetaQuotes%20Ltd. "
    "currency=USD leverage=100 mode=hedging tz=7200 cnonce=ffeeddccbbaa99887766554433221100",
    "CHALLENGE v=1 nonce=00112233445566778899aabbccddeeff",
    "AUTH mac=a56f911885f3ab92eb8eb543573a98294d094e43a8c8b893a42800d8fdd26493",
    "WELCOME mac=208a7760322079a22bd613aff3a24541e1e895420b937ad53e78fec540762209 hb=1000",
    "BYE reason=kill%20switch",
    "ERROR reason=ORDER:%20field%205%20'vol':%20expected%20a%20decimal%20number",
    "HB t=1549245600123",
    "SUB sym=EURUSD",
    "SPEC sym=EURUSD digits=5 point=0.00001 contract=100000 vmin=0.01 vmax=500 vstep=0.01 "
    "stops=10 freeze=5 filling=3 exec=market trade=full swapmode=points swap_long=-6.2 "
    "swap_short=1.1 swap3=3 margin_rate=1 base=EUR profit=USD comm=3.5",
    "TICK sym=EURUSD t=1549245600123 bid=1.14427 ask=1.1443 bv=0.75 av=1.5",
    "ACCOUNT t=1549245600123 balance=10000 equity=10012.5 margin=228.86 free=9783.64",
    "SNAPSHOT id=1",
    "SNAP id=1 positions=1 orders=1",
    "POS ticket=10001 sym=EURUSD side=buy vol=0.2 price=1.14431 sl=1.14 tp=0 swap=-1.24 "
    "profit=12.5 t=1549245600123 magic=84215045 comment=tt:7",
    "ORD ticket=10002 sym=EURUSD type=sell_limit vol=0.1 vol_cur=0.1 price=1.15 stoplimit=0 sl=0 "
    "tp=1.14 filling=return time=gtc exp=0 t=1549245600123 magic=84215046 comment=tt:8",
    "SNAPEND id=1",
    "ORDER id=12 action=deal sym=EURUSD type=buy vol=0.1 price=1.1443 stoplimit=0 sl=0 tp=0 "
    "dev=10 filling=fok time=gtc exp=0 order=0 position=0 magic=84215047 comment=tt:9",
    "RESULT id=12 retcode=10009 deal=20001 order=10003 vol=0.1 price=1.1443 bid=1.14427 "
    "ask=1.1443 reqid=0 ext=0 comment=Request%20executed",
    "DEAL deal=20001 order=10003 position=10003 sym=EURUSD side=buy entry=in reason=expert vol=0.1 "
    "price=1.1443 comm=-0.35 swap=0 profit=0 t=1549245600130 magic=84215047 comment=tt:9",
    "QUERY id=13 magic=84215048 order=0",
    "STATE id=13 order=10004 magic=84215048 state=filled vol=0.1 vol_cur=0 t=1549245600180",
    "HISTORY id=14 from=1549238400000",
    "HISTEND id=14 deals=3",
};

static void decode_ok(const char *line, tt_mt5_frame *f)
{
    tt_err err;
    int rc = tt_mt5_frame_decode(line, strlen(line), f, &err);
    if (rc)
        fail_msg("decoding '%s': %s", line, err.msg);
}

static void test_examples_roundtrip(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++) {
        tt_mt5_frame f;
        decode_ok(examples[i], &f);
        char buf[TT_MT5_FRAME_MAX];
        size_t n;
        tt_err err;
        assert_int_equal(tt_mt5_frame_encode(&f, buf, sizeof buf, &n, &err), 0);
        assert_true(n >= 1 && buf[n - 1] == '\n');
        buf[n - 1] = 0;
        assert_string_equal(buf, examples[i]);
    }
}

static void test_example_fields(void **state)
{
    (void)state;
    tt_mt5_frame f;
    decode_ok(examples[0], &f);
    assert_int_equal(f.type, TT_MT5_HELLO);
    assert_int_equal(f.u.hello.build, 4755);
    assert_int_equal(f.u.hello.login, 5012345);
    assert_string_equal(f.u.hello.company, "MetaQuotes Ltd.");
    assert_int_equal(f.u.hello.mode, TT_MT5_HEDGING);
    assert_int_equal(f.u.hello.tz, 7200);

    decode_ok(examples[8], &f);
    assert_int_equal(f.type, TT_MT5_SPEC);
    assert_int_equal(f.u.spec.point, 1000);
    assert_int_equal(f.u.spec.contract, 100000 * TT_MT5_DEC_ONE);
    assert_int_equal(f.u.spec.vstep, 1000000);
    assert_int_equal(f.u.spec.swap_long, -620000000);
    assert_int_equal(f.u.spec.exec, TT_MT5_EXEC_MARKET);
    assert_int_equal(f.u.spec.filling, TT_MT5_FILLING_FOK_FLAG | TT_MT5_FILLING_IOC_FLAG);

    decode_ok(examples[9], &f);
    assert_string_equal(f.u.tick.sym, "EURUSD");
    assert_int_equal(f.u.tick.t, 1549245600123LL);
    assert_int_equal(f.u.tick.bid, 114427000);
    assert_int_equal(f.u.tick.ask, 114430000);
    assert_int_equal(f.u.tick.bv, 75000000);

    decode_ok(examples[14], &f);
    assert_int_equal(f.u.ord.type, TT_MT5_OT_SELL_LIMIT);
    assert_int_equal(f.u.ord.filling, TT_MT5_FILL_RETURN);

    decode_ok(examples[18], &f);
    assert_int_equal(f.u.deal.entry, TT_MT5_ENTRY_IN);
    assert_int_equal(f.u.deal.reason, TT_MT5_DR_EXPERT);
    assert_int_equal(f.u.deal.comm, -35000000);

    decode_ok(examples[20], &f);
    assert_int_equal(f.u.state.state, TT_MT5_OS_FILLED);
}

static void expect_error(const char *line, const char *needle)
{
    tt_mt5_frame f;
    tt_err err;
    tt_err_clear(&err);
    int rc = tt_mt5_frame_decode(line, strlen(line), &f, &err);
    if (rc != TT_EFORMAT)
        fail_msg("'%s' was accepted", line);
    if (!strstr(err.msg, needle))
        fail_msg("'%s': message '%s' lacks '%s'", line, err.msg, needle);
}

static void test_errors_name_the_field(void **state)
{
    (void)state;
    expect_error("", "empty line");
    expect_error("TOCK sym=EURUSD", "unknown type 'TOCK'");
    expect_error("TICK sym=EURUSD t=1 bid=1.1 ask=1.2 bv=0", "TICK: field 6 'av' is missing");
    expect_error("TICK sym=EURUSD t=1 ask=1.2 bid=1.1 bv=0 av=0",
                 "TICK: field 3: expected 'bid=', got 'ask=1.2'");
    expect_error("TICK sym=EURUSD t=1 bid=1.1x ask=1.2 bv=0 av=0",
                 "TICK: field 3 'bid': expected a decimal number");
    expect_error("TICK sym=EURUSD t=1 bid=1.123456789 ask=1.2 bv=0 av=0", "'bid'");
    expect_error("TICK sym= t=1 bid=1 ask=1 bv=0 av=0", "field 1 'sym': empty symbol");
    expect_error("TICK sym=EURUSD t=1  bid=1 ask=1 bv=0 av=0", "field 3: expected 'bid='");
    expect_error("TICK sym=EURUSD t=1 bid=1 ask=1 bv=0 av=0 junk", "after the last field");
    expect_error("TICK sym=EURUSD t=9223372036854775808 bid=1 ask=1 bv=0 av=0",
                 "field 2 't': out of range");
    expect_error("TICK sym=EUR%ZZ t=1 bid=1 ask=1 bv=0 av=0", "escape needs two hex digits");
    expect_error("TICK sym=EUR%0 t=1 bid=1 ask=1 bv=0 av=0", "escape needs two hex digits");
    expect_error("TICK sym=EUR%00 t=1 bid=1 ask=1 bv=0 av=0", "encoded NUL");
    expect_error("TICK sym=A=B t=1 bid=1 ask=1 bv=0 av=0", "raw '='");
    expect_error("TICK sym=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456 t=1 bid=1 ask=1 bv=0 av=0",
                 "'sym': too long");
    expect_error("TICK sym=EURUSD\tt=1", "byte 0x09 at offset 15");
    expect_error("SPEC sym=EURUSD digits=5 point=0.00001 contract=100000 vmin=0.01 vmax=500 "
                 "vstep=0.01 stops=10 freeze=5 filling=3 exec=fast trade=full swapmode=points "
                 "swap_long=-6.2 swap_short=1.1 swap3=3 margin_rate=1 base=EUR profit=USD comm=0",
                 "SPEC: field 11 'exec': not one of the words");
    expect_error("RESULT id=-1 retcode=10009 deal=0 order=0 vol=0 price=0 bid=0 ask=0 reqid=0 "
                 "ext=0 comment=", "RESULT: field 1 'id': expected an unsigned integer");
    expect_error("AUTH mac=ABCD", "AUTH: field 1 'mac': expected lower-case hex digits");
    /* extra fields a later minor version appends are ignored */
    tt_mt5_frame f;
    decode_ok("HB t=5 extra=1 more=x", &f);
    assert_int_equal(f.u.hb.t, 5);
    /* a line of exactly TT_MT5_FRAME_MAX - 1 bytes is a frame; one more is not */
    char big[TT_MT5_FRAME_MAX + 2];
    memset(big, 0, sizeof big);
    strcpy(big, "BYE reason=");
    memset(big + strlen(big), 'x', TT_MT5_FRAME_MAX - 1 - strlen(big));
    tt_err err;
    assert_int_equal(tt_mt5_frame_decode(big, TT_MT5_FRAME_MAX - 1, &f, &err), TT_EFORMAT);
    assert_non_null(strstr(err.msg, "'reason': too long")); /* but the frame length was fine */
    big[TT_MT5_FRAME_MAX - 1] = 'x';
    assert_int_equal(tt_mt5_frame_decode(big, TT_MT5_FRAME_MAX, &f, &err), TT_EFORMAT);
    assert_non_null(strstr(err.msg, "longer than 2048"));
}

static void test_encode_refuses(void **state)
{
    (void)state;
    tt_mt5_frame f;
    memset(&f, 0, sizeof f);
    char buf[TT_MT5_FRAME_MAX];
    size_t n;
    tt_err err;
    f.type = TT_MT5_SUB; /* empty symbol */
    assert_int_equal(tt_mt5_frame_encode(&f, buf, sizeof buf, &n, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "SUB: field 1 'sym': empty symbol"));
    f.type = TT_MT5_DEAL;
    strcpy(f.u.deal.sym, "EURUSD");
    f.u.deal.entry = 9;
    assert_int_equal(tt_mt5_frame_encode(&f, buf, sizeof buf, &n, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "DEAL: field 6 'entry': no word for this value"));
    f.u.deal.entry = 0;
    assert_int_equal(tt_mt5_frame_encode(&f, buf, 20, &n, &err), TT_EFORMAT);
    assert_int_equal(tt_mt5_frame_encode(&f, buf, sizeof buf, &n, &err), 0);
    /* strings are percent-encoded: spaces, '%', '=' and bytes above 0x7e */
    memset(&f, 0, sizeof f);
    f.type = TT_MT5_BYE;
    strcpy(f.u.text.reason, "50% = half \xc3\xa9");
    assert_int_equal(tt_mt5_frame_encode(&f, buf, sizeof buf, &n, &err), 0);
    assert_int_equal(n, strlen("BYE reason=50%25%20%3D%20half%20%C3%A9\n"));
    assert_memory_equal(buf, "BYE reason=50%25%20%3D%20half%20%C3%A9\n", n);
    tt_mt5_frame g;
    assert_int_equal(tt_mt5_frame_decode(buf, n - 1, &g, &err), 0);
    assert_string_equal(g.u.text.reason, f.u.text.reason);
}

static void test_decimals(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        tt_mt5_dec v;
        const char *out;
    } ok[] = {
        {"0", 0, "0"},
        {"-0.7", -70000000, "-0.7"},
        {"1.14427", 114427000, "1.14427"},
        {"1.14427000", 114427000, "1.14427"},
        {"0.00000001", 1, "0.00000001"},
        {"007", 700000000, "7"},
        {"92233720368.54775807", INT64_MAX, "92233720368.54775807"},
        {"-92233720368.54775807", -INT64_MAX, "-92233720368.54775807"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        tt_mt5_dec v;
        assert_int_equal(tt_mt5_dec_parse(ok[i].in, strlen(ok[i].in), &v), 0);
        assert_int_equal(v, ok[i].v);
        char b[32];
        int n = tt_mt5_dec_format(v, b);
        assert_int_equal(n, (int)strlen(ok[i].out));
        assert_string_equal(b, ok[i].out);
    }
    static const char *const bad[] = {"", "-", "1.", ".5", "1.123456789", "1e5", "+1", "1,5",
                                      "92233720368.54775808", "100000000000", "--1", "0x10"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tt_mt5_dec v;
        if (tt_mt5_dec_parse(bad[i], strlen(bad[i]), &v) != TT_EFORMAT)
            fail_msg("'%s' parsed", bad[i]);
    }
    int64_t s;
    assert_int_equal(tt_mt5_dec_to_scaled(114427000, 5, &s), 0);
    assert_int_equal(s, 114427);
    assert_int_equal(tt_mt5_dec_to_scaled(114427500, 5, &s), TT_EINVAL); /* half a point */
    assert_int_equal(tt_mt5_dec_to_scaled(1000000, 2, &s), 0);          /* 0.01 lot */
    assert_int_equal(s, 1);
    assert_int_equal(tt_mt5_dec_from_scaled(110010, 3), 11001000000LL);
    assert_int_equal(tt_mt5_dec_to_scaled(1, 9, &s), TT_EINVAL);
}

static void test_reader(void **state)
{
    (void)state;
    tt_mt5_reader *r = malloc(sizeof *r);
    tt_mt5_reader_init(r);
    const char *line;
    size_t len;
    tt_err err;
    /* a frame split across reads, two frames in one read */
    tt_mt5_reader_push(r, "HB t=1", 6);
    assert_int_equal(tt_mt5_reader_next(r, &line, &len, &err), 0);
    tt_mt5_reader_push(r, "\nHB t=2\nHB", 10);
    assert_int_equal(tt_mt5_reader_next(r, &line, &len, &err), 1);
    assert_int_equal(len, 6);
    assert_memory_equal(line, "HB t=1", 6);
    assert_int_equal(tt_mt5_reader_next(r, &line, &len, &err), 1);
    assert_memory_equal(line, "HB t=2", 6);
    assert_int_equal(tt_mt5_reader_next(r, &line, &len, &err), 0);
    tt_mt5_reader_push(r, " t=3\n", 5);
    assert_int_equal(tt_mt5_reader_next(r, &line, &len, &err), 1);
    assert_int_equal(len, 6);
    assert_memory_equal(line, "HB t=3", 6);
    /* a frame of exactly the maximum passes */
    char *big = malloc(3 * TT_MT5_FRAME_MAX);
    memset(big, 'x', 3 * TT_MT5_FRAME_MAX);
    big[TT_MT5_FRAME_MAX - 1] = '\n';
    size_t done = 0;
    while (done < TT_MT5_FRAME_MAX)
        done += tt_mt5_reader_push(r, big + done, TT_MT5_FRAME_MAX - done);
    assert_int_equal(tt_mt5_reader_next(r, &line, &len, &err), 1);
    assert_int_equal(len, TT_MT5_FRAME_MAX - 1);
    /* one byte more is refused, whether the line end has arrived or not */
    big[TT_MT5_FRAME_MAX - 1] = 'x';
    big[TT_MT5_FRAME_MAX] = '\n';
    tt_mt5_reader_init(r);
    tt_mt5_reader_push(r, big, TT_MT5_FRAME_MAX + 1);
    assert_int_equal(tt_mt5_reader_next(r, &line, &len, &err), TT_EFORMAT);
    assert_non_null(strstr(err.msg, "refused"));
    tt_mt5_reader_init(r);
    tt_mt5_reader_push(r, big, TT_MT5_FRAME_MAX);
    assert_int_equal(tt_mt5_reader_next(r, &line, &len, &err), TT_EFORMAT);
    /* space/commit: the room never drops below a frame once lines are taken */
    tt_mt5_reader_init(r);
    size_t room;
    char *p = tt_mt5_reader_space(r, &room);
    assert_true(room >= TT_MT5_FRAME_MAX);
    memcpy(p, "HB t=9\n", 7);
    tt_mt5_reader_commit(r, 7);
    assert_int_equal(tt_mt5_reader_next(r, &line, &len, &err), 1);
    free(big);
    free(r);
}

static void test_auth(void **state)
{
    (void)state;
    char mac[TT_MT5_HEX_MAX];
    const char *nonce = "00112233445566778899aabbccddeeff";
    const char *cnonce = "ffeeddccbbaa99887766554433221100";
    /* MSG: b'ticktape-mt5 1 terminal 0011...eeff ffee...1100 5012345' */
    tt_mt5_auth_mac("correct horse", 13, TT_MT5_ROLE_TERMINAL, nonce, cnonce, 5012345, mac);
    assert_string_equal(mac, "a56f911885f3ab92eb8eb543573a98294d094e43a8c8b893a42800d8fdd26493");
    /* MSG: b'ticktape-mt5 1 server ffee...1100 0011...eeff 5012345' */
    tt_mt5_auth_mac("correct horse", 13, TT_MT5_ROLE_SERVER, nonce, cnonce, 5012345, mac);
    assert_string_equal(mac, "208a7760322079a22bd613aff3a24541e1e895420b937ad53e78fec540762209");
    assert_true(tt_mt5_mac_equal(mac, "208a7760322079a22bd613aff3a24541e1e895420b937ad53e78fec540762209"));
    assert_false(tt_mt5_mac_equal(mac, "208a7760322079a22bd613aff3a24541e1e895420b937ad53e78fec540762208"));
    assert_false(tt_mt5_mac_equal(mac, ""));
    char wrong[TT_MT5_HEX_MAX];
    tt_mt5_auth_mac("correct horsf", 13, TT_MT5_ROLE_SERVER, nonce, cnonce, 5012345, wrong);
    assert_false(tt_mt5_mac_equal(mac, wrong));
    char a[TT_MT5_HEX_MAX], b[TT_MT5_HEX_MAX];
    assert_int_equal(tt_mt5_nonce(a, NULL), 0);
    assert_int_equal(tt_mt5_nonce(b, NULL), 0);
    assert_int_equal(strlen(a), 32);
    assert_string_not_equal(a, b);
}

static void test_retcode_names(void **state)
{
    (void)state;
    assert_string_equal(tt_mt5_retcode_name(10004), "TRADE_RETCODE_REQUOTE");
    assert_string_equal(tt_mt5_retcode_name(10009), "TRADE_RETCODE_DONE");
    assert_string_equal(tt_mt5_retcode_name(10019), "TRADE_RETCODE_NO_MONEY");
    assert_string_equal(tt_mt5_retcode_name(10046), "TRADE_RETCODE_HEDGE_PROHIBITED");
    assert_null(tt_mt5_retcode_name(10037));
    assert_null(tt_mt5_retcode_name(10005));
    assert_null(tt_mt5_retcode_name(10047));
    assert_null(tt_mt5_retcode_name(0));
}

/* Corrupt the examples at random: every result is refused with a message or
 * decodes to a frame that encodes and decodes back to itself. */
static void test_mutations(void **state)
{
    (void)state;
    tt_rng rng;
    tt_rng_seed_named(&rng, 7, "mt5-proto-mutations");
    static const char alphabet[] = " =%.-0123456789abcxyzABCZ_:\t\n\x7f\x01";
    int accepted = 0, refused = 0;
    for (int round = 0; round < 200000; round++) {
        const char *ex = examples[tt_rng_bounded(&rng, sizeof examples / sizeof examples[0])];
        char line[TT_MT5_FRAME_MAX];
        size_t n = strlen(ex);
        memcpy(line, ex, n);
        int edits = 1 + (int)tt_rng_bounded(&rng, 3);
        for (int e = 0; e < edits && n > 1; e++) {
            size_t at = tt_rng_bounded(&rng, (uint32_t)n);
            char c = alphabet[tt_rng_bounded(&rng, sizeof alphabet - 1)];
            switch (tt_rng_bounded(&rng, 3)) {
            case 0:
                line[at] = c;
                break;
            case 1: /* delete */
                memmove(line + at, line + at + 1, n - at - 1);
                n--;
                break;
            default: /* insert */
                if (n + 1 < sizeof line) {
                    memmove(line + at + 1, line + at, n - at);
                    line[at] = c;
                    n++;
                }
            }
        }
        tt_mt5_frame f, g;
        tt_err err;
        tt_err_clear(&err);
        if (tt_mt5_frame_decode(line, n, &f, &err)) {
            assert_true(err.msg[0] != 0);
            refused++;
            continue;
        }
        accepted++;
        char buf[TT_MT5_FRAME_MAX];
        size_t len;
        assert_int_equal(tt_mt5_frame_encode(&f, buf, sizeof buf, &len, &err), 0);
        assert_int_equal(tt_mt5_frame_decode(buf, len - 1, &g, &err), 0);
        assert_memory_equal(&f, &g, sizeof f);
    }
    assert_true(accepted > 1000 && refused > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_examples_roundtrip),
        cmocka_unit_test(test_example_fields),
        cmocka_unit_test(test_errors_name_the_field),
        cmocka_unit_test(test_encode_refuses),
        cmocka_unit_test(test_decimals),
        cmocka_unit_test(test_reader),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_retcode_names),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
