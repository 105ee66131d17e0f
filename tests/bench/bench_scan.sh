#!/usr/bin/env bash
# Benchmark: `pklscan` scans. Prints medians of RUNS runs (default 7) of
# wall time and the peak RSS, with a warm page cache, for:
#   - a 1 GiB raw pickle whose bulk is four 256 MiB BINBYTES8 blobs
#     (text report; and JSON with the SHA-256 of the whole file)
#   - pathological inputs: a million MARKs, a million memoized strings,
#     a million memoized tuples, billion-laughs style memo references,
#     a million calls, a million nested lists, a 64 MiB text line, and
#     all of these in one stream
# Needs python3 to write the inputs (standard library only).
# Usage: tests/bench/bench_scan.sh [PKLSCAN] [WORKDIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$here/build/release/pklscan}
work=${2:-${TMPDIR:-/tmp}/pklscan-bench}
runs=${RUNS:-7}
. "$here/tests/bench/common.sh"
ensure_release
mkdir -p "$work"

python3 - "$work" <<'PY'
import os, struct, sys
w = sys.argv[1]
def write(name, data):
    p = os.path.join(w, name)
    if not os.path.exists(p) or os.path.getsize(p) != len(data):
        with open(p, "wb") as f:
            f.write(data)
big = os.path.join(w, "blobs_1g.pkl")
if not os.path.exists(big) or os.path.getsize(big) != 1073741848:
    with open(big, "wb") as f:
        f.write(b"\x80\x04](")
        zero = bytes(1 << 24)
        for _ in range(4):
            f.write(b"\x8e" + struct.pack("<Q", 1 << 28))
            for _ in range(16):
                f.write(zero)
        f.write(b"e.")
n = 1000000
def batched(items, size=1000):
    # APPENDS in batches of 1000 after one MARK each, as CPython's pickler does
    out = []
    for i in range(0, len(items), size):
        out.append(b"(" + b"".join(items[i:i + size]) + b"e")
    return b"".join(out)
write("marks_1m.pkl", b"\x80\x02" + b"(" * n + b".")
write("memo_strings_1m.pkl", b"\x80\x04]\x94" + batched(
    [b"\x8c" + bytes([len(s)]) + s + b"\x94" for s in (b"s%d" % i for i in range(n))]) + b".")
write("memo_tuples_1m.pkl", b"\x80\x04]\x94" + batched([b"K\x01K\x02\x86\x94"] * n) + b".")
write("laughs.pkl", b"\x80\x02]q\x00" + b"(h\x00h\x00h\x00h\x00h\x00h\x00h\x00h\x00lq\x00" * 200000 + b".")
write("calls_1m.pkl", b"\x80\x02]q\x00c__builtin__\nset\nq\x010" + batched([b"h\x01)R"] * n) + b".")
write("text_line_64m.pkl", b"V" + b"\\u0041" * ((64 << 20) // 6) + b"\n.")
# everything at once: a million memo entries, tuples past the heap budget,
# a deep stack, a long text line near the limit, many globals and calls
mix = [b"\x80\x02]q\x00"]
mix.append(batched([b"\x8c\x02ab\x94"] * 500000))
mix.append(batched([b"K\x01K\x02\x86\x94"] * 300000))
mix.append(b"c__builtin__\nset\nq\x010" + batched([b"cmod%d\nName%d\n)R" % (i, i) for i in range(30000)]))
mix.append(b"V" + b"x" * ((2 << 20) - 100) + b"\na")
mix.append(b"(" + b"N" * 120000 + b"1.")
write("everything.pkl", b"".join(mix))
write("nested_lists_1m.pkl", b"\x80\x02" + b"]" * n + b"a" * (n - 1) + b".")
PY

cat "$work/blobs_1g.pkl" >/dev/null # warm the page cache
printf 'pklscan scan benchmark (%s runs each, medians, warm page cache)\n' "$runs"
printf '  %-52s %10s %15s  %s\n' "input" "time (ms)" "peak RSS (KiB)" "verdict"
row() { # label, file, extra args...
    local label=$1 file=$2
    shift 2
    read -r ms rss < <(measure "$bin" --no-summary "$@" "$work/$file")
    local verdict
    verdict=$("$bin" --no-summary "$@" "$work/$file" 2>/dev/null | head -n 1 | sed 's/^[^:]*: //' | cut -c1-60 || true)
    printf '  %-52s %10s %15s  %s\n' "$label" "$ms" "$rss" "$verdict"
}
row "1 GiB, 4 BINBYTES8 blobs (text report)" blobs_1g.pkl
row "1 GiB, 4 BINBYTES8 blobs (JSON + SHA-256 of 1 GiB)" blobs_1g.pkl --format json
row "1,000,000 MARKs" marks_1m.pkl
row "1,000,000 memoized strings in a list" memo_strings_1m.pkl
row "1,000,000 memoized tuples in a list" memo_tuples_1m.pkl
row "200,000 lists of 8 memo references (laughs)" laughs.pkl
row "1,000,000 calls of builtins.set" calls_1m.pkl
row "1,000,000 nested lists" nested_lists_1m.pkl
row "a 64 MiB UNICODE text line" text_line_64m.pkl
row "all of the above at once" everything.pkl
