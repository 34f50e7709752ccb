"""The digits renderer: exact 8x8 format, reproducibility, parameter errors, attribute effects."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from generators import registry
from generators.params import ParameterError, validate_params
from generators.render.digits import DIGITS_SPEC, render
from generators.render.digits.draws import draw
from generators.render.digits.geometry import elastic_waves
from generators.render.digits.grammar import ALLOGRAPHS
from generators.render.digits.raster import block_counts, rasterize, rasterize_block_counts
from generators.render.digits.renderer import SCHEMA, batch_size, grammar_for, layout, to_output
from generators.render.digits.schema import ATTRIBUTES
from generators.spec import no_progress


def constant(value: float) -> dict[str, Any]:
    return {"distribution": "constant", "value": value}


# Every attribute pinned, so a test can vary exactly one.
PLAIN: dict[str, Any] = {
    "mode": "image", "resolution": 32, "fit": "none", "stroke_width": "thickness",
    "thickness": constant(0.08), "slant": constant(0.0), "rotation": constant(0.0),
    "scale": constant(0.7), "width": constant(1.0), "translation": constant(0.0),
    "jitter": constant(0.0), "elastic": constant(0.0), "end_trim": constant(0.0),
    "end_taper": constant(0.0),
}


def plain(n: int = 200, **changes: Any) -> tuple[np.ndarray, np.ndarray]:
    return render({**PLAIN, "n": n, "seed": 7, **changes})


def ink(images: np.ndarray) -> float:
    return float(images.mean())


def column_centroid(images: np.ndarray, rows: slice) -> float:
    band = images[:, rows, :]
    return float((band * np.arange(images.shape[2])).sum() / band.sum())


def spread(images: np.ndarray, labels: np.ndarray) -> float:
    """Mean pixelwise standard deviation within each class: how much the shapes vary."""
    return float(np.mean([images[labels == digit].std(axis=0).mean() for digit in np.unique(labels)]))


def extent(images: np.ndarray, axis: int) -> float:
    """Mean number of rows (axis=1) or columns (axis=2) holding ink."""
    return float(images.any(axis=3 - axis).sum(axis=1).mean())


def test_8x8_values_are_the_block_counts_of_the_32x32_bitmap() -> None:
    counts, labels = render({"n": 300, "seed": 5})
    bitmaps, same_labels = render({"n": 300, "seed": 5, "mode": "image", "resolution": 32})
    assert counts.shape == (300, 8, 8) and counts.dtype == np.float64
    assert set(np.unique(bitmaps)) <= {0.0, 1.0}
    expected = np.zeros_like(counts)
    for i in range(8):
        for j in range(8):
            expected[:, i, j] = bitmaps[:, 4 * i : 4 * i + 4, 4 * j : 4 * j + 4].sum(axis=(1, 2))
    np.testing.assert_array_equal(counts, expected)
    np.testing.assert_array_equal(labels, same_labels)
    assert counts.min() >= 0 and counts.max() <= 16 and counts.max() == 16
    assert np.array_equal(counts, np.round(counts))


def random_discs(seed: int, lattice: bool, batch: int = 6, count: int = 15, low: float = -3, high: float = 23
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points (2, B, K), radii (B, K) and a valid mask; on a lattice (half pixels, radii in
    half pixels) many pixel centres lie exactly on a disc's edge."""
    rng = np.random.default_rng(seed)
    if lattice:
        points = (rng.integers(2 * low, 2 * high, (2, batch, count)) / 2).astype(np.float32)
        radius = (rng.integers(0, 9, (batch, count)) / 2).astype(np.float32)
    else:
        points = rng.uniform(low, high, (2, batch, count)).astype(np.float32)
        radius = rng.uniform(0.2, 4.0, (batch, count)).astype(np.float32)
    return points, radius, rng.random((batch, count)) < 0.7


def disc_union(points: np.ndarray, radius: np.ndarray, valid: np.ndarray, size: int) -> np.ndarray:
    """Every pixel centre tested against every disc, in float64."""
    ys, xs = np.mgrid[0:size, 0:size] + 0.5
    images = np.zeros((points.shape[1], size, size), bool)
    for b in range(points.shape[1]):
        x, y = points[0, b, valid[b]].astype(np.float64), points[1, b, valid[b]].astype(np.float64)
        r = radius[b, valid[b]].astype(np.float64)
        distance_sq = (xs[None] - x[:, None, None]) ** 2 + (ys[None] - y[:, None, None]) ** 2
        images[b] = (distance_sq <= r[:, None, None] ** 2).any(axis=0)
    return images


@pytest.mark.parametrize("lattice", [False, True])
def test_rasterizer_draws_exactly_the_pixels_within_the_radius_of_a_point(lattice: bool) -> None:
    points, radius, valid = random_discs(0, lattice)
    np.testing.assert_array_equal(rasterize(points, radius, valid, 20, 20), disc_union(points, radius, valid, 20))


