#!/usr/bin/python3
"""The training pipeline's data paths, side by side in one run: one epoch of inkwell-train each,
for three kinds of data (idx: --data mnist; idx+aug: with --augment; png: --data TREE, MNIST
exported as 70k PNGs, decoded every epoch) and three ways of preparing batches:

  serial     --prefetch 0   each batch filled right before its step, by the step's OpenMP team
  pipeline   --prefetch 4   filled on the flow graph's TBB workers, 4 batches ahead
  default    (auto)         what inkwell-train does without the flag

The three ways differ only for a model with batch norm (--model best): one process trains any
other model on micro-batch workers that fill their own rows (docs/plans.md), whatever --prefetch.

images/s is the training images over the epoch's training time (metrics.csv: the steps and
the waits for data, not loading or evaluation). Configurations alternate for `--repeats` rounds;
medians and the ratios the training-pipeline issue asks about are printed.

Usage: bench/compare_pipeline.py [--tree /tmp/inkwell-mnist-png] [--build build] [--model seed] [--repeats 3]
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile


def epoch_rate(train, args, extra):
    with tempfile.TemporaryDirectory() as out:
        cmd = [train, "--model", args.model, "--epochs", "1", "--out", out] + extra
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(out, "metrics.csv")) as f:
            return float(next(csv.DictReader(f))["images_per_sec"])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tree", default="/tmp/inkwell-mnist-png")
    p.add_argument("--build", default="build")
    p.add_argument("--model", default="seed")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    train = os.path.join(args.build, "bin", "inkwell-train")
    if not os.path.isdir(os.path.join(args.tree, "train")):
        print(f"exporting MNIST to {args.tree} ...", flush=True)
        subprocess.run([os.path.join(args.build, "bin", "inkwell-export"), "--split", "all", "--out", args.tree],
                       check=True, stdout=subprocess.DEVNULL)
    data = {"idx": ["--data", "mnist"], "idx+aug": ["--data", "mnist", "--augment"], "png": ["--data", args.tree]}
    ways = {"serial": ["--prefetch", "0"], "pipeline": ["--prefetch", "4"], "default": []}
    configs = {f"{d} {w}": dv + wv for d, dv in data.items() for w, wv in ways.items()}
    rates = {name: [] for name in configs}
    for r in range(args.repeats):
        for name, extra in configs.items():
            rates[name].append(epoch_rate(train, args, extra))
            print(f"round {r + 1}  {name:17s} {rates[name][-1]:8.0f} img/s", flush=True)
    med = {name: statistics.median(v) for name, v in rates.items()}
    print(f"\nmedians over {args.repeats} rounds, model {args.model}, {os.cpu_count()} cores:")
    for name, v in med.items():
        print(f"  {name:17s} {v:8.0f} img/s")
    for d in data:
        print(f"{d:8s} default / serial {med[d + ' default'] / med[d + ' serial']:.3f} (target >= 0.98), "
              f"pipeline / serial {med[d + ' pipeline'] / med[d + ' serial']:.3f}")
    print(f"png default / idx default: {med['png default'] / med['idx default']:.3f}")


if __name__ == "__main__":
    sys.exit(main())
