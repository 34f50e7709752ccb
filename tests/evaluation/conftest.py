"""Small tables from a known distribution, and reports built once per test session."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import evaluation


def population(n: int, seed: int) -> pd.DataFrame:
    """Draws from one fixed mixed-type distribution: correlated numerics, a category, a label."""
    rng = np.random.default_rng(seed)
    cov = [[1.0, 0.6, 0.2], [0.6, 1.0, 0.3], [0.2, 0.3, 1.0]]
    # Cholesky, not numpy's default SVD: an SVD's signs follow the CPU's LAPACK code path, so the
    # same seed drew other rows on other machines (and the golden reports moved with them).
    x = rng.multivariate_normal([0.0, 1.0, -1.0], cov, size=n, method="cholesky")
    group = np.where(x[:, 0] + rng.normal(0, 1, n) > 0, "north", "south")
    label = np.where(x[:, 1] - x[:, 2] + rng.normal(0, 0.5, n) > 2.0, "yes", "no")
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "count": rng.poisson(3, n),
                         "group": group, "label": label})


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def real():
    """Training and holdout sets of equal size, disjoint draws of the same distribution."""
    return population(700, seed=1), population(700, seed=2)


@pytest.fixture(scope="session")
def fast_options():
    return {"seeds": (0,), "n_attacks": 300, "fidelity_rows": 500}


@pytest.fixture(scope="session")
def copy_report(real, fast_options):
    train, holdout = real
    return evaluation.build_tabular_report(train, holdout, train.copy(), target="label", **fast_options)


@pytest.fixture(scope="session")
def independent_report(real, fast_options):
    train, holdout = real
    return evaluation.build_tabular_report(
        train, holdout, population(700, seed=3), target="label", **fast_options
    )
