/*
 * TLS on the MT5 bridge (live/tls.h): ticktape's link with a certificate
 * against the terminal stand-in connecting with TLS, as the EA does with
 * InpTls (SocketTlsHandshake). Certificates are made here (a self-signed
 * one for 127.0.0.1, and a stranger's). A session over TLS carries the
 * tape's ticks and a QUERY round trip; a plain terminal is refused by the
 * TLS listener; a terminal that does not trust the certificate, or checks
 * it against another host name, refuses ticktape; a key that is not the
 * certificate's is an error naming it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "live/mt5_link.h"
#include "live/mt5_term.h"

#define TAPE TT_SOURCE_DIR "/scenarios/data/eurusd-2019-02"

static char g_dir[64];
static char g_cert[128], g_key[128], g_other_cert[128], g_other_key[128];

/* A self-signed certificate for 127.0.0.1 (EC P-256) and its key, as PEM files. */
static void make_cert(const char *cert_path, const char *key_path, const char *cn)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(k);
    X509 *x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, n);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
    assert_non_null(e);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    assert_true(X509_sign(x, k, EVP_sha256()) > 0);
    FILE *f = fopen(cert_path, "w");
    assert_non_null(f);
    PEM_write_X509(f, x);
    fclose(f);
    f = fopen(key_path, "w");
    assert_non_null(f);
    PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    chmod(key_path, 0600);
    X509_free(x);
    EVP_PKEY_free(k);
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/tt-mt5-tls-XXXXXX");
    if (!mkdtemp(g_dir))
        return -1;
    snprintf(g_cert, sizeof g_cert, "%s/cert.pem", g_dir);
    snprintf(g_key, sizeof g_key, "%s/key.pem", g_dir);
    snprintf(g_other_cert, sizeof g_other_cert, "%s/other.pem", g_dir);
    snprintf(g_other_key, sizeof g_other_key, "%s/other-key.pem", g_dir);
    make_cert(g_cert, g_key, "ticktape");
    make_cert(g_other_cert, g_other_key, "stranger");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(g_cert);
    unlink(g_key);
    unlink(g_other_cert);
    unlink(g_other_key);
    rmdir(g_dir);
    return 0;
}

/* ---- what each side saw ---- */

typedef struct seen {
    pthread_mutex_t mu;
    int ups, downs, ticks, states;
    char log[8192];
} seen;

static void on_up(void *ctx, const tt_mt5_hello *h)
{
    (void)h;
    seen *s = ctx;
    pthread_mutex_lock(&s->mu);
    s->ups++;
    pthread_mutex_unlock(&s->mu);
}

static void on_frame(void *ctx, const tt_mt5_frame *f)
{
    seen *s = ctx;
    pthread_mutex_lock(&s->mu);
    s->ticks += f->type == TT_MT5_TICK;
    s->states += f->type == TT_MT5_STATE;
    pthread_mutex_unlock(&s->mu);
}

static void on_down(void *ctx, const char *why)
{
    (void)why;
    seen *s = ctx;
    pthread_mutex_lock(&s->mu);
    s->downs++;
    pthread_mutex_unlock(&s->mu);
}

static void on_log(void *ctx, const char *line)
{
    seen *s = ctx;
    pthread_mutex_lock(&s->mu);
    size_t n = strlen(s->log);
    snprintf(s->log + n, sizeof s->log - n, "%s\n", line);
    pthread_mutex_unlock(&s->mu);
}

static int logged(seen *s, const char *what)
{
    pthread_mutex_lock(&s->mu);
    int r = strstr(s->log, what) != NULL;
    pthread_mutex_unlock(&s->mu);
    return r;
}

static int wait_logged(seen *s, const char *what)
{
    for (int i = 0; i < 500; i++) {
        if (logged(s, what))
            return 1;
        usleep(10000);
    }
    return 0;
}

static seen *seen_new(void)
{
    seen *s = calloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    return s;
}

