/*
 * Test helpers for the live layer: a nats-server started on 127.0.0.1 and a
 * free port (and restarted on the same port), a small tape of real Dukascopy
 * EURUSD ticks imported from tests/data, and an event reader for tapes.
 * Header-only (static functions): each test program includes it once.
 */
#ifndef TT_TEST_LIVE_HELPERS_H
#define TT_TEST_LIVE_HELPERS_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/event.h"
#include "core/instrument.h"
#include "core/io.h"
#include "data/dukascopy.h"
#include "data/tape.h"
#include "../support/sample_tape.h"

typedef struct tt_test_nats {
    pid_t pid;
    int port;
    char url[64];
} tt_test_nats;

/* A port nobody listens on right now (bind to 0, read it back, release it). */
static inline int tt_test_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) ||
        getsockname(fd, (struct sockaddr *)&a, &len)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static inline int tt_test_port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static inline void tt_test_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Start nats-server on n->port (or a free port when 0). 0 on success. */
static inline int tt_test_nats_start(tt_test_nats *n)
{
    if (!n->port)
        n->port = tt_test_free_port();
    if (n->port <= 0)
        return -1;
    snprintf(n->url, sizeof n->url, "nats://127.0.0.1:%d", n->port);
    char port[16];
    snprintf(port, sizeof port, "%d", n->port);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execlp("nats-server", "nats-server", "-a", "127.0.0.1", "-p", port, (char *)NULL);
        _exit(127);
    }
    n->pid = pid;
    for (int i = 0; i < 500; i++) {
        if (tt_test_port_open(n->port))
            return 0;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            n->pid = 0;
            return -1;
        }
        tt_test_sleep_ms(10);
    }
    return -1;
}

static inline void tt_test_nats_stop(tt_test_nats *n)
{
    if (n->pid > 0) {
        kill(n->pid, SIGTERM);
        int st;
        waitpid(n->pid, &st, 0);
        n->pid = 0;
    }
}

/* A fresh empty directory under the build tree, named after the test. */
static inline void tt_test_tmpdir(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/tmp-live-%s-%d", TT_BINARY_DIR, name, (int)getpid());
    if (tt_rmtree(buf) != 0 || tt_mkdirs(buf) != 0) /* no shell */
        fprintf(stderr, "cannot prepare %s\n", buf);
}

static inline void tt_test_rmdir(const char *dir)
{
    if (tt_rmtree(dir) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

/* Import real EURUSD ticks of 2019-02-04 [from_hour, to_hour) from
 * tests/data/dukascopy into a tape at dir. Returns the tick count or -1. */
static inline long tt_test_eurusd_tape(const char *dir, int from_hour, int to_hour)
{
    return tt_test_sample_tape(dir, tt_ts_from_civil(2019, 2, 4, from_hour, 0, 0, 0),
                               tt_ts_from_civil(2019, 2, 4, to_hour, 0, 0, 0), 0);
}

#endif
