"""Fixed small inputs whose reports are stored under data/ (the golden test holds reports to them).

``python -m tests.evaluation.golden`` rewrites the stored reports: do so only
for a change that is meant to change reports (and bump EVALUATION_VERSION).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import evaluation
from tests.evaluation.conftest import population

DATA = Path(__file__).parent / "data"
OPTIONS = {"seeds": (0,), "fidelity_rows": 200}


def tabular_report() -> dict:
    train, holdout = population(120, seed=11), population(120, seed=12)
    synthetic = population(100, seed=13)
    synthetic.iloc[:30] = train.iloc[:30].to_numpy()  # some copies, so the privacy numbers are not all ideal
    return evaluation.build_tabular_report(train, holdout, synthetic, target="label", n_attacks=100, **OPTIONS)


def image_report() -> dict:
    # Continuous pixels and near copies (not exact ones): with integer pixels many distances tie
    # exactly, and so do a copy's distances with its original's, on the edge of k-NN balls. Float
    # rounding, which differs with the CPU's BLAS and convolution kernels, then breaks those ties,
    # and the k-NN metrics (density, the distance attack's AUC) with them.
    rng = np.random.default_rng(5)

    def images(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, 2, n)
        pixels = rng.uniform(0, 9, (n, 8, 8)) + 6 * labels[:, None, None] * np.eye(8)
        return pixels, labels

    (tr, y_tr), (ho, y_ho), (sy, y_sy) = images(60), images(60), images(50)
    sy[:10], y_sy[:10] = tr[:10] + rng.uniform(-0.05, 0.05, tr[:10].shape), y_tr[:10]
    return evaluation.build_image_report(tr, y_tr, ho, y_ho, sy, y_sy, n_samples=4, **OPTIONS)


def text(report: dict) -> str:
    return json.dumps(report, indent=1) + "\n"


REPORTS = {"tabular": tabular_report, "image": image_report}

if __name__ == "__main__":
    for name, build in REPORTS.items():
        (DATA / f"golden_{name}_report.json").write_text(text(build()))
