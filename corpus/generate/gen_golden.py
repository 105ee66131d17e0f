#!/usr/bin/env python3
"""Writes the golden corpus: benign and malicious pickles with the verdict and
the global names pklscan must report for each.

Output, under corpus/golden/ (committed, so CI needs no Python):

  benign/NAME.pkl     no hostile intent: stdlib data written by CPython's own
                      pickle.dumps (expect "clean"), odd-but-harmless streams
                      (expect "suspicious"), and four files that are not
                      pickles at all (expect "skipped")
  malicious/NAME.pkl  hand-assembled attack shapes, one family of
                      /work/shared/THREATS.md sections 1-6 at a time; almost
                      all expect "malicious", a few probes that the policy
                      only flags expect "suspicious"
  manifest.jsonl      one JSON object per file, sorted by file:
                        file    path relative to corpus/golden
                        expect  clean | suspicious | malicious | skipped
                        names   canonical "module.qualname" of every global the
                                scanner can know statically (after the Python 2
                                mapping of _compat_pickle, applied only while
                                the last PROTO seen is below 3), including the
                                globals of nested pickles held as constants;
                                names computed at run time are left out
                        family  "THREATS section: family" ("fp" = the False
                                positives section, "7" = route by content)
                        note    what the sample does and why the verdict

Provenance and safety:
  * Benign "clean" samples are pickle.dumps() of standard-library objects
    (Debian 12's CPython 3.11, C pickler).
  * Every other sample is assembled opcode by opcode with the helpers below.
    Malicious payloads are inert ('echo pklscan-test', 'true', 127.0.0.1,
    paths under /tmp/pklscan-test) and are NEVER loaded: this script only
    parses them with pickletools.genops (which executes nothing) to check that
    they are well formed, and runs a small symbolic stack machine over the
    parsed opcodes to check the expected names.
  * Samples that pickletools cannot parse on purpose (loader-only literals,
    non-ASCII GLOBAL names) are checked through a substitute stream that
    differs only in the offending literal; truncated or garbage-tailed
    samples are checked up to the break.
  * Output is byte-stable across runs: sets hold only ints (no hash-seed
    dependent order) and marshal uses version 2 (no reference flags).
  * Memo slots are overwritten on purpose in a few samples: pickletools.dis
    rejects that ("memo key already defined"), genops and the loader accept it.
  * The expected verdicts follow rules/policy/*-allow.txt and
    rules/policy/denylist.txt; the script cross-checks each verdict against
    those lists (clean => every name allowlisted, a critical denylist name =>
    malicious, suspicious => no critical name).

Run: /usr/bin/python3 corpus/generate/gen_golden.py
"""

import _compat_pickle
import array
import base64
import binascii
import collections
import datetime
import decimal
import fractions
import http
import io
import ipaddress
import json
import marshal
import os
import sys
import pathlib
import pickle
import pickletools
import re
import shutil
import string
import struct
import types
import uuid
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(REPO, "corpus", "golden")
POLICY = os.path.join(REPO, "rules", "policy")

CMD = "echo pklscan-test"
ARGV = ["echo", "pklscan-test"]
TMP = "/tmp/pklscan-test"
EXPR = "'pklscan-test'"                 # an inert Python expression
STMT = "x = 'pklscan-test'"             # an inert Python statement


# ---------------------------------------------------------------------------
# Opcode emitters (byte-exact, see pickletools.opcodes)
# ---------------------------------------------------------------------------

def _b(s):
    return s.encode("utf-8") if isinstance(s, str) else bytes(s)


STOP = b"."
MARK = b"("
POP = b"0"
POP_MARK = b"1"
DUP = b"2"
NONE = b"N"
NEWTRUE = b"\x88"
NEWFALSE = b"\x89"
EMPTY_TUPLE = b")"
EMPTY_LIST = b"]"
EMPTY_DICT = b"}"
TUPLE = b"t"
LIST = b"l"
DICT = b"d"
TUPLE1 = b"\x85"
TUPLE2 = b"\x86"
TUPLE3 = b"\x87"
REDUCE = b"R"
BUILD = b"b"
NEWOBJ = b"\x81"
NEWOBJ_EX = b"\x92"
OBJ = b"o"
STACK_GLOBAL = b"\x93"
MEMOIZE = b"\x94"
SETITEM = b"s"
SETITEMS = b"u"
APPEND = b"a"
APPENDS = b"e"
BINPERSID = b"Q"


def PROTO(n):
    return b"\x80" + bytes([n])


def FRAME(n):
    return b"\x95" + struct.pack("<Q", n)


def GLOBAL(mod, name):
    return b"c" + _b(mod) + b"\n" + _b(name) + b"\n"


def INST(mod, name):
    return b"i" + _b(mod) + b"\n" + _b(name) + b"\n"


def SBU(s):
    """SHORT_BINUNICODE (protocol 4)."""
    d = _b(s)
    assert len(d) < 256
    return b"\x8c" + bytes([len(d)]) + d


def BU(s):
    """BINUNICODE (protocol 1)."""
    d = _b(s)
    return b"X" + struct.pack("<I", len(d)) + d


def BU8(s):
    """BINUNICODE8 (protocol 4)."""
    d = _b(s)
    return b"\x8d" + struct.pack("<Q", len(d)) + d


def UNICODE(s):
    """UNICODE (protocol 0), escaped like pickle.py's save_str."""
    t = (s.replace("\\", "\\u005c").replace("\0", "\\u0000")
         .replace("\n", "\\u000a").replace("\r", "\\u000d")
         .replace("\x1a", "\\u001a"))
    return b"V" + t.encode("raw-unicode-escape") + b"\n"


def STRING(quoted):
    """STRING (protocol 0): quoted is the literal text, quotes and escapes included."""
    return b"S" + _b(quoted) + b"\n"


def BINSTRING(d):
    return b"T" + struct.pack("<i", len(d)) + d


def SHORT_BINSTRING(d):
    return b"U" + bytes([len(d)]) + d


def BYTES(d):
    """SHORT_BINBYTES or BINBYTES (protocol 3)."""
    if len(d) < 256:
        return b"C" + bytes([len(d)]) + d
    return b"B" + struct.pack("<I", len(d)) + d


def INT(text):
    return b"I" + _b(text) + b"\n"


def LONG(text):
    return b"L" + _b(text) + b"\n"


def BININT1(n):
    return b"K" + bytes([n])


def PUT(n):
    return b"p%d\n" % n


def GET(n):
    return b"g%d\n" % n


def BINPUT(n):
    return b"q" + bytes([n])


def BINGET(n):
    return b"h" + bytes([n])


def LONG_BINPUT(n):
    return b"r" + struct.pack("<I", n)


def LONG_BINGET(n):
    return b"j" + struct.pack("<I", n)


def EXT1(n):
    return b"\x82" + bytes([n])


def EXT2(n):
    return b"\x83" + struct.pack("<H", n)


def EXT4(n):
    return b"\x84" + struct.pack("<i", n)


def PERSID(s):
    return b"P" + s.encode("ascii") + b"\n"


# ---------------------------------------------------------------------------
# Protocol-aware building blocks
# ---------------------------------------------------------------------------

def S(text, proto):
    """A str literal the way a pickler of that protocol writes it."""
    if proto == 0:
        return UNICODE(text)
    if proto >= 4 and len(_b(text)) < 256:
        return SBU(text)
    return BU(text)


def G(mod, name, proto):
    """A global: STACK_GLOBAL from protocol 4 on, GLOBAL below."""
    if proto >= 4:
        return SBU(mod) + SBU(name) + STACK_GLOBAL
    return GLOBAL(mod, name)


def I(n, proto):
    if proto == 0 or not 0 <= n < 256:
        return INT(str(n))
    return BININT1(n)


def TUP(items, proto):
    items = list(items)
    if proto >= 2 and len(items) <= 3:
        return b"".join(items) + [EMPTY_TUPLE, TUPLE1, TUPLE2, TUPLE3][len(items)]
    if proto >= 1 and not items:
        return EMPTY_TUPLE
    return MARK + b"".join(items) + TUPLE


def LST(items, proto):
    items = list(items)
    if proto == 0:
        return MARK + b"".join(items) + LIST
    if not items:
        return EMPTY_LIST
    return EMPTY_LIST + MARK + b"".join(items) + APPENDS


def DCT(pairs, proto):
    flat = b"".join(k + v for k, v in pairs)
    if proto == 0:
        return MARK + flat + DICT
    if not pairs:
        return EMPTY_DICT
    return EMPTY_DICT + MARK + flat + SETITEMS


def B(data, proto):
    """A bytes value: BINBYTES from protocol 3, else _codecs.encode(text, 'latin1')
    exactly as CPython's pickler writes bytes below protocol 3."""
    if proto >= 3:
        return BYTES(data)
    return CALL(G("_codecs", "encode", proto),
                [S(data.decode("latin-1"), proto), S("latin1", proto)], proto)


def CALL(fn, args, proto):
    return fn + TUP(args, proto) + REDUCE


def pkl(body, proto, frame=True):
    """PROTO header (protocol >= 2), one well-formed FRAME from protocol 4, STOP."""
    if proto < 2:
        return body + STOP
    if proto >= 4 and frame:
        return PROTO(proto) + FRAME(len(body) + 1) + body + STOP
    return PROTO(proto) + body + STOP


def os_system(proto, cmd=CMD):
    return CALL(G("os", "system", proto), [S(cmd, proto)], proto)


# ---------------------------------------------------------------------------
# Checking: parse with pickletools (never load), symbolic names, policy
# ---------------------------------------------------------------------------

STR_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"}
OTHER = ("other",)
MARK_V = ("mark",)


def parse(data):
    """genops over every pickle stored one after another in data.
    Returns (list of op lists, exception or None); ops are (op, arg, pos, end)."""
    f = io.BytesIO(data)
    pickles = []
    while f.tell() < len(data):
        ops = []
        pickles.append(ops)
        try:
            for op, arg, pos in pickletools.genops(f):
                ops.append((op, arg, pos, f.tell()))
        except Exception as e:  # noqa: BLE001 - any parse failure
            return pickles, e
    return pickles, None


def canon(mod, name, proto):
    """find_class's Python 2 mapping, applied only below protocol 3."""
    if proto < 3:
        if (mod, name) in _compat_pickle.NAME_MAPPING:
            return _compat_pickle.NAME_MAPPING[(mod, name)]
        if mod in _compat_pickle.IMPORT_MAPPING:
            return _compat_pickle.IMPORT_MAPPING[mod], name
    return mod, name


