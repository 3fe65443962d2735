#!/usr/bin/env bash
# inkwell-classify end to end: resume after a kill, SIGINT, exit codes, JSONL.
# usage: test_classify_cli.sh BIN_DIR   (needs MNIST: ctest's fetch fixture)
set -euo pipefail
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$bin/inkwell-export" --data mnist --split test --out "$work/png" >/dev/null
tree="$work/png/test"

# A complete run: the reference output.
"$bin/inkwell-classify" "$tree" --out "$work/full.csv" 2>/dev/null || fail "full run exit $?"
[[ $(wc -l < "$work/full.csv") -eq 10001 ]] || fail "expected 10000 rows + header"

# kill -9 mid-run leaves a prefix ending in a partial line: --resume repairs and completes it.
head -c $(( $(stat -c %s "$work/full.csv") * 2 / 5 )) "$work/full.csv" > "$work/killed.csv"
[[ $(tail -c 1 "$work/killed.csv") != "" ]] || fail "the cut should end mid-line"
"$bin/inkwell-classify" "$tree" --out "$work/killed.csv" --resume 2>"$work/resume.err" || fail "resume exit $?"
grep -q "removing a partial last row" "$work/resume.err" || fail "no partial-line repair reported"
# Bit-identical: the resumed run aligns its batches with the uninterrupted one's.
cmp -s "$work/full.csv" "$work/killed.csv" || fail "resumed output differs from a complete run"
# --labels-from-dirs scores the kept rows too: the same accuracy as one uninterrupted run.
head -c $(( $(stat -c %s "$work/full.csv") / 2 )) "$work/full.csv" > "$work/half.csv"
want=$("$bin/inkwell-classify" "$tree" --labels-from-dirs --out /dev/null 2>&1 | grep "^accuracy")
got=$("$bin/inkwell-classify" "$tree" --labels-from-dirs --out "$work/half.csv" --resume 2>&1 | grep "^accuracy")
[[ "$got" == "$want" ]] || fail "resumed --labels-from-dirs: '$got', uninterrupted: '$want'"
# A kept row that this run would not write (garbage in the middle) is refused, naming it.
{ head -n 3 "$work/full.csv"; echo "garbage"; sed -n '5,$p' "$work/full.csv"; } > "$work/garbage.csv"
set +e
"$bin/inkwell-classify" "$tree" --out "$work/garbage.csv" --resume 2>"$work/garbage.err"; code=$?
set -e
[[ $code -eq 1 ]] && grep -q "garbage.csv: row 3 (line 4): 1 fields" "$work/garbage.err" || fail "garbage row: exit $code"

# SIGINT: finishes what is in flight, flushes, exits 130; --resume completes it.
# Same --batch as the reference run (the default): rows match it bit for bit. The signal goes
# once rows are coming (int8 on one thread classifies 10,000 files in a quarter of a second).
eight=("$tree" "$tree" "$tree" "$tree" "$tree" "$tree" "$tree" "$tree")
"$bin/inkwell-classify" "${eight[@]}" --threads 1 --out "$work/int.csv" 2>/dev/null &
pid=$!
for _ in $(seq 100); do [[ -f "$work/int.csv" && $(wc -l < "$work/int.csv") -gt 1000 ]] && break; sleep 0.05; done
kill -INT $pid
set +e; wait $pid; code=$?; set -e
[[ $code -eq 130 ]] || fail "SIGINT exit code $code, expected 130"
rows=$(( $(wc -l < "$work/int.csv") - 1 ))
[[ $rows -gt 0 && $rows -lt 80000 ]] || fail "interrupted run wrote $rows rows"
[[ $(tail -c 1 "$work/int.csv" | od -An -c | tr -d ' ') == '\n' ]] || fail "interrupted output ends mid-line"
"$bin/inkwell-classify" "${eight[@]}" --out "$work/int.csv" --resume 2>/dev/null || fail "resume after SIGINT"
"$bin/inkwell-classify" "${eight[@]}" --out "$work/full3.csv" 2>/dev/null
cmp -s "$work/full3.csv" "$work/int.csv" || fail "output resumed after SIGINT differs"

