#!/usr/bin/env bash
# Data-parallel training on Open MPI, on this machine (docs/distributed.md): 2 ranks x batch 32
# give the metrics of 1 process x batch 64 epoch by epoch, 3 ranks too (batch 66), and gradients
# summed during backward the same as after it; a rank killed ends the job with an error; a run
# killed mid-epoch resumes to the weights of an uninterrupted one; a one-rank mpirun is the
# plain run. Sharded classification (inkwell-classify on 2 and 3 ranks) writes the one-process
# output byte for byte (its plan measured by rank 0 alone), and resumes to it after a cut, SIGTERM to some or all ranks, or Ctrl-C. As root, mpirun needs --allow-run-as-root.
# usage: test_mpi.sh BIN_DIR   (needs MNIST: ctest's fetch fixture)
set -euo pipefail
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
mpi=(mpirun --oversubscribe --bind-to none)
[[ $(id -u) -eq 0 ]] && mpi+=(--allow-run-as-root)
train=("$bin/inkwell-train" --data mnist --model seed --precision f32 --valid 2000 --progress never)

# Two runs' metrics.csv agree epoch by epoch, timing aside, within float rounding: the batch split
# sums gradients in another order, and over thousands of steps that moves a loss by a few
# thousandths and an accuracy by a few images (0.2% is 4 of 2,000 validation images), no more.
same_metrics() { python3 - "$1" "$2" <<'PY'
import csv, sys
a, b = (list(csv.DictReader(open(f))) for f in sys.argv[1:3])
assert len(a) == len(b) > 0, f"{len(a)} epochs vs {len(b)}"
for x, y in zip(a, b):
    for k, tol in (("train_loss", 0.003), ("valid_loss", 0.003), ("test_loss", 0.003),
                   ("train_acc", 0.002), ("valid_acc", 0.002), ("test_acc", 0.002)):
        if abs(float(x[k]) - float(y[k])) > tol:
            sys.exit(f"epoch {x['epoch']}: {k} {x[k]} vs {y[k]}")
PY
}

"${train[@]}" --epochs 2 --threads 2 --out "$work/one" > "$work/one.log"
"${mpi[@]}" -np 2 "${train[@]}" --epochs 2 --out "$work/two" > "$work/two.log" 2> "$work/two.err" || fail "2 ranks: exit $? ($(tail -3 "$work/two.err"))"
grep -q "MPI (Open MPI .*), 2 ranks.*batch 64 = 2 x 32" "$work/two.log" || fail "2 ranks: no layout line: $(head -3 "$work/two.log")"
[[ $(grep -c "^epoch" "$work/two.log") -eq 2 ]] || fail "2 ranks: rank 1 printed too, or nothing"
same_metrics "$work/one/metrics.csv" "$work/two/metrics.csv" || fail "2 ranks x 32 differ from 1 x 64"
# Gradients summed during backward, layer by layer (auto does it across nodes; here forced): the
# same sums as one allreduce after backward, so with 2 ranks the same metrics, digit for digit.
grep -q "gradients summed after backward" "$work/two.log" || fail "one node: auto did not sum after backward"
"${mpi[@]}" -np 2 "${train[@]}" --epochs 2 --allreduce overlap --out "$work/overlap" > "$work/overlap.log" 2> "$work/overlap.err" || fail "--allreduce overlap: exit $? ($(tail -3 "$work/overlap.err"))"
grep -q "gradients summed during backward" "$work/overlap.log" || fail "--allreduce overlap: not in the layout line"
cut -d, -f1-7 "$work/two/metrics.csv" > "$work/a.csv"; cut -d, -f1-7 "$work/overlap/metrics.csv" > "$work/b.csv"
cmp -s "$work/a.csv" "$work/b.csv" || fail "--allreduce overlap differs from once: $(diff "$work/a.csv" "$work/b.csv" | head -3)"

