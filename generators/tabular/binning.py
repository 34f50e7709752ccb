"""Columns as bins on their public domain, and back.

Every column becomes a run of *fine* bins laid on its metadata alone: one per category or
boolean value; one per whole number for an integer column with a short range; otherwise
``fine_bins`` equal widths between the public bounds. Nothing about the bins is read from the
data, so a DP method may use them for free. The per-bin counts (``weights``) are then measured,
exactly or with Gaussian noise, and drive the sampling back: a value is drawn in its bin by
the bin's shape (uniform within a fine bin; by the fine weights within a merged, coarse bin).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from generators.tabular.metadata import Column, Metadata


def fine_edges(column: Column, fine_bins: int) -> np.ndarray:
    """Bin edges on the column's public domain (discrete columns: one unit-wide bin per level)."""
    if column.kind in ("categorical", "boolean"):
        return np.arange(len(column.levels()) + 1, dtype=np.float64)
    low, high = column.bounds()
    if column.integer and np.ceil(low) <= np.floor(high) and np.floor(high) - np.ceil(low) + 1 <= fine_bins:
        return np.arange(np.ceil(low) - 0.5, np.floor(high) + 1.0, 1.0)
    return np.linspace(low, high, fine_bins + 1)


class Bins:
    """The fine bins of every column of a schema, and the measured weight of each bin."""

    def __init__(self, metadata: Metadata, fine_bins: int, weights: list[np.ndarray] | None = None):
        self.metadata = metadata
        self.fine_bins = fine_bins
        self.edges = [fine_edges(c, fine_bins) for c in metadata.columns]
        self.weights = weights

    @property
    def sizes(self) -> list[int]:
        return [len(e) - 1 for e in self.edges]

    def locate(self, table: pd.DataFrame, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Each value's fine bin (int codes, rows x columns) and its position in 0..1 within the bin.

        Numbers are clipped to their public bounds; a discrete value's position is drawn uniformly.
        """
        n = len(table)
        codes = np.empty((n, len(self.edges)), dtype=np.int64)
        positions = np.empty((n, len(self.edges)))
        for j, (column, edges) in enumerate(zip(self.metadata.columns, self.edges, strict=True)):
            values = table[column.name]
            if column.kind in ("categorical", "boolean"):
                lookup = {level: i for i, level in enumerate(column.levels())}
                codes[:, j] = values.map(lookup).to_numpy(dtype=np.int64)
                positions[:, j] = rng.random(n)
                continue
            x = values.astype("int64").to_numpy() / 1e9 if column.kind == "datetime" else values.to_numpy(float)
            x = np.clip(x, edges[0], edges[-1])
            code = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
            codes[:, j] = code
            positions[:, j] = (x - edges[code]) / (edges[code + 1] - edges[code])
        return codes, positions

    def counts(self, codes: np.ndarray) -> list[np.ndarray]:
        return [np.bincount(codes[:, j], minlength=k).astype(np.float64) for j, k in enumerate(self.sizes)]

    def values(self, codes: np.ndarray, positions: np.ndarray) -> pd.DataFrame:
        """The table back from fine-bin codes and in-bin positions (inverse of ``locate``)."""
        out = {}
        for j, (column, edges) in enumerate(zip(self.metadata.columns, self.edges, strict=True)):
            code = codes[:, j]
            if column.kind in ("categorical", "boolean"):
                levels = np.empty(len(column.levels()), dtype=object)
                levels[:] = list(column.levels())
                out[column.name] = pd.Series(levels[code], dtype=bool if column.kind == "boolean" else None)
                continue
            x = edges[code] + positions[:, j] * (edges[code + 1] - edges[code])
            low, high = column.bounds()
            if column.integer:
                x = np.clip(np.round(x), np.ceil(low), np.floor(high))
            x = np.clip(x, low, high)
            if column.kind == "datetime":
                out[column.name] = pd.to_datetime(np.round(x * 1e9).astype("int64"))
            else:
                out[column.name] = x.astype(np.int64) if column.integer else x
        frame = pd.DataFrame(out)
        for column in self.metadata.columns:
            if column.kind == "categorical":
                frame[column.name] = frame[column.name].infer_objects()
        return frame


def merge_bins(weights: np.ndarray, groups: int) -> np.ndarray:
    """Group consecutive fine bins into at most ``groups`` coarse bins of about equal mass.

    Returns each fine bin's coarse code. Reads only (noisy) weights, so it is post-processing.
    """
    if groups >= len(weights):
        return np.arange(len(weights))
    mass = np.clip(weights, 0, None) + 1e-9
    cum = np.cumsum(mass) / mass.sum()
    # A fine bin joins the group its mass midpoint falls in; groups stay in order.
    codes = np.minimum((cum - mass / mass.sum() / 2) * groups, groups - 1).astype(np.int64)
    return np.concatenate([[0], np.cumsum(np.diff(codes) > 0)])  # renumbered without gaps


def within(weights: np.ndarray, coarse_of_fine: np.ndarray, coarse: np.ndarray,
           rng: np.random.Generator) -> np.ndarray:
    """For each coarse code, a fine bin inside it drawn by the fine bins' (clipped) weights."""
    w = np.clip(weights, 0, None) + 1e-6  # an empty coarse bin still spreads evenly
    n_coarse = coarse_of_fine.max() + 1
    fine = np.empty(len(coarse), dtype=np.int64)
    for g in range(n_coarse):
        rows = np.flatnonzero(coarse == g)
        if len(rows) == 0:
            continue
        members = np.flatnonzero(coarse_of_fine == g)
        p = w[members] / w[members].sum()
        fine[rows] = members[rng.choice(len(members), size=len(rows), p=p)]
    return fine
