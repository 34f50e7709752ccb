"""Mixed-type tables as float matrices, with one documented distance.

Every column is fitted on the real table given to ``TableEncoder.fit``:

* numeric: ``(x - min) / (max - min)`` of the real column, so a difference
  across the whole real range counts 1 (``clip=True`` also clips to that
  range, so no column counts more than 1, however far off a value is).
  Missing values take the real median, and a 0/1 "missing" indicator column
  is added when the real column has any.
* categorical (object, string, category, bool dtypes): one-hot over the real
  categories and those of ``categories_from`` (e.g. the holdout and the
  synthetic table), plus one "other" slot for categories in none of them
  (and a "missing" slot when the real column has missing values). A value
  seen nowhere at fitting time lands in "other", so two such values look
  equal: the privacy distance therefore fits every table's categories.

``scheme="euclidean"`` weights one-hot columns by 1/sqrt(2), so two different
categories are at squared distance 1 — the same as numeric values a full range
apart; the distance between rows is the Euclidean norm of the encoded
difference. ``scheme="gower"`` weights one-hot columns by 1/2, so the L1 norm
of the encoded difference divided by the number of columns is Gower's distance
(numeric |a-b|/range, categorical 0/1, averaged).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

ONE_HOT_WEIGHT = {"euclidean": 1 / np.sqrt(2), "gower": 0.5}


def is_categorical(series: pd.Series) -> bool:
    """Whether a column is treated as categorical (anything not numeric)."""
    return not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


@dataclass
class TableEncoder:
    """Fitted column transforms; see the module docstring for the distance they define."""

    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    low: dict[str, float] = field(default_factory=dict)
    span: dict[str, float] = field(default_factory=dict)
    fill: dict[str, float] = field(default_factory=dict)
    missing_flag: dict[str, bool] = field(default_factory=dict)
    categories: dict[str, list] = field(default_factory=dict)
    clip: bool = False

    @classmethod
    def fit(
        cls, real: pd.DataFrame, columns: list[str] | None = None, *,
        categories_from: tuple[pd.DataFrame, ...] = (), clip: bool = False,
    ) -> TableEncoder:
        enc = cls(clip=clip)
        for col in columns if columns is not None else list(real.columns):
            s = real[col]
            if is_categorical(s):
                enc.categorical.append(col)
                values = pd.concat([s, *(frame[col] for frame in categories_from)], ignore_index=True)
                enc.categories[col] = [c for c in pd.unique(values.astype(object)) if not pd.isna(c)]
                enc.missing_flag[col] = bool(s.isna().any())
                continue
            values = s.to_numpy(np.float64, na_value=np.nan)
            finite = values[~np.isnan(values)]
            low, high = (finite.min(), finite.max()) if len(finite) else (0.0, 1.0)
            enc.numeric.append(col)
            enc.low[col] = float(low)
            enc.span[col] = float(high - low) or 1.0
            enc.fill[col] = float(np.median(finite)) if len(finite) else 0.0
            enc.missing_flag[col] = bool(np.isnan(values).any())
        return enc

    def feature_groups(self) -> dict[str, list[int]]:
        """Encoded feature positions of each original column, in ``transform``'s order."""
        groups: dict[str, list[int]] = {}
        pos = 0
        for col in self.numeric:
            width = 1 + self.missing_flag[col]
            groups[col] = list(range(pos, pos + width))
            pos += width
        for col in self.categorical:
            width = len(self.categories[col]) + 1 + self.missing_flag[col]
            groups[col] = list(range(pos, pos + width))
            pos += width
        return groups

    def transform(self, frame: pd.DataFrame, scheme: str = "euclidean") -> np.ndarray:
        weight = ONE_HOT_WEIGHT[scheme]
        parts = []
        for col in self.numeric:
            values = frame[col].to_numpy(np.float64, na_value=np.nan)
            missing = np.isnan(values)
            scaled = (np.where(missing, self.fill[col], values) - self.low[col]) / self.span[col]
            parts.append((np.clip(scaled, 0.0, 1.0) if self.clip else scaled)[:, None])
            if self.missing_flag[col]:
                parts.append(missing.astype(np.float64)[:, None])
        for col in self.categorical:
            cats = self.categories[col]
            codes = pd.Categorical(frame[col].astype(object), categories=cats).codes
            # Slots: the known categories, then "other" (seen nowhere at fitting time), then missing.
            codes = np.where(codes < 0, len(cats), codes)
            if self.missing_flag[col]:
                codes = np.where(frame[col].isna().to_numpy(), len(cats) + 1, codes)
            one_hot = np.zeros((len(frame), len(cats) + 1 + self.missing_flag[col]))
            one_hot[np.arange(len(frame)), codes] = weight
            parts.append(one_hot)
        if not parts:
            return np.zeros((len(frame), 0))
        return np.hstack(parts)
