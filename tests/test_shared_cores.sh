#!/usr/bin/env bash
# Shared and limited cores (docs/plans.md):
# - in a cgroup with a CPU quota of one CPU (as root, where CI runs), inkwell-train and
#   inkwell-classify use one thread, though nproc shows every core;
# - beside a busy process on one CPU, training and classification give the same bytes as quiet
#   runs: the micro-batch workers share the work out differently, the results do not change.
# Their rates beside a busy process are a benchmark's (bench/compare_plans.py --busy), not a test's.
# usage: test_shared_cores.sh BIN_DIR
set -euo pipefail
bin=$(realpath "$1")
work=$(mktemp -d)
group=""
busy=""
cleanup() {
  [[ -n $busy ]] && kill "$busy" 2>/dev/null
  [[ -n $group ]] && rmdir "$group" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$work"

# 300 MNIST test digits as PNGs in class folders: enough to train and classify in seconds.
"$bin/inkwell-export" --data mnist --split test --out png >/dev/null
find png -name '*.png' | sort | awk 'NR % 33 == 0' | while read -r f; do
  d=tree/$(basename "$(dirname "$f")")
  mkdir -p "$d" && cp "$f" "$d/"
done
train() { "$bin/inkwell-train" --data tree --epochs 2 --valid 0 --test-fraction 0.2 --progress never --seed 3 "$@"; }

cpus=$(nproc)
if [[ $cpus -lt 2 ]]; then
  echo "one CPU here: nothing is shared; the quota and busy checks need two" >&2
  exit 0
fi

# 1. A CPU quota of one CPU: one thread, whatever nproc says.
if [[ $(id -u) -eq 0 ]]; then
  if [[ -f /sys/fs/cgroup/cgroup.controllers ]] && grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then
    group=/sys/fs/cgroup/inkwell-test-$$
    mkdir "$group"
    echo "100000 100000" > "$group/cpu.max"
    procs="$group/cgroup.procs"
  elif [[ -d /sys/fs/cgroup/cpu ]]; then
    group=/sys/fs/cgroup/cpu/inkwell-test-$$
    mkdir "$group"
    echo 100000 > "$group/cpu.cfs_period_us"
    echo 100000 > "$group/cpu.cfs_quota_us"
    procs="$group/tasks"
  fi
fi
if [[ -n $group ]]; then
  in_group() { sh -c 'echo $$ > "$0"; exec "$@"' "$procs" "$@"; }
  [[ $(in_group nproc) -eq $cpus ]] || fail "nproc in the group should still show $cpus CPUs"
  in_group "$bin/inkwell-classify" tree --out quota.csv --progress never 2> quota.err
  grep -q "1 model(s) x 1 thread(s)" quota.err || fail "classify under a 1-CPU quota: $(tail -1 quota.err)"
  out=$(in_group "$bin/inkwell-train" --data tree --epochs 1 --valid 0 --test-fraction 0.2 --progress never --out quota-run 2>&1)
  grep -q ", 1 threads" <<<"$out" || fail "train under a 1-CPU quota: $(grep -m1 ' threads' <<<"$out")"
  echo "a 1-CPU quota ($group): one thread each"
else
  echo "not root, or no cgroup CPU controller here: the quota check did not run" >&2
fi

# 2. Beside a busy process on the last CPU: the same bytes as quiet.
train --out quiet >/dev/null
"$bin/inkwell-classify" tree --out quiet.csv --progress never 2>/dev/null
taskset -c "$((cpus - 1))" sh -c 'while :; do :; done' &
busy=$!
train --out busy >/dev/null
"$bin/inkwell-classify" tree --out busy.csv --progress never 2>/dev/null
kill "$busy"
busy=""
cmp -s quiet/model.inkw busy/model.inkw || fail "training beside a busy process gave other weights"
cmp -s quiet.csv busy.csv || fail "classification beside a busy process gave other rows"
echo "beside a busy process: the same weights and rows as quiet"
