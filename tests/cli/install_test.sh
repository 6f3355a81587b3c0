#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, then build and run a program
# against the installed library through pkg-config alone: the headers, the
# shared library and ticktape.pc must be enough.
set -euo pipefail
build_dir=$1
sanitize=${2:-OFF}
# A sanitized libticktape needs its consumer built with the same runtime.
extra=""
case "$sanitize" in ON|on|1|TRUE|true) extra="-fsanitize=address,undefined" ;; esac
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build_dir" --prefix "$prefix" >/dev/null
test -x "$prefix/bin/ticktape"
"$prefix/bin/ticktape" --version | grep -q '^ticktape '
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig:$prefix/lib/x86_64-linux-gnu/pkgconfig"
pkg-config --exists ticktape
cat > "$prefix/use.c" <<'C'
#include <stdio.h>
#include <string.h>
#include "core/engine.h"
#include "data/tape.h"
int main(int argc, char **argv)
{
    tt_err err;
    tt_stream_desc d;
    memset(&d, 0, sizeof d);
    strcpy(d.symbol, "EURUSD");
    d.kind = TT_STREAM_QUOTE;
    tt_tape_writer *w;
    if (tt_tape_writer_open(&w, argv[1], &d, NULL, &err)) { puts(err.msg); return 1; }
    tt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TT_EV_QUOTE;
    for (int i = 0; i < 1000; i++) {
        ev.ts = 1549238400000000000LL + i * 1000000LL;
        ev.u.quote.bid = 114427 + i % 7;
        ev.u.quote.ask = ev.u.quote.bid + 3;
        if (tt_tape_writer_append(w, &ev, &err)) { puts(err.msg); return 1; }
    }
    if (tt_tape_writer_close(w, &err)) { puts(err.msg); return 1; }
    tt_instruments *ins = tt_instruments_new();
    tt_tape_reader *r;
    if (tt_tape_reader_open(&r, argv[1], NULL, ins, &err)) { puts(err.msg); return 1; }
    tt_engine *e = tt_engine_new(ins);
    tt_engine_set_source(e, tt_tape_reader_source(r));
    if (tt_engine_run(e, &err)) { puts(err.msg); return 1; }
    printf("%llu\n", (unsigned long long)tt_engine_events(e));
    tt_engine_free(e);
    tt_tape_reader_close(r);
    tt_instruments_free(ins);
    return argc == 2 ? 0 : 1;
}
C
# shellcheck disable=SC2086
cc -std=c11 -Wall -Werror $extra -o "$prefix/use" "$prefix/use.c" $(pkg-config --cflags --libs ticktape)
libdir=$(pkg-config --variable=libdir ticktape)
out=$(LD_LIBRARY_PATH="$libdir" "$prefix/use" "$prefix/tape")
test "$out" = "1000"
"$prefix/bin/ticktape" tape verify "$prefix/tape" | grep -q "1000 events verified"
echo "install: ok (prefix $prefix)"
# The Python package installed beside the library finds it without
# TICKTAPE_LIB (a sanitized library cannot be loaded into python3 alone).
case "$sanitize" in
  ON|on|1|TRUE|true) ;;
  *)
    n=$(cd "$prefix" && env -u TICKTAPE_LIB PYTHONPATH="$prefix/lib/python3/dist-packages" \
        /usr/bin/python3 -c "import ticktape; print(len(ticktape.Tape('$prefix/tape').quotes('EURUSD')))")
    test "$n" = "1000"
    ;;
esac
