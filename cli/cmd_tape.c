/*
 * `ticktape tape ...`: inspect, verify, repair and upgrade a tape (export is
 * cli/cmd_tape_export.c, gaps cli/cmd_tape_gaps.c).
 *
 * info reads the manifest, verify every committed block; repair and upgrade
 * print each change they make and a total (data/tape.h says what they do).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "data/tape.h"

static void iso(tt_ts ts, char *buf, int n) { tt_ts_format(ts, buf, n, ts % TT_NS_PER_MS != 0); }

/* ---- info ---- */

typedef struct info_opts {
    const char *dir;
    int json;
} info_opts;

static const tt_opt INFO_OPTS[] = {
    {TT_OPT_ARG, .arg = "DIR", .off = offsetof(info_opts, dir), .flags = TT_OPT_REQUIRED,
     .help = "the tape directory"},
    {TT_OPT_FLAG, "json", .off = offsetof(info_opts, json),
     .help = "one JSON object: totals and a list of streams"},
    {TT_OPT_END},
};

static int tape_info(int argc, char **argv);

static const tt_cmd TAPE_INFO = {
    .name = "tape info",
    .summary = "streams, events, time ranges, bytes on disk, bytes per event",
    .run = tape_info,
    .opts = INFO_OPTS,
    .size = sizeof(info_opts),
    .about = "Reads the tape's manifest (not the payloads) and prints, per stream (symbol\n"
             "and kind), the committed events, blocks, bytes, bytes per event and first and\n"
             "last event time, then the totals. Missing or cut segments, bytes after a\n"
             "segment's last commit, a writer at work or one that did not finish, and a format\n"
             "1 tape are flagged.\n",
    .epilog = "exit codes: 0 read, 1 the tape cannot be read, 2 usage error\n",
};

static int tape_info(int argc, char **argv)
{
    info_opts o;
    memset(&o, 0, sizeof o);
    int rc = tt_opts_parse(&TAPE_INFO, &o, argc, argv, NULL);
    if (rc != TT_OPTS_RUN)
        return rc;
    const char *dir = o.dir;
    int json = o.json;
    tt_tape_info info;
    tt_err err;
    if (tt_tape_info_read(dir, &info, &err))
        return tt_report_error(&err);
    char a[48], b[48];
    if (json) {
        iso(info.first, a, sizeof a);
        iso(info.last, b, sizeof b);
        printf("{\"tape\":\"%s\",\"events\":%llu,\"bytes\":%llu,\"bytes_per_event\":%.4f,"
               "\"first\":\"%s\",\"last\":\"%s\",\"torn\":%d,\"damaged\":%d,\"format\":%d,"
               "\"writer\":\"%s\",\"streams\":[",
               dir, (unsigned long long)info.events, (unsigned long long)info.bytes,
               info.events ? (double)info.bytes / (double)info.events : 0.0, a, b, info.torn,
               info.damaged, info.legacy ? 1 : TT_TAPE_FORMAT_VERSION,
               info.writer == 1 ? "writing" : info.writer == 2 ? "interrupted" : "none");
        for (uint32_t i = 0; i < info.nstreams; i++) {
            tt_stream_info *s = &info.streams[i];
            char name[64];
            tt_stream_desc_name(&s->desc, name, sizeof name);
            iso(s->first, a, sizeof a);
            iso(s->last, b, sizeof b);
            printf("%s{\"symbol\":\"%s\",\"kind\":\"%s\",\"events\":%llu,\"blocks\":%llu,"
                   "\"segments\":%u,\"bytes\":%llu,\"bytes_per_event\":%.4f,\"first\":\"%s\","
                   "\"last\":\"%s\"",
                   i ? "," : "", s->desc.symbol, name, (unsigned long long)s->events,
                   (unsigned long long)s->blocks, s->segments, (unsigned long long)s->bytes,
                   s->events ? (double)s->bytes / (double)s->events : 0.0, a, b);
            if (s->desc.kind == TT_STREAM_BAR)
                printf(",\"timeframe\":\"%s\",\"side\":\"%s\"", tt_timeframe_name(s->desc.tf),
                       s->desc.side == TT_SIDE_BID ? "bid" : s->desc.side == TT_SIDE_ASK ? "ask" : "mid");
            putchar('}');
        }
        printf("]}\n");
    } else {
        printf("tape %s: %u stream(s), %llu events, %llu bytes (%.3f bytes/event)%s%s%s%s%s\n",
               dir, info.nstreams, (unsigned long long)info.events,
               (unsigned long long)info.bytes,
               info.events ? (double)info.bytes / (double)info.events : 0.0,
               info.legacy ? "  [format 1: run 'tape upgrade']" : "",
               info.damaged ? "  [damaged segments: run 'tape verify']" : "",
               info.torn ? "  [bytes after the last commit]" : "",
               info.writer == 1 ? "  [a writer is at work]" : "",
               info.writer == 2 ? "  [a writer did not finish: run 'tape verify']" : "");
        printf("%-10s %-12s %12s %8s %12s %9s  %-24s %-24s\n", "symbol", "kind", "events", "blocks",
               "bytes", "B/event", "first", "last");
        for (uint32_t i = 0; i < info.nstreams; i++) {
            tt_stream_info *s = &info.streams[i];
            char name[64];
            tt_stream_desc_name(&s->desc, name, sizeof name);
            iso(s->first, a, sizeof a);
            iso(s->last, b, sizeof b);
            printf("%-10s %-12s %12llu %8llu %12llu %9.3f  %-24s %-24s\n", s->desc.symbol, name,
                   (unsigned long long)s->events, (unsigned long long)s->blocks,
                   (unsigned long long)s->bytes,
                   s->events ? (double)s->bytes / (double)s->events : 0.0, a, b);
        }
    }
    tt_tape_info_free(&info);
    return TT_EXIT_OK;
}

