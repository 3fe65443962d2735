#!/usr/bin/python3
"""inkwell from Python against inkwell from C++, side by side in one run, the same model and
precision: Model.predict on MNIST's 10k test images held in memory (batch 256), bench_model's
forward pass in C++ (BM_ForwardInt8 on models/accurate.inkw, or BM_Forward on the seed preset in f32: the
--model must be accurate.inkw or a seed model for the figures to compare),
and inkwell-classify on the same 10k images as a folder of PNGs. Also the cost of one predict
call at batch 1. Medians of --repeats alternating runs.

Usage: PYTHONPATH=build/python bench/compare_python.py [--build build] [--model models/accurate.inkw] [--repeats 5]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile
import time

import inkwell

parser = argparse.ArgumentParser()
parser.add_argument("--build", default="build")
parser.add_argument("--model", default="models/accurate.inkw")
parser.add_argument("--repeats", type=int, default=5)
args = parser.parse_args()
bin_dir = os.path.join(args.build, "bin")

images, labels, _ = inkwell.datasets.load("mnist", split="test")
model = inkwell.load(args.model)
tree = tempfile.mkdtemp()
subprocess.run([f"{bin_dir}/inkwell-export", "--data", "mnist", "--split", "test", "--out", tree], check=True,
               stdout=subprocess.DEVNULL)


def python_rate(precision):
    model.predict(images[:256], precision=precision)
    t = time.perf_counter()
    model.predict(images, precision=precision)
    return len(images) / (time.perf_counter() - t)


def cpp_rate(precision):
    name = ("BM_ForwardInt8" if precision == "auto" else "BM_Forward") + "/seed/256/real_time"  # accurate.inkw is the seed
    out = subprocess.run([f"{bin_dir}/bench_model", f"--benchmark_filter=^{name}$", "--benchmark_format=json",
                          "--benchmark_min_time=1"], check=True, capture_output=True, text=True).stdout
    b = json.loads(out)["benchmarks"][0]
    return 256 / (b["real_time"] * {"ns": 1e-9, "us": 1e-6, "ms": 1e-3}[b["time_unit"]])


def folder_rate(precision):
    out = subprocess.run([f"{bin_dir}/inkwell-classify", "--model", args.model, "--precision", "auto" if precision == "auto" else "f32",
                          os.path.join(tree, "test"), "--out", os.devnull], check=True, capture_output=True, text=True).stderr
    return float(re.search(r"([0-9.]+) img/s", out).group(1))


for precision in ("auto", "f32"):
    figures = {"python": [], "cpp": [], "folder": []}
    for _ in range(args.repeats):
        figures["python"].append(python_rate(precision))
        figures["cpp"].append(cpp_rate(precision))
        figures["folder"].append(folder_rate(precision))
    m = {k: statistics.median(v) for k, v in figures.items()}
    print(f"{args.model} {precision}: Model.predict {m['python']:,.0f} img/s, C++ forward {m['cpp']:,.0f} img/s "
          f"({m['python'] / m['cpp']:.2f}x), inkwell-classify on the PNGs {m['folder']:,.0f} img/s "
          f"(predict {m['python'] / m['folder']:.1f}x)")
one = images[:1]
model.predict(one)
times = []
for _ in range(2000):
    t = time.perf_counter()
    model.predict(one)
    times.append(time.perf_counter() - t)
print(f"batch 1: {statistics.median(times) * 1e6:.0f} us a call (median of 2,000)")
