"""Scene images against real images: the conversion is exact, utility is null with its reason,
and the image report's privacy metrics see copies through the conversion."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits

import evaluation
from evaluation.scenes import UTILITY_REASON, as_reference_images


def test_scene_images_become_block_means_of_their_grey_on_the_reference_range():
    rng = np.random.default_rng(0)
    scenes = rng.integers(0, 256, (5, 3, 16, 24), dtype=np.uint8)
    grey = scenes.astype(np.float64).mean(axis=1)
    by_hand = grey.reshape(5, 8, 2, 8, 3).mean(axis=(2, 4)) * (16 / 255)  # 2 x 3 blocks, 0..255 -> 0..16
    assert np.allclose(as_reference_images(scenes, (8, 8), 16.0), by_hand, atol=1e-5)
    one_band = rng.integers(0, 256, (2, 1, 8, 8), dtype=np.uint8)
    assert np.allclose(as_reference_images(one_band, (8, 8), 255.0), one_band[:, 0])
    bands = rng.integers(0, 256, (2, 5, 8, 8), dtype=np.uint8)  # multispectral: the first three bands
    assert np.allclose(as_reference_images(bands, (8, 8), 255.0), bands[:, :3].mean(axis=1), atol=1e-4)


def as_scenes(digits: np.ndarray) -> np.ndarray:
    """8x8 digits (0..16) as 3-band 16x16 uint8 scene images that convert back to them exactly."""
    pixels = np.round(digits * 255 / 16).astype(np.uint8)
    return np.repeat(np.repeat(pixels, 2, axis=1), 2, axis=2)[:, None].repeat(3, axis=1)


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    return data.images, data.target


def scene_report(digits, scenes: np.ndarray) -> dict:
    images, labels = digits
    return evaluation.build_scene_report(images[:300], labels[:300], images[300:600], labels[300:600], scenes,
                                         fidelity_rows=300, n_samples=4)


@pytest.fixture(scope="module")
def unseen(digits) -> dict:
    """Real images in neither real half, as scenes: an independent draw."""
    return scene_report(digits, as_scenes(digits[0][600:900]))


def test_a_scene_report_has_the_stable_keys_fidelity_and_privacy_and_no_utility(unseen):
    report = unseen
    assert {"schema", "summary", "utility", "fidelity", "privacy", "verdict"} <= set(report)
    assert report["schema"] == evaluation.SCHEMA and report["kind"] == "image"
    assert report["utility"]["ratio"] is None and report["utility"]["not_applicable"] == UTILITY_REASON
    assert report["fidelity"]["ks_complement"] is not None and report["fidelity"]["frechet"] is not None
    assert report["privacy"]["dcr_share"] is not None
    assert report["scene_images"]["images"] == 300
    assert "Not measured: detection and segmentation TSTR" in evaluation.render_html(report)


def test_copies_of_real_images_rendered_as_scenes_are_caught(digits, unseen):
    copies = scene_report(digits, as_scenes(digits[0][:300]))["privacy"]
    unseen = unseen["privacy"]
    # Real training images, scaled and tiled into scenes, convert back to their originals (up to
    # the rounding to 0..255), so each sits on a training image, closer to train than to the holdout.
    assert copies["dcr_share"] > 0.95 and abs(unseen["dcr_share"] - 0.5) < 0.1
    assert copies["dcr_synthetic_p05"] < unseen["dcr_synthetic_p05"] / 5
