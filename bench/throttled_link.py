#!/usr/bin/env python3
"""Data-parallel training over a throttled link: docs/distributed.md's model on paper, checked.

Two ranks (`mpirun -np 2`, one thread each, Open MPI's TCP transport) train in a network
namespace of their own (`unshare -n`), whose loopback device gets a token-bucket rate limit
(`tc qdisc ... tbf rate R`): their allreduce then goes through a link of R. Per step each rank
sends the gradient arena (S = 4 bytes a parameter) to the other once, and both directions share
the one loopback queue, so the model predicts

    step(R) = step(unthrottled TCP) + 2 S / R

for one allreduce after backward (`--allreduce once`). It prints, per preset and rate, the
measured training step (ms, from metrics.csv's images/s; median over --repeats alternating runs)
beside the prediction, and the step with the sums overlapped with backward (`--allreduce overlap`). Needs root (a namespace and tc).
(Latency cannot be added the same way: this needs the kernel's netem qdisc, which some kernels
lack.)

Usage: bench/throttled_link.py [--build build] [--models seed best] [--rates 10gbit 1gbit 300mbit]
                               [--train 20000] [--repeats 2]
"""
import argparse
import csv
import os
import re
import statistics
import subprocess
import sys
import tempfile

def rate_bytes_per_s(rate):
    m = re.fullmatch(r"([0-9.]+)([kmg]?)bit", rate)
    if not m:
        sys.exit(f"throttled_link: rate '{rate}': give it as tc does, e.g. 1gbit, 300mbit")
    return float(m.group(1)) * {"": 1, "k": 1e3, "m": 1e6, "g": 1e9}[m.group(2)] / 8


def run(args, model, rate, allreduce, out):
    """Training images/s of one epoch on 2 ranks whose link is `rate` (None: unthrottled)."""
    train = [os.path.join(args.build, "bin", "inkwell-train"), "--data", "mnist", "--model", model,
             "--precision", "f32", "--epochs", "1", "--valid", str(60000 - args.train), "--progress", "never",
             "--allreduce", allreduce, "--out", out]
    mpirun = ["mpirun", "--allow-run-as-root", "--bind-to", "core", "-np", "2", "--mca", "btl", "tcp,self",
              "--mca", "btl_tcp_if_include", "lo", "--mca", "oob_tcp_if_include", "lo"]
    # An Ethernet-sized MTU and a bucket of a few packets: the rate holds from the first bytes of a
    # step (a bucket as large as a step's traffic would let every step through at full speed).
    limit = f"ip link set lo mtu 1500 && tc qdisc add dev lo root tbf rate {rate} burst 16kb latency 2s && " if rate else ""
    script = f"ip link set lo up && {limit}exec " + " ".join(mpirun + train)
    done = subprocess.run(["unshare", "-n", "sh", "-c", script], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"throttled_link: {model} at {rate or 'full speed'}: exit {done.returncode}\n{done.stderr[-2000:]}")
    with open(os.path.join(out, "metrics.csv")) as f:
        return float(list(csv.DictReader(f))[-1]["images_per_sec"])


def parameters_and_batch(args, model_file):
    """The model's parameter count and the run's batch (the preset's), from inkwell-info."""
    info = subprocess.run([os.path.join(args.build, "bin", "inkwell-info"), model_file], capture_output=True,
                          text=True, check=True).stdout
    params = int(re.search(r"^\s+total\s+([0-9,]+)", info, re.M).group(1).replace(",", ""))
    return params, int(re.search(r"^\s+batch\s+([0-9]+)", info, re.M).group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--models", nargs="+", default=["seed", "best"])
    ap.add_argument("--rates", nargs="+", default=["10gbit", "1gbit", "300mbit"])
    ap.add_argument("--train", type=int, default=20000, help="training images per epoch (the rest validate)")
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("throttled_link: needs root (unshare -n, tc)")
    print(f"2 ranks x 1 thread, Open MPI over TCP on a rate-limited loopback, f32, {args.train} training images, "
          f"median of {args.repeats}:")
    with tempfile.TemporaryDirectory() as work:
        for model in args.models:
            rates = [None] + args.rates
            ips = {(r, a): [] for r in rates for a in ("once", "overlap")}
            for i in range(args.repeats):  # alternating, so every rate and way sees the same machine
                for r in rates:
                    for a in ("once", "overlap"):
                        ips[r, a].append(run(args, model, r, a, os.path.join(work, f"{model}-{i}-{r}-{a}")))
            params, batch = parameters_and_batch(args, os.path.join(work, f"{model}-0-None-once", "model.inkw"))
            s = 4 * params
            step = {k: batch / statistics.median(v) * 1000 for k, v in ips.items()}
            print(f"  {model}: S = {s:,} bytes a step, batch {batch}; step in ms")
            for r in rates:
                predicted = step[None, "once"] + (2 * s / rate_bytes_per_s(r) * 1000 if r else 0)
                print(f"    {r or 'unthrottled':>11}: once {step[r, 'once']:7.2f} (predicted {predicted:7.2f}), "
                      f"overlap {step[r, 'overlap']:7.2f}: {step[r, 'once'] / step[r, 'overlap']:.2f}x")


if __name__ == "__main__":
    main()
