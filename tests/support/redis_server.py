"""A private redis-server on a free port, without persistence, that can be killed and restarted.

Test sessions start one each (so two runs on one machine never share broker state), the
Redis-restart tests and the soak benchmark kill and restart theirs.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis


class RedisServerError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """``start()`` picks a free port (another on a clash); ``restart()`` keeps it, empty."""

    def __init__(self, folder: Path) -> None:
        self.dir = folder
        self.port: int | None = None
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, attempts: int = 5) -> None:
        for _ in range(attempts):
            if self.port is None:
                self.port = free_port()
            if self._launch():
                return
            self.port = None  # taken between our probe and redis-server's bind: another one
        raise RedisServerError(f"redis-server did not start (log: {self.dir / 'redis.log'})")

    def restart(self) -> None:
        """Kill the server (SIGKILL: nothing saved) and start an empty one on the same port."""
        self.kill()
        if not self._launch():
            raise RedisServerError(f"redis-server did not come back on port {self.port}")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def _launch(self) -> bool:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisServerError("redis-server is not installed; scripts/test installs it (apt-get install redis-server)")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir), "--logfile", str(self.dir / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                return False
            try:
                if client.ping() and client.config_get("dir")["dir"] == str(self.dir.resolve()):
                    return True
            except redis.ConnectionError:
                pass
            time.sleep(0.05)
        self.kill()
        return False
