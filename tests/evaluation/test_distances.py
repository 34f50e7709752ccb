"""Exact nearest neighbours and SDMetrics' DCR, against brute force and SDMetrics itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist
from sdmetrics.single_table.privacy.dcr_utils import calculate_dcr

from evaluation import distances
from evaluation.distances import knn, row_ids, sdmetrics_dcr


@pytest.mark.parametrize("dim", [3, 40])  # k-d tree path and blocked brute-force path
@pytest.mark.parametrize("metric", ["euclidean", "l1"])
def test_knn_matches_brute_force(dim, metric):
    rng = np.random.default_rng(0)
    query, reference = rng.normal(size=(300, dim)), rng.normal(size=(500, dim))
    full = cdist(query, reference, "euclidean" if metric == "euclidean" else "cityblock")
    dist, idx = knn(query, reference, k=3, metric=metric)
    np.testing.assert_allclose(dist, np.sort(full, axis=1)[:, :3], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(np.take_along_axis(full, idx, 1), dist, rtol=1e-9, atol=1e-9)


def _mixed(rng: np.random.Generator, n: int) -> pd.DataFrame:
    frame = pd.DataFrame({
        "x": rng.normal(size=n).round(1),
        "n": rng.integers(0, 5, n),
        "const": np.ones(n),
        "cat": rng.choice(["a", "b", "c"], n),
        "y": rng.uniform(0, 10, n),
    })
    frame.loc[rng.random(n) < 0.05, "x"] = np.nan
    frame.loc[rng.random(n) < 0.05, "cat"] = None
    return frame


@pytest.mark.parametrize("tree_max_dim", [24, 0])  # k-d tree search and blocked search
def test_sdmetrics_dcr_equals_sdmetrics_value_for_value(tree_max_dim, monkeypatch):
    monkeypatch.setattr(distances, "TREE_MAX_DIM", tree_max_dim)
    rng = np.random.default_rng(1)
    reference, data = _mixed(rng, 300), _mixed(rng, 200)
    data["y"] *= 1.5  # values beyond the reference range exercise the cap at 1
    data.loc[:10, "const"] = 2.0  # a zero-range column that differs
    metadata = {"columns": {c: {"sdtype": "categorical" if c == "cat" else "numerical"} for c in data}}
    expected = calculate_dcr(data, reference, metadata).to_numpy()
    ours = sdmetrics_dcr(data, reference, ["cat"], block_entries=5000)  # many blocks
    np.testing.assert_array_equal(ours, expected)


def test_sdmetrics_dcr_is_zero_for_rows_in_the_reference():
    rng = np.random.default_rng(2)
    reference = _mixed(rng, 100)
    assert np.all(sdmetrics_dcr(reference, reference, ["cat"]) == 0)


def test_row_ids_equal_exactly_for_equal_rows():
    frame = pd.DataFrame({"a": [1.0, 1.0, np.nan, np.nan, 1.0], "b": ["x", "x", "y", "y", "z"]})
    ids = row_ids(frame)
    assert ids[0] == ids[1] and ids[2] == ids[3]
    assert len({ids[0], ids[2], ids[4]}) == 3
