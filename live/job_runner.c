/*
 * The worker's side of a job: an index of scenario files by content hash,
 * and the checks a job passes before anything runs (see job_runner.h for
 * the rules and why).
 *
 * Invariant: nothing from the job reaches the file system. The job's hash
 * selects an index entry; the entry's path came from readdir of a directory
 * the operator named; the job's parameters are compared with the scenario's
 * own sweep section before they are applied. Messages built from the job
 * quote only a parameter key (printable characters), never a path or a
 * hash.
 */
#include "job_runner.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/io.h"
#include "../sim/scenario.h"
#include "../sim/sweep.h"

typedef struct index_entry {
    char id[TT_SHA256_HEX];
    char *path;
} index_entry;

struct tt_job_runner {
    char **dirs;
    size_t ndirs;
    index_entry *e;
    size_t n;
    double scanned; /* monotonic seconds of the last scan */
    /* the scenario of the last job, by hash */
    char cached[TT_SHA256_HEX];
    tt_scenario *s;
    tt_sweep_spec spec;
    int has_spec;
};

static double mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void index_clear(tt_job_runner *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->e[i].path);
    free(r->e);
    r->e = NULL;
    r->n = 0;
}

static int is_scenario_name(const char *name)
{
    size_t n = strlen(name);
    if (name[0] == '.')
        return 0;
    return (n > 5 && !strcmp(name + n - 5, ".yaml")) || (n > 4 && !strcmp(name + n - 4, ".yml"));
}

/* Add dir's scenario files; files that cannot be read as scenarios (not
 * regular, too large, unreadable) are skipped. */
static int index_dir(tt_job_runner *r, const char *dir, size_t *cap, tt_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return tt_err_set(err, TT_EIO, "scenario directory %s: cannot open", dir);
    size_t added = 0;
    struct dirent *de;
    int rc = TT_OK;
    while (!rc && added < TT_SCENARIO_DIR_MAX && (de = readdir(d)) != NULL) {
        if (!is_scenario_name(de->d_name))
            continue;
        size_t pl = strlen(dir) + strlen(de->d_name) + 2;
        char *path = malloc(pl);
        if (!path) {
            rc = tt_err_set(err, TT_ENOMEM, "out of memory");
            break;
        }
        snprintf(path, pl, "%s/%s", dir, de->d_name);
        char *text = NULL;
        size_t len = 0;
        tt_err ignored;
        if (tt_read_file_capped(path, TT_SCENARIO_FILE_MAX, &text, &len, &ignored)) {
            free(path);
            continue;
        }
        if (r->n == *cap) {
            size_t nc = *cap ? *cap * 2 : 16;
            index_entry *ne = realloc(r->e, nc * sizeof *ne);
            if (!ne) {
                free(text);
                free(path);
                rc = tt_err_set(err, TT_ENOMEM, "out of memory");
                break;
            }
            r->e = ne;
            *cap = nc;
        }
        tt_sha256_hex(text, len, r->e[r->n].id);
        r->e[r->n++].path = path;
        free(text);
        added++;
    }
    closedir(d);
    return rc;
}

static int index_scan(tt_job_runner *r, tt_err *err)
{
    index_clear(r);
    size_t cap = 0;
    int rc = TT_OK;
    for (size_t i = 0; i < r->ndirs && !rc; i++)
        rc = index_dir(r, r->dirs[i], &cap, err);
    r->scanned = mono_s();
    return rc;
}

static const index_entry *index_find(const tt_job_runner *r, const char *id)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->e[i].id, id))
            return &r->e[i];
    return NULL;
}

