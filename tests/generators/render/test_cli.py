"""``python -m generators.render`` end to end, in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from generators.render.digits import render


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "generators.render", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=120)


def test_digits_8x8_npz_in_load_digits_format(tmp_path: Path) -> None:
    done = run_cli("digits", "--n", "300", "--seed", "9", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with np.load(tmp_path / "out" / "digits.npz") as data:
        images, labels = data["images"], data["labels"]
    assert images.shape == (300, 8, 8) and labels.shape == (300,)
    assert images.min() >= 0 and images.max() <= 16
    expected_images, expected_labels = render({"n": 300, "seed": 9})
    np.testing.assert_array_equal(images, expected_images)
    np.testing.assert_array_equal(labels, expected_labels)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["samples"] == 300 and report["params"]["seed"] == 9
    assert "100%" in done.stderr  # the progress bar ran to the end
    assert [path.name for path in (tmp_path / "out").iterdir()] == ["digits.npz"]


def test_params_file_is_used(tmp_path: Path) -> None:
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"mode": "image", "resolution": 24, "n": 5}))
    done = run_cli("digits", "--n", "12", "--params", str(params), "--out", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with np.load(tmp_path / "out" / "digits.npz") as data:
        assert data["images"].shape == (12, 24, 24)


def test_unknown_generator_lists_the_known_ones(tmp_path: Path) -> None:
    done = run_cli("nosuch", "--out", "out", cwd=tmp_path)
    assert done.returncode == 2
    assert "nosuch" in done.stderr and "digits" in done.stderr
    assert not (tmp_path / "out").exists()


def test_bad_parameters_name_the_field(tmp_path: Path) -> None:
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"slant": {"low": 0.5, "high": 0.1}}))
    done = run_cli("digits", "--params", str(params), "--out", "out", cwd=tmp_path)
    assert done.returncode == 2 and "slant.low" in done.stderr
    done = run_cli("digits", "--n", "-3", "--out", "out", cwd=tmp_path)
    assert done.returncode == 2 and "'n'" in done.stderr


def test_unreadable_params_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{not json")
    done = run_cli("digits", "--params", "broken.json", "--out", "out", cwd=tmp_path)
    assert done.returncode == 2 and "broken.json" in done.stderr
