"""Hand-written image augmentations on N×1×H×W batches in 0..1, all drawn from one generator.

``weak``: a shift of up to one pixel-ish. ``strong``: a random affine map (rotation, scale,
shear, shift), a smooth elastic field, through one bilinear ``grid_sample``, then pixel noise
and a random cut-out square: what FixMatch-style consistency needs, without torchvision.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional


def _affine(count: int, generator: torch.Generator, rotation_deg: float, scale: float,
            shear: float, shift: float, device: torch.device) -> torch.Tensor:
    """count random 2×3 affine matrices in grid_sample's normalised coordinates."""
    def uniform(spread: float) -> torch.Tensor:
        return (torch.rand(count, generator=generator) * 2 - 1).mul(spread).to(device)

    angle = uniform(rotation_deg * math.pi / 180)
    zoom = 1 + uniform(scale)
    skew = uniform(shear)
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack([
        torch.stack([cos, -sin + skew, uniform(shift)], 1),
        torch.stack([sin, cos, uniform(shift)], 1),
    ], 1)
    return theta


def _elastic(count: int, side: tuple[int, int], generator: torch.Generator, amplitude: float,
             device: torch.device) -> torch.Tensor:
    """A smooth random displacement field (N×H×W×2): coarse 3×3 noise upsampled bilinearly."""
    coarse = torch.randn(count, 2, 3, 3, generator=generator).to(device) * amplitude
    return functional.interpolate(coarse, size=side, mode="bilinear", align_corners=True).permute(0, 2, 3, 1)


def warp(images: torch.Tensor, generator: torch.Generator, *, rotation_deg: float, scale: float,
         shear: float, shift: float, elastic: float) -> torch.Tensor:
    count, _, height, width = images.shape
    theta = _affine(count, generator, rotation_deg, scale, shear, shift, images.device)
    grid = functional.affine_grid(theta, list(images.shape), align_corners=False)
    if elastic:
        grid = grid + _elastic(count, (height, width), generator, elastic, images.device)
    return functional.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def weak(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A small random shift and scale: the view pseudo-labels are taken from."""
    return warp(images, generator, rotation_deg=0, scale=0.05, shear=0, shift=0.15, elastic=0)


def strong(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Affine + elastic warp, Gaussian noise and a cut-out square: the view that must agree."""
    warped = warp(images, generator, rotation_deg=15, scale=0.15, shear=0.2, shift=0.2, elastic=0.08)
    noisy = warped + 0.08 * torch.randn(warped.shape, generator=generator).to(images.device)
    count, _, height, width = images.shape
    side = max(1, height // 4)
    top = torch.randint(0, height - side + 1, (count,), generator=generator).to(images.device)
    left = torch.randint(0, width - side + 1, (count,), generator=generator).to(images.device)
    rows = torch.arange(height, device=images.device).view(1, height, 1)
    cols = torch.arange(width, device=images.device).view(1, 1, width)
    hole = ((rows >= top.view(-1, 1, 1)) & (rows < (top + side).view(-1, 1, 1))
            & (cols >= left.view(-1, 1, 1)) & (cols < (left + side).view(-1, 1, 1)))
    return noisy.masked_fill(hole.unsqueeze(1), 0.0).clamp(0, 1)
