#!/usr/bin/env bash
# Benchmark: `pklscan load`, in the jail and with --no-sandbox, on
#  - the demo checkpoint (what the jail costs per file: fork, filter, reply);
#  - 30 million NONE/POP opcodes (the interpreter's speed);
#  - 1 million small ints in a list (values, memory, JSON output);
#  - a 1 GiB pickle of four 256 MiB BINBYTES8 blobs (never copied: written as
#    size and SHA-256; the time is the hashing).
# Prints medians of RUNS runs and the peak RSS.
# Usage: tests/bench/bench_load.sh [PKLSCAN] [WORKDIR]   (RUNS=5 by default)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$here/build/release/pklscan}
work=${2:-${TMPDIR:-/tmp}/pklscan-bench}
runs=${RUNS:-5}
. "$here/tests/bench/common.sh"
ensure_release
mkdir -p "$work"

ops=$work/none_pop_30m.pkl
ints=$work/ints_1m.pkl
big=$work/blobs_1g.pkl
# repeat TEXT N: TEXT N times (yes | head ends yes by SIGPIPE: not a failure)
repeat() { (set +o pipefail; yes "$1" | head -n "$2" | tr -d '\n'); }
if [ ! -f "$ops" ]; then
    { printf '\200\004'; repeat N0 30000000; printf 'N.'; } >"$ops.tmp"
    mv "$ops.tmp" "$ops"
fi
if [ ! -f "$ints" ]; then
    { printf '\200\004]('; repeat 'K*' 1000000; printf 'e.'; } >"$ints.tmp"
    mv "$ints.tmp" "$ints"
fi
make_blobs_1g "$big"

printf '%-34s %12s %12s\n' "input" "median (ms)" "peak RSS (KiB)"
row() { # label, args...
    local label=$1
    shift
    read -r ms rss < <(measure "$bin" load "$@")
    printf '%-34s %12s %12s\n' "$label" "$ms" "$rss"
}
row "demo checkpoint, jail" "$here/corpus/demo/checkpoint.pkl"
row "demo checkpoint, --no-sandbox" --no-sandbox "$here/corpus/demo/checkpoint.pkl"
row "30M NONE/POP opcodes, jail" "$ops"
row "1M ints in a list, jail" "$ints"
row "1M ints in a list, --no-sandbox" --no-sandbox "$ints"
row "1 GiB of BINBYTES8 blobs, jail" "$big"
read -r ms _ < <(measure cat "$big")
printf '%-34s %12s\n' "cat of the 1 GiB file" "$ms"
