"""The training loop every adaptation method and refiner runs in: epochs of seeded steps, a
progress callback, a checkpoint per epoch (safetensors + JSON, written atomically) and resume.

A run is a pure function of (method, parameters, data, seed): each epoch reseeds the batch
sampler and torch's global generator (dropout, noise) from (seed, epoch), so resuming at an
epoch boundary replays exactly what an uninterrupted run would have done.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

Progress = Callable[[float, str], None]


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def epoch_seed(seed: int, epoch: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{epoch}".encode()).digest()[:8], "little") >> 1


def fingerprint(*arrays: np.ndarray | None) -> str:
    """A short digest of the training data, so a checkpoint is never resumed on other data."""
    digest = hashlib.sha256()
    for array in arrays:
        if array is not None:
            array = np.ascontiguousarray(array)
            digest.update(f"{array.shape}{array.dtype}".encode())
            digest.update(array.tobytes())
    return digest.hexdigest()[:16]


def warmup_cosine(step: int, total: int, warmup: float = 0.1) -> float:
    """Learning-rate factor: a linear warm-up over the first ``warmup`` share, then cosine to 0."""
    ramp = max(1, int(total * warmup))
    if step < ramp:
        return (step + 1) / ramp
    return 0.5 * (1 + math.cos(math.pi * (step - ramp) / max(1, total - ramp)))


class Training:
    """One method's networks, optimizers and step; subclasses fill ``build`` and ``step``.

    ``modules`` and ``optimizers`` are everything a checkpoint holds (with ``extra_state``).
    """

    name: ClassVar[str]
    schema: ClassVar[dict[str, Any]]

    def __init__(self, params: dict[str, Any], side: int, device: torch.device) -> None:
        self.params = params
        self.side = side
        self.device = device
        self.generator = torch.Generator()
        self.modules: dict[str, nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.step_index = 0
        self.total_steps = params["epochs"] * params["steps_per_epoch"]

    # what subclasses provide -----------------------------------------------------------------
    def build(self) -> None:
        raise NotImplementedError

    def step(self, progress: float) -> dict[str, float]:
        raise NotImplementedError

    def extra_state(self) -> dict[str, torch.Tensor]:
        return {}

    def load_extra_state(self, tensors: dict[str, torch.Tensor]) -> None:
        """Restore what ``extra_state`` saved (nothing by default)."""

    # helpers -----------------------------------------------------------------------------------
    def batch(self, tensor: torch.Tensor, size: int) -> torch.Tensor:
        pick = torch.randint(0, len(tensor), (size,), generator=self.generator)
        return tensor[pick.to(tensor.device)]

    def adam(self, *modules: nn.Module, lr: float | None = None, betas: tuple[float, float] = (0.9, 0.999),
             weight_decay: float = 1e-4) -> torch.optim.Adam:
        parameters = [p for module in modules for p in module.parameters()]
        return torch.optim.Adam(parameters, lr=lr or self.params["learning_rate"], betas=betas,
                                weight_decay=weight_decay)

    def set_learning_rates(self) -> None:
        factor = warmup_cosine(self.step_index, self.total_steps)
        for optimizer in self.optimizers.values():
            for group in optimizer.param_groups:
                group["lr"] = group.setdefault("base_lr", group["lr"]) * factor

    def train_mode(self, training: bool) -> None:
        for module in self.modules.values():
            module.train(training)


# checkpoints ---------------------------------------------------------------------------------

STATE_JSON = "checkpoint.json"


def _state_tensors(training: Training) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors: dict[str, torch.Tensor] = {}
    groups: dict[str, Any] = {}
    for name, module in training.modules.items():
        for key, value in module.state_dict().items():
            tensors[f"module.{name}.{key}"] = value.detach().cpu().contiguous()
    for name, optimizer in training.optimizers.items():
        state = optimizer.state_dict()
        groups[name] = state["param_groups"]
        for index, entries in state["state"].items():
            for key, value in entries.items():
                tensors[f"optimizer.{name}.{index}.{key}"] = torch.as_tensor(value).cpu().contiguous()
    for key, value in training.extra_state().items():
        tensors[f"extra.{key}"] = value.detach().cpu().contiguous()
    return tensors, groups


def _load_state(training: Training, tensors: dict[str, torch.Tensor], groups: dict[str, Any]) -> None:
    for name, module in training.modules.items():
        prefix = f"module.{name}."
        module.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
    for name, optimizer in training.optimizers.items():
        prefix = f"optimizer.{name}."
        state: dict[int, dict[str, torch.Tensor]] = {}
        for key, value in tensors.items():
            if key.startswith(prefix):
                index, entry = key[len(prefix):].split(".", 1)
                state.setdefault(int(index), {})[entry] = value
        optimizer.load_state_dict({"state": state, "param_groups": groups[name]})
    training.load_extra_state({k[6:]: v.to(training.device) for k, v in tensors.items()
                               if k.startswith("extra.")})


def _atomic_json(path: Path, payload: dict[str, Any]) -> None:
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(payload))
    os.replace(partial, path)


def save_checkpoint(directory: Path, training: Training, epoch: int, record: dict[str, Any]) -> None:
    """State after ``epoch`` epochs: tensors first, then the JSON that points at them (atomic)."""
    directory.mkdir(parents=True, exist_ok=True)
    tensors, groups = _state_tensors(training)
    name = f"state-{epoch}.safetensors"
    save_file(tensors, str(directory / f"{name}.partial"))
    os.replace(directory / f"{name}.partial", directory / name)
    _atomic_json(directory / STATE_JSON, {**record, "epoch": epoch, "state": name, "optimizer_groups": groups})
    for old in directory.glob("state-*.safetensors"):
        if old.name != name:
            old.unlink()


def load_checkpoint(directory: Path, training: Training, identity: dict[str, Any]) -> dict[str, Any] | None:
    """The saved record (and state loaded into ``training``) when ``directory`` holds a checkpoint
    of this very run; None when it holds none. A checkpoint of another run is an error."""
    path = directory / STATE_JSON
    if not path.exists():
        return None
    record = json.loads(path.read_text())
    for key, value in identity.items():
        if record.get(key) != value:
            raise ValueError(f"checkpoint_dir: holds a checkpoint of another run ({key} differs)")
    _load_state(training, load_file(str(directory / record["state"])), record["optimizer_groups"])
    return record


def run_epochs(training: Training, identity: dict[str, Any], *, seed: int,
               end_of_epoch: Callable[[int], dict[str, Any]] | None = None,
               progress: Progress | None = None, checkpoint_dir: str | Path | None = None,
               ) -> list[dict[str, Any]]:
    """Train ``training`` for its epochs; return one history row per epoch (mean losses and what
    ``end_of_epoch(epoch)`` reports). Resumes from ``checkpoint_dir`` when it holds this run."""
    directory = Path(checkpoint_dir) if checkpoint_dir is not None else None
    history: list[dict[str, Any]] = []
    start = 0
    if directory is not None and (record := load_checkpoint(directory, training, identity)):
        history, start = record["history"], record["epoch"]
    epochs, steps = training.params["epochs"], training.params["steps_per_epoch"]
    training.step_index = start * steps
    for epoch in range(start, epochs):
        training.generator.manual_seed(epoch_seed(seed, epoch))
        torch.manual_seed(epoch_seed(seed + 1, epoch))
        training.train_mode(True)
        sums: dict[str, float] = {}
        for _ in range(steps):
            training.set_learning_rates()
            losses = training.step(training.step_index / training.total_steps)
            for key, value in losses.items():
                sums[key] = sums.get(key, 0.0) + value
            training.step_index += 1
        training.train_mode(False)
        row: dict[str, Any] = {"epoch": epoch + 1, **{k: v / steps for k, v in sums.items()}}
        if end_of_epoch is not None:
            row.update(end_of_epoch(epoch + 1))
        history.append(row)
        if directory is not None:
            save_checkpoint(directory, training, epoch + 1, {**identity, "history": history})
        if progress is not None:
            losses_text = ", ".join(f"{k} {v:.4f}" for k, v in row.items() if k != "epoch")
            progress((epoch + 1) / epochs, f"epoch {epoch + 1}/{epochs}: {losses_text}")
    return history
