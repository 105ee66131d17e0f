#!/usr/bin/env python3
"""Writes corpus/containers/: model files in every container format, benign
ones written by the real libraries and tampered or malicious variants for
every case of THREATS.md section 7.

Benign (Debian 12's libraries): torch.save in the zip and legacy formats
(state_dict, whole model, training checkpoint, sparse and quantized tensors),
numpy save/savez/savez_compressed (object arrays, structured dtypes holding
objects), joblib.dump with every compressor, pandas to_pickle with every
compression, a 7z (bsdtar) and a torch<0.4-style tar.

Malicious and tampered: built by rewriting those files and by assembling a
payload opcode by opcode - os.system('echo pklscan-test'), inert - never
loaded. Each entry of corpus/containers/manifest.jsonl gives the expected
verdict and the member that must be reported (checked by test_corpus).

Needs python3-torch, -numpy, -pandas, -joblib, python3-lz4, and the bsdtar
and zstd commands. Run: /usr/bin/python3 corpus/generate/gen_containers.py
"""
import bz2
import gzip
import io
import json
import lzma
import os
import pickle
import struct
import subprocess
import sys
import tarfile
import tempfile
import warnings
import zipfile
import zlib

warnings.filterwarnings("ignore")
OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "containers")
SAMPLES = []
PAYLOAD = (b"\x80\x02cos\nsystem\nX" + struct.pack("<I", 17) + b"echo pklscan-test" + b"\x85R.")


def add(rel, data, expect, member, family, note, names=()):
    path = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    SAMPLES.append({"file": rel, "expect": expect, "member": member, "names": list(names),
                    "family": family, "note": note})


def torch_bytes(obj, zipped=True):
    import torch
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=zipped)
    return buf.getvalue()


def rezip(data, edit, compression=zipfile.ZIP_STORED, force_zip64=False):
    """Rebuilds a zip, passing each (name, bytes) through edit -> list."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        for info in src.infolist():
            for name, content in edit(info.filename, src.read(info.filename)):
                zi = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                zi.compress_type = compression
                with z.open(zi, "w", force_zip64=force_zip64) as w:
                    w.write(content)
    return out.getvalue()


def patch_local_name(data, old, new):
    """Changes a member's name in its local header only."""
    assert len(old) == len(new)
    i = data.index(b"PK\x03\x04")
    while i >= 0:
        nl = struct.unpack_from("<H", data, i + 26)[0]
        if data[i + 30:i + 30 + nl] == old:
            return data[:i + 30] + new + data[i + 30 + nl:]
        i = data.find(b"PK\x03\x04", i + 4)
    raise ValueError(old)


def patch_cd(data, name, fn):
    """Applies fn(bytearray, offset of the central directory entry)."""
    b = bytearray(data)
    i = b.find(b"PK\x01\x02")
    while i >= 0:
        nl = struct.unpack_from("<H", b, i + 28)[0]
        if bytes(b[i + 46:i + 46 + nl]) == name:
            fn(b, i)
            return bytes(b)
        i = b.find(b"PK\x01\x02", i + 4)
    raise ValueError(name)


def insert_before_cd(data, extra):
    """Inserts bytes between the last member and the central directory."""
    e = data.rindex(b"PK\x05\x06")
    cd = struct.unpack_from("<I", data, e + 16)[0]
    out = bytearray(data[:cd] + extra + data[cd:])
    e += len(extra)
    struct.pack_into("<I", out, e + 16, cd + len(extra))
    return bytes(out)


