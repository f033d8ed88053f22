#!/usr/bin/env bash
# Configure and build the given presets (default: all three). Bootstraps the
# machine first when anything is missing, so it works on a fresh Debian 12.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
cd "$ROOT"
"$here/bootstrap.sh"
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(native-debug native-release windows-release)
for p in "${presets[@]}"; do
  echo "== build $p" >&2
  # A rebuilt dependency prefix has a new path; what CMake found in the old
  # one is cached, so configure afresh when the prefix changed.
  fresh=()
  cache="$ROOT/build/$p/CMakeCache.txt"
  if [ -f "$cache" ] && grep -o "$TLSROUTER_CACHE/deps-[0-9a-f]*" "$cache" \
       | grep -qvx "$DEPS_PREFIX"; then
    fresh=(--fresh)
  fi
  cmake --preset "$p" "${fresh[@]}" >/dev/null
  cmake --build --preset "$p"
done
