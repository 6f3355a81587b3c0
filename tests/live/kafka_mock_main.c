/*
 * tt_kafka_mock: librdkafka's mock cluster as a process, for script tests
 * that drive `ticktape` against Kafka. Starts N brokers on 127.0.0.1 (real
 * sockets), creates the seed's topics with 3 partitions, prints the bootstrap
 * list on one line of stdout, and runs until stdin is closed or it gets
 * SIGTERM/SIGINT.
 *
 * usage: tt_kafka_mock [BROKERS]     (default 1)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kafka_helpers.h"

static volatile sig_atomic_t g_quit;

static void on_signal(int sig)
{
    (void)sig;
    g_quit = 1;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1;
    tt_test_kafka k;
    unsetenv("TT_KAFKA_BROKERS"); /* always the mock here */
    if (tt_test_kafka_start(&k, n < 1 ? 1 : n)) {
        fprintf(stderr, "tt_kafka_mock: cannot start the mock cluster\n");
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    printf("%s\n", k.brokers);
    fflush(stdout);
    char c;
    while (!g_quit && read(0, &c, 1) > 0)
        ;
    tt_test_kafka_stop(&k);
    return 0;
}
