"""The syn-to-real protocol: the fixed split of the real digits, the network, the scoring.

The real scikit-learn digits are split once, by ``SPLIT_SEED``, into a dev half and a test half.
Adaptation methods see the dev half only as unlabelled images (the pool); the test half is
scored once, after training, by :meth:`TargetProtocol.evaluate`. Every index the protocol hands
out is recorded, so a test can assert that no method touched the test half.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn

SPLIT_SEED = 20240  # fixes the dev/test halves of the real digits for good
DIGITS_VALUE_MAX = 16.0  # load_digits pixel range is 0..16
CLASSES = 10


def dev_test_split(count: int) -> tuple[np.ndarray, np.ndarray]:
    """The sorted dev and test indices of ``count`` real records (the same halves everywhere)."""
    order = np.random.default_rng(SPLIT_SEED).permutation(count)
    return np.sort(order[: count // 2]), np.sort(order[count // 2 :])


def as_tensor(images: np.ndarray, value_max: float = DIGITS_VALUE_MAX) -> torch.Tensor:
    """N×H×W images (0..value_max) as an N×1×H×W float tensor in 0..1."""
    images = np.asarray(images)
    return torch.as_tensor(images / value_max, dtype=torch.float32).reshape(-1, 1, *images.shape[-2:])


def small_cnn(side: int = 8, classes: int = CLASSES) -> nn.Sequential:
    """The benchmark CNN: three 3×3 convolutions, two poolings, a 128-unit head.

    Its first 13 modules are the feature extractor (``features_of``); the last 2 the classifier.
    """
    if side % 4:
        raise ValueError(f"side: images must be a multiple of 4 pixels wide, got {side}")
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * (side // 4) ** 2, 128), nn.ReLU(),
        nn.Linear(128, classes),
    )


FEATURE_WIDTH = 128  # width of small_cnn's penultimate layer


def split_cnn(network: nn.Sequential) -> tuple[nn.Sequential, nn.Sequential]:
    """``small_cnn`` as (feature extractor ending in the 128-unit ReLU, linear classifier)."""
    return network[:-1], network[-1:]


def gap_closed(method: float, source_only: float, oracle: float) -> float | None:
    """Share of the source-only-to-oracle gap the method closes (None when there is no gap)."""
    gap = oracle - source_only
    return None if abs(gap) < 1e-12 else (method - source_only) / gap


def mean_std(values: list[float]) -> dict[str, float]:
    array = np.asarray(values, dtype=float)
    return {"mean": float(array.mean()), "std": float(array.std(ddof=1)) if len(array) > 1 else 0.0}


@dataclass
class TargetProtocol:
    """The real target: the unlabelled dev pool out, the labelled test half only to ``evaluate``.

    ``handed_out`` records, in order, each set of real indices given to anyone and why, so an
    audit can check that training never received a test index.
    """

    images: np.ndarray
    labels: np.ndarray
    dev: np.ndarray = field(init=False)
    test: np.ndarray = field(init=False)
    handed_out: list[tuple[str, np.ndarray]] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.dev, self.test = dev_test_split(len(self.labels))

    @classmethod
    def digits(cls) -> TargetProtocol:
        real = load_digits()
        return cls(real.images, real.target)

    def pool(self) -> np.ndarray:
        """The unlabelled adaptation pool (dev half images, no labels)."""
        self.handed_out.append(("pool", self.dev.copy()))
        return self.images[self.dev].copy()

    def dev_labelled(self) -> tuple[np.ndarray, np.ndarray]:
        """Dev images with their labels: only for the target-only oracle."""
        self.handed_out.append(("oracle", self.dev.copy()))
        return self.images[self.dev].copy(), self.labels[self.dev].copy()

    def evaluate(self, predict: Any) -> float:
        """Test-half accuracy of ``predict`` (images -> labels); called after training only."""
        self.handed_out.append(("evaluate", self.test.copy()))
        predicted = np.asarray(predict(self.images[self.test].copy()))
        return float((predicted == self.labels[self.test]).mean())

    def training_indices(self) -> set[int]:
        """Every real index handed out for training (pool or oracle), for audits."""
        return {int(i) for purpose, index in self.handed_out if purpose != "evaluate" for i in index}

    def description(self) -> dict[str, Any]:
        """What every result records about the protocol."""
        return {
            "target": "scikit-learn load_digits (1,797 real handwritten digits, 8x8, 0..16)",
            "split_seed": SPLIT_SEED,
            "dev_count": int(len(self.dev)),
            "test_count": int(len(self.test)),
            "dev_use": "unlabelled adaptation pool (labels only for the target-only oracle)",
            "test_use": "labelled; scored once after training; never trained or selected on",
        }
