# Types of the C++ extension under the inkwell package (python/src/module.cpp); the package's own
# modules (__init__.py, datasets.py) are annotated inline.
from typing import Callable, Iterator, Optional, Sequence

import numpy as np

class Model:
    classes: list[str]
    architecture: str
    input_shape: list[int]
    normalization: tuple[float, float]
    calibrated: bool
    metadata: dict[str, str]
    def predict(self, x: np.ndarray, precision: str = ..., threads: int = ..., top_k: int = ...,
                batch: int = ...) -> tuple[np.ndarray, np.ndarray]: ...
    def layers(self) -> list[tuple[str, list[int], int, float]]: ...
    def save(self, path: str) -> None: ...

def load(path: str, normalize: Optional[tuple[float, float]] = ..., classes: Sequence[str] = ...) -> Model: ...

class Classification(Iterator[tuple[str, Optional[str], float, str]]):
    def __next__(self) -> tuple[str, Optional[str], float, str]: ...
    def close(self) -> None: ...

def classify(model: Model, roots: list[str], precision: str, threads: int, batch: int) -> Classification: ...

class RunSettings:
    data: str
    model: str
    init_from: str
    freeze: int
    preprocessing: str
    optimizer: str
    schedule: str
    precision: str
    epochs: int
    batch: int
    lr: float
    weight_decay: float
    test_fraction: float
    seed: int
    augment: bool
    skip_bad: bool
    keep_best: bool
    test_at_end: bool
    def set_valid(self, fraction: float, count: int, cap: int) -> None: ...

class RunControls:
    out: str
    force: bool
    threads: int
    plan: str
    checkpoint_steps: int

def train(settings: RunSettings, controls: RunControls, resume: bool,
          callback: Optional[Callable[[dict], Optional[bool]]]) -> tuple[dict, Model, bool, list[str]]: ...
def load_dataset(name: str, split: str) -> tuple[np.ndarray, np.ndarray, list[str]]: ...
def dataset_dir(name: str) -> str: ...
def dataset_names() -> list[str]: ...