def names_of(pickles):
    """Symbolic stack machine: the globals whose module and name are literals."""
    found = []
    for ops in pickles:
        proto, stack, memo = 0, [], {}

        def pop():
            return stack.pop() if stack else OTHER

        def pop_mark():
            while stack:
                if stack.pop() is MARK_V:
                    return

        for op, arg, _pos, _end in ops:
            n = op.name
            if n == "PROTO":
                proto = arg
            elif n in STR_OPS:
                stack.append(("str", arg))
            elif n == "MARK":
                stack.append(MARK_V)
            elif n == "POP":
                pop()
            elif n == "POP_MARK":
                pop_mark()
            elif n == "DUP":
                stack.append(stack[-1] if stack else OTHER)
            elif n in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[arg] = stack[-1] if stack else OTHER
            elif n == "MEMOIZE":
                memo[len(memo)] = stack[-1] if stack else OTHER
            elif n in ("GET", "BINGET", "LONG_BINGET"):
                stack.append(memo.get(arg, OTHER))
            elif n in ("GLOBAL", "INST"):
                mod, name = arg.split(" ", 1)
                found.append(canon(mod, name, proto))
                if n == "INST":
                    pop_mark()
                stack.append(OTHER)
            elif n == "STACK_GLOBAL":
                name, mod = pop(), pop()
                if name[0] == "str" and mod[0] == "str":
                    found.append(canon(mod[1], name[1], proto))
                stack.append(OTHER)
            else:
                before = op.stack_before
                if pickletools.markobject in before:
                    pop_mark()
                    for _ in range(before.index(pickletools.markobject)):
                        pop()
                else:
                    for _ in before:
                        pop()
                stack.extend(OTHER for _ in op.stack_after)
    return found


def load_policy():
    allow, deny = set(), []
    for name in sorted(os.listdir(POLICY)):
        if not name.endswith("-allow.txt"):
            continue
        with open(os.path.join(POLICY, name)) as f:
            for line in f:
                w = line.split("#", 1)[0].split()
                if w:
                    allow.add((w[0], w[1]))
    with open(os.path.join(POLICY, "denylist.txt")) as f:
        for line in f:
            w = line.split("#", 1)[0].split()
            if w:
                deny.append((w[2], w[3], w[1]))
    return allow, deny


ALLOW, DENY = load_policy()


def classify(mod, qual):
    """'allow', 'getattr' (allowlisted only in the enum form), 'critical',
    'high' or 'unknown'."""
    if (mod, qual) == ("builtins", "getattr"):
        return "getattr"
    if (mod, qual) in ALLOW:
        return "allow"
    for dmod, dqual, sev in DENY:
        if dqual == "*":
            if mod == dmod or mod.startswith(dmod + "."):
                return sev
        elif (mod, qual) == (dmod, dqual):
            return sev
    return "unknown"


SAMPLES = []
UNLISTED = {}          # names the real pickler emitted that the allowlist lacks


def add(path, data, expect, names, family, note, check="full", upto=None,
        subst=None, parts=None, inner=(), derive_names=True):
    """Register one sample after checking it.

    check: full    one pickle, parses to STOP, nothing after it
           multi   several complete pickles one after another
           broken  parsing stops with an error at or after offset upto
                   (truncated or garbage tail; the prefix is well formed)
           subst   (old, new): data with old replaced by new parses 'full'
           parts   data is b''.join(parts) with junk; every pickle part
                   parses 'full' (parts given as (bytes, is_pickle) pairs)
           none    not a pickle: must not contain a global/call opcode
    inner: constant nested pickles; their names count for the file too.
    """
    assert path.startswith(("benign/", "malicious/")) and path.endswith(".pkl")
    assert expect in ("clean", "suspicious", "malicious", "skipped")
    assert not any(s["file"] == path for s in SAMPLES), path
    if check == "full":
        pickles, err = parse(data)
        assert err is None and len(pickles) == 1, (path, err)
        assert pickles[0][-1][0].name == "STOP" and pickles[0][-1][3] == len(data), path
    elif check == "multi":
        pickles, err = parse(data)
        assert err is None and len(pickles) >= 2, (path, err)
    elif check == "broken":
        pickles, err = parse(data)
        assert err is not None, path
        last_end = max((ops[-1][3] for ops in pickles if ops), default=0)
        assert last_end >= upto, (path, err, last_end, upto)
    elif check == "subst":
        old, new = subst
        assert data.count(old) == 1, path
        pickles, err = parse(data.replace(old, new))
        assert err is None and len(pickles) == 1, (path, err)
    elif check == "parts":
        assert b"".join(p for p, _ in parts) == data, path
        pickles = []
        for p, is_pickle in parts:
            if is_pickle:
                pp, err = parse(p)
                assert err is None and len(pp) == 1, (path, err)
                pickles += pp
    elif check == "none":
        pickles, _err = parse(data)
        bad = {"GLOBAL", "STACK_GLOBAL", "INST", "REDUCE", "OBJ", "NEWOBJ",
               "NEWOBJ_EX", "BUILD", "EXT1", "EXT2", "EXT4"}
        assert not any(op.name in bad for ops in pickles for op, *_ in ops), path
        assert not (len(pickles) == 1 and _err is None), path
    else:
        raise ValueError(check)

    got = names_of(pickles)
    for blob in inner:
        ip, err = parse(blob)
        assert err is None and len(ip) == 1, (path, "inner", err)
        got += names_of(ip)
    want = sorted(set(names))
    if derive_names:
        have = sorted(set(m + "." + q for m, q in got))
        assert have == want, (path, have, want)
        pairs = sorted(set(got))
    else:
        pairs = [tuple(n.split(".", 1)) for n in want]   # single-dot names only

    kinds = [classify(m, q) for m, q in pairs]
    if expect == "clean":
        assert all(k in ("allow", "getattr") for k in kinds), (path, pairs, kinds)
    if expect == "skipped":
        assert not pairs, path
    if "critical" in kinds:
        assert expect == "malicious", (path, pairs, kinds)
    if expect == "suspicious":
        assert "critical" not in kinds, path

    SAMPLES.append({"file": path, "data": data, "expect": expect,
                    "names": want, "family": family, "note": note})


def dumps_clean(path, obj, proto, family, note):
    """pickle.dumps of stdlib data; clean if every global is allowlisted,
    otherwise recorded as suspicious and reported in UNLISTED."""
    data = pickle.dumps(obj, protocol=proto)
    pickles, err = parse(data)
    assert err is None
    pairs = sorted(set(names_of(pickles)))
    bad = [m + "." + q for m, q in pairs if classify(m, q) not in ("allow", "getattr")]
    expect = "clean"
    if bad:
        for n in bad:
            UNLISTED.setdefault(n, []).append(path)
        expect = "suspicious"
        note += "; emits non-allowlisted " + ", ".join(bad)
    add(path, data, expect, [m + "." + q for m, q in pairs], family, note)


# ---------------------------------------------------------------------------
# Benign: real pickler output of stdlib data (expect clean)
# ---------------------------------------------------------------------------

class Point:
    """A user class: pickles as __main__.Point (NEWOBJ + BUILD)."""

    def __init__(self, x, y):
        self.x, self.y = x, y


def benign_stdlib():
    fam = "fp: stdlib data via pickle.dumps"
    containers = {"name": "pklscan", "layers": [1, 2, (3, 4.5)],
                  "flags": (True, False, None), "text": "h\u00e9llo\n\\ \u2603",
                  "nested": {"a": [[], {}, ()], "b": [-1, 255, 65536, -2 ** 31]}}
    for p in range(6):
        dumps_clean("benign/containers_p%d.pkl" % p, containers, p, fam,
                    "dict/list/tuple/str/int/float/bool/None at protocol %d, no globals" % p)
    tz2 = datetime.timezone(datetime.timedelta(hours=2), "CEST")
    dt = [datetime.datetime(2024, 5, 6, 7, 8, 9, 123456),
          datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=tz2), datetime.date(2024, 2, 29),
          datetime.time(23, 59, 1), datetime.timedelta(days=3, seconds=5),
          datetime.timezone.utc]
    for p in (0, 2, 4):
        dumps_clean("benign/datetime_p%d.pkl" % p, dt, p, fam,
                    "datetime/date/time/timedelta/timezone (below protocol 3 their "
                    "state bytes go through _codecs.encode)")
    for p in (1, 5):
        dumps_clean("benign/decimal_fraction_p%d.pkl" % p,
                    [decimal.Decimal("3.14159"), decimal.Decimal("-Infinity"),
                     fractions.Fraction(22, 7)], p, fam, "Decimal and Fraction")
    dumps_clean("benign/uuid_p0.pkl", uuid.UUID(int=0x1234567890abcdef), 0,
                "fp: python2 name mapping (real pickler)",
                "UUID at protocol 0: copy_reg._reconstructor and __builtin__.object, "
                "mapped to copyreg/builtins below protocol 3")
    dumps_clean("benign/uuid_p4.pkl", uuid.UUID(int=0x1234567890abcdef), 4, fam, "UUID")
    for p in (2, 4):
        dumps_clean("benign/re_flags_combined_p%d.pkl" % p, [re.I | re.M, re.compile("x", re.I | re.S)],
                    p, fam, "combined re flags pickle as _operator.or_(getattr(RegexFlag, 'I'), ...)")
    dumps_clean("benign/bytesio_p4.pkl", [io.BytesIO(b"abc"), io.StringIO("def")], 4, fam,
                "io.BytesIO / io.StringIO pickle as _io.BytesIO / _io.StringIO with BUILD state")
    dumps_clean("benign/decimal_context_p4.pkl", decimal.Context(prec=10), 4, fam,
                "decimal.Context pickles its traps and flags as decimal exception classes")
    dd = collections.defaultdict(list, {"a": [1, 2]})
    coll = [collections.OrderedDict([("b", 1), ("a", 2)]), dd,
            collections.Counter("pklscan"), collections.deque([1, 2, 3], maxlen=5)]
    for p in (2, 4):
        dumps_clean("benign/collections_p%d.pkl" % p, coll, p, fam,
                    "OrderedDict, defaultdict(list), Counter, deque")
    dumps_clean("benign/collections_user_p2.pkl",
                [collections.ChainMap({"a": 1}, {"b": 2}), collections.UserDict(a=1),
                 collections.UserList([1]), collections.UserString("s")], 2,
                "fp: python2 name mapping (real pickler)",
                "ChainMap and UserDict/UserList/UserString; at protocol 2 the pickler "
                "writes 'UserDict IterableUserDict', 'UserList UserList', 'UserString "
                "UserString', mapped to collections.*")
    for p in (1, 4):
        dumps_clean("benign/sets_p%d.pkl" % p, [{1, 2, 3}, frozenset({4, -5}), set()],
                    p, fam, "set and frozenset (protocol 4 has EMPTY_SET/FROZENSET)")
    for p in (0, 3, 5):
        dumps_clean("benign/bytes_p%d.pkl" % p,
                    [b"\x00\x01\xffpklscan", bytearray(b"\x80abc"), b""], p, fam,
                    "bytes and bytearray (_codecs.encode below protocol 3, "
                    "BYTEARRAY8 at protocol 5)")
    nums = [2 ** 100, -2 ** 70, 2 ** 31, -1, float("inf"), float("-inf"),
            float("nan"), 1e308, -0.0, complex(1.5, -2)]
    for p in (0, 4):
        dumps_clean("benign/numbers_p%d.pkl" % p, nums, p, fam,
                    "big ints, inf/nan floats, complex (builtins.complex)")
    pat = re.compile(r"(\d+)-pklscan", re.IGNORECASE)
    for p in (2, 4):
        dumps_clean("benign/re_pattern_p%d.pkl" % p, pat, p, fam,
                    "compiled pattern: re._compile(pattern, flags as int)")
    for p in (2, 4):
        dumps_clean("benign/re_flag_enum_p%d.pkl" % p, re.IGNORECASE, p,
                    "fp: enum member via getattr",
                    "re.IGNORECASE pickles as builtins.getattr(re.RegexFlag, "
                    "'IGNORECASE') since 3.11: allowlisted class, plain constant name")
    dumps_clean("benign/http_status_enum_p3.pkl",
                [http.HTTPStatus.NOT_FOUND, http.HTTPStatus.OK], 3,
                "fp: enum member via getattr",
                "getattr(http.HTTPStatus, 'NOT_FOUND'/'OK'): enum members")
    dumps_clean("benign/safeuuid_enum_p4.pkl", uuid.SafeUUID.safe, 4,
                "fp: enum member via getattr", "getattr(uuid.SafeUUID, 'safe')")
    dumps_clean("benign/pathlib_p3.pkl",
                [pathlib.PurePosixPath("/tmp/pklscan-test/a.txt"),
                 pathlib.PureWindowsPath("C:/pklscan/b.txt")], 3, fam,
                "PurePosixPath and PureWindowsPath")
    ips = [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"),
           ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"),
           ipaddress.ip_interface("192.168.1.2/24")]
    for p in (2, 4):
        dumps_clean("benign/ipaddress_p%d.pkl" % p, ips, p, fam,
                    "IPv4/IPv6 Address, Network, Interface")
    for p in (1, 4):
        dumps_clean("benign/array_p%d.pkl" % p,
                    [array.array("i", [1, -2, 3]), array.array("d", [0.5])], p, fam,
                    "array.array (array._array_reconstructor from protocol 3)")
    dumps_clean("benign/simplenamespace_p4.pkl", types.SimpleNamespace(a=1, b="x"), 4,
                fam, "types.SimpleNamespace (exact allowlist entry beats 'types *')")
    dumps_clean("benign/picklebuffer_inband_p5.pkl",
                {"buf": pickle.PickleBuffer(b"pklscan in-band buffer"),
                 "ro": pickle.PickleBuffer(bytearray(b"rw"))}, 5, fam,
                "protocol 5 PickleBuffer serialised in-band (BYTES/BYTEARRAY8)")
    rec = [1, 2]
    rec.append(rec)
    d = {"self": None, "list": rec}
    d["self"] = d
    for p in (0, 2, 5):
        dumps_clean("benign/recursive_p%d.pkl" % p, d, p, fam,
                    "self-referencing dict and list (memo GET of unfinished objects)")
    dumps_clean("benign/builtins_misc_p2.pkl",
                [range(1, 10, 2), slice(1, None, 3), Ellipsis, NotImplemented], 2,
                "fp: python2 name mapping (real pickler)",
                "range/slice/Ellipsis/NotImplemented written as __builtin__.*, "
                "mapped to builtins")
    dumps_clean("benign/string_template_p0.pkl", string.Template("$who"), 0,
                "fp: python2 name mapping (real pickler)",
                "string.Template through copy_reg._reconstructor (mapped to copyreg)")
    dumps_clean("benign/none_p0.pkl", None, 0, fam, "the smallest pickle: b'N.'")


