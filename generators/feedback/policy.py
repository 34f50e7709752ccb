"""The parameter policy: a Gaussian over the unit box of a :class:`~generators.feedback.space.ParameterSpace`.

Samples are ``mean + sigma * eps`` (one spread per coordinate), clipped onto the box before they
are mapped to generator parameters, so no sample leaves the schema's bounds. Draws come in
antithetic pairs (eps, -eps), which removes the estimator's odd-order noise. Clipping is part of
the reward (f(clip(z))), so the estimators stay unbiased at the box's faces.

The tuners move the policy by the separable natural evolution strategy (SNES; Schaul, Glasmachers
and Schmidhuber 2011, "High dimensions and heavy tails for natural evolution strategies"): the
score-function (REINFORCE) gradient of the expected reward, with ranks in place of raw rewards
(fitness shaping: utilities that sum to zero are the baseline) and preconditioned by the inverse
Fisher information (the natural gradient), for the mean and for each coordinate's log-spread.
Ranks make a step independent of the reward's scale and of outliers; the natural gradient makes
it a move of a fixed size in the policy's own units; the spreads shrink on the coordinates that
matter once their optimum is near, which quiets the random drift of the mean on the others.
"""

from __future__ import annotations

import numpy as np

SIGMA_RANGE = (1e-3, 0.5)  # spreads stay where the box is neither a point nor exceeded on both sides


def score_gradient(eps: np.ndarray, rewards: np.ndarray, sigma: float | np.ndarray) -> np.ndarray:
    """REINFORCE estimate of d/d mean E[reward] for samples ``mean + sigma * eps`` (K x D) with
    ``rewards`` (K,), baseline = their mean: sum_k (r_k - b) eps_k / (sigma K).

    For a Gaussian the score of the mean is eps / sigma; subtracting a baseline leaves the
    expectation unchanged (the score has mean zero) and lowers the variance.
    """
    rewards = np.asarray(rewards, dtype=float)
    advantage = rewards - rewards.mean()
    return (advantage[:, None] * np.asarray(eps, dtype=float)).sum(axis=0) / (np.asarray(sigma) * len(rewards))


def rank_utilities(rewards: np.ndarray) -> np.ndarray:
    """Fitness shaping: the k-th best of K rewards gets max(0, log(K/2 + 1) - log k), normalised to
    sum to one, minus 1/K (so they sum to zero). Ties share their ranks' mean utility."""
    rewards = np.asarray(rewards, dtype=float)
    count = len(rewards)
    raw = np.maximum(0.0, np.log(count / 2 + 1) - np.log(np.arange(1, count + 1)))
    by_rank = raw / raw.sum() - 1 / count
    order = np.argsort(-rewards, kind="stable")
    utilities = np.empty(count)
    utilities[order] = by_rank
    for value in np.unique(rewards):
        tied = rewards == value
        utilities[tied] = utilities[tied].mean()
    return utilities


class GaussianPolicy:
    """Mean in the unit box and a spread per coordinate; ``sample`` returns (eps, points on the box)."""

    def __init__(self, mean: np.ndarray, sigma: float | np.ndarray) -> None:
        self.mean = np.clip(np.asarray(mean, dtype=float), 0.0, 1.0)
        self.sigma = np.clip(np.broadcast_to(np.asarray(sigma, dtype=float), self.mean.shape).copy(), *SIGMA_RANGE)

    def sample(self, rng: np.random.Generator, pairs: int) -> tuple[np.ndarray, np.ndarray]:
        half = rng.standard_normal((pairs, len(self.mean)))
        eps = np.concatenate([half, -half])
        return eps, np.clip(self.mean + self.sigma * eps, 0.0, 1.0)

    def ascend(self, change: np.ndarray) -> None:
        self.mean = np.clip(self.mean + change, 0.0, 1.0)


class NaturalEvolution:
    """The SNES update of a :class:`GaussianPolicy` from its samples' ``eps`` and rewards (ascent).

    With utilities u_k: mean += rate * sigma * sum_k u_k eps_k, and
    sigma *= exp(spread_rate / 2 * sum_k u_k (eps_k^2 - 1)). The default rates are the paper's
    (1, and (3 + ln D) / (5 sqrt D)). The update holds no state beyond the policy itself."""

    def __init__(self, dimension: int, rate: float = 1.0, spread_rate: float | None = None) -> None:
        self.rate = rate
        self.spread_rate = (3 + np.log(dimension)) / (5 * np.sqrt(dimension)) if spread_rate is None else spread_rate

    def step(self, policy: GaussianPolicy, eps: np.ndarray, rewards: np.ndarray) -> None:
        utilities = rank_utilities(rewards)
        policy.ascend(self.rate * policy.sigma * (utilities @ eps))
        spread = np.exp(self.spread_rate / 2 * (utilities @ (eps**2 - 1)))
        policy.sigma = np.clip(policy.sigma * spread, *SIGMA_RANGE)