int tt_job_runner_new(tt_job_runner **out, const char *const *dirs, size_t ndirs, tt_err *err)
{
    *out = NULL;
    tt_job_runner *r = calloc(1, sizeof *r);
    if (!r || !(r->dirs = calloc(ndirs ? ndirs : 1, sizeof *r->dirs))) {
        free(r);
        return tt_err_set(err, TT_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < ndirs; i++) {
        if (!(r->dirs[r->ndirs++] = strdup(dirs[i]))) {
            tt_job_runner_free(r);
            return tt_err_set(err, TT_ENOMEM, "out of memory");
        }
    }
    int rc = index_scan(r, err);
    if (rc) {
        tt_job_runner_free(r);
        return rc;
    }
    *out = r;
    return TT_OK;
}

static void cache_drop(tt_job_runner *r)
{
    tt_scenario_free(r->s);
    r->s = NULL;
    tt_sweep_spec_free(&r->spec); /* safe on an empty or partly read spec */
    r->has_spec = 0;
    r->cached[0] = 0;
}

void tt_job_runner_free(tt_job_runner *r)
{
    if (!r)
        return;
    cache_drop(r);
    index_clear(r);
    for (size_t i = 0; i < r->ndirs; i++)
        free(r->dirs[i]);
    free(r->dirs);
    free(r);
}

size_t tt_job_runner_count(const tt_job_runner *r)
{
    return r->n;
}

const char *tt_job_runner_path(const tt_job_runner *r, size_t i)
{
    return i < r->n ? r->e[i].path : NULL;
}

/* Read, verify and parse the scenario with this id into the cache. TT_EPERM
 * "unknown scenario" when no file in the directories has these bytes. */
static int load(tt_job_runner *r, const char *id, tt_err *err)
{
    const index_entry *e = index_find(r, id);
    if (!e && mono_s() - r->scanned >= 1.0) { /* a file added since: look again */
        tt_err ignored;
        index_scan(r, &ignored);
        e = index_find(r, id);
    }
    char *text = NULL;
    size_t len = 0;
    char got[TT_SHA256_HEX];
    tt_err ignored;
    int known = e && !tt_read_file_capped(e->path, TT_SCENARIO_FILE_MAX, &text, &len, &ignored);
    if (known) { /* the file may have changed since it was indexed */
        tt_sha256_hex(text, len, got);
        known = !strcmp(got, id);
    }
    if (!known) {
        free(text);
        return tt_err_set(err, TT_EPERM, "unknown scenario");
    }
    cache_drop(r);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", e->path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    tt_research_doc *doc = NULL;
    int rc = tt_scenario_parse(&r->s, text, len, e->path, dir, err);
    if (!rc)
        rc = tt_research_doc_parse(&doc, text, len, e->path, err);
    if (!rc) {
        rc = tt_sweep_spec_read(&r->spec, doc, tt_scenario_seed(r->s), err);
        r->has_spec = rc == TT_OK;
        if (rc == TT_ENOTFOUND) /* no sweep: section: no parameter is allowed */
            rc = TT_OK;
    }
    tt_research_doc_free(doc);
    free(text);
    if (rc) {
        cache_drop(r);
        return rc;
    }
    memcpy(r->cached, id, TT_SHA256_HEX);
    return TT_OK;
}

int tt_job_runner_run(tt_job_runner *r, const char *run_id, const char *data, size_t len,
                      tt_buf *result, tt_err *err)
{
    tt_sweep_job job;
    int rc = tt_sweep_job_decode(&job, data, len, err);
    if (rc)
        return rc;
    if (strcmp(job.run_id, run_id)) {
        tt_sweep_job_free(&job);
        return tt_err_set(err, TT_EFORMAT, "bad job message: field run_id (not the subject's)");
    }
    if (strcmp(r->cached, job.scenario))
        rc = load(r, job.scenario, err);
    if (!rc)
        rc = tt_sweep_job_check(&job, r->has_spec ? &r->spec : NULL, err);
    tt_run_summary sum;
    memset(&sum, 0, sizeof sum);
    if (!rc) {
        tt_research_runner run = tt_scenario_runner(r->s);
        rc = run.run(run.self, job.params, job.nparams, job.from, job.to, &sum, NULL, err);
    }
    if (!rc) {
        sum.index = job.index;
        snprintf(sum.run_id, sizeof sum.run_id, "%s", run_id);
        rc = tt_run_summary_json(result, &sum, job.params, job.nparams);
        if (rc)
            rc = tt_err_set(err, TT_ENOMEM, "out of memory");
    }
    tt_sweep_job_free(&job);
    return rc;
}

int tt_scenario_id_file(const char *path, char out[TT_SHA256_HEX], tt_err *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = tt_read_file_capped(path, TT_SCENARIO_FILE_MAX, &text, &len, err);
    if (!rc)
        tt_sha256_hex(text, len, out);
    free(text);
    return rc;
}