@pytest.mark.parametrize("lattice", [False, True])
def test_8x8_rasterizer_counts_the_blocks_of_the_bitmaps(lattice: bool) -> None:
    points, radius, valid = random_discs(1, lattice, batch=40, count=30, low=-4, high=36)
    counts = rasterize_block_counts(points, radius, valid)
    assert counts.dtype == np.uint8 and counts.shape == (40, 8, 8)
    np.testing.assert_array_equal(counts, block_counts(disc_union(points, radius, valid, 32)))


@pytest.mark.parametrize("changes", [{}, {"mode": "image", "resolution": 24}])
def test_batched_renderer_equals_a_per_image_loop(changes: dict[str, Any]) -> None:
    """The benchmark's reference: each image laid out alone and drawn pixel by pixel."""
    params = validate_params(SCHEMA, {"n": 40, "seed": 3, **changes})
    images, labels = render(params)
    one_by_one = []
    draws = draw(params, grammar_for(params), 0, min(params["n"], batch_size(params)))  # one batch
    for i in range(params["n"]):
        one = layout(params, draws.subset(slice(i, i + 1)))
        one_by_one.append(to_output(params, disc_union(one.points, one.radius, one.valid, one.size))[0])
        assert one.labels[0] == labels[i]
    np.testing.assert_array_equal(images, np.stack(one_by_one))
    assert images.dtype == one_by_one[0].dtype


def test_draws_follow_the_stream_of_version_1_0() -> None:
    """Same seed and parameters, same bytes as digits 1.0 (syn-to-real depends on the defaults):
    every draw re-derived here the way 1.0 made it, one uniform and one normal per attribute in
    name order, allographs by cumulative weight."""
    params = validate_params(SCHEMA, {"n": 700, "seed": 9, "rotation": constant(3.0), "classes": [1, 4, 7, 9]})
    grammar = grammar_for(params)
    drawn = draw(params, grammar, 5, 700)

    rng = np.random.default_rng([9, 5])
    labels = np.array([1, 4, 7, 9])[rng.integers(0, 4, 700)]
    choice = rng.random(700)
    allograph = []
    for label, u in zip(labels, choice, strict=True):
        graphs = [i for i, graph in enumerate(ALLOGRAPHS) if graph.digit == label]
        cumulative = np.cumsum([ALLOGRAPHS[i].weight for i in graphs])
        allograph.append(graphs[min(int((cumulative <= u * cumulative[-1]).sum()), len(graphs) - 1)])

    def old_sample(name: str) -> np.ndarray:
        spec, bounds = params[name], SCHEMA["properties"][name]["properties"]["low"]
        unit, normal = rng.random(700), rng.standard_normal(700)
        if spec["distribution"] == "uniform":
            return (spec["low"] + (spec["high"] - spec["low"]) * unit).astype(np.float32)
        if spec["distribution"] == "normal":
            return np.clip(spec["mean"] + spec["std"] * normal, bounds["minimum"], bounds["maximum"]).astype(np.float32)
        return np.full(700, spec["value"], np.float32)

    attributes = {name: old_sample(name) for name in sorted(ATTRIBUTES)}
    np.testing.assert_array_equal(drawn.labels, labels)
    np.testing.assert_array_equal(drawn.allograph, allograph)
    for name, values in attributes.items():
        np.testing.assert_array_equal(drawn.attributes[name], values, err_msg=name)
    np.testing.assert_array_equal(drawn.trim_end, old_sample("end_trim"))
    np.testing.assert_array_equal(drawn.shift_y, old_sample("translation"))
    np.testing.assert_array_equal(drawn.noise, rng.standard_normal(drawn.noise.shape, dtype=np.float32))
    np.testing.assert_array_equal(drawn.waves, elastic_waves(rng, attributes["elastic"]))


def test_real_format_full_height_centred_and_about_30_percent_ink() -> None:
    counts, _ = render({"n": 1000, "seed": 2})
    rows_with_ink = counts.sum(axis=2) > 0
    assert rows_with_ink[:, 0].all() and rows_with_ink[:, -1].all()
    columns = counts.sum(axis=1)
    centre = (columns * (np.arange(8) + 0.5)).sum(axis=1) / columns.sum(axis=1)
    assert abs(float(np.median(centre)) - 4.0) < 0.5
    assert abs(counts.sum(axis=(1, 2)).mean() / 1024 - 0.305) < 0.02


def test_run_writes_byte_identical_files_for_the_same_seed(tmp_path) -> None:
    params = registry.validate("digits", {"n": 500, "seed": 11})
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        result = DIGITS_SPEC.run(params, tmp_path / name, no_progress)
    assert (tmp_path / "a" / "digits.npz").read_bytes() == (tmp_path / "b" / "digits.npz").read_bytes()
    with np.load(tmp_path / "a" / "digits.npz") as data:
        assert data["images"].shape == (500, 8, 8) and data["labels"].shape == (500,)
        assert result.summary["class_counts"] == np.bincount(data["labels"], minlength=10).tolist()
    assert result.samples == 500


def test_different_seeds_give_different_digits() -> None:
    first, _ = render({"n": 50, "seed": 1})
    second, _ = render({"n": 50, "seed": 2})
    assert not np.array_equal(first, second)


