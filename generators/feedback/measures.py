"""What the tuners measure: rendered arrays, a quick task model, and MMD."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from generators.spec import GeneratorSpec, no_progress


def render_arrays(spec: GeneratorSpec, params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray | None]:
    """(images, labels or None) of one run of ``spec``, read back from the files it writes (every
    ``*.npz`` under its folder, as the images/1 and scenes/1 formats lay them out): any image
    generator, through its declared contract."""
    with tempfile.TemporaryDirectory(prefix="tune-") as folder:
        spec.run(params, Path(folder), no_progress)
        images, labels = [], []
        for path in sorted(Path(folder).rglob("*.npz")):
            with np.load(path, allow_pickle=False) as npz:
                images.append(npz["images"])
                if "labels" in npz.files:
                    labels.append(npz["labels"])
    return np.concatenate(images), (np.concatenate(labels) if labels else None)


def flat(images: np.ndarray, value_max: float) -> torch.Tensor:
    """N x ... images as N x D floats in about 0..1."""
    return torch.as_tensor(np.asarray(images, dtype=np.float32).reshape(len(images), -1) / value_max)


def task_model(inputs: int, classes: int, seed: int) -> nn.Sequential:
    """The quick task model every reward trains: one 128-unit hidden layer."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(inputs, 128), nn.ReLU(), nn.Linear(128, classes))


def conv_task_model(side: int, classes: int, seed: int) -> nn.Sequential:
    """The quick task model for square one-channel images: one 3x3 convolution (32 maps), a 2x2 max
    pool and a linear head. Translation-equivariant like the CNN a tuned dataset finally trains, so
    its real dev accuracy ranks configurations more as that CNN's would than a flat-pixel model's."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(32 * (side // 2) ** 2, classes))


def train_steps(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, seed: int,
                batch: int = 64, rate: float = 3e-3) -> nn.Module:
    """``steps`` Adam steps on random batches (a fresh optimizer: its state is never carried over)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=rate)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(steps):
        pick = torch.randint(0, len(x), (batch,), generator=generator)
        loss = nn.functional.cross_entropy(model(x[pick]), y[pick])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def accuracy(model: nn.Module, x: torch.Tensor, y: np.ndarray) -> float:
    with torch.no_grad():
        return float((model(x).argmax(1).numpy() == np.asarray(y)).mean())


def median_bandwidth(features: np.ndarray) -> float:
    """The median pairwise distance of ``features`` (the usual kernel bandwidth), fixed once."""
    distances = np.sqrt(np.maximum(_squared_distances(features, features), 0.0))
    upper = distances[np.triu_indices(len(features), 1)]
    return float(np.median(upper)) if len(upper) else 1.0


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T


def mmd2(x: np.ndarray, y: np.ndarray, bandwidths: tuple[float, ...]) -> float:
    """Biased (V-statistic) squared MMD between samples ``x`` and ``y`` with a sum of Gaussian
    kernels exp(-|a - b|^2 / (2 h^2)), one per bandwidth h: mean k(x, x') + mean k(y, y') - 2 mean k(x, y).
    Zero for a set against itself; never negative."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def kernel(a: np.ndarray, b: np.ndarray) -> float:
        d2 = np.maximum(_squared_distances(a, b), 0.0)
        return float(sum(np.exp(-d2 / (2 * h * h)).mean() for h in bandwidths))

    return max(kernel(x, x) + kernel(y, y) - 2 * kernel(x, y), 0.0)
