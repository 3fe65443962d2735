#!/usr/bin/env python3
"""The library's concerns include downwards only (docs/design.md).

Each folder of lib/include/inkwell and lib/src has a level; a file may include its own folder and
folders of lower levels, never a sibling (same level) or a higher one. A new folder must be given
a level here, so the layering is decided, not grown.
usage: test_layering.py SOURCE_DIR
"""
import pathlib
import re
import sys

LEVELS = {
    "core": 0,                          # errors, tensors, files, text: nothing of inkwell's below
    "data": 1, "nn": 1, "dist": 1,      # images and datasets; layers and models; ranks
    "model_file": 2,                    # .inkw files: a model's architecture, tensors and data settings
    "check": 3, "onnx": 3,              # plans checked against f32 on this machine; ONNX in and out
    "train": 4, "classify": 4,          # the two jobs, siblings
}

src = pathlib.Path(sys.argv[1])
include = re.compile(r'#include "inkwell/([a-z_]+)/')
problems = []
for root in (src / "lib/include/inkwell", src / "lib/src"):
    for path in sorted(root.rglob("*.[ch]pp")):
        folder = path.relative_to(root).parts[0]
        if folder not in LEVELS:
            problems.append(f"{path}: folder '{folder}' has no level in tests/test_layering.py")
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            m = include.match(line.strip())
            if not m or m.group(1) == folder:
                continue
            to = m.group(1)
            if to not in LEVELS or LEVELS[to] >= LEVELS[folder]:
                problems.append(f"{path.relative_to(src)}:{number}: {folder} (level {LEVELS[folder]}) includes "
                                f"{to} (level {LEVELS.get(to, '?')})")
for p in problems:
    print(p)
print(f"layering: {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
