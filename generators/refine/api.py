"""The refinement API the job types call: ``fit`` a refiner on labelled synthetic images and an
unlabelled real pool; ``Refined.transform`` maps images to refined images of the same shape;
``refine`` returns (images, the same labels). Models save as safetensors + a JSON card."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from generators.adapt.inputs import check_images, check_labels
from generators.adapt.protocol import DIGITS_VALUE_MAX, as_tensor
from generators.adapt.schema import checked, require
from generators.adapt.training import Progress, default_device, fingerprint, run_epochs
from generators.params import ParameterError
from generators.refine.methods import METHODS, NOISE_WIDTH
from generators.refine.networks import Refiner


def method_schema(method: str) -> dict[str, Any]:
    """The JSON Schema of refiner ``method``'s parameters, defaults and bounds included."""
    return METHODS[known_method(method)].schema


def known_method(method: str) -> str:
    require(method in METHODS, "method", f"unknown refiner {method!r}; one of {', '.join(METHODS)}")
    return method


@dataclass
class Refined:
    """A trained refiner. ``transform``: synthetic -> real-looking; ``reverse_transform`` (CycleGAN
    only): real -> synthetic-looking. Images are N×H×W in 0..value_max; outputs float32."""

    method: str
    refiner: Refiner
    side: int
    value_max: float = DIGITS_VALUE_MAX
    reverse: Refiner | None = None
    card: dict[str, Any] = field(default_factory=dict)

    def _apply(self, network: Refiner, images: Any, seed: int, batch: int = 1024) -> np.ndarray:
        array = check_images("images", images, self.side)
        device = next(network.parameters()).device
        generator = torch.Generator().manual_seed(seed)
        network.eval()
        out = []
        with torch.no_grad():
            x = as_tensor(array, self.value_max)
            for i in range(0, len(x), batch):
                chunk = x[i:i + batch].to(device)
                noise = None
                if network.noise_width:
                    noise = torch.rand(len(chunk), NOISE_WIDTH, generator=generator).mul(2).sub(1).to(device)
                out.append(network(chunk, noise).cpu())
        return (torch.cat(out).squeeze(1).numpy() * self.value_max).astype(np.float32)

    def transform(self, images: Any, seed: int = 0) -> np.ndarray:
        """Refined images (``seed`` draws PixelDA's noise; the other refiners ignore it)."""
        return self._apply(self.refiner, images, seed)

    def reverse_transform(self, images: Any) -> np.ndarray:
        require(self.reverse is not None, "method", f"{self.method} has no reverse (real -> synthetic) map")
        assert self.reverse is not None
        return self._apply(self.reverse, images, 0)

    def refine(self, images: Any, labels: Any, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """A refined version: every image refined, every label kept as it was."""
        kept = check_labels("labels", labels, len(np.asarray(images)))
        return self.transform(images, seed), kept.copy()


@dataclass
class RefineResult:
    refined: Refined
    history: list[dict[str, Any]]


def fit(method: str, source_images: Any, source_labels: Any, target_pool: Any,
        params: dict[str, Any] | None = None, seed: int = 0, *, value_max: float = DIGITS_VALUE_MAX,
        progress: Progress | None = None, checkpoint_dir: str | Path | None = None,
        device: torch.device | None = None) -> RefineResult:
    """Train refiner ``method``. Raises ParameterError (a ValueError) naming the bad argument."""
    cls = METHODS[known_method(method)]
    params = checked(cls.schema, params)
    require(isinstance(seed, int) and seed >= 0, "seed", "must be a non-negative integer")
    source = check_images("source_images", source_images)
    labels = check_labels("source_labels", source_labels, len(source))
    require(target_pool is not None, "target_pool", "a refiner needs the unlabelled target pool")
    pool = check_images("target_pool", target_pool, source.shape[1])
    device = device or default_device()
    side = source.shape[1]
    torch.manual_seed(seed)
    training = cls(params, side, device, as_tensor(source, value_max).to(device),
                   torch.as_tensor(labels).to(device), as_tensor(pool, value_max).to(device))
    training.generator.manual_seed(seed)
    training.build()
    identity = {"method": method, "params": params, "seed": seed, "value_max": value_max,
                "data": fingerprint(source, labels, pool)}
    history = run_epochs(training, identity, seed=seed, progress=progress, checkpoint_dir=checkpoint_dir)
    card = {"method": method, "params": params, "seed": seed, "history": history,
            "data": {"source_count": int(len(source)), "side": side, "value_max": value_max,
                     "target_pool_count": int(len(pool)), "target_labels_used": False,
                     "fingerprint": identity["data"]}}
    reverse = getattr(training, "reverse", None)
    return RefineResult(Refined(method, training.refiner.eval(), side, value_max, reverse, card), history)


MODEL_FILE, CARD_FILE = "refiner.safetensors", "card.json"


def save_refiner(refined: Refined, directory: str | Path, **card: Any) -> Path:
    """Write ``refiner.safetensors`` (``forward.*``, and ``reverse.*`` for CycleGAN) and ``card.json``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {f"forward.{k}": v.detach().cpu().contiguous() for k, v in refined.refiner.state_dict().items()}
    if refined.reverse is not None:
        tensors.update({f"reverse.{k}": v.detach().cpu().contiguous()
                        for k, v in refined.reverse.state_dict().items()})
    save_file(tensors, str(directory / MODEL_FILE), metadata={"format": "synthreg-refiner-v1"})
    full = {**refined.card, **card, "method": refined.method, "side": refined.side,
            "value_max": refined.value_max, "architecture": "generators.refine.networks.Refiner"}
    (directory / CARD_FILE).write_text(json.dumps(full, indent=2, default=float))
    return directory


def load_refiner(directory: str | Path, device: torch.device | None = None) -> Refined:
    """Read a refiner written by :func:`save_refiner` (safetensors only: nothing is unpickled)."""
    directory = Path(directory)
    card = json.loads((directory / CARD_FILE).read_text())
    method = known_method(card.get("method"))
    params = checked(METHODS[method].schema, card.get("params", {}))
    side = card.get("side")
    if not isinstance(side, int) or side <= 0 or side % 4:
        raise ParameterError("card.side", "must be a positive multiple of 4")
    tensors = load_file(str(directory / MODEL_FILE))
    device = device or default_device()

    def network(prefix: str, noise_width: int) -> Refiner:
        net = Refiner(params["width"], params["blocks"], noise_width)
        net.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
        return net.to(device).eval()

    forward = network("forward.", METHODS[method].noise_width)
    reverse = network("reverse.", 0) if any(k.startswith("reverse.") for k in tensors) else None
    return Refined(method, forward, side, float(card["value_max"]), reverse, card)
