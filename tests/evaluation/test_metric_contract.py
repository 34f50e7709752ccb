"""Every registered metric passes the contract checks of ``evaluation.checks``, and the checks can fail."""

from __future__ import annotations

import random

import pytest

from evaluation import checks, metrics
from evaluation.metrics import Metric

CASES = [(m, name, run) for m in metrics.all_metrics() for name, run in checks.metric_checks(m)]


@pytest.mark.parametrize(("metric", "check", "run"), CASES, ids=[f"{m.name}-{c}" for m, c, _ in CASES])
def test_registered_metric_meets_the_contract(metric, check, run):
    if isinstance(run, str):
        pytest.skip(f"{metric.name} declares it cannot meet {check}: {run}")
    run()


def _read(key: str):
    return lambda ctx: ctx.shared("privacy")[key]


def test_a_metric_that_rewards_copies_fails():
    # The exact-match rate declared as if higher were better: a copy (rate 1) would score best.
    backwards = Metric("backwards", "privacy", ("tabular",), "higher", _read("exact_match_rate"))
    with pytest.raises(AssertionError, match="would pass a leak"):
        checks.check_metric(backwards)


def test_a_fidelity_metric_that_prefers_independent_draws_fails():
    # The share of synthetic rows copied, as a "fidelity" score: a copy scores worst.
    novelty = Metric("novelty", "fidelity", ("tabular",), "lower", _read("exact_match_rate"))
    with pytest.raises(AssertionError, match="worse than an independent draw"):
        checks.check_metric(novelty)


def test_a_metric_that_ignores_its_seed_fails():
    noisy = Metric("noisy", "privacy", ("tabular",), "lower", lambda ctx: random.random(),
                   exempt={"copy_vs_independent": "random"})
    with pytest.raises(AssertionError, match="same inputs and random_state"):
        checks.check_metric(noisy)


def test_a_utility_metric_without_a_target_must_be_null():
    constant = Metric("constant", "utility", ("tabular",), "higher", lambda ctx: 1.0)
    with pytest.raises(AssertionError, match="without a target"):
        checks.check_metric(constant)


def test_a_metric_with_no_value_where_it_applies_fails():
    absent = Metric("absent", "fidelity", ("tabular", "image"), "higher", lambda ctx: None,
                    exempt={"copy_vs_independent": "none"})
    with pytest.raises(AssertionError, match="applies to tabular data but gives no value"):
        checks.check_metric(absent)


def test_every_exemption_says_why():
    for metric in metrics.all_metrics():
        assert all(isinstance(r, str) and len(r) > 20 for r in metric.exempt.values()), metric.name
