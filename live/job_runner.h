/*
 * ticktape: what a worker does with a job message it took from the bus.
 *
 * Anyone who can publish on backtest.jobs.> can write a job, so a job is
 * untrusted input and is held to three rules:
 *
 *   1. It names no file. Its scenario is the SHA-256 of a scenario file's
 *      bytes, looked up among the *.yaml / *.yml files of the directories
 *      the worker was given (worker --scenarios DIR, default the current
 *      directory), indexed when the worker starts and again (at most once
 *      a second) when a job names a hash it does not know. Every file is
 *      read through tt_read_file_capped: regular files only (a FIFO or a
 *      device is skipped without blocking), at most TT_SCENARIO_FILE_MAX
 *      bytes, and its hash is checked again when it is loaded.
 *   2. It sets nothing but the parameters the scenario's own sweep: section
 *      declares, with values on their grid or list or inside their range
 *      (tt_sweep_job_check): never strategy.name, a plugin, a data path, an
 *      instrument file or an output.
 *   3. Its failures say nothing about files: "unknown scenario" (whether the
 *      hash names nothing, a file outside the directories, a FIFO, or a file
 *      that changed), "parameter not allowed: KEY", "bad job message: field
 *      F". Only a scenario the operator put in the directories can produce
 *      messages of its own (its runs' errors, as a local sweep would print).
 *
 * The parsed scenario and its sweep section are kept for the next job that
 * names the same hash (content-addressed, so a cached scenario is exactly
 * the one the job names).
 */
#ifndef TT_JOB_RUNNER_H
#define TT_JOB_RUNNER_H

#include <stddef.h>

#include "../core/error.h"
#include "../sim/research.h"
#include "crypto.h"

/* Largest scenario file a worker reads. */
#define TT_SCENARIO_FILE_MAX (1u << 20)
/* Most scenario files indexed per directory. */
#define TT_SCENARIO_DIR_MAX 4096

typedef struct tt_job_runner tt_job_runner;

/* Index the scenario files of dirs[0..ndirs). TT_EIO naming a directory that
 * cannot be read, TT_ENOMEM. */
int tt_job_runner_new(tt_job_runner **out, const char *const *dirs, size_t ndirs, tt_err *err);
void tt_job_runner_free(tt_job_runner *r);

/* How many scenario files are indexed, and the i-th one's path. */
size_t tt_job_runner_count(const tt_job_runner *r);
const char *tt_job_runner_path(const tt_job_runner *r, size_t i);

/* Run one job (its payload; run_id is the subject's, which the job must
 * repeat): decode, check, find and load the scenario, run it like a local
 * sweep run, and put the run's summary JSON in result. TT_EFORMAT (a job
 * that does not decode) and TT_EPERM (unknown scenario, parameter not
 * allowed) are refusals: the worker terminates such a message instead of
 * letting it come back; anything else is the run's own failure. */
int tt_job_runner_run(tt_job_runner *r, const char *run_id, const char *job, size_t len,
                      tt_buf *result, tt_err *err);

/* The scenario id of a file (what the sweep puts in its jobs): the SHA-256 of
 * its bytes, read like the worker reads it. */
int tt_scenario_id_file(const char *path, char out[TT_SHA256_HEX], tt_err *err);

#endif