static void seen_free(seen *s)
{
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static int link_open(tt_mt5_link **l, seen *s, const char *cert, const char *key, tt_err *err)
{
    static const char *const syms[] = {"EURUSD", NULL};
    tt_mt5_link_opts o;
    memset(&o, 0, sizeof o);
    o.host = "127.0.0.1";
    o.secret = "s3cret-tls";
    o.tls_cert = cert;
    o.tls_key = key;
    o.hb_ms = 200;
    o.symbols = syms;
    o.on_up = on_up;
    o.on_frame = on_frame;
    o.on_down = on_down;
    o.log = on_log;
    o.ctx = s;
    return tt_mt5_link_open(l, &o, err);
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

static term_run *term_start(const char *host, int port, int tls, const char *ca, seen *log)
{
    term_run *r = calloc(1, sizeof *r);
    tt_mt5_term_opts o;
    memset(&o, 0, sizeof o);
    o.host = host;
    o.port = port;
    o.secret = "s3cret-tls";
    o.tls = tls;
    o.tls_ca = ca;
    o.tls_verify = 1;
    o.tape_dir = TAPE;
    tt_ts_parse("2019-02-04T00:00:00", &o.from);
    o.to = o.from + 10 * 60 * TT_NS_PER_SEC;
    tt_mt5_sim_config_default(&o.account);
    o.log = on_log;
    o.log_ctx = log;
    tt_err err;
    if (tt_mt5_term_new(&r->t, &o, &err))
        fail_msg("%s", err.msg);
    pthread_create(&r->th, NULL, term_main, r);
    return r;
}

static void term_end(term_run *r)
{
    tt_mt5_term_stop(r->t);
    pthread_join(r->th, NULL);
    tt_mt5_term_free(r->t);
    free(r);
}

static void test_session_over_tls(void **state)
{
    (void)state;
    seen *s = seen_new(), *ts = seen_new();
    tt_mt5_link *l;
    tt_err err;
    assert_int_equal(link_open(&l, s, g_cert, g_key, &err), TT_OK);
    term_run *r = term_start("127.0.0.1", tt_mt5_link_port(l), 1, g_cert, ts);
    for (int i = 0; i < 500 && !s->ups; i++)
        usleep(10000);
    assert_int_equal(s->ups, 1);
    /* a QUERY, answered before the market opens with the first snapshot (at
     * full speed the tape may be over soon after) */
    tt_mt5_frame f;
    memset(&f, 0, sizeof f);
    f.type = TT_MT5_QUERY;
    f.u.query.id = 2;
    f.u.query.magic = 42;
    assert_int_equal(tt_mt5_link_send(l, &f, &err), TT_OK);
    memset(&f, 0, sizeof f);
    f.type = TT_MT5_SNAPSHOT;
    f.u.snap.id = 1;
    assert_int_equal(tt_mt5_link_send(l, &f, &err), TT_OK);
    pthread_join(r->th, NULL); /* ten minutes of the tape, as fast as it goes */
    assert_int_equal(r->rc, TT_OK);
    for (int i = 0; i < 500 && !s->downs; i++)
        usleep(10000);
    pthread_mutex_lock(&s->mu);
    int ticks = s->ticks, states = s->states, downs = s->downs;
    pthread_mutex_unlock(&s->mu);
    const tt_mt5_term_stats *st = tt_mt5_term_stats_get(r->t);
    assert_true(st->ticks_sent > 100);
    assert_int_equal((uint64_t)ticks, st->ticks_sent); /* every tick through TLS, none lost */
    assert_int_equal(states, 1);                       /* the QUERY's answer */
    assert_int_equal(downs, 1);                        /* BYE at the end of the data */
    assert_true(logged(s, "end of data"));
    tt_mt5_term_free(r->t);
    free(r);
    tt_mt5_link_close(l, NULL);
    seen_free(s);
    seen_free(ts);
}

static void test_plain_terminal_refused(void **state)
{
    (void)state;
    seen *s = seen_new(), *ts = seen_new();
    tt_mt5_link *l;
    tt_err err;
    assert_int_equal(link_open(&l, s, g_cert, g_key, &err), TT_OK);
    term_run *r = term_start("127.0.0.1", tt_mt5_link_port(l), 0, NULL, ts);
    assert_true(wait_logged(s, "terminal connection refused: tls handshake"));
    term_end(r);
    assert_int_equal(tt_mt5_link_sessions(l), 0);
    tt_mt5_link_close(l, NULL);
    seen_free(s);
    seen_free(ts);
}

static void test_terminal_refuses_untrusted(void **state)
{
    (void)state;
    seen *s = seen_new(), *ts = seen_new();
    tt_mt5_link *l;
    tt_err err;
    assert_int_equal(link_open(&l, s, g_cert, g_key, &err), TT_OK);
    /* trusts another certificate only */
    term_run *r = term_start("127.0.0.1", tt_mt5_link_port(l), 1, g_other_cert, ts);
    assert_true(wait_logged(ts, "certificate not trusted"));
    term_end(r);
    assert_int_equal(tt_mt5_link_sessions(l), 0);
    /* trusts it, but it is not the certificate of the name it connected to */
    seen *ts2 = seen_new();
    r = term_start("localhost", tt_mt5_link_port(l), 1, g_cert, ts2);
    assert_true(wait_logged(ts2, "certificate not trusted: hostname mismatch"));
    term_end(r);
    assert_int_equal(tt_mt5_link_sessions(l), 0);
    tt_mt5_link_close(l, NULL);
    seen_free(s);
    seen_free(ts);
    seen_free(ts2);
}

static void test_bad_key(void **state)
{
    (void)state;
    seen *s = seen_new();
    tt_mt5_link *l = NULL;
    tt_err err;
    assert_int_equal(link_open(&l, s, g_cert, g_other_key, &err), TT_EINVAL);
    assert_null(l);
    assert_non_null(strstr(err.msg, "does not match"));
    assert_non_null(strstr(err.msg, g_other_key));
    assert_int_equal(link_open(&l, s, g_cert, NULL, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "a certificate and its key"));
    assert_int_equal(link_open(&l, s, "/nonexistent/cert.pem", g_key, &err), TT_EINVAL);
    assert_non_null(strstr(err.msg, "/nonexistent/cert.pem"));
    seen_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_over_tls),
        cmocka_unit_test(test_plain_terminal_refused),
        cmocka_unit_test(test_terminal_refuses_untrusted),
        cmocka_unit_test(test_bad_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
