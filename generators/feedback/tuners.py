"""Three tuners over one parameter policy, and random search at the same budget.

- ``learning-to-simulate`` (Ruiz et al.): the reward of a configuration is the accuracy, on the
  labelled real dev split, of a task model trained on a batch rendered from it;
- ``meta-sim`` (Kar et al., distribution matching only): the reward is minus the squared MMD
  between features of a rendered batch and of the real images, which are used without their
  labels, in the space of a net fixed before tuning that learned what the tuned attributes do to
  the generator's images (:class:`~generators.feedback.features.RenderedFeatures`);
- ``vadra`` (Khirdkar et al.): one task model is trained throughout; each iteration the policy moves
  toward configurations on which that model's loss is higher, then the model trains on them.

All three move the policy (its mean and a spread per coordinate) by the natural evolution strategy
of :mod:`generators.feedback.policy` (REINFORCE with rank-shaped rewards as the baseline, natural
gradient steps), with common random numbers: the candidates of one iteration are rendered with the same seed and
their task models start from the same weights, so their rewards differ by their parameters alone.
Every iteration is recorded (the policy mean's parameters, its objective, and its real dev metric:
the dev accuracy of the task model trained from scratch on a render at the mean, the same measure
for every tuner), reported through ``progress`` and saved through ``checkpoint`` as arrays plus
JSON; a tuner given that saved state resumes where it stopped and ends as an uninterrupted run would.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from generators.feedback.features import RenderedFeatures
from generators.feedback.measures import (
    accuracy,
    conv_task_model,
    flat,
    median_bandwidth,
    mmd2,
    render_arrays,
    task_model,
    train_steps,
)
from generators.feedback.policy import GaussianPolicy, NaturalEvolution
from generators.feedback.space import ParameterSpace
from generators.spec import Progress, no_progress

TUNERS = ("learning-to-simulate", "meta-sim", "vadra", "random-search")
Checkpoint = Callable[[dict[str, np.ndarray], dict[str, Any]], None]


@dataclass(frozen=True)
class Budget:
    """How much each tuner may render and train; the same for every tuner compared."""

    iterations: int = 30
    pairs: int = 7  # antithetic pairs of candidates per iteration
    images: int = 4000  # rendered per batch (cheap beside training: more images, a less overfitted reward)
    steps: int = 300  # task model training steps per batch
    sigma: float | None = None  # the policy's first spread per coordinate (None: the tuner's own)
    rate: float = 1.0  # the natural-gradient step on the mean (SNES's learning rate)

    @property
    def evaluations(self) -> int:
        """Rendered batches a tuner scores: the start, then the candidates and the mean per iteration
        (beside them, once: meta-sim's feature net trains on ``FeatureMMD.feature_batches`` batches'
        worth of renders)."""
        return 1 + self.iterations * (2 * self.pairs + 1)


@dataclass
class RealData:
    """The real split a tuner may read: dev images, and their labels (learning-to-simulate's reward
    and every tuner's recorded dev metric; meta-sim's objective never reads them)."""

    images: np.ndarray
    labels: np.ndarray | None  # None: unlabelled (meta-sim only; no dev metric is recorded)
    value_max: float = 16.0
    classes: int = 10


@dataclass
class TuneResult:
    tuner: str
    unit: list[float]  # the chosen point of the box
    parameters: dict[str, Any]  # the generator's full parameters there
    moved: dict[str, float]
    history: list[dict[str, Any]]
    chosen_iteration: int
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class _Scorer:
    """Renders a configuration and trains the quick task model on it; seeds per iteration."""

    def __init__(self, space: ParameterSpace, real: RealData, budget: Budget, seed: int) -> None:
        self.space, self.real, self.budget, self.seed = space, real, budget, seed
        self.dev_x = flat(real.images, real.value_max)
        # Square grey images (digits): the conv task model; anything else: flattened pixels.
        shape = real.images.shape
        self.side = shape[1] if len(shape) == 3 and shape[1] == shape[2] and shape[1] % 2 == 0 else None
        if self.side:
            self.dev_x = self.dev_x.reshape(len(real.images), 1, self.side, self.side)

    def model_input(self, images: np.ndarray) -> torch.Tensor:
        x = flat(images, self.real.value_max)
        return x.reshape(len(x), 1, self.side, self.side) if self.side else x

    def render_seed(self, iteration: int) -> int:
        return (self.seed * 1_000_003 + iteration) % (2**31)

    def render(self, unit: np.ndarray, iteration: int) -> tuple[np.ndarray, np.ndarray | None]:
        params = self.space.params(unit, n=self.budget.images, seed=self.render_seed(iteration))
        return render_arrays(self.space.spec, params)

    def trained(self, images: np.ndarray, labels: np.ndarray, iteration: int) -> torch.nn.Module:
        seed = self.render_seed(iteration)
        model = (conv_task_model(self.side, self.real.classes, seed) if self.side
                 else task_model(self.dev_x.shape[1], self.real.classes, seed))
        y = torch.as_tensor(np.asarray(labels), dtype=torch.int64)
        return train_steps(model, self.model_input(images), y, self.budget.steps, seed)

    def dev_accuracy(self, unit: np.ndarray, iteration: int, rendered: Any = None) -> float:
        images, labels = rendered if rendered is not None else self.render(unit, iteration)
        return accuracy(self.trained(images, labels, iteration), self.dev_x, self.real.labels)


class _Objective:
    """A reward per rendered configuration (higher is better)."""

    name: str
    select_best = True  # choose the iteration with the best objective (vadra: the last one)
    # The first spread of the policy, in unit-box coordinates. A trained model's accuracy is noisy,
    # so its candidates must differ enough to be told apart; an MMD under common random numbers is
    # smooth, and small steps follow it.
    sigma = 0.15

    def __init__(self, scorer: _Scorer, progress: Progress = no_progress) -> None:
        self.scorer = scorer

    def reward(self, unit: np.ndarray, iteration: int) -> tuple[float, dict[str, float]]:
        """(reward, what to record about the point: objective and dev accuracy)."""
        raise NotImplementedError

    def after_update(self, policy: GaussianPolicy, units: np.ndarray, iteration: int) -> None:
        """Called once the policy moved (vadra trains its model here)."""

    def tensors(self) -> dict[str, np.ndarray]:
        return {}

    def restore(self, tensors: dict[str, np.ndarray]) -> None:
        """Load what ``tensors`` saved."""

    def describe(self) -> dict[str, Any]:
        return {}


class DevAccuracy(_Objective):
    name = "learning-to-simulate"

    def reward(self, unit: np.ndarray, iteration: int) -> tuple[float, dict[str, float]]:
        value = self.scorer.dev_accuracy(unit, iteration)
        return value, {"objective": value, "dev_accuracy": value}

    def describe(self) -> dict[str, Any]:
        return {"objective": "real dev accuracy of the quick task model trained on a rendered batch (maximised)",
                "labels": "real dev labels (the reward)"}


class FeatureMMD(_Objective):
    name = "meta-sim"
    sigma = 0.06
    sample = 1000  # rendered images compared with the real ones: the MMD's cost grows with its square
    feature_batches = 5  # the feature net is trained on this many batches' worth of rendered images

    def __init__(self, scorer: _Scorer, progress: Progress = no_progress) -> None:
        super().__init__(scorer)
        self.features = RenderedFeatures(scorer.space, scorer.real.value_max, classes=scorer.real.classes,
                                         images=self.feature_batches * scorer.budget.images, seed=scorer.seed,
                                         progress=lambda message: progress(0.0, f"meta-sim: {message}"))
        self.real_features = self.features(scorer.real.images)
        middle = median_bandwidth(self.real_features[:500])
        self.bandwidths = (middle / 2, middle, middle * 2)

    def mmd(self, images: np.ndarray) -> float:
        return mmd2(self.features(images[: self.sample]), self.real_features, self.bandwidths)

    def reward(self, unit: np.ndarray, iteration: int) -> tuple[float, dict[str, float]]:
        images, _ = self.scorer.render(unit, iteration)
        value = self.mmd(images)
        return -value, {"objective": value}

    def describe(self) -> dict[str, Any]:
        return {"objective": f"squared MMD (biased, Gaussian kernels) between features of {self.sample} rendered "
                             "and of the real dev images (minimised)",
                "labels": "none: the real dev labels only score the recorded dev metric",
                "features": self.features.describe(), "bandwidths": list(self.bandwidths)}


class AdversarialLoss(_Objective):
    name = "vadra"
    select_best = False

    def __init__(self, scorer: _Scorer, progress: Progress = no_progress) -> None:
        super().__init__(scorer)
        self.flat_dev = flat(scorer.real.images, scorer.real.value_max)
        self.model = task_model(self.flat_dev.shape[1], scorer.real.classes, scorer.seed)

    def reward(self, unit: np.ndarray, iteration: int) -> tuple[float, dict[str, float]]:
        images, labels = self.scorer.render(unit, iteration)
        with torch.no_grad():
            loss = torch.nn.functional.cross_entropy(
                self.model(flat(images, self.scorer.real.value_max)), torch.as_tensor(labels, dtype=torch.int64))
        return float(loss), {"objective": float(loss)}

    def after_update(self, policy: GaussianPolicy, units: np.ndarray, iteration: int) -> None:
        # The model trains on what the moved policy renders now: its mean and this iteration's candidates.
        parts = [self.scorer.render(unit, iteration) for unit in (policy.mean, *units[: len(units) // 2])]
        images = np.concatenate([images for images, _ in parts])
        labels = np.concatenate([labels for _, labels in parts])
        train_steps(self.model, flat(images, self.scorer.real.value_max), torch.as_tensor(labels, dtype=torch.int64),
                    self.scorer.budget.steps, self.scorer.render_seed(iteration))

    def model_dev_accuracy(self) -> float:
        return accuracy(self.model, self.flat_dev, self.scorer.real.labels)

    def tensors(self) -> dict[str, np.ndarray]:
        return {f"model.{name}": value.detach().numpy().copy() for name, value in self.model.state_dict().items()}

    def restore(self, tensors: dict[str, np.ndarray]) -> None:
        self.model.load_state_dict({name[len("model."):]: torch.as_tensor(value)
                                    for name, value in tensors.items() if name.startswith("model.")})

    def describe(self) -> dict[str, Any]:
        return {"objective": "cross-entropy of the continually trained task model on a rendered batch (maximised)",
                "labels": "rendered labels only; real dev labels score the recorded dev metric"}


def tune(tuner: str, space: ParameterSpace, real: RealData, *, start: np.ndarray | None = None,
         budget: Budget | None = None, seed: int = 0, progress: Progress = no_progress,
         checkpoint: Checkpoint | None = None,
         resume: tuple[dict[str, np.ndarray], dict[str, Any]] | None = None) -> TuneResult:
    """Run ``tuner`` (one of :data:`TUNERS`) from ``start`` (default: the generic start) and return
    the chosen configuration with every iteration's record. ``resume``: a state ``checkpoint`` saved.

    Torch runs on one thread meanwhile: the models are tiny, and a thread count changes float
    rounding, so the same seed gives the same run in a worker and in a test, resumed or not."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _tune(tuner, space, real, start=start, budget=budget, seed=seed, progress=progress,
                     checkpoint=checkpoint, resume=resume)
    finally:
        torch.set_num_threads(threads)


