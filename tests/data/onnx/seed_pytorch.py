#!/usr/bin/env python3
"""Trains the seed notebook's model in PyTorch and exports it to ONNX, as the fixture of
inkwell's ONNX import test (tests/test_onnx.cpp):

  seed-pytorch.onnx              the model (torch.onnx.export, opset 13, dynamic batch)
  seed-pytorch-predictions.txt.gz  PyTorch's output on MNIST's 10,000 test images: per image
                                 its label, the two largest probabilities and the second label

The model is shared/design/targets.md's: conv 5x5 16 ch pad 2, ReLU, max pool 2, conv 5x5 32 ch
pad 2, ReLU, max pool 2, linear 1568 -> 10, on images normalised with mean 0.1307, std 0.3081;
Adam lr 1e-3, weight decay 1e-4 (L2), batch 64, one epoch on MNIST's 60k training images,
seeded. Needs python3-torch and MNIST (data/fetch mnist). Run from the repository root:
  python3 tests/data/onnx/seed_pytorch.py
"""
import gzip
import os
import sys

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
MEAN, STD = 0.1307, 0.3081


def idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(data[3])]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * len(dims)).reshape(dims)


def mnist(part):
    root = os.environ.get("INKWELL_DATA") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "inkwell")
    def find(name):
        for candidate in (name, name + ".gz"):
            path = os.path.join(root, "mnist", candidate)
            if os.path.exists(path):
                return path
        sys.exit(f"seed_pytorch.py: {name} not found under {root}/mnist (run data/fetch mnist)")
    prefix = "train" if part == "train" else "t10k"
    images = idx(find(f"{prefix}-images-idx3-ubyte")).astype(np.float32) / 255.0
    labels = idx(find(f"{prefix}-labels-idx1-ubyte")).astype(np.int64)
    return torch.from_numpy((images[:, None] - MEAN) / STD), torch.from_numpy(labels)


def main():
    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 1)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10))
    x, y = mnist("train")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    order = torch.randperm(len(x))
    model.train()
    for start in range(0, len(x), 64):
        batch = order[start:start + 64]
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
        optimizer.step()
    model.eval()
    tx, ty = mnist("test")
    with torch.no_grad():
        p = torch.softmax(model(tx), 1).numpy()
    top = np.argsort(-p, 1)[:, :2]
    accuracy = float((top[:, 0] == ty.numpy()).mean())
    print(f"seed_pytorch.py: test accuracy {accuracy:.4f}")
    torch.onnx.export(model, tx[:1], os.path.join(HERE, "seed-pytorch.onnx"), opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    with gzip.open(os.path.join(HERE, "seed-pytorch-predictions.txt.gz"), "wt", compresslevel=9) as out:
        out.write("label p1 second p2\n")
        for i in range(len(p)):
            a, b = top[i]
            out.write(f"{a} {p[i, a]:.7f} {b} {p[i, b]:.7f}\n")


if __name__ == "__main__":
    main()
