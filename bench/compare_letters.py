#!/usr/bin/python3
"""Few-shot letters, inkwell and PyTorch side by side: from scratch, and fine-tuned from the digits.

The task: 800 real EMNIST letters (tests/data/emnist-letters-sample, the first 800 of the sample,
written out by data/letters-sample), tested on the other 200. Both sides train the seed net
(conv16k5p2-relu-maxpool2-conv32k5p2-relu-maxpool2, fc26) for 30 epochs, Adam lr 1e-3, weight decay
1e-4, batch 64, cosine schedule, on all 800 images (no validation split), with augmentation
(rotation, scale, shift; no flips), MNIST's normalisation:
  - from scratch;
  - fine-tuned from a digits model: inkwell from models/accurate.inkw (inkwell's seed net trained on
    MNIST with augmentation, 10 epochs); PyTorch from the same architecture trained here on MNIST
    (`--mnist-epochs`, Adam lr 1e-3, batch 64, the same augmentation), its convolutions copied, a
    new last layer;
  - and each fine-tune again with the first conv frozen.
Prints the test accuracy of every run. Needs python3-torch and python3-torchvision
(scripts/install-deps --bench), MNIST (data/fetch mnist) and a build.
Usage: bench/compare_letters.py [--build build] [--threads 2] [--mnist-epochs 3] [--seeds 0]
"""
import argparse
import csv
import math
import os
import subprocess
import sys
import tempfile

try:
    import torch
    import torch.nn as nn
    import torchvision.transforms.v2 as T
except ImportError:
    try:
        import torchvision.transforms as T
    except ImportError:
        sys.exit("compare_letters: PyTorch or torchvision is missing: run scripts/install-deps --bench")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MEAN, STD = 0.1307, 0.3081


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def letters(directory, part):
    """EMNIST letters as inkwell reads them: transposed back upright, labels 1-26 -> 0-25."""
    x = read_idx(os.path.join(directory, f"emnist-letters-{part}-images-idx3-ubyte")).transpose(1, 2)
    y = read_idx(os.path.join(directory, f"emnist-letters-{part}-labels-idx1-ubyte")).long() - 1
    return x, y


def mnist():
    cache = os.environ.get("INKWELL_DATA") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "inkwell")
    d = os.path.join(cache, "mnist")
    return read_idx(os.path.join(d, "train-images-idx3-ubyte")), read_idx(os.path.join(d, "train-labels-idx1-ubyte")).long()


def seed_net(classes):
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, classes))


def normalise(x):
    return ((x.float() / 255) - MEAN) / STD


def train(model, x, y, epochs, augment, frozen=()):
    for p in frozen:
        p.requires_grad_(False)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3, weight_decay=1e-4)
    steps = epochs * math.ceil(len(x) / 64)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    affine = T.RandomAffine(degrees=12, translate=(2.5 / 28, 2.5 / 28), scale=(0.85, 1.15))
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x))
        for i in range(0, len(x), 64):
            idx = order[i:i + 64]
            xb = x[idx].unsqueeze(1)
            if augment:
                xb = torch.stack([affine(img) for img in xb])
            opt.zero_grad()
            loss_fn(model(normalise(xb)), y[idx]).backward()
            opt.step()
            sched.step()
    return model


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return (model(normalise(x.unsqueeze(1))).argmax(1) == y).float().mean().item()


def inkwell(build, data, out, extra):
    subprocess.run([os.path.join(build, "bin", "inkwell-train"), "--data", data, "--model", "seed", "--epochs", "30",
                    "--augment", "--valid", "0", "--progress", "never", "--out", out] + extra,
                   check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "metrics.csv")) as f:
        return float(list(csv.DictReader(f))[-1]["test_acc"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--mnist-epochs", type=int, default=3)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as work:
        data = os.path.join(work, "letters")
        subprocess.run([os.path.join(ROOT, "data", "letters-sample"), data], check=True, stdout=subprocess.DEVNULL)
        xtr, ytr = letters(data, "train")
        xte, yte = letters(data, "test")
        digits_model = os.path.join(ROOT, "models", "accurate.inkw")
        rows = []
        for seed in args.seeds:
            seed_flag = ["--seed", str(seed), "--threads", str(args.threads)]
            rows.append(("inkwell", "from scratch", seed, inkwell(args.build, data, os.path.join(work, "s"), seed_flag)))
            rows.append(("inkwell", "fine-tuned", seed,
                         inkwell(args.build, data, os.path.join(work, "f"), seed_flag + ["--init-from", digits_model])))
            rows.append(("inkwell", "fine-tuned, conv1 frozen", seed,
                         inkwell(args.build, data, os.path.join(work, "f1"), seed_flag + ["--init-from", digits_model, "--freeze", "1"])))
            torch.manual_seed(seed)
            rows.append(("PyTorch", "from scratch", seed, accuracy(train(seed_net(26), xtr, ytr, 30, True), xte, yte)))
            torch.manual_seed(seed)
            xm, ym = mnist()
            digits = train(seed_net(10), xm, ym, args.mnist_epochs, True)
            for frozen_first in (False, True):
                model = seed_net(26)
                model.load_state_dict({k: v for k, v in digits.state_dict().items() if not k.startswith("7.")}, strict=False)
                frozen = list(model[0].parameters()) if frozen_first else []
                torch.manual_seed(seed)
                rows.append(("PyTorch", "fine-tuned, conv1 frozen" if frozen_first else "fine-tuned", seed,
                             accuracy(train(model, xtr, ytr, 30, True, frozen), xte, yte)))
        print(f"{'side':8} {'run':26} {'seed':>4} {'test accuracy':>14}")
        for side, run, seed, acc in rows:
            print(f"{side:8} {run:26} {seed:>4} {100 * acc:13.1f}%")


if __name__ == "__main__":
    main()
