#!/usr/bin/env bash
# Installs the Debian packages byoml builds and tests with (`install-deps.sh fuzz` adds clang and
# libFuzzer for `make fuzz`). Idempotent: asks apt only for what is missing, so a machine that
# has everything does no network I/O at all.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libsimdjson-dev libevtx-dev libbfio-dev libpugixml-dev libcsv-dev libxxhash-dev
  libfmt-dev libcli11-dev libyaml-cpp-dev nlohmann-json3-dev
  libsqlite3-dev libeigen3-dev libssl-dev libcurl4-openssl-dev zlib1g-dev librdkafka-dev
  libcpp-httplib-dev openssl  # the tests' local cloud servers, and a certificate for HTTPS Azurite
  libgtest-dev libgmock-dev libbenchmark-dev
  chromium  # headless, for the report test
)
# The report's charting library comes from npm (web/package-lock.json). Keep a Node.js that is
# already there (it may not be Debian's); otherwise take Debian's.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
[ "${1:-}" = fuzz ] && packages+=(clang libclang-rt-14-dev)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "byoml: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
