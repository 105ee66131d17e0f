#!/usr/bin/python3
"""Which benign corpus files torch.load(weights_only=True) accepts.

First writes corpus/load/torch/*.pt with Debian's torch.save: state dicts of
common layers, every dtype, views with offsets and strides, shared storages,
parameters, 0-d and empty tensors, nested containers, both the zip and the
legacy format; small tensors, a fixed seed.

For every benign file of corpus/libraries, corpus/containers/benign,
corpus/modern/benign and the benign demo, tries Debian's torch.load(path,
weights_only=True) and writes corpus/load/weights_only.tsv: path, accepted
or rejected, and the number of distinct tensors torch loaded or the first
line of its reason. tests/test_loader.c checks that `pklscan load` loads
every accepted file without refusing anything, with as many tensors: pklscan must never be stricter than torch's own safe loader.
TorchScript archives are listed as such: torch.load passes them to
torch.jit.load, which runs compiled code and is not a weights-only load.

Only the benign corpus is loaded here; never run this on untrusted files.
Usage: /usr/bin/python3 corpus/generate/gen_weights_only.py
(needs python3-torch: apt-get install python3-torch)
"""
import glob
import os
import sys
import warnings
import zipfile

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def checkpoints():
    import collections
    import torch.nn as nn
    torch.manual_seed(0)
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    lstm = nn.LSTM(3, 4)
    items = {
        "linear_state": nn.Linear(3, 2).state_dict(),
        "conv_bn_state": nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)).state_dict(),
        "lstm_state": lstm.state_dict(),
        "dtypes": {str(dt): torch.zeros(2, dtype=dt) for dt in (
            torch.float16, torch.bfloat16, torch.float64, torch.int8, torch.uint8,
            torch.int16, torch.int32, torch.int64, torch.bool, torch.complex64)},
        "views": {"t": base.t(), "row": base[1], "col": base[:, 2], "slice": base[1:3, 2:5],
                  "base": base},
        "shared": [base, base, base.view(6, 4)],
        "scalars_and_empty": {"zero_d": torch.tensor(3.5), "empty": torch.zeros(0, 3),
                              "long_scalar": torch.tensor(7)},
        "parameters": {"w": nn.Parameter(torch.ones(2, 2)),
                       "frozen": nn.Parameter(torch.ones(2), requires_grad=False)},
        "training_checkpoint": {"epoch": 3, "step": 1200, "lr": 1e-3,
                                "model": nn.Linear(2, 2).state_dict(),
                                "history": [0.5, 0.25], "name": "run-1", "done": False,
                                "best": None, "shape": (2, 2),
                                "order": collections.OrderedDict(a=1, b=2)},
    }
    out = os.path.join(ROOT, "corpus", "load", "torch")
    os.makedirs(out, exist_ok=True)
    for name, obj in items.items():
        torch.save(obj, os.path.join(out, name + ".pt"))
    torch.save(items["linear_state"], os.path.join(out, "linear_state_legacy.pt"),
               _use_new_zipfile_serialization=False)
    torch.save(items["views"], os.path.join(out, "views_legacy.pt"),
               _use_new_zipfile_serialization=False)


def count_tensors(obj, seen):
    if isinstance(obj, torch.Tensor):
        if id(obj) not in seen:
            seen.add(id(obj))
        return
    if isinstance(obj, dict):
        for v in obj.values():
            count_tensors(v, seen)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            count_tensors(v, seen)


def benign_files():
    pats = ["corpus/load/torch/*", "corpus/libraries/*/*", "corpus/containers/benign/*",
            "corpus/modern/benign/*/*", "corpus/demo/checkpoint.pkl"]
    for pat in pats:
        for path in sorted(glob.glob(os.path.join(ROOT, pat))):
            if os.path.isfile(path) and not path.endswith((".md", ".jsonl")):
                yield os.path.relpath(path, ROOT)


def main():
    warnings.simplefilter("ignore")
    checkpoints()
    out = os.path.join(ROOT, "corpus", "load")
    os.makedirs(out, exist_ok=True)
    rows = []
    for rel in benign_files():
        path = os.path.join(ROOT, rel)
        if zipfile.is_zipfile(path) and any(
                n.endswith("/constants.pkl") for n in zipfile.ZipFile(path).namelist()):
            # torch.load hands TorchScript archives to torch.jit.load: the
            # weights-only unpickler never sees them, so they prove nothing here
            rows.append((rel, "torchscript", "loaded by torch.jit.load, not the weights-only unpickler"))
            continue
        try:
            obj = torch.load(os.path.join(ROOT, rel), map_location="cpu", weights_only=True)
            seen = set()
            count_tensors(obj, seen)
            rows.append((rel, "accepted", f"{len(seen)} tensors"))
        except Exception as e:  # torch raises many kinds for files it will not load
            reason = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
            rows.append((rel, "rejected", reason.replace("\t", " ")))
    with open(os.path.join(out, "weights_only.tsv"), "w", encoding="utf-8") as f:
        f.write(f"# torch {torch.__version__}: torch.load(path, weights_only=True) on the benign corpus\n")
        for row in rows:
            f.write("\t".join(row) + "\n")
    n = sum(1 for r in rows if r[1] == "accepted")
    print(f"{n} of {len(rows)} files accepted by weights_only", file=sys.stderr)


if __name__ == "__main__":
    main()