# Resuming against other inputs is refused.
set +e
"$bin/inkwell-classify" "$tree/3" --out "$work/full.csv" --resume 2>"$work/mismatch.err"; code=$?
set -e
[[ $code -eq 1 ]] && grep -q "is not an output of these inputs\|holds 10000 rows but" "$work/mismatch.err" || fail "mismatched resume: exit $code"

# Exit codes: 3 when some files fail (and their rows say why), 2 usage, 1 fatal.
mkdir -p "$work/bad"
sevens=("$tree"/7/*.png)
cp "${sevens[0]}" "$work/bad/good.png"
printf 'not a png' > "$work/bad/bad.png"
set +e
"$bin/inkwell-classify" "$work/bad" > "$work/bad.csv" 2>/dev/null; code=$?
[[ $code -eq 3 ]] || fail "bad files: exit $code, expected 3"
grep -q '^.*bad.png,,,error: not a PNG or JPEG file$' "$work/bad.csv" || fail "no error row for bad.png"
"$bin/inkwell-classify" >/dev/null 2>&1; [[ $? -eq 2 ]] || fail "no PATH: expected exit 2"
"$bin/inkwell-classify" --top-k zero "$tree" >/dev/null 2>&1; [[ $? -eq 2 ]] || fail "bad --top-k: expected exit 2"
"$bin/inkwell-classify" --model "$work/none.inkw" "$tree" >/dev/null 2>"$work/model.err"; code=$?
[[ $code -eq 1 ]] && grep -q "none.inkw" "$work/model.err" || fail "missing model: exit $code"
printf 'INKWELL\0garbage' > "$work/corrupt.inkw"
"$bin/inkwell-classify" --model "$work/corrupt.inkw" "$tree" >/dev/null 2>"$work/model.err"; code=$?
[[ $code -eq 1 ]] && grep -q "corrupt.inkw" "$work/model.err" || fail "corrupt model: exit $code"
set -e

# JSONL with top-k: every line parses, probabilities descend.
"$bin/inkwell-classify" "$tree/5" --format jsonl --top-k 3 > "$work/out.jsonl" 2>/dev/null
python3 - "$work/out.jsonl" <<'PY' || fail "invalid JSONL"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert rows and all(r["status"] == "ok" and len(r["top"]) == 3 for r in rows)
assert all(r["top"][0][1] >= r["top"][1][1] >= r["top"][2][1] for r in rows)
assert [r["path"] for r in rows] == sorted(r["path"] for r in rows)
PY

# Paths from stdin.
fives=("$tree"/5/*.png)
printf '%s\n' "${fives[@]:0:20}" | "$bin/inkwell-classify" - > "$work/stdin.csv" 2>/dev/null
[[ $(wc -l < "$work/stdin.csv") -eq 21 ]] || fail "stdin paths"

# A run that fails after opening --out (here: a model for 14x14 images) leaves exactly what it
# wrote, the header. The output buffer used to be freed before glibc's exit-time flush, which then
# wrote freed heap bytes into the file: the sanitizer leg fills freed memory, which shows it.
set +e
"$bin/inkwell-classify" --model "$(dirname "$0")/data/model-input-14x14.inkw" "$tree/3" --out "$work/failed.csv" 2>"$work/failed.err"
code=$?
set -e
[[ $code -eq 1 ]] && grep -q "the model takes 1x14x14 inputs, classification (images fitted to 28x28) gives 1x28x28" "$work/failed.err" ||
  fail "14x14 model: exit $code: $(cat "$work/failed.err")"
[[ "$(cat "$work/failed.csv")" == "path,label,confidence,status" ]] || fail "a failed run left $(od -c "$work/failed.csv" | head -3)"
# inkwell-quantize with the same model used to size its batch from the model (14x14) and fill it
# with 28x28 images: a heap overflow (ASan), or "double free or corruption". It must refuse, naming
# the model file and both shapes.
set +e
"$bin/inkwell-quantize" --model "$(dirname "$0")/data/model-input-14x14.inkw" --data mnist --images 20 --out "$work/q.inkw" 2>"$work/quantize.err"
code=$?
set -e
[[ $code -eq 1 ]] && grep -q "model-input-14x14.inkw: the model takes 1x14x14 inputs, mnist gives 1x28x28" "$work/quantize.err" ||
  fail "quantize with a 14x14 model: exit $code: $(cat "$work/quantize.err")"
[[ ! -e "$work/q.inkw" ]] || fail "quantize wrote a model it refused"

# A full disk: exit 1 with an error naming the file, and the file holds a prefix of the full
# output, never stray bytes (the output buffer used to be freed before glibc's exit flush).
# Root only: it mounts a 64 KiB tmpfs in a private mount namespace.
if [[ $(id -u) -eq 0 ]]; then
  mkdir "$work/disk"
  set +e
  unshare --mount --propagation private sh -c 'mount -t tmpfs -o size=64k tmpfs "$1" && "$2" "$3" --out "$1/rows.csv" 2>"$4";
    code=$?; cp "$1/rows.csv" "$5"; exit $code' _ "$work/disk" "$bin/inkwell-classify" "$tree" "$work/disk.err" "$work/disk.csv"
  code=$?
  set -e
  [[ $code -eq 1 ]] && grep -q "rows.csv: writing failed (No space left on device)" "$work/disk.err" \
    || fail "full disk: exit $code, $(cat "$work/disk.err")"
  size=$(stat -c %s "$work/disk.csv")
  [[ $size -gt 0 ]] && cmp -s -n "$size" "$work/disk.csv" "$work/full.csv" || fail "full disk: the file is not a prefix of the output"
  # A read-only --out: exit 1 naming the file.
  mkdir "$work/ro"
  set +e
  unshare --mount --propagation private sh -c 'mount -t tmpfs -o ro tmpfs "$1" && "$2" "$3" --out "$1/rows.csv"' \
    _ "$work/ro" "$bin/inkwell-classify" "$tree/3" 2> "$work/ro.err"
  code=$?
  set -e
  [[ $code -eq 1 ]] && grep -q "rows.csv: cannot open for writing (Read-only file system)" "$work/ro.err" \
    || fail "read-only --out: exit $code, $(cat "$work/ro.err")"
else
  echo "skipped: the full-disk test needs root (tmpfs mount)"
fi

# JPEG scans: the same test set saved as JPEG (quality 95) gets the same labels as the PNGs,
# except where the PNG's own top label is a near tie (JPEG's rounding may tip it).
"$bin/inkwell-export" --data mnist --split test --format jpg --out "$work/jpg" >/dev/null
"$bin/inkwell-classify" "$work/jpg/test" --out "$work/jpg.csv" 2>/dev/null || fail "JPEG tree: exit $?"
[[ $(wc -l < "$work/jpg.csv") -eq 10001 ]] || fail "JPEG tree: expected 10000 rows"
paste -d, "$work/full.csv" "$work/jpg.csv" | awk -F, -v out="$work/jpg.diff" '
  NR > 1 { total++; if ($2 != $6) { differ++; if ($3 > 0.6) { print > out; bad++ } } }
  END { printf "JPEG vs PNG: %d of %d labels differ\n", differ, total > "/dev/stderr"; exit (bad > 0 || differ > 10) }' \
  || fail "JPEG labels differ from PNG labels: $(head -3 "$work/jpg.diff" 2>/dev/null)"

# Paths on stdin: CRLF lines (a list made on Windows) and NUL-separated (find -print0).
find "$tree/3" -name '*.png' | sort | sed -n 1,20p > "$work/list"
sed 's/$/\r/' "$work/list" | "$bin/inkwell-classify" - --out "$work/crlf.csv" 2>/dev/null || fail "CRLF list: exit $?"
find "$tree/3" -name '*.png' -print0 | sort -z | sed -z -n 1,20p | "$bin/inkwell-classify" -0 - --out "$work/nul.csv" 2>/dev/null \
  || fail "-0 list: exit $?"
"$bin/inkwell-classify" - --out "$work/lf.csv" < "$work/list" 2>/dev/null
cmp -s "$work/crlf.csv" "$work/lf.csv" && cmp -s "$work/nul.csv" "$work/lf.csv" || fail "CRLF or -0 list rows differ from LF's"
grep -q $'\r' "$work/crlf.csv" && fail "a CR stayed in a path"
[[ $(grep -c ',ok' "$work/lf.csv") -eq 20 ]] || fail "list mode: not 20 ok rows"

# Progress goes to stderr only: stdout holds the same bytes with --progress always as with never,
# and always writes status lines into a pipe (auto and never write none there).
INKWELL_PROGRESS_SECONDS=0.001 "$bin/inkwell-classify" "$tree/3" --progress always > "$work/p-always.csv" 2> "$work/p-always.err"
INKWELL_PROGRESS_SECONDS=0.001 "$bin/inkwell-classify" "$tree/3" --progress never > "$work/p-never.csv" 2> "$work/p-never.err"
INKWELL_PROGRESS_SECONDS=0.001 "$bin/inkwell-classify" "$tree/3" > /dev/null 2> "$work/p-auto.err"
cmp -s "$work/p-always.csv" "$work/p-never.csv" || fail "--progress changed the output rows"
grep -qE '^[0-9,]+ (of [0-9,]+\+? )?files' "$work/p-always.err" || fail "--progress always: no status line: $(cat "$work/p-always.err")"
grep -qE 'files' "$work/p-never.err" "$work/p-auto.err" && fail "--progress never or auto printed a status line into a pipe"
# On a terminal (script(1) gives the run a pseudo-terminal), auto redraws one line in place
# (every 200 ms: the run gets 30,000 files in f32 on one thread, well over that).
if command -v script >/dev/null; then
  script -qec "'$bin/inkwell-classify' --threads 1 --batch 8 --precision f32 '$tree' '$tree' '$tree' --out '$work/tty.csv'" /dev/null > "$work/tty.log" < /dev/null
  grep -qaE $'\r[0-9,]+ (of [0-9,]+\+? )?files.*img/s' "$work/tty.log" || fail "no live status line on a terminal"
  # The same settings without a terminal: the rows must be the same bytes (other batch sizes may
  # round a confidence's last digit differently on some ISAs, so the settings match).
  "$bin/inkwell-classify" --threads 1 --batch 8 --precision f32 "$tree" "$tree" "$tree" --out "$work/tty-ref.csv" 2>/dev/null
  cmp -s "$work/tty.csv" "$work/tty-ref.csv" || fail "output rows differ with the status line shown"
fi

# The letters model prints letters, and real-world renderings of the 200 held-out EMNIST letters
# (dark on light, other sizes) score within 3 points of the same letters as IDX-like PNGs.
src=$(cd "$(dirname "$0")/.." && pwd)
"$src/data/letters-sample" "$work/letters" > /dev/null
"$bin/inkwell-export" --data "$work/letters" --split test --out "$work/letters-png" > /dev/null
"$bin/inkwell-export" --data "$work/letters" --split test --variants --out "$work/letters-var" > /dev/null
acc() { "$bin/inkwell-classify" --model "$src/models/letters.inkw" --labels-from-dirs "$1" 2>&1 >"$2" | sed -n 's/^accuracy: \([0-9.]*\).*/\1/p'; }
plain=$(acc "$work/letters-png/test" "$work/letters.csv")
real=$(acc "$work/letters-var/test" /dev/null)
awk -F, 'NR > 1 && $2 !~ /^[A-Z]$/ { exit 1 }' "$work/letters.csv" || fail "letters.inkw printed a label that is not a letter"
awk -v a="$plain" -v b="$real" 'BEGIN { exit !(a >= 0.75 && a - b <= 0.03 && b - a <= 0.03) }' \
  || fail "letters: $plain on the PNGs, $real real-world style"

# Files are opened relative to their directory's descriptor (openat). A tree of 400 folders of
# one file each, with the descriptor limit at 40: no file fails for want of a descriptor (the
# walker keeps at most a quarter of the limit open), and the rows are those of a normal run.
mkdir -p "$work/many"
for i in $(seq 0 399); do mkdir "$work/many/d$i" && cp "$tree/$((i % 10))/$(ls "$tree/$((i % 10))" | sed -n "$((i / 10 + 1))p")" "$work/many/d$i/"; done
"$bin/inkwell-classify" "$work/many" --out "$work/many.csv" 2>/dev/null || fail "many folders: exit $?"
(ulimit -n 40 && "$bin/inkwell-classify" "$work/many" --out "$work/many40.csv" 2>"$work/many40.err") || fail "many folders, 40 descriptors: exit $? ($(tail -2 "$work/many40.err"))"
cmp -s "$work/many.csv" "$work/many40.csv" || fail "many folders: rows differ with 40 descriptors"
[[ $(grep -c ",ok$" "$work/many40.csv") -eq 400 ]] || fail "many folders: not 400 ok rows"

# One CPU: classification finishes (no TBB worker at all).
timeout -k 5 60 taskset -c 0 "$bin/inkwell-classify" "$tree/5" --out "$work/one-cpu.csv" 2>/dev/null \
  || fail "one CPU: exit $?"
[[ $(wc -l < "$work/one-cpu.csv") -eq $(( $(ls "$tree/5" | wc -l) + 1 )) ]] || fail "one CPU: rows missing"

# A second Ctrl-C ends the process at once, even where the first cannot be acted on: here it
# waits for paths on a stdin that stays open and silent.
mkfifo "$work/paths"
"$bin/inkwell-classify" - --out "$work/sig.csv" < "$work/paths" 2> "$work/sig.err" &
pid=$!
exec {hold}> "$work/paths"  # opens the FIFO's write end, so the reader blocks in read
sleep 0.5
kill -INT $pid; sleep 0.3
kill -0 $pid 2>/dev/null || fail "the first SIGINT ended a process that was waiting for input"
kill -INT $pid
for _ in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
set +e; wait $pid; code=$?; set -e
exec {hold}>&-
[[ $code -eq 130 ]] && grep -q "interrupted again" "$work/sig.err" || fail "second SIGINT: exit $code"

# Bytes a terminal would act on never reach it from a path or a class name: they are shown as
# \xNN in messages, summaries and inkwell-info, and kept as they are in the rows (data).
esc=$work/$'evil\e[2J\x01'
mkdir -p "$esc/3"
cp "$tree/3/$(ls "$tree/3" | head -1)" "$esc/3/a.png"
echo "not a png" > "$esc/3/bad.png"
cp "$(dirname "${BASH_SOURCE[0]}")/../models/default.inkw" "$esc/m.inkw"
set +e; "$bin/inkwell-classify" "$esc" --model "$esc/m.inkw" --labels-from-dirs --out "$work/esc.csv" 2> "$work/esc.err"; set -e
"$bin/inkwell-info" "$esc/m.inkw" > "$work/esc.info" 2>&1 || fail "inkwell-info on a model under a hostile path"
"$bin/inkwell-info" "$esc/missing.inkw" > "$work/esc.missing" 2>&1 && fail "inkwell-info on a missing model: exit 0"
for f in esc.err esc.info esc.missing; do
  ! grep -q $'[\e\x01]' "$work/$f" || fail "$f: a raw control byte reached the terminal"
  grep -qF 'evil\x1b[2J\x01' "$work/$f" || fail "$f: the path is not shown: $(head -2 "$work/$f")"
done
grep -q $'evil\e\\[2J\x01/3/a.png' "$work/esc.csv" || fail "the rows do not keep the path's bytes"
echo "1 passed, 0 failed"
