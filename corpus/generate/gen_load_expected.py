#!/usr/bin/python3
"""Expected output of `pklscan load` for the benign differential corpus and
the benign library corpus.

Really loads each pickle of corpus/differential/pickles with CPython, behind
a find_class that allows exactly what pklscan's shipped allowlists allow
(rules/policy/*-allow.txt, after the Python 2 name mapping below protocol
3), and writes the typed JSON encoding of docs/LOADER.md for it to
corpus/differential/load/NAME.json, or the word REFUSED and the refused
global when find_class refused one. tests/test_loader.c compares pklscan's
restricted loader with these files byte for byte.

Only benign files written by gen_differential.py are loaded here; never run
this on untrusted pickles.

Usage: /usr/bin/python3 corpus/generate/gen_load_expected.py
"""
import base64
import copyreg
import glob
import hashlib
import io
import json
import math
import os
import pickle
import pickletools
import sys
import types
import _compat_pickle

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INLINE_BYTES = 4096

# gen_differential's own classes (Point, Slotted, Color) live in __main__
# there; they are not allowlisted, so find_class refuses them before they are
# needed.


def allowlist():
    allowed = set()
    for path in glob.glob(os.path.join(ROOT, "rules", "policy", "*-allow.txt")):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.split("#", 1)[0].split()
                if len(line) >= 2:
                    allowed.add((line[0], line[1]))
    return allowed


ALLOWED = allowlist()
sys.set_int_max_str_digits(0)


class Refused(Exception):
    pass


class Restricted(pickle._Unpickler):
    """The pure-Python unpickler, so that find_class sees every name."""

    def find_class(self, module, name):
        m, n = module, name
        if self.proto < 3:
            if (m, n) in _compat_pickle.NAME_MAPPING:
                m, n = _compat_pickle.NAME_MAPPING[(m, n)]
            elif m in _compat_pickle.IMPORT_MAPPING:
                m = _compat_pickle.IMPORT_MAPPING[m]
        if (m, n) not in ALLOWED:
            raise Refused(f"{m} {n}")
        return super().find_class(module, name)


def protocol_of(data):
    for op, arg, _ in pickletools.genops(data):
        return arg if op.name == "PROTO" else 0
    return 0


def qualified(obj):
    return f"{obj.__module__}.{obj.__qualname__}"


def id_eligible(v):
    t = type(v)
    if t in (list, dict, set, bytearray, pickle.PickleBuffer):
        return True
    if t in (tuple, frozenset):
        return len(v) > 0
    return not is_plain(v)


def is_plain(v):
    return v is None or type(v) in (bool, int, float, complex, str, bytes) or isinstance(
        v, (type, types.FunctionType, types.BuiltinFunctionType))


