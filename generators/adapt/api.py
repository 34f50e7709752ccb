"""The adaptation API the job types call: ``fit`` a method, get a model and its history; save and
load models as safetensors + a JSON card (never pickle)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from generators.adapt.inputs import check_images, check_labels
from generators.adapt.losses import entropy
from generators.adapt.methods import METHODS, Adaptation
from generators.adapt.protocol import DIGITS_VALUE_MAX, as_tensor, small_cnn
from generators.adapt.schema import checked, require
from generators.adapt.training import Progress, default_device, fingerprint, run_epochs
from generators.params import ParameterError

SOURCE_VALIDATION_SHARE = 0.05  # of the source images, held out for the source-accuracy validator
SELECTORS = ("last", "source_validation", "target_entropy")


def method_schema(method: str) -> dict[str, Any]:
    """The JSON Schema of ``method``'s parameters, defaults and bounds included."""
    return METHODS[known_method(method)].schema


def known_method(method: str) -> str:
    require(method in METHODS, "method", f"unknown method {method!r}; one of {', '.join(METHODS)}")
    return method


@dataclass
class AdaptedModel:
    """A trained protocol CNN: ``predict`` labels images of its size (0..value_max)."""

    network: nn.Module
    side: int
    value_max: float = DIGITS_VALUE_MAX
    card: dict[str, Any] = field(default_factory=dict)

    def logits(self, images: np.ndarray, batch: int = 1024) -> torch.Tensor:
        device = next(self.network.parameters()).device
        self.network.eval()
        with torch.no_grad():
            x = as_tensor(images, self.value_max)
            return torch.cat([self.network(x[i:i + batch].to(device)).cpu() for i in range(0, len(x), batch)])

    def predict(self, images: np.ndarray) -> np.ndarray:
        return self.logits(images).argmax(1).numpy()


@dataclass
class FitResult:
    """The chosen model, one history row per epoch, and every epoch's snapshot (for the
    evaluation step only: the best-on-test checkpoint is reported beside the validator's)."""

    model: AdaptedModel
    history: list[dict[str, Any]]
    snapshots: list[dict[str, torch.Tensor]]
    selected_epoch: int


def _validators(training: Adaptation, holdout: tuple[torch.Tensor, torch.Tensor],
                pool: torch.Tensor | None) -> dict[str, float]:
    """The unsupervised checkpoint scores: held-out source accuracy and target-pool entropy."""
    network = training.predictor().eval()
    with torch.no_grad():
        scores = {"source_validation": float((network(holdout[0]).argmax(1) == holdout[1]).float().mean())}
        if pool is not None:
            scores["target_entropy"] = float(entropy(network(pool)))
    return scores


def select_epoch(history: list[dict[str, Any]], selection: str) -> int:
    """The epoch (1-based) a label-free validator picks: the last, the best source validation
    accuracy, or the lowest target prediction entropy."""
    if selection == "last":
        return history[-1]["epoch"]
    if selection == "source_validation":
        return max(history, key=lambda row: (row["source_validation"], row["epoch"]))["epoch"]
    return min(history, key=lambda row: (row["target_entropy"], -row["epoch"]))["epoch"]


