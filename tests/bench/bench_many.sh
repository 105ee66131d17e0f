#!/usr/bin/env bash
# Benchmark: one pklscan invocation over 10,000 small pickles (copies of the
# golden, library and differential corpus samples), pinned to one core with
# taskset. Rules and policies are compiled once per process, so throughput
# is files per second of scanning. Prints medians of RUNS runs (default 5)
# for the text report, for JSON Lines with SHA-256, and for the text report
# with --sandbox (one jailed child per file).
# Usage: tests/bench/bench_many.sh [PKLSCAN] [WORKDIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$here/build/release/pklscan}
work=${2:-${TMPDIR:-/tmp}/pklscan-bench}
runs=${RUNS:-5}
. "$here/tests/bench/common.sh"
ensure_release
dir=$work/many
if [ ! -d "$dir" ] || [ "$(find "$dir" -type f | wc -l)" -ne 10000 ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    mapfile -t src < <(find "$here/corpus/golden" "$here/corpus/libraries" \
        "$here/corpus/differential/pickles" -name '*.pkl' | sort)
    for i in $(seq 0 9999); do
        cp "${src[$((i % ${#src[@]}))]}" "$dir/$(printf '%05d' "$i").pkl"
    done
fi
bytes=$(du -sb "$dir" | cut -f1)
cat "$dir"/* >/dev/null
read -r text_ms text_rss < <(measure taskset -c 0 "$bin" -q --no-summary "$dir")
read -r jsonl_ms jsonl_rss < <(measure taskset -c 0 "$bin" --format jsonl "$dir")
echo "pklscan over 10,000 small pickles ($((bytes / 1024)) KiB), one core, $runs runs, medians"
awk -v t="$text_ms" -v r="$text_rss" 'BEGIN { printf "  text report:          %8.1f ms  %7.0f files/s  peak RSS %d KiB\n", t, 10000000 / t, r }'
awk -v t="$jsonl_ms" -v r="$jsonl_rss" 'BEGIN { printf "  JSON Lines + SHA-256: %8.1f ms  %7.0f files/s  peak RSS %d KiB\n", t, 10000000 / t, r }'
read -r jail_ms jail_rss < <(measure taskset -c 0 "$bin" -q --no-summary --sandbox "$dir")
awk -v t="$jail_ms" -v r="$jail_rss" 'BEGIN { printf "  text, --sandbox:      %8.1f ms  %7.0f files/s  peak RSS %d KiB\n", t, 10000000 / t, r }'
