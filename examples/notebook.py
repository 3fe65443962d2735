#!/usr/bin/python3
"""The seed notebook, redone with inkwell: MNIST with a train/valid/test split, the notebook's
small CNN (two conv layers, Adam lr 0.001, L2 1e-4) for 5 epochs, its accuracy and loss curves,
the confusion matrix and some mistakes; then its next step, letters.

    PYTHONPATH=build/python python3 examples/notebook.py      # figures in runs/notebook/

Run it cell by cell in Jupyter just as well (the figures then show inline).
"""
import os
import subprocess
import sys

import matplotlib
if "IPython" not in sys.modules and not os.environ.get("DISPLAY"):  # a terminal without a screen: files only
    matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import inkwell

out = os.environ.get("INKWELL_NOTEBOOK_OUT", "runs/notebook")
epochs = int(os.environ.get("INKWELL_NOTEBOOK_EPOCHS", "5"))
os.makedirs(out, exist_ok=True)

# %% MNIST: 55,000 to train, 5,000 to validate (seeded), 10,000 to test.
test_images, test_labels, classes = inkwell.datasets.load("mnist", split="test")
run = inkwell.train(data="mnist", model="seed", epochs=epochs, out=f"{out}/mnist", force=True,
                    callback=lambda m: print(f"epoch {m['epoch']}: train loss {m['train_loss']:.4f}, "
                                             f"valid accuracy {m['valid_acc']:.4f}"))
h = run.history
print(f"test accuracy {h['test_acc'][-1]:.4f}, test loss {h['test_loss'][-1]:.4f}")

# %% Accuracy and loss per epoch.
fig, (acc, loss) = plt.subplots(1, 2, figsize=(10, 4))
for split in ("train", "valid", "test"):
    acc.plot(h["epoch"], h[f"{split}_acc"], marker="o", label=split)
    loss.plot(h["epoch"], h[f"{split}_loss"], marker="o", label=split)
acc.set(title="accuracy", xlabel="epoch", xticks=h["epoch"]), loss.set(title="loss", xlabel="epoch", xticks=h["epoch"])
acc.legend(), loss.legend()
fig.tight_layout()
fig.savefig(f"{out}/curves.png")

# %% The confusion matrix on the test set, and some of the mistakes.
predicted, confidence = run.model.predict(test_images)
confusion = np.zeros((10, 10), int)
np.add.at(confusion, (test_labels, predicted), 1)
fig, ax = plt.subplots(figsize=(5, 5))
ax.imshow(np.log1p(confusion), cmap="Blues")
for t in range(10):
    for p in range(10):
        ax.text(p, t, confusion[t, p], ha="center", va="center", fontsize=7, color="white" if t == p else "black")
ax.set(xlabel="predicted", ylabel="true", xticks=range(10), yticks=range(10), title="test confusion")
fig.savefig(f"{out}/confusion.png")

wrong = np.flatnonzero(predicted != test_labels)[:12]
fig, axes = plt.subplots(2, 6, figsize=(9, 3.5))
for ax, i in zip(axes.flat, wrong):
    ax.imshow(test_images[i], cmap="gray")
    ax.set_title(f"{classes[test_labels[i]]} → {classes[predicted[i]]} ({confidence[i]:.2f})", fontsize=8)
    ax.axis("off")
fig.tight_layout()
fig.savefig(f"{out}/mistakes.png")
print(f"{len(np.flatnonzero(predicted != test_labels))} mistakes of {len(test_labels)}")

# %% The next step: letters. 800 real EMNIST letters (data/letters-sample), fine-tuned from the
# digits model: its convolutions already know strokes; a new last layer learns 26 classes.
letters = f"{out}/letters-data"
here = os.path.dirname(os.path.abspath(__file__))
subprocess.run([os.path.join(here, "..", "data", "letters-sample"), letters], check=True, stdout=subprocess.DEVNULL)
letters_run = inkwell.train(data=letters, init_from=run.model.path, epochs=int(os.environ.get("INKWELL_NOTEBOOK_LETTER_EPOCHS", "30")),
                            augment=True, out=f"{out}/letters", force=True)
print(f"letters: test accuracy {letters_run.history['test_acc'][-1]:.4f} on 200 held-out letters")
fig, ax = plt.subplots(figsize=(5, 4))
ax.plot(letters_run.history["epoch"], letters_run.history["valid_acc"], label="valid")
ax.plot(letters_run.history["epoch"], letters_run.history["train_acc"], label="train")
ax.set(title="letters, fine-tuned from the digits", xlabel="epoch", ylabel="accuracy")
ax.legend()
fig.savefig(f"{out}/letters.png")
print(f"figures in {out}/: curves.png, confusion.png, mistakes.png, letters.png")
if matplotlib.get_backend().lower() != "agg":
    plt.show()
