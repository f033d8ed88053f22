#!/usr/bin/env bash
# The main job: build everything, then route mail on a local demo world.
# demo_peers starts a DNS server and three SMTP servers on loopback (one with
# TLS, one without STARTTLS, one with an expired certificate); a rule hands
# the non-TLS domains to a "Plain TCP Server" Pickup folder, exactly as the
# sink does inside IIS SMTP. Nothing leaves this machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
cd "$ROOT"
"$here/build.sh"

cli="$ROOT/build/native-release/cli/tlsrouter"
peers="$ROOT/build/native-release/tests/demo_peers"
work=$(mktemp -d /tmp/tlsrouter-demo.XXXXXX)
export TLSROUTER_DB="$work/tlsrouter.db"
pickup="$work/Plain TCP Server/Pickup"
mkdir -p "$pickup"

# demo_peers serves until its stdin closes: hold it open on a FIFO.
mkfifo "$work/peers.in"
"$peers" 600 < "$work/peers.in" > "$work/peers.out" &
peers_pid=$!
exec 8> "$work/peers.in"
trap 'exec 8>&-; wait "$peers_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do [ -s "$work/peers.out" ] && break; sleep 0.1; done
read -r dns port < "$work/peers.out"

step() { printf '\n== %s\n' "$*"; }
step "demo world: DNS $dns, SMTP peers on 127.0.0.2-4 port $port; database $TLSROUTER_DB"
"$cli" config dns_servers "$dns"
"$cli" config probe_port "$port"
"$cli" config total_timeout_ms 5000

step "the rule of the brief: hand non-TLS domains to the Plain TCP Server"
"$cli" rule add "Plain TCP Server" --pickup "$pickup"
"$cli" rule set "Plain TCP Server" --expired-cert on
"$cli" domains add "Plain TCP Server" force-plain legacy.demo
"$cli" domains add "Plain TCP Server" never-redirect partner.demo
"$cli" rule list

msg="$work/message.eml"
printf 'From: alice@corp.demo\r\nSubject: TLS Router demo\r\nMessage-ID: <demo-1@corp.demo>\r\n\r\nHello.\r\n.A line that starts with a dot.\r\n' > "$msg"

step "route one message to five recipient domains"
"$cli" route --from alice@corp.demo \
  --to ann@secure.demo --to bob@plaintext.demo --to carl@expired.demo \
  --to dora@legacy.demo --to eve@partner.demo "$msg"

step "a second message to expired.demo: decided from the expired-certificate cache"
"$cli" route --from alice@corp.demo --to fred@expired.demo "$msg"

step "the journal"
"$cli" journal --limit 10
step "the caches"
"$cli" cache list
step "the Pickup folder of the Plain TCP Server"
for f in "$pickup"/*; do
  printf -- '--- %s\n' "$f"
  tr -d '\r' < "$f"
done
