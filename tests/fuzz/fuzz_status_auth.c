/* libFuzzer target: what the status server reads from a request itself (live/
 * status_http.c; libmicrohttpd parses the HTTP): the Authorization header
 * against a token, and an address given to --http. The first byte splits the
 * input: header | token. A header must be accepted exactly when it is
 * "Bearer " (any case) and the token, with blanks around it. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "live/status_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    size_t cut = data[0] % size;
    char *h = malloc(cut + 1), *t = malloc(size - cut + 1);
    if (!h || !t)
        abort();
    memcpy(h, data + 1, cut ? cut - 1 : 0);
    h[cut ? cut - 1 : 0] = 0;
    memcpy(t, data + cut, size - cut);
    t[size - cut] = 0;
    int ok = tt_status_auth_ok(h, t);
    /* the oracle: strip the scheme and blanks by hand */
    int want = 0;
    if (!strncasecmp(h, "Bearer ", 7)) {
        const char *g = h + 7;
        while (*g == ' ')
            g++;
        size_t n = strlen(g);
        while (n && (g[n - 1] == ' ' || g[n - 1] == '\t'))
            n--;
        want = n == strlen(t) && !memcmp(g, t, n) && n < 4096;
    }
    if (ok != want)
        abort();
    (void)tt_status_host_is_loopback(h);
    free(h);
    free(t);
    return 0;
}
