#!/usr/bin/env python3
"""Writes corpus/demo/, the two files the README's quick start scans.

  checkpoint.pkl      benign: a checkpoint-like dict of standard-library
                      types, written by pickle.dumps (protocol 4)
  os_system_echo.pkl  malicious: os.system('echo pklscan demo'), assembled
                      opcode by opcode (protocol 2); inert, never loaded

Run: /usr/bin/python3 corpus/generate/gen_demo.py
"""
import collections
import datetime
import os
import sys
import pickle

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "demo")


def main():
    os.makedirs(OUT, exist_ok=True)
    demo = {
        "epoch": 3, "step": 1200, "lr": 1e-3, "loss_history": [0.93, 0.51, 0.38],
        "config": collections.OrderedDict(hidden=64, layers=2, activation="relu"),
        "weights": {"layer1": bytes(range(32)), "layer2": bytes(16)},
        "saved_at": datetime.datetime(2026, 11, 26, 12, 0, 0),
    }
    with open(os.path.join(OUT, "checkpoint.pkl"), "wb") as f:
        f.write(pickle.dumps(demo, protocol=4))
    cmd = b"echo pklscan demo"
    payload = (b"\x80\x02" + b"cos\nsystem\n" + b"X" + len(cmd).to_bytes(4, "little") + cmd
               + b"\x85" + b"R" + b".")
    with open(os.path.join(OUT, "os_system_echo.pkl"), "wb") as f:
        f.write(payload)


if __name__ == "__main__":
    # str hashes decide set order in the pickles: fix them for reproducible output
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable] + sys.argv)
    main()
