#!/usr/bin/env bash
# Builds pklscan three ways and runs the whole test suite on each:
#   build/test   warnings as errors, the normal unit and corpus tests
#   build/asan   the same tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   build/fuzz   clang + libFuzzer: each fuzz target (fuzz_dis, fuzz_scan, fuzz_load) runs
#                PKS_FUZZ_SECONDS (default 60)
#                from the corpus seeds; any crash fails the run
# Installs missing Debian packages first (./setup.sh --deps-only).
set -uo pipefail
cd "$(dirname "$0")"
./setup.sh --deps-only || exit 1

jobs=$(nproc)
fuzz_seconds=${PKS_FUZZ_SECONDS:-60}
passed=0
failed=0
suite() { # name, command...
    local name=$1
    shift
    echo "=== $name"
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "=== $name FAILED"; fi
}

build() { # dir, cmake args...
    local dir=$1
    shift
    cmake -S . -B "$dir" -DPKS_WERROR=ON "$@" >/dev/null && cmake --build "$dir" -j"$jobs" >/dev/null
}

run_fuzzers() {
    local seeds
    seeds=$(mktemp -d)
    local f
    for f in corpus/differential/pickles/*.pkl corpus/golden/*/*.pkl corpus/regress/*.* \
        corpus/demo/*.pkl corpus/containers/*/*.* corpus/modern/benign/*/*; do
        cp "$f" "$seeds/$(echo "$f" | tr / _)"
    done
    local ok=0
    for f in build/fuzz/tests/fuzz/fuzz_*; do
        [ -x "$f" ] || continue
        local work
        work=$(mktemp -d)
        echo "fuzzing $(basename "$f") for ${fuzz_seconds}s"
        "$f" -max_total_time="$fuzz_seconds" -max_len=65536 -rss_limit_mb=2048 \
            -dict=tests/fuzz/pickle.dict -print_final_stats=1 \
            -artifact_prefix="$work/" "$work" "$seeds" 2>&1 | tail -n 3 || ok=1
        if ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* >/dev/null 2>&1; then
            echo "fuzzer findings kept in $work"
            ok=1
        fi
    done
    rm -rf "$seeds"
    return $ok
}

suite "build (warnings as errors)" build build/test -DCMAKE_BUILD_TYPE=Debug
suite "unit and corpus tests" ctest --test-dir build/test --output-on-failure -j"$jobs"
suite "build (ASan+UBSan)" build build/asan -DCMAKE_BUILD_TYPE=Debug -DPKS_SANITIZE=ON
suite "tests under ASan+UBSan" env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build/asan --output-on-failure -j"$jobs"
suite "build (clang libFuzzer)" build build/fuzz -DCMAKE_C_COMPILER=clang -DPKS_FUZZ=ON \
    -DPKS_TESTS=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
suite "fuzz smoke run" run_fuzzers

echo
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
