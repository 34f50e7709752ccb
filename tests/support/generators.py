"""A controllable generator for job-machinery tests: slow steps, and an optional worker crash.

Registered in the test process with ``registry.temporarily_registered`` and in worker
processes through the ``SYNTHREG_GENERATORS`` setting; the format it writes, ``LINES``,
likewise (``SYNTHREG_FORMATS``).
"""

import os
import signal
import time
from pathlib import Path

from contracts.formats import FileSpec, Format
from generators.spec import Estimate, GenerateResult, GeneratorSpec

LINES = Format(
    name="test-lines/1", title="Lines of text", modality="tabular", description="For job tests only.",
    files=(FileSpec("samples.txt", "one line per step"),
           FileSpec("backgrounds.txt", "what backgrounds arrived", required=False)),
)

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "n": {"type": "integer", "minimum": 1, "default": 20},
        "seed": {"type": "integer", "default": 0},
        "step_seconds": {"type": "number", "minimum": 0, "default": 0.05},
        # Kill the worker process after this many steps, on every attempt (-1: never).
        "crash_after": {"type": "integer", "default": -1},
        # Raise an error at the first step (a job that fails cleanly).
        "fail": {"type": "boolean", "default": False},
    },
}


def run(params, out_dir: Path, progress, backgrounds=None) -> GenerateResult:
    if backgrounds is not None:  # record what arrived, for the input-wiring tests
        (out_dir / "backgrounds.txt").write_text(f"{backgrounds.shape} {int(backgrounds.sum())}")
    with open(out_dir / "samples.txt", "w") as fh:
        for step in range(params["n"]):
            if params["fail"]:
                raise RuntimeError("asked to fail")
            if step == params["crash_after"]:
                os.kill(os.getpid(), signal.SIGKILL)
            fh.write(f"{params['seed']}:{step}\n")
            fh.flush()
            time.sleep(params["step_seconds"])
            progress((step + 1) / params["n"], f"step {step + 1} of {params['n']}")
    return GenerateResult(samples=params["n"])


def estimate(params) -> Estimate:
    """samples.txt holds one "seed:step" line per sample; the longest line bounds them all."""
    line = len(f"{params['seed']}:{params['n'] - 1}\n")
    return Estimate(output_bytes=params["n"] * line, samples=params["n"], cost=params["n"])


SLOW_SPEC = GeneratorSpec(
    slug="test-slow", title="Slow test generator", kind="renderer", modality="tabular",
    version="1", description="For job tests only.", schema=SCHEMA, run=run, estimate=estimate,
    format=LINES.name, inputs=("backgrounds",),
)


def run_mismatched(params, out_dir: Path, progress, backgrounds=None) -> GenerateResult:
    """Labelled images whose labels are one short: files that break the format the spec declares."""
    import numpy as np

    n = params["n"]
    np.savez(out_dir / "digits.npz", images=np.zeros((n, 8, 8)), labels=np.zeros(n - 1, np.int64))
    progress(1.0, "written")
    return GenerateResult(samples=n)


MISMATCHED_SPEC = GeneratorSpec(
    slug="test-mismatched", title="Mismatched test generator", kind="renderer", modality="image",
    version="1", description="For format tests only: writes images/1 files that do not match it.",
    schema={"type": "object", "additionalProperties": False, "properties": {
        "n": {"type": "integer", "minimum": 2, "default": 5}, "seed": {"type": "integer", "default": 0}}},
    run=run_mismatched, estimate=lambda params: Estimate(output_bytes=600 * params["n"], samples=params["n"],
                                                         cost=params["n"]),
    format="images/1", inputs=("backgrounds",),
)
