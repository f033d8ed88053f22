#!/usr/bin/env bash
# The Windows tlsrouter.exe (under Wine) reads and writes a database that the
# Linux build wrote, and the Linux build reads the Windows change back: one
# file format on both sides. Usage: cross_db.sh NATIVE_CLI WINDOWS_EXE WINE_RUN
set -euo pipefail
native=$1 exe=$2 wine_run=$3
if [ ! -x "$native" ]; then
  echo "cross_db: SKIPPED: no native tlsrouter at $native (build the native-debug preset first or set -DTLSROUTER_NATIVE_CLI=PATH)"
  exit 77
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/tlsrouter-cross-XXXXXX")
trap 'rm -rf "$dir"' EXIT
db=$dir/linux.db

"$native" --db "$db" rule add "Linux rule" --pickup 'C:\Inetpub\mailroot\Pickup' --source 2
# --force: the file format is under test here, not the look-ups before forcing plain.
"$native" --db "$db" domains add "Linux rule" force-plain Old.Example. '*.legacy.example' --force
"$native" --db "$db" domains add "Linux rule" never-redirect bank.example
"$native" --db "$db" rule set "Linux rule" --expired-cert on

windb=$("$wine_run" winepath.exe -w "$db" | tr -d '\r')
want='[{"name":"Linux rule","enabled":true,"source":2,"pickup":"C:\\Inetpub\\mailroot\\Pickup","expired_cert":true,"force_plain":["*.legacy.example","old.example"],"never_redirect":["bank.example"]}]'
got=$("$wine_run" "$exe" --db "$windb" rule list --json | tr -d '\r')
if [ "$got" != "$want" ]; then
  printf 'cross_db: Windows rule list differs\n want: %s\n  got: %s\n' "$want" "$got" >&2
  exit 1
fi
"$wine_run" "$exe" --db "$windb" rule list | tr -d '\r' | grep -q '^Linux rule  *on  *2  *on  *C:\\Inetpub\\mailroot\\Pickup$'

# And back: a change made by the Windows build is seen by the Linux build.
"$wine_run" "$exe" --db "$windb" rule set "Linux rule" --enabled off
"$wine_run" "$exe" --db "$windb" loglevel debug
"$native" --db "$db" rule list --json | grep -q '"enabled":false'
[ "$("$native" --db "$db" loglevel)" = debug ]
echo "cross_db: the Windows build read and changed the database written by the Linux build"
