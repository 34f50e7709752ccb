"""Syn-to-real: a small CNN trained only on rendered 8x8 digits, tested on real handwriting.

Beside it, the same CNN trained on the real scikit-learn digits (5-fold cross
validation) gives the ceiling. The real digits are split once, by a fixed seed
(``generators.adapt.protocol``, shared with ``benchmarks/adapt.py``), into a dev
half (used to tune the renderer's default randomization) and a test half (never
looked at while tuning). Simpler classifiers trained on the same
rendered data show the result is the data's, not the CNN's.

    python benchmarks/syn2real.py [--n 50000] [--seed 0] [--params params.json]

The last line printed is JSON with every figure.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC
from torch import nn

from generators.adapt.protocol import as_tensor, dev_test_split, small_cnn
from generators.render.digits import render

TRAIN_STEPS = 2500
BATCH = 128


def train_cnn(images: np.ndarray, labels: np.ndarray, seed: int, steps: int = TRAIN_STEPS) -> nn.Module:
    """The same recipe for every training set: a fixed number of Adam steps."""
    torch.manual_seed(seed)
    model = small_cnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=steps)
    x, y = as_tensor(images), torch.as_tensor(labels, dtype=torch.int64)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(steps):
        pick = torch.randint(0, len(x), (BATCH,), generator=generator)
        loss = nn.functional.cross_entropy(model(x[pick]), y[pick])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    return model.eval()


def accuracy(model: nn.Module, images: np.ndarray, labels: np.ndarray) -> float:
    with torch.no_grad():
        predicted = model(as_tensor(images)).argmax(1).numpy()
    return float((predicted == labels).mean())


def real_cross_validated(images: np.ndarray, labels: np.ndarray, seed: int) -> float:
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    correct = 0
    for train, test in folds.split(images, labels):
        model = train_cnn(images[train], labels[train], seed)
        correct += accuracy(model, images[test], labels[test]) * len(test)
    return correct / len(labels)


def other_classifiers(train_x: np.ndarray, train_y: np.ndarray, real_x: np.ndarray,
                      real_y: np.ndarray) -> dict[str, float]:
    """Accuracy on all real digits of simpler models fitted on (a part of) the rendered data."""
    flat, real_flat = train_x.reshape(len(train_x), -1) / 16, real_x.reshape(len(real_x), -1) / 16
    part = slice(0, 10_000)
    models = {
        "logistic_regression": LogisticRegression(max_iter=500),
        "svm_rbf": SVC(C=10, gamma="scale"),
        "knn_5": KNeighborsClassifier(5),
    }
    return {name: float(model.fit(flat[part], train_y[part]).score(real_flat, real_y))
            for name, model in models.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="rendered training digits")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--params", type=Path, help="JSON renderer parameters (default: the defaults)")
    parser.add_argument("--skip-real", action="store_true", help="skip the real-trained baseline")
    args = parser.parse_args()
    torch.set_num_threads(2)

    real = load_digits()
    real_x, real_y = real.images, real.target
    dev, test = dev_test_split(len(real_y))
    params: dict[str, Any] = json.loads(args.params.read_text()) if args.params else {}

    started = time.perf_counter()
    syn_x, syn_y = render({**params, "n": args.n, "seed": args.seed, "mode": "8x8"})
    model = train_cnn(syn_x, syn_y, args.seed)
    figures: dict[str, Any] = {
        "rendered_training_digits": args.n,
        "synthetic_trained": {
            "dev": accuracy(model, real_x[dev], real_y[dev]),
            "test": accuracy(model, real_x[test], real_y[test]),
            "all": accuracy(model, real_x, real_y),
        },
        "synthetic_seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(figures["synthetic_trained"]), flush=True)
    started = time.perf_counter()
    figures["other_classifiers_on_all_real"] = other_classifiers(syn_x, syn_y, real_x, real_y)
    figures["other_classifiers_seconds"] = round(time.perf_counter() - started, 1)
    if not args.skip_real:
        started = time.perf_counter()
        figures["real_trained_5fold"] = real_cross_validated(real_x, real_y, args.seed)
        figures["real_seconds"] = round(time.perf_counter() - started, 1)
        figures["ratio"] = figures["synthetic_trained"]["all"] / figures["real_trained_5fold"]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
