/*
 * ticktape: the closed trades of a run, in memory and then in a file.
 *
 * A backtest keeps every closed trade for its result. Up to keep_max of them
 * stay in a heap array (0 = no limit). The trade after that moves the list to
 * an unlinked temporary file in $TMPDIR (else /tmp): the array is written
 * out and freed, and every later trade goes through a fixed buffer of
 * TT_TRADE_LOG_BUF records. At the end the buffer is flushed and the file
 * mapped read-only, so the list is every trade in close order either way, in
 * clean file-backed pages rather than the heap. The mapping keeps the file
 * alive; unmapping it lets the kernel free the file.
 *
 * Failure is all or nothing: once an add fails (the file cannot be created or
 * written, or memory runs out) the log takes nothing more, and finishing it
 * leaves no list (never a partial one), so a caller cannot report a run with
 * trades missing.
 */
#ifndef TT_SIM_TRADE_LOG_H
#define TT_SIM_TRADE_LOG_H

#include <stddef.h>

#include "../core/error.h"
#include "../core/metrics.h"

#define TT_TRADE_LOG_BUF 512 /* trades per write to the file (60 KiB) */

typedef struct tt_trade_log tt_trade_log;

/* An empty log keeping up to keep_max trades in memory (0 = no limit).
 * Returns 0 with *out set, or TT_ENOMEM with *out NULL. */
int tt_trade_log_new(tt_trade_log **out, size_t keep_max, tt_err *err);

/* Add a closed trade. Returns 0; TT_ENOMEM; or TT_EIO when the list had to
 * move to a file that could not be created or written, err naming the
 * directory or file, the errno text and the remedy (TMPDIR). After a failure
 * every add returns that same error and takes nothing. */
int tt_trade_log_add(tt_trade_log *t, const tt_trade_record *rec, tt_err *err);

/* End of the run: a list in a file is flushed and mapped. Then hand the list
 * over: *trades (close order, read-only when mapped), *n and *map_len (> 0:
 * *trades is a mapping of that many bytes, to munmap; 0: a heap array to
 * free, or NULL). Returns 0, or the log's failure (an earlier add's, or
 * TT_EIO when the final write or the mapping fails), and then hands over
 * nothing (*trades NULL, *n and *map_len 0). The log is empty afterwards. */
int tt_trade_log_finish(tt_trade_log *t, tt_trade_record **trades, size_t *n, size_t *map_len,
                        tt_err *err);

/* Frees the log and whatever it still holds (file, buffer, array). NULL is a
 * no-op. */
void tt_trade_log_free(tt_trade_log *t);

#endif
