#!/usr/bin/env python3
"""Sharded classification: round-robin batches against contiguous ranges, side by side, one run.

`mpirun -np N inkwell-classify` gives rank r batches r, r+N, ... of the walk (round-robin). The
other way is contiguous ranges: rank r the r-th N-th of the walk's batches. This runs the N
shards of each way side by side as N processes of one thread (shard_balance: a shard's work
without the exchange between ranks) on a tree whose folders differ: a folder of large scans
(560x560 PNGs, an MNIST digit drawn 20 times larger, costly to decode) sorted before the MNIST
test set (10,000 small PNGs). The job takes as long as its slowest shard.

Usage: bench/compare_shards.py [--build build] [--model models/default.inkw] [--ranks 2] [--scans 1500] [--repeats 3]
Needs MNIST (data/fetch mnist); prints the shards' seconds, medians over the repeats.
"""
import argparse
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import zlib


def png(path, width, height, rows):
    """A grayscale 8-bit PNG from `rows` (bytes each)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + r for r in rows)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def mnist_digits(n):
    """The first n test images of MNIST (28x28 bytes each), from inkwell's data cache."""
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "inkwell", "mnist")
    with open(os.path.join(cache, "t10k-images-idx3-ubyte"), "rb") as f:
        f.read(16)
        return [f.read(784) for _ in range(n)]


def make_tree(root, build, scans):
    scan_dir = os.path.join(root, "a-scans")
    os.makedirs(scan_dir)
    scale = 20
    for i, digit in enumerate(mnist_digits(scans)):
        rows = []
        for y in range(28):
            row = bytes(255 - digit[y * 28 + x] for x in range(28) for _ in range(scale))  # dark ink on white paper
            rows += [row] * scale
        png(os.path.join(scan_dir, f"{i:05d}.png"), 28 * scale, 28 * scale, rows)
    subprocess.run([os.path.join(build, "bin", "inkwell-export"), "--data", "mnist", "--split", "test",
                    "--out", os.path.join(root, "b-digits")], check=True, stdout=subprocess.DEVNULL)


def run_shards(args, tree, contiguous):
    """Seconds of each of the N shards, run at once."""
    cmd = [os.path.join(args.build, "bin", "shard_balance"), tree, "--model", args.model, "--count", str(args.ranks),
           "--threads", "1"] + (["--contiguous"] if contiguous else [])
    procs = [subprocess.Popen(cmd + ["--index", str(r)], stdout=subprocess.PIPE, text=True) for r in range(args.ranks)]
    seconds = []
    for p in procs:
        out, _ = p.communicate()
        if p.returncode != 0:
            sys.exit(f"compare_shards: shard_balance exited {p.returncode}")
        seconds.append(float(re.search(r", ([0-9.]+) s", out).group(1)))
    return seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--model", default="models/default.inkw")
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--scans", type=int, default=1500)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as root:
        make_tree(root, args.build, args.scans)
        results = {False: [], True: []}
        for _ in range(args.repeats):  # alternating, so both ways see the same machine
            for contiguous in (False, True):
                results[contiguous].append(run_shards(args, root, contiguous))
    print(f"{args.scans} scans (560x560) then 10,000 MNIST PNGs, {args.ranks} shards x 1 thread, "
          f"medians of {args.repeats}:")
    job = {}
    for contiguous, runs in results.items():
        shards = [statistics.median(run[r] for run in runs) for r in range(args.ranks)]
        job[contiguous] = statistics.median(max(run) for run in runs)
        name = "contiguous ranges" if contiguous else "round-robin batches"
        print(f"  {name:20s} job {job[contiguous]:.2f} s; shards " + ", ".join(f"{s:.2f}" for s in shards)
              + f" s; slowest / fastest {max(shards) / min(shards):.2f}")
    print(f"  contiguous / round-robin job time: {job[True] / job[False]:.2f}")


if __name__ == "__main__":
    main()
