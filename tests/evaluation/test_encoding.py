"""The documented mixed-type distance: Euclidean and Gower schemes against direct formulas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.distances import knn
from evaluation.encoding import TableEncoder


@pytest.fixture
def table():
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "x": rng.normal(size=60),
        "k": rng.integers(0, 10, 60),
        "c": rng.choice(["red", "green", "blue"], 60),
        "flag": rng.random(60) > 0.5,
    })


def gower(a: pd.Series, b: pd.Series, real: pd.DataFrame) -> float:
    terms = []
    for col in real.columns:
        if col in ("c", "flag"):
            terms.append(float(a[col] != b[col]))
        else:
            terms.append(abs(a[col] - b[col]) / (real[col].max() - real[col].min()))
    return float(np.mean(terms))


def test_gower_scheme_l1_over_columns_is_gower_distance(table):
    real, query = table.iloc[:40], table.iloc[40:]
    enc = TableEncoder.fit(real)
    dist, idx = knn(enc.transform(query, "gower"), enc.transform(real, "gower"), metric="l1")
    for row, (d, i) in enumerate(zip(dist[:, 0], idx[:, 0], strict=True)):
        expected = min(gower(query.iloc[row], real.iloc[j], real) for j in range(len(real)))
        assert d / len(real.columns) == pytest.approx(expected, abs=1e-12)
        assert gower(query.iloc[row], real.iloc[i], real) == pytest.approx(expected, abs=1e-12)


def test_euclidean_scheme_costs_one_per_category_mismatch(table):
    enc = TableEncoder.fit(table)
    a = table.iloc[[0]].assign(c="red", flag=True)
    b = a.assign(c="blue")
    unseen = a.assign(c="purple")
    ea, eb, eu = (enc.transform(t) for t in (a, b, unseen))
    assert ((ea - eb) ** 2).sum() == pytest.approx(1.0)
    assert ((ea - eu) ** 2).sum() == pytest.approx(1.0)  # unseen categories go to "other"
    full_range = table.assign(x=[table["x"].min()] * 60).iloc[[0]], table.assign(x=[table["x"].max()] * 60).iloc[[0]]
    lo, hi = (enc.transform(t) for t in full_range)
    assert ((lo - hi) ** 2).sum() == pytest.approx(1.0)


def test_missing_values_get_their_own_slot():
    real = pd.DataFrame({"x": [1.0, np.nan, 3.0], "c": ["a", None, "b"]})
    enc = TableEncoder.fit(real)
    encoded = enc.transform(real)
    assert not np.isnan(encoded).any()
    groups = enc.feature_groups()
    assert len(groups["x"]) == 2 and len(groups["c"]) == 4  # value + flag; a, b, other, missing
    assert encoded.shape[1] == 6


def test_categories_of_other_tables_get_their_own_slots():
    real = pd.DataFrame({"id": ["a", "b"]})
    holdout, synthetic = pd.DataFrame({"id": ["c", "d"]}), pd.DataFrame({"id": ["e", "c"]})
    plain = TableEncoder.fit(real)
    # Fitted on the real rows alone, every unseen id shares the "other" slot: they look equal.
    assert (plain.transform(holdout)[0] == plain.transform(synthetic)[0]).all()
    every = TableEncoder.fit(real, categories_from=(holdout, synthetic))
    h, s = every.transform(holdout), every.transform(synthetic)
    assert ((h[0] - s[0]) ** 2).sum() == pytest.approx(1.0)  # c vs e: different
    assert (h[0] == s[1]).all()  # c vs c: equal


def test_clip_caps_each_column_at_one_range():
    real = pd.DataFrame({"x": [0.0, 10.0], "y": [0.0, 1.0]})
    far = pd.DataFrame({"x": [1e9, -5.0], "y": [0.5, 0.5]})
    assert TableEncoder.fit(real, clip=True).transform(far)[:, 0].tolist() == [1.0, 0.0]
    assert TableEncoder.fit(real).transform(far)[0, 0] == pytest.approx(1e8)