/* ---- verify ---- */

static void print_problem(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "ticktape: tape verify: %s\n", line);
}

typedef struct verify_opts {
    const char *dir;
} verify_opts;

static const tt_opt VERIFY_OPTS[] = {
    {TT_OPT_ARG, .arg = "DIR", .off = offsetof(verify_opts, dir), .flags = TT_OPT_REQUIRED,
     .help = "the tape directory"},
    {TT_OPT_END},
};

static int tape_verify(int argc, char **argv);

static const tt_cmd TAPE_VERIFY = {
    .name = "tape verify",
    .summary = "read and check every block; exit 0 when sound",
    .run = tape_verify,
    .opts = VERIFY_OPTS,
    .size = sizeof(verify_opts),
    .about = "Checks every segment against the manifest (missing, cut at any offset, another\n"
             "file in its place, files the manifest does not name, bytes after the last commit)\n"
             "and reads and checks every committed block (header and payload checksums,\n"
             "decoding, time order). A directory that is not a tape, a tape with no events, a\n"
             "writer that did not finish and a format 1 tape are not sound either.\n",
    .epilog = "exit codes: 0 sound; 1 not, naming each problem (file, block, what is missing);\n"
              "2 usage error\n",
};

static int tape_verify(int argc, char **argv)
{
    verify_opts o;
    memset(&o, 0, sizeof o);
    int rc = tt_opts_parse(&TAPE_VERIFY, &o, argc, argv, NULL);
    if (rc != TT_OPTS_RUN)
        return rc;
    const char *dir = o.dir;
    tt_err err;
    uint64_t events = 0;
    rc = tt_tape_verify(dir, print_problem, NULL, &events, &err);
    if (rc) {
        fprintf(stderr, "ticktape: error: tape %s is not sound: %s\n", dir, err.msg);
        return TT_EXIT_FAIL;
    }
    printf("ok: %s: %llu events verified\n", dir, (unsigned long long)events);
    return TT_EXIT_OK;
}

/* ---- repair and upgrade ---- */

static void print_change(void *ctx, const char *line)
{
    (void)ctx;
    printf("%s\n", line);
}

typedef struct fix_opts {
    const char *dir;
} fix_opts;