"${train[@]}" --epochs 1 --batch 66 --out "$work/one66" > /dev/null
"${mpi[@]}" -np 3 "${train[@]}" --epochs 1 --batch 66 --out "$work/three" > /dev/null 2> "$work/three.err" || fail "3 ranks: exit $?"
same_metrics "$work/one66/metrics.csv" "$work/three/metrics.csv" || fail "3 ranks x 22 differ from 1 x 66"
set +e
"${mpi[@]}" -np 3 "${train[@]}" --epochs 1 --out "$work/three64" > /dev/null 2> "$work/three64.err"; code=$?
set -e
[[ $code -ne 0 ]] && grep -q "does not split evenly over 3 ranks" "$work/three64.err" || fail "--batch 64 on 3 ranks: exit $code"

# One rank under mpirun: the plain run, the same metrics (and no MPI layout line).
"${mpi[@]}" -np 1 "${train[@]}" --epochs 1 --batch 66 --threads 2 --out "$work/mpi1" > "$work/mpi1.log"
! grep -q "ranks" "$work/mpi1.log" || fail "one rank printed an MPI layout"
cut -d, -f1-7 "$work/one66/metrics.csv" > "$work/a.csv"; cut -d, -f1-7 "$work/mpi1/metrics.csv" > "$work/b.csv"
cmp -s "$work/a.csv" "$work/b.csv" || fail "mpirun -np 1 differs from a plain run"

# A rank killed mid-run (kill -9): the job ends, non-zero, saying which rank went. The run's last
# checkpoint (every 100 steps) resumes, with 2 ranks, to the weights of an uninterrupted 2-rank
# run: the same labels and confidences for 2,000 test images.
"${mpi[@]}" -np 2 "${train[@]}" --epochs 2 --checkpoint-every 100 --out "$work/killed" > /dev/null 2> "$work/killed.err" &
job=$!
for _ in $(seq 300); do
  "$bin/inkwell-info" "$work/killed/model.inkw" 2>/dev/null | grep -E "epoch.steps_done +[1-9]" > /dev/null && break
  sleep 0.1
done
victim=$(pgrep -f "inkwell-train .*$work/killed" | sort -n | tail -1)
[[ -n $victim ]] || fail "no rank to kill"
kill -9 "$victim"
set +e; timeout 60 tail --pid=$job -f /dev/null; wait $job; code=$?; set -e
[[ $code -ne 0 ]] || fail "a killed rank: mpirun exited 0"
grep -qiE "signal 9|killed" "$work/killed.err" || fail "a killed rank: no message naming it: $(tail -5 "$work/killed.err")"
cp -r "$work/killed" "$work/other"
"${mpi[@]}" -np 2 "$bin/inkwell-train" --resume "$work/killed" > "$work/resumed.log" 2>&1 || fail "resume with 2 ranks: exit $? ($(tail -3 "$work/resumed.log"))"
grep -q "resuming" "$work/resumed.log" || fail "no resume message"
"$bin/inkwell-export" --data mnist --split test --out "$work/png" > /dev/null
find "$work/png/test" -name '*.png' | sort | sed -n 1,2000p > "$work/list"  # (head would SIGPIPE sort)
for run in two killed; do
  "$bin/inkwell-classify" - --model "$work/$run/model.inkw" --precision f32 --out "$work/$run.csv" < "$work/list" 2>/dev/null
done
cmp -s "$work/two.csv" "$work/killed.csv" || fail "killed and resumed 2-rank run differs from an uninterrupted one"

