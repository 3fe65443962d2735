#!/usr/bin/python3
"""Plans side by side in one run (docs/plans.md): `auto` against every forced plan, for training
(one epoch of MNIST with inkwell-train) and classification (a folder of MNIST PNGs with
inkwell-classify), configurations alternating for `--repeats` rounds; medians and the ratio of
auto to the fastest forced plan are printed (the target is >= 0.97).

With --busy, each configuration also runs beside a busy process pinned to the last CPU (a
`while :` loop), and the ratio busy / quiet is printed per configuration (the target is >= 0.40).

  training:        auto (--precision auto: measured, cached), f32, bf16, rule (--plan rule)
  classification:  auto, f32, int8, rule, and f32 and int8 in runs of 32 and 16 (--plan rule runs
                   a batch whole, so --batch N forces runs of N rows)

The plan cache is a fresh directory per run of this script, so `auto` measures once (its first
run) and then reads the cache, as a user's second run does.

Usage: bench/compare_plans.py [--build build] [--tree /tmp/inkwell-mnist-png] [--model models/default.inkw]
                              [--repeats 3] [--passes 5] [--busy] [--only train|classify]
"""
import argparse
import csv
import os
import re
import statistics
import subprocess
import tempfile

TRAIN = {"auto": [], "f32": ["--precision", "f32"], "bf16": ["--precision", "bf16"], "rule": ["--plan", "rule"]}
CLASSIFY = {"auto": [], "f32": ["--precision", "f32"], "int8": ["--precision", "int8"], "rule": ["--plan", "rule"]}
for precision in ("f32", "int8"):
    for rows in (32, 16):
        CLASSIFY[f"{precision} runs {rows}"] = ["--precision", precision, "--plan", "rule", "--batch", str(rows)]


def train_rate(args, extra, env):
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([os.path.join(args.build, "bin", "inkwell-train"), "--data", "mnist", "--epochs", "1",
                        "--valid", "0", "--out", out, "--progress", "never"] + extra,
                       check=True, stdout=subprocess.DEVNULL, env=env)
        with open(os.path.join(out, "metrics.csv")) as f:
            return float(next(csv.DictReader(f))["images_per_sec"])


def classify_rate(args, extra, env):
    with tempfile.TemporaryDirectory() as out:
        # The 10k files `--passes` times over: one pass takes a fifth of a second, too short to time.
        r = subprocess.run([os.path.join(args.build, "bin", "inkwell-classify")] + [os.path.join(args.tree, "test")] * args.passes +
                           ["--model", args.model, "--out", os.path.join(out, "p.csv"), "--progress", "never"] + extra,
                           check=True, capture_output=True, text=True, env=env)
        return float(re.search(r"([0-9.]+) img/s", r.stderr).group(1))


class Busy:
    """A busy process on the last CPU while the block runs."""

    def __enter__(self):
        cpu = str(max(os.sched_getaffinity(0)))
        self.p = subprocess.Popen(["taskset", "-c", cpu, "sh", "-c", "while :; do :; done"])
        return self

    def __exit__(self, *exc):
        self.p.kill()
        self.p.wait()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default="build")
    p.add_argument("--tree", default="/tmp/inkwell-mnist-png")
    p.add_argument("--model", default="models/default.inkw")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--passes", type=int, default=5, help="classify the 10k PNGs this many times a run")
    p.add_argument("--busy", action="store_true")
    p.add_argument("--only", choices=["train", "classify"])
    args = p.parse_args()
    if not os.path.isdir(os.path.join(args.tree, "test")):
        subprocess.run([os.path.join(args.build, "bin", "inkwell-export"), "--split", "test", "--out", args.tree],
                       check=True, stdout=subprocess.DEVNULL)
    cache = tempfile.mkdtemp(prefix="inkwell-plans-")
    env = dict(os.environ, INKWELL_CACHE=cache)
    jobs = []
    if args.only != "classify":
        jobs += [("train " + k, train_rate, v) for k, v in TRAIN.items()]
    if args.only != "train":
        jobs += [("classify " + k, classify_rate, v) for k, v in CLASSIFY.items()]
    loads = ["quiet", "busy"] if args.busy else ["quiet"]
    rates = {(name, load): [] for name, _, _ in jobs for load in loads}
    for r in range(args.repeats):
        for name, fn, extra in jobs:
            for load in loads:
                if load == "busy":
                    with Busy():
                        rate = fn(args, extra, env)
                else:
                    rate = fn(args, extra, env)
                rates[(name, load)].append(rate)
                print(f"round {r + 1}  {name:16s} {load:5s} {rate:9.0f} img/s", flush=True)
    med = {k: statistics.median(v) for k, v in rates.items()}
    print(f"\nmedians over {args.repeats} rounds, {len(os.sched_getaffinity(0))} CPUs:")
    for (name, load), v in med.items():
        print(f"  {name:16s} {load:5s} {v:9.0f} img/s")
    for kind in ("train", "classify"):
        names = [n for n, _, _ in jobs if n.startswith(kind)]
        if not names:
            continue
        forced = [n for n in names if not n.endswith(" auto")]
        best = max(forced, key=lambda n: med[(n, "quiet")])
        print(f"{kind}: auto / fastest forced ({best}) = {med[(kind + ' auto', 'quiet')] / med[(best, 'quiet')]:.3f}"
              " (target >= 0.97)")
        if args.busy:
            for n in names:
                print(f"  {n:16s} busy / quiet = {med[(n, 'busy')] / med[(n, 'quiet')]:.3f} (target >= 0.40)")
    with open(os.path.join(cache, "plans.tsv")) as f:
        print("\nthe plans auto measured (" + cache + "/plans.tsv):")
        for line in f:
            print("  " + line.rstrip("\n").split("\t")[-1])


if __name__ == "__main__":
    main()