def benign():
    import joblib
    import numpy as np
    import pandas as pd
    import torch
    import torch.nn as nn
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.ones(1, 4)).sum().backward()
    opt.step()
    ckpt = {"epoch": 2, "model": model.state_dict(), "optimizer": opt.state_dict(),
            "rng": torch.get_rng_state()}
    fam = "7: real files"
    add("benign/torch_state_dict.pt", torch_bytes(model.state_dict()), "clean", "archive/data.pkl",
        fam, "torch.save(state_dict), zip format")
    add("benign/torch_whole_model.pt", torch_bytes(model), "clean", "archive/data.pkl", fam,
        "torch.save(nn.Sequential), zip format")
    add("benign/torch_checkpoint.ckpt", torch_bytes(ckpt), "clean", "archive/data.pkl", fam,
        "training checkpoint with optimizer and RNG state, zip format")
    add("benign/torch_sparse_quantized.pt", torch_bytes(
        {"sp": torch.ones(3).to_sparse(),
         "q": torch.quantize_per_tensor(torch.ones(2), 0.1, 0, torch.qint8)}), "clean",
        "archive/data.pkl", fam, "sparse and quantized tensors, zip format")
    add("benign/torch_legacy.pt", torch_bytes(ckpt, zipped=False), "clean", None, fam,
        "torch.save(..., _use_new_zipfile_serialization=False): five pickles then storages")
    obj = np.array([1, "two", None], dtype=object)
    buf = io.BytesIO()
    np.save(buf, obj, allow_pickle=True)
    add("benign/numpy_object.npy", buf.getvalue(), "clean", None, fam, "np.save of an object array")
    buf = io.BytesIO()
    np.save(buf, np.zeros(2, dtype=[("a", "i4"), ("b", "O")]), allow_pickle=True)
    add("benign/numpy_struct_object.npy", buf.getvalue(), "clean", None, fam,
        "np.save of a structured dtype holding objects")
    buf = io.BytesIO()
    np.save(buf, np.arange(10))
    add("benign/numpy_plain.npy", buf.getvalue(), "skipped", None, fam,
        "np.save of a plain array: no pickle at all")
    buf = io.BytesIO()
    np.savez(buf, x=np.arange(3), o=obj)
    add("benign/numpy_savez.npz", buf.getvalue(), "clean", "o.npy", fam, "np.savez")
    buf = io.BytesIO()
    np.savez_compressed(buf, x=np.arange(3), o=obj)
    add("benign/numpy_savez_compressed.npz", buf.getvalue(), "clean", "o.npy", fam,
        "np.savez_compressed (deflated members)")
    data = {"a": np.arange(1000, dtype="f8"), "o": obj, "list": [np.zeros((3, 3), "i2")]}
    for comp in (0, 3, "gzip", "bz2", "xz", "lzma", "lz4"):
        buf = io.BytesIO()
        joblib.dump(data, buf, compress=(comp, 3) if isinstance(comp, str) else comp)
        add("benign/joblib_%s.joblib" % comp, buf.getvalue(), "clean", None, fam,
            "joblib.dump(compress=%r): inline arrays after NumpyArrayWrapper" % (comp,))
    df = pd.DataFrame({"a": [1, 2], "b": ["x", None], "t": pd.date_range("2020", periods=2)})
    with tempfile.TemporaryDirectory() as tmp:
        for comp in (None, "gzip", "bz2", "xz", "zip", "tar"):
            p = os.path.join(tmp, "f.pkl")
            df.to_pickle(p, compression=comp)
            with open(p, "rb") as f:
                add("benign/pandas_%s.pkl" % comp, f.read(), "clean", None, fam,
                    "DataFrame.to_pickle(compression=%r)" % comp)
        p = os.path.join(tmp, "f.pkl")
        df.to_pickle(p)
        subprocess.run(["zstd", "-q", "-f", p, "-o", p + ".zst"], check=True)
        with open(p + ".zst", "rb") as f:
            add("benign/pandas_zstd.pkl.zst", f.read(), "clean", None, fam,
                "to_pickle output compressed with the zstd command")
        subprocess.run(["bsdtar", "--format", "7zip", "-cf", os.path.join(tmp, "m.7z"), "-C",
                        tmp, "f.pkl"], check=True)
        with open(os.path.join(tmp, "m.7z"), "rb") as f:
            add("benign/pickle_in.7z", f.read(), "clean", "f.pkl", fam, "a pickle in a 7z archive")
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as t:
        for name, content in (("sys_info", pickle.dumps({"protocol_version": 1001}, 2)),
                              ("pickle", pickle.dumps({"epoch": 1, "note": "legacy"}, 2)),
                              ("storages", pickle.dumps(0, 2)), ("tensors", pickle.dumps(0, 2))):
            ti = tarfile.TarInfo(name)
            ti.size = len(content)
            t.addfile(ti, io.BytesIO(content))
    add("benign/torch_tar_legacy.tar", tar.getvalue(), "clean", "pickle", fam,
        "tar in the layout of torch<0.4 (sys_info, pickle, storages, tensors)")
    return model, ckpt