def benign_handmade_clean():
    fam = "2: python2 name mapping"
    add("benign/py2_xrange_p2.pkl",
        pkl(CALL(GLOBAL("__builtin__", "xrange"), [BININT1(0), BININT1(3)], 2), 2),
        "clean", ["builtins.range"], fam,
        "hand-made Python 2 style: '__builtin__ xrange' maps to builtins.range under "
        "protocol 2 (NAME_MAPPING), allowlisted")
    add("benign/py2_copy_reg_reconstructor_p1.pkl",
        pkl(CALL(GLOBAL("copy_reg", "_reconstructor"),
                 [GLOBAL("collections", "OrderedDict"), GLOBAL("__builtin__", "dict"),
                  DCT([(BU("k"), BININT1(1))], 1)], 1)
            + EMPTY_DICT + BUILD, 1),
        "clean", ["copyreg._reconstructor", "collections.OrderedDict", "builtins.dict"],
        fam, "copy_reg._reconstructor(OrderedDict, dict, {...}) at protocol 1: "
        "copy_reg maps to the allowlisted copyreg._reconstructor; all classes allowlisted")


# ---------------------------------------------------------------------------
# Benign but flagged (expect suspicious) and non-pickles (expect skipped)
# ---------------------------------------------------------------------------

def benign_suspicious():
    for p in (2, 4):
        data = pickle.dumps(Point(1, 2), protocol=p)
        add("benign/user_class_point_p%d.pkl" % p, data, "suspicious", ["__main__.Point"],
            "fp: unknown class",
            "instance of a user class (NEWOBJ + BUILD): __main__.Point is not allowlisted")
    # numpy's own protocol-2 layout for np.array([1., 2., 3.])
    dtype = (CALL(GLOBAL("numpy", "dtype"), [BU("f8"), NEWFALSE, NEWTRUE], 2)
             + MARK + BININT1(3) + BU("<") + NONE + NONE + NONE
             + INT("-1") + INT("-1") + BININT1(0) + TUPLE + BUILD)
    raw = struct.pack("<3d", 1.0, 2.0, 3.0)
    body = (CALL(GLOBAL("numpy.core.multiarray", "_reconstruct"),
                 [GLOBAL("numpy", "ndarray"), TUP([BININT1(0)], 2), B(b"b", 2)], 2)
            + MARK + BININT1(1) + TUP([BININT1(3)], 2) + dtype + NEWFALSE + B(raw, 2)
            + TUPLE + BUILD)
    add("benign/numpy_reconstruct_p2.pkl", pkl(body, 2), "clean",
        ["numpy.core.multiarray._reconstruct", "numpy.ndarray", "numpy.dtype",
         "_codecs.encode"], "fp: third-party data class",
        "hand-assembled numpy array pickle (numpy's protocol-2 layout): every name is on "
        "the numpy allowlist generated from the library")
    add("benign/mylib_model_p4.pkl",
        pkl(CALL(G("copyreg", "_reconstructor", 4),
                 [G("mylib.models", "Model", 4), G("builtins", "object", 4), NONE], 4)
            + DCT([(SBU("weights"), LST([BININT1(1)], 4))], 4) + BUILD, 4),
        "suspicious", ["copyreg._reconstructor", "mylib.models.Model", "builtins.object"],
        "fp: unknown class",
        "sklearn-style estimator through copyreg._reconstructor + BUILD of an unknown "
        "class mylib.models.Model: suspicious, nothing dangerous")
    data = pickle.dumps({"a": 1}, protocol=4) + b"\n"
    add("benign/trailing_newline_p4.pkl", data, "suspicious", [], "1: junk after STOP",
        "complete benign pickle followed by a newline: bytes after the final STOP",
        check="broken", upto=len(data) - 1)
    data = pickle.dumps([1, 2], protocol=2) + b"\x00\x00\x00\x00garbage"
    add("benign/trailing_junk_p2.pkl", data, "suspicious", [], "1: junk after STOP",
        "benign list followed by NUL bytes and text after STOP",
        check="broken", upto=len(data) - 11)
    add("benign/proto_mid_stream_p2.pkl",
        PROTO(2) + EMPTY_LIST + PROTO(3) + MARK + BININT1(1) + BININT1(2) + APPENDS + STOP,
        "suspicious", [], "1: PROTO in the middle",
        "PROTO 3 after the first opcode; only literals: anomaly, nothing dangerous")
    add("benign/newer_opcode_p2.pkl",
        PROTO(2) + EMPTY_DICT + SBU("a") + BYTES(b"x") + SETITEM + MEMOIZE + STOP,
        "suspicious", [], "1: opcodes above the declared protocol",
        "protocol 2 stream using SHORT_BINUNICODE/MEMOIZE (4) and SHORT_BINBYTES (3); "
        "only literals")
    data = PROTO(2) + GLOBAL("mylib", "Model") + EMPTY_TUPLE
    add("benign/truncated_after_unknown_import_p2.pkl", data, "suspicious",
        ["mylib.Model"], "1: truncated stream",
        "stream ends (no STOP) after importing an unknown class that was never called",
        check="broken", upto=len(data))
    mod = "m\u00f3dulo_pklscan"
    data = GLOBAL(mod, "Clase") + MARK + TUPLE + REDUCE + STOP
    add("benign/nonascii_global_unknown_p0.pkl", data, "suspicious", [mod + ".Clase"],
        "1: non-ASCII GLOBAL name",
        "GLOBAL with a valid UTF-8 non-ASCII module name (pickletools rejects it, the "
        "loader decodes UTF-8): unknown module, suspicious",
        check="subst", subst=(_b(mod), b"modulo_pklscan"), derive_names=False)
    add("benign/persid_custom_p0.pkl",
        MARK + UNICODE("weights") + PERSID("pklscan-test-1") + DICT + STOP,
        "suspicious", [], "4: PERSID/BINPERSID",
        "PERSID with an application pid: needs the loader's persistent_load, "
        "not the torch storage shape")
    add("benign/binpersid_custom_p2.pkl",
        pkl(EMPTY_DICT + BU("w") + TUP([BU("custom"), BININT1(7)], 2) + BINPERSID
            + SETITEM, 2),
        "suspicious", [], "4: PERSID/BINPERSID",
        "BINPERSID with a ('custom', 7) pid tuple: persistent id other than torch storage")
    inner = pickle.dumps({"w": [1.0, 2.0]}, protocol=2)
    add("benign/torch_load_from_bytes_benign_inner_p2.pkl",
        pkl(CALL(GLOBAL("torch.storage", "_load_from_bytes"), [B(inner, 2)], 2), 2),
        "clean", ["torch.storage._load_from_bytes", "_codecs.encode"],
        "6: nested loading",
        "old-checkpoint shape: torch.storage._load_from_bytes on a constant inner pickle "
        "of a dict; the loader is on the torch allowlist and the inner pickle is clean",
        inner=[inner])
    add("benign/base64_decode_only_p4.pkl",
        pkl(DCT([(SBU("blob"), CALL(G("base64", "b64decode", 4),
                                    [BYTES(base64.b64encode(b"pklscan-test"))], 4))], 4), 4),
        "suspicious", ["base64.b64decode"], "6: encoding helpers",
        "base64.b64decode of a constant whose result is only stored: denylist severity "
        "high, no loader")
    add("benign/codecs_decode_rot13_p2.pkl",
        pkl(CALL(GLOBAL("codecs", "decode"), [BU("cxyfpna-grfg"), BU("rot13")], 2), 2),
        "suspicious", ["codecs.decode"], "6: encoding helpers",
        "codecs.decode(..., 'rot13'): denylist severity high, result unused")


