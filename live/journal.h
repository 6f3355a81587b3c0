/*
 * ticktape live: the journal of a live or paper session.
 *
 * A journal is a tape (data/tape.h) holding one blob stream, `_journal/blob`,
 * in which every input event of the session is stored, canonically encoded,
 * in the order and with the stamps the engine saw (the inbox writes each one
 * BEFORE handing it to the engine). Reading it back yields the same events,
 * field for field, so `ticktape replay` feeds the engine exactly what the live
 * run fed it.
 *
 * The first record is a header: a BLOB event of type TT_JOURNAL_HEADER whose
 * payload is text, one "id symbol" line per instrument of the session's table,
 * so that a replay can map symbol ids by name even if its instrument table
 * numbers them differently. The reader consumes the header; the engine never
 * sees it.
 *
 * Durability: events go to the tape writer's block buffer; a block is written
 * when full, when the session ends, and at least every flush_interval of event
 * time (default one second), with an fsync after each block when asked. A
 * crash loses at most the unwritten block; the tape reader drops a torn tail.
 *
 * Notes and durability hooks (at-least-once feeds, live/kafka_source.h): a
 * feed can ask for a note as the last record of every block (a BLOB of type
 * TT_JOURNAL_NOTE, e.g. the Kafka offsets the block's events came from, so
 * the record of what was consumed is written atomically with the events),
 * and is told after each block is written (and fsynced when asked) up to
 * which inbox seq the journal is durable: only then may it commit that input
 * as consumed. Readers skip notes; tt_journal_last_note reads the last one.
 */
#ifndef TT_JOURNAL_H
#define TT_JOURNAL_H

#include <stdint.h>

#include "../core/engine.h"
#include "../core/error.h"
#include "../core/event.h"
#include "../core/instrument.h"

#define TT_JOURNAL_SYMBOL "_journal"
#define TT_JOURNAL_HEADER 0x544A4844u /* blob.type of the header record ("TJHD") */
#define TT_JOURNAL_NOTE 0x544A4E54u   /* blob.type of a feed's note record ("TJNT") */

typedef struct tt_journal tt_journal;

typedef struct tt_journal_opts {
    int fsync;                /* fsync after each block */
    uint32_t block_events;    /* 0 = the tape default */
    int64_t flush_interval;   /* ns of event time between forced blocks; 0 = 1 s, < 0 = never */
    int background;           /* encode and write on a writer thread (see journal.c) */
    int resume;               /* continue the journal in dir (a live session restarted after
                                 a crash): events go after its last whole block (a torn tail
                                 is cut first), no new header; the session must use the same
                                 instrument table */
    uint64_t bytes_max;       /* background: payload bytes queued at most (the caller
                                 waits beyond: never dropped); 0 = 64 MiB */
    /* Called (on the writing thread) before a block is cut, with the highest
     * event seq in the journal: fill *note (malloc'd, taken) and *len, or
     * leave *note NULL for no note. May be NULL. */
    void (*note)(void *ctx, uint64_t seq, uint8_t **note, uint32_t *len);
    /* Called after a block is written: every event up to seq is durable. May be NULL. */
    void (*durable)(void *ctx, uint64_t seq);
    void *hook_ctx;
} tt_journal_opts;

/* Create a journal in directory dir (created if needed). Refuses a directory
 * that already holds a journal (TT_EINVAL): a session never appends to another
 * session's record, except with opts->resume, which continues one (and
 * refuses a directory without one: TT_ENOTFOUND). ins (borrowed) is written
 * into the header. opts may be NULL. */
int tt_journal_open(tt_journal **j, const char *dir, const tt_instruments *ins,
                    const tt_journal_opts *opts, tt_err *err);

/* Append one input event (its ts must not go backwards: TT_EORDER; in background
 * mode that error, like any writer error, comes back from a later call). TT_OK,
 * or TT_ENOMEM, or the tape writer's error (tt_tape_writer_append: TT_EIO naming
 * the segment file when a block cannot be written, ...). After an error the
 * journal takes no more events usefully: close it. */
int tt_journal_append(tt_journal *j, const tt_event *ev, tt_err *err);

/* Write the pending events as a block now. TT_OK, or the writer's error
 * (tt_tape_writer_flush: TT_EIO, TT_ENOMEM), or in background mode the first
 * error the writer thread met. */
int tt_journal_flush(tt_journal *j, tt_err *err);

/* Flush and close; j is freed even on error (NULL is allowed: TT_OK). TT_OK, or
 * the first error met (the writer thread's, writing the header, the last
 * block, closing the file). What reached the disk is whole blocks: the tape
 * verifies (tt_tape_verify) and a reader sees a prefix of what was appended. */
int tt_journal_close(tt_journal *j, tt_err *err);

uint64_t tt_journal_count(const tt_journal *j); /* events appended (header excluded); cannot fail */

/* A sink view: write = append, flush = flush (j borrowed). Used as the inbox's tap. */
tt_sink tt_journal_sink(tt_journal *j);

/* The same, but an order event or a control event (a live venue's responses,
 * gap marks, the kill switch) is on disk (its block written, and fsynced
 * with opts.fsync) before write returns: the engine never acts on a venue
 * response a crash could take away. */
tt_sink tt_journal_sink_sync(tt_journal *j);

/* ---- reading ---- */

typedef struct tt_journal_reader tt_journal_reader;

/* Open a journal for replay with the instrument table ins (borrowed): symbol ids
 * are mapped from the session's table to ins by name. Fails when dir holds no
 * journal (TT_ENOTFOUND), the header is missing (TT_EFORMAT), or a symbol of
 * the session is not in ins (TT_ENOTFOUND, naming it). Torn tails are dropped
 * and reported through tt_journal_reader_warnings. */
int tt_journal_reader_open(tt_journal_reader **r, const char *dir, const tt_instruments *ins,
                           tt_err *err);

/* 1 = *ev filled, 0 = end, < 0 = error: the tape reader's (tt_tape_reader_next),
 * or TT_ENOTFOUND for an event whose symbol the replay's table lacks. Blob
 * payloads valid until the next call. */
int tt_journal_reader_next(tt_journal_reader *r, tt_event *ev, tt_err *err);

/* Torn-tail warnings of the underlying tape reader (cannot fail). */
int tt_journal_reader_warning_count(const tt_journal_reader *r);
const char *tt_journal_reader_warning(const tt_journal_reader *r, int i);

/* The payload of the last note record in the journal at dir (its complete
 * blocks: a torn tail is ignored), malloc'd into *out (NUL-terminated, *len
 * bytes), or *out = NULL when it has none. TT_ENOTFOUND when dir holds no
 * journal. */
int tt_journal_last_note(const char *dir, char **out, size_t *len, tt_err *err);

/* An engine source over the reader (borrowed). */
tt_source tt_journal_reader_source(tt_journal_reader *r);

void tt_journal_reader_close(tt_journal_reader *r); /* NULL is allowed; cannot fail */

#endif