def malicious(model, ckpt):
    sd = torch_bytes(model.state_dict())
    fam = "7: tampered and malicious containers"

    def swap(name, content):
        return [(name, PAYLOAD if name.endswith("data.pkl") else content)]
    add("malicious/torch_zip_payload.pt", rezip(sd, swap), "malicious", "archive/data.pkl", fam,
        "data.pkl replaced by os.system", ["os.system"])
    add("malicious/torch_zip_deflated_payload.pt", rezip(sd, swap, zipfile.ZIP_DEFLATED),
        "malicious", "archive/data.pkl", fam, "deflated members, payload in data.pkl", ["os.system"])
    add("malicious/torch_zip_zip64_payload.pt", rezip(sd, swap, force_zip64=True), "malicious",
        "archive/data.pkl", fam, "ZIP64 records, payload in data.pkl", ["os.system"])
    add("malicious/torch_zip_odd_member_name.pt",
        rezip(sd, lambda n, c: [(n, c)] + ([("archive/weights.bin", PAYLOAD)] if n.endswith("data.pkl") else [])),
        "malicious", "archive/weights.bin", fam, "an extra pickle under a non-standard name",
        ["os.system"])
    add("malicious/torch_zip_duplicate_names.pt",
        rezip(sd, lambda n, c: ([(n, PAYLOAD)] if n.endswith("data.pkl") else []) + [(n, c)]),
        "malicious", "archive/data.pkl", fam, "two data.pkl members: the payload first",
        ["os.system"])
    add("malicious/torch_zip_corrupt_before_data.pt",
        rezip(sd, lambda n, c: ([("archive/aaa.pkl", b"\x80\x02\xff\xff")] if n.endswith("data.pkl") else []) + [(n, PAYLOAD if n.endswith("data.pkl") else c)]),
        "malicious", "archive/data.pkl", fam, "a corrupt member before a malicious data.pkl",
        ["os.system"])
    inner = rezip(sd, swap)
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w") as z:
        z.writestr("model/inner.pt", inner)
    add("malicious/zip_in_zip.zip", outer.getvalue(), "malicious", "model/inner.pt!archive/data.pkl",
        fam, "a malicious torch zip inside a zip", ["os.system"])
    legacy = torch_bytes(ckpt, zipped=False)
    add("malicious/legacy_payload_first.pt", PAYLOAD + legacy, "malicious", None, fam,
        "a payload pickle before the legacy magic number", ["os.system"])
    add("malicious/polyglot_pickle_zip.pt", PAYLOAD + sd, "malicious", None, fam,
        "a malicious pickle at offset 0 that is also a valid torch zip", ["os.system"])
    hdr = b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    hdr += b" " * (63 - len(hdr) % 64) + b"\n"
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr + PAYLOAD
    add("malicious/numpy_object_payload.npy", npy, "malicious", None, fam,
        "an object .npy whose pickle is os.system", ["os.system"])
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("x.npy", npy)
    add("malicious/numpy_payload.npz", z.getvalue(), "malicious", "x.npy", fam,
        "the same .npy inside an npz", ["os.system"])
    for name, data in (("gzip", gzip.compress(PAYLOAD)), ("bz2", bz2.compress(PAYLOAD)),
                       ("xz", lzma.compress(PAYLOAD)), ("zlib", zlib.compress(PAYLOAD)),
                       ("lzma", lzma.compress(PAYLOAD, format=lzma.FORMAT_ALONE))):
        add("malicious/compressed_payload.%s" % name, data, "malicious", name, fam,
            "%s-compressed payload" % name, ["os.system"])
    # tampering with a benign checkpoint: suspicious
    fam = "7: tampering"
    add("tampered/name_mismatch.pt",
        patch_local_name(sd, b"archive/data.pkl", b"archive/data.pkX"), "suspicious",
        "archive/data.pkl", fam, "local header name differs from the central directory")

    def flags(b, i):
        struct.pack_into("<H", b, i + 8, struct.unpack_from("<H", b, i + 8)[0] | 0x0040)
    add("tampered/odd_flags.pt", patch_cd(sd, b"archive/data.pkl", flags), "suspicious",
        "archive/data.pkl", fam, "strong-encryption flag bit in the central directory")

    def crc(b, i):
        struct.pack_into("<I", b, i + 16, struct.unpack_from("<I", b, i + 16)[0] ^ 1)
    add("tampered/bad_crc.pt", patch_cd(sd, b"archive/data.pkl", crc), "suspicious",
        "archive/data.pkl", fam, "the CRC of data.pkl does not match")
    add("tampered/hidden_bytes.pt", insert_before_cd(sd, b"\x00" * 100), "suspicious", None, fam,
        "100 bytes between the last member and the central directory")
    hidden = b"PK\x03\x04" + struct.pack("<HHHHHIIIHH", 20, 0, 0, 0, 0, zlib.crc32(PAYLOAD),
                                         len(PAYLOAD), len(PAYLOAD), 10, 0) + b"hidden.pkl" + PAYLOAD
    cd_at = struct.unpack_from("<I", sd, sd.rindex(b"PK\x05\x06") + 16)[0]
    add("malicious/unlisted_payload.pt", insert_before_cd(sd, hidden), "malicious",
        "unlisted@%d:hidden.pkl" % cd_at, fam,
        "a local header with a pickle that the central directory does not list: torch never "
        "reads it, a streaming zip reader would; its content is scanned", ["os.system"])

    def method(b, i):
        struct.pack_into("<H", b, i + 10, 12)
    add("tampered/unsupported_method.pt", patch_cd(sd, b"archive/data.pkl", method), "suspicious",
        "archive/data.pkl", fam, "data.pkl claims bzip2, which torch cannot read")

    def encrypt(b, i):
        struct.pack_into("<H", b, i + 8, struct.unpack_from("<H", b, i + 8)[0] | 0x0001)
    add("tampered/encrypted_member.pt", patch_cd(sd, b"archive/data.pkl", encrypt), "suspicious",
        "archive/data.pkl", fam, "data.pkl flagged as encrypted: cannot be scanned")
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.bin", b"\x00" * (64 << 20))
    add("tampered/zip_bomb_64m.zip", z.getvalue(), "skipped", None, fam,
        "64 MiB of zeros in one deflated member: under the default cap, no pickle (tests lower "
        "the cap to see the bomb reported)")


def main():
    import torch  # noqa: F401  (torch_bytes needs it at module level)
    globals()["torch"] = torch
    os.makedirs(OUT, exist_ok=True)
    model, ckpt = benign()
    malicious(model, ckpt)
    with open(os.path.join(OUT, "manifest.jsonl"), "w") as f:
        for s in sorted(SAMPLES, key=lambda s: s["file"]):
            f.write(json.dumps(s) + "\n")
    print("wrote %d container samples to %s" % (len(SAMPLES), OUT))


if __name__ == "__main__":
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable] + sys.argv)
    main()
