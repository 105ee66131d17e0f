#!/bin/sh
# The `pklscan dis` contract: exit 0 when everything decoded; on a truncated
# or malformed stream, the decoded listing on stdout, exactly one error line
# on stderr naming the offset and the opcode, and exit 2; usage errors exit 64.
# Usage: test_cli.sh PKLSCAN SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
pass=0
check() { # description, condition...
    desc=$1
    shift
    if "$@"; then pass=$((pass + 1)); else echo "FAIL: $desc"; fails=$((fails + 1)); fi
}

demo=$src/corpus/demo/checkpoint.pkl
sample=$src/corpus/differential/pickles/collections_p2.pkl

"$bin" --version >"$tmp/out" 2>&1
check "--version exits 0" [ $? -eq 0 ]
check "--version prints the version" grep -q '^pklscan 0\.' "$tmp/out"

"$bin" dis "$demo" >"$tmp/out" 2>"$tmp/err"
check "dis of the demo exits 0" [ $? -eq 0 ]
check "dis of the demo ends with STOP" grep -q 'STOP' "$tmp/out"
check "dis of the demo prints nothing on stderr" [ ! -s "$tmp/err" ]

# Truncated: cut the sample in the middle of its data.
size=$(wc -c <"$sample")
head -c $((size / 2)) "$sample" >"$tmp/cut.pkl"
"$bin" dis "$tmp/cut.pkl" >"$tmp/out" 2>"$tmp/err"
check "truncated stream exits 2" [ $? -eq 2 ]
check "truncated stream still lists what decoded" [ "$(wc -l <"$tmp/out")" -gt 5 ]
check "truncated stream: exactly one error line" [ "$(wc -l <"$tmp/err")" -eq 1 ]
check "error line names the file, offset and opcode" \
    grep -Eq "cut.pkl: error at offset [0-9]+ \((FRAME|end of data|[A-Z_0-9]+)\)" "$tmp/err"

# Unknown opcode after a valid prefix.
printf '\200\002N\377.' >"$tmp/bad.pkl"
"$bin" dis "$tmp/bad.pkl" >"$tmp/out" 2>"$tmp/err"
check "unknown opcode exits 2" [ $? -eq 2 ]
check "unknown opcode: prefix listed" grep -q 'NONE' "$tmp/out"
check "unknown opcode: offset 3 and byte named" grep -q 'error at offset 3 (byte 0xff)' "$tmp/err"

# 2^63 declared length.
printf '\216\000\000\000\000\000\000\000\200' >"$tmp/huge.pkl"
"$bin" dis "$tmp/huge.pkl" >"$tmp/out" 2>"$tmp/err"
check "2^63 length exits 2" [ $? -eq 2 ]
check "2^63 length names BINBYTES8" grep -q 'offset 0 (BINBYTES8)' "$tmp/err"

# Several pickles in one file, from stdin.
cat "$src/corpus/differential/pickles/stacked_four_pickles.pkl" | "$bin" dis - >"$tmp/out" 2>"$tmp/err"
check "stacked pickles from stdin exit 0" [ $? -eq 0 ]
check "all four pickles listed" [ "$(grep -c 'STOP' "$tmp/out")" -eq 4 ]

# A batch: one missing file does not stop the others.
"$bin" dis "$tmp/missing.pkl" "$demo" >"$tmp/out" 2>"$tmp/err"
check "batch with a missing file exits 2" [ $? -eq 2 ]
check "batch still disassembles the good file" grep -q 'STOP' "$tmp/out"
check "missing file is named" grep -q 'missing.pkl: cannot read' "$tmp/err"

"$bin" dis >/dev/null 2>&1
check "dis without a file is a usage error" [ $? -eq 64 ]
"$bin" --frobnicate >/dev/null 2>&1
check "unknown option is a usage error" [ $? -eq 64 ]

echo "$pass passed, $fails failed"
[ "$fails" -eq 0 ]
