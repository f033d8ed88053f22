#!/usr/bin/env bash
# The main job: build everything, then show TLS Router at work on a local
# database.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
cd "$ROOT"
"$here/build.sh"
cli="$ROOT/build/native-release/cli/tlsrouter"
db=$(mktemp -d)/demo.db
export TLSROUTER_DB=$db
pickup=$(dirname "$db")/Pickup
mkdir -p "$pickup"
echo "== demo database: $db" >&2
"$cli" rule add "Plain TCP Server" --pickup "$pickup"
"$cli" domains add "Plain TCP Server" force-plain legacy.example "*.old.example"
"$cli" domains add "Plain TCP Server" never-redirect gmail.com
"$cli" rule list
