#!/usr/bin/python3
"""Side-by-side throughput of the seed model in PyTorch and in inkwell, in one run.

Runs the two alternately, `--repeats` times each, with the same thread count, and prints the
median images/s of each and their ratio for: a training step (forward, cross-entropy, backward,
Adam with weight decay) at batch 64, and inference at batch 256 and batch 1. Both sides work on
synthetic in-memory batches, so data loading is not measured.

bf16 training, where the CPU has native bf16: PyTorch's torch.autocast("cpu", dtype=torch.bfloat16)
around forward and loss, against inkwell's default --precision auto (bf16 for the convolutions
measured faster in bf16 on this machine, cached: docs/plans.md).

int8 inference: PyTorch's own static post-training quantization (torch.ao.quantization: conv+ReLU
fused, per-channel weights, calibrated on 32 batches) on the quantized engine the build has
(Debian's: onednn, else qnnpack; no fbgemm), against inkwell's models/accurate.inkw (the same seed
architecture, calibrated) with its measured per-layer plan (docs/plans.md).

With --epoch, it also times a real training epoch as each side really feeds it: PyTorch's loop
over a DataLoader of the in-memory MNIST tensors (55k train images, shuffled, batch 64, Adam),
against `inkwell-train --data mnist --model seed --epochs 1` (its metrics.csv images/s: the same
55k images, the steps and the batch preparation, not evaluation).

Needs Debian's python3-torch (scripts/install-deps --bench) and a build with bench_model.
Usage: bench/compare_pytorch.py [--build build] [--threads 2] [--repeats 5] [--seconds 3] [--epoch]
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

try:
    import torch
    import torch.nn as nn
except ImportError:
    sys.exit("compare_pytorch: PyTorch is missing: run scripts/install-deps --bench (Debian's python3-torch)")

CASES = [  # (name, inkwell benchmark, batch, kind: train, bf16 train, f32 or int8 inference)
    ("train step, batch 64", "BM_TrainStep/seed/64/real_time", 64, "train"),
    ("bf16 train step, b 64", "BM_TrainStepAuto/seed/64/real_time", 64, "bf16"),
    ("inference, batch 256", "BM_Forward/seed/256/real_time", 256, "f32"),
    ("inference, batch 1", "BM_Forward/seed/1/real_time", 1, "f32"),
    ("int8 inference, b 256", "BM_ForwardInt8/seed/256/real_time", 256, "int8"),
    ("int8 inference, b 1", "BM_ForwardInt8/seed/1/real_time", 1, "int8"),
]


def seed_model():
    """The notebook's model: inkwell's preset `seed`."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10))


def cpu_has_bf16():
    """The CPU's bf16 instructions, unless ONEDNN_MAX_CPU_ISA caps oneDNN (inkwell's and PyTorch's) below them."""
    cap = (os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA") or "ALL").upper()
    if cap in ("SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI"):
        return False
    with open("/proc/cpuinfo") as f:
        flags = f.read()
    return "avx512_bf16" in flags or "amx_bf16" in flags


def quantized_engine():
    engines = torch.backends.quantized.supported_engines
    return next((e for e in ("onednn", "x86", "fbgemm", "qnnpack") if e in engines), None)


def quantized_seed_model():
    """The seed model quantized the way PyTorch documents static post-training quantization."""
    import torch.ao.quantization as tq
    engine = quantized_engine()
    torch.backends.quantized.engine = engine
    model = nn.Sequential(tq.QuantStub(), *seed_model(), tq.DeQuantStub()).eval()
    tq.fuse_modules(model, [["1", "2"], ["4", "5"]], inplace=True)  # conv+ReLU pairs
    model.qconfig = tq.get_default_qconfig(engine)
    tq.prepare(model, inplace=True)
    with torch.no_grad():
        for _ in range(32):
            model(torch.randn(64, 1, 28, 28))
    return tq.convert(model, inplace=True)


def pytorch_rate(batch, kind, seconds):
    torch.manual_seed(0)
    model = quantized_seed_model() if kind == "int8" else seed_model()
    x = torch.randn(batch, 1, 28, 28)
    y = torch.randint(0, 10, (batch,))
    if kind in ("train", "bf16"):
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
        loss_fn = nn.CrossEntropyLoss()

        def step():
            opt.zero_grad()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=kind == "bf16"):
                loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
    else:
        model.eval()

        def step():
            with torch.no_grad():
                model(x)
    for _ in range(10):
        step()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        n += 1
    return n * batch / (time.perf_counter() - start)


