#!/usr/bin/env bash
# inkwell-train end to end: interrupted + resumed == uninterrupted (batch norm, dropout and
# augmentation included), a PNG tree with a corrupt file, divergence, usage errors.
# usage: test_train_cli.sh BIN_DIR   (needs MNIST: ctest's fetch fixture)
set -euo pipefail
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
args=(--data mnist --model conv8k5p2-bn-relu-maxpool2-conv16k5p2-relu-maxpool2-fc32-relu-dropout20-fc10
      --epochs 2 --valid 1000 --batch 128 --augment --threads 2)

"$bin/inkwell-train" "${args[@]}" --out "$work/a" > "$work/a.log" || fail "uninterrupted run"
for f in model.inkw metrics.csv curves.svg confusion.csv confusion.svg per_class.csv; do
  [[ -s "$work/a/$f" ]] || fail "missing $f"
done

# SIGINT once training runs: saves mid-run, exits 130; --resume finishes it.
"$bin/inkwell-train" "${args[@]}" --out "$work/b" > "$work/b.log" &
pid=$!
for _ in $(seq 100); do grep -q "^inkwell-train: fast\|^inkwell-train: conv" "$work/b.log" 2>/dev/null && break; sleep 0.05; done
sleep 1.5
kill -INT $pid
set +e; wait $pid; code=$?; set -e
[[ $code -eq 130 ]] || fail "SIGINT exit $code, expected 130"
grep -q "continue with: inkwell-train --resume" "$work/b.log" || fail "no resume hint"
"$bin/inkwell-train" --resume "$work/b" --threads 2 > "$work/b2.log" || fail "resume"
cmp -s "$work/a/model.inkw" "$work/b/model.inkw" || fail "resumed weights differ from the uninterrupted run's"
diff <(cut -d, -f1-7 "$work/a/metrics.csv") <(cut -d, -f1-7 "$work/b/metrics.csv") >/dev/null || fail "metrics differ"
"$bin/inkwell-train" --resume "$work/b" | grep -q "is complete" || fail "resuming a finished run"

# A PNG tree (MNIST's test set exported) with one corrupt file: the run stops naming it, or with
# --skip-bad leaves it out and says so.
"$bin/inkwell-export" --split test --out "$work/png" > /dev/null
printf 'not a png' > "$work/png/test/3/corrupt.png"
tree_args=(--data "$work/png/test" --model fast --epochs 1 --valid 500 --batch 128)
set +e
"$bin/inkwell-train" "${tree_args[@]}" --out "$work/t1" > /dev/null 2> "$work/t1.err"; code=$?
set -e
[[ $code -eq 1 ]] && grep -q "test/3/corrupt.png: not a PNG file" "$work/t1.err" || fail "corrupt PNG: exit $code, $(cat "$work/t1.err")"
"$bin/inkwell-train" "${tree_args[@]}" --skip-bad --out "$work/t2" > "$work/t2.log" 2> "$work/t2.err" || fail "--skip-bad run"
grep -q "skipped 1 bad files" "$work/t2.err" || fail "--skip-bad did not report the file"
grep -q "corrupt.png" "$work/t2.err" || fail "--skip-bad did not name the file"

# One CPU: no TBB worker exists, and training and evaluation still finish (they used to hang).
timeout -k 5 120 taskset -c 0 "$bin/inkwell-train" "${tree_args[@]}" --skip-bad --threads 1 --out "$work/one" \
  > /dev/null 2>&1 || fail "one CPU: exit $?"
[[ -s "$work/one/model.inkw" ]] || fail "one CPU: no model"

# SIGHUP (a closed terminal) stops like SIGINT: saved, exit 130, resumable.
"$bin/inkwell-train" "${args[@]}" --out "$work/h" > "$work/h.log" &
pid=$!
for _ in $(seq 100); do grep -q "^inkwell-train: conv" "$work/h.log" 2>/dev/null && break; sleep 0.05; done
sleep 1
kill -HUP $pid
set +e; wait $pid; code=$?; set -e
[[ $code -eq 130 ]] && grep -q "continue with: inkwell-train --resume" "$work/h.log" || fail "SIGHUP: exit $code"

# A diverging run stops with a clear message instead of writing garbage.
set +e
"$bin/inkwell-train" --data mnist --model fast --epochs 1 --lr 1e6 --optimizer sgd --out "$work/nan" > /dev/null 2> "$work/nan.err"; code=$?
[[ $code -eq 1 ]] && grep -q "training diverged" "$work/nan.err" || fail "divergence: exit $code"
# Usage errors exit 2.
"$bin/inkwell-train" --epochs 0 >/dev/null 2>&1; [[ $? -eq 2 ]] || fail "--epochs 0"
"$bin/inkwell-train" --resume "$work/b" --lr 1 >/dev/null 2>&1; [[ $? -eq 2 ]] || fail "--resume with settings"
"$bin/inkwell-train" --bogus 1 >/dev/null 2>&1; [[ $? -eq 2 ]] || fail "unknown option"
"$bin/inkwell-train" --data nowhere --out "$work/x" >/dev/null 2>"$work/nowhere.err"; code=$?
[[ $code -eq 1 ]] && grep -q "nowhere" "$work/nowhere.err" || fail "missing data: exit $code"
set -e
echo "1 passed, 0 failed"