static const tt_opt FIX_OPTS[] = {
    {TT_OPT_ARG, .arg = "DIR", .off = offsetof(fix_opts, dir), .flags = TT_OPT_REQUIRED,
     .help = "the tape directory"},
    {TT_OPT_END},
};

static int tape_repair(int argc, char **argv);
static int tape_upgrade(int argc, char **argv);

static const tt_cmd TAPE_REPAIR = {
    .name = "tape repair",
    .summary = "cut a damaged tape back to its last sound commits; say what is dropped",
    .run = tape_repair,
    .opts = FIX_OPTS,
    .size = sizeof(fix_opts),
    .about = "Takes the writers' lock, cuts every segment back to its last commit that checks\n"
             "(bytes after it, a cut or corrupt tail), drops from the manifest the segments that\n"
             "are missing or hold something else, removes the segment files the manifest does\n"
             "not name, and rewrites the manifest. Every change is printed with the events and\n"
             "the time range it drops. A lost manifest is rebuilt from the segments' commit\n"
             "records. Running an interrupted import again needs no repair: it recovers first.\n",
    .epilog = "exit codes: 0 repaired (or nothing to do), 1 failure (another writer, not a tape,\n"
              "a format 1 tape: upgrade it), 2 usage error\n",
};

static const tt_cmd TAPE_UPGRADE = {
    .name = "tape upgrade",
    .summary = "write a format 1 tape in format 2 (commit records and a manifest)",
    .run = tape_upgrade,
    .opts = FIX_OPTS,
    .size = sizeof(fix_opts),
    .about = "Rewrites each segment of a format 1 tape with a format 2 header, its complete\n"
             "blocks copied byte for byte and a commit record, then writes the manifest, so that\n"
             "readers can tell a complete tape from a cut one. A torn tail is dropped and said.\n"
             "A format 2 tape is left as it is. Safe to run again after an interruption.\n",
    .epilog = "exit codes: 0 upgraded (or already format 2), 1 failure, 2 usage error\n",
};

static int fix_run(const tt_cmd *cmd, int argc, char **argv,
                   int (*fn)(const char *, void (*)(void *, const char *), void *,
                             tt_tape_repair_stats *, tt_err *))
{
    fix_opts o = {0};
    int rc = tt_opts_parse(cmd, &o, argc, argv, NULL);
    if (rc != TT_OPTS_RUN)
        return rc;
    tt_tape_repair_stats st;
    tt_err err;
    if (fn(o.dir, print_change, NULL, &st, &err))
        return tt_report_error(&err);
    printf("%s: %llu event(s) and %llu byte(s) dropped; %u segment(s) cut back, %u dropped, %u "
           "file(s) removed, %u upgraded\n",
           o.dir, (unsigned long long)st.events_dropped, (unsigned long long)st.bytes_dropped,
           st.segments_cut, st.segments_lost, st.files_removed, st.segments_upgraded);
    return fflush(stdout) ? TT_EXIT_FAIL : TT_EXIT_OK;
}

static int tape_repair(int argc, char **argv)
{
    return fix_run(&TAPE_REPAIR, argc, argv, tt_tape_repair);
}

static int tape_upgrade(int argc, char **argv)
{
    return fix_run(&TAPE_UPGRADE, argc, argv, tt_tape_upgrade);
}

const tt_cmd tt_command_tape = {
    .name = "tape",
    .summary = "inspect, verify, repair, upgrade and export a tape",
    .about = "Look into a tape (docs/tape-format.md): what it holds, whether every block\n"
             "is sound, its ticks as text, and where its data has gaps; repair a damaged one\n"
             "and upgrade a format 1 one.\n",
    .subs = (const tt_cmd *const[]){&TAPE_INFO, &TAPE_VERIFY, &TAPE_REPAIR, &TAPE_UPGRADE,
                                    &tt_command_tape_export, &tt_command_tape_gaps, NULL},
    .epilog = "T is ISO 8601 (2019-02-04, 2019-02-04T10:00:00.5Z) or an integer with a unit\n"
              "(1549238400000ms, ...ns, ...s). --from is inclusive, --to exclusive.\n",
};
