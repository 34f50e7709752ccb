"""Utility: train on synthetic, test on real (TSTR) beside train on real (TRTR).

Both train sets are scored on the same fixed real test set (the real holdout),
with several model families over several seeds. The headline per side is the
mean of the per-family means; its ``std`` is the root mean per-family seed
variance (how much a rerun moves it), so family differences are not mixed into
it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import f1_score, r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

TABULAR_MODELS = ("linear", "gbm", "mlp")
IMAGE_MODELS = ("linear", "cnn")
METRIC = {"classification": "f1_macro", "regression": "r2"}


def infer_task(target: pd.Series, max_classes: int = 20) -> str:
    """Classification for non-numeric targets and integers with few values, else regression."""
    if not pd.api.types.is_numeric_dtype(target) or pd.api.types.is_bool_dtype(target):
        return "classification"
    if pd.api.types.is_integer_dtype(target) and target.nunique() <= max_classes:
        return "classification"
    return "regression"


def _torch_fit_predict(
    net: torch.nn.Module, x: np.ndarray, y: np.ndarray, x_test: np.ndarray, task: str,
    seed: int, steps: int = 300, batch: int = 128,
) -> np.ndarray:
    gen = torch.Generator().manual_seed(seed)
    xt = torch.from_numpy(x).float()
    yt = torch.from_numpy(y).long() if task == "classification" else torch.from_numpy(y).float()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    loss_fn = torch.nn.CrossEntropyLoss() if task == "classification" else torch.nn.MSELoss()
    net.train()
    for _ in range(steps):
        idx = torch.randint(len(xt), (min(batch, len(xt)),), generator=gen)
        opt.zero_grad()
        out = net(xt[idx])
        loss = loss_fn(out if task == "classification" else out.squeeze(1), yt[idx])
        loss.backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        out = net(torch.from_numpy(x_test).float())
    return out.argmax(1).numpy() if task == "classification" else out.squeeze(1).numpy()


def _mlp(n_in: int, n_out: int) -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Linear(n_in, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, n_out),
    )


def _cnn(shape: tuple[int, int], n_out: int) -> torch.nn.Module:
    h, w = shape
    return torch.nn.Sequential(
        torch.nn.Unflatten(1, (1, h, w)),
        torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(32 * (h // 2) * (w // 2), n_out),
    )


def _fit_predict(
    family: str, task: str, x: np.ndarray, y: np.ndarray, x_test: np.ndarray, n_classes: int,
    seed: int, image_shape: tuple[int, int] | None,
) -> np.ndarray:
    if task == "classification" and len(np.unique(y)) < 2:
        return np.full(len(x_test), y[0])  # one class in the train set: nothing to learn
    if family in ("mlp", "cnn"):
        torch.manual_seed(seed)
        n_out = n_classes if task == "classification" else 1
        net = _mlp(x.shape[1], n_out) if family == "mlp" else _cnn(image_shape, n_out)
        if task == "classification":
            return _torch_fit_predict(net, x, y, x_test, task, seed)
        mu, sd = y.mean(), y.std() or 1.0
        return _torch_fit_predict(net, x, (y - mu) / sd, x_test, task, seed) * sd + mu
    if family == "linear":
        est = LogisticRegression(max_iter=1000) if task == "classification" else Ridge()
        model = make_pipeline(StandardScaler(), est)
    elif family == "gbm":
        cls = HistGradientBoostingClassifier if task == "classification" else HistGradientBoostingRegressor
        model = cls(max_iter=100, random_state=seed)
    else:
        raise ValueError(f"unknown model family {family!r}")
    return model.fit(x, y).predict(x_test)


def _score(task: str, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    if task == "classification":
        return float(f1_score(y_true, y_pred, average="macro"))
    return float(r2_score(y_true, y_pred))


def _summary(runs: dict[str, list[float]]) -> dict:
    by_model = {m: {"mean": float(np.mean(v)), "std": float(np.std(v))} for m, v in runs.items()}
    return {
        "mean": float(np.mean([b["mean"] for b in by_model.values()])),
        "std": float(np.sqrt(np.mean([b["std"] ** 2 for b in by_model.values()]))),
        "by_model": by_model,
    }


def tstr_trtr(
    x_real: np.ndarray, y_real: np.ndarray, x_syn: np.ndarray, y_syn: np.ndarray,
    x_test: np.ndarray, y_test: np.ndarray, *, task: str,
    models: Sequence[str] = TABULAR_MODELS, seeds: Sequence[int] = (0, 1, 2),
    image_shape: tuple[int, int] | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> dict:
    """TSTR and TRTR per model family and seed, and their ratio.

    Classification labels may be any values; they are coded over the union of
    the three label sets so every side speaks the same classes.
    """
    if task == "classification":
        classes, codes = np.unique(
            np.r_[y_real, y_syn, y_test].astype(str), return_inverse=True
        )
        n_classes = len(classes)
        y_real, y_syn, y_test = np.split(codes, [len(y_real), len(y_real) + len(y_syn)])
    else:
        n_classes = 0
        y_real, y_syn, y_test = (np.asarray(v, dtype=np.float64) for v in (y_real, y_syn, y_test))
    sides = {"tstr": (x_syn, y_syn), "trtr": (x_real, y_real)}
    runs = {side: {m: [] for m in models} for side in sides}
    total, done = len(sides) * len(models) * len(seeds), 0
    for side, (x, y) in sides.items():
        for family in models:
            for seed in seeds:
                pred = _fit_predict(family, task, x, y, x_test, n_classes, seed, image_shape)
                runs[side][family].append(_score(task, y_test, pred))
                done += 1
                if progress:
                    progress(done / total, f"{side} {family} seed {seed}")
    tstr, trtr = _summary(runs["tstr"]), _summary(runs["trtr"])
    return {
        "task": task,
        "metric": METRIC[task],
        "tstr": tstr,
        "trtr": trtr,
        "ratio": tstr["mean"] / trtr["mean"] if trtr["mean"] > 0 else None,
        "models": list(models),
        "seeds": list(seeds),
    }
