#!/bin/bash
# Build the libFuzzer targets in fuzz/ with clang (ASan + UBSan) and run
# each for a bounded time.
#
#   scripts/fuzz.sh [SECONDS] [--keep] [TARGET...]
#
# SECONDS: time per target (default 60). TARGET: fuzz_<name> (default: all).
# Each run starts from the kept inputs in fuzz/corpus/<name>/ and works in a
# scratch corpus under the build folder; --keep merges the inputs that add
# coverage back into fuzz/corpus/<name>/ (the regression test replays them).
# A crash leaves its input in $BUILD/artifacts/ and makes the script fail.
# Environment: FUZZ_BUILD (default build/fuzz), CLANG (default clang-14, else clang).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECONDS_EACH=60
KEEP=0
TARGETS=()
for arg in "$@"; do
    case "$arg" in
        --keep) KEEP=1 ;;
        ''|*[!0-9]*) TARGETS+=("$arg") ;;
        *) SECONDS_EACH=$arg ;;
    esac
done
CLANG=${CLANG:-$(command -v clang-14 || command -v clang || true)}
# On a fresh Debian 12 machine, as root: take clang and libFuzzer's runtime
# from Debian rather than fail (the test command does not need them).
if [ -z "$CLANG" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "fuzz.sh: installing clang-14 and libclang-rt-14-dev" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        clang-14 libclang-rt-14-dev >/dev/null
    CLANG=$(command -v clang-14 || true)
fi
if [ -z "$CLANG" ]; then
    echo "fuzz.sh: clang not found (libFuzzer needs it)" >&2
    exit 2
fi
BUILD=${FUZZ_BUILD:-$ROOT/build/fuzz}
# Warnings stay on but are not errors here: clang warns on things gcc does
# not, and the gcc builds (native and Windows) are the -Werror gate.
mkdir -p "$BUILD"

cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_C_COMPILER="$CLANG" \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTLSROUTER_FUZZ=ON -DTLSROUTER_SANITIZE=ON \
      -DTLSROUTER_WERROR=OFF > "$BUILD/configure.log" 2>&1 ||
    { cat "$BUILD/configure.log" >&2; exit 1; }
if [ ${#TARGETS[@]} -eq 0 ]; then
    for src in "$ROOT"/fuzz/fuzz_*.c; do
        TARGETS+=("$(basename "$src" .c)")
    done
fi
cmake --build "$BUILD" --target "${TARGETS[@]}"

mkdir -p "$BUILD/artifacts"
status=0
for t in "${TARGETS[@]}"; do
    name=${t#fuzz_}
    kept="$ROOT/fuzz/corpus/$name"
    work="$BUILD/corpus/$name"
    mkdir -p "$kept" "$work"
    echo "== $t: ${SECONDS_EACH}s"
    # -rss_limit_mb bounds memory; -timeout flags any single input over 10 s.
    if ! "$BUILD/fuzz/$t" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 \
            -max_len=65536 -print_final_stats=1 \
            -artifact_prefix="$BUILD/artifacts/$name-" "$work" "$kept" \
            2> "$BUILD/$t.log"; then
        echo "$t: FAILED, see $BUILD/$t.log and $BUILD/artifacts/" >&2
        status=1
    fi
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+.*DONE" \
        "$BUILD/$t.log" | sed "s/^/  /" || true
    if [ "$KEEP" = 1 ]; then
        "$BUILD/fuzz/$t" -merge=1 "$kept" "$work" > /dev/null 2>&1 || true
    fi
done
exit $status
