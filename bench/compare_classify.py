#!/usr/bin/python3
"""Classify a folder of PNGs: the usual PyTorch way vs inkwell-classify, side by side, one run.

PyTorch: torchvision ImageFolder + DataLoader (one worker process per thread, batch 256, Grayscale,
ToTensor, Normalize), the same architecture as the inkwell model (read from the model file) in
eval mode with no_grad, one CSV row per image.
inkwell: inkwell-classify TREE --model FILE --out FILE --precision P (default settings otherwise),
for each P of --precision (auto: int8 where the model is quantised and the CPU gains; f32).
Both alternate `--repeats` times on the same tree with a warm page cache; medians and the
ratio are printed, plus inkwell's accuracy when the tree is in ImageFolder layout. PyTorch is
timed inside its process from the ImageFolder walk on (interpreter start and `import torch`,
about a second, are left out); inkwell as a whole process (loading oneDNN, the model, building
its primitives: about 10 ms), and as it reports itself (walk to last row, like PyTorch's span
but for model building).

Needs Debian's python3-torch and python3-torchvision (scripts/install-deps --bench).
Usage: bench/compare_classify.py TREE [--model models/default.inkw] [--build build] [--threads 2] [--repeats 3]
                                  [--precision auto f32]
"""
import argparse
import os
import re
import statistics
import struct
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


def model_spec(path):
    """The architecture spec string from an .inkw file's header (docs/model-format.md)."""
    with open(path, "rb") as f:
        head = f.read(16)
        if head[:8] != b"INKWELL\0":
            sys.exit(f"compare_classify: {path} is not an inkwell model file")
        (length,) = struct.unpack("<I", head[12:16])
        return f.read(length).decode()


def torch_model(spec, channels=1, size=28):
    """The same network as an inkwell spec (conv<OC>k<K>[p<P>][s<S>], maxpool<K>[s<S>], fc<N>, relu,
    bn, dropout<P>), for timing: weights are PyTorch's random ones."""
    layers, flat = [], False
    for token in spec.split("-"):
        if token == "relu":
            layers.append(nn.ReLU())
        elif token == "bn":
            layers.append(nn.BatchNorm1d(channels) if flat else nn.BatchNorm2d(channels))
        elif m := re.fullmatch(r"dropout(\d+)", token):
            layers.append(nn.Dropout(int(m[1]) / 100))
        elif m := re.fullmatch(r"conv(\d+)k(\d+)(?:p(\d+))?(?:s(\d+))?", token):
            oc, k, p, st = int(m[1]), int(m[2]), int(m[3] or 0), int(m[4] or 1)
            layers.append(nn.Conv2d(channels, oc, k, stride=st, padding=p))
            channels, size = oc, (size + 2 * p - k) // st + 1
        elif m := re.fullmatch(r"maxpool(\d+)(?:s(\d+))?", token):
            k, st = int(m[1]), int(m[2] or m[1])
            layers.append(nn.MaxPool2d(k, st))
            size = (size - k) // st + 1
        elif m := re.fullmatch(r"fc(\d+)", token):
            if not flat:
                layers.append(nn.Flatten())
                channels, flat = channels * size * size, True
            layers.append(nn.Linear(channels, int(m[1])))
            channels = int(m[1])
        else:
            sys.exit(f"compare_classify: cannot translate layer '{token}'")
    return nn.Sequential(*layers).eval()


def pytorch_run(tree, spec, out_path, threads):
    torch.set_num_threads(threads)
    transform = transforms.Compose([transforms.Grayscale(), transforms.ToTensor(),
                                    transforms.Normalize((0.1307,), (0.3081,))])
    start = time.perf_counter()
    data = datasets.ImageFolder(tree, transform=transform)
    loader = torch.utils.data.DataLoader(data, batch_size=256, num_workers=threads)
    model = torch_model(spec)
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


def inkwell_run(binary, tree, model, out_path, threads, precision):
    start = time.perf_counter()
    proc = subprocess.run([binary, tree, "--model", model, "--out", out_path, "--threads", str(threads),
                           "--labels-from-dirs", "--precision", precision],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 3):
        sys.exit(f"compare_classify: inkwell-classify failed: {proc.stderr}")
    rows = sum(1 for _ in open(out_path)) - 1
    accuracy = re.search(r"accuracy: ([0-9.]+)", proc.stderr)
    inside = re.search(r" ([0-9]+) img/s", proc.stderr)
    return rows / seconds, float(accuracy.group(1)) if accuracy else None, float(inside.group(1)) if inside else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tree")
    ap.add_argument("--model", default=os.path.join(os.path.dirname(__file__), "..", "models", "default.inkw"))
    ap.add_argument("--build", default="build")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--precision", nargs="+", default=["auto"], choices=["auto", "f32", "int8"])
    args = ap.parse_args()
    binary = os.path.join(args.build, "bin", "inkwell-classify")
    if not os.access(binary, os.X_OK):
        sys.exit(f"compare_classify: {binary} not found: build first (scripts/build)")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.csv")
        spec = model_spec(args.model)
        inkwell_run(binary, args.tree, args.model, out, args.threads, "f32")  # warms the page cache
        torch_rates = []
        inkwell_rates = {p: [] for p in args.precision}
        inside_rates = {p: [] for p in args.precision}
        accuracy = {}
        for _ in range(args.repeats):
            torch_rates.append(pytorch_run(args.tree, spec, out, args.threads))
            for p in args.precision:
                rate, accuracy[p], inside = inkwell_run(binary, args.tree, args.model, out, args.threads, p)
                inkwell_rates[p].append(rate)
                inside_rates[p].append(inside)
    t = statistics.median(torch_rates)
    print(f"classify {args.tree} with {spec}: {args.threads} threads, median of {args.repeats} alternating runs")
    print(f"  PyTorch (ImageFolder + DataLoader, CSV): {t:>9,.0f} img/s   (in its process, from the walk on)")
    for p in args.precision:
        i, inside = statistics.median(inkwell_rates[p]), statistics.median(inside_rates[p])
        acc = f", accuracy {accuracy[p]:.4f}" if accuracy[p] is not None else ""
        print(f"  inkwell-classify --precision {p:<4}:      {i:>9,.0f} img/s   ({i / t:.2f}x; the whole process)")
        print(f"      as it reports itself:              {inside:>9,.0f} img/s   ({inside / t:.2f}x; walk to last row{acc})")


if __name__ == "__main__":
    main()