def benign_skipped():
    fam = "7: not a pickle"
    doc = json.dumps({"model": "pklscan-test", "layers": [1, 2, 3],
                      "config": {"lr": 0.001}}, indent=2).encode() + b"\n"
    add("benign/skipped_json_document.pkl", doc, "skipped", [], fam,
        "a JSON document with a .pkl name", check="none")
    text = (b"pklscan golden corpus\n\nThis is a plain text file that happens to carry a "
            b".pkl extension.\nIt holds no pickle opcodes worth decoding.\n")
    add("benign/skipped_plain_text.pkl", text, "skipped", [], fam,
        "plain ASCII text", check="none")

    def chunk(kind, payload):
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload)))
    png = (b"\x89PNG\r\n\x1a\n"
           + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"\x00\x00\xff\x00\xff\x00", 9))
           + chunk(b"IEND", b""))
    add("benign/skipped_png_image.pkl", png, "skipped", [], fam,
        "a 2x2 greyscale PNG", check="none")
    header = json.dumps({"weight": {"dtype": "F32", "shape": [2, 2],
                                    "data_offsets": [0, 16]},
                         "__metadata__": {"format": "pt"}},
                        separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)
    st = struct.pack("<Q", len(header)) + header + b"\x00" * 16
    add("benign/skipped_safetensors.pkl", st, "skipped", [], fam,
        "safetensors layout: 8-byte little-endian header length, JSON header, "
        "16 zero bytes of tensor data", check="none")


# ---------------------------------------------------------------------------
# THREATS 1: parser differentials
# ---------------------------------------------------------------------------

def threats1_parser_differentials():
    m = "malicious/"
    # -- payload then a broken stream: the loader has already run it
    pre = PROTO(2) + os_system(2)
    data = pre + BU("pklscan-test")[:7]
    add(m + "trunc_after_payload_p2.pkl", data, "malicious", ["os.system"],
        "1: payload then truncated stream",
        "os.system REDUCE, then the stream ends inside a BINUNICODE: the loader ran "
        "the payload before failing", check="broken", upto=len(pre))
    pre = os_system(0)
    add(m + "trunc_no_stop_p0.pkl", pre, "malicious", ["os.system"],
        "1: payload then truncated stream",
        "protocol 0 os.system REDUCE and no STOP at all", check="broken", upto=len(pre))
    pre = PROTO(4) + os_system(4)
    data = pre + SBU("pklscan")[:3]
    add(m + "trunc_after_payload_unframed_p4.pkl", data, "malicious", ["os.system"],
        "1: payload then truncated stream",
        "unframed protocol 4 payload, then truncated SHORT_BINUNICODE",
        check="broken", upto=len(pre))
    pre = PROTO(4) + os_system(4)
    data = pre + b"\xff\xfe\x00pklscan garbage" + STOP
    add(m + "garbage_after_payload_p4.pkl", data, "malicious", ["os.system"],
        "1: payload then garbage",
        "payload REDUCE followed by an invalid opcode byte 0xff and junk",
        check="broken", upto=len(pre))
    pre = CALL(GLOBAL("subprocess", "getoutput"), [UNICODE(CMD)], 0)
    data = pre + b"\x00\x01\x02"
    add(m + "garbage_after_payload_p0.pkl", data, "malicious", ["subprocess.getoutput"],
        "1: payload then garbage",
        "protocol 0 subprocess.getoutput REDUCE followed by NUL/control bytes",
        check="broken", upto=len(pre))
    pre = PROTO(4) + os_system(4)
    data = pre + BINGET(77) + STOP
    add(m + "missing_memo_after_payload_p4.pkl", data, "malicious", ["os.system"],
        "3: missing memo key",
        "payload REDUCE, then BINGET of a memo key never stored (the loader fails after "
        "the payload ran)")

    # -- literals only the loader accepts
    data = INT("0x10") + POP + os_system(0) + STOP
    add(m + "int_hex_literal_p0.pkl", data, "malicious", ["os.system"],
        "1: loader-only literals",
        "I0x10 (pickletools rejects, the loader reads 16) pushed and popped before an "
        "os.system payload", check="subst", subst=(b"I0x10\n", b"I16\n"))
    data = LONG("0o7L") + POP + os_system(1) + STOP
    add(m + "long_octal_literal_p1.pkl", data, "malicious", ["os.system"],
        "1: loader-only literals",
        "L0o7L (base-0 octal long) before a protocol 1 payload without PROTO",
        check="subst", subst=(b"L0o7L\n", b"L7L\n"))
    data = (GLOBAL("__builtin__", "eval") + MARK + STRING("'\\x27pklscan-\\x74est\\x27'")
            + TUPLE + REDUCE + STOP)
    add(m + "string_escapes_eval_p0.pkl", data, "malicious", ["builtins.eval"],
        "1: STRING with escapes",
        "eval of a STRING argument written with \\x escapes; __builtin__ maps to builtins")
    data = (GLOBAL("os", "system") + MARK + STRING("'echo pklscan-test-\\xc3\\xa9'")
            + TUPLE + REDUCE + STOP)
    add(m + "string_escapes_utf8_p0.pkl", data, "malicious", ["os.system"],
        "1: STRING with escapes",
        "STRING argument with escaped UTF-8 bytes: fails under the default ASCII "
        "decoding, runs under torch.load's encoding='utf-8'",
        check="subst", subst=(b"\\xc3\\xa9", b"AA"))
    mod = "m\u00f3dulo_pklscan"
    data = os_system(0) + POP + GLOBAL(mod, "Clase") + POP + NONE + STOP
    add(m + "nonascii_global_after_payload_p0.pkl", data, "malicious",
        ["os.system", mod + ".Clase"], "1: non-ASCII GLOBAL name",
        "os.system payload, then a non-ASCII GLOBAL that makes pickletools-based "
        "parsers give up", check="subst", subst=(_b(mod), b"modulo_pklscan"),
        derive_names=False)

    # -- FRAME abuse (no benign pickler emits these)
    body = os_system(4) + STOP
    inner = FRAME(len(body)) + body
    add(m + "frame_nested_payload_p4.pkl", PROTO(4) + FRAME(len(inner)) + inner,
        "malicious", ["os.system"], "1: FRAME abuse",
        "a FRAME inside an unfinished FRAME around an os.system payload (the C loader "
        "accepts it, pickle._loads rejects it)")
    body = os_system(4) + STOP
    cut = len(G("os", "system", 4)) + 2 + 5     # ends inside the command string
    add(m + "frame_arg_past_end_payload_p4.pkl", PROTO(4) + FRAME(cut) + body,
        "malicious", ["os.system"], "1: FRAME abuse",
        "the frame ends in the middle of the SHORT_BINUNICODE argument of the payload")
    body = os_system(4) + STOP
    add(m + "frame_len_beyond_data_payload_p4.pkl",
        PROTO(4) + FRAME(len(body) + 4096) + body, "malicious", ["os.system"],
        "1: FRAME abuse",
        "frame length 4096 bytes beyond the end of the data (the C loader refuses it "
        "before running anything, pickle._loads runs it; a frame violation is "
        "malicious either way)")
    body = DCT([(SBU("a"), BININT1(1))], 4) + STOP
    inner = FRAME(len(body)) + body
    add(m + "frame_nested_benign_p4.pkl", PROTO(4) + FRAME(len(inner)) + inner,
        "malicious", [], "1: FRAME abuse",
        "benign dict, but a FRAME inside an unfinished FRAME: a frame violation is "
        "malicious on its own")
    body = DCT([(SBU("pklscan"), BININT1(1))], 4) + STOP
    add(m + "frame_arg_past_end_benign_p4.pkl", PROTO(4) + FRAME(5) + body,
        "malicious", [], "1: FRAME abuse",
        "benign dict whose key argument runs past the end of its frame")
    body = LST([BININT1(1)], 4) + STOP
    add(m + "frame_len_beyond_data_benign_p4.pkl",
        PROTO(4) + FRAME(len(body) + 100) + body, "malicious", [], "1: FRAME abuse",
        "benign list inside a frame that claims 100 bytes more than the file holds: "
        "frame violation")

    # -- several pickles in one file
    first = pickle.dumps({"epoch": 3}, protocol=2)
    second = pkl(os_system(2), 2)
    add(m + "multi_pickle_second_payload_p2.pkl", first + second, "malicious",
        ["os.system"], "1: several pickles in one file",
        "a benign pickle, then a second complete pickle holding os.system",
        check="multi")
    legacy = [pickle.dumps(0x1950a86a20f9469cfc6c, 2), pickle.dumps(1001, 2),
              pickle.dumps({"protocol_version": 1001, "little_endian": True}, 2),
              pkl(DCT([(BU("state"), os_system(2))], 2), 2),
              pickle.dumps(["0"], 2)]
    add(m + "multi_pickle_legacy_torch_p2.pkl", b"".join(legacy), "malicious",
        ["os.system"], "1: several pickles in one file",
        "five stacked pickles like legacy torch.save (magic, version, sys info, model, "
        "storage keys); the fourth holds the payload", check="multi")
    junk = b"\x00" * 16
    add(m + "multi_pickle_junk_between_p2.pkl", first + junk + second, "malicious",
        ["os.system"], "1: several pickles in one file",
        "benign pickle, 16 raw bytes (like legacy torch storage data), then a pickle "
        "with os.system", check="parts",
        parts=[(first, True), (junk, False), (second, True)])

    # -- protocol 0/1 without a PROTO header
    for p in (0, 1):
        add(m + "os_system_p%d.pkl" % p, pkl(os_system(p), p), "malicious", ["os.system"],
            "1: no PROTO header (protocol %d)" % p,
            "protocol %d stream (no PROTO opcode): GLOBAL os.system, MARK, args, "
            "TUPLE, REDUCE" % p)

    # -- PROTO in the middle
    data = (PROTO(4) + SBU("x") + POP + PROTO(2) + GLOBAL("__builtin__", "eval")
            + BU(EXPR) + TUPLE1 + REDUCE + STOP)
    add(m + "proto_mid_maps_builtin_eval_p4.pkl", data, "malicious", ["builtins.eval"],
        "1: PROTO in the middle",
        "starts as protocol 4, a second PROTO 2 re-enables the Python 2 mapping: "
        "'__builtin__ eval' resolves to builtins.eval")
    data = (PROTO(2) + EMPTY_DICT + POP + PROTO(4) + os_system(4) + STOP)
    add(m + "proto_mid_stack_global_p2.pkl", data, "malicious", ["os.system"],
        "1: PROTO in the middle",
        "protocol 2 header, then PROTO 4 and a STACK_GLOBAL os.system payload")

    # -- opcodes above the declared protocol
    data = PROTO(2) + SBU("os") + SBU("system") + STACK_GLOBAL + SBU(CMD) + TUPLE1 + REDUCE + STOP
    add(m + "newer_opcode_stack_global_p2.pkl", data, "malicious", ["os.system"],
        "1: opcodes above the declared protocol",
        "PROTO 2 but STACK_GLOBAL/SHORT_BINUNICODE (protocol 4 opcodes) build os.system")
    data = SBU("__builtin__") + SBU("exec") + STACK_GLOBAL + BU8(STMT) + TUPLE1 + REDUCE + STOP
    add(m + "newer_opcode_py2_exec_noproto.pkl", data, "malicious", ["builtins.exec"],
        "1: opcodes above the declared protocol",
        "no PROTO (protocol 0) yet STACK_GLOBAL: '__builtin__ exec' is still mapped "
        "(protocol < 3) to builtins.exec")


# ---------------------------------------------------------------------------
# THREATS 2: names
# ---------------------------------------------------------------------------