def test_worker_processes_do_not_change_the_output() -> None:
    params = {"n": 5000, "seed": 4}  # more than one batch
    single, single_labels = render(params)
    parallel, parallel_labels = render(params, workers=2)
    np.testing.assert_array_equal(single, parallel)
    np.testing.assert_array_equal(single_labels, parallel_labels)


def test_progress_reaches_one() -> None:
    seen: list[float] = []
    render({"n": 5000, "seed": 0}, lambda fraction, message: seen.append(fraction))
    assert len(seen) > 1 and seen == sorted(seen) and seen[-1] == 1.0


@pytest.mark.parametrize(("params", "field"), [
    ({"n": 0}, "n"),
    ({"mode": "16x16"}, "mode"),
    ({"resolution": 4}, "resolution"),
    ({"slant": {"low": 0.5, "high": 0.1}}, "slant.low"),
    ({"thickness": {"distribution": "normal", "std": -1}}, "thickness.std"),
    ({"rotation": {"value": 720}}, "rotation.value"),
    ({"jitter": {"spread": 1}}, "jitter.spread"),
    ({"classes": [3, 11]}, "classes.1"),
    ({"translation": {"distribution": "log_uniform"}}, "translation.distribution"),
    ({"allographs": {"7": {"weights": {"plain": 0}}}}, "allographs.7.weights"),
    ({"allographs": {"7": {"weights": {"hooked": 1}}}}, "allographs.7.weights.hooked"),
    ({"colour": "red"}, "colour"),
])
def test_invalid_parameters_name_the_parameter(params: dict[str, Any], field: str) -> None:
    with pytest.raises(ParameterError) as caught:
        registry.validate("digits", params)
    assert caught.value.field == field
    with pytest.raises(ParameterError):
        render(params)


def test_classes_restricts_the_labels() -> None:
    _, labels = render({"n": 300, "seed": 0, "classes": [3, 8]})
    assert set(labels.tolist()) == {3, 8}


def test_allograph_weights_choose_the_shapes() -> None:
    every, _ = plain(classes=[1])
    bars, _ = plain(classes=[1], allographs={"1": {"weights": {"bar": 1}}})
    assert len(np.unique(every.reshape(len(every), -1), axis=0)) >= 4  # all else is constant
    assert len(np.unique(bars.reshape(len(bars), -1), axis=0)) == 1


def test_any_resolution() -> None:
    images, _ = render({"n": 20, "seed": 0, "mode": "image", "resolution": 96})
    assert images.shape == (20, 96, 96) and images.dtype == np.float32
    assert 0.05 < ink(images) < 0.6


def test_thickness_raises_ink() -> None:
    assert ink(plain(thickness=constant(0.14))[0]) > 1.3 * ink(plain(thickness=constant(0.07))[0])


def test_ink_fraction_sets_ink() -> None:
    thin, _ = plain(stroke_width="ink_fraction", ink_fraction=constant(0.15))
    bold, _ = plain(stroke_width="ink_fraction", ink_fraction=constant(0.35))
    assert abs(ink(thin) - 0.15) < 0.03 and abs(ink(bold) - 0.35) < 0.05


def test_slant_leans_the_top_right() -> None:
    images, _ = plain(slant=constant(0.6))
    upright, _ = plain()
    lean = column_centroid(images, slice(0, 12)) - column_centroid(images, slice(20, 32))
    upright_lean = column_centroid(upright, slice(0, 12)) - column_centroid(upright, slice(20, 32))
    assert lean > upright_lean + 3


def test_rotation_turns_digits_on_their_side() -> None:
    turned, _ = plain(rotation=constant(90.0))
    upright, _ = plain()
    assert extent(turned, axis=2) > extent(upright, axis=2) + 4
    assert extent(turned, axis=1) < extent(upright, axis=1) - 4


def test_scale_grows_the_digit() -> None:
    assert extent(plain(scale=constant(0.9))[0], axis=1) > extent(plain(scale=constant(0.5))[0], axis=1) + 8


def test_width_stretches_horizontally() -> None:
    assert extent(plain(width=constant(1.6))[0], axis=2) > extent(plain(width=constant(0.8))[0], axis=2) + 4


def test_translation_moves_the_digit() -> None:
    moved, _ = plain(translation=constant(0.2))
    centred, _ = plain()
    shift = column_centroid(moved, slice(0, 32)) - column_centroid(centred, slice(0, 32))
    assert abs(shift - 0.2 * 32) < 1.5


@pytest.mark.parametrize("attribute", ["jitter", "elastic"])
def test_shape_noise_varies_the_shapes(attribute: str) -> None:
    noisy, labels = plain(n=400, **{attribute: constant(0.08)})
    clean, clean_labels = plain(n=400)
    assert spread(noisy, labels) > spread(clean, clean_labels) + 0.02


@pytest.mark.parametrize(("attribute", "value"), [("end_trim", 0.3), ("end_taper", 1.0)])
def test_stroke_ends_remove_ink(attribute: str, value: float) -> None:
    changed, _ = plain(classes=[1, 2, 7], **{attribute: constant(value)})
    unchanged, _ = plain(classes=[1, 2, 7])
    assert ink(changed) < 0.95 * ink(unchanged)
