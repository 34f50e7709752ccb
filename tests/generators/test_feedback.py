"""The feedback library: the policy stays in bounds, its gradient and MMD agree with closed forms,
distribution matching recovers known parameters, tuning reads the dev half only and resumes exactly."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

from generators.adapt.protocol import TargetProtocol
from generators.feedback import (
    Budget,
    GaussianPolicy,
    NaturalEvolution,
    ParameterSpace,
    RealData,
    median_bandwidth,
    mmd2,
    rank_utilities,
    score_gradient,
    tune,
)
from generators.feedback.recovery import recover_hidden
from generators.params import ParameterError, distributions
from generators.render.digits.renderer import DIGITS_SPEC

TINY = Budget(iterations=2, pairs=1, images=200, steps=20)


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def real_dev():
    protocol = TargetProtocol.digits()
    images, labels = protocol.dev_labelled()
    return protocol, RealData(images[:300], labels[:300])


def within_bounds(params: dict) -> bool:
    for item in DIGITS_SPEC.tunable(params):
        for parameter in item.parameters:
            if not parameter.minimum <= parameter.value <= parameter.maximum:
                return False
    return True


def test_the_policy_never_samples_outside_the_schemas_bounds():
    space = ParameterSpace(DIGITS_SPEC)
    rng = np.random.default_rng(0)
    for mean in (np.zeros(space.dimension), np.ones(space.dimension), rng.random(space.dimension)):
        policy = GaussianPolicy(mean, sigma=2.0)  # wide: most raw draws fall outside the box
        policy.ascend(rng.normal(0, 5, space.dimension))  # a wild step is clipped too
        assert ((policy.mean >= 0) & (policy.mean <= 1)).all()
        eps, units = policy.sample(rng, 20)
        assert (np.abs(eps) > 1).any() and ((units >= 0) & (units <= 1)).all()
        for unit in units:
            params = space.params(unit)
            assert within_bounds(params)
            found = distributions(DIGITS_SPEC.schema, params)
            assert all(found[a].low <= found[a].high for a in ("slant", "rotation", "width"))


def test_unit_coordinates_round_trip_and_the_generic_start_is_the_midpoint():
    space = ParameterSpace(DIGITS_SPEC)
    unit = np.random.default_rng(1).uniform(0.05, 0.95, space.dimension)
    np.testing.assert_allclose(space.unit_of(space.params(unit)), unit, atol=1e-9)
    slant = distributions(DIGITS_SPEC.schema, space.params(space.generic_start()))["slant"]
    assert (slant.low, slant.high) == (0.0, 0.0)  # bounds -1..1: the midpoint, no spread


def test_an_attribute_that_is_not_tunable_is_refused_by_name():
    with pytest.raises(ParameterError) as raised:
        ParameterSpace(DIGITS_SPEC, attributes=["slant", "mode"])
    assert raised.value.field == "attributes.1"


def test_the_score_function_gradient_matches_the_closed_form():
    # f(u) = -|u - t|^2 under u ~ N(mean, sigma^2 I): d/d mean E f = -2 (mean - t), exactly.
    target, mean, sigma = np.array([0.2, 0.7, 0.5]), np.array([0.5, 0.4, 0.45]), 0.05
    policy = GaussianPolicy(mean, sigma)
    eps, units = policy.sample(np.random.default_rng(3), 40_000)
    rewards = -((units - target) ** 2).sum(axis=1)
    np.testing.assert_allclose(score_gradient(eps, rewards, sigma), -2 * (mean - target), atol=0.01)


def test_rank_utilities_follow_the_papers_formula_and_sum_to_zero():
    # K = 4: raw max(0, log 3 - log k) for k = 1..4 is log 3, log 1.5, 0, 0.
    raw = np.array([math.log(3), math.log(1.5), 0.0, 0.0])
    by_rank = raw / raw.sum() - 0.25
    utilities = rank_utilities(np.array([0.1, 0.9, 0.5, -3.0]))
    np.testing.assert_allclose(utilities, by_rank[[2, 0, 1, 3]])
    assert utilities.sum() == pytest.approx(0.0, abs=1e-12)
    # Only the order counts: any increasing transform of the rewards gives the same utilities.
    np.testing.assert_allclose(rank_utilities(np.exp(np.array([0.1, 0.9, 0.5, -3.0]))), utilities)
    np.testing.assert_allclose(rank_utilities(np.array([1.0, 1.0])), [0.0, 0.0])  # ties share


def test_natural_evolution_finds_a_quadratics_optimum_and_narrows_its_spread():
    target = np.array([0.2, 0.7, 0.5, 0.9])
    policy, update = GaussianPolicy(np.full(4, 0.5), 0.1), NaturalEvolution(4)
    rng = np.random.default_rng(6)
    for _ in range(150):
        eps, units = policy.sample(rng, 5)
        update.step(policy, eps, -((units - target) ** 2).sum(axis=1))
    np.testing.assert_allclose(policy.mean, target, atol=0.02)
    assert (policy.sigma < 0.03).all()


def test_mmd_is_zero_against_itself_and_agrees_with_a_closed_form():
    x = np.random.default_rng(4).normal(size=(7, 3))
    assert mmd2(x, x, (1.0,)) == pytest.approx(0.0, abs=1e-12)
    # One point each, at distance 1: k = 1, 1 and exp(-1 / (2 h^2)).
    h = 0.8
    assert mmd2(np.zeros((1, 1)), np.ones((1, 1)), (h,)) == pytest.approx(2 - 2 * math.exp(-1 / (2 * h * h)))
    # A direct double loop on small sets, two bandwidths.
    y = np.random.default_rng(5).normal(size=(5, 3)) + 0.5

    def k(a, b):
        return sum(math.exp(-float(((a - b) ** 2).sum()) / (2 * w * w)) for w in (0.5, 2.0))

    direct = (sum(k(a, b) for a in x for b in x) / 49 + sum(k(a, b) for a in y for b in y) / 25
              - 2 * sum(k(a, b) for a in x for b in y) / 35)
    assert mmd2(x, y, (0.5, 2.0)) == pytest.approx(direct, rel=1e-9)
    pairs = np.array([[0.0], [3.0], [4.0]])  # distances 3, 4, 1: the median is 3
    assert median_bandwidth(pairs) == pytest.approx(3.0)


def test_distribution_matching_recovers_parameters_rendered_from_hidden_ones():
    # "Real" digits rendered with slant centred at 0.6 (unit 0.8); matching starts at slant 0 (unit 0.5).
    hidden, start = np.array([0.8, 0.2]), np.array([0.5, 0.0])
    row = recover_hidden(DIGITS_SPEC, ["slant"], hidden, start, real_n=400,
                         budget=Budget(iterations=10, pairs=2, images=300, sigma=0.08))
    assert row["distance_start"] == pytest.approx(0.3)
    assert abs(row["tuned"][0] - hidden[0]) < 0.1  # the centre: within 0.1 of the box (0.2 in slant units)
    assert row["mmd_tuned"] < row["mmd_start"] / 2


def test_tuning_reads_the_dev_half_only():
    protocol = TargetProtocol.digits()
    images, labels = protocol.dev_labelled()
    tune("learning-to-simulate", ParameterSpace(DIGITS_SPEC, attributes=["slant"]),
         RealData(images, labels), budget=Budget(iterations=1, pairs=1, images=100, steps=5))
    assert protocol.training_indices() == {int(i) for i in protocol.dev}
    assert not protocol.training_indices() & {int(i) for i in protocol.test}
    assert all(purpose != "evaluate" for purpose, _ in protocol.handed_out)


@pytest.mark.parametrize("tuner", ["learning-to-simulate", "meta-sim", "vadra"])
def test_a_resumed_tuner_ends_as_an_uninterrupted_one(real_dev, tuner):
    _, real = real_dev
    space = ParameterSpace(DIGITS_SPEC, attributes=["slant", "width", "allographs.7"])
    saved = []
    whole = tune(tuner, space, real, budget=TINY, seed=3,
                 checkpoint=lambda tensors, state: saved.append(({k: v.copy() for k, v in tensors.items()},
                                                                 copy.deepcopy(state))))
    assert [entry["iteration"] for entry in whole.history] == [0, 1, 2] and len(saved) == 3
    assert all(set(entry) >= {"parameters", "objective", "dev_accuracy"} for entry in whole.history)
    resumed = tune(tuner, space, real, budget=TINY, seed=3, resume=saved[1])
    assert resumed.unit == whole.unit
    assert [e["objective"] for e in resumed.history] == [e["objective"] for e in whole.history]


def test_meta_sim_tunes_without_labels_and_records_its_features(real_dev):
    _, real = real_dev
    space = ParameterSpace(DIGITS_SPEC, attributes=["slant"])
    messages = []
    result = tune("meta-sim", space, RealData(real.images, None), budget=TINY,
                  progress=lambda fraction, message: messages.append(message))
    assert any(message.startswith("meta-sim: training its feature net") for message in messages)
    features = result.details["features"]
    assert features["seed"] == 0 and "no real image or label" in features["trained_on"]
    assert features["targets"] == ["slant:centre"] and len(features["weights_sha256"]) == 64
    assert all(entry["dev_accuracy"] is None for entry in result.history)
    with pytest.raises(ValueError, match="labelled"):
        tune("learning-to-simulate", space, RealData(real.images, None), budget=TINY)


def test_meta_sim_on_choice_weights_alone_learns_from_the_labels_and_records_no_nan(real_dev):
    # No centre to regress: the feature net learns the classes only, and its record stays valid JSON.
    _, real = real_dev
    space = ParameterSpace(DIGITS_SPEC, attributes=["allographs.7"])
    result = tune("meta-sim", space, real, budget=TINY)
    features = result.details["features"]
    assert features["targets"] == [] and features["class_head"]
    assert list(features["final_losses"]) == ["class_cross_entropy"]
    assert all(math.isfinite(value) for value in features["final_losses"].values())
    assert all(math.isfinite(entry["objective"]) for entry in result.history)
