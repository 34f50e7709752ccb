"""A job's checkpoint: what a long job saves as it goes, so a delivery after a dead worker resumes.

A job's staging folder is emptied at the start of every delivery (an earlier try's half-written
outputs must not leak into this one); its checkpoint lives beside it and survives until the job
ends. Tensors are stored as safetensors and state as JSON, never a pickle, and each save replaces
the last one whole: a worker killed mid-save leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from safetensors.numpy import load_file, save_file

TENSORS = "tensors.safetensors"
STATE = "state.json"


def checkpoint_dir(job) -> Path:
    return Path(settings.SYNTHREG_STAGING_DIR) / f"{job.pk}-checkpoint"


class Checkpoint:
    """The latest saved state of one job: ``save`` replaces it, ``load`` returns it or None."""

    def __init__(self, job) -> None:
        self.folder = checkpoint_dir(job)

    def save(self, tensors: dict[str, Any], state: dict[str, Any]) -> None:
        """Save ``tensors`` (numpy arrays or torch tensors, by name) and JSON ``state`` atomically."""
        arrays = {name: np.ascontiguousarray(_as_numpy(value)) for name, value in tensors.items()}
        fresh = self.folder.with_name(self.folder.name + ".new")
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(parents=True)
        save_file(arrays, fresh / TENSORS)
        (fresh / STATE).write_text(json.dumps(state, sort_keys=True))
        # Swap whole folders: the old one is renamed away first, so a kill between the two renames
        # leaves the new one under its temporary name and the old one under .old; load() finds either.
        old = self.folder.with_name(self.folder.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.folder.exists():
            os.replace(self.folder, old)
        os.replace(fresh, self.folder)
        shutil.rmtree(old, ignore_errors=True)

    def load(self) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
        for folder in (self.folder, self.folder.with_name(self.folder.name + ".old")):
            if (folder / STATE).is_file() and (folder / TENSORS).is_file():
                return load_file(folder / TENSORS), json.loads((folder / STATE).read_text())
        return None

    def clear(self) -> None:
        for suffix in ("", ".new", ".old"):
            shutil.rmtree(self.folder.with_name(self.folder.name + suffix), ignore_errors=True)


def _as_numpy(value: Any) -> np.ndarray:
    # torch tensors without importing torch here: the platform's non-torch jobs need not load it.
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)
