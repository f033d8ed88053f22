#!/usr/bin/env bash
# GUI test of TLS Router Manager under Wine and Xvfb.
#   run_manager_test.sh MANAGER_EXE DRIVER_EXE SHOT_DIR SOURCE_DIR
# Prepares a database (schema, a 1,000,000-row journal made by a recursive
# CTE, three expired-certificate domains), starts Xvfb on a display it picks
# and the manager on that database, then runs the driver
# (tests/win32/test_manager_gui.c), which drives the manager by Win32
# messages and asks for screenshots through request files. Screenshots go
# to SHOT_DIR; with TLSROUTER_UPDATE_SCREENSHOTS=1 also to docs/screenshots/
# (the README's picture), so a test run never changes the source tree.
# With TR_GUI_DPI=192 the manager and the driver run in a prefix of their
# own set to 192 DPI (200%), on a screen twice as large, and the driver
# looks at the Overview alone.
# Exit status: the driver's.
set -euo pipefail
manager=$1 driver=$2 shots=$3 src=$4
run="$src/scripts/wine-run.sh"
dpi=${TR_GUI_DPI:-}
screen=1100x760
if [ -n "$dpi" ]; then
  export TLSROUTER_WINEPREFIX="${TLSROUTER_WINEPREFIX:-$src/build/wineprefix}-dpi$dpi"
  screen=2200x1520
fi
work=$(mktemp -d /tmp/tr-gui.XXXXXX)
xvfb_pid= manager_pid= watcher_pid=

