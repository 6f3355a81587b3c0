/*
 * Strategy plugins: check the file, dlopen, find the entry point, check the ABI.
 *
 * dlopen runs an object's constructors before anyone can look at it, so the
 * file is checked first, through one descriptor (the one dlopen then loads,
 * by /proc/self/fd, so the file checked is the file loaded): it must be a
 * regular file (never a FIFO or a device), not writable by everyone, and an
 * ELF shared object that exports tt_strategy_entry in its dynamic symbol
 * table. Any other .so on the disk (a system library, a file somebody
 * dropped in /tmp) is refused without being loaded, so naming it can never
 * run its code. This is the second line of defence: the first is that
 * nothing from the network can name a plugin at all (live/job_runner.c).
 * A name without a '/' is a file in the current directory, never a search
 * of the system's library path.
 *
 * The entry point is a function rather than an exported data symbol so a
 * plugin can see the host's ABI version and refuse (return NULL) or adapt.
 * The vtable's own abi_version and struct_size are then checked with the same
 * rule as built-ins (tt_strategy_check), so a plugin built against another
 * core/strategy.h fails loudly at load time, never with a crash mid-run.
 * RTLD_LOCAL keeps a plugin's symbols from leaking into the next plugin.
 */
#include "plugin.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct tt_plugin {
    void *handle;
    const tt_strategy_vtable *vt;
};

#if __ELF_NATIVE_CLASS == 64
#define PLUGIN_ELF_CLASS ELFCLASS64
#define PLUGIN_ST_BIND ELF64_ST_BIND
#define PLUGIN_ST_TYPE ELF64_ST_TYPE
#else
#define PLUGIN_ELF_CLASS ELFCLASS32
#define PLUGIN_ST_BIND ELF32_ST_BIND
#define PLUGIN_ST_TYPE ELF32_ST_TYPE
#endif

/* Largest symbol or string table read while checking a file. */
#define PLUGIN_TABLE_MAX (64u << 20)

static int pread_all(int fd, void *buf, size_t n, off_t at)
{
    char *b = buf;
    while (n) {
        ssize_t k = pread(fd, b, n, at);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        b += k, n -= (size_t)k, at += k;
    }
    return 0;
}

/* 1 when the ELF file on fd exports TT_STRATEGY_ENTRY as a defined function
 * in its dynamic symbol table, 0 when it does not, -1 when it is not an ELF
 * shared object of this machine's class. */
static int exports_entry(int fd, off_t size)
{
    ElfW(Ehdr) eh;
    if (size < (off_t)sizeof eh || pread_all(fd, &eh, sizeof eh, 0) ||
        memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != PLUGIN_ELF_CLASS ||
        eh.e_type != ET_DYN || eh.e_shentsize != sizeof(ElfW(Shdr)) || eh.e_shnum == 0 ||
        eh.e_shoff == 0 || eh.e_shoff > (uint64_t)size ||
        (uint64_t)eh.e_shnum * sizeof(ElfW(Shdr)) > (uint64_t)size - eh.e_shoff)
        return -1;
    ElfW(Shdr) *sh = malloc((size_t)eh.e_shnum * sizeof *sh);
    if (!sh || pread_all(fd, sh, (size_t)eh.e_shnum * sizeof *sh, (off_t)eh.e_shoff)) {
        free(sh);
        return -1;
    }
    int found = 0;
    for (size_t i = 0; i < eh.e_shnum && !found; i++) {
        const ElfW(Shdr) *sy = &sh[i];
        if (sy->sh_type != SHT_DYNSYM || sy->sh_link >= eh.e_shnum ||
            sy->sh_entsize != sizeof(ElfW(Sym)))
            continue;
        const ElfW(Shdr) *st = &sh[sy->sh_link];
        if (sy->sh_size > PLUGIN_TABLE_MAX || st->sh_size > PLUGIN_TABLE_MAX ||
            sy->sh_offset > (uint64_t)size || sy->sh_size > (uint64_t)size - sy->sh_offset ||
            st->sh_offset > (uint64_t)size || st->sh_size > (uint64_t)size - st->sh_offset)
            continue;
        ElfW(Sym) *syms = malloc(sy->sh_size ? sy->sh_size : 1);
        char *str = malloc(st->sh_size + 1);
        if (syms && str && !pread_all(fd, syms, sy->sh_size, (off_t)sy->sh_offset) &&
            !pread_all(fd, str, st->sh_size, (off_t)st->sh_offset)) {
            str[st->sh_size] = 0;
            for (size_t k = 0; k < sy->sh_size / sizeof *syms && !found; k++) {
                const ElfW(Sym) *s = &syms[k];
                int bind = PLUGIN_ST_BIND(s->st_info), type = PLUGIN_ST_TYPE(s->st_info);
                found = s->st_name < st->sh_size && s->st_shndx != SHN_UNDEF &&
                        (bind == STB_GLOBAL || bind == STB_WEAK) && type == STT_FUNC &&
                        !strcmp(str + s->st_name, TT_STRATEGY_ENTRY);
            }
        }
        free(syms);
        free(str);
    }
    free(sh);
    return found;
}

