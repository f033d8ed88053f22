#!/usr/bin/env bash
# Prepare a fresh Debian 12 machine to build and test TLS Router:
#   1. the Debian packages for both builds and the tests;
#   2. static Windows x64 builds of OpenSSL, c-ares, SQLite and cmocka, made
#      from Debian's own source packages, cached outside the checkout;
#   3. a Wine prefix template that tests copy instead of booting Wine anew.
# Idempotent: a warm rerun only checks and takes seconds, and needs no root:
# root is asked for only when there is something to install or to write
# into a cache folder the user cannot write.
# The dependency build itself is scripts/build-windows-deps.sh: its hash keys
# the cache, so editing this file does not rebuild the dependencies.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/env.sh
. "$here/env.sh"

log() { printf 'bootstrap: %s\n' "$*" >&2; }

need_root() {
  [ "$(id -u)" = 0 ] || { log "run as root: $*"; exit 1; }
}

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libssl-dev libc-ares-dev libsqlite3-dev libcmocka-dev sqlite3 openssl
  gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64 mingw-w64-tools
  wine wine64 xvfb xauth nsis imagemagick xdotool
  dnsmasq-base tcl dpkg-dev valgrind
)

missing_packages() {
  local p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | grep -qx installed \
      || printf '%s\n' "$p"
  done
}

APT_UPDATED=0
apt_update_once() {
  [ "$APT_UPDATED" = 1 ] && return 0
  log "apt-get update"
  apt-get update -q >/dev/null
  APT_UPDATED=1
}

install_packages() {
  local need
  need=$(missing_packages)
  [ -z "$need" ] && return 0
  need_root "Debian packages are missing: $(echo $need)"
  apt_update_once
  log "installing: $(echo $need)"
  # With Recommends: Wine's fonts and X libraries (fonts-wine, libxcursor1,
  # ...) are Recommends of wine64, and the manager's GUI test needs them.
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need >/dev/null
}

# ---- Wine prefix template -------------------------------------------------

prepare_wine_template() {
  [ -f "$WINE_TEMPLATE/.complete" ] && return 0
  log "preparing the Wine prefix template"
  rm -rf "$WINE_TEMPLATE"
  mkdir -p "$WINE_TEMPLATE"
  WINEPREFIX="$WINE_TEMPLATE" wineboot -i >/dev/null 2>&1 || true
  WINEPREFIX="$WINE_TEMPLATE" wineserver -w
  [ -f "$WINE_TEMPLATE/system.reg" ] || { log "wineboot did not create a prefix"; exit 1; }
  touch "$WINE_TEMPLATE/.complete"
}

# The cache folder must be writable only when something goes into it.
prepare_cache() {
  [ -f "$DEPS_PREFIX/.complete" ] && [ -f "$WINE_TEMPLATE/.complete" ] && return 0
  mkdir -p "$TLSROUTER_CACHE" 2>/dev/null || true
  [ -w "$TLSROUTER_CACHE" ] || need_root "$TLSROUTER_CACHE must be written (or set TLSROUTER_CACHE)"
}

main() {
  local t0=$SECONDS
  install_packages
  prepare_cache
  "$here/build-windows-deps.sh"
  prepare_wine_template
  log "ready in $((SECONDS - t0)) s"
}

main "$@"
