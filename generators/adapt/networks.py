"""Networks beside the protocol CNN: a domain classifier and the DSN encoders and decoder."""

from __future__ import annotations

import torch
from torch import nn

from generators.adapt.protocol import FEATURE_WIDTH


def domain_classifier(width: int = FEATURE_WIDTH) -> nn.Sequential:
    """Features -> one logit: source (1) or target (0)."""
    return nn.Sequential(nn.Linear(width, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 1))


def private_encoder(side: int, width: int) -> nn.Sequential:
    """A small domain-private encoder; its code is linear (no ReLU) so it can be orthogonal."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * (side // 4) ** 2, width),
    )


class SharedDecoder(nn.Module):
    """(shared code, private code) -> an image in 0..1 of the input's size."""

    def __init__(self, side: int, shared_width: int, private_width: int) -> None:
        super().__init__()
        self.quarter = side // 4
        self.project = nn.Sequential(nn.Linear(shared_width + private_width, 32 * self.quarter ** 2), nn.ReLU())
        self.upsample = nn.Sequential(
            nn.Upsample(scale_factor=2), nn.Conv2d(32, 16, 3, padding=1), nn.ReLU(),
            nn.Upsample(scale_factor=2), nn.Conv2d(16, 1, 3, padding=1), nn.Sigmoid(),
        )

    def forward(self, shared: torch.Tensor, private: torch.Tensor) -> torch.Tensor:
        hidden = self.project(torch.cat([shared, private], 1))
        return self.upsample(hidden.view(-1, 32, self.quarter, self.quarter))
