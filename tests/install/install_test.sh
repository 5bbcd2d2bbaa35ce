#!/usr/bin/env bash
# cmake --install into a fresh prefix, then a small program compiled against the installed
# library through pkg-config, and the installed CLI, both run from there.
# Usage: install_test.sh BUILD_DIR SOURCE_FILE [EXTRA_CXXFLAGS...]
set -euo pipefail
build=$1 source=$2
shift 2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" > /dev/null
libdir=$(dirname "$(find "$prefix" -name byoml.pc)")/..
export PKG_CONFIG_PATH="$libdir/pkgconfig"
test "$(pkg-config --modversion byoml)" != ""
# shellcheck disable=SC2046
g++ "$@" "$source" -o "$prefix/hello" $(pkg-config --cflags --libs byoml) -Wl,-rpath,"$libdir"
"$prefix/hello"
"$prefix/bin/byoml" --version