class Encoder:
    def __init__(self, proto):
        self.proto = proto
        self.reduced = {}
        self.refs = {}
        self.ids = {}
        self.keep = []

    def reduce(self, v):
        key = id(v)
        if key not in self.reduced:
            reducer = copyreg.dispatch_table.get(type(v))  # as the pickler looks it up
            rv = reducer(v) if reducer else v.__reduce_ex__(self.proto)
            self.keep.append(rv)
            if isinstance(rv, str):
                self.reduced[key] = ("global", f"{v.__class__.__module__}.{rv}")
            else:
                rv = tuple(rv) + (None,) * (5 - len(rv))
                func, args, state, listitems, dictitems = rv
                listitems = list(listitems) if listitems is not None else []
                dictitems = list(dictitems) if dictitems is not None else []
                self.keep.append((listitems, dictitems))
                self.reduced[key] = ("obj", func, args, state, listitems, dictitems)
        return self.reduced[key]

    def children(self, v):
        t = type(v)
        if t in (list, tuple, set, frozenset):
            return list(v)
        if t is dict:
            return [x for kv in v.items() for x in kv]
        if t is bytearray or t is pickle.PickleBuffer or is_plain(v):
            return []
        r = self.reduce(v)
        if r[0] == "global":
            return []
        _, func, args, state, listitems, dictitems = r
        out = list(args[1:] if func is copyreg.__newobj__ else args)
        if state is not None:
            out.append(state)
        out += listitems
        out += [x for kv in dictitems for x in kv]
        return out

    def count(self, root):
        todo = [root]
        while todo:
            v = todo.pop()
            if id_eligible(v):
                n = self.refs.get(id(v), 0)
                self.refs[id(v)] = n + 1
                if n:
                    continue
            todo.extend(self.children(v))
        self.keep.append(root)

    def enc(self, v):
        if id_eligible(v) and self.refs.get(id(v), 0) > 1:
            if id(v) in self.ids:
                return '{"$ref":%d}' % self.ids[id(v)]
            self.ids[id(v)] = len(self.ids) + 1
            return '{"$id":%d,"$value":%s}' % (self.ids[id(v)], self.body(v))
        return self.body(v)

    def seq(self, items):
        return "[" + ",".join(self.enc(x) for x in items) + "]"

    def pairs(self, items):
        return "[" + ",".join("[%s,%s]" % (self.enc(k), self.enc(x)) for k, x in items) + "]"

    def body(self, v):
        t = type(v)
        if v is None:
            return "null"
        if t is bool:
            return "true" if v else "false"
        if t is int:
            return str(v) if -(2**53) <= v <= 2**53 else '{"$int":"%d"}' % v
        if t is float:
            return float_text(v)
        if t is complex:
            return '{"$complex":[%s,%s]}' % (float_text(v.real), float_text(v.imag))
        if t is str:
            return json.dumps(v)
        if t is pickle.PickleBuffer:  # in-band protocol 5 buffers load as bytes/bytearray
            with v.raw() as m:
                ro = m.readonly
                v = bytes(m) if ro else bytearray(m)
            t = type(v)
        if t is bytes or t is bytearray:
            tag = "$bytes" if t is bytes else "$bytearray"
            if len(v) <= INLINE_BYTES:
                return '{"%s":"%s"}' % (tag, base64.b64encode(bytes(v)).decode())
            return '{"%s":null,"size":%d,"sha256":"%s"}' % (tag, len(v),
                                                           hashlib.sha256(v).hexdigest())
        if t is list:
            return self.seq(v)
        if t is tuple:
            return '{"$tuple":%s}' % self.seq(v)
        if t is set or t is frozenset:  # members in the order of their encodings
            members = sorted(v, key=lambda m: Encoder(self.proto).body(m))
            return '{"%s":%s}' % ("$set" if t is set else "$frozenset", self.seq(members))
        if t is dict:
            if all(type(k) is str and not k.startswith("$") for k in v):
                return "{" + ",".join("%s:%s" % (json.dumps(k), self.enc(x))
                                      for k, x in v.items()) + "}"
            return '{"$dict":%s}' % self.pairs(v.items())
        if isinstance(v, (type, types.FunctionType, types.BuiltinFunctionType)):
            return '{"$global":%s}' % json.dumps(qualified(v))
        r = self.reduce(v)
        if r[0] == "global":
            return '{"$global":%s}' % json.dumps(r[1])
        _, func, args, state, listitems, dictitems = r
        if func is copyreg.__newobj__:
            out = '{"$class":%s,"args":%s' % (json.dumps(qualified(args[0])), self.seq(args[1:]))
        else:
            out = '{"$reduce":%s,"args":%s' % (json.dumps(qualified(func)), self.seq(args))
        if state is not None:
            out += ',"state":' + self.enc(state)
        if listitems:
            out += ',"list":' + self.seq(listitems)
        if dictitems:
            out += ',"items":' + self.pairs(dictitems)
        return out + "}"


def float_text(x):
    if math.isnan(x):
        return '{"$float":"nan"}'
    if math.isinf(x):
        return '{"$float":"inf"}' if x > 0 else '{"$float":"-inf"}'
    return repr(x)


def expected(data):
    try:
        value = Restricted(io.BytesIO(data)).load()
    except Refused as e:
        return "REFUSED " + str(e) + "\n"
    except (pickle.UnpicklingError, ValueError) as e:  # out-of-band buffers, bad data
        return "REFUSED " + type(e).__name__ + ": " + str(e) + "\n"
    enc = Encoder(protocol_of(data))
    enc.count(value)
    return enc.enc(value) + "\n"


def write_all(pattern, dst, name_of):
    os.makedirs(dst, exist_ok=True)
    n = 0
    for path in sorted(glob.glob(os.path.join(ROOT, pattern))):
        with open(path, "rb") as f:
            data = f.read()
        with open(os.path.join(dst, name_of(path)), "w", encoding="ascii") as f:
            f.write(expected(data))
        n += 1
    print(f"wrote {n} expected load results to {dst}", file=sys.stderr)


def main():
    write_all("corpus/differential/pickles/*.pkl",
              os.path.join(ROOT, "corpus", "differential", "load"),
              lambda p: os.path.basename(p)[:-4] + ".json")
    # pickles written by Debian's numpy, pandas, scipy, sklearn and torch
    # (corpus/generate/gen_libraries.py); loading them needs those packages
    write_all("corpus/libraries/*/*.pkl", os.path.join(ROOT, "corpus", "load", "libraries"),
              lambda p: os.path.basename(os.path.dirname(p)) + "__" + os.path.basename(p)[:-4]
              + ".json")


if __name__ == "__main__":
    main()
