#!/bin/sh
# The command-line contracts.
# `pklscan dis`: exit 0 when everything decoded; on a truncated or malformed
# stream, the decoded listing on stdout, exactly one error line on stderr
# naming the offset and the opcode, and exit 2; usage errors exit 64.
# `pklscan PATH...`: clamscan-style lines and summary, JSON and JSON Lines
# that parse, exit 0/1/2 by --fail-on, errors never stopping the batch.
# `pklscan load FILE...`: one JSON line per file, exit 0 when everything
# loaded, 1 when something was refused, 2 when a file could not be loaded.
# Usage: test_cli.sh PKLSCAN SOURCE_DIR JSON_CHECK
set -u
bin=$1
src=$2
json_check=$3
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

# ---- scan ----
evil=$src/corpus/demo/os_system_echo.pkl
"$bin" "$demo" >"$tmp/out" 2>"$tmp/err"
check "scan of a clean file exits 0" [ $? -eq 0 ]
check "clean file reads OK" grep -q "checkpoint.pkl: OK" "$tmp/out"
check "text report has a summary" grep -q "^Scanned files: 1" "$tmp/out"

"$bin" "$src/corpus/demo" >"$tmp/out" 2>"$tmp/err"
check "scan of a directory with a malicious file exits 1" [ $? -eq 1 ]
check "malicious file named with its rule" grep -q "os_system_echo.pkl: MALICIOUS (exec_os_command" "$tmp/out"
check "summary counts the malicious file" grep -q "^Malicious: 1" "$tmp/out"

printf '\200\002cmylib\nModel\n)\201.' >"$tmp/sus.pkl"
"$bin" --fail-on malicious "$tmp/sus.pkl" >"$tmp/out" 2>&1
check "--fail-on malicious: a suspicious file exits 0" [ $? -eq 0 ]
"$bin" "$tmp/sus.pkl" >"$tmp/out" 2>&1
check "default --fail-on suspicious: exits 1" [ $? -eq 1 ]
check "unknown global is reported" grep -q "SUSPICIOUS (unknown_global: imports mylib.Model" "$tmp/out"

"$bin" "$tmp/missing.pkl" "$demo" >"$tmp/out" 2>&1
check "missing file, rest clean: exit 2" [ $? -eq 2 ]
check "missing file is an ERROR line" grep -q "missing.pkl: ERROR (cannot stat" "$tmp/out"
check "the batch went on" grep -q "checkpoint.pkl: OK" "$tmp/out"
"$bin" "$tmp/missing.pkl" "$evil" >"$tmp/out" 2>&1
check "findings win over errors: exit 1" [ $? -eq 1 ]

printf 'just some text\n' >"$tmp/notes.txt"
"$bin" "$tmp/notes.txt" >"$tmp/out" 2>&1
check "a text file is skipped, exit 0" [ $? -eq 0 ]
check "skipped is said" grep -q "notes.txt: SKIPPED" "$tmp/out"

"$bin" --format json -o "$tmp/report.json" "$src/corpus/demo" "$tmp/missing.pkl" "$tmp/notes.txt"
check "json run exits 1" [ $? -eq 1 ]
"$json_check" "$tmp/report.json" >"$tmp/fields" 2>&1
check "json report parses" [ $? -eq 0 ]
check "json summary counts" grep -q "files=4 clean=1 suspicious=0 malicious=1 error=1 skipped=1" "$tmp/fields"
check "json files carry sha256" grep -q "os_system_echo.pkl malicious sha256=yes" "$tmp/fields"

"$bin" --format jsonl "$src/corpus/demo" >"$tmp/report.jsonl"
"$json_check" --lines "$tmp/report.jsonl" >"$tmp/fields" 2>&1
check "jsonl lines parse" [ $? -eq 0 ]
check "jsonl has one line per file" [ "$(wc -l <"$tmp/report.jsonl")" -eq 2 ]

cat "$evil" | "$bin" - >"$tmp/out" 2>&1
check "stdin is scanned" grep -q "^-: MALICIOUS" "$tmp/out"