cleanup() {
  for pid in $watcher_pid $manager_pid $xvfb_pid; do
    kill "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

winpath() { printf 'Z:%s' "${1//\//\\}"; }

# --- database -------------------------------------------------------------
db="$work/manager.db"
latest=$(sed -n 's/^-- @version \([0-9]*\).*/\1/p' "$src/db/schema.sql" | tail -n1)
{ cat "$src/db/schema.sql"; echo "PRAGMA user_version = $latest;"; } | sqlite3 "$db"
start=$(date +%s%N)
sqlite3 "$db" >/dev/null <<'SQL'
PRAGMA journal_mode = WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
INSERT INTO journal (id, at_ms, message_id, sender, recipient, domain, route, reason,
                     status, mx, tls_version, detail, elapsed_ms)
SELECT i, 1767225600000 + i * 1000, 'msg' || (i / 3), 'app@sender.example',
       'user' || i || '@d' || (i % 500) || '.example', 'd' || (i % 500) || '.example',
       CASE WHEN i % 4 = 0 THEN 'plain' ELSE 'tls' END,
       CASE WHEN i % 4 = 0 THEN 'no-starttls' ELSE 'tls-ok' END,
       CASE WHEN i % 4 = 0 THEN 'no-starttls' ELSE 'starttls' END,
       'mx' || (i % 3) || '.d' || (i % 500) || '.example',
       CASE WHEN i % 4 = 0 THEN '' ELSE 'TLSv1.3' END,
       CASE WHEN i % 4 = 0 THEN 'The remote SMTP service does not support TLS.' ELSE '' END,
       i % 700
FROM n;
INSERT INTO expired_cache (domain, mx, cert_not_after, first_seen_ms, last_seen_ms, expires_ms,
                           confirmed_ms, next_check_ms)
VALUES ('expired-a.example', 'mx.expired-a.example', 1700000000, 1767225600000, 1767229200000, 4102444800000,
        1767229200000, 4102444800000),
       ('expired-b.example', 'mx.expired-b.example', 1710000000, 1767225600000, 1767232800000, 4102444800000,
        1767232800000, 4102444800000),
       ('expired-c.example', 'mail.expired-c.example', NULL, 1767225600000, 1767225600000, 4102444800000,
        NULL, 4102444800000);
INSERT INTO probe_cache (domain, status, mx, address, tls_version, cipher, cert_not_after, error,
                         elapsed_ms, probed_ms, expires_ms)
VALUES ('gmail.com', 'starttls', 'gmail-smtp-in.l.google.com', '192.0.2.10', 'TLSv1.3',
        'TLS_AES_256_GCM_SHA384', 1800000000, '', 120, 1767225600000, 4102444800000),
       ('old.example', 'no-starttls', 'mx.old.example', '192.0.2.20', '', '', NULL,
        'The remote SMTP service does not support TLS.', 80, 1767225600000, 4102444800000);
-- "Test a domain" asks a DNS server that is not there, with a short
-- deadline: the result is known (dns-failed or timeout) and quick.
UPDATE settings SET value = '127.0.0.1:9' WHERE key = 'dns_servers';
UPDATE settings SET value = '3000' WHERE key = 'total_timeout_ms';
COMMIT;
SQL
echo "# journal of 1,000,000 rows prepared in $(( ($(date +%s%N) - start) / 1000000 )) ms"
mkdir -p "$work/Pickup" "$shots"
update_docs=${TLSROUTER_UPDATE_SCREENSHOTS:-}

# --- display --------------------------------------------------------------
# Xvfb picks a free display itself and names it on a file descriptor: two
# runs at once (ctest -j2 runs the 100% and 200% tests together) cannot
# both take the number a look at /tmp found free.
exec 3>"$work/display"
Xvfb -displayfd 3 -screen 0 "${screen}x24" -nolisten tcp >/dev/null 2>&1 &
xvfb_pid=$!
exec 3>&-
display=
for _ in $(seq 100); do
  display=$(tr -dc '0-9' <"$work/display")
  [ -n "$display" ] && [ -e "/tmp/.X11-unix/X$display" ] && break
  sleep 0.1
done
[ -n "$display" ] || { echo "Xvfb did not start" >&2; exit 1; }
export DISPLAY=":$display"

# A Wine virtual desktop draws title bars for the screenshots. It is set for
# the manager and the driver alone (AppDefaults), so the other programs of
# the shared prefix keep Wine's default; both share the desktop, so the
# driver finds the manager.
for exe in "$(basename "$manager")" "$(basename "$driver")"; do
  "$run" reg add "HKCU\\Software\\Wine\\AppDefaults\\$exe\\Explorer" /v Desktop /d TRGui /f >/dev/null 2>&1
done
"$run" reg add 'HKCU\Software\Wine\Explorer\Desktops' /v TRGui /d "$screen" /f >/dev/null 2>&1
if [ -n "$dpi" ]; then
  # Where Wine reads the screen's DPI (both places, old and new Wine).
  "$run" reg add 'HKCU\Control Panel\Desktop' /v LogPixels /t REG_DWORD /d "$dpi" /f >/dev/null 2>&1
  "$run" reg add 'HKLM\System\CurrentControlSet\Hardware Profiles\Current\Software\Fonts' \
    /v LogPixels /t REG_DWORD /d "$dpi" /f >/dev/null 2>&1
fi

# --- screenshots on request -----------------------------------------------
(
  while :; do
    for req in "$work"/shot-*.req; do
      [ -e "$req" ] || continue
      name=$(basename "$req" .req); name=${name#shot-}
      import -display "$DISPLAY" -window root "$shots/manager-$name.png" 2>/dev/null || true
      if [ -n "$update_docs" ]; then
        cp "$shots/manager-$name.png" "$src/docs/screenshots/manager-$name.png" 2>/dev/null || true
      fi
      mv "$req" "$work/shot-$name.done"
    done
    sleep 0.2
  done
) &
watcher_pid=$!

# --- manager and driver ---------------------------------------------------
TLSROUTER_DB=$(winpath "$db") "$run" "$manager" >"$work/manager.log" 2>&1 &
manager_pid=$!
set +e
TR_GUI_DPI=$dpi TR_GUI_DB=$(winpath "$db") TR_GUI_DIR=$(winpath "$work") TR_GUI_PICKUP=$(winpath "$work/Pickup") \
  "$run" "$driver"
rc=$?
set -e
# The driver closes the manager; give it a moment, then make sure.
for _ in $(seq 50); do kill -0 "$manager_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$manager_pid" 2>/dev/null; then
  echo "# the manager did not exit; its log:"; cat "$work/manager.log"
fi
exit $rc
