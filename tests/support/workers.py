"""Starting real `celery worker` processes for job tests and the soak benchmark."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


class WorkerDidNotStart(RuntimeError):
    pass


def launch_worker(env: dict[str, str], log: Path, name: str, concurrency: int = 1,
                  cwd: Path | None = None, timeout: float = 60) -> subprocess.Popen:
    """Start a worker on the cpu and gpu queues and return once it says it is ready.

    It runs in its own process group, so one ``os.killpg`` kills it with its pool processes.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "synthreg", "worker", "-Q", "cpu,gpu",
         "-c", str(concurrency), "-n", f"{name}@%h", "--without-gossip", "--without-mingle",
         "--loglevel", "INFO"],
        env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True,
    )
    process.log = log
    deadline = time.monotonic() + timeout
    while " ready." not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            kill_group(process)
            raise WorkerDidNotStart(f"worker {name} did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    return process


def stop_worker(process: subprocess.Popen, timeout: float = 20) -> None:
    """Warm shutdown (running tasks finish); the whole group is killed if it takes too long."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process)


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the worker and its pool processes at once (they share its process group).

    Only while the worker is not yet reaped: until then its pid cannot name another group.
    """
    if process.returncode is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
