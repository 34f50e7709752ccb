"""What every tabular synthesizer shares: the scikit-learn habits, provenance, save and load.

``__init__`` only stores parameters; ``fit(table, metadata)`` checks the table against the
schema, learns, and returns self; learned state ends in ``_``; every random draw comes from
``random_state`` (fit) or ``seed`` (sample). A fitted model keeps its parameters, seed,
library versions and, for DP fits, what the accountant says was spent (``privacy_``). It is
saved as ``model.safetensors`` (its arrays) and ``model.json`` (everything else): no pickle.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from safetensors.numpy import load_file, save_file

from generators.tabular.metadata import Metadata

FORMAT = "synthreg.tabular-model/1"
_LIBRARIES = ("numpy", "pandas", "scipy", "scikit-learn", "torch", "opacus", "safetensors")


def library_versions() -> dict[str, str | None]:
    versions = {}
    for name in _LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def as_metadata(metadata: Metadata | dict) -> Metadata:
    return metadata if isinstance(metadata, Metadata) else Metadata.from_dict(metadata)


class TabularSynthesizer:
    """Base class; subclasses implement ``_fit``, ``_sample``, ``_arrays`` and ``_restore``."""

    registry: ClassVar[dict[str, type[TabularSynthesizer]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        TabularSynthesizer.registry[cls.__name__] = cls

    def get_params(self) -> dict[str, Any]:
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def fit(self, table: pd.DataFrame, metadata: Metadata | dict) -> TabularSynthesizer:
        metadata = as_metadata(metadata)
        metadata.validate(table)
        self.metadata_ = metadata
        self.privacy_: dict | None = None
        self._fit(table[metadata.names], metadata, np.random.default_rng(self.random_state))
        self.provenance_ = {"class": type(self).__name__, "params": self.get_params(),
                            "random_state": self.random_state, "versions": library_versions()}
        return self

    def sample(self, n: int, seed: int | None = None) -> pd.DataFrame:
        """``n`` synthetic rows; the same seed gives the same rows (default: ``random_state``)."""
        if not hasattr(self, "metadata_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted")
        if not isinstance(n, int | np.integer) or n < 1:
            raise ValueError("n: expected a positive whole number of rows")
        rng = np.random.default_rng(self.random_state if seed is None else seed)
        return self._sample(int(n), rng)[self.metadata_.names]

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        arrays, state = self._arrays()
        save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, folder / "model.safetensors")
        doc = {"format": FORMAT, "class": type(self).__name__, "params": self.get_params(),
               "metadata": self.metadata_.to_dict(), "provenance": self.provenance_,
               "privacy": self.privacy_, "state": state}
        (folder / "model.json").write_text(json.dumps(doc, indent=1, sort_keys=True))
        return folder

    # Subclass hooks ------------------------------------------------------------------------

    def _fit(self, table: pd.DataFrame, metadata: Metadata, rng: np.random.Generator) -> None:
        raise NotImplementedError

    def _sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        raise NotImplementedError

    def _arrays(self) -> tuple[dict[str, np.ndarray], dict]:
        """The learned state: arrays (to safetensors) and JSON-able rest."""
        raise NotImplementedError

    def _restore(self, arrays: dict[str, np.ndarray], state: dict) -> None:
        raise NotImplementedError


def load(folder: str | Path) -> TabularSynthesizer:
    """A fitted synthesizer back from ``save``'s folder; only the classes of this library load."""
    folder = Path(folder)
    doc = json.loads((folder / "model.json").read_text())
    if doc.get("format") != FORMAT:
        raise ValueError(f"{folder}: not a {FORMAT} model")
    cls = TabularSynthesizer.registry.get(doc.get("class"))
    if cls is None:
        raise ValueError(f"{folder}: unknown synthesizer class {doc.get('class')!r}")
    model = cls(**doc["params"])
    model.metadata_ = Metadata.from_dict(doc["metadata"])
    model.provenance_, model.privacy_ = doc["provenance"], doc["privacy"]
    model._restore(load_file(folder / "model.safetensors"), doc["state"])
    return model
