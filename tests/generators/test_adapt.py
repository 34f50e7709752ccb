"""Domain adaptation library: gradient reversal, the DSN difference loss, the protocol's index
audit, reproducibility, resume, bad input and model files (small budgets, CPU)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from generators.adapt import (
    METHODS,
    TargetProtocol,
    fit,
    gap_closed,
    load_model,
    method_schema,
    save_model,
)
from generators.adapt.augment import strong, warp
from generators.adapt.losses import (
    align_distribution,
    coral_loss,
    dann_ramp,
    difference_loss,
    reverse_gradient,
)
from generators.adapt.protocol import dev_test_split, small_cnn
from generators.params import ParameterError

TINY = {"epochs": 2, "steps_per_epoch": 3, "batch_size": 8}
CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny networks run fastest on one thread, above all on a shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def source() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.integers(0, 17, (40, 8, 8)).astype(np.float64), rng.integers(0, 10, 40)


@pytest.fixture(scope="module")
def pool() -> np.ndarray:
    return np.random.default_rng(1).integers(0, 17, (30, 8, 8)).astype(np.float64)


def test_gradient_reversal_flips_and_scales_the_gradient_of_a_toy_graph() -> None:
    x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    (reverse_gradient(x ** 2, 0.3).sin().sum()).backward()
    reversed_grad = x.grad.clone()
    x.grad = None
    ((x ** 2).sin().sum()).backward()  # the same graph without the layer, by autograd
    assert torch.allclose(reversed_grad, -0.3 * x.grad)
    assert torch.allclose(-0.3 * x.grad, -0.3 * torch.cos(x.detach() ** 2) * 2 * x.detach())  # by hand
    assert torch.equal(reverse_gradient(x, 0.3), x)  # identity forward


def test_dann_ramp_is_the_usual_schedule() -> None:
    assert dann_ramp(0.0) == 0.0
    assert dann_ramp(0.5) == pytest.approx(2 / (1 + np.exp(-5)) - 1)
    assert dann_ramp(1.0) == pytest.approx(0.99990920, abs=1e-8)


def test_difference_loss_is_zero_for_orthogonal_codes_and_positive_otherwise() -> None:
    basis, _ = torch.linalg.qr(torch.randn(16, 16, generator=torch.Generator().manual_seed(0)))
    shared, private = basis[:, :5] * 3, basis[:, 5:12]  # columns orthogonal over the batch
    assert difference_loss(shared, private).item() == pytest.approx(0.0, abs=1e-10)
    other = private + 0.1 * shared[:, :1]
    expected = ((shared.T @ other / 16) ** 2).sum()  # closed form: ||S^T P||_F^2 / n^2
    assert difference_loss(shared, other).item() == pytest.approx(expected.item())
    assert difference_loss(shared, other).item() > 0


def test_coral_loss_matches_numpy_covariances() -> None:
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(20, 4, generator=generator), torch.randn(30, 4, generator=generator) * 2
    by_numpy = ((np.cov(a.numpy().T) - np.cov(b.numpy().T)) ** 2).sum() / (4 * 16)
    assert coral_loss(a, b).item() == pytest.approx(by_numpy, rel=1e-5)


def test_split_is_the_syn2real_halves_and_gap_closed() -> None:
    dev, test = dev_test_split(1797)
    assert len(dev) == 898 and len(test) == 899 and not set(dev) & set(test)
    assert set(dev) | set(test) == set(range(1797))
    assert gap_closed(0.98, 0.95, 0.99) == pytest.approx(0.75)
    assert gap_closed(0.9, 0.95, 0.95) is None


@pytest.mark.parametrize("method", sorted(set(METHODS) - {"target_only"}))
def test_no_method_touches_the_test_half(method: str, source: tuple[np.ndarray, np.ndarray]) -> None:
    real = TargetProtocol.digits()
    pool = real.pool()  # the only real data a method receives: dev images, no labels
    result = fit(method, *source, pool, TINY, seed=0, device=CPU)
    accuracy = real.evaluate(result.model.predict)
    assert 0.0 <= accuracy <= 1.0
    assert real.training_indices() == set(real.dev.tolist())
    assert not real.training_indices() & set(real.test.tolist())
    assert [purpose for purpose, _ in real.handed_out] == ["pool", "evaluate"]
    assert result.model.card["data"]["target_labels_used"] is False
    assert len(result.snapshots) == TINY["epochs"]


def test_the_oracle_alone_takes_target_labels(source: tuple[np.ndarray, np.ndarray], pool: np.ndarray) -> None:
    labels = np.arange(len(pool)) % 10
    result = fit("target_only", None, None, pool, TINY, target_labels=labels, device=CPU)
    assert result.model.card["data"]["target_labels_used"] is True
    with pytest.raises(ParameterError, match="target_labels"):
        fit("dann", *source, pool, TINY, target_labels=labels, device=CPU)


@pytest.mark.parametrize("method", ["dann", "self_training"])
def test_same_seed_same_model_on_cpu(method: str, source: tuple[np.ndarray, np.ndarray],
                                     pool: np.ndarray) -> None:
    first, second, other = (fit(method, *source, pool, TINY, seed=s, device=CPU) for s in (3, 3, 4))
    weights = [m.model.network.state_dict() for m in (first, second, other)]
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    assert first.history == second.history
    assert not all(torch.equal(weights[0][k], weights[2][k]) for k in weights[0])


@pytest.mark.parametrize("method", ["dsn", "self_training"])
def test_resumed_run_equals_uninterrupted(method: str, source: tuple[np.ndarray, np.ndarray],
                                          pool: np.ndarray, tmp_path) -> None:
    params = {**TINY, "epochs": 3}
    whole = fit(method, *source, pool, params, seed=1, device=CPU)
    # A run killed after epoch 1: its checkpoint directory is what an epochs=1 run leaves behind,
    # except that it was started with epochs=3; emulate the kill by interrupting the callback.
    class Killed(Exception):
        pass

    def die_after_first(fraction: float, message: str) -> None:
        if message.startswith("epoch 1/"):
            raise Killed

    with pytest.raises(Killed):
        fit(method, *source, pool, params, seed=1, device=CPU, checkpoint_dir=tmp_path, progress=die_after_first)
    assert json.loads((tmp_path / "checkpoint.json").read_text())["epoch"] == 1
    messages: list[str] = []
    resumed = fit(method, *source, pool, params, seed=1, device=CPU, checkpoint_dir=tmp_path,
                  progress=lambda fraction, message: messages.append(message))
    assert [m.split(":")[0] for m in messages] == ["epoch 2/3", "epoch 3/3"]  # epoch 1 not redone
    assert resumed.history == whole.history
    a, b = whole.model.network.state_dict(), resumed.model.network.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert all(torch.equal(x[k], y[k]) for x, y in zip(whole.snapshots, resumed.snapshots, strict=True) for k in x)


def test_a_checkpoint_of_another_run_is_refused(source, pool, tmp_path) -> None:
    fit("coral", *source, pool, TINY, seed=1, device=CPU, checkpoint_dir=tmp_path)
    with pytest.raises(ValueError, match="checkpoint_dir"):
        fit("coral", *source, pool, TINY, seed=2, device=CPU, checkpoint_dir=tmp_path)


def test_progress_reports_fraction_epoch_and_losses(source, pool) -> None:
    seen: list[tuple[float, str]] = []
    fit("dann", *source, pool, TINY, device=CPU, progress=lambda f, m: seen.append((f, m)))
    assert [f for f, _ in seen] == [0.5, 1.0]
    assert "epoch 1/2" in seen[0][1] and "loss_domain" in seen[0][1] and "loss_class" in seen[0][1]


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"method": "nope"}, "method"),
    ({"source_labels": None}, "source_labels"),
    ({"source_labels": np.zeros(3, dtype=int)}, "source_labels"),
    ({"source_labels": np.full(40, 12)}, "source_labels"),
    ({"target_pool": np.zeros((5, 12, 12))}, "target_pool"),
    ({"target_pool": None}, "target_pool"),
    ({"source_images": np.zeros((40, 8))}, "source_images"),
    ({"params": {"epochs": 0}}, "epochs"),
    ({"params": {"domain_weight": -1}}, "domain_weight"),
    ({"params": {"warp": 1}}, "warp"),
    ({"selection": "test_accuracy"}, "selection"),
])
def test_bad_parameters_raise_a_value_error_naming_them(kwargs, field, source, pool) -> None:
    arguments = {"method": "dann", "source_images": source[0], "source_labels": source[1],
                 "target_pool": pool, "params": TINY, **kwargs}
    with pytest.raises(ValueError) as error:
        fit(device=CPU, **arguments)
    assert error.value.field == field


def test_every_method_declares_a_schema_with_defaults_and_bounds() -> None:
    for method in METHODS:
        schema = method_schema(method)
        for name, prop in schema["properties"].items():
            assert "default" in prop, (method, name)
            if prop.get("type") in ("number", "integer"):
                assert prop["minimum"] <= prop["default"] <= prop["maximum"], (method, name)


def test_model_round_trips_through_safetensors_and_a_card(source, pool, tmp_path) -> None:
    result = fit("coral", *source, pool, TINY, device=CPU)
    save_model(result.model, tmp_path, protocol={"split_seed": 20240}, results={"test": 0.5})
    card = json.loads((tmp_path / "card.json").read_text())
    assert card["method"] == "coral" and card["results"] == {"test": 0.5} and card["side"] == 8
    assert set(load_file(str(tmp_path / "model.safetensors"))) == set(small_cnn(8).state_dict())
    loaded = load_model(tmp_path, device=CPU)
    images = np.random.default_rng(5).integers(0, 17, (20, 8, 8))
    assert np.array_equal(loaded.predict(images), result.model.predict(images))
    assert torch.equal(loaded.logits(images), result.model.logits(images))


def test_other_resolutions_train(pool) -> None:
    rng = np.random.default_rng(0)
    images = rng.random((16, 16, 16))
    result = fit("dann", images, rng.integers(0, 10, 16), rng.random((12, 16, 16)), TINY,
                 value_max=1.0, device=CPU)
    assert result.model.predict(images).shape == (16,)


def test_distribution_alignment_matches_the_formula_by_hand() -> None:
    probabilities = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    running = torch.tensor([0.5, 0.3, 0.2])
    aligned = align_distribution(probabilities, running)
    by_hand = np.array([[0.7 / 0.5, 0.2 / 0.3, 0.1 / 0.2], [0.1 / 0.5, 0.1 / 0.3, 0.8 / 0.2]])
    by_hand /= by_hand.sum(1, keepdims=True)  # the uniform prior cancels out in the normalisation
    assert np.allclose(aligned.numpy(), by_hand, atol=1e-6)
    # A model whose mean prediction is already the prior is left as it was.
    assert torch.allclose(align_distribution(probabilities, torch.full((3,), 1 / 3)), probabilities)
    prior = torch.tensor([0.2, 0.2, 0.6])
    assert torch.allclose(align_distribution(probabilities, prior, prior), probabilities)


def test_warp_with_zero_spreads_is_the_identity() -> None:
    images = torch.rand(3, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    still = {"rotation_deg": 0, "scale": 0, "shear": 0, "shift": 0, "elastic": 0}
    assert torch.allclose(warp(images, torch.Generator(), **still), images, atol=1e-6)
    # Zero spreads draw the identity map, whatever the generator: each parameter scales its draw.
    sheared = warp(images, torch.Generator().manual_seed(2), **{**still, "shear": 1e-9})
    assert torch.allclose(sheared, images, atol=1e-5)


def test_strong_view_cuts_out_a_square_and_stays_in_range() -> None:
    images = torch.ones(4, 1, 8, 8)
    view = strong(images, torch.Generator().manual_seed(1))
    assert view.shape == images.shape and float(view.min()) >= 0.0 and float(view.max()) <= 1.0
    assert all(int((v == 0).sum()) >= 4 for v in view)  # at least the 2×2 cut-out is black
