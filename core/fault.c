/*
 * Fault injection (core/fault.h): the counter behind the wrapped calls.
 *
 * Armed state is three words written by tt_fault_arm before the threads that
 * write start; the count of calls is an atomic, so writers on several
 * threads (an import's tape writers) still see one k-th call.
 */
#include "fault.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

unsigned tt_fault_armed_;
static unsigned fault_spec;
static uint64_t fault_k;
static int fault_errno;
static uint64_t fault_calls, fault_fired;

void tt_fault_arm(unsigned spec, uint64_t k, int errnum)
{
    fault_spec = spec;
    fault_k = k ? k : 1;
    fault_errno = errnum;
    __atomic_store_n(&fault_calls, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&fault_fired, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&tt_fault_armed_, spec & TT_FAULT_KINDS, __ATOMIC_RELEASE);
}

void tt_fault_disarm(void)
{
    __atomic_store_n(&tt_fault_armed_, 0, __ATOMIC_RELEASE);
}

uint64_t tt_fault_calls(void) { return __atomic_load_n(&fault_calls, __ATOMIC_RELAXED); }
uint64_t tt_fault_fired(void) { return __atomic_load_n(&fault_fired, __ATOMIC_RELAXED); }

int tt_fault_trip_(unsigned kind)
{
    if (!(__atomic_load_n(&tt_fault_armed_, __ATOMIC_ACQUIRE) & kind))
        return 0;
    uint64_t n = __atomic_add_fetch(&fault_calls, 1, __ATOMIC_RELAXED);
    if (n < fault_k || (n > fault_k && !(fault_spec & TT_FAULT_STICKY)))
        return 0;
    __atomic_add_fetch(&fault_fired, 1, __ATOMIC_RELAXED);
    if ((fault_spec & TT_FAULT_SHORT) && kind == TT_FAULT_WRITE)
        return 2;
    errno = fault_errno;
    return 1;
}

static const struct {
    const char *name;
    int value;
} ERRNOS[] = {{"ENOSPC", ENOSPC}, {"EIO", EIO},     {"EDQUOT", EDQUOT},
              {"EROFS", EROFS},   {"EINTR", EINTR}, {"EFBIG", EFBIG}};

/* One ':'-separated field of text starting at *p into buf; 0, or -1 when too long. */
static int next_field(const char **p, char *buf, size_t n)
{
    size_t len = strcspn(*p, ":");
    if (len >= n)
        return -1;
    memcpy(buf, *p, len);
    buf[len] = '\0';
    *p += len + ((*p)[len] == ':');
    return 0;
}

static int parse_kinds(const char *s, unsigned *spec)
{
    *spec = 0;
    while (*s) {
        size_t len = strcspn(s, ",");
        if (len == 3 && !strncmp(s, "all", 3))
            *spec |= TT_FAULT_WRITE | TT_FAULT_FSYNC | TT_FAULT_RENAME;
        else if (len == 5 && !strncmp(s, "write", 5))
            *spec |= TT_FAULT_WRITE;
        else if (len == 5 && !strncmp(s, "fsync", 5))
            *spec |= TT_FAULT_FSYNC;
        else if (len == 6 && !strncmp(s, "rename", 6))
            *spec |= TT_FAULT_RENAME;
        else
            return -1;
        s += len + (s[len] == ',');
    }
    return *spec ? 0 : -1;
}

int tt_fault_parse(const char *text, unsigned *spec, uint64_t *k, int *errnum, tt_err *err)
{
    char kinds[64], num[32], en[32], flag[32];
    const char *p = text;
    if (next_field(&p, kinds, sizeof kinds) || parse_kinds(kinds, spec))
        return tt_err_set(err, TT_EINVAL, "fault '%s': kinds are write, fsync, rename or all",
                          text);
    char *end;
    if (next_field(&p, num, sizeof num) || !num[0] ||
        (*k = strtoull(num, &end, 10)) == 0 || *end)
        return tt_err_set(err, TT_EINVAL, "fault '%s': the call number must be 1 or more",
                          text);
    if (next_field(&p, en, sizeof en) || !en[0])
        return tt_err_set(err, TT_EINVAL, "fault '%s': no errno (ENOSPC, EIO, ...)", text);
    *errnum = 0;
    for (size_t i = 0; i < sizeof ERRNOS / sizeof *ERRNOS; i++)
        if (!strcmp(en, ERRNOS[i].name))
            *errnum = ERRNOS[i].value;
    if (!*errnum && ((*errnum = (int)strtol(en, &end, 10)) <= 0 || *end))
        return tt_err_set(err, TT_EINVAL, "fault '%s': unknown errno '%s'", text, en);
    while (*p) {
        if (next_field(&p, flag, sizeof flag))
            return tt_err_set(err, TT_EINVAL, "fault '%s': flag too long", text);
        if (!strcmp(flag, "sticky"))
            *spec |= TT_FAULT_STICKY;
        else if (!strcmp(flag, "short"))
            *spec |= TT_FAULT_SHORT;
        else
            return tt_err_set(err, TT_EINVAL, "fault '%s': unknown flag '%s' (sticky, short)",
                              text, flag);
    }
    return TT_OK;
}
