"""Exact nearest-neighbour distances, chunked so memory stays bounded.

Two families:

* ``knn`` — k nearest neighbours under Euclidean or L1 distance on already
  encoded float features (see ``evaluation.encoding``). Low-dimensional data
  goes through an exact k-d tree (far fewer distance evaluations than brute
  force; sliding-midpoint splits, which query several times faster than
  median splits on the clustered, lattice-like values of real tables); wide
  data is brute-forced in blocks with BLAS (Euclidean) or ``torch.cdist`` (L1).
* ``sdmetrics_dcr`` — SDMetrics' own distance to closest record, value for
  value: per column |a-b| over the reference range capped at 1 (categorical:
  0/1, NaN rules as SDMetrics), averaged over columns. Instead of evaluating it
  for every pair, a lower bound (L1 on range-scaled, range-clipped values) is
  computed for whole blocks with ``torch.cdist`` and the exact distance only for
  the pairs the bound cannot rule out, so the minimum is exact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from scipy.spatial import cKDTree

# Past this many encoded dimensions a k-d tree visits most leaves anyway.
TREE_MAX_DIM = 24
# Entries of one distance block (float64): 2**22 * 8 bytes = 32 MiB.
BLOCK_ENTRIES = 1 << 22


def _blocks(n: int, size: int):
    for start in range(0, n, size):
        yield start, min(start + size, n)


def knn(
    query: np.ndarray,
    reference: np.ndarray,
    k: int = 1,
    *,
    metric: str = "euclidean",
    workers: int = -1,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours of each query row in ``reference``.

    Returns ``(distances, indices)``, both of shape ``(len(query), k)``, sorted
    by distance. ``metric`` is ``"euclidean"`` or ``"l1"``.
    """
    if metric not in ("euclidean", "l1"):
        raise ValueError(f"unknown metric {metric!r}; use 'euclidean' or 'l1'")
    query = np.ascontiguousarray(query, dtype=np.float64)
    reference = np.ascontiguousarray(reference, dtype=np.float64)
    if len(reference) < k:
        raise ValueError(f"need at least {k} reference rows, got {len(reference)}")
    if len(query) == 0:
        return np.empty((0, k)), np.empty((0, k), dtype=np.int64)
    if query.shape[1] <= TREE_MAX_DIM:
        tree = cKDTree(reference, balanced_tree=False)
        dist, idx = tree.query(query, k=k, p=2 if metric == "euclidean" else 1, workers=workers)
        return dist.reshape(len(query), k), idx.reshape(len(query), k).astype(np.int64)
    return _brute_knn(query, reference, k, metric)


