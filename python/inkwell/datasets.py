"""Datasets as numpy arrays, from the same cache as inkwell's tools ($INKWELL_DATA, else
~/.cache/inkwell): load("mnist"), load("fashion"), load("emnist-letters", split="test"), ...
A dataset not there yet is fetched with the source tree's data/fetch, as the tools do.
"""
from __future__ import annotations

import os
import subprocess

import numpy as np

from . import _core

__all__ = ["load", "names"]


def names() -> list[str]:
    """The dataset names load() takes."""
    return list(_core.dataset_names())


def load(name: str, split: str = "train") -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Returns (images, labels, classes): images uint8 (N, 28, 28), labels int64 (N), and the
    class names, for split "train", "test" or "all" (train then test). Raises ValueError for an
    unknown name or split, OSError if the dataset is missing and cannot be fetched."""
    if name not in names():
        raise ValueError(f"unknown dataset {name!r} (expected one of {', '.join(names())})")
    try:
        return _core.load_dataset(name, split)
    except (OSError, ValueError) as first:
        from . import _source_dir
        fetch = os.path.join(_source_dir(), "data", "fetch")
        if not os.path.exists(fetch) or split not in ("train", "test", "all"):
            raise
        if subprocess.run([fetch, name.split("-")[0] if name.startswith("emnist") else name]).returncode != 0:
            raise OSError(f"{name}: not in {_core.dataset_dir(name)} and data/fetch could not fetch it") from first
        return _core.load_dataset(name, split)
