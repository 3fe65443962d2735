#!/usr/bin/env python3
"""Makes seed-pytorch-qdq.onnx, the QDQ int8 fixture of tests/test_onnx.cpp, from
seed-pytorch.onnx, the way ONNX Runtime's static quantiser writes QDQ models: every Conv and Gemm
takes its input through QuantizeLinear -> DequantizeLinear (per tensor: int8 for the normalised
image, which is signed, uint8 after a ReLU; zero point 0; the range the largest magnitude seen on
1,000 MNIST training images) and its weights as int8 constants through DequantizeLinear (one
scale per output channel, max |w| / 127). Needs python3-onnx, python3-torch and MNIST. Run from
the repository root, with Debian's python:
  /usr/bin/python3 tests/data/onnx/seed_pytorch_qdq.py
"""
import os

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper, TensorProto

from seed_pytorch import HERE, mnist


def main():
    model = onnx.load(os.path.join(HERE, "seed-pytorch.onnx"))
    g = model.graph
    weights = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    # The network again in PyTorch, to see each Conv's and Gemm's input on calibration images.
    x, _ = mnist("train")
    x = x[:1000]
    inputs = {}
    with torch.no_grad():
        h = x
        for node in g.node:
            if node.op_type in ("Conv", "Gemm"):
                inputs[node.name] = float(h.abs().max())
            if node.op_type == "Conv":
                attrs = {a.name: list(a.ints) for a in node.attribute}
                h = torch.nn.functional.conv2d(h, torch.from_numpy(weights[node.input[1]]),
                                               torch.from_numpy(weights[node.input[2]]),
                                               stride=attrs["strides"], padding=attrs["pads"][:2])
            elif node.op_type == "Relu":
                h = torch.relu(h)
            elif node.op_type == "MaxPool":
                h = torch.nn.functional.max_pool2d(h, 2)
            elif node.op_type == "Flatten":
                h = torch.flatten(h, 1)
    nodes, extra = [], []
    for node in g.node:
        if node.op_type in ("Conv", "Gemm"):
            signed = node.name == g.node[0].name  # the normalised image; ReLU outputs after
            scale = inputs[node.name] / (127.0 if signed else 255.0)
            zero = np.array(0, np.int8 if signed else np.uint8)
            p = node.name.replace("/", "_")
            extra += [numpy_helper.from_array(np.array(scale, np.float32), p + "_x_scale"),
                      numpy_helper.from_array(zero, p + "_x_zero")]
            nodes += [helper.make_node("QuantizeLinear", [node.input[0], p + "_x_scale", p + "_x_zero"], [p + "_xq"]),
                      helper.make_node("DequantizeLinear", [p + "_xq", p + "_x_scale", p + "_x_zero"], [p + "_xdq"])]
            w = weights[node.input[1]]
            w_scale = np.abs(w.reshape(w.shape[0], -1)).max(1) / 127.0
            q = np.clip(np.round(w / w_scale.reshape((-1,) + (1,) * (w.ndim - 1))), -127, 127).astype(np.int8)
            extra += [numpy_helper.from_array(q, p + "_wq"),
                      numpy_helper.from_array(w_scale.astype(np.float32), p + "_w_scale"),
                      numpy_helper.from_array(np.zeros(w.shape[0], np.int8), p + "_w_zero")]
            nodes.append(helper.make_node("DequantizeLinear", [p + "_wq", p + "_w_scale", p + "_w_zero"], [p + "_wdq"], axis=0))
            node.input[0], node.input[1] = p + "_xdq", p + "_wdq"
        nodes.append(node)
    kept = [t for t in g.initializer if not any(n.op_type in ("Conv", "Gemm") and n.input[1] == t.name for n in g.node)]
    used = {i for n in nodes for i in n.input}
    kept = [t for t in kept if t.name in used]
    del g.node[:]
    g.node.extend(nodes)
    del g.initializer[:]
    g.initializer.extend(kept + extra)
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, "seed-pytorch-qdq.onnx"))
    print("seed_pytorch_qdq.py: wrote seed-pytorch-qdq.onnx")


if __name__ == "__main__":
    main()