mkdir -p "$tmp/tree/sub"
cp "$evil" "$tmp/tree/sub/model.bin"
ln -s "$tmp/tree" "$tmp/tree/sub/loop"
mkfifo "$tmp/tree/pipe"
"$bin" --no-summary "$tmp/tree" >"$tmp/out" 2>&1
check "walk finds the file under any name" grep -q "sub/model.bin: MALICIOUS" "$tmp/out"
check "walk reports a FIFO without opening it" grep -q "pipe: ERROR (not a regular file (FIFO)" "$tmp/out"
check "symlinks are not followed by default" [ "$(grep -c MALICIOUS "$tmp/out")" -eq 1 ]
timeout 20 "$bin" --no-summary --follow-symlinks "$tmp/tree" >"$tmp/out" 2>&1
check "following symlinks stops at the loop" grep -q "directory loop" "$tmp/out"

# ---- policy and rules ----
printf '\200\002cmylib.models\nModel\n)\201.' >"$tmp/own.pkl"
printf '# our classes\nmylib.models Model class\n' >"$tmp/policy.txt"
(cd "$tmp" && "$bin" --no-summary --no-repo-policy own.pkl) >"$tmp/out" 2>&1
check "own class without policy is suspicious" grep -q "own.pkl: SUSPICIOUS" "$tmp/out"
"$bin" --no-summary --policy "$tmp/policy.txt" "$tmp/own.pkl" >"$tmp/out" 2>&1
check "--policy allows it" grep -q "own.pkl: OK" "$tmp/out"
"$bin" --no-summary --allow mylib.models.Model "$tmp/own.pkl" >"$tmp/out" 2>&1
check "--allow allows it" grep -q "own.pkl: OK" "$tmp/out"
mkdir -p "$tmp/repo/.git" "$tmp/repo/models"
cp "$tmp/policy.txt" "$tmp/repo/.pklscan-policy"
cp "$tmp/own.pkl" "$tmp/repo/models/"
(cd "$tmp/repo/models" && "$bin" --no-summary own.pkl) >"$tmp/out" 2>&1
check "the repository's .pklscan-policy is found from a subdirectory" grep -q "own.pkl: OK" "$tmp/out"
(cd "$tmp/repo/models" && "$bin" --no-summary --no-repo-policy own.pkl) >"$tmp/out" 2>&1
check "--no-repo-policy ignores it" grep -q "own.pkl: SUSPICIOUS" "$tmp/out"
printf 'not a policy line\n' >"$tmp/bad-policy.txt"
"$bin" --policy "$tmp/bad-policy.txt" "$tmp/own.pkl" >"$tmp/out" 2>&1
check "a bad policy file is a usage error" [ $? -eq 64 ]
check "naming the file and line" grep -q "bad-policy.txt:1" "$tmp/out"
"$bin" --no-summary --explain "$tmp/own.pkl" >"$tmp/out" 2>&1
check "--explain says why" grep -q "unknown   mylib.models.Model @2: not on the allowlist" "$tmp/out"
mkdir -p "$tmp/rules/trace"
printf 'rule ours { meta: id = "local.ours" severity = "critical" strings: $a = "IMPORT mylib.models Model" condition: $a }\n' >"$tmp/rules/trace/ours.yar"
"$bin" --no-summary -v --rules "$tmp/rules" --policy "$tmp/policy.txt" "$tmp/own.pkl" >"$tmp/out" 2>&1
check "--rules adds a rule that fires" grep -q "MALICIOUS (local.ours" "$tmp/out"
"$bin" --no-summary -v --no-default-rules "$evil" >"$tmp/out" 2>&1
check "--no-default-rules drops the shipped rules" sh -c "! grep -q command.os '$tmp/out'"
check "... but the policy still finds the payload" grep -q "MALICIOUS (exec_os_command" "$tmp/out"
printf 'rule broken { condition: $x }\n' >"$tmp/rules/trace/broken.yar"
"$bin" --rules "$tmp/rules" "$tmp/own.pkl" >"$tmp/out" 2>&1
check "a broken rule file is a usage error naming it" grep -q "broken.yar" "$tmp/out"

