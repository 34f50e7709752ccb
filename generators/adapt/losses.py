"""The pieces adaptation methods share: gradient reversal, its ramp, and alignment losses."""

from __future__ import annotations

import math

import torch
from torch import nn


class _GradientReversal(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: float) -> torch.Tensor:  # noqa: ANN001
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # noqa: ANN001
        return -ctx.scale * grad, None


def reverse_gradient(x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """Identity forward; multiplies the gradient by ``-scale`` backward (Ganin & Lempitsky)."""
    return _GradientReversal.apply(x, scale)


class GradientReversal(nn.Module):
    """:func:`reverse_gradient` as a layer whose ``scale`` the training loop ramps."""

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return reverse_gradient(x, self.scale)


def dann_ramp(progress: float) -> float:
    """The usual DANN weight schedule 2 / (1 + exp(-10 p)) - 1, from 0 at p=0 towards 1."""
    return 2.0 / (1.0 + math.exp(-10.0 * progress)) - 1.0


def difference_loss(shared: torch.Tensor, private: torch.Tensor) -> torch.Tensor:
    """DSN's soft orthogonality ||S^T P||_F^2 (Bousmalis et al. 2016), over batch size squared
    so the weight does not depend on the batch: 0 exactly when every shared feature (a column
    over the batch) is orthogonal to every private one."""
    correlation = shared.T @ private / len(shared)
    return (correlation ** 2).sum()


def coral_loss(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Deep CORAL: squared Frobenius distance of the feature covariances over 4 d^2."""
    width = source.shape[1]

    def covariance(features: torch.Tensor) -> torch.Tensor:
        centred = features - features.mean(0, keepdim=True)
        return centred.T @ centred / (len(features) - 1)

    return ((covariance(source) - covariance(target)) ** 2).sum() / (4 * width * width)


def entropy(logits: torch.Tensor) -> torch.Tensor:
    """Mean prediction entropy (nats) of a batch of logits."""
    log_p = logits.log_softmax(1)
    return -(log_p.exp() * log_p).sum(1).mean()


def align_distribution(probabilities: torch.Tensor, running_mean: torch.Tensor,
                       prior: torch.Tensor | None = None) -> torch.Tensor:
    """ReMixMatch's distribution alignment: scale each row of class probabilities by
    prior / running mean of the model's predictions, then renormalize. It keeps a teacher that
    over-predicts some classes on the target from turning that bias into pseudo-labels; the
    prior defaults to uniform (the real digits are balanced)."""
    if prior is None:
        prior = torch.full_like(running_mean, 1.0 / len(running_mean))
    scaled = probabilities * (prior / running_mean.clamp(min=1e-6))
    return scaled / scaled.sum(1, keepdim=True)
