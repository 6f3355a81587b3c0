/*
 * What the status server costs a session (docs/benchmarks.md, "Status server").
 *
 *   bench_status [--runs N] [--requests N] [--json]
 *
 * The budget is 1% of a CPU at 10,000 ticks/s. The cost has two
 * parts, measured separately and added:
 *
 *   engine   the recorder (live/status.c: a component and a sink) on the
 *            engine thread. The shipped scenario scenarios/eurusd-sma-cross
 *            (266,219 real EURUSD ticks, sma_cross, simulated venue) is run
 *            as a backtest N times with the recorder and N times without,
 *            alternating, while a reader thread takes a snapshot 10 times a
 *            second as the server would; the median ns per tick of each and
 *            their difference are reported. At R ticks/s the recorder costs
 *            R * difference of a CPU;
 *   server   the HTTP side: a status server on 127.0.0.1 over the last
 *            recorder, asked for /metrics, /api/state and /health N times
 *            each over loopback by a client in this process; the process CPU
 *            time per request (client included: an upper bound). A
 *            Prometheus scrape every 15 s and a dashboard (state and health
 *            every 5 s) cost requests/s * CPU per request.
 *
 * The total is the engine part at 10,000 ticks/s plus the server part at one
 * scrape per second (15 times the usual rate) and one dashboard.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "live/status.h"
#include "live/status_http.h"
#include "live/wallclock.h"
#include "sim/backtest.h"
#include "sim/scenario.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

typedef struct reader {
    tt_status_rec *rec;
    atomic_int stop;
} reader;

static void *read_loop(void *arg)
{
    reader *r = arg;
    tt_status_snapshot *s = malloc(sizeof *s);
    tt_status_hot h;
    while (!atomic_load(&r->stop)) {
        tt_status_snapshot_get(r->rec, s);
        tt_status_hot_get(r->rec, &h);
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    free(s);
    return NULL;
}

/* One backtest of the scenario; ns per input event. rec: add a recorder. */
static double run(tt_scenario *s, tt_status_rec **rec, uint64_t *events)
{
    tt_scenario_run *r = calloc(1, sizeof *r);
    tt_err err;
    tt_backtest *bt;
    if (!r || tt_scenario_prepare(s, r, &err) || tt_backtest_open(&bt, &r->cfg, &err)) {
        fprintf(stderr, "bench_status: %s\n", err.msg);
        exit(1);
    }
    reader rd = {0};
    pthread_t th;
    if (rec) {
        tt_status_free(*rec);
        tt_status_opts so = {.ins = r->instruments, .minor_per_unit = r->minor_per_unit};
        if (tt_status_new(rec, &so, &err) ||
            tt_backtest_add_component(bt, tt_status_component(*rec), &err) ||
            tt_backtest_add_sink(bt, tt_status_sink(*rec), &err)) {
            fprintf(stderr, "bench_status: %s\n", err.msg);
            exit(1);
        }
        rd.rec = *rec;
        pthread_create(&th, NULL, read_loop, &rd);
    }
    tt_backtest_result res;
    memset(&res, 0, sizeof res);
    int64_t t0 = tt_mono_ns();
    if (tt_backtest_exec(bt, &res, &err)) {
        fprintf(stderr, "bench_status: %s\n", err.msg);
        exit(1);
    }
    int64_t t1 = tt_mono_ns();
    if (rec) {
        atomic_store(&rd.stop, 1);
        pthread_join(th, NULL);
    }
    *events = res.events;
    tt_backtest_close(bt);
    tt_backtest_result_free(&res);
    tt_scenario_release(r);
    free(r);
    return (double)(t1 - t0) / (double)*events;
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU microseconds per request of path (n requests, one connection each). */
static double requests(int port, const char *path, int n)
{
    char req[256], buf[65536];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    double c0 = cpu_seconds();
    for (int i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) ||
            write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
            fprintf(stderr, "bench_status: request failed\n");
            exit(1);
        }
        while (read(fd, buf, sizeof buf) > 0)
            ;
        close(fd);
    }
    return (cpu_seconds() - c0) / n * 1e6;
}

int main(int argc, char **argv)
{
    int runs = 5, nreq = 2000, json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--requests") && i + 1 < argc)
            nreq = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else {
            fprintf(stderr, "usage: bench_status [--runs N] [--requests N] [--json]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > 100 || nreq < 1)
        return 2;
    tt_scenario *s;
    tt_err err;
    if (tt_scenario_load(&s, TT_SOURCE_DIR "/scenarios/eurusd-sma-cross.yaml", &err)) {
        fprintf(stderr, "bench_status: %s\n", err.msg);
        return 1;
    }
    double *with = calloc((size_t)runs, sizeof *with), *without = calloc((size_t)runs, sizeof *with);
    tt_status_rec *rec = NULL;
    uint64_t events = 0;
    run(s, NULL, &events); /* warm the page cache */
    for (int i = 0; i < runs; i++) { /* alternate, so drift hits both alike */
        without[i] = run(s, NULL, &events);
        with[i] = run(s, &rec, &events);
    }
    double mw = median(with, runs), mo = median(without, runs), d = mw - mo;
    tt_status_server_opts so = {.host = "127.0.0.1", .port = 0, .mode = "bench", .status = rec};
    tt_status_server *srv;
    if (tt_status_server_start(&srv, &so, &err)) {
        fprintf(stderr, "bench_status: %s\n", err.msg);
        return 1;
    }
    int port = tt_status_server_port(srv);
    double us_metrics = requests(port, "/metrics", nreq);
    double us_state = requests(port, "/api/state", nreq);
    double us_health = requests(port, "/health", nreq);
    tt_status_server_stop(srv);
    double engine_pct = 10000.0 * d / 1e9 * 100;
    double server_pct = (us_metrics * 1.0 + (us_state + us_health) / 5.0) / 1e6 * 100;
    if (json) {
        printf("{\"events\":%llu,\"runs\":%d,\"ns_per_tick_without\":%.2f,"
               "\"ns_per_tick_with\":%.2f,\"recorder_ns_per_tick\":%.2f,"
               "\"us_cpu_metrics\":%.1f,\"us_cpu_state\":%.1f,\"us_cpu_health\":%.1f,"
               "\"engine_pct_at_10k\":%.4f,\"server_pct\":%.4f,\"total_pct\":%.4f}\n",
               (unsigned long long)events, runs, mo, mw, d, us_metrics, us_state, us_health,
               engine_pct, server_pct, engine_pct + server_pct);
    } else {
        printf("backtest of %llu ticks, median of %d alternating runs each\n",
               (unsigned long long)events, runs);
        printf("  without recorder   %8.2f ns/tick\n", mo);
        printf("  with recorder      %8.2f ns/tick  (+%.2f ns/tick)\n", mw, d);
        printf("status server, CPU per request (client in-process included)\n");
        printf("  /metrics           %8.1f us\n", us_metrics);
        printf("  /api/state         %8.1f us\n", us_state);
        printf("  /health            %8.1f us\n", us_health);
        printf("CPU at 10,000 ticks/s: engine %.4f%% + server (1 scrape/s, a dashboard) "
               "%.4f%% = %.4f%% of one core\n",
               engine_pct, server_pct, engine_pct + server_pct);
    }
    tt_status_free(rec);
    free(with);
    free(without);
    tt_scenario_free(s);
    return 0;
}
