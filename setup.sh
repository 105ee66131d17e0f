#!/usr/bin/env bash
# Quick start on Debian 12: installs the Debian packages pklscan needs (only
# the missing ones), builds a release pklscan in build/release, and runs it on
# the bundled demo in corpus/demo. `./setup.sh --deps-only` stops after the
# packages (test.sh uses that).
set -euo pipefail
cd "$(dirname "$0")"

# Build tools, the libraries pklscan links (YARA, cJSON, the decompressors,
# libarchive, libseccomp), the test framework, and clang with its libFuzzer
# runtime for the fuzzing build.
PACKAGES=(build-essential cmake pkg-config libseccomp-dev libyara-dev libcjson-dev
          zlib1g-dev libbz2-dev liblzma-dev libzstd-dev liblz4-dev libarchive-dev
          libcmocka-dev clang libclang-rt-14-dev time)

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
[ "${1:-}" = "--deps-only" ] && exit 0

cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DPKS_TESTS=OFF >/dev/null
cmake --build build/release -j"$(nproc)"
echo
echo "setup: built build/release/pklscan; scanning corpus/demo (one clean file, one malicious):"
echo
build/release/pklscan -v corpus/demo || [ $? -eq 1 ]  # exit 1: the malicious demo was found
