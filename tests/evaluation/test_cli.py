"""``python -m evaluation`` on good and bad files."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from evaluation.cli import main, parser

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


def test_writes_json_html_and_pdf_and_exits_3_when_too_small_to_tell(files):
    out = files["root"]
    result = run(*args_for(files), "--html", str(out / "r.html"), "--pdf", str(out / "r.pdf"),
                 "--threshold", "dcr_share=0.6", "--seeds", "1", "--attacks", "100", "--no-progress")
    report = json.loads((out / "report.json").read_text())
    assert report["verdict"]["privacy_gate"] == "inconclusive"  # 200 rows per side
    assert result.returncode == 3, result.stderr
    assert report["schema"] == "synthreg.report/1" and report["thresholds"]["dcr_share"] == 0.6
    assert "<svg" in (out / "r.html").read_text()
    assert (out / "r.pdf").read_bytes().startswith(b"%PDF")
    assert "privacy gate inconclusive" in result.stdout


@pytest.mark.parametrize(("rows", "synthetic_seed", "gate", "code"), [(150, None, "fail", 1), (700, 3, "pass", 0)])
def test_exit_status_says_the_gate(tmp_path, capsys, rows, synthetic_seed, gate, code):
    train = population(rows, seed=1)
    population(rows, seed=2).to_csv(tmp_path / "holdout.csv", index=False)
    train.to_csv(tmp_path / "train.csv", index=False)
    synthetic = train if synthetic_seed is None else population(rows, seed=synthetic_seed)
    synthetic.to_csv(tmp_path / "synthetic.csv", index=False)
    out = tmp_path / "report.json"
    assert main(["--real-train", str(tmp_path / "train.csv"), "--real-holdout", str(tmp_path / "holdout.csv"),
                 "--synthetic", str(tmp_path / "synthetic.csv"), "--target", "label", "--out", str(out),
                 "--seeds", "1", "--attacks", "300", "--no-progress"]) == code
    assert json.loads(out.read_text())["verdict"]["privacy_gate"] == gate
    assert f"privacy gate {gate}" in capsys.readouterr().out


def test_exit_statuses_are_documented():
    from evaluation import cli

    text = parser().format_help()
    for gate, code in cli.EXIT_CODES.items():
        assert f"{code} gate {gate}" in text and f"{code} report written" in cli.__doc__
    assert "2 bad input" in text and "2 bad" in cli.__doc__


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
        (lambda root: population(50, 3).assign(b=[float("inf")] + [1.0] * 49).to_csv(root / "bad.csv", index=False),
         "synthetic column 'b' holds infinite values"),
        (lambda root: population(50, 3).assign(a=[f"r{i}" for i in range(50)]).to_csv(root / "bad.csv", index=False),
         "column 'a' is numeric in real_train but categorical in synthetic"),
    ],
)
def test_bad_synthetic_file_exits_nonzero_with_a_clear_message(files, make, expected, capsys):
    bad = files["root"] / "bad.csv"
    bad.unlink(missing_ok=True)
    make(files["root"])
    code, err = run_in_process(capsys, args_for(files, synthetic=bad))
    assert code == 2 and expected in err and err.count("\n") == 1


def test_missing_target_and_unknown_format(files, capsys):
    code, err = run_in_process(capsys, args_for(files, target="nope"))
    assert code == 2 and "target column 'nope'" in err
    code, err = run_in_process(capsys, args_for(files, synthetic=files["root"] / "x.xlsx"))
    assert code == 2 and "unknown format '.xlsx'" in err


def test_process_exit_status_on_bad_input(files):
    inf = files["root"] / "inf.csv"
    population(50, 4).assign(c=float("-inf")).to_csv(inf, index=False)
    result = run(*args_for(files, synthetic=inf))
    assert result.returncode == 2 and result.stderr.strip().count("\n") == 0
    assert "synthetic column 'c' holds infinite values" in result.stderr and "Traceback" not in result.stderr
