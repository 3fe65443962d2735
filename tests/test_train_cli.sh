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

# stop_with SIGNAL DIR: starts the run of "${args[@]}" into DIR, sends SIGNAL once it trains,
# and checks that it saved, said how to resume, and exited 130.
stop_with() {
  "$bin/inkwell-train" "${args[@]}" --out "$2" > "$2.log" &
  local pid=$! code
  for _ in $(seq 100); do grep -q "^inkwell-train: conv" "$2.log" 2>/dev/null && break; sleep 0.05; done
  sleep 1.5
  kill -"$1" $pid
  set +e; wait $pid; code=$?; set -e
  [[ $code -eq 130 ]] || fail "SIG$1: exit $code, expected 130"
  grep -q "continue with: inkwell-train --resume" "$2.log" || fail "SIG$1: no resume hint"
}

# SIGINT once training runs: saves mid-run, exits 130; --resume finishes it.
stop_with INT "$work/b"
"$bin/inkwell-train" --resume "$work/b" --threads 2 > "$work/b2.log" || fail "resume"
cmp -s "$work/a/model.inkw" "$work/b/model.inkw" || fail "resumed weights differ from the uninterrupted run's"
diff <(cut -d, -f1-7 "$work/a/metrics.csv") <(cut -d, -f1-7 "$work/b/metrics.csv") >/dev/null || fail "metrics differ"
"$bin/inkwell-train" --resume "$work/b" | grep -q "is complete" || fail "resuming a finished run"

# MNIST's test set as a PNG tree, for the tests below.
"$bin/inkwell-export" --split test --out "$work/png" > /dev/null

# --checkpoint-every: the same weights as without it; kill -9 after a checkpoint loses only the
# steps since, and --resume ends with the uninterrupted run's weights.
"$bin/inkwell-train" "${args[@]}" --checkpoint-every 100 --out "$work/c" > /dev/null || fail "--checkpoint-every run"
cmp -s "$work/a/model.inkw" "$work/c/model.inkw" || fail "--checkpoint-every changed the weights"
"$bin/inkwell-train" "${args[@]}" --checkpoint-every 100 --out "$work/k" > /dev/null &
pid=$!
for _ in $(seq 400); do [[ -s "$work/k/model.inkw" ]] && break; sleep 0.05; done
[[ -s "$work/k/model.inkw" ]] || fail "no checkpoint written mid-epoch"
kill -9 $pid
set +e; wait $pid; set -e
"$bin/inkwell-train" --resume "$work/k" --threads 2 > "$work/k.log" || fail "resume after kill -9"
grep -q "resuming $work/k at epoch 1, step [1-9]" "$work/k.log" || fail "did not resume mid-epoch: $(head -2 "$work/k.log")"
cmp -s "$work/a/model.inkw" "$work/k/model.inkw" || fail "resumed after kill -9: weights differ"

# A full disk: the save that does not fit is an error naming the file, and the last good
# checkpoint survives it (root only: a 600 KB tmpfs holds one model.inkw of this net, not two).
if [[ $(id -u) -eq 0 ]]; then
  mkdir "$work/disk"
  set +e
  unshare --mount --propagation private sh -c 'd=$1; shift; mount -t tmpfs -o size=600k tmpfs "$d" &&
    "$@" --out "$d/run" > /dev/null 2> "$d/../disk.err"; code=$?; cp -r "$d/run" "$d/../disk-run"; exit $code' \
    _ "$work/disk" "$bin/inkwell-train" --data mnist --model seed --epochs 3 --valid 1000 --batch 128 --threads 2
  code=$?
  set -e
  [[ $code -eq 1 ]] && grep -q "model.inkw: write failed (No space left on device)" "$work/disk.err" \
    || fail "full disk: exit $code, $(cat "$work/disk.err")"
  "$bin/inkwell-classify" --model "$work/disk-run/model.inkw" "$work/png/test/3" --out /dev/null 2>/dev/null \
    || fail "full disk: the last good checkpoint does not load"
  # A read-only --out: exit 1 naming it.
  mkdir "$work/ro"
  set +e
  unshare --mount --propagation private sh -c 'd=$1; shift; mount -t tmpfs -o ro tmpfs "$d" && "$@" --out "$d/run"' \
    _ "$work/ro" "$bin/inkwell-train" --data mnist --model fast --epochs 1 > /dev/null 2> "$work/ro.err"
  code=$?
  set -e
  [[ $code -eq 1 ]] && grep -q "Read-only file system.*ro/run" "$work/ro.err" || fail "read-only --out: exit $code, $(cat "$work/ro.err")"
else
  echo "skipped: the full-disk test needs root (tmpfs mount)"
fi

