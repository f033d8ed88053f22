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

# Routing: one message to four recipients. The legacy domains go to the
# Plain server's Pickup folder (one file for both), gmail.com stays on TLS
# (never-redirect), corp.example has no list entry and is decided by the
# probe (no network here: it stays on TLS, "probe-failed").
msg=$(dirname "$db")/message.eml
printf 'From: alice@corp.example\r\nTo: several\r\nSubject: TLS Router demo\r\n\r\nHello.\r\n.\r\nA line that starts with a dot.\r\n' > "$msg"
echo "== route one message to four recipients" >&2
"$cli" --timeout 3 route --from alice@corp.example --to bob@legacy.example \
  --to carol@mx.old.example --to dave@gmail.com --to erin@corp.example "$msg"
echo "== the journal" >&2
"$cli" journal --limit 10
echo "== the Pickup folder" >&2
for f in "$pickup"/*.eml; do
  echo "--- $f" >&2
  cat "$f"
done
