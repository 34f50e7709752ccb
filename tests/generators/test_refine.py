"""Refiners: identity without the adversary, labels kept, shapes kept, no test index touched,
reproducible, resumable, bad input named, safetensors round trip (small budgets, CPU)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from generators.adapt import TargetProtocol
from generators.refine import METHODS, fit, load_refiner, method_schema, save_refiner
from generators.refine.methods import masked_pairwise_mse

TINY = {"epochs": 1, "steps_per_epoch": 2, "batch_size": 8, "width": 8, "blocks": 1}
CPU = torch.device("cpu")


def tiny(method: str, **extra: float) -> dict:
    return {**TINY, **({"classifier_steps": 2} if method == "cyclegan" else {}), **extra}


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


def test_simgan_without_its_adversary_converges_to_the_identity(source, pool) -> None:
    params = {**TINY, "epochs": 1, "steps_per_epoch": 120, "batch_size": 16, "learning_rate": 1e-2,
              "adversarial_weight": 0.0, "self_regularization": 1.0}
    images = source[0]
    untrained = fit("simgan", *source, pool, {**params, "steps_per_epoch": 1, "learning_rate": 1e-6},
                    device=CPU).refined.transform(images)
    refined = fit("simgan", *source, pool, params, device=CPU).refined.transform(images)
    start, end = np.abs(untrained - images).mean(), np.abs(refined - images).mean()
    assert start > 0.5  # a random refiner is far from the identity (0..16 pixel scale) ...
    assert end < 0.1 * start and end < 0.15  # ... and self-regularization alone pulls it there


@pytest.mark.parametrize("method", sorted(METHODS))
def test_refined_version_keeps_shape_and_labels_and_never_sees_the_test_half(method, source) -> None:
    real = TargetProtocol.digits()
    refined = fit(method, *source, real.pool(), tiny(method), device=CPU).refined
    images, labels = refined.refine(*source)
    assert images.shape == source[0].shape and images.dtype == np.float32
    assert np.array_equal(labels, source[1])
    assert images.min() >= 0 and images.max() <= 16
    assert real.training_indices() == set(real.dev.tolist())
    assert [purpose for purpose, _ in real.handed_out] == ["pool"]


def test_cyclegan_maps_both_ways_and_the_others_refuse_the_reverse(source, pool) -> None:
    assert fit("cyclegan", *source, pool, tiny("cyclegan"), device=CPU).refined.reverse_transform(pool).shape == pool.shape
    with pytest.raises(ValueError, match="reverse"):
        fit("simgan", *source, pool, TINY, device=CPU).refined.reverse_transform(pool)


@pytest.mark.parametrize("method", ["pixelda", "simgan"])
def test_same_seed_same_refiner_on_cpu(method, source, pool) -> None:
    outputs = [fit(method, *source, pool, TINY, seed=s, device=CPU).refined.transform(source[0]) for s in (2, 2, 3)]
    assert np.array_equal(outputs[0], outputs[1])
    assert not np.array_equal(outputs[0], outputs[2])


@pytest.mark.parametrize("method", ["simgan", "cyclegan"])
def test_resumed_refiner_equals_uninterrupted(method, source, pool, tmp_path) -> None:
    params = tiny(method, epochs=3)
    whole = fit(method, *source, pool, params, seed=4, device=CPU)

    class Killed(Exception):
        pass

    def die_after_second(fraction: float, message: str) -> None:
        if message.startswith("epoch 2/"):
            raise Killed

    with pytest.raises(Killed):
        fit(method, *source, pool, params, seed=4, device=CPU, checkpoint_dir=tmp_path, progress=die_after_second)
    resumed = fit(method, *source, pool, params, seed=4, device=CPU, checkpoint_dir=tmp_path)
    assert resumed.history == whole.history
    assert np.array_equal(resumed.refined.transform(source[0]), whole.refined.transform(source[0]))


def test_masked_pairwise_mse_by_hand() -> None:
    output = torch.tensor([[[[1.0, 2.0], [3.0, 9.0]]]])
    reference = torch.tensor([[[[0.0, 0.0], [1.0, 5.0]]]])
    mask = torch.tensor([[[[1.0, 1.0], [1.0, 0.0]]]])
    d = np.array([1.0, 2.0, 2.0])  # masked differences
    assert masked_pairwise_mse(output, reference, mask).item() == pytest.approx((d ** 2).mean() - d.mean() ** 2)
    shifted = reference + 0.7  # a constant shift of the content costs nothing
    assert masked_pairwise_mse(shifted, reference, torch.ones_like(mask)).item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"method": "stylegan"}, "method"),
    ({"source_labels": None}, "source_labels"),
    ({"target_pool": np.zeros((5, 16, 16))}, "target_pool"),
    ({"target_pool": None}, "target_pool"),
    ({"params": {"self_regularization": -1}}, "self_regularization"),
    ({"params": {"blocks": 0}}, "blocks"),
    ({"seed": -1}, "seed"),
])
def test_bad_parameters_raise_a_value_error_naming_them(kwargs, field, source, pool) -> None:
    arguments = {"method": "simgan", "source_images": source[0], "source_labels": source[1],
                 "target_pool": pool, "params": TINY, **kwargs}
    with pytest.raises(ValueError) as error:
        fit(device=CPU, **arguments)
    assert error.value.field == field


def test_every_refiner_declares_a_schema_with_defaults() -> None:
    for method in METHODS:
        assert all("default" in prop for prop in method_schema(method)["properties"].values())


@pytest.mark.parametrize("method", ["cyclegan", "pixelda"])
def test_refiner_round_trips_through_safetensors(method, source, pool, tmp_path) -> None:
    refined = fit(method, *source, pool, tiny(method), device=CPU).refined
    save_refiner(refined, tmp_path, lineage={"refined_from": "v1"})
    assert json.loads((tmp_path / "card.json").read_text())["lineage"] == {"refined_from": "v1"}
    loaded = load_refiner(tmp_path, device=CPU)
    assert np.array_equal(loaded.transform(source[0], seed=7), refined.transform(source[0], seed=7))
    assert (loaded.reverse is None) == (method != "cyclegan")