# ---- scan --sandbox: the same reports, each file scanned in the jail ----
"$bin" --no-summary -v "$src"/corpus/containers/*/* "$src"/corpus/demo/*.pkl >"$tmp/plain" 2>&1
rc_plain=$?
"$bin" --no-summary -v --sandbox "$src"/corpus/containers/*/* "$src"/corpus/demo/*.pkl >"$tmp/jailed" 2>&1
rc_jailed=$?
check "scan --sandbox reports what the in-process scan reports" cmp -s "$tmp/plain" "$tmp/jailed"
check "... with the same exit code" [ "$rc_plain" -eq "$rc_jailed" ]
check "... and no file fails in the jail" sh -c "! grep -q 'sandbox failed' '$tmp/jailed'"
"$bin" --format jsonl --sandbox "$src"/corpus/containers/malicious/* >"$tmp/out" 2>&1
check "scan --sandbox writes valid JSON Lines" "$json_check" --lines "$tmp/out"

# ---- load ----
evil=$src/corpus/demo/os_system_echo.pkl
"$bin" load "$demo" >"$tmp/out" 2>"$tmp/err"
check "load of the demo exits 0" [ $? -eq 0 ]
check "load prints one JSON line" "$json_check" --lines "$tmp/out"
check "load says it loaded" grep -q '"status":"ok"' "$tmp/out"
check "load rebuilds the values" grep -q '"epoch":3' "$tmp/out"
"$bin" load "$evil" >"$tmp/out" 2>"$tmp/err"
check "load of os.system exits 1" [ $? -eq 1 ]
check "... naming the global and its offset" \
    grep -q '"offset":2,"opcode":"GLOBAL".*global .os system. is not allowlisted' "$tmp/out"
"$bin" load --no-sandbox "$demo" >"$tmp/out" 2>&1
check "--no-sandbox is reported" grep -q '"sandbox":"none"' "$tmp/out"
"$bin" load "$demo" "$tmp/missing.pkl" "$evil" >"$tmp/out" 2>"$tmp/err"
check "a missing file in a batch exits 2" [ $? -eq 2 ]
check "... and the batch goes on" [ "$(wc -l <"$tmp/out")" -eq 3 ]
check "... with an error line for it" grep -q 'missing.pkl","status":"error"' "$tmp/out"
check "load batch output is JSON Lines" "$json_check" --lines "$tmp/out"
"$bin" load --timeout nope "$demo" >"$tmp/out" 2>&1
check "load: a bad option value is a usage error" [ $? -eq 64 ]
"$bin" load "$src/corpus/modern/benign/transformers/pytorch_model.bin" >"$tmp/out" 2>&1
check "load of a torch zip checkpoint gives tensor metadata" grep -q '"$tensor":{"dtype":"float32"' "$tmp/out"
arr=$src/corpus/modern/benign/numpy2/arrays_p4.pkl
"$bin" load --policy torch "$arr" >"$tmp/out" 2>&1
check "load --policy torch refuses numpy" grep -q "global 'numpy.* is not allowlisted" "$tmp/out"
"$bin" load --policy torch,numpy "$arr" >"$tmp/out" 2>&1
check "load --policy torch,numpy loads it" grep -q '"status":"ok"' "$tmp/out"
"$bin" load --policy torch --allow collections.OrderedDict "$demo" >"$tmp/out" 2>&1
check "load --policy NAME keeps stdlib" grep -q '"status":"ok"' "$tmp/out"

# a load that runs out of memory or time in the jail is reported as such,
# and the batch goes on (sanitizer builds load without the jail: skipped)
if "$bin" load "$demo" | grep -q '"sandbox":"seccomp"'; then
    { printf '\200\004'; yes ']' | head -n 3000000 | tr -d '\n'; printf '.'; } >"$tmp/lists.pkl"
    "$bin" load --memory 64 "$tmp/lists.pkl" "$demo" >"$tmp/out" 2>&1
    check "a memory blow-up in the jail is reported as memory" \
        grep -q 'lists.pkl","sandbox":"seccomp","status":"error","error":{"reason":"memory"' "$tmp/out"
    check "... and the next file still loads" grep -q 'checkpoint.pkl.*"status":"ok"' "$tmp/out"
    { printf '\200\004'; yes 'N0' | head -n 30000000 | tr -d '\n'; printf 'N.'; } >"$tmp/slow.pkl"
    "$bin" load --timeout 100 "$tmp/slow.pkl" "$demo" >"$tmp/out" 2>&1
    check "a load past its wall-clock limit is reported as a timeout" \
        grep -q 'slow.pkl","sandbox":"seccomp","status":"error","error":{"reason":"timeout"' "$tmp/out"
    check "... and the next file still loads" grep -q 'checkpoint.pkl.*"status":"ok"' "$tmp/out"
    rm -f "$tmp/lists.pkl" "$tmp/slow.pkl"
fi

echo "$pass passed, $fails failed"
[ "$fails" -eq 0 ]