/* Open and check path; the descriptor in *fd (to load through) or an error. */
static int plugin_check(const char *path, int *fd, tt_err *err)
{
    *fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (*fd < 0)
        return tt_err_set(err, TT_ENOTFOUND, "plugin %s: cannot load: %s", path,
                          strerror(errno));
    struct stat st;
    const char *bad = NULL;
    int code = TT_EPERM;
    if (fstat(*fd, &st))
        bad = "cannot stat";
    else if (!S_ISREG(st.st_mode))
        bad = "not a regular file";
    else if (st.st_mode & S_IWOTH)
        bad = "writable by everyone (chmod o-w)";
    int e = bad ? 0 : exports_entry(*fd, st.st_size);
    if (!bad && e <= 0) {
        bad = e < 0 ? "not an ELF shared object for this machine"
                    : "no '" TT_STRATEGY_ENTRY "' symbol: not a ticktape strategy plugin";
        code = TT_ENOTFOUND;
    }
    if (bad) {
        close(*fd);
        *fd = -1;
        return tt_err_set(err, code, "plugin %s: %s; not loaded", path, bad);
    }
    return TT_OK;
}

int tt_plugin_open(tt_plugin **out, const char *path, tt_err *err)
{
    *out = NULL;
    /* A bare name is a file here, never a search of the library path. */
    char local[4096];
    if (!strchr(path, '/')) {
        snprintf(local, sizeof local, "./%s", path);
        path = local;
    }
    int fd;
    int rc = plugin_check(path, &fd, err);
    if (rc)
        return rc;
    /* Load the very file that was checked (not whatever the name points to
     * by now); without /proc, the name. */
    char byfd[64];
    snprintf(byfd, sizeof byfd, "/proc/self/fd/%d", fd);
    void *h = dlopen(access(byfd, R_OK) == 0 ? byfd : path, RTLD_NOW | RTLD_LOCAL);
    close(fd);
    if (!h) {
        const char *why = dlerror();
        return tt_err_set(err, TT_ENOTFOUND, "plugin %s: cannot load: %s", path,
                          why ? why : "unknown dlopen error");
    }
    dlerror();
    void *sym = dlsym(h, TT_STRATEGY_ENTRY);
    if (!sym) {
        dlclose(h);
        return tt_err_set(err, TT_ENOTFOUND,
                          "plugin %s: no '%s' symbol: not a ticktape strategy plugin", path,
                          TT_STRATEGY_ENTRY);
    }
    tt_strategy_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry); /* object pointer to function pointer, POSIX-style */
    const tt_strategy_vtable *vt = entry(TT_STRATEGY_ABI_VERSION);
    if (!vt) {
        dlclose(h);
        return tt_err_set(err, TT_EABI,
                          "plugin %s: refuses this host (ticktape strategy ABI version %u)", path,
                          TT_STRATEGY_ABI_VERSION);
    }
    rc = tt_strategy_check(vt, path, err);
    if (rc) {
        dlclose(h);
        return rc;
    }
    tt_plugin *p = calloc(1, sizeof *p);
    if (!p) {
        dlclose(h);
        return tt_err_set(err, TT_ENOMEM, "out of memory (plugin)");
    }
    p->handle = h;
    p->vt = vt;
    *out = p;
    return TT_OK;
}

const tt_strategy_vtable *tt_plugin_strategy(const tt_plugin *p) { return p->vt; }

void tt_plugin_close(tt_plugin *p)
{
    if (!p)
        return;
    dlclose(p->handle);
    free(p);
}
