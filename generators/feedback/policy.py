"""The parameter policy: a Gaussian over the unit box of a :class:`~generators.feedback.space.ParameterSpace`.

Samples are ``mean + sigma * eps``, clipped onto the box before they are mapped to generator
parameters, so no sample leaves the schema's bounds. The tuners move the mean with the
score-function (REINFORCE) gradient of the expected reward, with the batch's mean reward as the
baseline; draws come in antithetic pairs (eps, -eps), which removes the estimator's odd-order noise.
Clipping is part of the reward (f(clip(z))), so the estimator stays unbiased at the box's faces.
"""

from __future__ import annotations

import numpy as np


def score_gradient(eps: np.ndarray, rewards: np.ndarray, sigma: float) -> np.ndarray:
    """REINFORCE estimate of d/d mean E[reward] for samples ``mean + sigma * eps`` (K x D) with
    ``rewards`` (K,), baseline = their mean: sum_k (r_k - b) eps_k / (sigma K).

    For a Gaussian the score of the mean is eps / sigma; subtracting a baseline leaves the
    expectation unchanged (the score has mean zero) and lowers the variance.
    """
    rewards = np.asarray(rewards, dtype=float)
    advantage = rewards - rewards.mean()
    return (advantage[:, None] * np.asarray(eps, dtype=float)).sum(axis=0) / (sigma * len(rewards))


class Adam:
    """Adam ascent on the policy mean, its step decaying as rate / sqrt(t) (early steps cross the box,
    late noisy gradients move the mean little); its moments are part of a checkpoint."""

    def __init__(self, dimension: int, rate: float, beta1: float = 0.9, beta2: float = 0.999) -> None:
        self.rate, self.beta1, self.beta2 = rate, beta1, beta2
        self.first = np.zeros(dimension)
        self.second = np.zeros(dimension)
        self.steps = 0

    def step(self, gradient: np.ndarray) -> np.ndarray:
        """The change to add to the parameters (ascent)."""
        self.steps += 1
        self.first = self.beta1 * self.first + (1 - self.beta1) * gradient
        self.second = self.beta2 * self.second + (1 - self.beta2) * gradient**2
        first = self.first / (1 - self.beta1**self.steps)
        second = self.second / (1 - self.beta2**self.steps)
        return self.rate / np.sqrt(self.steps) * first / (np.sqrt(second) + 1e-8)


class GaussianPolicy:
    """Mean in the unit box, a shared ``sigma``; ``sample`` returns (eps, points on the box)."""

    def __init__(self, mean: np.ndarray, sigma: float) -> None:
        self.mean = np.clip(np.asarray(mean, dtype=float), 0.0, 1.0)
        self.sigma = float(sigma)

    def sample(self, rng: np.random.Generator, pairs: int) -> tuple[np.ndarray, np.ndarray]:
        half = rng.standard_normal((pairs, len(self.mean)))
        eps = np.concatenate([half, -half])
        return eps, np.clip(self.mean + self.sigma * eps, 0.0, 1.0)

    def ascend(self, change: np.ndarray) -> None:
        self.mean = np.clip(self.mean + change, 0.0, 1.0)
