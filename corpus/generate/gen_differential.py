#!/usr/bin/env python3
"""Writes the differential corpus that checks pklscan's decoder against CPython.

Output, under corpus/differential/ (committed, so CI needs no Python):

  pickles/NAME.pkl   benign pickles written by CPython's own pickler (protocols
                     0-5, C and pure-Python picklers, pickletools.optimize) plus
                     a few hand-assembled Python 2 style streams
  pickles/NAME.ops   pickletools.genops listing of every pickle in NAME.pkl:
                     "offset<TAB>OPNAME<TAB>arg", arg in the canonical form below
  opcodes.tsv        pickletools' opcode table: "byte<TAB>name<TAB>proto"
  literals.tsv       loader-only literal spellings: "hex<TAB>expected<TAB>note",
                     where expected is what pickle.loads(data, encoding='bytes')
                     returned (canonical form) or "E:<exception class>"

Canonical argument form (tests/test_differential.c renders pklscan's decoded
arguments the same way):
  -            no argument
  b:True       bool
  i:123        int, decimal
  f:1.5        float, repr()
  y:00ff       bytes, hex (STRING/BINSTRING: the string's Latin-1 bytes)
  s:616263     str, hex of UTF-8 with surrogatepass (GLOBAL/INST: "module name")

Everything here is benign: only the standard library, no payloads. The
literal cases are loaded with pickle.loads to record the loader's answer; they
contain only literals, never a global.

Run: /usr/bin/python3 corpus/generate/gen_differential.py
"""

import collections
import datetime
import decimal
import enum
import fractions
import io
import os
import pathlib
import pickle
import pickletools
import re
import sys
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "differential")
PICKLES = os.path.join(OUT, "pickles")


