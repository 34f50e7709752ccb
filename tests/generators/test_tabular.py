"""The tabular synthesizers' API: schema checks, seeds, the schema in samples, save and load."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from generators.tabular import TVAE, Column, GaussianCopula, MarginalSynthesizer, Metadata, load
from generators.tabular.binning import Bins
from tests.generators.tabular_support import METADATA, mixed_table

FAST = {"epochs": 2, "hidden": 16}


def _make(cls, epsilon=None, random_state=0):
    extra = FAST if cls is TVAE else {}
    return cls(epsilon=epsilon, random_state=random_state, **extra)


CASES = [(cls, eps) for cls in (GaussianCopula, MarginalSynthesizer, TVAE) for eps in (None, 3.0)]
IDS = [f"{cls.__name__}-{'dp' if eps else 'nondp'}" for cls, eps in CASES]


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return mixed_table()


@pytest.fixture(scope="module")
def fitted(table):
    """One fit per case, shared by the tests that only read it (DP-SGD fits take seconds)."""
    cache = {}

    def get(cls, epsilon):
        if (cls, epsilon) not in cache:
            cache[cls, epsilon] = _make(cls, epsilon).fit(table, METADATA)
        return cache[cls, epsilon]

    return get


@pytest.mark.parametrize(("cls", "epsilon"), CASES, ids=IDS)
def test_fit_and_sample_are_reproducible_by_seed(table, fitted, cls, epsilon):
    a = fitted(cls, epsilon)
    b = _make(cls, epsilon).fit(table, METADATA)
    pd.testing.assert_frame_equal(a.sample(100, seed=5), b.sample(100, seed=5))
    assert not a.sample(100, seed=5).equals(a.sample(100, seed=6))
    if epsilon is None:
        return  # an exact fit may not draw at all (the marginal one counts and takes the best tree)
    other = _make(cls, epsilon, random_state=1).fit(table, METADATA)  # other noise
    assert not other.sample(100, seed=5).equals(a.sample(100, seed=5))


@pytest.mark.parametrize(("cls", "epsilon"), CASES, ids=IDS)
def test_samples_respect_the_schema(fitted, cls, epsilon):
    out = fitted(cls, epsilon).sample(500, seed=1)
    assert list(out.columns) == METADATA.names
    METADATA.validate(out)  # kinds, categories, no missing values
    assert out["size"].between(-5, 10).all() and out["size"].dtype == np.float64
    assert out["count"].dtype == np.int64 and out["count"].between(0, 9).all()
    assert out["when"].between(pd.Timestamp("2024-01-01"), pd.Timestamp("2025-01-01")).all()
    assert out["flag"].dtype == bool
    assert set(out["label"]) <= {"no", "yes"}


@pytest.mark.parametrize(("cls", "epsilon"), CASES, ids=IDS)
def test_save_and_load_give_identical_samples(fitted, cls, epsilon, tmp_path):
    model = fitted(cls, epsilon)
    model.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json", "model.safetensors"]
    doc = json.loads((tmp_path / "model.json").read_text())
    assert doc["params"] == model.get_params() and doc["provenance"]["random_state"] == 0
    assert doc["provenance"]["versions"]["torch"] and doc["provenance"]["versions"]["numpy"]
    assert (doc["privacy"] is None) == (epsilon is None)
    back = load(tmp_path)
    assert type(back) is cls and back.privacy_ == model.privacy_
    pd.testing.assert_frame_equal(back.sample(300, seed=9), model.sample(300, seed=9))


def test_init_only_stores_parameters_and_fit_returns_self(table):
    model = MarginalSynthesizer(epsilon=1.0, structure="tree")
    assert model.get_params()["structure"] == "tree" and not hasattr(model, "metadata_")
    assert model.fit(table, METADATA) is model and model.metadata_ == METADATA
    with pytest.raises(RuntimeError, match="not fitted"):
        GaussianCopula().sample(5)


def test_metadata_round_trips_through_a_dict():
    assert Metadata.from_dict(json.loads(json.dumps(METADATA.to_dict()))) == METADATA


@pytest.mark.parametrize(("change", "column"), [
    (lambda t: t.drop(columns="size"), "size"),
    (lambda t: t.assign(extra=1), "extra"),
    (lambda t: t.assign(colour=t["colour"].replace("red", "crimson")), "colour"),
    (lambda t: t.assign(size=t["size"].astype(str)), "size"),
    (lambda t: t.assign(flag=t["flag"].astype(int)), "flag"),
    (lambda t: t.assign(when=t["when"].astype(str)), "when"),
    (lambda t: t.assign(size=t["size"].where(t.index > 3)), "size"),
    (lambda t: t.assign(size=t["size"].where(t.index > 3, np.inf)), "size"),
])
def test_a_table_that_breaks_the_schema_is_refused_naming_the_column(table, change, column):
    with pytest.raises(ValueError, match=f"'{column}'"):
        MarginalSynthesizer(epsilon=1.0).fit(change(table), METADATA)


@pytest.mark.parametrize(("entry", "column", "message"), [
    ({"name": "a", "kind": "numeric"}, "a", "bounds"),
    ({"name": "b", "kind": "numeric", "lower": 3, "upper": 1}, "b", "lower < upper"),
    ({"name": "c", "kind": "text"}, "c", "kind"),
    ({"name": "d", "kind": "categorical"}, "d", "categories"),
    ({"name": "e", "kind": "categorical", "categories": ["x", "x"]}, "e", "repeat"),
    ({"name": "f", "kind": "numeric", "lower": 0, "upper": 1, "scale": 2}, "f", "unknown field"),
])
def test_bad_metadata_is_a_value_error_naming_the_column(entry, column, message):
    with pytest.raises(ValueError, match=f"'{column}'.*{message}"):
        Metadata.from_dict({"columns": [entry]})


def test_the_target_must_be_a_declared_discrete_column():
    with pytest.raises(ValueError, match="'y'"):
        Metadata((Column("x", "numeric", 0, 1),), target="y")
    with pytest.raises(ValueError, match="'x'"):
        Metadata((Column("x", "numeric", 0, 1),), target="x")


def test_the_error_names_the_column_but_never_a_value(table):
    bad = table.assign(colour=table["colour"].replace("red", "secret-value"))
    with pytest.raises(ValueError) as info:
        GaussianCopula().fit(bad, METADATA)
    assert "secret-value" not in str(info.value)


def test_bins_come_from_the_metadata_alone():
    bins = Bins(METADATA, fine_bins=30)
    np.testing.assert_array_equal(bins.edges[0], np.linspace(-5, 10, 31))
    np.testing.assert_array_equal(bins.edges[1], np.arange(-0.5, 9.6, 1.0))  # one per whole number
    assert bins.sizes[2:4] == [4, 2]  # every declared category has a bin, seen or not


@pytest.mark.parametrize("cls", [GaussianCopula, MarginalSynthesizer, TVAE])
def test_a_dp_fit_never_reads_min_max_quantiles_or_categories_off_the_data(table, cls, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a DP fit read a statistic of the data outside its budget")

    for owner, name in [(pd.Series, "min"), (pd.Series, "max"), (pd.Series, "quantile"), (pd.Series, "unique"),
                        (pd.Series, "nunique"), (pd.DataFrame, "min"), (pd.DataFrame, "max"),
                        (np, "min"), (np, "max"), (np, "amin"), (np, "amax"), (np, "quantile"),
                        (np, "percentile"), (np, "unique")]:
        monkeypatch.setattr(owner, name, refuse)
    model = _make(cls, 3.0).fit(table, METADATA)
    monkeypatch.undo()
    out = model.sample(2000, seed=0)
    # Samples spread over the public range, not the data's: values beyond the data's own extremes.
    assert out["size"].min() < table["size"].min() or out["size"].max() > table["size"].max()


def test_values_outside_the_public_bounds_are_clipped_to_them(table):
    wild = table.assign(size=table["size"] * 100)
    out = MarginalSynthesizer(epsilon=3.0).fit(wild, METADATA).sample(300, seed=0)
    assert out["size"].between(-5, 10).all()


def test_infer_reads_a_schema_off_a_table(table):
    inferred = Metadata.infer(table, target="label")
    assert [c.kind for c in inferred.columns] == ["numeric", "categorical", "categorical", "boolean",
                                                  "datetime", "categorical"]
    assert inferred["size"].bounds() == (table["size"].min(), table["size"].max())
    inferred.validate(table)
