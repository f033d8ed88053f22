# Sourced by the build and test scripts: where the cached dependencies and
# the Wine template live. Nothing here touches the machine.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TLSROUTER_CACHE=${TLSROUTER_CACHE:-/var/cache/tlsrouter}

# Debian source versions of the Windows dependencies. Each has a .dsc in the
# main archive, so `apt-get source` exits cleanly.
OPENSSL_DEB=3.0.20-1~deb12u2
CARES_DEB=1.18.1-3
SQLITE_DEB=3.40.1-2+deb12u2
CMOCKA_DEB=1.1.5-2.1

# The prefix is keyed on the versions and on the scripts that build it, so a
# change to either rebuilds, and nothing else does.
_deps_key=$( { printf '%s %s %s %s\n' "$OPENSSL_DEB" "$CARES_DEB" "$SQLITE_DEB" "$CMOCKA_DEB";
               cat "$ROOT/scripts/build-windows-deps.sh" "$ROOT/cmake/mingw-w64-x86_64.cmake"; } \
             | sha256sum | cut -c1-16)
DEPS_PREFIX="$TLSROUTER_CACHE/deps-$_deps_key"
WINE_TEMPLATE="$TLSROUTER_CACHE/wine-template"

export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
export TLSROUTER_CACHE DEPS_PREFIX WINE_TEMPLATE
