"""A marginal-based DP synthesizer in the MST family, aimed at the target column.

The model: the target first, then every other column given the target and (``tree``) one
parent column, the parents forming a spanning tree (a tree-augmented naive Bayes; with no
target, a Chow-Liu tree as in MST). Fitting, all on public bins (``binning``):

1. every column's fine histogram, with Gaussian noise (``bin_share`` of the budget): the
   coarse bins are then cut at its noisy quantiles, and values are later drawn inside a
   coarse bin by these fine weights (post-processing);
2. the number of coarse bins per column and the structure are set from the noise that the
   rest of the budget buys and a noisy row count: each measured cell should hold about
   ``cells_per_sigma`` noise deviations of rows. ``structure="auto"`` takes the tree when
   its 3-way marginals can keep ``min_tree_bins`` bins per column, else the star;
3. (tree) the edges, chosen one at a time as in MST: the exponential mechanism on the L1 gap
   between a pair's counts and the product of its noisy 1-way marginals (sensitivity 1),
   among the edges that join two components (``select_share`` of the budget);
4. each column's marginal with the target (star) or with its parent and the target (tree),
   with Gaussian noise: feature × target marginals are always measured.

The noisy counts are clipped at zero and a tree conditional is shrunk toward the column's
target conditional (by the noise scale), so every conditional is a distribution; sampling is
ancestral along the tree. Accounting is zCDP (``accounting``); with ``epsilon=None`` every count
is exact and the tree is the maximum spanning tree of the same score.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generators.tabular import accounting
from generators.tabular.base import TabularSynthesizer
from generators.tabular.binning import Bins, merge_bins, within
from generators.tabular.metadata import Metadata


def _draw(cdf: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One code per row from per-row cumulative distributions (rows x codes)."""
    u = rng.random(len(cdf)) * cdf[:, -1]
    return np.minimum((u[:, None] >= cdf).sum(axis=1), cdf.shape[1] - 1)


def _counts(codes: list[np.ndarray], sizes: list[int]) -> np.ndarray:
    flat = np.ravel_multi_index(codes, sizes)
    return np.bincount(flat, minlength=math.prod(sizes)).reshape(sizes).astype(np.float64)


