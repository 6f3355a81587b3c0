/*
 * ticktape: the Dukascopy downloader (libcurl).
 *
 * Fetches the hour tick files (and optionally the day M1 candle files) of one
 * symbol and a date range from a Dukascopy-style datafeed into a local tree
 * with the same layout (see data/dukascopy.h), ready for tt_duka_import.
 *
 *  - URL: BASE/SYMBOL/YYYY/MM/DD/HHh_ticks.bi5 (month 00-based); the default
 *    BASE is https://datafeed.dukascopy.com/datafeed.
 *  - At most `jobs` transfers are in flight (libcurl multi interface, one
 *    thread).
 *  - A 5xx, 429 or 408 answer, a timeout, a connection failure or a short body (fewer
 *    bytes than Content-Length, or a non-empty body that is not a whole LZMA
 *    stream of whole records) is retried with exponential backoff
 *    (backoff_ms, 2x, 4x, ...) up to `retries` times; then the file is
 *    reported as failed. A 404 is "no data for that hour": a gap, not retried.
 *  - Resume: a file already present under its final name is complete (it was
 *    renamed there only when whole) and is skipped. A transfer writes to
 *    NAME.part and renames it to NAME once it is whole and checked; a failed
 *    transfer removes its .part.
 */
#ifndef TT_DOWNLOAD_H
#define TT_DOWNLOAD_H

#include <stdint.h>

#include "../core/error.h"
#include "../core/event.h"

#define TT_DUKA_DEFAULT_BASE_URL "https://datafeed.dukascopy.com/datafeed"

typedef struct tt_download_opts {
    const char *base_url; /* NULL = TT_DUKA_DEFAULT_BASE_URL */
    const char *symbol;   /* e.g. "EURUSD" (upper-cased for the URL and the tree) */
    const char *dir;      /* local root; files go to DIR/SYMBOL/YYYY/MM/DD/ */
    tt_ts from, to;       /* hours in [from, to) */
    int candles;          /* also fetch BID and ASK M1 candle files of each day */
    int jobs;             /* parallel transfers; 0 = 4 */
    int retries;          /* retries per file after the first try; < 0 = default 5 */
    long timeout_ms;      /* whole-transfer timeout per try; 0 = 30000 */
    long backoff_ms;      /* first retry delay; 0 = 500 (doubles each retry) */
    /* Progress: files settled (done, skipped, missing or failed) of total,
     * and bytes received so far. May be NULL. */
    void (*progress)(void *ctx, uint64_t settled, uint64_t total, uint64_t bytes);
    /* One line per problem (a retry, a failed file, a gap). May be NULL. */
    void (*report)(void *ctx, const char *line);
    void *ctx;
} tt_download_opts;

typedef struct tt_download_stats {
    uint64_t files;      /* files in the range */
    uint64_t downloaded; /* fetched and written whole */
    uint64_t skipped;    /* already complete on disk (resume) */
    uint64_t empty;      /* 0-byte answers (hours without ticks), written as 0-byte files */
    uint64_t missing;    /* 404: no data on the server (gaps) */
    uint64_t gaps;       /* runs of consecutive missing hours */
    uint64_t failed;     /* given up after the retries */
    uint64_t retries;    /* retries made, all files */
    uint64_t bytes;      /* body bytes received */
} tt_download_stats;

/* Download the range. Returns TT_OK when every file is either complete,
 * empty or missing on the server; TT_EPARTIAL when some files failed (err
 * names the first and counts them); TT_EINVAL for bad options; TT_EIO when
 * the local tree cannot be written (naming the file); TT_ENOMEM; TT_ENET when
 * libcurl cannot start. The files already settled stay on disk in every case. */
int tt_download_dukascopy(const tt_download_opts *opts, tt_download_stats *stats, tt_err *err);

#endif
