"""The checks every registered metric must pass; plugin authors run them on their own metrics.

Like scikit-learn's ``estimator_checks``::

    from evaluation.checks import check_metric
    check_metric(my_metric)        # AssertionError naming the check that failed

or one at a time, on contexts of one's own data (``evaluation.report.tabular_context``,
``image_context``), e.g. a synthetic set made by one's own generator as the
independent draw:

* ``check_copy_vs_independent``: a synthetic exact copy of the training data
  scores worse than (at least not better than) an independent draw of the same
  distribution on a privacy metric, and at least as well on a fidelity one;
* ``check_determinism``: the same inputs and ``random_state`` give the same value;
* ``check_null_when_not_applicable``: None on a format the metric does not
  apply to, and for a utility metric on a table without a target; a value
  where it applies.

A metric that cannot meet a check declares it, with the reason, in
``Metric.exempt``; ``check_metric`` then skips that check (``metric_checks``
lists the reason), never silently.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from evaluation.metrics import Context, Metric

# Small real data shipped with scikit-learn (no download), split into disjoint draws.
TABLE_ROWS = 59  # train, holdout and the independent draw: 3 x 59 of wine's 178 rows
IMAGE_ROWS = 150
# A declared privacy budget, so that epsilon has a value where it applies.
OPTIONS = {"tabular": {"seeds": (0,), "n_attacks": TABLE_ROWS, "fidelity_rows": TABLE_ROWS, "epsilon": 1.0},
           "image": {"seeds": (0,), "fidelity_rows": IMAGE_ROWS}}


def _numbers(value: Any) -> list[float]:
    """The numbers a value holds: itself, a risk's ``value``, or each part of a dict (e.g. ``mia_auc``)."""
    if isinstance(value, dict):
        return _numbers(value["value"]) if "value" in value else [x for v in value.values() for x in _numbers(v)]
    return [] if value is None else [float(value)]


def badness(metric: Metric, value: float) -> float:
    """How far from best ``value`` is, in the metric's declared direction (larger: worse)."""
    if metric.direction == "higher":
        return -value
    if metric.direction == "lower":
        return value
    return abs(value - float(metric.direction.split()[1]))


def check_copy_vs_independent(metric: Metric, copy: Context, independent: Context) -> None:
    """Privacy: a copy of the training data is no better than an independent draw; fidelity: no worse."""
    if metric.section not in ("privacy", "fidelity"):
        return
    got_copy, got_independent = _numbers(metric.value(copy)), _numbers(metric.value(independent))
    assert len(got_copy) == len(got_independent) > 0, (
        f"{metric.name}: no comparable values for a copy ({got_copy}) and an independent draw ({got_independent})")
    for c, i in zip(got_copy, got_independent, strict=True):
        b_copy, b_independent = badness(metric, c), badness(metric, i)
        if metric.section == "privacy":
            assert b_copy >= b_independent, (
                f"{metric.name} ({metric.direction} is better) scores a copy of the training data {c:.4g}, "
                f"better than an independent draw ({i:.4g}): it would pass a leak")
        else:
            assert b_copy <= b_independent, (
                f"{metric.name} ({metric.direction} is better) scores a copy of the training data {c:.4g}, "
                f"worse than an independent draw ({i:.4g})")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def check_determinism(metric: Metric, first: Context, second: Context) -> None:
    """Two contexts of the same inputs and random_state (computed apart) give the same value."""
    a, b = metric.value(first), metric.value(second)
    assert _same(a, b), f"{metric.name} gives {a!r} and then {b!r} on the same inputs and random_state"


def check_null_when_not_applicable(metric: Metric, contexts: dict[str, Context], no_target: Context) -> None:
    """None where the metric does not apply (another format; utility without a target), a value where it does.

    ``contexts`` maps each format to a context of it.
    """
    for kind, ctx in contexts.items():
        value = metric.value(ctx)
        if kind in metric.formats:
            assert _numbers(value), f"{metric.name} applies to {kind} data but gives no value ({value!r})"
        else:
            assert value is None, f"{metric.name} does not apply to {kind} data but gives {value!r}"
    if metric.section == "utility" and "tabular" in metric.formats:
        value = metric.value(no_target)
        assert value is None, f"utility metric {metric.name} gives {value!r} for a table without a target"


# --- the reference data ------------------------------------------------------------


def _wine() -> pd.DataFrame:
    from sklearn.datasets import load_wine

    data = load_wine(as_frame=True).frame
    data["target"] = "class " + data["target"].astype(str)  # a categorical column, so every metric applies
    return data.sample(frac=1.0, random_state=0).reset_index(drop=True)


def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.default_rng(0).permutation(len(digits.images))
    return digits.images[order], digits.target[order]


@cache
def reference_contexts(kind: str) -> dict[str, Context]:
    """Contexts on small real data: "copy" (synthetic = the training data), "independent" (a disjoint real
    draw) and "again" (the same inputs as "independent", computed apart); for tables also "no_target".
    Their stages are computed on first use and kept (one set per process)."""
    from evaluation.report import image_context, tabular_context

    if kind == "tabular":
        data, n = _wine(), TABLE_ROWS
        train, holdout, other = data[:n], data[n : 2 * n].reset_index(drop=True), data[2 * n : 3 * n]

        def make(synthetic: pd.DataFrame, target: str | None = "target") -> Context:
            return tabular_context(train, holdout, synthetic.reset_index(drop=True), target=target,
                                   **OPTIONS["tabular"])

        return {"copy": make(train.copy()), "independent": make(other), "again": make(other),
                "no_target": make(other, target=None)}
    images, labels = _digits()
    n = IMAGE_ROWS
    sets = [(images[i * n : (i + 1) * n], labels[i * n : (i + 1) * n]) for i in range(3)]

    def make_images(synthetic: tuple[np.ndarray, np.ndarray]) -> Context:
        return image_context(*sets[0], *sets[1], *synthetic, **OPTIONS["image"])

    return {"copy": make_images(sets[0]), "independent": make_images(sets[2]), "again": make_images(sets[2])}


def metric_checks(metric: Metric) -> list[tuple[str, Callable[[], None] | str]]:
    """Each check of the suite on the reference data: ``(name, run)``, or ``(name, reason)`` where the
    metric declares it cannot meet it."""
    def on_formats(check: Callable[[Metric, Context, Context], None], first: str, second: str) -> Callable[[], None]:
        def run() -> None:
            for kind in metric.formats:
                contexts = reference_contexts(kind)
                check(metric, contexts[first], contexts[second])
        return run

    def null() -> None:
        tables = reference_contexts("tabular")
        contexts = {"tabular": tables["independent"], "image": reference_contexts("image")["independent"]}
        check_null_when_not_applicable(metric, contexts, tables["no_target"])

    runs = {"copy_vs_independent": on_formats(check_copy_vs_independent, "copy", "independent"),
            "determinism": on_formats(check_determinism, "independent", "again"),
            "null_when_not_applicable": null}
    return [(name, metric.exempt.get(name, run)) for name, run in runs.items()]


def check_metric(metric: Metric) -> list[str]:
    """Run every check on the reference data; raises AssertionError on a failure. Returns the checks
    skipped, each with the reason the metric declares."""
    skipped = []
    for name, run in metric_checks(metric):
        if isinstance(run, str):
            skipped.append(f"{name}: {run}")
        else:
            run()
    return skipped
