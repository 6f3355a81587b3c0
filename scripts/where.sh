#!/usr/bin/env bash
# Where the built (or installed) ticktape is, and how to run it by name:
# printed by `make build`, `make demo` and `make install`.
#
#   scripts/where.sh built BUILD_DIR       after a build
#   scripts/where.sh installed PREFIX      after `make install PREFIX=...`
set -euo pipefail
mode=${1:?usage: where.sh built BUILD_DIR | installed PREFIX}
case "$mode" in
  built)     dir=$(cd "${2:?build directory}" && pwd) ;;
  installed) dir=$(cd "${2:?prefix}/bin" && pwd) ;;
  *) echo "usage: where.sh built BUILD_DIR | installed PREFIX" >&2; exit 2 ;;
esac
bin=$dir/ticktape
[ -x "$bin" ] || { echo "where.sh: no ticktape in $dir" >&2; exit 1; }
echo "ticktape: $bin ($mode)"
found=$(command -v ticktape 2>/dev/null || true)
if [ "$found" = "$bin" ]; then
  echo "  on your PATH: run it as 'ticktape'"
  exit 0
fi
[ -n "$found" ] && echo "  note: 'ticktape' on your PATH is another one: $found"
echo "  to run it as 'ticktape' in this shell:  export PATH=\"$dir:\$PATH\""
if [ "$mode" = built ]; then
  echo "  or install it for your user:            make install   (into \$HOME/.local; PREFIX=DIR for another)"
else
  echo "  for every new shell, add that line to ~/.profile"
fi
