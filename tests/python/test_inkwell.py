"""The Python module against the command-line tools (ctest runs this with pytest; see
tests/CMakeLists.txt): predictions equal inkwell-classify's, a training run equals
inkwell-train's, Ctrl-C leaves a run that resumes to the same bytes, bad input raises, and the
GIL is released while inkwell computes.

Environment: PYTHONPATH=build/python, INKWELL_BIN=build/bin, MNIST fetched (data/fetch mnist).
"""
import csv
import os
import signal
import struct
import subprocess
import threading
import time

import numpy as np
import pytest

import inkwell

BIN = os.environ["INKWELL_BIN"]
SOURCE = os.environ["INKWELL_SOURCE_DIR"]


@pytest.fixture(scope="module")
def mnist_test():
    return inkwell.datasets.load("mnist", split="test")


@pytest.fixture(scope="module")
def small_mnist(tmp_path_factory):
    """An IDX directory with MNIST's first 2,000 training and 500 test images."""
    d = tmp_path_factory.mktemp("small-mnist")
    for split, prefix, n in (("train", "train", 2000), ("test", "t10k", 500)):
        x, y, _ = inkwell.datasets.load("mnist", split=split)
        with open(d / f"{prefix}-images-idx3-ubyte", "wb") as f:
            f.write(struct.pack(">IIII", 0x803, n, 28, 28) + x[:n].tobytes())
        with open(d / f"{prefix}-labels-idx1-ubyte", "wb") as f:
            f.write(struct.pack(">II", 0x801, n) + y[:n].astype(np.uint8).tobytes())
    return str(d)


def cli(app, *args):
    return subprocess.run([os.path.join(BIN, f"inkwell-{app}"), *map(str, args)], check=True, capture_output=True, text=True)


def metrics_without_timing(path):
    with open(path) as f:
        return [[v for i, v in enumerate(row) if i not in (7, 8)] for row in csv.reader(f)]


def test_predict_and_classify_give_inkwell_classifys_rows(tmp_path, mnist_test):
    images, labels, _ = mnist_test
    cli("export", "--data", "mnist", "--split", "test", "--out", tmp_path / "tree")
    tree = tmp_path / "tree" / "test"
    cli("classify", tree, "--out", tmp_path / "cli.csv")
    with open(tmp_path / "cli.csv") as f:
        want = list(csv.DictReader(f))
    model = inkwell.load(os.path.join(SOURCE, "models", "default.inkw"))
    got = list(inkwell.classify(tree, model=model, progress=False))
    assert [r[0] for r in got] == [r["path"] for r in want]
    assert [r[1] for r in got] == [r["label"] for r in want]
    assert all(abs(g[2] - float(w["confidence"])) < 1e-5 for g, w in zip(got, want))
    assert all(r[3] == "ok" for r in got)
    # The same images in memory (MNIST-like PNGs pass preprocessing unchanged): the same labels.
    predicted, probabilities = model.predict(images)
    by_index = {int(os.path.basename(r["path"])[:-4]): r for r in want}
    assert all(model.classes[predicted[i]] == by_index[i]["label"] for i in range(len(images)))
    assert max(abs(probabilities[i] - float(by_index[i]["confidence"])) for i in range(len(images))) < 1e-4
    assert (predicted == labels).mean() > 0.98
    # float32, normalised by the caller, (N, 1, 28, 28): the same answer in f32.
    mean, std = model.normalization
    x = ((images[:500].astype(np.float32) / 255 - mean) / std).reshape(500, 1, 28, 28)
    a, _ = model.predict(x, precision="f32")
    b, _ = model.predict(images[:500], precision="f32")
    assert (a == b).all()
    top, p = model.predict(images[:10], top_k=3)
    assert top.shape == (10, 3) and (p[:, 0] >= p[:, 1]).all() and (top[:, 0] == predicted[:10]).all()


def test_train_gives_inkwell_trains_run(tmp_path, small_mnist):
    cli("train", "--data", small_mnist, "--epochs", 2, "--seed", 3, "--out", tmp_path / "cli", "--progress", "never")
    seen = []
    run = inkwell.train(data=small_mnist, epochs=2, seed=3, out=str(tmp_path / "py"), callback=seen.append)
    assert metrics_without_timing(tmp_path / "cli" / "metrics.csv") == metrics_without_timing(tmp_path / "py" / "metrics.csv")
    assert (tmp_path / "cli" / "model.inkw").read_bytes() == (tmp_path / "py" / "model.inkw").read_bytes()
    assert run.complete and run.history["epoch"] == [1, 2] and len(run.history["valid_acc"]) == 2
    assert [m["epoch"] for m in seen] == [1, 2] and seen[-1]["valid_acc"] == pytest.approx(run.history["valid_acc"][-1], abs=1e-6)
    assert isinstance(run.model, inkwell.Model) and run.model.classes == [str(i) for i in range(10)]


