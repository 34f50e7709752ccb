"""Identifier-like and free-text columns are found on real tables; real measurements are not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from sklearn import datasets

from evaluation.columns import screen_columns

from .conftest import population

WORDS = np.array([f"zq{i}x" for i in range(400)])


def sentences(rng: np.random.Generator, n: int) -> list[str]:
    return [" ".join(rng.choice(WORDS, rng.integers(4, 12))) for _ in range(n)]


def real_tables() -> dict[str, pd.DataFrame]:
    tables = {name: getattr(datasets, f"load_{name}")(as_frame=True).frame
              for name in ("iris", "wine", "breast_cancer", "diabetes")}
    return tables | {"fair": sm.datasets.fair.load_pandas().data, "population": population(1000, 0)}


def halves(frame: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    order = np.random.default_rng(seed).permutation(len(frame))
    half = len(frame) // 2
    return frame.iloc[order[:half]].reset_index(drop=True), frame.iloc[order[half:2 * half]].reset_index(drop=True)


@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer", "diabetes", "fair", "population"])
def test_real_measurements_and_categories_are_kept(name):
    train, holdout = halves(real_tables()[name])
    assert screen_columns(train, holdout) == []


def test_ids_free_text_and_numbered_rows_are_found_with_a_reason_and_no_value():
    rng = np.random.default_rng(0)
    base = population(400, 1)
    ids = np.array([f"ID-{i:06d}" for i in range(800)])
    # An id recorded twice per person: only half the rows are distinct, but holdout people are all new.
    visits = np.repeat(ids[:200], 2)
    frame = base.assign(
        record=ids[:400],
        visit=np.r_[visits[:200], visits[200:]],
        note=[s if rng.random() < 0.7 else "no comment" for s in sentences(rng, 400)],
        row_number=np.arange(400),
    )
    train, holdout = frame.iloc[:200], frame.iloc[200:]
    found = {e["column"]: e for e in screen_columns(train, holdout)}
    assert set(found) == {"record", "visit", "note", "row_number"}
    assert found["record"]["kind"] == "identifier" and "nearly unique" in found["record"]["reason"]
    assert found["visit"]["kind"] == "identifier" and "mostly unseen" in found["visit"]["reason"]
    assert found["note"]["kind"] == "free_text"
    assert "numbered rows" in found["row_number"]["reason"]
    reasons = " ".join(e["reason"] for e in found.values())
    assert "ID-" not in reasons and "zq" not in reasons and "no comment" not in reasons


def test_the_target_is_never_screened_out():
    frame = population(100, 2).assign(record=[f"r{i}" for i in range(100)])
    train, holdout = frame.iloc[:50], frame.iloc[50:]
    assert [e["column"] for e in screen_columns(train, holdout, keep=["record"])] == []


def test_a_numbered_column_needs_enough_rows_to_judge():
    small = pd.DataFrame({"n": np.arange(8), "x": np.linspace(0, 1, 8)})
    assert screen_columns(small.iloc[:4], small.iloc[4:]) == []
