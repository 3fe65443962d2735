"""inkwell from Python: train handwriting classifiers and classify images, with numpy in and out.

    import inkwell
    model = inkwell.load("models/default.inkw")          # or a .onnx file
    labels, probabilities = model.predict(images)         # (N, 28, 28) uint8 or float32
    for path, label, confidence, status in inkwell.classify("scans/"):
        ...
    run = inkwell.train(data="mnist", model="seed", epochs=5, out="runs/seed")
    run.history["valid_acc"], run.model

The work runs in inkwell's C++ library (oneDNN, oneTBB) with the GIL released. Bad input raises
ValueError, TypeError or OSError with the messages inkwell's command-line tools print.
docs/python.md has more.
"""
from __future__ import annotations

import os
import sys
from typing import Callable, Iterable, Iterator, Optional, Sequence, Union

import numpy as np

from . import _core
from . import datasets

__all__ = ["Model", "Run", "load", "classify", "train", "datasets"]


class Model:
    """A classifier loaded from a model file (.inkw or .onnx).

    Attributes: ``classes`` (class names, in output order), ``architecture`` (inkwell's spec
    string), ``input_shape`` ((C, H, W)), ``normalization`` ((mean, std): uint8 pixels p become
    (p / 255 - mean) / std), ``calibrated`` (whether it carries an int8 calibration).
    """

    def __init__(self, core: "_core.Model", path: str = ""):
        self._core = core
        self.path = path

    @property
    def classes(self) -> list[str]:
        return self._core.classes

    @property
    def architecture(self) -> str:
        return self._core.architecture

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self._core.input_shape)

    @property
    def normalization(self) -> tuple[float, float]:
        return self._core.normalization

    @property
    def calibrated(self) -> bool:
        return self._core.calibrated

    def predict(self, x: np.ndarray, *, precision: str = "auto", threads: int = 0, top_k: int = 1,
                batch: Optional[int] = None) -> tuple[np.ndarray, np.ndarray]:
        """Classifies images held in memory.

        x: an array (N, H, W) or (N, C, H, W): uint8 raw pixels (normalised as the model was
        trained), or float32 already normalised. A C-contiguous array is read where it is.
        precision: "auto" (int8 for the layers measured faster in int8 on this machine, if the
        model is calibrated), "f32" or "int8". threads: workers, one one-thread model each (0: the
        CPUs this process may use; the same results for any count). top_k: how many classes per
        image. batch: images per forward pass (1 to 256); None: the size measured fastest on this
        machine for this model and precision (measured once, then cached; docs/plans.md).

        Returns (labels, probabilities): class indices into ``classes`` and their softmax
        probabilities, shape (N,) for top_k 1, else (N, top_k), most probable first.
        """
        if not isinstance(x, np.ndarray):
            raise TypeError(f"predict takes a numpy array, got {type(x).__name__}")
        return self._core.predict(x, precision, threads, top_k, 0 if batch is None else batch)

    def summary(self) -> str:
        """The model's layers with their output shapes, parameters and FLOPs per image (as inkwell-info)."""
        lines = [f"architecture  {self.architecture}", f"input         {'x'.join(map(str, self.input_shape))} (C x H x W)",
                 f"  #  {'layer':<14} {'output':<12} {'parameters':>12} {'FLOPs/image':>12}"]
        total_p, total_f = 0, 0.0
        for i, (layer, output, params, flops) in enumerate(self._core.layers(), 1):
            lines.append(f"{i:3}  {layer:<14} {'x'.join(map(str, output)):<12} {params or '-':>12} {flops or '-':>12}")
            total_p, total_f = total_p + params, total_f + flops
        lines.append(f"     {'total':<27} {total_p:>12} {total_f:>12.0f}")
        lines.append(f"classes       {len(self.classes)}: {' '.join(self.classes)}")
        lines.append(f"normalisation (pixel / 255 - {self.normalization[0]:.4f}) / {self.normalization[1]:.4f}")
        return "\n".join(lines)

    def save(self, path: str) -> None:
        """Writes the model to path: .onnx as ONNX, anything else as an .inkw file."""
        self._core.save(os.fspath(path))

    def __repr__(self) -> str:
        return f"inkwell.Model({self.architecture!r}, {len(self.classes)} classes)"


def load(path: Union[str, os.PathLike], *, normalize: Optional[tuple[float, float]] = None,
         classes: Optional[Sequence[str]] = None) -> Model:
    """Loads a model file: inkwell's .inkw, or ONNX (.onnx, e.g. from torch.onnx.export).

    An ONNX file that inkwell did not write does not say how its input was normalised nor what
    its classes are: ``normalize=(mean, std)`` (default MNIST's, 0.1307 and 0.3081) and
    ``classes`` (default "0", "1", ...) say it. Raises OSError if the file cannot be read and
    ValueError if it is not a model inkwell runs (the message names the file and the reason).
    """
    return Model(_core.load(os.fspath(path), normalize, list(classes or [])), os.fspath(path))


def _default_model() -> str:
    env = os.environ.get("INKWELL_MODEL")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    for candidate in (os.path.join(here, "..", "..", "..", "..", "share", "inkwell", "models", "default.inkw"),
                      os.path.join(here, "models", "default.inkw")):
        if os.path.exists(candidate):
            return candidate
    return os.path.join(_source_dir(), "models", "default.inkw")


def _source_dir() -> str:
    """The source tree this module was built from (a build tree's module), else $INKWELL_SOURCE_DIR."""
    try:
        from ._source import SOURCE_DIR
        return SOURCE_DIR
    except ImportError:
        return os.environ.get("INKWELL_SOURCE_DIR", "")