def canon(value, opname=None):
    """Canonical text of a decoded argument or a loaded value."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "b:%s" % value
    if isinstance(value, int):
        return "i:%d" % value
    if isinstance(value, float):
        return "f:%r" % value
    if isinstance(value, (bytes, bytearray)):
        return "y:" + bytes(value).hex()
    if isinstance(value, str):
        if opname in ("STRING", "BINSTRING", "SHORT_BINSTRING"):
            return "y:" + value.encode("latin-1").hex()
        return "s:" + value.encode("utf-8", "surrogatepass").hex()
    raise TypeError("no canonical form for %r" % (value,))


def listing(data):
    """genops over every pickle stored one after another in data."""
    f = io.BytesIO(data)
    lines = []
    while f.tell() < len(data):
        for op, arg, pos in pickletools.genops(f):
            lines.append("%d\t%s\t%s" % (pos, op.name, canon(arg, op.name)))
    return "".join(line + "\n" for line in lines)


class Point:
    """A plain class: pickled through copyreg / NEWOBJ + BUILD."""

    def __init__(self, x, y):
        self.x, self.y = x, y


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self):
        self.a, self.b = 1, "two"


class Color(enum.Enum):
    RED = 1
    GREEN = 2


def objects():
    """(name, object, protocols) for the pickler-written part of the corpus."""
    rec_list = []
    rec_list.append(rec_list)
    rec_dict = {}
    rec_dict["self"] = rec_dict
    shared = [1, 2]
    nested = []
    cur = nested
    for _ in range(40):
        nxt = []
        cur.append(nxt)
        cur = nxt
    all_p = range(6)
    yield "none", None, all_p
    yield "bools", [True, False], all_p
    yield "small_ints", [0, 1, -1, 127, 255, 256, 65535, 65536, -65536], all_p
    yield "int32_edges", [2**31 - 1, -(2**31), 2**31, -(2**31) - 1, 2**32], all_p
    yield "int64_edges", [2**63 - 1, -(2**63), 2**63, -(2**63) - 1, 2**64], all_p
    yield "big_ints", [2**100, -(2**100), 2**1000 + 12345, -(2**5000) + 1], all_p
    yield "huge_int_decimal", 10**4000 + 7, all_p
    yield "huge_int_binary", 2**40000 - 3, range(2, 6)
    yield "floats", [0.0, -0.0, 1.5, -2.75, 0.1, 1 / 3, 1e16, 1e22, 123456789.125,
                     1e-5, 0.0001, 1e300, 1e-300, 5e-324, 1.7976931348623157e308], all_p
    yield "float_specials", [float("inf"), float("-inf"), float("nan")], all_p
    yield "complex", complex(1.5, -2), all_p
    yield "strings_ascii", ["", "a", "hello world", "quote's \"dq\"", "back\\slash",
                            "new\nline\r\ttab", "\x00\x1a\x7f"], all_p
    yield "strings_unicode", ["é", "日本語", "😀", "\u0080\u009f\u00a0", "\\u0041 literal",
                              "\ufeff", "\U0010ffff"], all_p
    yield "string_surrogate", ["\ud800", "a\udfffb"], all_p
    yield "string_long", ["a" * 300, "xyz" * 1000], all_p
    yield "bytes_small", [b"", b"\x00", b"abc", bytes(range(256))], all_p
    yield "bytes_long", [b"x" * 300, b"y" * 5000], all_p
    # Objects above the 64 KiB frame target are written outside any frame.
    yield "outside_frame", ["a", b"z" * 70000, "w" * 70000, 1], [4, 5]
    yield "bytearray", [bytearray(b"abc"), bytearray(300)], all_p
    yield "lists", [[], [1], list(range(1500)), [[[]]]], all_p
    yield "tuples", [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), ((),)], all_p
    yield "dicts", [{}, {"a": 1}, {i: str(i) for i in range(1200)}, {(1, 2): None}], all_p
    yield "sets", [set(), {1, 2, 3}, set(range(1500)), frozenset(), frozenset({1, 2})], all_p
    yield "nested_deep", nested, all_p
    yield "recursive_list", rec_list, all_p
    yield "recursive_dict", rec_dict, all_p
    yield "shared_refs", [shared, shared, (shared,)], all_p
    yield "datetimes", [datetime.datetime(2020, 1, 2, 3, 4, 5, 6), datetime.date(1999, 12, 31),
                        datetime.time(23, 59), datetime.timedelta(days=-1, seconds=5),
                        datetime.datetime(2021, 5, 6, tzinfo=datetime.timezone.utc)], all_p
    yield "numbers", [decimal.Decimal("1.50"), decimal.Decimal("-Infinity"),
                      fractions.Fraction(1, 3)], all_p
    yield "uuid", uuid.UUID(int=0x1234567890ABCDEF1234567890ABCDEF), all_p
    yield "collections", [collections.OrderedDict(a=1, b=2),
                          collections.defaultdict(list, {1: [2]}),
                          collections.Counter("hello"), collections.deque([1, 2], maxlen=5)], all_p
    yield "builtins_misc", [range(1, 10, 2), slice(1, 2, 3), int, len, Ellipsis,
                            NotImplemented], all_p
    yield "stdlib_misc", [pathlib.PurePosixPath("/tmp/x"), re.compile(r"a+b", re.I),
                          re.IGNORECASE], all_p
    yield "enum_member", [Color.RED, Color.GREEN], all_p
    yield "user_class", [Point(1, 2.5), Slotted()], all_p
    yield "picklebuffer_inband", [pickle.PickleBuffer(b"abc"),
                                  pickle.PickleBuffer(bytearray(b"def"))], [5]


def write(name, data):
    with open(os.path.join(PICKLES, name + ".pkl"), "wb") as f:
        f.write(data)
    with open(os.path.join(PICKLES, name + ".ops"), "w") as f:
        f.write(listing(data))


# Python 2 style streams, assembled by hand: the opcodes Python 3's pickler no
# longer writes (STRING, BINSTRING, SHORT_BINSTRING, INST, OBJ, LONG with 'L',
# __builtin__ names). Each is checked below with pickle.loads.
PY2_STREAMS = {
    "py2_proto0_strings": b"(lp0\nS'abc'\np1\naS\"it's\"\np2\naS'\\x41\\101\\n'\np3\naI01\naI00\naL12345678901234567890L\naF1.5\na.",
    "py2_proto0_inst": b"(icollections\nOrderedDict\np0\n(dp1\nb.",
    "py2_proto1_binstring": b"]q\x00(U\x03abcq\x01T\x04\x01\x00\x00" + b"z" * 260 + b"q\x02K\x05J\xff\xff\xff\xffe.",
    "py2_proto1_obj": b"(c__builtin__\nset\nq\x00]q\x01(K\x01K\x02eo.",
    "py2_proto2_builtin_names": b"\x80\x02c__builtin__\nfrozenset\nq\x00]q\x01(U\x01aq\x02U\x01bq\x03e\x85q\x04Rq\x05.",
    "py2_proto2_long": b"\x80\x02]q\x00(\x8a\x00\x8a\x01\xff\x8b\x09\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80e.",
}


# Loader-only spellings and loader-rejected ones: recorded from pickle.loads.
LITERALS = [
    (b"I0x10\n.", "hex INT"), (b"I-0x10\n.", "negative hex INT"), (b"I010\n.", "strtol octal"),
    (b"I0o17\n.", "0o via PyLong fallback"), (b"I0b101\n.", "0b via PyLong fallback"),
    (b"I1_000\n.", "underscore via PyLong fallback"), (b"I00\n.", "False"), (b"I01\n.", "True"),
    (b"I+1\n.", "3-byte line: True"), (b"I 1\n.", "3-byte line: True"),
    (b"I-0\n.", "3-byte line: False"), (b"I1\x00\n.", "3-byte line with NUL: True"),
    (b"I1 \n.", "trailing space: int via PyLong"), (b"I\t7\n.", "leading tab"),
    (b"I7\x00zz\n.", "NUL ends the number"), (b"I99999999999999999999\n.", "overflow to PyLong"),
    (b"I-9223372036854775808\n.", "LONG_MIN"), (b"I9223372036854775808\n.", "LONG_MAX+1"),
    (b"I 0x1_0\n.", "space, hex, underscore"), (b"I0x\n.", "0x without digits"),
    (b"I08\n.", "bad octal"), (b"I0_7\n.", "old octal with underscore"),
    (b"I00_0\n.", "zeros with underscore"), (b"I1__0\n.", "double underscore"),
    (b"I1_\n.", "trailing underscore"), (b"I_1\n.", "leading underscore"), (b"I\n.", "empty"),
    (b"I \n.", "only space"), (b"I12", "no newline"), (b"I" + b"9" * 4300 + b"\n.", "4300 digits"),
    (b"I" + b"9" * 4301 + b"\n.", "4301 digits"), (b"I0x" + b"f" * 5000 + b"\n.", "long hex"),
    (b"L0x10L\n.", "hex LONG"), (b"L0o7L\n.", "octal LONG"), (b"L010L\n.", "old octal LONG"),
    (b"L 5L\n.", "leading space"), (b"L12\n.", "no L"), (b"L1_2L\n.", "underscore"),
    (b"LL\n.", "only L"), (b"L5LL\n.", "double L"), (b"L5L \n.", "space after L"),
    (b"L5 L\n.", "space before L"), (b"L-0L\n.", "minus zero"), (b"L\x00L\n.", "NUL"),
    (b"L0b11L\n.", "binary"), (b"L" + b"1" * 5000 + b"L\n.", "5000 digits"),
    (b"F1e3\n.", ""), (b"Finf\n.", ""), (b"F-Infinity\n.", ""), (b"Fnan\n.", ""),
    (b"F-nan\n.", ""), (b"FINF\n.", ""), (b"FiNfInItY\n.", ""), (b"Finfin\n.", "partial infinity"),
    (b"F1.\n.", ""), (b"F.5\n.", ""), (b"F.\n.", "lone dot"), (b"F 1.0\n.", "leading space"),
    (b"F1_0\n.", "underscore"), (b"F1e999\n.", "overflow"), (b"F1e-999\n.", "underflow"),
    (b"F1.0 \n.", "trailing space"), (b"F0x10\n.", "hex"), (b"Fnan(1)\n.", "nan payload"),
    (b"F1e\n.", "exponent without digits"), (b"F+.5e+1\n.", ""), (b"F1.0\x00x\n.", "NUL"),
    (b"F00012.50\n.", "leading zeros"), (b"F-\n.", "lone sign"), (b"F4.9e-324\n.", "denormal"),
    (b"F2.5e-324\n.", "rounds to smallest denormal"), (b"F0.1000000000000000055511151231257827\n.", ""),
    (b"F1e400000000000000000000\n.", "huge exponent"),
    (b"S'a\\x41'\n.", ""), (b"S\"q\"\n.", ""), (b"S'\\101'\n.", "octal"), (b"S'\\q'\n.", "unknown escape"),
    (b"S'abc\n.", "unbalanced"), (b"S'\n.", "one quote"), (b"S''\n.", "empty"),
    (b"S'\\'\n.", "trailing backslash"), (b"S'\\x4'\n.", "short \\x"), (b"S'\\777'\n.", "octal wraps"),
    (b"S'a\"\n.", "mixed quotes"), (b"Sabc\n.", "unquoted"), (b"S'\\n\\t\\\\\\''\n.", "escapes"),
    (b"S'\\8'\n.", "not octal"), (b"S'\xe9'\n.", "latin-1 byte"), (b"S'\\x4g'\n.", "bad hex"),
    (b"V\\u0041\n.", ""), (b"V\\U0001F600\n.", ""), (b"Vabc\xe9\n.", "latin-1"), (b"V\\x41\n.", "no \\x"),
    (b"V\\\\u0041\n.", "even backslashes"), (b"V\\\\\\u0041\n.", "odd backslashes"),
    (b"V\\u00\n.", "truncated \\u"), (b"V\\U00110000\n.", "out of range"), (b"V\\ud800\n.", "surrogate"),
    (b"V\\\n.", "lone backslash"), (b"V\n.", "empty"), (b"V\\u004g\n.", "bad hex"),
    (b"X\x03\x00\x00\x00\xed\xa0\x80.", "BINUNICODE surrogatepass"),
    (b"\x8c\x02\xc3\x28.", "invalid UTF-8"), (b"\x8c\x03\xe0\x80\x80.", "overlong"),
    (b"\x8c\x04\xf4\x90\x80\x80.", "above U+10FFFF"), (b"\x8c\x02\xc3\xa9.", "valid"),
    (b"T\x00\x00\x00\x80abc.", "BINSTRING 2^31 (unsigned in C)"), (b"U\x05ab.", "short"),
    (b"J\xff\xff\xff\xff.", "BININT -1"), (b"M\xff\xff.", "BININT2"), (b"K\xff.", "BININT1"),
    (b"\x8a\x00.", "LONG1 empty"), (b"\x8a\x01\x80.", "LONG1 -128"), (b"\x8a\x02\x00\x80.", ""),
    (b"\x8b\xff\xff\xff\xff.", "LONG4 negative"), (b"\x8b\x02\x00\x00\x00\xff\x7f.", ""),
    (b"G\x3f\xf8\x00\x00\x00\x00\x00\x00.", "BINFLOAT 1.5"), (b"G\x7f\xf0\x00\x00\x00\x00\x00\x00.", "inf"),
    (b"\x80\x05N.", "PROTO 5"), (b"\x80\x06N.", "PROTO 6"), (b"\x80\xffN.", "PROTO 255"),
    (b"N\x80\x02.", "PROTO after NONE"), (b"\x95\x02\x00\x00\x00\x00\x00\x00\x00N.", "FRAME"),
    (b"\x95\xff\x00\x00\x00\x00\x00\x00\x00N.", "FRAME beyond data"),
    (b"\x95\x00\x00\x00\x00\x00\x00\x00\x80N.", "FRAME 2^63"),
    (b"\x8e\x00\x00\x00\x00\x00\x00\x00\x80.", "BINBYTES8 2^63"),
    (b"\x8e\x03\x00\x00\x00\x00\x00\x00\x00abc.", "BINBYTES8"),
    (b"\x96\x02\x00\x00\x00\x00\x00\x00\x00ab.", "BYTEARRAY8"),
    (b"\x82\x00.", "EXT1 0"), (b"\x84\xff\xff\xff\xff.", "EXT4 negative"),
    (b"c\xe9\nx\n.", "GLOBAL invalid UTF-8"), (b"c\n\n.", "GLOBAL empty"),
    (b"(i\xc3\xa9\nx\n.", "INST non-ASCII"),
    (b"I5\np 1_0\n0g10\n.", "PUT/GET base 10 with space and underscore"),
    (b"I5\np-1\n.", "negative PUT"), (b"I5\np+3\n0g3\n.", "PUT with sign"),
    (b"I5\np3\n0g 3 \n.", "GET with spaces"), (b"I5\np0x3\n.", "PUT hex rejected"),
    (b"I5\np99999999999999999999\n.", "PUT beyond 2^63"),
    (b"", "empty input"), (b"\xff", "not an opcode"), (b"N", "no STOP"),
]


def literal_expected(data):
    sys.set_int_max_str_digits(4300)  # the default limit the loader applies
    try:
        value = pickle.loads(data, encoding="bytes")
    except Exception as e:  # the loader's verdict is what we record
        return "E:" + type(e).__name__
    finally:
        sys.set_int_max_str_digits(0)  # listings print ints of any size
    return canon(value)


def main():
    sys.set_int_max_str_digits(0)
    os.makedirs(PICKLES, exist_ok=True)
    for f in os.listdir(PICKLES):
        os.unlink(os.path.join(PICKLES, f))
    count = 0
    for name, obj, protos in objects():
        for p in protos:
            try:
                data = pickle.dumps(obj, protocol=p)
            except (ValueError, TypeError, pickle.PicklingError):
                # protocol 0/1 cannot write an int of > 4300 digits, nor a
                # __slots__ class without __getstate__
                continue
            write("%s_p%d" % (name, p), data)
            count += 1
            if p >= 2:
                pure = pickle._dumps(obj, protocol=p)
                if pure != data:
                    write("%s_p%d_pure" % (name, p), pure)
                    count += 1
    # pickletools.optimize drops unused PUTs; protocol 5 out-of-band buffers
    # produce NEXT_BUFFER / READONLY_BUFFER.
    for name, obj, _ in objects():
        if name in ("dicts", "collections", "user_class", "shared_refs"):
            write(name + "_p2_optimized", pickletools.optimize(pickle.dumps(obj, protocol=2)))
            count += 1
    oob = pickle.dumps([pickle.PickleBuffer(b"ro"), pickle.PickleBuffer(bytearray(b"rw"))],
                       protocol=5, buffer_callback=lambda buf: False)
    write("picklebuffer_out_of_band_p5", oob)
    # Several pickles stored one after another, as legacy torch files do.
    stacked = b"".join(pickle.dumps(o, protocol=p)
                       for o, p in ((1, 0), ([2], 2), ("three", 4), (b"4", 5)))
    write("stacked_four_pickles", stacked)
    count += 2
    for name, data in PY2_STREAMS.items():
        pickle.loads(data, encoding="latin-1")  # must be a valid stream
        write(name, data)
        count += 1

    with open(os.path.join(OUT, "opcodes.tsv"), "w") as f:
        for op in pickletools.opcodes:
            f.write("%d\t%s\t%d\n" % (op.code.encode("latin-1")[0], op.name, op.proto))
    with open(os.path.join(OUT, "literals.tsv"), "w") as f:
        f.write("# hex\texpected (pickle.loads(data, encoding='bytes'))\tnote\n")
        for data, note in LITERALS:
            f.write("%s\t%s\t%s\n" % (data.hex(), literal_expected(data), note))
    print("wrote %d pickles and %d literal cases to %s" % (count, len(LITERALS), OUT))


if __name__ == "__main__":
    # str hashes decide set order in the pickles: fix them for reproducible output
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable] + sys.argv)
    main()
