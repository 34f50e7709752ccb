"""Image-to-image networks for refiners: a residual refiner and a local patch discriminator."""

from __future__ import annotations

import torch
from torch import nn


class ResidualBlock(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(width, width, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.body(x))


class Refiner(nn.Module):
    """An image (N×1×H×W, 0..1) -> an image of the same shape: the input plus a learned residual,
    clipped to 0..1. ``noise_width`` > 0 adds a noise vector (PixelDA), broadcast as a plane."""

    def __init__(self, width: int = 32, blocks: int = 3, noise_width: int = 0) -> None:
        super().__init__()
        self.noise_width = noise_width
        self.noise = nn.Linear(noise_width, 1) if noise_width else None
        self.body = nn.Sequential(
            nn.Conv2d(2 if noise_width else 1, width, 3, padding=1), nn.ReLU(),
            *(ResidualBlock(width) for _ in range(blocks)),
            nn.Conv2d(width, 1, 3, padding=1),
        )

    def forward(self, images: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        inputs = images
        if self.noise is not None:
            if noise is None:
                raise ValueError("noise: this refiner is conditioned on a noise vector")
            plane = self.noise(noise).view(-1, 1, 1, 1).expand_as(images)
            inputs = torch.cat([images, plane], 1)
        return (images + self.body(inputs)).clamp(0, 1)


def patch_discriminator(width: int = 32) -> nn.Sequential:
    """Per-patch realism logits (N×1×H/2×W/2): each sees a local window, as in SimGAN."""
    return nn.Sequential(
        nn.Conv2d(1, width, 3, padding=1), nn.LeakyReLU(0.2),
        nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
        nn.Conv2d(2 * width, 1, 1),
    )
