#!/usr/bin/env bash
# Run one Windows executable under Wine for ctest (CMAKE_CROSSCOMPILING_EMULATOR).
# All tests of a run share one prefix, copied once from the bootstrap template
# into $TLSROUTER_WINEPREFIX (default: build/wineprefix); the exit code of the
# program is ours.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
prefix=${TLSROUTER_WINEPREFIX:-$ROOT/build/wineprefix}
if [ ! -f "$prefix/.ready" ]; then
  # Two tests may start at once: the first copies, the other waits on the lock.
  mkdir -p "$(dirname "$prefix")"
  exec 9>"$prefix.lock"
  flock 9
  if [ ! -f "$prefix/.ready" ]; then
    [ -f "$WINE_TEMPLATE/.complete" ] || { echo "wine-run: no Wine template; run scripts/bootstrap.sh" >&2; exit 1; }
    rm -rf "$prefix"
    cp -a "$WINE_TEMPLATE" "$prefix"
    touch "$prefix/.ready"
  fi
  exec 9>&-
fi
export WINEPREFIX=$prefix
exec wine "$@"
