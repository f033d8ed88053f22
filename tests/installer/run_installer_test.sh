#!/usr/bin/env bash
# The installer under Wine, silent mode (issue 7), in a Wine prefix of its own
# copied from the bootstrap template:
#   1. without the SMTPSVC service key Setup exits non-zero and installs nothing;
#   2. an older installer (the same script built with a lower version) installs,
#      and the installed tlsrouter.exe adds a rule to the default database;
#   3. this build's installer upgrades it: files, registry (COM, uninstall key),
#      Start menu shortcuts, the Admin Guide with its pictures, the protected
#      database are in place, the rule kept, an older version's README gone;
#   4. the uninstaller removes everything but the database, which it keeps;
#   5. a new install finds the kept rule; Uninstall /DELETEDATA removes it all.
# Every check prints what it checks; the first failure ends the run non-zero.
# Registered by installer/CMakeLists.txt as the ctest "installer".
set -euo pipefail

usage() {
    echo "usage: $0 --setup EXE --nsi FILE --build-nsh FILE --makensis PATH" \
         "--setupdata EXE --dllhold EXE --version X.Y.Z --prefix DIR --work DIR [--seo-standin DLL]" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case $1 in
        --setup) setup=$2 ;;
        --nsi) nsi=$2 ;;
        --build-nsh) build_nsh=$2 ;;
        --makensis) makensis=$2 ;;
        --setupdata) setupdata=$2 ;;
        --dllhold) dllhold=$2 ;;
        --version) version=$2 ;;
        --prefix) prefix=$2 ;;
        --work) work=$2 ;;
        --seo-standin) seo_standin=$2 ;;
        *) usage ;;
    esac
    [ $# -ge 2 ] || usage
    shift 2
done
for v in setup nsi build_nsh makensis setupdata dllhold version prefix work; do
    [ -n "${!v:-}" ] || usage
done

here=$(cd "$(dirname "$0")" && pwd)
src_root=$(cd "$here/../.." && pwd)
. "$here/../../scripts/env.sh"
# The installed command must find the database the installer made, by itself.
unset TLSROUTER_DB

step() { echo "== $*"; }
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
# check DESCRIPTION COMMAND...: run the command, fail the test if it fails.
check() {
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}

# ---------------------------------------------------------------- Wine prefix

[ -f "$WINE_TEMPLATE/.complete" ] || fail "no Wine template at $WINE_TEMPLATE (run scripts/bootstrap.sh)"
[ -f "$setup" ] || fail "no installer at $setup"
export WINEPREFIX=$prefix
wineserver -k 2>/dev/null || true
rm -rf "$prefix" "$work"
cp -a "$WINE_TEMPLATE" "$prefix"
mkdir -p "$work"
trap 'wineserver -k 2>/dev/null || true' EXIT

drive_c=$prefix/drive_c
inst_dir="$drive_c/Program Files/TLS Router"
data_dir="$drive_c/ProgramData/TLS Router"
data_dir_win='C:\ProgramData\TLS Router'
menu_dir="$drive_c/ProgramData/Microsoft/Windows/Start Menu/Programs/TLS Router for IIS SMTP"
guide_dir="$inst_dir/guide"
uninstall_key='HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall\TLSRouter'
product_key='HKLM\Software\TLS Router'
smtpsvc_key='HKLM\SYSTEM\CurrentControlSet\Services\SMTPSVC'
eventlog_key='HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\TLS Router'

# What this build packed, from the generated build.nsh.
nsh_define() { sed -n "s/^!define $1 \"\(.*\)\"\$/\1/p" "$build_nsh"; }
nsh_has() { grep -qx "!define $1" "$build_nsh"; }
cli_name=$(nsh_define CLI_NAME)
[ -n "$cli_name" ] || fail "build.nsh names no CLI"
packed_keys=(CLI)
for c in SINK SINKREG MANAGER; do
    if nsh_has "HAVE_$c"; then packed_keys+=("$c"); fi
done
packed_files=()
for c in "${packed_keys[@]}"; do packed_files+=("$(nsh_define "${c}_NAME")"); done
echo "packed components: ${packed_files[*]} (build.nsh: $build_nsh)"

# run_wine EXE ARGS...: the program's exit code, its output kept in $work.
run_wine() {
    local rc=0
    wine "$@" >"$work/last.out" 2>&1 || rc=$?
    return $rc
}
# bound_instances: the SMTP virtual servers (1, 2) whose OnArrival event has
# a binding of the TLS Router sink, in the SEO stand-in's store.
standin_bindings='HKCU\Software\TLS Router Tests\SEO Stand-in\Bindings'
onarrival='{FF3CAA23-00B9-11D2-9DFB-00C04FA322BA}'
bound_instances() {
    local n source out=()
    for n in 1 2; do
        source=$(printf '{%08X-E470-11D1-AA67-00C04FA345F6}' $((0x1b3c0666 + n)))
        if { wine reg query "$standin_bindings\\$source\\$onarrival" /s 2>/dev/null || true; } |
            tr -d '\r' | grep -q 'SinkClass *REG_SZ *TLSRouter\.Sink$'; then
            out+=("$n")
        fi
    done
    echo "${out[*]:-none}"
}

# reg_value KEY NAME: the value's data as `reg query` prints it, empty when
# the key or value is missing (the check that uses it then fails, saying so).
# NAME "(Default)" is the key's default value.
reg_value() {
    local select=(/v "$2")
    [ "$2" != "(Default)" ] || select=(/ve)
    { wine reg query "$1" "${select[@]}" 2>/dev/null || true; } | tr -d '\r' |
        awk -v n="$2" '$1 == n { $1 = ""; $2 = ""; sub(/^  */, ""); print; exit }'
}
reg_key_exists() { wine reg query "$1" >/dev/null 2>&1; }
reg_key_missing() { ! reg_key_exists "$1"; }
no_path() { [ ! -e "$1" ]; }
equals() { [ "$1" = "$2" ]; }
cli() { wine "$inst_dir/$cli_name" "$@" 2>&1 | tr -d '\r'; }

# older_version X.Y.Z: a lower version for the upgrade test.
older_version() {
    local major minor patch
    IFS=. read -r major minor patch <<<"$1"
    if [ "$patch" -gt 0 ]; then echo "$major.$minor.$((patch - 1))"
    elif [ "$minor" -gt 0 ]; then echo "$major.$((minor - 1)).99"
    elif [ "$major" -gt 0 ]; then echo "$((major - 1)).99.99"
    else fail "version $1 has no older version"; fi
}

# ---------------------------------------------------------------- 1. no IIS SMTP

step "1. Setup on a machine without IIS SMTP"
check "the SMTPSVC service key is absent" reg_key_missing "$smtpsvc_key"
rc=0; run_wine "$setup" /S || rc=$?
check "Setup exits non-zero without IIS SMTP (exit code $rc, expected 3)" equals "$rc" 3
check "nothing installed in Program Files" no_path "$inst_dir"
check "no database folder" no_path "$data_dir"
check "no Start menu folder" no_path "$menu_dir"
check "no uninstall key" reg_key_missing "$uninstall_key"
check "no product key" reg_key_missing "$product_key"

# ---------------------------------------------------------------- 2. older version

old_version=$(older_version "$version")
old_setup=$work/TLSRouter-Setup-$old_version.exe
step "2. install an older version ($old_version) and add a rule"
# The older installer packs a sink that differs from this build's by a few
# bytes past its end (the loader ignores them), so the upgrade test can tell
# which one ends up installed.
old_nsh=$work/build-old.nsh
cp "$build_nsh" "$old_nsh"
if nsh_has HAVE_SINK; then
    old_sink=$work/old-$(nsh_define SINK_NAME)
    cp "$(nsh_define SINK_PATH)" "$old_sink"
    printf 'TLS Router installer test: the older sink\n' >>"$old_sink"
    sed -i "s|^!define SINK_PATH .*|!define SINK_PATH \"$old_sink\"|" "$old_nsh"
fi
check "makensis builds the $old_version installer from the same script" \
    "$makensis" -V1 -NOCD "-DBUILD_NSH=$old_nsh" "-DVERSION=$old_version" \
    "-DOUTFILE=$old_setup" "$nsi"
wine reg add "$smtpsvc_key" /v Type /t REG_DWORD /d 32 /f >/dev/null 2>&1
check "the SMTPSVC service key stands for an installed IIS SMTP" reg_key_exists "$smtpsvc_key"
rc=0; run_wine "$setup" /S /INSTANCE=abc || rc=$?
check "a bad /INSTANCE= is refused (exit code $rc, expected 4)" equals "$rc" 4
check "nothing installed after the bad option" no_path "$inst_dir"
# A database from a future version cannot be migrated: Setup must stop
# before it installs anything, and leave that database as it was.
mkdir -p "$data_dir"
python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA user_version = 999"); c.commit()' \
    "$data_dir/tlsrouter.db"
rc=0; run_wine "$setup" /S || rc=$?
check "a database newer than this version stops Setup (exit code $rc, expected 2)" equals "$rc" 2
check "nothing installed after the database failure" no_path "$inst_dir"
check "no uninstall key after the database failure" reg_key_missing "$uninstall_key"
user_version=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA user_version").fetchone()[0])' "$data_dir/tlsrouter.db")
check "the newer database is left as it was (user_version $user_version)" equals "$user_version" 999
rm -rf "$data_dir"

# The OnArrival binding goes through SEO (Event.Manager and friends), which
# IIS SMTP installs on Windows and Wine does not have. With the sink tests'
# SEO stand-in registered, the binding must succeed and is checked in the
# stand-in's store; without any SEO, Setup completes and reports the failed
# binding with exit code 5, as on a server whose event system is broken.
install_rc=0
check_bindings=
if nsh_has HAVE_SINKREG; then
    if [ -n "${seo_standin:-}" ]; then
        check "the SEO stand-in registers in the prefix" wine regsvr32 /s "$seo_standin"
    fi
    if reg_key_exists 'HKLM\Software\Classes\Event.Manager'; then
        [ -n "${seo_standin:-}" ] && check_bindings=1
        echo "SEO is registered in this prefix: the binding must succeed"
    else
        install_rc=5
        echo "no SEO (Event.Manager) in this prefix: Setup must install and report the unbound sink (exit code 5)"
    fi
fi

rc=0; run_wine "$old_setup" /S || { rc=$?; cat "$work/last.out"; }
check "the $old_version installer exits $install_rc (exit code $rc)" equals "$rc" "$install_rc"
check "DisplayVersion is $old_version" equals "$(reg_value "$uninstall_key" DisplayVersion)" "$old_version"
if nsh_has HAVE_SINK; then
    check "the older sink is installed" cmp -s "$inst_dir/$(nsh_define SINK_NAME)" "$old_sink"
fi
rc=0; cli rule add KeepMe --pickup 'C:\Plain TCP Server\Pickup' >"$work/rule-add.out" || rc=$?
cat "$work/rule-add.out"
check "the installed $cli_name adds rule KeepMe to the default database" equals "$rc" 0
check "the database is where the installer made it" test -f "$data_dir/tlsrouter.db"
check "rule list shows KeepMe before the upgrade" grep -q KeepMe <(cli rule list)

# ---------------------------------------------------------------- 3. upgrade

step "3. upgrade to $version"
# Versions before the Admin Guide installed the developers' README and a
# "Read Me" shortcut to it: the upgrade must take both away.
printf 'README of an older version\n' >"$inst_dir/README.txt"
cp "$menu_dir/Uninstall TLS Router.lnk" "$menu_dir/Read Me.lnk"
# The running SMTP service keeps the sink loaded, and a loaded DLL cannot be
# overwritten: hold the old one loaded across the upgrade.
hold_pid=
if nsh_has HAVE_SINK; then
    sink_name=$(nsh_define SINK_NAME)
    stop_file=$work/dllhold.stop
    wine "$dllhold" "C:\\Program Files\\TLS Router\\$sink_name" "$(winepath -w "$stop_file")" \
        >"$work/dllhold.out" 2>&1 &
    hold_pid=$!
    for _ in $(seq 150); do
        grep -qs loaded "$work/dllhold.out" && break
        sleep 0.2
    done
    check "a running process holds the installed $sink_name loaded" grep -q loaded "$work/dllhold.out"
fi
rc=0; run_wine "$setup" /S || { rc=$?; cat "$work/last.out"; }
check "the $version installer exits $install_rc (exit code $rc)" equals "$rc" "$install_rc"
if [ -n "$hold_pid" ]; then
    check "the sink in use was moved aside, not overwritten ($sink_name.old)" \
        test -f "$inst_dir/$sink_name.old"
    touch "$stop_file"
    rc=0; wait "$hold_pid" || rc=$?
    check "the holding process ends normally (exit code $rc)" equals "$rc" 0
fi
for f in license.txt Uninstall.exe guide/index.html guide/guide.css; do
    check "installed: Program Files\\TLS Router\\${f//\//\\}" test -s "$inst_dir/$f"
done
check "the developers' README is not installed (an older version's README.txt is gone)" \
    no_path "$inst_dir/README.txt"
check "the installed guide is this build's page, its pictures in its own folder" \
    cmp -s "$guide_dir/index.html" \
    <(sed 's|src="\.\./screenshots/|src="screenshots/|g' "$src_root/docs/admin-guide/index.html")
check "the installed style sheet is this build's" \
    cmp -s "$guide_dir/guide.css" "$src_root/docs/admin-guide/guide.css"
# guide_pictures FILE: the src of every <img> of an HTML page, one a line.
guide_pictures() { grep -o '<img [^>]*src="[^"]*"' "$1" | sed 's/.*src="\([^"]*\)"/\1/'; }
source_pictures=$(guide_pictures "$src_root/docs/admin-guide/index.html" | sort -u)
installed_pictures=$(guide_pictures "$guide_dir/index.html" | sort -u)
check "the installed guide shows the source guide's pictures from its own folder" \
    equals "$installed_pictures" "$(sed 's|^\.\./screenshots/|screenshots/|' <<<"$source_pictures")"
check "the guide shows pictures" test -n "$installed_pictures"
while read -r picture; do
    check "installed: guide\\${picture//\//\\}, the same bytes as docs/${picture}" \
        cmp -s "$guide_dir/$picture" "$src_root/docs/$picture"
done <<<"$installed_pictures"
for c in "${packed_keys[@]}"; do
    f=$(nsh_define "${c}_NAME")
    check "installed: Program Files\\TLS Router\\$f is this build's (same bytes)" \
        cmp -s "$inst_dir/$f" "$(nsh_define "${c}_PATH")"
done
check "the setup helper is not left behind" no_path "$inst_dir/$(nsh_define SETUPDATA_NAME)"

check "uninstall key: DisplayName" equals "$(reg_value "$uninstall_key" DisplayName)" "TLS Router for IIS SMTP"
check "uninstall key: DisplayVersion is $version" equals "$(reg_value "$uninstall_key" DisplayVersion)" "$version"
check "uninstall key: Publisher" equals "$(reg_value "$uninstall_key" Publisher)" "TLS Router Project"
check "uninstall key: InstallLocation" equals "$(reg_value "$uninstall_key" InstallLocation)" 'C:\Program Files\TLS Router'
check "uninstall key: UninstallString" equals "$(reg_value "$uninstall_key" UninstallString)" '"C:\Program Files\TLS Router\Uninstall.exe"'
check "uninstall key: QuietUninstallString" equals "$(reg_value "$uninstall_key" QuietUninstallString)" '"C:\Program Files\TLS Router\Uninstall.exe" /S'
size=$(reg_value "$uninstall_key" EstimatedSize)
check "uninstall key: EstimatedSize is non-zero ($size KiB)" test -n "$size" -a "$size" != 0x0 -a "$size" != 0
check "uninstall key: NoModify" equals "$(reg_value "$uninstall_key" NoModify)" 0x1
check "uninstall key: NoRepair" equals "$(reg_value "$uninstall_key" NoRepair)" 0x1
icon_file=Uninstall.exe
if nsh_has HAVE_MANAGER; then icon_file=$(nsh_define MANAGER_NAME); fi
check "uninstall key: DisplayIcon is $icon_file" \
    equals "$(reg_value "$uninstall_key" DisplayIcon)" "C:\\Program Files\\TLS Router\\$icon_file,0"
check "product key: bound virtual server instance 1" equals "$(reg_value "$product_key" Instance)" 0x1
if [ -n "$check_bindings" ]; then
    check "SEO: the sink is bound to virtual server 1 only" equals "$(bound_instances)" 1
fi

if nsh_has HAVE_SINK; then
    sink_name=$(nsh_define SINK_NAME)
    sink_progid=$(nsh_define SINK_PROGID)
    sink_clsid=$(reg_value "HKLM\\Software\\Classes\\$sink_progid\\CLSID" '(Default)')
    check "COM: ProgID $sink_progid names a class ($sink_clsid)" \
        grep -Eq '^\{[0-9A-Fa-f-]{36}\}$' <<<"$sink_clsid"
    check "COM: InprocServer32 of $sink_clsid is the installed $sink_name" \
        equals "$(reg_value "HKLM\\Software\\Classes\\CLSID\\$sink_clsid\\InprocServer32" '(Default)')" \
        "C:\\Program Files\\TLS Router\\$sink_name"
    check "Event Log: source \"TLS Router\" registered by the sink" reg_key_exists "$eventlog_key"
else
    echo "(no sink in this build: COM registration not checked)"
fi

# lnk_target LNK: the local path a shell link points at (its LinkInfo holds
# it as a plain string).
lnk_target() { strings -a "$1" | grep -m1 '^C:\\' || true; }
check "Start menu: Uninstall TLS Router.lnk opens the uninstaller" \
    equals "$(lnk_target "$menu_dir/Uninstall TLS Router.lnk")" 'C:\Program Files\TLS Router\Uninstall.exe'
check "Start menu: Admin Guide.lnk opens the guide" \
    equals "$(lnk_target "$menu_dir/Admin Guide.lnk")" 'C:\Program Files\TLS Router\guide\index.html'
check "Start menu: no Read Me.lnk (an older version's is gone)" no_path "$menu_dir/Read Me.lnk"
if nsh_has HAVE_MANAGER; then
    manager_name=$(nsh_define MANAGER_NAME)
    check "Start menu: TLS Router Manager.lnk opens $manager_name" \
        equals "$(lnk_target "$menu_dir/TLS Router Manager.lnk")" "C:\\Program Files\\TLS Router\\$manager_name"
else
    echo "(no manager in this build: its shortcut not checked)"
fi

check "database: $data_dir_win\\tlsrouter.db exists" test -s "$data_dir/tlsrouter.db"
acl=$(wine "$setupdata" --show-acl "$data_dir_win" 2>&1 | tr -d '\r')
# Mainline Wine keeps no file DACLs: it accepts one and reports a DACL made
# up from the Unix mode bits, which always names the Wine user's own SID
# (S-1-5-21-0-0-0-1000). Only then is the check left to Windows; any other
# answer must be exactly the installer's DACL.
if [[ $acl == *S-1-5-21-0-0-0-1000* ]]; then
    echo "SKIP: database folder DACL: this Wine synthesizes DACLs from mode bits ($acl)"
else
    check "database folder: protected DACL for SYSTEM and Administrators only ($acl)" \
        equals "$acl" 'D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)'
fi
check "the upgrade kept rule KeepMe" grep -q KeepMe <(cli rule list)

step "3b. reinstall the same version for virtual server 2"
rc=0; run_wine "$setup" /S /INSTANCE=2 || { rc=$?; cat "$work/last.out"; }
check "reinstall exits $install_rc (exit code $rc)" equals "$rc" "$install_rc"
check "product key: bound virtual server instance 2" equals "$(reg_value "$product_key" Instance)" 0x2
if [ -n "$check_bindings" ]; then
    check "SEO: the binding moved to virtual server 2" equals "$(bound_instances)" 2
fi
check "the reinstall kept rule KeepMe" grep -q KeepMe <(cli rule list)

step "3c. the virtual servers Setup offers by name"
# Setup's page lists what tlsrouter-setupdata --list-servers finds: here
# IIS's MetaBase.xml (tests/fixtures/metabase/relay.xml), as on a server
# whose ADSI is not installed.
metabase="$drive_c/windows/system32/inetsrv/MetaBase.xml"
mkdir -p "$(dirname "$metabase")"
cp "$here/../fixtures/metabase/relay.xml" "$metabase"
rc=0; wine "$setupdata" --list-servers 'C:\servers.txt' >"$work/last.out" 2>&1 || rc=$?
rm -f "$metabase"
check "setupdata --list-servers exits 0 (exit code $rc)" equals "$rc" 0
servers=$(iconv -f UTF-16 -t UTF-8 "$drive_c/servers.txt" | tr -d '\r' | paste -sd '|')
check "the servers by instance and name ($servers)" \
    equals "$servers" "1 - TLS Server|2 - Plain TCP Server"
rm -f "$drive_c/servers.txt"
rc=0; wine "$setupdata" --list-servers 'C:\servers.txt' >"$work/last.out" 2>&1 || rc=$?
check "without IIS, --list-servers fails (exit code $rc) and Setup asks for a number" \
    equals "$rc" 1

# ---------------------------------------------------------------- 4. uninstall

step "4. uninstall (silent: keeps the database)"
rc=0; run_wine "$inst_dir/Uninstall.exe" /S || rc=$?
check "the uninstaller starts (exit code $rc)" equals "$rc" 0
# The silent uninstaller copies itself away and returns at once.
wineserver -w
check "the Admin Guide is gone" no_path "$guide_dir"
check "Start menu: Admin Guide.lnk is gone" no_path "$menu_dir/Admin Guide.lnk"
check "Program Files\\TLS Router is gone" no_path "$inst_dir"
check "the Start menu folder is gone" no_path "$menu_dir"
check "the uninstall key is gone" reg_key_missing "$uninstall_key"
check "the product key is gone" reg_key_missing "$product_key"
if nsh_has HAVE_SINK; then
    check "COM: CLSID $sink_clsid is gone" reg_key_missing "HKLM\\Software\\Classes\\CLSID\\$sink_clsid"
    check "COM: ProgID $sink_progid is gone" reg_key_missing "HKLM\\Software\\Classes\\$sink_progid"
    check "Event Log: source \"TLS Router\" is gone" reg_key_missing "$eventlog_key"
fi
if [ -n "$check_bindings" ]; then
    check "SEO: no binding of the sink is left" equals "$(bound_instances)" none
fi
check "the database is kept" test -s "$data_dir/tlsrouter.db"
left=$(cd "$data_dir" && ls -A | grep -v '^tlsrouter\.db\(-wal\|-shm\)\?$' || true)
check "nothing but the database is left in its folder (${left:-nothing else})" test -z "$left"

# ---------------------------------------------------------------- 5. again, then purge

step "5. install again over the kept database, then uninstall with /DELETEDATA"
rc=0; run_wine "$setup" /S || { rc=$?; cat "$work/last.out"; }
check "the installer exits $install_rc (exit code $rc)" equals "$rc" "$install_rc"
check "the kept database still holds rule KeepMe" grep -q KeepMe <(cli rule list)
rc=0; run_wine "$inst_dir/Uninstall.exe" /S /DELETEDATA || rc=$?
check "the uninstaller starts (exit code $rc)" equals "$rc" 0
wineserver -w
check "Program Files\\TLS Router is gone" no_path "$inst_dir"
check "the uninstall key is gone" reg_key_missing "$uninstall_key"
check "/DELETEDATA deleted the database folder" no_path "$data_dir"
echo "installer test: all checks passed"