def threats2_names():
    m = "malicious/"
    fam = "2: python2 name mapping"
    add(m + "py2_builtin_eval_p0.pkl",
        pkl(CALL(GLOBAL("__builtin__", "eval"), [UNICODE(EXPR)], 0), 0),
        "malicious", ["builtins.eval"], fam, "'__builtin__ eval' at protocol 0 is builtins.eval")
    add(m + "py2_builtin_exec_p1.pkl",
        pkl(CALL(GLOBAL("__builtin__", "exec"), [BU(STMT)], 1), 1),
        "malicious", ["builtins.exec"], fam, "'__builtin__ exec' at protocol 1")
    add(m + "py2_builtin_getattr_p2.pkl",
        pkl(CALL(CALL(GLOBAL("__builtin__", "getattr"),
                      [GLOBAL("__builtin__", "object"), BU("__subclasses__")], 2),
                 [], 2), 2),
        "malicious", ["builtins.getattr", "builtins.object"], fam,
        "getattr(object, '__subclasses__')() through the __builtin__ spelling: dunder name")
    add(m + "py2_builtin_open_p2.pkl",
        pkl(CALL(GLOBAL("__builtin__", "open"), [BU(TMP + "/py2_open.txt"), BU("w")], 2), 2),
        "malicious", ["builtins.open"], fam, "'__builtin__ open' in write mode")
    add(m + "py2_builtin_reduce_p2.pkl",
        pkl(CALL(CALL(GLOBAL("__builtin__", "reduce"),
                      [GLOBAL("__builtin__", "getattr"), LST([BU("system")], 2),
                       GLOBAL("uuid", "os")], 2), [BU(CMD)], 2), 2),
        "malicious", ["functools.reduce", "builtins.getattr", "uuid.os"], fam,
        "'__builtin__ reduce' is NAME_MAPPING'd to functools.reduce: "
        "reduce(getattr, ['system'], uuid.os)(cmd)")
    add(m + "py2_commands_getoutput_p0.pkl",
        pkl(CALL(GLOBAL("commands", "getoutput"), [UNICODE(CMD)], 0), 0),
        "malicious", ["subprocess.getoutput"], fam,
        "'commands getoutput' maps to subprocess.getoutput")
    inner = pkl(os_system(2), 2)
    add(m + "py2_cpickle_loads_p2.pkl",
        pkl(CALL(GLOBAL("cPickle", "loads"), [B(inner, 2)], 2), 2),
        "malicious", ["pickle.loads", "_codecs.encode", "os.system"], fam,
        "'cPickle loads' maps to pickle.loads; the inner pickle (os.system) is a "
        "constant written the protocol-2 way, _codecs.encode(text, 'latin1')",
        inner=[inner])
    add(m + "py2_urllib2_urlopen_p1.pkl",
        pkl(CALL(GLOBAL("urllib2", "urlopen"), [BU("http://127.0.0.1/pklscan-test")], 1), 1),
        "malicious", ["urllib.request.urlopen"], fam,
        "'urllib2 urlopen' maps to urllib.request.urlopen (127.0.0.1)")
    add(m + "py2_httplib_connection_p2.pkl",
        pkl(CALL(GLOBAL("httplib", "HTTPConnection"), [BU("127.0.0.1"), BININT1(9)], 2), 2),
        "malicious", ["http.client.HTTPConnection"], fam,
        "'httplib HTTPConnection' maps to http.client.HTTPConnection")
    add(m + "py2_inst_builtin_eval_p0.pkl",
        MARK + UNICODE(EXPR) + INST("__builtin__", "eval") + STOP,
        "malicious", ["builtins.eval"], fam,
        "INST '__builtin__ eval': INST names are mapped like GLOBAL names")
    add(m + "py3_builtin_eval_unmapped_p3.pkl",
        pkl(CALL(GLOBAL("__builtin__", "eval"), [BU(EXPR)], 3), 3),
        "suspicious", ["__builtin__.eval"], fam,
        "protocol 3: no mapping, so the module is the unknown '__builtin__' (import "
        "fails in Python 3): suspicious, not builtins.eval")
    add(m + "py3_builtin_eval_unmapped_p4.pkl",
        pkl(CALL(G("__builtin__", "eval", 4), [SBU(EXPR)], 4), 4),
        "suspicious", ["__builtin__.eval"], fam,
        "STACK_GLOBAL '__builtin__ eval' at protocol 4: unmapped, unknown module")
    add(m + "proto_mid_unmaps_builtin_eval_p2.pkl",
        PROTO(2) + PROTO(4) + CALL(GLOBAL("__builtin__", "eval"), [SBU(EXPR)], 4) + STOP,
        "suspicious", ["__builtin__.eval"], "1: PROTO in the middle",
        "PROTO 2 then PROTO 4: the last PROTO (4) disables the mapping, so "
        "'__builtin__ eval' stays unknown; PROTO after the first opcode is an anomaly")
    add(m + "copy_reg_unmapped_p3.pkl",
        pkl(CALL(GLOBAL("copy_reg", "_reconstructor"),
                 [GLOBAL("collections", "OrderedDict"), GLOBAL("builtins", "dict"),
                  EMPTY_DICT], 3), 3),
        "malicious", ["copy_reg._reconstructor", "collections.OrderedDict", "builtins.dict"],
        fam, "protocol 3: 'copy_reg' is not mapped to copyreg and copy_reg is "
        "denylisted (critical)")

    fam = "2: dotted qualnames (protocol 4)"
    add(m + "dotted_pathlib_os_system_p4.pkl",
        pkl(CALL(G("pathlib", "os.system", 4), [SBU(CMD)], 4), 4),
        "malicious", ["pathlib.os.system"], fam,
        "'pathlib os.system' walks through pathlib's re-export of os")
    add(m + "dotted_random_private_os_system_p4.pkl",
        PROTO(4) + CALL(GLOBAL("random", "_os.system"), [SBU(CMD)], 4) + STOP,
        "malicious", ["random._os.system"], fam,
        "GLOBAL opcode (not STACK_GLOBAL) 'random _os.system' after PROTO 4: "
        "underscore-private alias of os, dotted names are walked from protocol 4")
    add(m + "dotted_builtins_dict_get_p4.pkl",
        pkl(CALL(CALL(G("builtins", "__dict__.get", 4), [SBU("eval")], 4),
                 [SBU(EXPR)], 4), 4),
        "malicious", ["builtins.__dict__.get"], fam,
        "builtins.__dict__.get('eval')(expr): dunder component reaches eval by a "
        "computed lookup")
    add(m + "dotted_ordereddict_init_globals_p4.pkl",
        pkl(G("collections", "OrderedDict.__init__.__globals__", 4) + POP + EMPTY_DICT, 4),
        "malicious", ["collections.OrderedDict.__init__.__globals__"], fam,
        "dunder chain to a module globals dict (fails at load on CPython's C "
        "OrderedDict, but the shape is the attack)")
    add(m + "dotted_namedtuple_globals_sys_p4.pkl",
        pkl(CALL(G("collections", "namedtuple.__globals__.get", 4), [SBU("_sys")], 4)
            + POP + NONE, 4),
        "malicious", ["collections.namedtuple.__globals__.get"], fam,
        "namedtuple.__globals__.get('_sys') fetches the sys module through a dunder")
    add(m + "dotted_collections_private_sys_modules_p4.pkl",
        pkl(G("collections", "_sys.modules", 4) + SBU("pklscan_test") + NONE + SETITEM, 4),
        "malicious", ["collections._sys.modules"], fam,
        "'collections _sys.modules' (private alias of sys) then SETITEM on sys.modules")
    add(m + "dotted_six_moves_builtins_eval_p4.pkl",
        pkl(CALL(G("six.moves", "builtins.eval", 4), [SBU(EXPR)], 4), 4),
        "malicious", ["six.moves.builtins.eval"], fam,
        "six.moves re-exports the builtins module: 'six.moves builtins.eval'")

    fam = "2: aliases and submodules"
    add(m + "posix_system_p2.pkl",
        pkl(CALL(GLOBAL("posix", "system"), [BU(CMD)], 2), 2),
        "malicious", ["posix.system"], fam, "posix is os's implementation module")
    add(m + "nt_system_p2.pkl", pkl(CALL(GLOBAL("nt", "system"), [BU(CMD)], 2), 2),
        "malicious", ["nt.system"], fam, "nt is os on Windows")
    add(m + "private_operator_attrgetter_p4.pkl",
        pkl(CALL(CALL(CALL(G("_operator", "attrgetter", 4), [SBU("system")], 4),
                      [G("uuid", "os", 4)], 4), [SBU(CMD)], 4), 4),
        "malicious", ["_operator.attrgetter", "uuid.os"], fam,
        "_operator.attrgetter('system')(uuid.os)(cmd): C twin of operator")
    add(m + "private_io_open_write_p3.pkl",
        pkl(CALL(GLOBAL("_io", "open"), [BU(TMP + "/io.txt"), BU("w")], 3), 3),
        "malicious", ["_io.open"], fam, "_io.open in write mode")
    add(m + "asyncio_unix_events_transport_p4.pkl",
        pkl(CALL(G("asyncio.unix_events", "_UnixSubprocessTransport", 4),
                 [NONE, NONE, SBU(CMD), NEWTRUE, NONE, NONE, NONE, BININT1(0)], 4), 4),
        "malicious", ["asyncio.unix_events._UnixSubprocessTransport"], fam,
        "asyncio subprocess transport (starts a shell command) via the submodule name")
    add(m + "six_moves_getcwd_p4.pkl",
        pkl(CALL(G("six.moves", "getcwd", 4), [], 4), 4),
        "suspicious", ["six.moves.getcwd"], fam,
        "six.moves.getcwd is os.getcwd at run time, but six.moves is on neither list "
        "and the name reaches nothing denylisted: suspicious")
    add(m + "vendored_pip_requests_get_p4.pkl",
        pkl(CALL(G("pip._vendor.requests", "get", 4), [SBU("http://127.0.0.1/")], 4), 4),
        "malicious", ["pip._vendor.requests.get"], fam,
        "vendored copy of requests inside pip (pip '*' covers submodules)")


# ---------------------------------------------------------------------------
# THREATS 3: stack and memo
# ---------------------------------------------------------------------------

