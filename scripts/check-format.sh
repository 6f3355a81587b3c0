#!/usr/bin/env bash
# Format check of the C files a change touches.
#
#   scripts/check-format.sh [--root DIR] [BASE]
#
# Runs `clang-format --dry-run -Werror` (style: .clang-format at the root) on
# every *.c and *.h file that differs between BASE and the work tree: changed
# in the commits since BASE, changed but not committed, or new and not yet
# committed (untracked, not ignored). Deleted files are skipped. Each badly
# formatted line is reported as `path:line:col: error: ...`; the exit status
# is 1 when any file is badly formatted, 2 on a usage or git error.
#
# Why only touched files: the tree predates the formatter, and reformatting it
# wholesale would collide with every branch in flight. So formatting is
# enforced from a commit on: without BASE, the base is the commit recorded in
# .ci/format-base, which makes CI (a clean clone, with no notion of "the
# change") check every file touched since formatting started to be enforced.
set -euo pipefail

root=""
base=""
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "check-format: unknown option $1" >&2; exit 2 ;;
    *) base=$1; shift ;;
  esac
done
[ -n "$root" ] || root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
if ! command -v "$CLANG_FORMAT" >/dev/null; then
  echo "check-format: $CLANG_FORMAT not found (Debian package clang-format; make setup)" >&2
  exit 2
fi
if [ ! -f .clang-format ]; then
  echo "check-format: no .clang-format in $root" >&2
  exit 2
fi
if [ -z "$base" ]; then
  if [ ! -f .ci/format-base ]; then
    echo "check-format: no BASE given and no .ci/format-base" >&2
    exit 2
  fi
  base=$(sed -e 's/#.*//' .ci/format-base | tr -d ' \t\n')
fi
if ! git rev-parse --verify --quiet "$base^{commit}" >/dev/null; then
  echo "check-format: base '$base' is not a commit of this repository" \
       "(a shallow clone? fetch more history)" >&2
  exit 2
fi

# Changed since BASE (committed or not), and new files not yet added.
mapfile -t files < <( { git diff --name-only --diff-filter=d "$base" -- '*.c' '*.h'
                        git ls-files --others --exclude-standard -- '*.c' '*.h'; } | sort -u)

bad=0
for f in "${files[@]}"; do
  [ -f "$f" ] || continue
  if ! "$CLANG_FORMAT" --style=file --dry-run -Werror "$f"; then
    bad=$((bad + 1))
  fi
done
if [ "$bad" -gt 0 ]; then
  echo "check-format: $bad of ${#files[@]} touched C file(s) not formatted;" \
       "run: $CLANG_FORMAT -i FILE (base $base)" >&2
  exit 1
fi
echo "check-format: ok (${#files[@]} C file(s) touched since ${base:0:12})"
