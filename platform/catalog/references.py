"""The built-in real reference datasets, loaded from installed packages (no network)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class BuiltinReference:
    slug: str
    title: str
    modality: str
    # The data format ``write`` produces (contracts.formats); the files are validated against it.
    format: str
    license: str
    card: str
    tags: tuple[str, ...]
    # Writes the data into a folder; returns the number of records.
    write: Callable[[Path], int]
    # Overrides of the evaluation's privacy-gate thresholds for this reference.
    privacy_thresholds: dict[str, float] | None = None


def _write_digits(out: Path) -> int:
    from sklearn.datasets import load_digits

    digits = load_digits()
    with open(out / "digits.npz", "wb") as fh:
        np.savez(fh, images=digits.images, labels=digits.target.astype(np.int64))
    return len(digits.target)


def _sklearn_table(loader_name: str) -> Callable[[Path], int]:
    def write(out: Path) -> int:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, loader_name)(as_frame=True)
        frame = bunch.frame
        frame.to_parquet(out / "data.parquet", index=False)
        return len(frame)

    return write


def _write_fair(out: Path) -> int:
    from statsmodels.datasets import fair

    frame = pd.DataFrame(fair.load_pandas().data)
    frame.to_parquet(out / "data.parquet", index=False)
    return len(frame)


BUILTIN_REFERENCES: tuple[BuiltinReference, ...] = (
    BuiltinReference(
        slug="sklearn-digits", title="Handwritten digits (real, 8x8)", modality="image", format="images/1",
        license="CC BY 4.0 (UCI Optical Recognition of Handwritten Digits)",
        card="1,797 real handwritten digits from scikit-learn: 32x32 bitmaps with on-pixels counted in "
        "4x4 blocks, giving 8x8 images with values 0..16. The real domain for the digit renderer.",
        tags=("images", "classification", "real"), write=_write_digits,
    ),
    BuiltinReference(
        slug="breast-cancer", title="Breast cancer Wisconsin (diagnostic)", modality="tabular", format="table/1",
        license="CC BY 4.0 (UCI)",
        card="569 patients, 30 numeric features of cell nuclei and a benign/malignant `target`.",
        tags=("tabular", "classification", "medical", "real"), write=_sklearn_table("load_breast_cancer"),
    ),
    BuiltinReference(
        slug="wine", title="Wine recognition", modality="tabular", format="table/1", license="CC BY 4.0 (UCI)",
        card="178 wines, 13 chemical measurements and the cultivar as `target`.",
        tags=("tabular", "classification", "real"), write=_sklearn_table("load_wine"),
    ),
    BuiltinReference(
        slug="fair", title="Fair's affairs survey (people)", modality="tabular", format="table/1",
        license="Used with permission of the author (statsmodels datasets)",
        card="6,366 survey respondents from statsmodels: marriage rating, age, years married, children, "
        "religiousness, education, occupation and time in affairs. Records describe people: the privacy demo.",
        tags=("tabular", "regression", "people", "real"), write=_write_fair,
    ),
)