def threats3_stack_memo():
    m = "malicious/"
    fam = "3: STACK_GLOBAL operands through the memo"
    call = SBU(CMD) + TUPLE1 + REDUCE

    def sg(path, ops, note, names=("os.system",), fam=fam, expect="malicious"):
        add(m + path, pkl(ops + call, 4), expect, list(names), fam, note)

    sg("stack_global_via_memoize_p4.pkl",
       SBU("os") + MEMOIZE + POP + SBU("system") + MEMOIZE + POP
       + BINGET(0) + BINGET(1) + STACK_GLOBAL,
       "operands stored with MEMOIZE, popped, fetched back with BINGET")
    sg("stack_global_via_put_get_p4.pkl",
       SBU("os") + PUT(5) + POP + SBU("system") + PUT(6) + POP
       + GET(5) + GET(6) + STACK_GLOBAL,
       "operands through text PUT/GET (protocol 0 memo opcodes in a protocol 4 stream)")
    sg("stack_global_via_binput_binget_p4.pkl",
       SBU("system") + BINPUT(9) + POP + SBU("os") + BINPUT(8) + POP
       + BINGET(8) + BINGET(9) + STACK_GLOBAL,
       "operands stored in reverse order with BINPUT, fetched with BINGET")
    sg("stack_global_via_long_binput_p4.pkl",
       SBU("os") + LONG_BINPUT(70000) + POP + SBU("system") + LONG_BINPUT(70001) + POP
       + LONG_BINGET(70000) + LONG_BINGET(70001) + STACK_GLOBAL,
       "operands through LONG_BINPUT/LONG_BINGET with keys above 65535")
    sg("stack_global_unicode_binunicode8_p4.pkl",
       UNICODE("os") + BINPUT(0) + BU8("system") + STACK_GLOBAL,
       "literal operands spelt UNICODE and BINUNICODE8 (still str literals)")
    fam = "3: DUP and POP games"
    sg("stack_global_dup_p4.pkl",
       SBU("os") + SBU("system") + DUP + POP + STACK_GLOBAL,
       "DUP then POP right before STACK_GLOBAL: the previous opcode is not a string",
       fam=fam)
    sg("stack_global_pop_decoy_p4.pkl",
       SBU("os") + SBU("collections") + POP + SBU("system") + STACK_GLOBAL,
       "a decoy 'collections' is pushed and popped between the real operands", fam=fam)
    sg("stack_global_pop_mark_decoy_p4.pkl",
       SBU("os") + SBU("system") + MARK + SBU("collections") + SBU("OrderedDict")
       + POP_MARK + STACK_GLOBAL,
       "the two strings right before STACK_GLOBAL (collections OrderedDict) are "
       "discarded by POP_MARK; the real operands are os system", fam=fam)
    fam = "3: memo slot overwritten"
    sg("stack_global_memo_overwritten_p4.pkl",
       SBU("collections") + BINPUT(0) + SBU("OrderedDict") + BINPUT(1) + STACK_GLOBAL
       + EMPTY_TUPLE + REDUCE + POP
       + SBU("os") + BINPUT(0) + POP + SBU("system") + BINPUT(1) + POP
       + BINGET(0) + BINGET(1) + STACK_GLOBAL,
       "memo 0/1 first hold collections/OrderedDict (used once), are overwritten "
       "with os/system and fetched again", names=("collections.OrderedDict", "os.system"),
       fam=fam)
    sg("stack_global_memoize_overwritten_p4.pkl",
       SBU("builtins") + MEMOIZE + SBU("dict") + MEMOIZE + POP + POP
       + SBU("os") + BINPUT(0) + POP + SBU("system") + BINPUT(1) + POP
       + BINGET(0) + BINGET(1) + STACK_GLOBAL,
       "MEMOIZE stores builtins/dict in slots 0/1, BINPUT overwrites them with "
       "os/system", fam=fam)

    fam = "3: computed STACK_GLOBAL operands"
    sg("stack_global_string_operands_p4.pkl",
       STRING("'o\\x73'") + STRING("'sys\\x74em'") + STACK_GLOBAL,
       "operands are STRING (escape-decoded, become str under the default encoding): "
       "not str literals, name unknown statically", names=(), fam=fam)
    sg("stack_global_binstring_operands_p4.pkl",
       BINSTRING(b"os") + SHORT_BINSTRING(b"system") + STACK_GLOBAL,
       "operands are BINSTRING/SHORT_BINSTRING", names=(), fam=fam)
    sg("stack_global_bytes_operands_p4.pkl",
       BYTES(b"os") + BYTES(b"system") + STACK_GLOBAL,
       "operands are bytes (SHORT_BINBYTES): the loader rejects them, the shape is "
       "still computed-name", names=(), fam=fam)
    sg("stack_global_mixed_operands_p4.pkl",
       SBU("os") + SHORT_BINSTRING(b"system") + STACK_GLOBAL,
       "literal module, SHORT_BINSTRING name: the global is not fully known",
       names=(), fam=fam)
    join = CALL(G("builtins", "getattr", 4), [G("builtins", "str", 4), SBU("join")], 4)
    sg("stack_global_str_join_p4.pkl",
       CALL(join, [SBU(""), LST([SBU("o"), SBU("s")], 4)], 4) + SBU("system") + STACK_GLOBAL,
       "module name is the result of getattr(str, 'join')('', ['o', 's'])",
       names=("builtins.getattr", "builtins.str"), fam=fam)
    sg("stack_global_str_call_p4.pkl",
       CALL(G("builtins", "str", 4), [SBU("os")], 4)
       + CALL(G("builtins", "str", 4), [SBU("system")], 4) + STACK_GLOBAL,
       "operands are results of builtins.str(...) calls", names=("builtins.str",), fam=fam)
    ns = (CALL(G("types", "SimpleNamespace", 4), [], 4)
          + DCT([(SBU("m"), SBU("os"))], 4) + BUILD + MEMOIZE + POP)
    sg("stack_global_build_planted_p4.pkl",
       ns + CALL(G("builtins", "getattr", 4), [BINGET(0), SBU("m")], 4)
       + SBU("system") + STACK_GLOBAL,
       "BUILD plants 'os' into a SimpleNamespace, getattr(ns, 'm') feeds STACK_GLOBAL",
       names=("types.SimpleNamespace", "builtins.getattr"), fam=fam)


# ---------------------------------------------------------------------------
# THREATS 4: every way pickle calls code
# ---------------------------------------------------------------------------

def threats4_call_paths():
    m = "malicious/"
    for p in (2, 3, 4, 5):
        add(m + "os_system_p%d.pkl" % p, pkl(os_system(p), p), "malicious", ["os.system"],
            "4: REDUCE", "os.system('%s') by REDUCE at protocol %d" % (CMD, p))
    add(m + "inst_os_system_p0.pkl", MARK + UNICODE(CMD) + INST("os", "system") + STOP,
        "malicious", ["os.system"], "4: INST", "INST os system: import and call in one opcode")
    add(m + "obj_os_system_p1.pkl",
        MARK + GLOBAL("os", "system") + BU(CMD) + OBJ + STOP,
        "malicious", ["os.system"], "4: OBJ", "OBJ calls os.system(cmd)")
    add(m + "obj_popped_p2.pkl",
        pkl(MARK + GLOBAL("os", "system") + BU(CMD) + OBJ + POP + EMPTY_DICT, 2),
        "malicious", ["os.system"], "4: OBJ",
        "OBJ result is POPped, the pickle returns an empty dict")
    add(m + "newobj_popen_p2.pkl",
        pkl(GLOBAL("subprocess", "Popen") + TUP([LST([BU(a) for a in ARGV], 2)], 2)
            + NEWOBJ, 2),
        "malicious", ["subprocess.Popen"], "4: NEWOBJ", "NEWOBJ on subprocess.Popen")
    add(m + "newobj_type_3arg_p2.pkl",
        pkl(GLOBAL("__builtin__", "type")
            + TUP([BU("PklscanTest"), TUP([GLOBAL("__builtin__", "object")], 2),
                   DCT([(BU("pklscan"), BININT1(1))], 2)], 2) + NEWOBJ, 2),
        "malicious", ["builtins.type", "builtins.object"], "4: 3-argument builtins.type",
        "type.__new__(type, 'PklscanTest', (object,), {...}) by NEWOBJ: class synthesis")
    add(m + "newobj_ex_popen_kwargs_p4.pkl",
        pkl(G("subprocess", "Popen", 4) + TUP([SBU(CMD)], 4)
            + DCT([(SBU("shell"), NEWTRUE)], 4) + NEWOBJ_EX, 4),
        "malicious", ["subprocess.Popen"], "4: NEWOBJ_EX",
        "NEWOBJ_EX with kwargs {'shell': True} on subprocess.Popen")
    add(m + "newobj_ex_type_kwargs_p4.pkl",
        pkl(G("builtins", "type", 4)
            + TUP([SBU("PklscanTest"), TUP([G("builtins", "object", 4)], 4), EMPTY_DICT], 4)
            + EMPTY_DICT + NEWOBJ_EX, 4),
        "malicious", ["builtins.type", "builtins.object"], "4: 3-argument builtins.type",
        "NEWOBJ_EX on builtins.type with three args and empty kwargs")
    add(m + "type_3arg_reduce_p4.pkl",
        pkl(CALL(G("builtins", "type", 4),
                 [SBU("PklscanTest"), TUP([G("builtins", "object", 4)], 4),
                  DCT([(SBU("pklscan"), BININT1(1))], 4)], 4), 4),
        "malicious", ["builtins.type", "builtins.object"], "4: 3-argument builtins.type",
        "builtins.type(name, bases, dict) by REDUCE")

    fam = "4: BUILD on a global"
    add(m + "build_module_os_path_p0.pkl",
        GLOBAL("os", "path") + DCT([(UNICODE("pklscan_test"), INT("1"))], 0) + BUILD + STOP,
        "malicious", ["os.path"], fam, "BUILD with a dict state on the os.path module: "
        "module monkeypatching")
    add(m + "build_module_pathlib_os_p4.pkl",
        pkl(G("pathlib", "os", 4) + DCT([(SBU("pklscan_test"), SBU("1"))], 4) + BUILD, 4),
        "malicious", ["pathlib.os"], fam,
        "BUILD with a dict state on pathlib.os, i.e. the os module itself")
    add(m + "build_class_uuid_slotstate_p2.pkl",
        pkl(GLOBAL("uuid", "UUID") + TUP([NONE, DCT([(BU("pklscan_test"), NEWTRUE)], 2)], 2)
            + BUILD, 2),
        "malicious", ["uuid.UUID"], fam,
        "BUILD (None, {...}) on the allowlisted class uuid.UUID: setattr on a class; "
        "every name is allowlisted but BUILD on a global is malicious")
    add(m + "build_function_re_compile_p2.pkl",
        pkl(GLOBAL("re", "_compile") + DCT([(BU("pklscan_test"), BININT1(1))], 2) + BUILD, 2),
        "malicious", ["re._compile"], fam,
        "BUILD on the allowlisted function re._compile: writes into its __dict__")

    fam = "4: SETITEM(S)/APPEND(S) on a global"
    add(m + "setitems_os_environ_p2.pkl",
        pkl(GLOBAL("os", "environ") + MARK + BU("PKLSCAN_TEST") + BU("1")
            + BU("LD_PRELOAD") + BU(TMP + "/libx.so") + SETITEMS + POP + NONE, 2),
        "malicious", ["os.environ"], fam, "SETITEMS on os.environ")
    add(m + "setitem_sys_modules_p2.pkl",
        pkl(GLOBAL("sys", "modules") + BU("pklscan_test") + NONE + SETITEM, 2),
        "malicious", ["sys.modules"], fam, "SETITEM on sys.modules")
    add(m + "append_sys_path_p0.pkl",
        GLOBAL("sys", "path") + UNICODE(TMP) + APPEND + STOP,
        "malicious", ["sys.path"], fam, "APPEND on sys.path (protocol 0)")
    add(m + "appends_sys_path_p4.pkl",
        pkl(G("sys", "path", 4) + MARK + SBU(TMP) + SBU(TMP + "/lib") + APPENDS, 4),
        "malicious", ["sys.path"], fam, "APPENDS on sys.path")

    fam = "4: EXT1/EXT2/EXT4"
    for op, code, label in ((EXT1, 1, "ext1"), (EXT2, 0x1234, "ext2"),
                            (EXT4, 0x01020304, "ext4")):
        add(m + "%s_call_p2.pkl" % label, pkl(CALL(op(code), [BU(CMD)], 2), 2),
            "malicious", [], fam,
            "%s code %#x: resolves through the copyreg extension registry (empty by "
            "default), result called with a command" % (label.upper(), code))


