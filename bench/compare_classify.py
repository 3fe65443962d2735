#!/usr/bin/python3
"""Classify a folder of PNGs: the usual PyTorch way vs inkwell-classify, side by side, one run.

PyTorch: torchvision ImageFolder + DataLoader (2 worker processes, batch 256, Grayscale,
ToTensor, Normalize), the seed model in eval mode with no_grad, one CSV row per image.
inkwell: inkwell-classify TREE --out FILE (default model, default settings).
Both alternate `--repeats` times on the same tree with a warm page cache; medians and the
ratio are printed, plus inkwell's accuracy when the tree is in ImageFolder layout.

Needs Debian's python3-torch and python3-torchvision (scripts/install-deps --bench).
Usage: bench/compare_classify.py TREE [--build build] [--threads 2] [--repeats 3]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

try:
    import torch
    import torch.nn as nn
    from torchvision import datasets, transforms
except ImportError:
    sys.exit("compare_classify: needs python3-torch and python3-torchvision (scripts/install-deps --bench)")


def seed_model():
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10)).eval()


def pytorch_run(tree, out_path, threads):
    torch.set_num_threads(threads)
    transform = transforms.Compose([transforms.Grayscale(), transforms.ToTensor(),
                                    transforms.Normalize((0.1307,), (0.3081,))])
    start = time.perf_counter()
    data = datasets.ImageFolder(tree, transform=transform)
    loader = torch.utils.data.DataLoader(data, batch_size=256, num_workers=threads)
    model = seed_model()
    n = 0
    with open(out_path, "w") as out, torch.no_grad():
        out.write("path,label,confidence,status\n")
        for images, _ in loader:
            probs = torch.softmax(model(images), dim=1)
            conf, label = probs.max(dim=1)
            for i in range(len(label)):
                out.write(f"{data.samples[n][0]},{data.classes[label[i]]},{conf[i]:.6f},ok\n")
                n += 1
    return n / (time.perf_counter() - start)


def inkwell_run(binary, tree, out_path, threads):
    start = time.perf_counter()
    proc = subprocess.run([binary, tree, "--out", out_path, "--threads", str(threads), "--labels-from-dirs"],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 3):
        sys.exit(f"compare_classify: inkwell-classify failed: {proc.stderr}")
    rows = sum(1 for _ in open(out_path)) - 1
    accuracy = re.search(r"accuracy: ([0-9.]+)", proc.stderr)
    return rows / seconds, float(accuracy.group(1)) if accuracy else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tree")
    ap.add_argument("--build", default="build")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    binary = os.path.join(args.build, "bin", "inkwell-classify")
    if not os.access(binary, os.X_OK):
        sys.exit(f"compare_classify: {binary} not found: build first (scripts/build)")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.csv")
        inkwell_run(binary, args.tree, out, args.threads)  # warms the page cache
        torch_rates, inkwell_rates, accuracy = [], [], None
        for _ in range(args.repeats):
            torch_rates.append(pytorch_run(args.tree, out, args.threads))
            rate, accuracy = inkwell_run(binary, args.tree, out, args.threads)
            inkwell_rates.append(rate)
    t, i = statistics.median(torch_rates), statistics.median(inkwell_rates)
    print(f"classify {args.tree}: {args.threads} threads, median of {args.repeats} alternating runs, end to end")
    print(f"  PyTorch (ImageFolder + DataLoader, CSV): {t:>9,.0f} img/s")
    print(f"  inkwell-classify:                        {i:>9,.0f} img/s   ({i / t:.2f}x)")
    if accuracy is not None:
        print(f"  inkwell accuracy (--labels-from-dirs):   {accuracy:.4f}")


if __name__ == "__main__":
    main()