def inkwell_rate(binary, name, seconds, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run(
        [binary, f"--benchmark_filter=^{name}$", "--benchmark_format=json", f"--benchmark_min_time={seconds}"],
        check=True, capture_output=True, text=True, env=env).stdout
    runs = [b for b in json.loads(out)["benchmarks"] if b["name"] == name]
    if not runs:
        sys.exit(f"compare_pytorch: {binary} has no benchmark {name}")
    return runs[0]["items_per_second"]


def mnist_train_tensors():
    """MNIST's 60k training images as normalised float tensors, from data/fetch's IDX files."""
    root = os.environ.get("INKWELL_DATA", os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "inkwell"))
    with open(os.path.join(root, "mnist", "train-images-idx3-ubyte"), "rb") as f:
        images = torch.frombuffer(bytearray(f.read()[16:]), dtype=torch.uint8).view(-1, 1, 28, 28)
    with open(os.path.join(root, "mnist", "train-labels-idx1-ubyte"), "rb") as f:
        labels = torch.frombuffer(bytearray(f.read()[8:]), dtype=torch.uint8).long()
    return (images.float() / 255 - 0.1307) / 0.3081, labels


def pytorch_epoch_rate(images, labels):
    """One epoch of the notebook's loop over 55k in-memory images; images/s over the epoch."""
    torch.manual_seed(0)
    model = seed_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images[:55000], labels[:55000]),
                                         batch_size=64, shuffle=True)
    start = time.perf_counter()
    for x, y in loader:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return 55000 / (time.perf_counter() - start)


def inkwell_epoch_rate(build, threads):
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([os.path.join(build, "bin", "inkwell-train"), "--data", "mnist", "--model", "seed", "--epochs", "1",
                        "--threads", str(threads), "--out", out], check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(out, "metrics.csv")) as f:
            return float(next(csv.DictReader(f))["images_per_sec"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--epoch", action="store_true", help="also a real training epoch on MNIST, each side's own loop")
    args = ap.parse_args()
    binary = os.path.join(args.build, "bin", "bench_model")
    if not os.access(binary, os.X_OK):
        sys.exit(f"compare_pytorch: {binary} not found: build first (scripts/build)")
    torch.set_num_threads(args.threads)

    print(f"PyTorch {torch.__version__} vs inkwell, {args.threads} threads, "
          f"median of {args.repeats} alternating runs of {args.seconds:g} s; PyTorch int8 engine: {quantized_engine()}")
    print(f"{'case':<22} {'PyTorch img/s':>14} {'inkwell img/s':>14} {'ratio':>7}")
    for label, name, batch, kind in CASES:
        if kind == "int8" and quantized_engine() is None:
            print(f"{label:<22} skipped: this PyTorch has no quantized CPU engine")
            continue
        if kind == "bf16" and not cpu_has_bf16():
            print(f"{label:<22} skipped: this CPU has no native bf16 (avx512_bf16 or amx_bf16 in /proc/cpuinfo)")
            continue
        torch_rates, inkwell_rates = [], []
        for _ in range(args.repeats):
            torch_rates.append(pytorch_rate(batch, kind, args.seconds))
            inkwell_rates.append(inkwell_rate(binary, name, args.seconds, args.threads))
        t, i = statistics.median(torch_rates), statistics.median(inkwell_rates)
        print(f"{label:<22} {t:>14,.0f} {i:>14,.0f} {i / t:>6.2f}x", flush=True)
    if args.epoch:
        images, labels = mnist_train_tensors()
        rounds = max(1, args.repeats // 2)
        torch_rates, inkwell_rates = [], []
        for _ in range(rounds):
            torch_rates.append(pytorch_epoch_rate(images, labels))
            inkwell_rates.append(inkwell_epoch_rate(args.build, args.threads))
        t, i = statistics.median(torch_rates), statistics.median(inkwell_rates)
        print(f"{'training epoch, MNIST':<22} {t:>14,.0f} {i:>14,.0f} {i / t:>6.2f}x  (median of {rounds})", flush=True)


if __name__ == "__main__":
    main()