# A PNG tree (MNIST's test set exported) with one corrupt file: the run stops naming it, or with
# --skip-bad leaves it out and says so.
printf 'not a png' > "$work/png/test/3/corrupt.png"
tree_args=(--data "$work/png/test" --model fast --epochs 1 --valid 500 --batch 128)
set +e
"$bin/inkwell-train" "${tree_args[@]}" --out "$work/t1" > /dev/null 2> "$work/t1.err"; code=$?
set -e
[[ $code -eq 1 ]] && grep -q "test/3/corrupt.png: not a PNG or JPEG file" "$work/t1.err" || fail "corrupt PNG: exit $code, $(cat "$work/t1.err")"
"$bin/inkwell-train" "${tree_args[@]}" --skip-bad --out "$work/t2" > "$work/t2.log" 2> "$work/t2.err" || fail "--skip-bad run"
grep -q "skipped 1 bad files" "$work/t2.err" || fail "--skip-bad did not report the file"
grep -q "corrupt.png" "$work/t2.err" || fail "--skip-bad did not name the file"

# A small tree (1,500 images): the default --valid is a share (10%), so it trains without flags.
for c in 0 1 2 3 4 5 6 7 8 9; do
  mkdir -p "$work/small/$c"
  find "$work/png/test/$c" -name '0*.png' | sort | sed -n 1,150p | xargs cp -t "$work/small/$c"
done
small=(--data "$work/small" --model fast --epochs 3 --batch 32 --progress never)
"$bin/inkwell-train" "${small[@]}" --keep-best --test-at-end --out "$work/s1" > "$work/s1.log" 2> "$work/s1.err" \
  || fail "small tree with default --valid: $(cat "$work/s1.err")"
grep -q "(1158 train, 128 valid, 214 test)" "$work/s1.log" || fail "small tree split: $(head -1 "$work/s1.log")"
# metrics.csv: an lr column (cosine: falling), test figures only in the last row (--test-at-end).
head -1 "$work/s1/metrics.csv" | grep -q ',seconds,lr$' || fail "no lr column"
awk -F, 'NR > 1 { if (NR < 4 && $6 != "") exit 1; if (NR == 4 && $6 == "") exit 1; if (NR > 2 && $10 >= prev) exit 1; prev = $10 }' \
  "$work/s1/metrics.csv" || fail "--test-at-end or lr column wrong: $(cat "$work/s1/metrics.csv")"
[[ -s "$work/s1/confusion.csv" ]] || fail "--test-at-end wrote no confusion matrix"
# --keep-best: best.inkw, the epoch with the highest valid_acc, loads and classifies.
best=$(awk -F, 'NR > 1 && $5 > max { max = $5; e = $1 } END { print e }' "$work/s1/metrics.csv")
grep -q "best validation accuracy .* at epoch $best: " "$work/s1.log" || fail "--keep-best: not epoch $best: $(tail -3 "$work/s1.log")"
"$bin/inkwell-classify" --model "$work/s1/best.inkw" "$work/small/3" --out /dev/null 2>/dev/null || fail "best.inkw does not classify"
# --valid 0: no validation figures anywhere.
"$bin/inkwell-train" "${small[@]}" --epochs 1 --valid 0 --out "$work/s2" > "$work/s2.log" || fail "--valid 0 run"
grep -q "valid" <(grep '^epoch' "$work/s2.log") && fail "--valid 0 printed validation figures: $(grep '^epoch' "$work/s2.log")"
awk -F, 'NR == 2 && ($4 != "" || $5 != "") { exit 1 }' "$work/s2/metrics.csv" || fail "--valid 0: metrics.csv has valid figures"
# The live line goes to stderr, never into stdout's epoch lines (`| tee log` keeps it on the terminal).
INKWELL_PROGRESS_SECONDS=0.001 "$bin/inkwell-train" "${small[@]}" --epochs 1 --progress always --out "$work/s3" \
  > "$work/s3.log" 2> "$work/s3.err" || fail "--progress always run"
grep -qE '^epoch 1/1  step [0-9]+/[0-9]+  loss [0-9.]+  [0-9,]+ img/s  ETA epoch .*, run ' "$work/s3.err" \
  || fail "no status line on stderr: $(head -3 "$work/s3.err")"
grep -q 'step' "$work/s3.log" && fail "status line in stdout"
# A diverged loss is printed readably and warned about.
"$bin/inkwell-train" "${small[@]}" --epochs 1 --lr 100 --out "$work/s4" > "$work/s4.log" 2> "$work/s4.err" || fail "lr 100 run"
grep -qE '^epoch 1/1  train loss [0-9]\.[0-9]{3}e\+[0-9]+ acc' "$work/s4.log" && grep -q "has diverged; a lower --lr" "$work/s4.err" \
  || fail "diverged loss: $(cat "$work/s4.log" "$work/s4.err")"
# An unfinished run in --out is not overwritten by a new one, unless --force.
cp -r "$work/b" "$work/u"
"$bin/inkwell-train" --data mnist --model fast --epochs 1 --out "$work/s1" --progress never > /dev/null 2>&1 \
  || fail "a finished run's --out should be reusable"