def _tune(tuner: str, space: ParameterSpace, real: RealData, *, start: np.ndarray | None,
          budget: Budget | None, seed: int, progress: Progress, checkpoint: Checkpoint | None,
          resume: tuple[dict[str, np.ndarray], dict[str, Any]] | None) -> TuneResult:
    if tuner not in TUNERS:
        raise ValueError(f"unknown tuner {tuner!r}; known: {', '.join(TUNERS)}")
    budget = budget or Budget()
    if real.labels is None and tuner != "meta-sim":
        raise ValueError(f"{tuner} needs labelled real dev data; only meta-sim tunes on unlabelled images")
    if budget.iterations < 1 or budget.pairs < 1:
        raise ValueError("a budget needs at least one iteration and one pair of candidates")
    start = space.generic_start() if start is None else np.clip(np.asarray(start, dtype=float), 0, 1)
    scorer = _Scorer(space, real, budget, seed)
    objective: _Objective = {"learning-to-simulate": DevAccuracy, "random-search": DevAccuracy,
                             "meta-sim": FeatureMMD, "vadra": AdversarialLoss}[tuner](scorer, progress)
    sigma = objective.sigma if budget.sigma is None else budget.sigma
    policy, update = GaussianPolicy(start, sigma), NaturalEvolution(space.dimension, budget.rate)
    history: list[dict[str, Any]] = []
    best_unit, best_seen = start.copy(), -np.inf  # random search: the best candidate so far
    if resume is not None:
        tensors, state = resume
        if state.get("tuner") != tuner or state.get("coordinates") != [c.name for c in space.coordinates]:
            raise ValueError("the checkpoint is of another tuner or another parameter space")
        policy.mean, policy.sigma = tensors["mean"].astype(float), tensors["sigma"].astype(float)
        best_unit = tensors["best"].astype(float)
        objective.restore(tensors)
        history = state["history"]

    if resume is not None and tuner == "random-search":
        best_seen = max(entry["objective"] for entry in history)
    total = budget.iterations + 1
    for iteration in range(len(history), total):
        started = time.perf_counter()
        rewards: list[float] = []
        if tuner == "random-search":
            if iteration == 0:
                best_seen = scorer.dev_accuracy(start, 0)
            else:
                # Draws like the policy's first ones, never moved: as many batches as a tuner scores.
                rng = np.random.default_rng([seed, iteration])
                _, units = GaussianPolicy(start, sigma).sample(rng, budget.pairs)
                extra = np.clip(start + sigma * rng.standard_normal(len(start)), 0, 1)
                for unit in (*units, extra):
                    rewards.append(scorer.dev_accuracy(unit, iteration))
                    if rewards[-1] > best_seen:
                        best_seen, best_unit = rewards[-1], unit.copy()
            unit, facts = best_unit, {"objective": best_seen, "dev_accuracy": best_seen}
        else:
            if iteration > 0:
                rng = np.random.default_rng([seed, iteration])
                eps, units = policy.sample(rng, budget.pairs)
                rewards = [objective.reward(unit, iteration)[0] for unit in units]
                update.step(policy, eps, np.asarray(rewards))
                objective.after_update(policy, units, iteration)
            unit = policy.mean
            _, facts = objective.reward(unit, iteration)
            if "dev_accuracy" not in facts:
                facts["dev_accuracy"] = scorer.dev_accuracy(unit, iteration) if real.labels is not None else None
            if isinstance(objective, AdversarialLoss):
                facts["task_model_dev_accuracy"] = objective.model_dev_accuracy()
        history.append({"iteration": iteration, "parameters": space.moved(unit), "unit": [float(u) for u in unit],
                        **facts, "candidate_rewards": [float(r) for r in rewards],
                        "seconds": round(time.perf_counter() - started, 3)})
        dev = history[-1]["dev_accuracy"]
        progress(len(history) / total, f"{tuner}: iteration {iteration} of {budget.iterations}"
                                       + (f", dev accuracy {dev:.3f}" if dev is not None else ""))
        if checkpoint is not None:
            checkpoint({"mean": policy.mean, "sigma": policy.sigma, "best": best_unit, **objective.tensors()},
                       {"tuner": tuner, "coordinates": [c.name for c in space.coordinates],
                        "history": history, "seed": seed})

    if tuner == "random-search" or not objective.select_best:
        chosen = len(history) - 1
    else:
        sign = 1.0 if tuner == "learning-to-simulate" else -1.0  # meta-sim's objective is an MMD
        chosen = max(range(len(history)), key=lambda i: sign * history[i]["objective"])
    unit = np.asarray(history[chosen]["unit"])
    return TuneResult(
        tuner=tuner, unit=[float(u) for u in unit], parameters=space.params(unit), moved=space.moved(unit),
        history=history, chosen_iteration=chosen,
        details={"budget": {**asdict(budget), "sigma": sigma}, "seed": seed, "space": space.describe(),
                 "start": space.distributions(start), "end": space.distributions(unit),
                 "task_model": ("square grey images: one 3x3 conv (32 maps), 2x2 max pool, linear head; "
                                "otherwise flattened pixels, one 128-unit ReLU layer (vadra's continual model "
                                "always); Adam 3e-3, batch 64"),
                 **objective.describe()},
    )
