"""The epsilon each DP synthesizer records, checked against a hand value, its closed form, or opacus."""

from __future__ import annotations

import math

import pytest

from generators.tabular import TVAE, GaussianCopula, MarginalSynthesizer, accounting
from tests.generators.tabular_support import METADATA, mixed_table

DELTA = 1e-5


def test_zcdp_to_epsilon_matches_a_hand_computed_value():
    # rho = 0.5, delta = 1e-5: 0.5 + 2 * sqrt(0.5 * ln(1e5)) = 0.5 + 2 * 2.399263 = 5.298526
    assert accounting.epsilon_from_rho(0.5, DELTA) == pytest.approx(5.298526, abs=1e-6)
    # and back: (sqrt(5.298526 + 11.512925) - sqrt(11.512925))^2 = 0.5
    assert accounting.rho_from_epsilon(5.298526, DELTA) == pytest.approx(0.5, abs=1e-6)
    # Gaussian mechanism, sensitivity 1, sigma 2: rho = 1/8; exponential mechanism eps0 = 1: rho = 1/8
    assert accounting.gaussian_sigma(1 / 8) == pytest.approx(2.0)
    assert accounting.exponential_epsilon(1 / 8) == pytest.approx(1.0)


def _rho_of(mechanisms: list[dict]) -> float:
    """The zCDP cost recomputed from each mechanism's recorded noise, independently of the accountant."""
    rho = 0.0
    for m in mechanisms:
        if m["mechanism"] == "gaussian":
            rho += m["count"] * m["sensitivity"] ** 2 / (2 * m["sigma"] ** 2)
        else:
            rho += m["count"] * m["epsilon0"] ** 2 / 8
    return rho


def test_the_dp_copula_spends_its_closed_form_epsilon():
    epsilon, share, clip = 2.0, 0.4, 1.5
    model = GaussianCopula(epsilon=epsilon, delta=DELTA, marginal_share=share, clip_norm=clip).fit(
        mixed_table(), METADATA)
    d = len(METADATA.columns)
    marginals, correlation = model.privacy_["mechanisms"]
    # Closed form: rho = (sqrt(eps + ln 1/delta) - sqrt(ln 1/delta))^2, split share : 1 - share;
    # d histograms of sensitivity 1, then the outer products of rows clipped to norm clip * sqrt(d).
    rho = (math.sqrt(epsilon + math.log(1 / DELTA)) - math.sqrt(math.log(1 / DELTA))) ** 2
    assert marginals["count"] == d and marginals["sigma"] == pytest.approx(1 / math.sqrt(2 * share * rho / d))
    assert correlation["sensitivity"] == pytest.approx(clip**2 * d)
    assert correlation["sigma"] == pytest.approx(clip**2 * d / math.sqrt(2 * (1 - share) * rho))
    spent = _rho_of(model.privacy_["mechanisms"])
    assert spent == pytest.approx(rho)
    assert model.privacy_["epsilon"] == pytest.approx(spent + 2 * math.sqrt(spent * math.log(1 / DELTA)))
    assert model.privacy_["epsilon"] == pytest.approx(epsilon)


@pytest.mark.parametrize("structure", ["star", "tree"])
def test_the_marginal_synthesizer_spends_exactly_its_budget(structure):
    model = MarginalSynthesizer(epsilon=1.5, delta=DELTA, structure=structure).fit(mixed_table(), METADATA)
    kinds = [m["mechanism"] for m in model.privacy_["mechanisms"]]
    assert kinds == (["gaussian", "exponential", "gaussian"] if structure == "tree" else ["gaussian", "gaussian"])
    spent = _rho_of(model.privacy_["mechanisms"])
    assert accounting.epsilon_from_rho(spent, DELTA) == pytest.approx(1.5)
    assert model.privacy_["epsilon"] == pytest.approx(1.5) and model.plan_["structure"] == structure
    # every feature is measured with the target: d - 1 marginals at the planned noise
    measured = model.privacy_["mechanisms"][-1]
    assert measured["count"] == len(METADATA.columns) - 1 and measured["sigma"] == model.plan_["noise_sigma"]


def test_dp_sgd_epsilon_is_opacus_accountants_for_the_same_noise_batch_and_steps():
    from opacus.accountants import PRVAccountant, RDPAccountant

    model = TVAE(epsilon=4.0, delta=DELTA, epochs=3, batch_size=40, hidden=16).fit(mixed_table(), METADATA)
    p = model.privacy_
    assert p["sample_rate"] == pytest.approx(40 / 200) and p["steps"] == 3 * 5
    history = [(p["noise_multiplier"], p["sample_rate"], p["steps"])]
    prv, rdp = PRVAccountant(), RDPAccountant()
    prv.history, rdp.history = list(history), list(history)
    assert p["epsilon"] == pytest.approx(prv.get_epsilon(DELTA), rel=1e-3)
    # RDP is a looser bound on the same mechanism; both sit at or under the target.
    assert p["epsilon"] <= rdp.get_epsilon(DELTA) <= 1.5 * p["epsilon"]
    assert p["epsilon"] <= 4.0 * 1.01
