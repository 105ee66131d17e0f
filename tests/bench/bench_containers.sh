#!/usr/bin/env bash
# Benchmark: containers. Prints medians of RUNS runs (default 5), warm cache:
#   - a 1 GiB PyTorch zip checkpoint (data.pkl + one 1 GiB stored storage):
#     only the directory and the pickle member should be read
#   - a 1 GiB uncompressed joblib file of arrays: time should follow its
#     opcodes, not its bytes
#   - a gzip'd 256 MiB pickle, against `gzip -dc` of the same file
#   - pathological: a zip of 100,000 members (the member limit), a 10 GiB
#     sparse file
# Needs /usr/bin/python3 with python3-torch, -numpy, -joblib to write inputs.
# Usage: tests/bench/bench_containers.sh [PKLSCAN] [WORKDIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$here/build/release/pklscan}
work=${2:-${TMPDIR:-/tmp}/pklscan-bench}
runs=${RUNS:-5}
. "$here/tests/bench/common.sh"
ensure_release
mkdir -p "$work"
/usr/bin/python3 - "$work" <<'PY'
import gzip, io, os, pickle, sys, zipfile
w = sys.argv[1]
GiB = 1 << 30
p = os.path.join(w, "torch_1g.pt")
if not os.path.exists(p) or os.path.getsize(p) < GiB:
    import torch
    buf = io.BytesIO()
    torch.save({"w": torch.zeros(4)}, buf)
    small = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    pkl = small.read([n for n in small.namelist() if n.endswith("data.pkl")][0])
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/byteorder", "little")
        with z.open("archive/data/0", "w", force_zip64=True) as f:
            zero = bytes(1 << 24)
            for _ in range(64):
                f.write(zero)
p = os.path.join(w, "joblib_1g.joblib")
if not os.path.exists(p) or os.path.getsize(p) < GiB:
    import joblib, numpy as np
    joblib.dump({"a": np.zeros(1 << 26), "b": np.ones(1 << 26, dtype="f4"),
                 "c": [np.arange(1 << 24, dtype="i8") for _ in range(4)]}, p)
p = os.path.join(w, "members_100k.zip")
if not os.path.exists(p):
    with zipfile.ZipFile(p, "w") as z:
        for i in range(100000):
            z.writestr("m/%06d.pkl" % i, b"\x80\x02N.")
p = os.path.join(w, "sparse_10g.bin")
if not os.path.exists(p):
    with open(p, "wb") as f:
        f.truncate(10 << 30)
p = os.path.join(w, "pickle_256m.pkl.gz")
if not os.path.exists(p):
    with gzip.open(p, "wb", compresslevel=1) as f:
        f.write(pickle.dumps([bytes(1 << 20) for _ in range(256)], protocol=4))
PY
for f in torch_1g.pt joblib_1g.joblib pickle_256m.pkl.gz members_100k.zip; do cat "$work/$f" >/dev/null; done
echo "pklscan container benchmark ($runs runs each, medians, warm page cache)"
printf '  %-48s %10s %15s  %s\n' "input" "time (ms)" "peak RSS (KiB)" "verdict"
row() { # label, file
    read -r ms rss < <(measure "$bin" --no-summary "$work/$2")
    v=$("$bin" --no-summary "$work/$2" 2>/dev/null | head -n 1 | sed 's/^[^:]*: //' | cut -c1-40 || true)
    printf '  %-48s %10s %15s  %s\n' "$1" "$ms" "$rss" "$v"
}
row "1 GiB torch zip checkpoint" torch_1g.pt
row "1 GiB joblib file of arrays (uncompressed)" joblib_1g.joblib
row "gzip'd 256 MiB pickle (pklscan)" pickle_256m.pkl.gz
row "zip of 100,000 one-pickle members" members_100k.zip
row "10 GiB sparse file of zeros" sparse_10g.bin
read -r gz_ms gz_rss < <(measure sh -c "gzip -dc '$work/pickle_256m.pkl.gz' >/dev/null")
printf '  %-48s %10s %15s\n' "gzip'd 256 MiB pickle (gzip -dc, reference)" "$gz_ms" "$gz_rss"