set +e
"$bin/inkwell-train" "${small[@]}" --out "$work/k2" > /dev/null 2>&1 &
pid=$!
for _ in $(seq 200); do grep -q '^epoch' <(cat "$work/k2/metrics.csv" 2>/dev/null) && break; sleep 0.05; done
kill -INT $pid; wait $pid
"$bin/inkwell-train" "${small[@]}" --out "$work/k2" > /dev/null 2> "$work/k2.err"; code=$?
set -e
[[ $code -eq 2 ]] && grep -q "holds an unfinished run .*--resume $work/k2, or give --force" "$work/k2.err" \
  || fail "unfinished run overwritten: exit $code, $(cat "$work/k2.err")"
"$bin/inkwell-train" "${small[@]}" --epochs 1 --force --out "$work/k2" > /dev/null || fail "--force did not start over"

# Fine-tuning on real letters from the digits model: the convolutions come from the file, the last
# layer (26 outputs) starts anew; --freeze cannot freeze everything.
"$(dirname "$0")/../data/letters-sample" "$work/letters" > /dev/null
models=$(cd "$(dirname "$0")/../models" && pwd)
"$bin/inkwell-train" --data "$work/letters" --init-from "$models/accurate.inkw" --freeze 1 --epochs 1 --progress never \
  --out "$work/ft" > "$work/ft.log" || fail "--init-from run"
grep -q "4 of 6 tensors from .*accurate.inkw; initialised anew: fc1.weights, fc1.bias" "$work/ft.log" || fail "--init-from: $(head -2 "$work/ft.log")"
# ... and from a model trained in PyTorch, as ONNX (tests/data/onnx/seed_pytorch.py).
"$bin/inkwell-train" --data "$work/letters" --init-from "$(dirname "$0")/data/onnx/seed-pytorch.onnx" --epochs 1 --progress never \
  --out "$work/ft-onnx" > "$work/ft-onnx.log" || fail "--init-from ONNX run"
grep -q "4 of 6 tensors from .*seed-pytorch.onnx; initialised anew: fc1.weights, fc1.bias" "$work/ft-onnx.log" ||
  fail "--init-from ONNX: $(head -2 "$work/ft-onnx.log")"
# Interrupted and resumed, a fine-tuned run ends as an uninterrupted one (its normalisation is the
# model's it started from, on resume too).
ft=(--data "$work/letters" --init-from "$models/accurate.inkw" --freeze 1 --epochs 40 --batch 128 --threads 2 --progress never)
"$bin/inkwell-train" "${ft[@]}" --out "$work/ftA" > /dev/null || fail "fine-tune run"
"$bin/inkwell-train" "${ft[@]}" --out "$work/ftB" > "$work/ftB.log" &
pid=$!
for _ in $(seq 400); do grep -q '^epoch 1/40' "$work/ftB.log" 2>/dev/null && break; sleep 0.05; done
kill -INT $pid
set +e; wait $pid; code=$?; set -e
[[ $code -eq 130 ]] || fail "fine-tune SIGINT: exit $code"
"$bin/inkwell-train" --resume "$work/ftB" --threads 2 --progress never > /dev/null || fail "fine-tune resume"
cmp -s "$work/ftA/model.inkw" "$work/ftB/model.inkw" || fail "resumed fine-tune differs from the uninterrupted one"
set +e
"$bin/inkwell-train" --data "$work/letters" --init-from "$models/accurate.inkw" --freeze 3 --out "$work/ft3" > /dev/null 2> "$work/ft3.err"; code=$?
set -e
[[ $code -eq 2 ]] && grep -q "would leave nothing to train" "$work/ft3.err" || fail "--freeze 3: exit $code, $(cat "$work/ft3.err")"

# One CPU: no TBB worker exists, and training and evaluation still finish (they used to hang).
timeout -k 5 120 taskset -c 0 "$bin/inkwell-train" "${tree_args[@]}" --skip-bad --threads 1 --out "$work/one" \
  > /dev/null 2>&1 || fail "one CPU: exit $?"
[[ -s "$work/one/model.inkw" ]] || fail "one CPU: no model"

# SIGHUP (a closed terminal) stops like SIGINT: saved, exit 130, resumable.
stop_with HUP "$work/h"

# A diverging run stops with a clear message instead of writing garbage.
set +e
"$bin/inkwell-train" --data mnist --model fast --epochs 1 --lr 1e5 --optimizer sgd --out "$work/nan" > /dev/null 2> "$work/nan.err"; code=$?
[[ $code -eq 1 ]] && grep -q "training diverged" "$work/nan.err" || fail "divergence: exit $code"
# Usage errors exit 2.
"$bin/inkwell-train" --epochs 0 >/dev/null 2>&1; [[ $? -eq 2 ]] || fail "--epochs 0"
"$bin/inkwell-train" --resume "$work/b" --lr 1 >/dev/null 2>&1; [[ $? -eq 2 ]] || fail "--resume with settings"
"$bin/inkwell-train" --bogus 1 >/dev/null 2>&1; [[ $? -eq 2 ]] || fail "unknown option"
"$bin/inkwell-train" --data nowhere --out "$work/x" >/dev/null 2>"$work/nowhere.err"; code=$?
[[ $code -eq 2 ]] && grep -q "nowhere" "$work/nowhere.err" || fail "missing data: exit $code"
set -e
echo "1 passed, 0 failed"
