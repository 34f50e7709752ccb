"""TSTR vs TRTR: equal when the synthetic data is the real data, low when its labels are noise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.utility import infer_task, tstr_trtr


@pytest.fixture
def classification():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(900, 5))
    y = np.where(x[:, 0] + 0.5 * x[:, 1] > 0, "pos", "neg")
    return x[:400], y[:400], x[400:], y[400:]


def test_tstr_equals_trtr_when_synthetic_is_the_training_data(classification):
    x, y, x_test, y_test = classification
    out = tstr_trtr(x, y, x.copy(), y.copy(), x_test, y_test, task="classification", seeds=(0, 1))
    assert out["ratio"] == pytest.approx(1.0)
    assert out["tstr"]["by_model"] == out["trtr"]["by_model"]
    assert out["trtr"]["mean"] > 0.85 and out["metric"] == "f1_macro"
    assert set(out["tstr"]["by_model"]) == {"linear", "gbm", "mlp"}


def test_tstr_collapses_on_shuffled_labels(classification):
    x, y, x_test, y_test = classification
    shuffled = np.random.default_rng(1).permutation(y)
    out = tstr_trtr(x, y, x, shuffled, x_test, y_test, task="classification", seeds=(0,))
    assert out["ratio"] < 0.75


def test_regression_uses_r2_and_single_class_synthetic_is_handled(classification):
    x, _, x_test, _ = classification
    y, y_test = x[:, 0] * 2 + 1, x_test[:, 0] * 2 + 1
    out = tstr_trtr(x, y, x, y, x_test, y_test, task="regression", models=("linear",), seeds=(0,))
    assert out["metric"] == "r2" and out["tstr"]["mean"] == pytest.approx(1.0, abs=1e-3)
    _, labels, _, test_labels = classification
    one_class = tstr_trtr(x, labels, x, np.full(len(x), "pos"), x_test, test_labels,
                          task="classification", models=("linear",), seeds=(0,))
    assert one_class["tstr"]["mean"] < one_class["trtr"]["mean"]


def test_cnn_learns_images():
    rng = np.random.default_rng(0)
    images = rng.normal(0, 0.3, size=(600, 8, 8))
    labels = rng.integers(0, 2, 600)
    images[labels == 1, 2:6, 2:6] += 1.0  # a bright square marks class 1
    flat = images.reshape(600, -1)
    out = tstr_trtr(flat[:400], labels[:400], flat[:400], labels[:400], flat[400:], labels[400:],
                    task="classification", models=("cnn",), seeds=(0,), image_shape=(8, 8))
    assert out["tstr"]["mean"] > 0.9


def test_infer_task():
    assert infer_task(pd.Series(["a", "b"])) == "classification"
    assert infer_task(pd.Series([0, 1, 2, 1])) == "classification"
    assert infer_task(pd.Series(np.linspace(0, 1, 50))) == "regression"