# ---------------------------------------------------------------------------
# THREATS 5: gadgets
# ---------------------------------------------------------------------------

def threats5_gadgets():
    m = "malicious/"

    def gadget(path, proto, mod, name, args, fam, note, names=None, then=None):
        body = CALL(G(mod, name, proto), [a(proto) if callable(a) else a for a in args],
                    proto)
        if then is not None:
            body = then(body, proto)
        add(m + path, pkl(body, proto), "malicious",
            names or [mod + "." + name], fam, note)

    s = lambda t: (lambda p: S(t, p))            # noqa: E731 - str literal per protocol
    argv = lambda p: LST([S(a, p) for a in ARGV], p)   # noqa: E731
    empty = lambda p: DCT([], p)                 # noqa: E731
    getattr_call = lambda attr, args: (         # noqa: E731
        lambda body, p: CALL(CALL(G("builtins", "getattr", p), [body, S(attr, p)], p),
                             [S(a, p) for a in args], p))
    call_with = lambda args: (                   # noqa: E731
        lambda body, p: CALL(body, [S(a, p) for a in args], p))

    fam = "5: code execution"
    gadget("builtins_eval_p2.pkl", 2, "builtins", "eval", [s(EXPR)], fam, "eval(expr)")
    gadget("builtins_exec_p4.pkl", 4, "builtins", "exec", [s(STMT)], fam, "exec(stmt)")
    gadget("builtins_compile_p3.pkl", 3, "builtins", "compile",
           [s(STMT), s("<pklscan>"), s("exec")], fam, "compile() builds a code object")
    gadget("runpy_run_code_p2.pkl", 2, "runpy", "_run_code", [s(STMT), empty], fam,
           "runpy._run_code(source, globals) execs the source")
    gadget("code_interactive_interpreter_p2.pkl", 2, "code", "InteractiveInterpreter", [],
           fam, "InteractiveInterpreter().runsource(stmt) via getattr",
           names=["code.InteractiveInterpreter", "builtins.getattr"],
           then=getattr_call("runsource", [STMT]))
    gadget("timeit_timeit_p0.pkl", 0, "timeit", "timeit", [s(STMT)], fam,
           "timeit.timeit(stmt) execs stmt")
    gadget("cprofile_run_p1.pkl", 1, "cProfile", "run", [s(STMT)], fam,
           "cProfile.run(stmt)")
    gadget("pdb_run_p2.pkl", 2, "pdb", "run", [s(STMT)], fam, "pdb.run(stmt)")
    gadget("idlelib_calltip_get_entity_p4.pkl", 4, "idlelib.calltip", "get_entity",
           [s(EXPR)], fam, "idlelib.calltip.get_entity evals its argument")
    add(m + "idlelib_autocomplete_get_entity_p4.pkl",
        pkl(CALL(G("idlelib.autocomplete", "AutoComplete.get_entity", 4),
                 [NONE, SBU(EXPR)], 4), 4),
        "malicious", ["idlelib.autocomplete.AutoComplete.get_entity"], fam,
        "dotted protocol-4 method AutoComplete.get_entity(None, expr) evals expr")
    fwd = lambda p: CALL(G("typing", "ForwardRef", p), [S("str", p)], p)   # noqa: E731
    gadget("typing_eval_type_p4.pkl", 4, "typing", "_eval_type", [fwd, empty, empty], fam,
           "typing._eval_type(ForwardRef('str'), {}, {}) evals the forward reference",
           names=["typing._eval_type", "typing.ForwardRef"])
    gadget("typing_forwardref_evaluate_p4.pkl", 4, "typing", "ForwardRef._evaluate",
           [fwd, empty, empty, lambda p: CALL(G("builtins", "frozenset", p), [], p)], fam,
           "ForwardRef._evaluate(fwd, {}, {}, frozenset()) as a dotted protocol-4 name",
           names=["typing.ForwardRef._evaluate", "typing.ForwardRef", "builtins.frozenset"])
    gadget("numpy_testing_runstring_p3.pkl", 3, "numpy.testing._private.utils",
           "runstring", [s(STMT), empty], fam, "numpy's runstring execs source")

    fam = "5: command execution"
    gadget("subprocess_popen_p2.pkl", 2, "subprocess", "Popen", [argv], fam, "Popen(argv)")
    gadget("subprocess_check_output_p4.pkl", 4, "subprocess", "check_output", [argv], fam,
           "check_output(argv)")
    gadget("subprocess_run_p3.pkl", 3, "subprocess", "run", [argv], fam, "run(argv)")
    gadget("pty_spawn_p1.pkl", 1, "pty", "spawn", [argv], fam, "pty.spawn(argv)")
    gadget("os_spawnlp_p2.pkl", 2, "os", "spawnlp",
           [lambda p: I(0, p), s("echo"), s("echo"), s("pklscan-test")], fam,
           "os.spawnlp(P_WAIT, 'echo', 'echo', 'pklscan-test')")
    gadget("os_execvp_p4.pkl", 4, "os", "execvp", [s("echo"), argv], fam,
           "os.execvp('echo', argv)")
    gadget("os_popen_p0.pkl", 0, "os", "popen", [s(CMD)], fam, "os.popen(cmd)")
    gadget("asyncio_create_subprocess_shell_p4.pkl", 4, "asyncio.subprocess",
           "create_subprocess_shell", [s(CMD)], fam,
           "asyncio.subprocess.create_subprocess_shell(cmd)")
    gadget("pydoc_pipepager_p2.pkl", 2, "pydoc", "pipepager", [s("pklscan-test"), s("true")],
           fam, "pydoc.pipepager(text, cmd) runs cmd through a shell")
    gadget("pip_main_p2.pkl", 2, "pip", "main",
           [lambda p: LST([S("install", p), S(TMP + "/pkg", p)], p)], fam,
           "pip.main(['install', local path])")
    gadget("pip_internal_cli_main_p4.pkl", 4, "pip._internal.cli.main", "main",
           [lambda p: LST([S("--version", p)], p)], fam, "pip's internal entry point")
    gadget("ctypes_cdll_p3.pkl", 3, "ctypes", "CDLL", [s(TMP + "/libpklscan.so")], fam,
           "ctypes.CDLL loads a shared object")

    fam = "5: universal resolvers"
    gadget("pkgutil_resolve_name_p4.pkl", 4, "pkgutil", "resolve_name", [s("os:system")],
           fam, "pkgutil.resolve_name('os:system')(cmd)", then=call_with([CMD]))
    gadget("importlib_import_module_p2.pkl", 2, "importlib", "import_module", [s("os")], fam,
           "import_module('os') then getattr(mod, 'system')(cmd)",
           names=["importlib.import_module", "builtins.getattr"],
           then=getattr_call("system", [CMD]))
    gadget("pydoc_locate_p3.pkl", 3, "pydoc", "locate", [s("os.system")], fam,
           "pydoc.locate('os.system')(cmd)", then=call_with([CMD]))
    gadget("operator_attrgetter_p2.pkl", 2, "operator", "attrgetter", [s("system")], fam,
           "attrgetter('system')(uuid.os)(cmd)", names=["operator.attrgetter", "uuid.os"],
           then=lambda body, p: CALL(CALL(body, [G("uuid", "os", p)], p), [S(CMD, p)], p))
    gadget("operator_methodcaller_p4.pkl", 4, "operator", "methodcaller",
           [s("system"), s(CMD)], fam, "methodcaller('system', cmd)(uuid.os)",
           names=["operator.methodcaller", "uuid.os"],
           then=lambda body, p: CALL(body, [G("uuid", "os", p)], p))
    gadget("functools_partial_p2.pkl", 2, "functools", "partial",
           [lambda p: G("builtins", "eval", p), s(EXPR)], fam,
           "partial(eval, expr)()", names=["functools.partial", "builtins.eval"],
           then=call_with([]))
    gadget("functools_reduce_p4.pkl", 4, "functools", "reduce",
           [lambda p: G("builtins", "getattr", p), lambda p: LST([S("system", p)], p),
            lambda p: G("uuid", "os", p)], fam,
           "reduce(getattr, ['system'], uuid.os)(cmd)",
           names=["functools.reduce", "builtins.getattr", "uuid.os"], then=call_with([CMD]))
    gadget("getattr_dunder_subclasses_p4.pkl", 4, "builtins", "getattr",
           [lambda p: G("builtins", "object", p), s("__subclasses__")], fam,
           "getattr(object, '__subclasses__')(): dunder name on an allowlisted class",
           names=["builtins.getattr", "builtins.object"], then=call_with([]))
    gadget("getattr_private_enum_attr_p4.pkl", 4, "builtins", "getattr",
           [lambda p: G("re", "RegexFlag", p), s("_member_map_")], fam,
           "getattr(re.RegexFlag, '_member_map_'): allowlisted class but an underscore "
           "name, so not the enum-member form", names=["builtins.getattr", "re.RegexFlag"])
    gadget("getattr_computed_name_p4.pkl", 4, "builtins", "getattr",
           [lambda p: G("re", "RegexFlag", p),
            lambda p: CALL(G("builtins", "str", p), [S("IGNORECASE", p)], p)], fam,
           "getattr(re.RegexFlag, str('IGNORECASE')): the name is not a constant",
           names=["builtins.getattr", "re.RegexFlag", "builtins.str"])
    gadget("getattr_on_module_p3.pkl", 3, "builtins", "getattr",
           [lambda p: G("uuid", "os", p), s("system")], fam,
           "getattr(uuid.os, 'system')(cmd): target is a module, not an allowlisted class",
           names=["builtins.getattr", "uuid.os"], then=call_with([CMD]))

    fam = "5: code objects"
    code = compile(STMT, "<pklscan>", "exec")
    blob = marshal.dumps(code, 2)           # version 2: no refs, byte-stable
    gadget("marshal_loads_function_p4.pkl", 4, "types", "FunctionType",
           [lambda p: CALL(G("marshal", "loads", p), [BYTES(blob)], p), empty], fam,
           "FunctionType(marshal.loads(<code of an inert statement>), {})()",
           names=["types.FunctionType", "marshal.loads"], then=call_with([]))
    fields = [I(code.co_argcount, 4), I(code.co_posonlyargcount, 4),
              I(code.co_kwonlyargcount, 4), I(code.co_nlocals, 4), I(code.co_stacksize, 4),
              I(code.co_flags, 4), BYTES(code.co_code),
              TUP([SBU(c) if isinstance(c, str) else NONE for c in code.co_consts], 4),
              TUP([SBU(n) for n in code.co_names], 4), EMPTY_TUPLE,
              SBU(code.co_filename), SBU(code.co_name), SBU(code.co_qualname),
              I(code.co_firstlineno, 4), BYTES(code.co_linetable),
              BYTES(code.co_exceptiontable), EMPTY_TUPLE, EMPTY_TUPLE]
    assert all(isinstance(c, str) or c is None for c in code.co_consts)
    gadget("types_codetype_p4.pkl", 4, "types", "CodeType", fields, fam,
           "types.CodeType(...) of an inert statement, wrapped in FunctionType and called",
           names=["types.CodeType", "types.FunctionType"],
           then=lambda body, p: CALL(CALL(G("types", "FunctionType", p),
                                          [body, EMPTY_DICT], p), [], p))
    gadget("cloudpickle_make_function_p4.pkl", 4, "cloudpickle.cloudpickle",
           "_make_function",
           [lambda p: CALL(G("marshal", "loads", p), [BYTES(blob)], p), empty,
            s("pklscan_fn"), lambda p: NONE, lambda p: NONE], fam,
           "cloudpickle's _make_function(code, globals, name, None, None) builds a function",
           names=["cloudpickle.cloudpickle._make_function", "marshal.loads"],
           then=call_with([]))

    fam = "5: file writes"
    gadget("builtins_open_write_p3.pkl", 3, "builtins", "open",
           [s(TMP + "/out.txt"), s("w")], fam, "open(path, 'w')")
    gadget("io_open_write_p2.pkl", 2, "io", "open", [s(TMP + "/io.txt"), s("w")], fam,
           "io.open(path, 'w')")
    add(m + "pathlib_write_text_dotted_p4.pkl",
        pkl(CALL(G("pathlib", "Path.write_text", 4),
                 [CALL(G("pathlib", "PosixPath", 4), [SBU(TMP + "/pklscan.pth")], 4),
                  SBU("pklscan-test\n")], 4), 4),
        "malicious", ["pathlib.Path.write_text", "pathlib.PosixPath"], fam,
        "Path.write_text(PosixPath('/tmp/pklscan-test/pklscan.pth'), text) as a dotted "
        "protocol-4 name writes a .pth file; a dotted qualname ending in a dangerous "
        "attribute (write_text) is malicious")
    gadget("shutil_copyfile_p2.pkl", 2, "shutil", "copyfile",
           [s(TMP + "/a"), s(TMP + "/b")], fam, "shutil.copyfile(src, dst)")

    fam = "5: network"
    gadget("socket_create_connection_p3.pkl", 3, "socket", "create_connection",
           [lambda p: TUP([S("127.0.0.1", p), I(9, p)], p)], fam,
           "socket.create_connection(('127.0.0.1', 9))")
    gadget("urllib_request_urlopen_p4.pkl", 4, "urllib.request", "urlopen",
           [s("http://127.0.0.1/")], fam, "urlopen('http://127.0.0.1/')")
    gadget("http_client_connection_p2.pkl", 2, "http.client", "HTTPConnection",
           [s("127.0.0.1"), lambda p: I(9, p)], fam, "HTTPConnection('127.0.0.1', 9)")
    gadget("smtplib_smtp_p1.pkl", 1, "smtplib", "SMTP", [s("127.0.0.1"), lambda p: I(9, p)],
           fam, "smtplib.SMTP('127.0.0.1', 9) connects on construction")

    fam = "5: persistence"
    gadget("site_addsitedir_p2.pkl", 2, "site", "addsitedir", [s(TMP)], fam,
           "site.addsitedir processes .pth files of a directory")
    gadget("atexit_register_p4.pkl", 4, "atexit", "register",
           [lambda p: G("builtins", "print", p), s("pklscan-test")], fam,
           "atexit.register(print, 'pklscan-test'): runs at interpreter exit",
           names=["atexit.register", "builtins.print"])


