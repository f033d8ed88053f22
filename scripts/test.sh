#!/usr/bin/env bash
# Every test of both builds: the native debug build under ASan/UBSan, then the
# Windows x64 build under Wine. Fails if any test fails in either.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
cd "$ROOT"
"$here/build.sh" native-debug windows-release

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# One Wine prefix for this run, fresh from the template.
export TLSROUTER_WINEPREFIX="$ROOT/build/wineprefix"
rm -rf "$TLSROUTER_WINEPREFIX" "$TLSROUTER_WINEPREFIX.lock"

status=0
for p in native-debug windows-release; do
  echo "== test $p" >&2
  ctest --preset "$p" || status=1
done
WINEPREFIX="$TLSROUTER_WINEPREFIX" wineserver -k 2>/dev/null || true
exit $status
