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
if [ ! -x "$bin" ]; then
    cmake -S "$here" -B "$here/build/release" -DCMAKE_BUILD_TYPE=Release -DPKS_TESTS=OFF >/dev/null
    cmake --build "$here/build/release" -j"$(nproc)" >/dev/null
fi
mkdir -p "$work"
big=$work/blobs_1g.pkl
small=$work/small.pkl

if [ ! -f "$big" ] || [ "$(stat -c %s "$big")" -ne 1073741848 ]; then
    # PROTO 4, EMPTY_LIST, MARK, 4 x BINBYTES8(256 MiB), APPENDS, STOP
    {
        printf '\200\004](' 
        for _ in 1 2 3 4; do
            printf '\216\000\000\000\020\000\000\000\000'
            head -c 268435456 /dev/zero
        done
        printf 'e.'
    } >"$big"
fi
printf '\200\004]\224(K\001K\002\214\003abc\224C\003xyze.' >"$small"

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m}'; }

# Runs "$@" RUNS times; prints "median_ms max_rss_kb".
measure() {
    local times=() rss=0
    for _ in $(seq "$runs"); do
        local t0 t1 r
        t0=$(date +%s%N)
        /usr/bin/time -o "$work/rss" -f '%M' "$@" >/dev/null 2>&1
        r=$(tail -n 1 "$work/rss")
        t1=$(date +%s%N)
        times+=("$(( (t1 - t0) / 1000 ))")
        [ "$r" -gt "$rss" ] && rss=$r
    done
    printf '%s %s\n' "$(printf '%s\n' "${times[@]}" | awk '{print $1/1000}' | median)" "$rss"
}

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