class _Rows:
    """The rows of a classification, as they come: (path, label, confidence, status)."""

    def __init__(self, core, total: Optional[int], progress: bool):
        self._core, self._total, self._done = core, total, 0
        # A terminal, or a notebook (Jupyter shows stderr under the cell): where the user looks.
        self._progress = progress and (sys.stderr.isatty() or "IPython" in sys.modules)

    def __iter__(self) -> "_Rows":
        return self

    def __next__(self) -> tuple[str, Optional[str], float, str]:
        try:
            row = next(self._core)
        except StopIteration:
            if self._progress:
                sys.stderr.write("\n")
            raise
        self._done += 1
        if self._progress and self._done % 1000 == 0:
            sys.stderr.write(f"\rinkwell: {self._done}" + (f" of {self._total}" if self._total else "") + " files")
        return row

    def close(self) -> None:
        self._core.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def classify(paths_or_dir: Union[str, os.PathLike, Iterable[Union[str, os.PathLike]]], *,
             model: Union[None, str, os.PathLike, Model] = None, precision: str = "auto", threads: int = 0,
             batch: int = 64, progress: bool = True) -> Iterator[tuple[str, Optional[str], float, str]]:
    """Classifies image files (PNG, JPEG): a directory (walked recursively, in sorted order), a
    file, or a list of them, on inkwell-classify's pipeline.

    Yields (path, label, confidence, status) per file in inkwell-classify's order: label is a
    class name and status "ok", or label None, confidence 0 and status the error for a file that
    could not be read (it never stops the run). model: a Model, a path, or the default model.
    progress: a running count on stderr, in a terminal or a notebook.
    """
    if isinstance(paths_or_dir, (str, os.PathLike)):
        roots = [os.fspath(paths_or_dir)]
    else:
        roots = [os.fspath(p) for p in paths_or_dir]
    m = model if isinstance(model, Model) else load(model if model is not None else _default_model())
    return _Rows(_core.classify(m._core, roots, precision, threads, batch), None, progress)


class Run:
    """A finished (or stopped) training run.

    history: metrics.csv's columns, one value per epoch ({"epoch": [1, 2, ...], "train_loss":
    [...], "valid_acc": [...], ...}; None where a figure is missing). model: the Model trained
    (the last epoch's). out: the run's directory. complete: False if the callback stopped it.
    """

    def __init__(self, history: dict, model: Model, out: str, complete: bool, messages: list[str]):
        self.history, self.model, self.out, self.complete, self.messages = history, model, out, complete, messages

    def __repr__(self) -> str:
        epochs = len(self.history.get("epoch", []))
        return f"inkwell.Run({self.out!r}, {epochs} epochs{'' if self.complete else ', stopped'})"


def train(data: str = "mnist", model: str = "seed", epochs: int = 5, *, batch: int = 64, lr: float = 1e-3,
          weight_decay: float = 1e-4, optimizer: str = "adam", schedule: str = "cosine", seed: int = 0,
          valid: Union[int, float] = 0.1, augment: bool = False, precision: str = "auto", init_from: str = "",
          freeze: int = 0, test_fraction: float = 1 / 7, keep_best: bool = False, test_at_end: bool = False,
          out: str = "runs/python", force: bool = False, threads: int = 0, plan: str = "auto",
          resume: Optional[str] = None, callback: Optional[Callable[[dict], Optional[bool]]] = None) -> Run:
    """Trains a model as inkwell-train does, with its defaults (the PyTorch notebook's: Adam,
    lr 1e-3, L2 1e-4, batch 64), and writes the same files to ``out``: model.inkw, metrics.csv,
    curves.svg, the confusion matrix, per_class.csv.

    data: a dataset name (mnist, fashion, emnist-letters, ...), an IDX directory, an image tree or
    a CSV manifest. model: a preset (seed, fast, best) or a spec. valid: validation images, a
    count (int) or a share (float; 0.1 is capped at 5,000 as inkwell-train's default).
    callback(metrics): called after every epoch with that epoch's figures (train_loss,
    valid_acc, ...); returning False stops the run (saved, resumable). Ctrl-C
    (KeyboardInterrupt) stops after the current step, saves, and raises KeyboardInterrupt;
    ``train(resume=out)`` goes on from there to the same weights. Bad settings raise ValueError.
    precision "auto" trains each convolution in bf16 where that is measured faster on this
    machine; plan: "auto" (measured once, cached), "measure" (again) or "rule" (no timing).
    """
    s, c = _core.RunSettings(), _core.RunControls()
    s.data, s.model, s.epochs, s.batch, s.lr, s.weight_decay = os.fspath(data), model, epochs, batch, lr, weight_decay
    s.optimizer, s.schedule, s.seed, s.augment, s.precision = optimizer, schedule, seed, augment, precision
    s.init_from, s.freeze, s.test_fraction, s.keep_best, s.test_at_end = os.fspath(init_from), freeze, test_fraction, keep_best, test_at_end
    if isinstance(valid, bool) or not isinstance(valid, (int, float)) or valid < 0:
        raise ValueError(f"valid takes a count or a share from 0 to 1, got {valid!r}")
    if isinstance(valid, int):
        s.set_valid(0.0, valid, 0)
    elif valid >= 1:
        raise ValueError(f"valid takes a count or a share from 0 to 1, got {valid!r}")
    else:
        s.set_valid(valid, -1, 5000 if valid == 0.1 else 2**62)
    c.out, c.force, c.threads, c.plan = os.fspath(resume if resume is not None else out), force, threads, plan
    history, core_model, complete, messages = _core.train(s, c, resume is not None, callback)
    return Run(history, Model(core_model, os.path.join(c.out, "model.inkw")), c.out, complete, messages)