class MarginalSynthesizer(TabularSynthesizer):
    def __init__(self, epsilon: float | None = None, delta: float = 1e-5, structure: str = "auto",
                 fine_bins: int = 32, max_bins: int = 16, min_bins: int = 2, min_tree_bins: int = 4,
                 cells_per_sigma: float = 4.0, bin_share: float = 0.1, select_share: float = 0.1,
                 random_state: int = 0):
        self.epsilon = epsilon
        self.delta = delta
        self.structure = structure
        self.fine_bins = fine_bins
        self.max_bins = max_bins
        self.min_bins = min_bins
        self.min_tree_bins = min_tree_bins
        self.cells_per_sigma = cells_per_sigma
        self.bin_share = bin_share
        self.select_share = select_share
        self.random_state = random_state

    # --- fit --------------------------------------------------------------------------------

    def _fit(self, table: pd.DataFrame, metadata: Metadata, rng: np.random.Generator) -> None:
        if self.structure not in ("auto", "star", "tree"):
            raise ValueError("structure: expected 'auto', 'star' or 'tree'")
        dp = self.epsilon is not None
        acct = accounting.ZCDPAccountant(self.delta)
        rho = accounting.rho_from_epsilon(self.epsilon, self.delta) if dp else math.inf
        bins = Bins(metadata, self.fine_bins)
        fine_codes, _ = bins.locate(table, rng)
        d = len(metadata.columns)
        fine = bins.counts(fine_codes)
        if dp:
            sigma_f = accounting.gaussian_sigma(self.bin_share * rho / d)
            fine = [w + rng.normal(0, sigma_f, len(w)) for w in fine]
            acct.gaussian("fine 1-way histograms", sigma_f, count=d)
        self.fine_ = fine
        t = metadata.names.index(metadata.target) if metadata.target is not None else None
        features = [j for j in range(d) if j != t]
        k_y = len(fine[t]) if t is not None else 1
        n_hat = max(float(np.mean([w.sum() for w in fine])), 1.0)  # unclipped: unbiased

        structure, sigma, groups = self._plan(features, k_y, n_hat, rho)
        discrete = [c.kind in ("categorical", "boolean") for c in metadata.columns]
        self.coarse_ = [np.arange(len(fine[j])) if discrete[j] or j == t else merge_bins(fine[j], groups)
                        for j in range(d)]
        coarse = [self.coarse_[j][fine_codes[:, j]] for j in range(d)]
        y = coarse[t] if t is not None else np.zeros(len(table), dtype=np.int64)
        sizes = [int(c.max()) + 1 for c in self.coarse_]

        parents = {j: None for j in features}
        if structure == "tree" and len(features) > 1:
            edge_eps = (accounting.exponential_epsilon(self.select_share * rho / (len(features) - 1))
                        if dp else None)
            parents = self._select_tree(features, coarse, sizes, n_hat, edge_eps, rng)
            if dp:
                acct.exponential("tree edges (L1 gap to independence)", edge_eps, count=len(features) - 1)
        measured = {}
        for j in features:
            p = parents[j]
            axes, dims = ([coarse[p], y, coarse[j]], [sizes[p], k_y, sizes[j]]) if p is not None \
                else ([y, coarse[j]], [k_y, sizes[j]])
            counts = _counts(axes, dims)
            measured[j] = counts + rng.normal(0, sigma, counts.shape) if dp else counts
        if dp:
            acct.gaussian("feature x target (x parent) marginals", sigma, count=len(features))
            self.privacy_ = acct.spent()
        self._set_model(features, parents, measured, fine[t] if t is not None else np.ones(1), sigma)
        self.plan_ = {"structure": structure, "coarse_bins": groups, "noise_sigma": sigma}

    def _plan(self, features: list[int], k_y: int, n_hat: float, rho: float) -> tuple[str, float, int]:
        """Structure, the measurement noise and the coarse bins per numeric column."""
        m = max(len(features), 1)

        def sigma(share: float) -> float:
            return accounting.gaussian_sigma(share * rho / m) if math.isfinite(rho) else 0.0

        def bins_for(sig: float, power: int) -> int:
            if sig == 0:
                return self.max_bins
            cells = n_hat / (k_y * self.cells_per_sigma * sig)
            return int(np.clip(math.floor(max(cells, 1) ** (1 / power)), self.min_bins, self.max_bins))

        star_sigma = sigma(1 - self.bin_share)
        tree_sigma = sigma(1 - self.bin_share - self.select_share)
        tree_bins = bins_for(tree_sigma, 2)
        structure = self.structure
        if structure == "auto":
            structure = "tree" if tree_bins >= self.min_tree_bins and len(features) > 1 else "star"
        if structure == "tree":
            return "tree", tree_sigma, tree_bins
        return "star", star_sigma, bins_for(star_sigma, 1)

    def _select_tree(self, features: list[int], coarse: list[np.ndarray], sizes: list[int], n_hat: float,
                     edge_eps: float | None, rng: np.random.Generator) -> dict[int, int | None]:
        """A spanning tree of the features, edge by edge (Kruskal with the exponential mechanism)."""
        one_way = {}
        for j in features:
            w = np.zeros(sizes[j])
            np.add.at(w, self.coarse_[j], np.clip(self.fine_[j], 0, None))
            one_way[j] = w / max(w.sum(), 1e-12)
        pairs = [(a, b) for i, a in enumerate(features) for b in features[i + 1:]]
        score = np.array([np.abs(_counts([coarse[a], coarse[b]], [sizes[a], sizes[b]])
                                 - n_hat * np.outer(one_way[a], one_way[b])).sum() for a, b in pairs])
        component = {j: j for j in features}

        def find(j: int) -> int:
            while component[j] != j:
                j = component[j]
            return j

        edges = []
        for _ in range(len(features) - 1):
            open_ = np.array([find(a) != find(b) for a, b in pairs])
            if edge_eps is None:
                pick = int(np.argmax(np.where(open_, score, -np.inf)))
            else:
                logits = np.where(open_, edge_eps * score / 2, -np.inf)
                p = np.exp(logits - logits.max())
                pick = int(rng.choice(len(pairs), p=p / p.sum()))
            a, b = pairs[pick]
            component[find(a)] = find(b)
            edges.append((a, b))
        parents: dict[int, int | None] = {features[0]: None}
        frontier = [features[0]]
        while frontier:
            node = frontier.pop()
            for a, b in edges:
                for child, parent in ((a, b), (b, a)):
                    if parent == node and child not in parents:
                        parents[child] = node
                        frontier.append(child)
        return parents

    def _set_model(self, features: list[int], parents: dict, measured: dict, target_counts: np.ndarray,
                   sigma: float) -> None:
        """Conditionals from the noisy counts: clipped at zero, tree ones shrunk toward the star."""
        self.parents_ = {int(j): (None if p is None else int(p)) for j, p in parents.items()}
        self.order_ = self._ancestral_order()
        self.conditionals_ = {}
        y_mass = np.clip(target_counts, 0, None) + 1e-9
        for j, counts in measured.items():
            clipped = np.clip(counts, 0, None)
            if parents[j] is None:
                table = clipped[None] + 1e-9  # (1, k_y, k_j)
            else:
                star = clipped.sum(axis=0, keepdims=True) + 1e-9
                star = star / star.sum(axis=-1, keepdims=True)
                table = clipped + max(sigma, 1e-9) * star
            y_mass = y_mass + clipped.sum(axis=-1) if parents[j] is None else y_mass + clipped.sum(axis=(0, 2))
            self.conditionals_[j] = table / table.sum(axis=-1, keepdims=True)
        self.target_prior_ = y_mass / y_mass.sum()

    def _ancestral_order(self) -> list[int]:
        order, placed = [], set()
        while len(order) < len(self.parents_):
            for j, p in sorted(self.parents_.items()):  # sorted: the same order after a load
                if j not in placed and (p is None or p in placed):
                    order.append(j)
                    placed.add(j)
        return order

    # --- sample -----------------------------------------------------------------------------

    def _sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        bins = Bins(self.metadata_, self.fine_bins)
        d = len(self.metadata_.columns)
        target = self.metadata_.target
        t = self.metadata_.names.index(target) if target is not None else None
        y = _draw(np.tile(np.cumsum(self.target_prior_), (n, 1)), rng)
        coarse = np.zeros((n, d), dtype=np.int64)
        if t is not None:
            coarse[:, t] = y
        for j in self.order_:
            p = self.parents_[j]
            table = self.conditionals_[j]
            rows = table[coarse[:, p] if p is not None else 0, y]
            coarse[:, j] = _draw(np.cumsum(rows, axis=1), rng)
        fine = np.column_stack([within(self.fine_[j], self.coarse_[j], coarse[:, j], rng) for j in range(d)])
        return bins.values(fine, rng.random((n, d)))

    # --- save / load ------------------------------------------------------------------------

    def _arrays(self) -> tuple[dict[str, np.ndarray], dict]:
        arrays = {"target_prior": self.target_prior_}
        for j, w in enumerate(self.fine_):
            arrays[f"fine.{j}"] = w
            arrays[f"coarse.{j}"] = self.coarse_[j]
        for j, table in self.conditionals_.items():
            arrays[f"conditional.{j}"] = table
        state = {"parents": {str(j): p for j, p in self.parents_.items()}, "plan": self.plan_}
        return arrays, state

    def _restore(self, arrays: dict[str, np.ndarray], state: dict) -> None:
        d = len(self.metadata_.columns)
        self.fine_ = [arrays[f"fine.{j}"] for j in range(d)]
        self.coarse_ = [arrays[f"coarse.{j}"] for j in range(d)]
        self.target_prior_ = arrays["target_prior"]
        self.parents_ = {int(j): p for j, p in state["parents"].items()}
        self.conditionals_ = {j: arrays[f"conditional.{j}"] for j in self.parents_}
        self.order_ = self._ancestral_order()
        self.plan_ = state["plan"]