# ---------------------------------------------------------------------------
# THREATS 6: nested loading
# ---------------------------------------------------------------------------

def threats6_nested():
    m = "malicious/"
    fam = "6: nested loading"
    inner = pkl(os_system(2), 2)
    inner_names = ["os.system"]

    def nested(path, proto, loader, arg, names, note, fam=fam, blobs=(inner,)):
        add(m + path, pkl(CALL(loader, [arg], proto), proto), "malicious",
            names, fam, note, inner=list(blobs))

    bio = lambda blob, p: CALL(G("io", "BytesIO", p), [BYTES(blob)], p)   # noqa: E731
    nested("nested_pickle_loads_p4.pkl", 4, G("pickle", "loads", 4), BYTES(inner),
           ["pickle.loads"] + inner_names, "pickle.loads(<constant pickle calling os.system>)")
    nested("nested_private_pickle_loads_p3.pkl", 3, GLOBAL("_pickle", "loads"), BYTES(inner),
           ["_pickle.loads"] + inner_names, "_pickle.loads(<constant malicious pickle>)")
    nested("nested_pickle_private_loads_p4.pkl", 4, G("pickle", "_loads", 4), BYTES(inner),
           ["pickle._loads"] + inner_names, "pure-Python pickle._loads(<constant>)")
    nested("nested_pickle_load_bytesio_p4.pkl", 4, G("pickle", "load", 4), bio(inner, 4),
           ["pickle.load", "io.BytesIO"] + inner_names,
           "pickle.load(io.BytesIO(<constant malicious pickle>))")
    nested("nested_torch_load_bytesio_p4.pkl", 4, G("torch", "load", 4), bio(inner, 4),
           ["torch.load", "io.BytesIO"] + inner_names,
           "torch.load(io.BytesIO(<raw pickle>)): the legacy path unpickles it with a "
           "full Unpickler when weights_only=False (the default before torch 2.6)")
    nested("nested_torch_load_from_bytes_p2.pkl", 2,
           GLOBAL("torch.storage", "_load_from_bytes"), B(inner, 2),
           ["torch.storage._load_from_bytes", "_codecs.encode"] + inner_names,
           "old-checkpoint shape torch.storage._load_from_bytes(<bytes>) with a malicious "
           "inner pickle (protocol-2 bytes through _codecs.encode): malicious by the "
           "inner os.system")
    nested("nested_numpy_loads_p3.pkl", 3, GLOBAL("numpy", "loads"), BYTES(inner),
           ["numpy.loads"] + inner_names, "numpy.loads(<constant>)")
    nested("nested_joblib_load_bytesio_p4.pkl", 4, G("joblib", "load", 4), bio(inner, 4),
           ["joblib.load", "io.BytesIO"] + inner_names,
           "joblib.load(io.BytesIO(<constant>))")
    nested("nested_dill_loads_p4.pkl", 4, G("dill", "loads", 4), BYTES(inner),
           ["dill.loads"] + inner_names, "dill.loads(<constant>)")
    nested("nested_cloudpickle_loads_p4.pkl", 4, G("cloudpickle", "loads", 4), BYTES(inner),
           ["cloudpickle.loads"] + inner_names, "cloudpickle.loads(<constant>)")
    nested("nested_pandas_read_pickle_p4.pkl", 4, G("pandas", "read_pickle", 4),
           bio(inner, 4), ["pandas.read_pickle", "io.BytesIO"] + inner_names,
           "pandas.read_pickle(io.BytesIO(<constant>))")
    benign_inner = pickle.dumps({"lr": 0.001, "epochs": 3}, protocol=4)
    nested("nested_benign_inner_p4.pkl", 4, G("pickle", "loads", 4), BYTES(benign_inner),
           ["pickle.loads"],
           "pickle.loads(<constant pickle of a plain dict>): the inner pickle is clean, "
           "but pickle.loads is denylisted (critical), so the file is malicious anyway",
           blobs=(benign_inner,))
    level2 = pkl(CALL(G("pickle", "loads", 4), [BYTES(inner)], 4), 4)
    nested("nested_double_p4.pkl", 4, G("pickle", "loads", 4), BYTES(level2),
           ["pickle.loads"] + inner_names,
           "pickle.loads of a pickle that itself pickle.loads the os.system pickle",
           blobs=(level2, inner))

    fam = "6: nested loading (encoded constant)"
    for path, mod, name, enc in (
            ("nested_base64_p4.pkl", "base64", "b64decode", base64.b64encode(inner)),
            ("nested_unhexlify_p4.pkl", "binascii", "unhexlify", binascii.hexlify(inner)),
            ("nested_zlib_p4.pkl", "zlib", "decompress", zlib.compress(inner, 9))):
        nested(path, 4, G("pickle", "loads", 4),
               CALL(G(mod, name, 4), [BYTES(enc)], 4),
               ["pickle.loads", mod + "." + name] + inner_names,
               "pickle.loads(%s.%s(<constant>)): decode the constant and recurse" % (mod, name),
               fam=fam)

    fam = "6: nested loading (bytes built at run time)"
    ints = EMPTY_LIST + MARK + b"".join(BININT1(c) for c in inner) + APPENDS
    add(m + "nested_runtime_bytes_list_p4.pkl",
        pkl(CALL(G("pickle", "loads", 4), [CALL(G("builtins", "bytes", 4), [ints], 4)], 4), 4),
        "malicious", ["pickle.loads", "builtins.bytes"], fam,
        "pickle.loads(bytes([...ints...])): the inner bytes exist only at run time")
    half = len(inner) // 2
    join = CALL(G("builtins", "getattr", 4), [G("builtins", "bytes", 4), SBU("join")], 4)
    built = CALL(join, [BYTES(b""), LST([BYTES(inner[:half]), BYTES(inner[half:])], 4)], 4)
    add(m + "nested_runtime_bytes_join_p4.pkl",
        pkl(CALL(G("pickle", "loads", 4), [built], 4), 4),
        "malicious", ["pickle.loads", "builtins.getattr", "builtins.bytes"], fam,
        "pickle.loads(getattr(bytes, 'join')(b'', [half1, half2])): a split payload "
        "joined at run time")


# ---------------------------------------------------------------------------

def write():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    for sub in ("benign", "malicious"):
        os.makedirs(os.path.join(OUT, sub))
    SAMPLES.sort(key=lambda s: s["file"])
    with open(os.path.join(OUT, "manifest.jsonl"), "w", encoding="utf-8") as man:
        for s in SAMPLES:
            with open(os.path.join(OUT, s["file"]), "wb") as f:
                f.write(s["data"])
            rec = {k: s[k] for k in ("file", "expect", "names", "family", "note")}
            man.write(json.dumps(rec, ensure_ascii=False) + "\n")


def main():
    benign_stdlib()
    benign_handmade_clean()
    benign_suspicious()
    benign_skipped()
    threats1_parser_differentials()
    threats2_names()
    threats3_stack_memo()
    threats4_call_paths()
    threats5_gadgets()
    threats6_nested()
    write()
    counts = collections.Counter(s["expect"] for s in SAMPLES)
    dirs = collections.Counter(s["file"].split("/")[0] for s in SAMPLES)
    print("wrote %d samples to %s: %s; %s" % (
        len(SAMPLES), os.path.relpath(OUT, REPO), dict(sorted(counts.items())),
        dict(sorted(dirs.items()))))
    for name, paths in sorted(UNLISTED.items()):
        print("not allowlisted but emitted by pickle.dumps: %s (%s)" % (name, ", ".join(paths)))


if __name__ == "__main__":
    # str hashes decide set order in the pickles: fix them for reproducible output
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable] + sys.argv)
    main()
