#!/usr/bin/env bash
# Benchmark: `pklscan dis` on a 1 GiB pickle whose bulk is four 256 MiB
# BINBYTES8 blobs. pklscan maps the file and skips each blob by its length, so
# time and peak RSS should not grow with the blobs: compare with reading the
# file once (cat) and with a 1 KiB pickle. Prints medians of RUNS runs.
# Usage: tests/bench/bench_dis.sh [PKLSCAN] [WORKDIR]   (RUNS=7 by default)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$here/build/release/pklscan}
work=${2:-${TMPDIR:-/tmp}/pklscan-bench}
runs=${RUNS:-7}
. "$here/tests/bench/common.sh"
ensure_release
mkdir -p "$work"
big=$work/blobs_1g.pkl
small=$work/small.pkl

make_blobs_1g "$big"
printf '\200\004]\224(K\001K\002\214\003abc\224C\003xyze.' >"$small"

cat "$big" >/dev/null # warm the page cache
read -r cat_ms cat_rss < <(measure cat "$big")
read -r dis_ms dis_rss < <(measure "$bin" dis "$big")
read -r small_ms small_rss < <(measure "$bin" dis "$small")
ops=$("$bin" dis "$big" | grep -c '^ *[0-9]*:')

echo "pklscan dis benchmark ($runs runs each, medians, warm page cache)"
printf '  %-40s %12s %14s\n' "input" "time (ms)" "peak RSS (KiB)"
printf '  %-40s %12s %14s\n' "1 GiB, 4 BINBYTES8 blobs, $ops opcodes" "$dis_ms" "$dis_rss"
printf '  %-40s %12s %14s\n' "1 KiB control pickle" "$small_ms" "$small_rss"
printf '  %-40s %12s %14s\n' "cat of the 1 GiB file (reads it all)" "$cat_ms" "$cat_rss"
awk -v a="$cat_ms" -v b="$dis_ms" -v r="$dis_rss" -v s="$small_rss" 'BEGIN {
    printf "  dis of 1 GiB: %.1fx faster than reading the file once; RSS %+d KiB over the 1 KiB pickle\n", a / b, r - s }'