# Resuming with another number of ranks (here 1) says what it means, and finishes the run.
"$bin/inkwell-train" --resume "$work/other" > "$work/other.log" 2>&1 || fail "resume with 1 rank: exit $?"
grep -q "trained by 2 ranks, it goes on with 1" "$work/other.log" || fail "no note on resuming with another N: $(head -3 "$work/other.log")"
grep -q "^test loss" "$work/other.log" || fail "resume with 1 rank did not finish"
# Sharded classification: 2 and 3 ranks write the one-process output byte for byte (f32 and the
# default precision, CSV and JSONL, --top-k, a bad file among them, a batch size that leaves a
# short last batch, paths on stdin); an output cut short resumes with 2 ranks to the same bytes.
# The one process runs one thread, as each rank here does: the plan check (docs/int8.md) is made for
# the thread count, and the CPU may give 1 and 2 threads other verdicts.
tree=$work/png/test
echo "not a png" > "$tree/5/zz-bad.png"
classify=("$bin/inkwell-classify" "$tree" --progress never)
differs() {  # A B: what differs, for the failure message
  echo "$(wc -l < "$1") vs $(wc -l < "$2") lines; $(diff "$1" "$2" | head -4 | tr '\n' ' ')"
}
for args in "--precision f32 --top-k 3" "--format jsonl --batch 50" "--labels-from-dirs"; do
  set +e; "${classify[@]}" $args --threads 1 --out "$work/c1" 2> "$work/c1.err"; set -e  # exit 3: the bad file
  for n in 2 3; do
    set +e; "${mpi[@]}" -np $n "${classify[@]}" $args --out "$work/c$n" > /dev/null 2> "$work/c$n.err"; code=$?; set -e
    [[ $code -ne 0 ]] || fail "classify $args on $n ranks: a bad file but exit 0"
    grep -q "1 failed" "$work/c$n.err" || fail "classify $args on $n ranks: $(tail -3 "$work/c$n.err")"
    cmp -s "$work/c1" "$work/c$n" || fail "classify $args on $n ranks differs from one process: $(differs "$work/c1" "$work/c$n"); $(grep -h warning "$work/c1.err" "$work/c$n.err" | head -2)"
  done
done
# A plan measured under 3 ranks with no cache: rank 0 measures, the others read its choice (one
# "plan runs of" line, not three), and the rows are what one process with that plan writes.
fresh=$(mktemp -d -p "$work")
INKWELL_CACHE=$fresh "${mpi[@]}" -np 3 "$bin/inkwell-classify" "$tree/2" --progress never --plan measure --out "$work/m3" > /dev/null 2> "$work/m3.err" || fail "a plan under 3 ranks: $(tail -3 "$work/m3.err")"
[[ $(grep -c "plan runs of" "$work/m3.err") -eq 1 ]] || fail "a plan under 3 ranks: not measured by rank 0 alone: $(grep "plan" "$work/m3.err" | head -3)"
INKWELL_CACHE=$fresh "$bin/inkwell-classify" "$tree/2" --progress never --threads 1 --out "$work/m1" 2> /dev/null
cmp -s "$work/m1" "$work/m3" || fail "a plan measured under 3 ranks: rows differ from one process: $(differs "$work/m1" "$work/m3")"
# Paths on stdin (mpirun gives stdin to rank 0 alone, which sends the list to the others).
find "$tree/3" -name '*.png' | sort > "$work/list3"
# Rows go to --out, as docs/distributed.md advises: stdout would pass through mpirun's relay.
"$bin/inkwell-classify" - "$tree/4" --progress never --threads 1 --out "$work/s1" < "$work/list3" 2> "$work/s1.err"
"${mpi[@]}" -np 2 "$bin/inkwell-classify" - "$tree/4" --progress never --out "$work/s2" < "$work/list3" > /dev/null 2> "$work/s2.err" || fail "stdin on 2 ranks: $(tail -3 "$work/s2.err")"
[[ $(wc -l < "$work/s1") -gt 1900 ]] && cmp -s "$work/s1" "$work/s2" || fail "paths on stdin: 2 ranks differ from one process: $(differs "$work/s1" "$work/s2"); $(grep -h warning "$work/s1.err" "$work/s2.err" | head -2)"
"${mpi[@]}" -np 2 "$bin/inkwell-classify" "$tree/4" --progress never > /dev/null 2> "$work/so.err" || true
grep -q "mpirun's relay, which can lose bytes" "$work/so.err" || fail "rows to stdout on 2 ranks: no warning"
"${classify[@]}" --precision f32 --top-k 3 --out "$work/c1" 2> /dev/null || true
head -c 150000 "$work/c1" > "$work/cut"
"${mpi[@]}" -np 2 "${classify[@]}" --precision f32 --top-k 3 --resume --out "$work/cut" > /dev/null 2> "$work/cut.err" || true
grep -q "resuming after" "$work/cut.err" || fail "sharded resume: $(tail -3 "$work/cut.err")"
cmp -s "$work/c1" "$work/cut" || fail "an output cut short and resumed by 2 ranks differs from one process"

