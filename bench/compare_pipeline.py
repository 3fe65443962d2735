#!/usr/bin/python3
"""The training pipeline's data paths, side by side in one run: one epoch of inkwell-train each.

  idx serial      --data mnist --prefetch 0   (each batch filled on the step's thread, before it)
  idx pipeline    --data mnist                 (filled on the flow graph, 4 batches ahead)
  idx+aug serial  --data mnist --augment --prefetch 0
  idx+aug pipe    --data mnist --augment
  png serial      --data TREE --prefetch 0    (TREE: MNIST exported as 70k PNGs, train/ + test/)
  png pipeline    --data TREE                  (decoded on the flow graph every epoch)

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
    configs = {
        "idx serial": ["--data", "mnist", "--prefetch", "0"],
        "idx pipeline": ["--data", "mnist"],
        "idx+aug serial": ["--data", "mnist", "--augment", "--prefetch", "0"],
        "idx+aug pipeline": ["--data", "mnist", "--augment"],
        "png serial": ["--data", args.tree, "--prefetch", "0"],
        "png pipeline": ["--data", args.tree],
    }
    rates = {name: [] for name in configs}
    for r in range(args.repeats):
        for name, extra in configs.items():
            rates[name].append(epoch_rate(train, args, extra))
            print(f"round {r + 1}  {name:17s} {rates[name][-1]:8.0f} img/s", flush=True)
    med = {name: statistics.median(v) for name, v in rates.items()}
    print(f"\nmedians over {args.repeats} rounds, model {args.model}, {os.cpu_count()} cores:")
    for name, v in med.items():
        print(f"  {name:17s} {v:8.0f} img/s")
    print(f"png pipeline / idx pipeline:         {med['png pipeline'] / med['idx pipeline']:.3f}  (target >= 0.80)")
    print(f"idx pipeline / idx serial:           {med['idx pipeline'] / med['idx serial']:.3f}  (target >= 1.00)")
    print(f"idx+aug pipeline / idx+aug serial:   {med['idx+aug pipeline'] / med['idx+aug serial']:.3f}")
    print(f"png pipeline / png serial:           {med['png pipeline'] / med['png serial']:.3f}")


if __name__ == "__main__":
    sys.exit(main())
