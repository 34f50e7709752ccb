"""The code revision recorded in every version's lineage."""

import os
import subprocess
from functools import cache
from pathlib import Path


@cache
def code_revision() -> str:
    if revision := os.environ.get("SYNTHREG_REVISION"):
        return revision
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent,
            capture_output=True, text=True, timeout=5, check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