# Stopping mid-run, three ways, each resumed by 2 ranks to the one-process output: SIGTERM to
# every rank (as Slurm's scancel sends) and to rank 1 alone (rank 0 cuts the output at rank 1's
# first missing batch and stops the others) both end with "interrupted" and rows up to a batch;
# Ctrl-C to mpirun ends non-zero (Open MPI 5's mpirun kills the ranks a moment after passing it
# on, so they may not get to say so). A tree of 30 hard-linked copies of the test set (300,000
# files; 30 links to one folder would be walked once) keeps a run going for seconds on any machine.
rm "$tree/5/zz-bad.png"
mkdir "$work/big"
for i in $(seq -w 1 30); do cp -al "$tree" "$work/big/d$i"; done
big=("$bin/inkwell-classify" "$work/big" --progress never --precision f32)
"${big[@]}" --out "$work/big1.csv" 2> /dev/null
rows_in() { [[ -f $1 ]] && wc -l < "$1" || echo 0; }
rank_pid() {  # MPIRUN_PID RANK
  for p in $(pgrep -P "$1"); do
    tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -x "OMPI_COMM_WORLD_RANK=$2" > /dev/null && echo "$p" && return
  done
}
for how in "every rank" "rank 1" "mpirun"; do
  out=$work/big-${how// /-}.csv
  "${mpi[@]}" -np 2 "${big[@]}" --out "$out" > /dev/null 2> "$out.err" &
  job=$!
  for _ in $(seq 600); do [[ $(rows_in "$out") -ge 20000 ]] && break; sleep 0.05; done
  case $how in
    "every rank") kill -TERM "$(rank_pid $job 0)" "$(rank_pid $job 1)" ;;
    "rank 1") kill -TERM "$(rank_pid $job 1)" ;;
    mpirun) kill -INT $job ;;
  esac
  set +e; wait $job; code=$?; set -e
  [[ $code -ne 0 ]] || fail "stopping $how: exit 0"
  [[ $(rows_in "$out") -lt 300001 ]] || fail "stopping $how: the run was not interrupted"
  if [[ $how != mpirun ]]; then
    grep -q "interrupted; --resume --out" "$out.err" || fail "stopping $how: no message: $(tail -3 "$out.err")"
    [[ $((($(rows_in "$out") - 1) % 64)) -eq 0 ]] || fail "stopping $how: the output does not end at a batch"
  fi
  "${mpi[@]}" -np 2 "${big[@]}" --resume --out "$out" > /dev/null 2>&1 || fail "stopping $how, then --resume: exit $?"
  cmp -s "$work/big1.csv" "$out" || fail "stopping $how, then --resume: differs from one process"
done

# A rank killed (kill -9) mid-run ends the job non-zero with Open MPI's message naming it; an
# error on rank 0 alone (its --out cannot be opened) ends every rank, with the error, no hang.
"${mpi[@]}" -np 2 "${big[@]}" --out "$work/big3.csv" > /dev/null 2> "$work/big3.err" &
job=$!
for _ in $(seq 600); do [[ $(rows_in "$work/big3.csv") -ge 20000 ]] && break; sleep 0.05; done
kill -9 "$(rank_pid $job 1)"
set +e; timeout 60 tail --pid=$job -f /dev/null; wait $job; code=$?; set -e
[[ $code -ne 0 ]] || fail "classify, a killed rank: mpirun exited 0"
grep -qiE "signal 9|killed" "$work/big3.err" || fail "classify, a killed rank: no message naming it: $(tail -5 "$work/big3.err")"
set +e
timeout 60 "${mpi[@]}" -np 2 "${big[@]}" --out "$work/no/such/dir.csv" > /dev/null 2> "$work/abort.err"; code=$?
set -e
[[ $code -ne 0 && $code -ne 124 ]] || fail "an error on rank 0: exit $code (124: the ranks hung)"
grep -q "inkwell-classify: $work/no/such/dir.csv: cannot open for writing" "$work/abort.err" || fail "an error on rank 0: $(tail -3 "$work/abort.err")"
echo "mpi: all passed"
