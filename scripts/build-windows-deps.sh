#!/usr/bin/env bash
# Static Windows x64 builds of OpenSSL, c-ares, SQLite and cmocka from
# Debian's own source packages, into $DEPS_PREFIX (see env.sh: keyed on the
# versions and on this file's hash). Called by bootstrap.sh; does nothing when
# the prefix is complete.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
log() { printf 'build-windows-deps: %s\n' "$*" >&2; }

ensure_deb_src() {
  local src=/etc/apt/sources.list.d/debian-src.sources
  [ -f "$src" ] || sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > "$src"
  apt-get update -q >/dev/null
}

# ---- Windows x64 dependencies -------------------------------------------

fetch_source() { # package version -> unpacked dir path on stdout
  local pkg=$1 ver=$2 dir
  ( cd "$WORK" && apt-get source -q --only-source --download-only "$pkg=$ver" >/dev/null 2>&1 ) || true
  # Unpack by hand: apt-get's own unpack needs the .dsc, which the security
  # archive sometimes lacks; the orig tarball is all we need.
  local tarball
  tarball=$(ls "$WORK"/"${pkg}"_*.orig.tar.* 2>/dev/null | head -n1)
  if [ -z "$tarball" ]; then
    # A point release can retire the pinned version from the archive: take
    # the archive's current one rather than fail a fresh machine.
    log "$pkg $ver is not in the archive any more; using its current source"
    ( cd "$WORK" && apt-get source -q --only-source --download-only "$pkg" >/dev/null 2>&1 ) || true
    tarball=$(ls "$WORK"/"${pkg}"_*.orig.tar.* 2>/dev/null | head -n1)
  fi
  [ -n "$tarball" ] || { log "could not download Debian source of $pkg $ver"; exit 1; }
  dir="$WORK/src-$pkg"
  mkdir -p "$dir"
  tar -xf "$tarball" -C "$dir" --strip-components=1
  printf '%s\n' "$dir"
}

build_openssl() {
  local src; src=$(fetch_source openssl "$OPENSSL_DEB")
  log "building OpenSSL (mingw64, static)"
  ( cd "$src" && ./Configure mingw64 --cross-compile-prefix=x86_64-w64-mingw32- \
      no-shared no-tests --prefix="$STAGE" --libdir=lib >/dev/null \
    && make -j"$(nproc)" build_libs >/dev/null 2>&1 && make install_dev >/dev/null )
}

cmake_cross() { # src builddir extra-args...
  local src=$1 bld=$2; shift 2
  cmake -S "$src" -B "$bld" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/mingw-w64-x86_64.cmake" \
    -DTLSROUTER_DEPS_PREFIX="$STAGE" -DCMAKE_INSTALL_PREFIX="$STAGE" "$@" >/dev/null
  cmake --build "$bld" >/dev/null
  cmake --install "$bld" >/dev/null
}

build_cares() {
  local src; src=$(fetch_source c-ares "$CARES_DEB")
  log "building c-ares (mingw64, static)"
  cmake_cross "$src" "$WORK/bld-cares" -DCARES_STATIC=ON -DCARES_SHARED=OFF \
    -DCARES_BUILD_TOOLS=OFF -DCARES_BUILD_TESTS=OFF -DCARES_STATIC_PIC=ON
}

build_cmocka() {
  local src; src=$(fetch_source cmocka "$CMOCKA_DEB")
  log "building cmocka (mingw64, static)"
  cmake_cross "$src" "$WORK/bld-cmocka" -DWITH_STATIC_LIB=ON -DWITH_EXAMPLES=OFF \
    -DUNIT_TESTING=OFF
}

build_sqlite() {
  local src; src=$(fetch_source sqlite3 "$SQLITE_DEB")
  log "building SQLite (amalgamation, mingw64, thread-safe)"
  # The amalgamation is generated natively (it needs tclsh); a configure
  # --host=mingw32 would build a UNIX-flavoured library.
  mkdir -p "$WORK/bld-sqlite"
  ( cd "$WORK/bld-sqlite" && "$src/configure" --disable-tcl >/dev/null && make sqlite3.c >/dev/null 2>&1 )
  local b="$WORK/bld-sqlite"
  x86_64-w64-mingw32-gcc -O2 -c "$b/sqlite3.c" -o "$b/sqlite3.o" \
    -DSQLITE_THREADSAFE=1 -DSQLITE_DEFAULT_WAL_SYNCHRONOUS=1 \
    -DSQLITE_DQS=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_DEFAULT_FOREIGN_KEYS=1
  mkdir -p "$STAGE/lib" "$STAGE/include"
  x86_64-w64-mingw32-ar rcs "$STAGE/lib/libsqlite3.a" "$b/sqlite3.o"
  cp "$b/sqlite3.h" "$b/sqlite3ext.h" "$STAGE/include/" 2>/dev/null \
    || cp "$b/sqlite3.h" "$STAGE/include/"
}

build_windows_deps() {
  if [ -f "$DEPS_PREFIX/.complete" ]; then return 0; fi
  ensure_deb_src
  WORK=$(mktemp -d "${TLSROUTER_CACHE}/work.XXXXXX")
  STAGE="$WORK/prefix"
  trap 'rm -rf "$WORK"' EXIT
  mkdir -p "$STAGE"
  local t0=$SECONDS
  build_openssl
  build_cares
  build_sqlite
  build_cmocka
  printf 'openssl %s\nc-ares %s\nsqlite3 %s\ncmocka %s\n' \
    "$OPENSSL_DEB" "$CARES_DEB" "$SQLITE_DEB" "$CMOCKA_DEB" > "$STAGE/VERSIONS"
  touch "$STAGE/.complete"
  rm -rf "$DEPS_PREFIX"
  mv "$STAGE" "$DEPS_PREFIX"
  # Older prefixes (other versions or script hashes) are dead weight.
  find "$TLSROUTER_CACHE" -maxdepth 1 -name 'deps-*' ! -path "$DEPS_PREFIX" -exec rm -rf {} +
  log "Windows dependencies built in $((SECONDS - t0)) s into $DEPS_PREFIX"
}

mkdir -p "$TLSROUTER_CACHE"
build_windows_deps