def fit(method: str, source_images: Any, source_labels: Any, target_pool: Any = None,
        params: dict[str, Any] | None = None, seed: int = 0, *, target_labels: Any = None,
        selection: str = "last", value_max: float = DIGITS_VALUE_MAX, progress: Progress | None = None,
        checkpoint_dir: str | Path | None = None, device: torch.device | None = None) -> FitResult:
    """Train ``method`` on labelled source images and an unlabelled target pool.

    ``target_only`` (the oracle) trains on ``target_pool`` with ``target_labels`` instead; no
    other method accepts target labels. ``selection`` names the label-free validator that picks
    the returned checkpoint. Raises ParameterError (a ValueError) naming the bad argument.
    """
    cls = METHODS[known_method(method)]
    params = checked(cls.schema, params)
    require(selection in SELECTORS, "selection", f"unknown validator {selection!r}; one of {', '.join(SELECTORS)}")
    require(isinstance(seed, int) and seed >= 0, "seed", "must be a non-negative integer")
    if method == "target_only":
        require(target_pool is not None, "target_pool", "the oracle trains on labelled target images")
        source = check_images("target_pool", target_pool)
        labels = check_labels("target_labels", target_labels, len(source))
        pool = None
    else:
        require(target_labels is None, "target_labels", f"{method} must not see target labels")
        source = check_images("source_images", source_images)
        labels = check_labels("source_labels", source_labels, len(source))
        if cls.needs_pool:
            require(target_pool is not None, "target_pool", f"{method} needs the unlabelled target pool")
        pool = None if target_pool is None else check_images("target_pool", target_pool, source.shape[1])
    device = device or default_device()
    side = source.shape[1]

    # A seeded share of the source is held out for the source-accuracy validator.
    order = np.random.default_rng(seed).permutation(len(source))
    held = max(1, int(len(source) * SOURCE_VALIDATION_SHARE)) if len(source) > 1 else 0
    holdout_index, train_index = order[:held], order[held:] if held else order
    to_device = lambda a: as_tensor(a, value_max).to(device)  # noqa: E731
    holdout = (to_device(source[holdout_index]), torch.as_tensor(labels[holdout_index]).to(device))
    pool_tensor = None if pool is None else to_device(pool)

    torch.manual_seed(seed)
    training = cls(params, side, device, to_device(source[train_index]),
                   torch.as_tensor(labels[train_index]).to(device), pool_tensor)
    training.build()
    snapshots: list[dict[str, torch.Tensor]] = []

    def end_of_epoch(epoch: int) -> dict[str, Any]:
        snapshots.append({k: v.detach().cpu().clone() for k, v in training.predictor().state_dict().items()})
        if checkpoint_dir is not None:
            save_file(snapshots[-1], str(Path(checkpoint_dir) / f"epoch-{epoch}.safetensors"))
        return _validators(training, holdout, pool_tensor)

    identity = {"method": method, "params": params, "seed": seed, "value_max": value_max,
                "data": fingerprint(source, labels, pool)}
    if checkpoint_dir is not None:
        Path(checkpoint_dir).mkdir(parents=True, exist_ok=True)
    history = run_epochs(training, identity, seed=seed, end_of_epoch=end_of_epoch, progress=progress,
                         checkpoint_dir=checkpoint_dir)
    if len(snapshots) < len(history):  # resumed: the earlier epochs' snapshots are on disk
        snapshots = [load_file(str(Path(checkpoint_dir) / f"epoch-{row['epoch']}.safetensors"))
                     for row in history[: len(history) - len(snapshots)]] + snapshots
    chosen = select_epoch(history, selection)
    network = small_cnn(side).to(device)
    network.load_state_dict(snapshots[chosen - 1])
    card = {"method": method, "params": params, "seed": seed, "selection": selection,
            "selected_epoch": chosen, "data": {
                "source_count": int(len(source)), "source_side": side, "value_max": value_max,
                "target_pool_count": None if pool is None else int(len(pool)),
                "target_labels_used": method == "target_only", "fingerprint": identity["data"]},
            "history": history}
    return FitResult(AdaptedModel(network.eval(), side, value_max, card), history, snapshots, chosen)


MODEL_FILE, CARD_FILE = "model.safetensors", "card.json"


def save_model(model: AdaptedModel, directory: str | Path, **card: Any) -> Path:
    """Write ``model.safetensors`` and ``card.json`` (the model's card updated with ``card``)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.network.state_dict().items()}
    save_file(tensors, str(directory / MODEL_FILE), metadata={"format": "synthreg-adapt-cnn-v1"})
    full = {**model.card, **card, "side": model.side, "value_max": model.value_max,
            "architecture": "generators.adapt.protocol.small_cnn"}
    (directory / CARD_FILE).write_text(json.dumps(full, indent=2, default=float))
    return directory


def load_model(directory: str | Path, device: torch.device | None = None) -> AdaptedModel:
    """Read a model written by :func:`save_model` (safetensors only: nothing is unpickled)."""
    directory = Path(directory)
    card = json.loads((directory / CARD_FILE).read_text())
    side = card.get("side")
    if not isinstance(side, int) or side <= 0 or side % 4:
        raise ParameterError("card.side", "must be a positive multiple of 4")
    network = small_cnn(side)
    network.load_state_dict(load_file(str(directory / MODEL_FILE)))
    return AdaptedModel(network.to(device or default_device()).eval(), side, float(card["value_max"]), card)
