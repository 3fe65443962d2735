#!/usr/bin/python3
"""A folder of PNGs against the same images in memory, side by side in one run (issue 24's goal:
a folder at >= 60% of the in-memory rate of the same model and precision).

In memory: Model.predict on MNIST's 10k test images, --copies times over (uint8, batches of 64,
of 256 and of the size measured fastest here, batch=None; the fastest counts). Folder: inkwell-classify on the same images as PNGs, --copies hard-linked copies of the
10k (one walk, so the run is long enough to time; the files share their pages). Configurations
alternate, --repeats rounds, medians. With --old BUILD, that build's inkwell-classify runs beside
(a before/after of the folder path on the same machine in the same minutes). With --rule, the
same build's inkwell-classify --plan rule runs beside too (the static plan: no measured precision
or rows a run).

Usage: PYTHONPATH=build/python bench/compare_folder.py [--build build] [--old /tmp/old/build]
       [--models models/default.inkw models/accurate.inkw] [--copies 5] [--repeats 5]
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time

import numpy as np

import inkwell

parser = argparse.ArgumentParser()
parser.add_argument("--build", default="build")
parser.add_argument("--old", help="another build whose inkwell-classify runs beside")
parser.add_argument("--rule", action="store_true", help="inkwell-classify --plan rule runs beside")
parser.add_argument("--models", nargs="+", default=["models/default.inkw", "models/accurate.inkw"])
parser.add_argument("--copies", type=int, default=5)
parser.add_argument("--repeats", type=int, default=5)
args = parser.parse_args()

images, _, _ = inkwell.datasets.load("mnist", split="test")
work = tempfile.mkdtemp()
subprocess.run([os.path.join(args.build, "bin", "inkwell-export"), "--data", "mnist", "--split", "test", "--out",
                os.path.join(work, "png")], check=True, stdout=subprocess.DEVNULL)
tree = os.path.join(work, "tree")
for k in range(args.copies):
    shutil.copytree(os.path.join(work, "png", "test"), os.path.join(tree, str(k)), copy_function=os.link)
files = args.copies * len(images)
many = np.concatenate([images] * args.copies)  # as many images as the folder holds: runs as long


def memory_rate(model, precision, batch):
    model.predict(images[:256], precision=precision, batch=batch)
    t = time.perf_counter()
    model.predict(many, precision=precision, batch=batch)
    return len(many) / (time.perf_counter() - t)


def folder_rate(build, model_path, precision, plan="auto"):
    out = subprocess.run([os.path.join(build, "bin", "inkwell-classify"), "--model", model_path, "--precision",
                          precision, "--plan", plan, tree, "--out", os.devnull], check=True, capture_output=True,
                         text=True).stderr
    done = int(re.search(r"([0-9]+) classified", out).group(1))
    assert done == files, out
    return float(re.search(r"([0-9.]+) img/s", out).group(1))


try:
    for model_path in args.models:
        model = inkwell.load(model_path)
        for precision in ("auto", "f32"):
            f = {"memory 64": [], "memory 256": [], "memory measured": [], "folder": [], "old folder": [],
                 "rule folder": []}
            for _ in range(args.repeats):
                f["memory 64"].append(memory_rate(model, precision, 64))
                f["memory 256"].append(memory_rate(model, precision, 256))
                f["memory measured"].append(memory_rate(model, precision, None))
                f["folder"].append(folder_rate(args.build, model_path, precision))
                if args.old:
                    f["old folder"].append(folder_rate(args.old, model_path, precision))
                if args.rule:
                    f["rule folder"].append(folder_rate(args.build, model_path, precision, "rule"))
            m = {k: statistics.median(v) for k, v in f.items() if v}
            memory = max(m["memory 64"], m["memory 256"], m["memory measured"])
            line = (f"{model_path} {precision}: in memory {m['memory 64']:,.0f} (batch 64) / {m['memory 256']:,.0f} "
                    f"(256) / {m['memory measured']:,.0f} (measured) img/s; folder {m['folder']:,.0f} img/s = "
                    f"{m['folder'] / memory:.2f} of memory")
            if args.rule:
                line += f"; --plan rule folder {m['rule folder']:,.0f} ({m['rule folder'] / memory:.2f})"
            if args.old:
                line += f"; old folder {m['old folder']:,.0f} ({m['old folder'] / memory:.2f}; new/old {m['folder'] / m['old folder']:.2f}x)"
            print(line, flush=True)
finally:
    shutil.rmtree(work)
