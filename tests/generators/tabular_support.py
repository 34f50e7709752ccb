"""A small mixed-type table and its public schema for the tabular synthesizer tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from generators.tabular import Column, Metadata


def mixed_table(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    return pd.DataFrame({
        "size": rng.normal(2 + 2 * label, 1.0).clip(-4.9, 9.9),
        "count": rng.integers(0, 8, n) + label,
        "colour": rng.choice(["red", "green", "blue"], n),
        "flag": rng.random(n) < 0.3 + 0.4 * label,
        "when": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D"),
        "label": np.where(label == 1, "yes", "no"),
    })


METADATA = Metadata((
    Column("size", "numeric", -5.0, 10.0),
    Column("count", "numeric", 0, 9, integer=True),
    Column("colour", "categorical", categories=("red", "green", "blue", "violet")),
    Column("flag", "boolean"),
    Column("when", "datetime", "2024-01-01", "2025-01-01"),
    Column("label", "categorical", categories=("no", "yes")),
), target="label")