def test_keyboard_interrupt_saves_a_run_that_resumes_to_the_same_bytes(tmp_path, small_mnist):
    settings = dict(data=small_mnist, epochs=3, seed=5)
    inkwell.train(**settings, out=str(tmp_path / "whole"))

    def interrupt(metrics):  # Ctrl-C during epoch 2's callback
        if metrics["epoch"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        inkwell.train(**settings, out=str(tmp_path / "parts"), callback=interrupt)
    run = inkwell.train(resume=str(tmp_path / "parts"))
    assert run.complete and run.history["epoch"] == [1, 2, 3]
    assert (tmp_path / "whole" / "model.inkw").read_bytes() == (tmp_path / "parts" / "model.inkw").read_bytes()

    # A real SIGINT in the middle of a step: the same, from wherever it lands.
    timer = threading.Timer(0.4, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        inkwell.train(data=small_mnist, epochs=40, seed=5, out=str(tmp_path / "signal"))
    timer.cancel()
    # Resumed, and stopped again by a callback returning False: saved, resumable, not complete.
    run = inkwell.train(resume=str(tmp_path / "signal"), callback=lambda metrics: False)
    assert not run.complete and len(run.history["epoch"]) < 40


def test_bad_input_raises_with_the_tools_messages(tmp_path):
    with pytest.raises(OSError, match="nowhere.inkw"):
        inkwell.load(tmp_path / "nowhere.inkw")
    (tmp_path / "text.inkw").write_text("not a model")
    with pytest.raises(ValueError, match="not an inkwell model file"):
        inkwell.load(tmp_path / "text.inkw")
    (tmp_path / "text.onnx").write_text("not a model")
    with pytest.raises(ValueError, match="text.onnx"):
        inkwell.load(tmp_path / "text.onnx")
    model = inkwell.load(os.path.join(SOURCE, "models", "default.inkw"))
    with pytest.raises(TypeError):
        model.predict([[0] * 28] * 28)
    with pytest.raises(TypeError, match="dtype"):
        model.predict(np.zeros((2, 28, 28), np.float64))
    with pytest.raises(ValueError, match=r"got \(2, 27, 28\)"):
        model.predict(np.zeros((2, 27, 28), np.uint8))
    with pytest.raises(ValueError):
        model.predict(np.zeros((2, 28, 28), np.uint8), precision="fp16")
    with pytest.raises(ValueError, match="threads takes 0 to 4096"):
        model.predict(np.zeros((2, 28, 28), np.uint8), threads=100000)
    with pytest.raises(ValueError):
        inkwell.classify(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="neither a dataset name"):
        inkwell.train(data=str(tmp_path / "nowhere"), out=str(tmp_path / "r"))
    with pytest.raises(ValueError, match="epochs takes"):
        inkwell.train(epochs=0, out=str(tmp_path / "r"))
    with pytest.raises(ValueError, match="unknown optimizer|optimizer"):
        inkwell.train(optimizer="adma", out=str(tmp_path / "r"))
    with pytest.raises(ValueError, match="unknown dataset"):
        inkwell.datasets.load("mnsit")
    rows = list(inkwell.classify([tmp_path / "text.inkw"], model=model, progress=False))
    assert rows[0][1] is None and rows[0][3] != "ok"  # an unreadable file is an error row, not an exception


def test_predict_releases_the_gil(mnist_test):
    images = np.concatenate([mnist_test[0]] * 5)
    model = inkwell.load(os.path.join(SOURCE, "models", "default.inkw"))
    model.predict(images[:256])  # built once
    worker = threading.Thread(target=model.predict, args=(images,))
    count = 0
    worker.start()
    while worker.is_alive():
        count += 1
    worker.join()
    # With the GIL held for the whole call this loop would run a handful of times.
    assert count > 10000, count


def test_predict_gives_the_same_bytes_with_any_thread_count(mnist_test):
    # Chunks of `batch` rows shared among one-thread models: which worker takes a chunk does not
    # change a row's result (docs/plans.md).
    images = mnist_test[0][:3000]
    model = inkwell.load(os.path.join(SOURCE, "models", "default.inkw"))
    for precision in ("auto", "f32"):
        want = model.predict(images, precision=precision, threads=1, top_k=3, batch=100)
        for threads in (2, 3, 7):
            got = model.predict(images, precision=precision, threads=threads, top_k=3, batch=100)
            assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1]), (precision, threads)


def test_predict_without_a_batch_runs_at_the_size_measured_here(mnist_test):
    # batch=None: the rows a forward pass measured fastest on this machine (256 or a power of two
    # down to 16, docs/plans.md), so its bytes are those of one explicit candidate.
    images = mnist_test[0][:1000]
    model = inkwell.load(os.path.join(SOURCE, "models", "accurate.inkw"))
    got = model.predict(images, precision="f32", top_k=2)
    same = [b for b in (256, 128, 64, 32, 16)
            if all(np.array_equal(g, w) for g, w in zip(got, model.predict(images, precision="f32", top_k=2, batch=b)))]
    assert len(same) >= 1, "the measured batch is none of the candidates"
    with pytest.raises(ValueError, match="batch takes 1 to 256"):
        model.predict(images, batch=257)
