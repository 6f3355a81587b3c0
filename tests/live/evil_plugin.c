/*
 * The audit's exploit payload: a shared object whose constructor runs the
 * moment it is loaded, before anyone can look for a strategy entry point.
 * It writes a marker file (the path in TT_EVIL_MARK) so a test can tell
 * whether it ever ran. It exports no tt_strategy_entry: any .so on a
 * machine's disk is like this one. A worker must never load it because a
 * job named it, and the plugin loader must refuse it without running it.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void evil(void)
{
    const char *mark = getenv("TT_EVIL_MARK");
    if (!mark)
        return;
    int fd = open(mark, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        if (write(fd, "pwned\n", 6) != 6)
            _exit(99);
        close(fd);
    }
}
