"""Meta-Sim's feature space: a conv net that learned, from the generator's own renders, what the
tuned attributes do to images.

Before tuning, the generator renders images from random points of the parameter box (every spread
at zero, so each image shows its configuration's centres exactly) and a small conv net learns to
tell, from one image, the centres of the configuration that made it and, where the generator
labels its images, the image's class. No real image and no real label trains it; it is then fixed
for the whole run. Distances between its features follow the attributes the tuner moves and the
shapes that make a class, so an MMD in its space falls as the rendered attributes approach the
real ones. An untrained random conv net (the first feature space tried) matches low-level image
statistics instead: on the real digits its MMD led the tuner to digits turned by 130 degrees.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from generators.feedback.measures import render_arrays
from generators.feedback.space import ParameterSpace

TARGET_ROLES = ("centre", "mean", "value")  # what one image shows of its configuration (spreads at 0)
PER_CONFIGURATION = 64  # images rendered per random configuration
EPOCHS = 10
BATCH = 128
REGRESSION_WEIGHT = 10.0  # a unit-box squared error starts near 0.08 and a 10-class cross-entropy near 2.3


def _grey(images: np.ndarray, value_max: float) -> torch.Tensor:
    """N x H x W or N x C x H x W images as N x 1 x H x W floats in about 0..1."""
    x = torch.as_tensor(np.asarray(images, dtype=np.float32) / value_max)
    return (x.mean(dim=1) if x.ndim == 4 else x)[:, None]


class RenderedFeatures:
    """The feature net of ``space``'s generator, trained on ``images`` rendered from random points
    of the box (at least 8 configurations); ``classes``: how many labels its images may carry."""

    def __init__(self, space: ParameterSpace, value_max: float, *, images: int = 20_000, classes: int = 10,
                 seed: int = 0, progress: Callable[[str], None] = lambda message: None) -> None:
        self.value_max, self.seed = value_max, seed
        rng = np.random.default_rng([seed, 7])
        roles = [coordinate.role for coordinate in space.coordinates]
        targets = [i for i, role in enumerate(roles) if role in TARGET_ROLES]
        spreads = [i for i, role in enumerate(roles) if role in ("spread", "std")]
        configurations = max(8, images // PER_CONFIGURATION)
        progress(f"rendering {configurations * PER_CONFIGURATION} images for its feature net")
        x, y, t = [], [], []
        for _ in range(configurations):
            unit = rng.uniform(0.0, 1.0, space.dimension)
            unit[spreads] = 0.0
            rendered, labels = render_arrays(space.spec, space.params(unit, n=PER_CONFIGURATION,
                                                                      seed=int(rng.integers(2**31))))
            x.append(rendered)
            y.append(labels)
            t.append(np.repeat(unit[targets][None], len(rendered), axis=0))
        inputs = _grey(np.concatenate(x), value_max)
        centres = torch.as_tensor(np.concatenate(t), dtype=torch.float32)
        labels = torch.as_tensor(np.concatenate(y), dtype=torch.int64) if all(v is not None for v in y) else None
        if not targets and labels is None:
            raise ValueError("meta-sim's feature net needs a numeric attribute to tune or labelled images: "
                             "only choice weights of an unlabelled generator leave it nothing to learn")

        torch.manual_seed(seed)
        self.net = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
        )
        regress = nn.Linear(256, len(targets)) if targets else None  # choice weights only: no centre to tell
        classify = nn.Linear(256, classes) if labels is not None else None
        heads = [head for head in (regress, classify) if head is not None]
        optimizer = torch.optim.Adam([p for module in (self.net, *heads) for p in module.parameters()], lr=2e-3)
        generator = torch.Generator().manual_seed(seed)
        self.steps = min(2000, math.ceil(EPOCHS * len(inputs) / BATCH))
        self.net.train()
        for step in range(self.steps):
            if step % 200 == 0:
                progress(f"training its feature net, step {step} of {self.steps}")
            pick = torch.randint(0, len(inputs), (BATCH,), generator=generator)
            hidden = self.net(inputs[pick])
            terms = {}
            if regress is not None:
                terms["centres_mse"] = nn.functional.mse_loss(regress(hidden), centres[pick])
            if classify is not None and labels is not None:
                terms["class_cross_entropy"] = nn.functional.cross_entropy(classify(hidden), labels[pick])
            loss = REGRESSION_WEIGHT * terms.get("centres_mse", 0.0) + terms.get("class_cross_entropy", 0.0)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        self.net.eval()
        self.losses = {name: round(float(term.detach()), 5) for name, term in terms.items()}
        self.rendered = len(inputs)
        self.configurations = configurations
        self.targets = [space.coordinates[i].name for i in targets]
        weights = b"".join(p.detach().numpy().tobytes() for p in self.net.parameters())
        self.digest = hashlib.sha256(weights).hexdigest()

    def __call__(self, images: np.ndarray, value_max: float | None = None) -> np.ndarray:
        with torch.no_grad():
            return self.net(_grey(images, value_max or self.value_max)).numpy().astype(np.float64)

    def describe(self) -> dict[str, Any]:
        return {"network": "3 conv 3x3 layers (32, 64, 64 maps, ReLU), 2x2 max pool after the second, "
                           "adaptive average pool to 2x2: 256 features",
                "trained_on": f"{self.rendered} images rendered from {self.configurations} random points of "
                              "the box (spreads at 0); no real image or label",
                "targets": self.targets, "class_head": "class_cross_entropy" in self.losses,
                "steps": self.steps, "final_losses": self.losses, "seed": self.seed,
                "weights_sha256": self.digest}
