"""Small tables and their publication as versions, for platform tests."""

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from catalog.models import Dataset
from catalog.publish import publish_version

MARKER = 987654.321  # a real value so distinctive that finding it in a report means a real record leaked


def publish_table(dataset: Dataset, frame: pd.DataFrame, key: str, on_published=None, parents=()):
    staging = Path(tempfile.mkdtemp())
    frame.to_parquet(staging / "data.parquet", index=False)
    try:
        return publish_version(dataset=dataset, staging=staging, key=key, claim=lambda: None,
                               samples=len(frame), on_published=on_published, parents=parents)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def real_table(rows: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 3))
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    frame["target"] = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    frame.loc[0, "a"] = MARKER
    return frame


def noise_table(rows: int = 120, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 3))
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    frame["target"] = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    return frame