def _brute_knn(
    query: np.ndarray, reference: np.ndarray, k: int, metric: str
) -> tuple[np.ndarray, np.ndarray]:
    ref = torch.from_numpy(reference)
    ref_sq = (ref * ref).sum(1)
    ref_rows = max(k, min(len(reference), BLOCK_ENTRIES // 256))
    q_rows = max(1, BLOCK_ENTRIES // ref_rows)
    out_d = np.empty((len(query), k))
    out_i = np.empty((len(query), k), dtype=np.int64)
    for qs, qe in _blocks(len(query), q_rows):
        q = torch.from_numpy(query[qs:qe])
        best_d = torch.full((qe - qs, k), float("inf"), dtype=torch.float64)
        best_i = torch.zeros((qe - qs, k), dtype=torch.int64)
        for rs, re in _blocks(len(reference), ref_rows):
            if metric == "euclidean":
                # |q|^2 is constant per row, so it is added only at the end.
                d = torch.addmm(ref_sq[rs:re], q, ref[rs:re].T, alpha=-2.0)
            else:
                d = torch.cdist(q, ref[rs:re], p=1)
            kk = min(k, re - rs)
            d_blk, i_blk = torch.topk(d, kk, dim=1, largest=False)
            cat_d = torch.cat([best_d, d_blk], 1)
            cat_i = torch.cat([best_i, i_blk + rs], 1)
            best_d, order = torch.topk(cat_d, k, dim=1, largest=False)
            best_i = torch.gather(cat_i, 1, order)
        if metric == "euclidean":
            best_d = (best_d + (q * q).sum(1, keepdim=True)).clamp_min(0).sqrt()
        out_d[qs:qe] = best_d.numpy()
        out_i[qs:qe] = best_i.numpy()
    return out_d, out_i


# --- SDMetrics' distance -----------------------------------------------------


class _SDColumns:
    """Columns of one (dataset, reference) pair prepared for SDMetrics' distance.

    ``lb_query``/``lb_ref`` embed the rows so that the L1 distance between
    embeddings never exceeds the sum of SDMetrics' per-column terms:
    numeric values are scaled by the reference range and clipped to it
    (clipping never increases |a-b| and keeps it within the range, below the
    cap); a missing value sits mid-range with a 0.5 flag, so its terms stay
    within the 1 that SDMetrics charges; categories are one-hot at 0.5 (a
    mismatch costs exactly 1), or a single 0/1 coordinate when there are two.
    """

    def __init__(self, dataset: pd.DataFrame, reference: pd.DataFrame, categorical: set[str]):
        self.n_columns = len(dataset.columns)
        self.query_cols: list[np.ndarray] = []
        self.ref_cols: list[np.ndarray] = []
        self.ranges: list[float | None] = []  # None marks a categorical column
        lb_query, lb_ref = [], []
        for col in dataset.columns:
            a, b = dataset[col], reference[col]
            if col in categorical:
                codes, _ = pd.factorize(pd.concat([a, b], ignore_index=True), use_na_sentinel=True)
                qa, rb = codes[: len(a)].astype(np.float64), codes[len(a) :].astype(np.float64)
                self.query_cols.append(qa)
                self.ref_cols.append(rb)
                self.ranges.append(None)
                values = np.unique(codes)
                if len(values) == 2:
                    lb_query.append((qa == values[0]).astype(np.float64)[:, None])
                    lb_ref.append((rb == values[0]).astype(np.float64)[:, None])
                elif len(values) <= 32:  # wider one-hots cost more than they prune
                    eye = np.eye(int(values.max()) + 2) * 0.5
                    lb_query.append(eye[(qa + 1).astype(int)])
                    lb_ref.append(eye[(rb + 1).astype(int)])
                continue
            qa, rb = a.to_numpy(np.float64, na_value=np.nan), b.to_numpy(np.float64, na_value=np.nan)
            finite = rb[~np.isnan(rb)]
            lo, hi = (finite.min(), finite.max()) if len(finite) else (np.nan, np.nan)
            rng = hi - lo
            self.query_cols.append(qa)
            self.ref_cols.append(rb)
            self.ranges.append(float(rng))
            if np.isnan(rng):
                continue  # reference all missing: every term is 0 or 1 by rule alone
            emb = [np.where(x != lo, 1.0, 0.0) if rng == 0 else (np.clip(x, lo, hi) - lo) / rng
                   for x in (qa, rb)]
            missing = [np.isnan(qa), np.isnan(rb)]
            if missing[0].any() or missing[1].any():
                for e, m in zip(emb, missing, strict=True):
                    e[m] = 0.5
                lb_query.append(np.c_[emb[0], 0.5 * missing[0]])
                lb_ref.append(np.c_[emb[1], 0.5 * missing[1]])
            else:
                lb_query.append(emb[0][:, None])
                lb_ref.append(emb[1][:, None])
        width = sum(x.shape[1] for x in lb_query)
        self.lb_query = np.hstack(lb_query) if width else np.zeros((len(dataset), 1))
        self.lb_ref = np.hstack(lb_ref) if width else np.zeros((len(reference), 1))

    def exact(self, qi: np.ndarray, ri: np.ndarray) -> np.ndarray:
        """SDMetrics' distance for the pairs (qi[j], ri[j]), in SDMetrics' float order."""
        total = np.zeros(len(qi))
        for qa, rb, rng in zip(self.query_cols, self.ref_cols, self.ranges, strict=True):
            a, b = qa[qi], rb[ri]
            if rng is None:
                total += a != b
                continue
            diff = np.abs(b - a)
            with np.errstate(invalid="ignore", divide="ignore"):
                t = (diff > 0).astype(np.float64) if rng == 0 else np.minimum(diff / rng, 1.0)
            na, nb = np.isnan(a), np.isnan(b)
            t[na ^ nb] = 1.0
            t[na & nb] = 0.0
            # pandas sums a mixed-dtype frame's rows column by column, left to right.
            total += t
        return total / self.n_columns


def sdmetrics_dcr(
    dataset: pd.DataFrame,
    reference: pd.DataFrame,
    categorical: list[str] | set[str] = (),
    *,
    block_entries: int = BLOCK_ENTRIES,
) -> np.ndarray:
    """Distance from each row of ``dataset`` to its closest row of ``reference``.

    Equal to ``sdmetrics...dcr_utils.calculate_dcr`` for the same columns (the
    columns of ``dataset``, in order; ``categorical`` names the categorical or
    boolean ones, the rest are numerical), including its NaN rules and the
    ranges taken from ``reference``.

    For each row: the bound's nearest reference row gives an exact upper value
    U; every reference row whose bound is within U is a candidate; the answer
    is the least exact distance among the candidates. Since the bound never
    exceeds the exact distance, no closer row can be missed.
    """
    if len(dataset.columns) == 0:
        raise ValueError("There are no overlapping statistical columns to measure.")
    # Identical rows have identical distances: search once per distinct row.
    q_first, q_inverse = _distinct_rows(dataset)
    r_first, _ = _distinct_rows(reference[list(dataset.columns)])
    cols = _SDColumns(
        dataset.iloc[q_first], reference[list(dataset.columns)].iloc[r_first], set(categorical)
    )
    search = _tree_candidates if cols.lb_query.shape[1] <= TREE_MAX_DIM else _block_candidates
    best = np.full(len(q_first), np.inf)
    for qi, ri in search(cols, block_entries):
        np.minimum.at(best, qi, cols.exact(qi, ri))
    return best[q_inverse]


def _tree_candidates(cols: _SDColumns, block_entries: int):
    """Candidate pairs from a k-d tree over the bound (L1): the two nearest, then a ball of radius U.

    A row whose second-nearest bound already exceeds U has one candidate; only
    the others (ties, or rows whose bound is loose) need the ball search.
    """
    tree = cKDTree(cols.lb_ref, leafsize=32, balanced_tree=False)
    k = min(2, len(cols.lb_ref))
    # Slack for the bound's and the exact sum's different float rounding.
    tol = 1e-9 * cols.n_columns
    for qs, qe in _blocks(len(cols.lb_query), max(1, block_entries // len(cols.lb_ref))):
        q_idx = np.arange(qs, qe)
        bound, nearest = tree.query(cols.lb_query[qs:qe], k=k, p=1, workers=-1)
        bound, nearest = bound.reshape(len(q_idx), k), nearest.reshape(len(q_idx), k)
        upper = cols.exact(q_idx, nearest[:, 0]) * cols.n_columns + tol
        yield q_idx, nearest[:, 0]
        rows = np.nonzero(bound[:, -1] <= upper)[0]
        if k < 2 or not len(rows):
            continue
        balls = tree.query_ball_point(cols.lb_query[qs + rows], upper[rows], p=1, workers=-1,
                                      return_sorted=False)
        counts = np.fromiter(map(len, balls), dtype=np.int64, count=len(balls))
        yield np.repeat(q_idx[rows], counts), np.concatenate(balls).astype(np.int64)


def _block_candidates(cols: _SDColumns, block_entries: int):
    """Candidate pairs from blocks of bound distances (``torch.cdist``, float32) for wide tables."""
    lb_q = torch.from_numpy(cols.lb_query.astype(np.float32))
    lb_r = torch.from_numpy(cols.lb_ref.astype(np.float32))
    width = lb_q.shape[1]
    # Worst-case float32 rounding of a sum of `width` terms in [0, 1], plus the cast of `upper`.
    tol = 4 * float(np.finfo(np.float32).eps) * (width * width + cols.n_columns)
    n_r = len(lb_r)
    ref_rows = min(n_r, 16384)
    for qs, qe in _blocks(len(lb_q), max(1, block_entries // ref_rows)):
        q_idx = np.arange(qs, qe)
        upper = np.full(qe - qs, np.inf)
        for rs, re in _blocks(n_r, ref_rows):
            lb = torch.cdist(lb_q[qs:qe], lb_r[rs:re], p=1).numpy()
            nearest = lb.argmin(1) + rs
            upper = np.minimum(upper, cols.exact(q_idx, nearest) * cols.n_columns + tol)
            qi, ri = np.nonzero(lb <= upper[:, None])
            yield qi + qs, ri + rs


def row_ids(frame: pd.DataFrame) -> np.ndarray:
    """One integer per row, equal exactly when the rows are equal value for value (NaN == NaN)."""
    if frame.empty:
        return np.arange(len(frame))
    return frame.groupby(list(frame.columns), dropna=False, sort=False).ngroup().to_numpy()


def _distinct_rows(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the first of each distinct row, and each row's distinct-row number."""
    _, first, inverse = np.unique(row_ids(frame), return_index=True, return_inverse=True)
    return first, inverse
