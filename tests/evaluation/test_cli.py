"""``python -m evaluation`` on good and bad files."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from evaluation.cli import main

from .conftest import population


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evaluation", *args], capture_output=True, text=True, timeout=300)


def run_in_process(capsys, args: list[str]) -> tuple[int, str]:
    """The same entry point without a new interpreter (bad input stops before any work)."""
    code = main(args)
    return code, capsys.readouterr().err


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    paths = {name: root / f"{name}.{ext}" for name, ext in
             (("train", "csv"), ("holdout", "parquet"), ("synthetic", "csv"))}
    population(200, seed=1).to_csv(paths["train"], index=False)
    population(200, seed=2).to_parquet(paths["holdout"])
    population(200, seed=3).to_csv(paths["synthetic"], index=False)
    paths["root"] = root
    return paths


def args_for(files, holdout=None, **override) -> list[str]:
    values = {"real-train": files["train"], "real-holdout": holdout or files["holdout"],
              "synthetic": files["synthetic"], "target": "label",
              "out": files["root"] / "report.json"} | override
    return [part for key, value in values.items() for part in (f"--{key}", str(value))]


def test_writes_json_html_and_pdf(files):
    out = files["root"]
    result = run(*args_for(files), "--html", str(out / "r.html"), "--pdf", str(out / "r.pdf"),
                 "--threshold", "dcr_share=0.6", "--seeds", "1", "--no-progress")
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["schema"] == "synthreg.report/1" and report["thresholds"]["dcr_share"] == 0.6
    assert "<svg" in (out / "r.html").read_text()
    assert (out / "r.pdf").read_bytes().startswith(b"%PDF")
    assert "privacy gate" in result.stdout


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda root: population(50, 3).drop(columns="b").to_csv(root / "bad.csv", index=False),
         "synthetic does not match real_train's schema: missing column(s) ['b']"),
        (lambda root: population(50, 3).assign(extra=1).to_csv(root / "bad.csv", index=False),
         "unexpected column(s) ['extra']"),
        (lambda root: (root / "bad.csv").write_text(""), "is empty"),
        (lambda root: (root / "bad.csv").write_text("a,b,c,count,group,label\n"), "has no rows"),
        (lambda root: (root / "bad.csv").write_bytes(b'"\x00\xff"unterminated'), "could not be read"),
        (lambda root: None, "no such file"),
    ],
)
def test_bad_synthetic_file_exits_nonzero_with_a_clear_message(files, make, expected, capsys):
    bad = files["root"] / "bad.csv"
    bad.unlink(missing_ok=True)
    make(files["root"])
    code, err = run_in_process(capsys, args_for(files, synthetic=bad))
    assert code == 2 and expected in err


def test_missing_target_and_unknown_format(files, capsys):
    code, err = run_in_process(capsys, args_for(files, target="nope"))
    assert code == 2 and "target column 'nope'" in err
    code, err = run_in_process(capsys, args_for(files, synthetic=files["root"] / "x.xlsx"))
    assert code == 2 and "unknown format '.xlsx'" in err


def test_process_exit_status_on_bad_input(files):
    result = run(*args_for(files, holdout=files["root"] / "missing.parquet"))
    assert result.returncode == 2
    assert "real-holdout file" in result.stderr and "Traceback" not in result.stderr
