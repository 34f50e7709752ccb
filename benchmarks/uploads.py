"""Hostile uploads: how fast and how lean they are refused, side by side with reading them naively.

- ours: ``catalog.uploads.inspection.inspect`` on each case of ``tests/support/uploads.HOSTILE``
  (refused from headers and the first bytes of members); time and tracemalloc peak;
- naive: what an unchecked loader does first, reading every member of the archive in full with
  zipfile / tarfile (capped at ``--naive-cap`` bytes so the bombs end).

    python benchmarks/uploads.py [--naive-cap 1073741824]

The goal (issue 12): each refused in under a second with memory growth under 50 MB. The last
line printed is JSON with every figure.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tarfile
import time
import tracemalloc
import zipfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "platform")]

from catalog.uploads.errors import Limits, UploadRefused  # noqa: E402
from catalog.uploads.inspection import inspect  # noqa: E402
from tests.support.uploads import HOSTILE  # noqa: E402


def naive_read(data: bytes, filename: str, cap: int) -> int:
    """Every member read in full, as an unchecked loader would (stopping at ``cap`` bytes)."""
    total = 0
    try:
        if filename.endswith((".zip", ".npz", ".pt")):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for info in archive.infolist():
                    with archive.open(info) as fh:
                        while (chunk := fh.read(1 << 20)) and total < cap:
                            total += len(chunk)
        elif ".tar" in filename:
            with tarfile.open(fileobj=io.BytesIO(data)) as archive:
                for info in archive:
                    member = archive.extractfile(info) if info.isreg() else None
                    while member and (chunk := member.read(1 << 20)) and total < cap:
                        total += len(chunk)
        else:
            total = len(data)
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError, ValueError):
        pass
    return total


def refuse(data: bytes, filename: str, format: str) -> tuple[bool, float, float]:
    """(refused, wall seconds, CPU seconds) of checking one upload."""
    start, cpu = time.perf_counter(), time.process_time()
    try:
        inspect(io.BytesIO(data), filename, format, Limits())
        refused = False
    except UploadRefused:
        refused = True
    return refused, time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--naive-cap", type=int, default=2**30)
    args = parser.parse_args()
    rows = []
    for case, filename, format, make, _ in HOSTILE:
        data = make()
        runs = [refuse(data, filename, format) for _ in range(3)]  # timed without tracemalloc's overhead
        refused = all(run[0] for run in runs)
        ours, ours_cpu = min(run[1] for run in runs), min(run[2] for run in runs)
        tracemalloc.start()
        refuse(data, filename, format)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        start = time.perf_counter()
        read = naive_read(data, filename, args.naive_cap)
        naive = time.perf_counter() - start
        rows.append({"case": case, "bytes": len(data), "refused": refused, "ours_s": round(ours, 4),
                     "ours_cpu_s": round(ours_cpu, 4), "peak_mb": round(peak / 2**20, 2),
                     "naive_s": round(naive, 4), "naive_read_bytes": read,
                     "naive_over_ours": round(naive / ours, 2) if ours else None})
        print(f"{case:24} {len(data):>9,} B  ours {ours:7.3f} s (cpu {ours_cpu:6.3f}) peak {peak / 2**20:6.2f} MB"
              f"  naive {naive:7.3f} s reading {read:>14,} B  ratio {rows[-1]['naive_over_ours']}", flush=True)
    figures = {"cases": rows, "all_refused": all(r["refused"] for r in rows),
               "max_ours_s": max(r["ours_s"] for r in rows), "max_peak_mb": max(r["peak_mb"] for r in rows),
               "goal_under_1_s": all(r["ours_s"] < 1 for r in rows),
               "goal_under_50_mb": all(r["peak_mb"] < 50 for r in rows)}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
