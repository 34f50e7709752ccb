"""Downloads through gunicorn against reading the same files from disk, and dataset-list latency.

In one run, on a private PostgreSQL database (created and dropped here) and var folder:
- publishes a version of ``--gb`` GB (files of random bytes) and a small one of 1/8 the size;
- serves them with gunicorn (sync workers) on loopback and downloads with curl, discarding the
  bytes: every file through ``/files/`` (sendfile), then the whole version as ``archive.zip``
  (laid out from its index, computed once and timed apart; data read in 4 MB chunks); the
  baseline reads the same files from disk in 1 MB chunks in this process, just before (both
  from the page cache: the files were just written, so neither pays for the device); a second
  reference is the transport's ceiling: a bare loopback server doing nothing but one
  ``os.sendfile`` per file, downloaded by the same curl;
- why the transfer is slower than the read, beside them (the ratios keep the baseline above):
  the CPU time per MB of the read, of curl and of the server (bare and gunicorn's workers); the
  bare server read by a receiver with 4 MB buffers instead of curl; and, as root, a cold read
  of the same files from the device (page cache dropped first), which is what a download of a
  version not read lately pays;
- the server's peak resident memory (VmHWM of its workers) after the small archive and after
  the large one: it should not grow with the version's size;
- lists datasets (``/api/datasets/``, 50 a page, a token user) with 10,000 datasets in the
  database while a second process on loopback keeps ``--load-clients`` more requests in
  flight, and reports p50 and p95 of the latency.

Prints the figures side by side, the ratios, and JSON on the last line.

    python benchmarks/downloads.py [--gb 1.0] [--datasets 10000] [--requests 300] [--load-clients 4]
        [--postgres postgres://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHUNK = 1 << 20
FILE_BYTES = 128 << 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def create_database(admin_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def build_catalog(total_bytes: int, datasets: int) -> dict[str, Any]:
    """Migrate, then a token user, the two versions and ``datasets`` public datasets."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from catalog.models import Dataset
    from catalog.publish import publish_version

    user = get_user_model().objects.create_user("bench")
    token = Token.objects.create(user=user).key

    def version_of(slug: str, size: int):
        dataset = Dataset.objects.create(slug=slug, title=slug, modality="tabular", kind="synthetic",
                                         access="private", owner=user)
        staging = Path(tempfile.mkdtemp())
        block = os.urandom(CHUNK)
        for index in range(-(-size // FILE_BYTES)):
            with open(staging / f"part-{index:03d}.bin", "wb") as fh:
                for _ in range(min(FILE_BYTES, size - index * FILE_BYTES) // CHUNK):
                    fh.write(block[:8] + os.urandom(8) + block[16:])  # no two chunks alike
        return publish_version(dataset=dataset, staging=staging, key=slug, claim=lambda: None, samples=1)

    large, small = version_of("large", total_bytes), version_of("small", total_bytes // 8)
    rng = random.Random(0)
    Dataset.objects.bulk_create(
        Dataset(slug=f"ds-{i:05d}", title=f"Dataset {i}", modality=rng.choice(["image", "scene", "tabular"]),
                kind="synthetic", access=rng.choice(["public", "private"]), owner=user, tags=["bench"],
                card="A benchmark dataset.")
        for i in range(datasets))
    from catalog.storage import dataset_storage

    return {"token": token, **{name: {"pk": v.pk, "folder": dataset_storage().path(v.storage_prefix),
                                      "files": v.manifest["files"]} for name, v in (("large", large), ("small", small))}}


def drop_page_cache() -> bool:
    """Drops the page cache (root only), for the cold read; False where it cannot."""
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("1\n")
    except OSError:
        return False
    return True


def children_cpu_s() -> float:
    """CPU seconds of the waited-for children (the curls; gunicorn is waited for only at the end)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def workers_cpu_s(master_pid: int) -> float:
    """CPU seconds the gunicorn workers have used so far."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    ticks = sum(int(field) for pid in children
                for field in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[11:13])
    return ticks / os.sysconf("SC_CLK_TCK")


def read_from_disk(folder: Path, files: list[dict]) -> float:
    """Seconds to read every file in 1 MB chunks."""
    started = time.perf_counter()
    for entry in files:
        with open(folder / entry["path"], "rb", buffering=0) as fh:
            while fh.read(CHUNK):
                pass
    return time.perf_counter() - started


def bare_sendfile_server(folder: Path, cpu: list[float]) -> tuple[socket.socket, str]:
    """The transport's ceiling: a bare loopback server that answers ``GET /<file>`` with one
    ``os.sendfile`` and nothing else (no HTTP parsing beyond the path, no framework). Adds the
    CPU seconds it spends on each answer to ``cpu``."""
    import threading

    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            started = time.thread_time()
            with conn:
                path = conn.recv(65536).split(b" ", 2)[1].decode().lstrip("/")
                with open(folder / path, "rb") as fh:
                    size = os.fstat(fh.fileno()).st_size
                    conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n".encode())
                    sent = 0
                    while sent < size:
                        sent += os.sendfile(conn.fileno(), fh.fileno(), sent, size - sent)
            cpu.append(time.thread_time() - started)

    threading.Thread(target=serve, daemon=True).start()
    return listener, f"http://127.0.0.1:{listener.getsockname()[1]}"


def curl(url: str, token: str) -> tuple[float, int]:
    """(seconds, bytes) of one download, discarded."""
    out = subprocess.run(["curl", "-sS", "-f", "-o", "/dev/null", "-H", f"Authorization: Token {token}",
                          "-w", "%{time_total} %{size_download}", url], capture_output=True, text=True, check=True)
    seconds, size = out.stdout.split()
    return float(seconds), int(size)


def receive(base: str, path: str, buffer: int = 4 << 20) -> float:
    """Seconds to download one file with ``buffer``-sized receives and socket buffer, discarded
    (what curl's smaller reads cost, beside it)."""
    host, port = base.removeprefix("http://").split(":")
    started = time.perf_counter()
    with socket.create_connection((host, int(port))) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer)
        sock.sendall(f"GET /{path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        view = memoryview(bytearray(buffer))
        while sock.recv_into(view):
            pass
    return time.perf_counter() - started


def peak_rss_mb(master_pid: int) -> float:
    """The largest VmHWM of the gunicorn workers (children of the master)."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    peaks = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return max(peaks)


def load(url: str, token: str, clients: int, stop_at: float) -> None:
    """The second process: ``clients`` threads listing pages of datasets until ``stop_at``."""
    from concurrent.futures import ThreadPoolExecutor

    def hammer(seed: int) -> None:
        rng = random.Random(seed)
        while time.time() < stop_at:
            offset = rng.randrange(0, 5000)
            request = urllib.request.Request(f"{url}?limit=50&offset={offset}",
                                             headers={"Authorization": f"Token {token}"})
            with urllib.request.urlopen(request) as response:
                response.read()

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(hammer, range(clients)))


def list_latencies(url: str, token: str, count: int) -> list[float]:
    latencies, rng = [], random.Random(1)
    for _ in range(count):
        request = urllib.request.Request(f"{url}?limit=50&offset={rng.randrange(0, 5000)}",
                                         headers={"Authorization": f"Token {token}"})
        started = time.perf_counter()
        with urllib.request.urlopen(request) as response:
            response.read()
        latencies.append(time.perf_counter() - started)
    return latencies


def wait_until_up(url: str, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer {url}")


def warm_up(base: str, token: str, small: dict, workers: int) -> None:
    """Every worker imports its views on its first requests (seconds): done before any timing."""
    from concurrent.futures import ThreadPoolExecutor

    urls = [f"{base}/api/versions/{small['pk']}/files/{small['files'][0]['path']}",
            f"{base}/api/versions/{small['pk']}/archive.zip", f"{base}/api/datasets/"]
    with ThreadPoolExecutor(2 * workers) as pool:
        list(pool.map(lambda url: curl(url, token), urls * 2 * workers))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=1.0, help="size of the large version, in GiB")
    parser.add_argument("--datasets", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300, help="timed list requests")
    parser.add_argument("--load-clients", type=int, default=4, help="concurrent requests of the second process")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL",
                                                             "postgres://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="synthreg-downloads-"))
    name = f"bench_downloads_{os.getpid()}"
    env = {**os.environ, "SYNTHREG_VAR_DIR": str(folder / "var"),
           "DATABASE_URL": create_database(args.postgres, name),
           "DJANGO_SETTINGS_MODULE": "synthreg.settings",
           "SYNTHREG_THROTTLE_USER": "1000000/minute", "SYNTHREG_THROTTLE_ANON": "1000000/minute",
           "LOG_LEVEL": "WARNING"}
    os.environ.update(env)
    server = None
    try:
        catalog = build_catalog(int(args.gb * (1 << 30)), args.datasets)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([str(BIN / "gunicorn"), "synthreg.wsgi", "-b", f"127.0.0.1:{port}",
                                   "-w", str(args.workers), "--timeout", "600", "--log-level", "warning"],
                                  env=env, cwd=folder, start_new_session=True)
        wait_until_up(f"{base}/healthz")
        token, large, small = catalog["token"], catalog["large"], catalog["small"]
        warm_up(base, token, small, args.workers)
        total = sum(f["size"] for f in large["files"])

        # From the device first (as root), which also reads them into the page cache, where the
        # server will find them; then the baseline, from the page cache.
        cold_s = read_from_disk(Path(large["folder"]), large["files"]) if drop_page_cache() else None
        read_from_disk(Path(large["folder"]), large["files"])
        cpu_before = time.process_time()
        disk_s = read_from_disk(Path(large["folder"]), large["files"])
        cpu = {"disk_read": time.process_time() - cpu_before}
        bare_cpu: list[float] = []
        bare, bare_base = bare_sendfile_server(Path(large["folder"]), bare_cpu)
        cpu_before = children_cpu_s()
        bare_s = sum(curl(f"{bare_base}/{f['path']}", token)[0] for f in large["files"])
        cpu |= {"curl_from_bare_server": children_cpu_s() - cpu_before, "bare_server": sum(bare_cpu)}
        receiver_s = sum(receive(bare_base, f["path"]) for f in large["files"])
        bare.close()
        cpu_before, workers_before = children_cpu_s(), workers_cpu_s(server.pid)
        file_s = sum(curl(f"{base}/api/versions/{large['pk']}/files/{f['path']}", token)[0] for f in large["files"])
        cpu |= {"curl_from_gunicorn": children_cpu_s() - cpu_before,
                "gunicorn_workers": workers_cpu_s(server.pid) - workers_before}
        curl(f"{base}/api/versions/{small['pk']}/archive.zip", token)
        rss_small = peak_rss_mb(server.pid)
        # The archive's index (member CRCs, digest) is computed once per version; a job's worker does
        # it on publishing. This version was published directly, so its first request pays: timed apart.
        started = time.perf_counter()
        subprocess.run(["curl", "-sS", "-f", "-I", "-o", "/dev/null", "-H", f"Authorization: Token {token}",
                        f"{base}/api/versions/{large['pk']}/archive.zip"], check=True)
        index_s = time.perf_counter() - started
        archive_s, archive_bytes = curl(f"{base}/api/versions/{large['pk']}/archive.zip", token)
        rss_large = peak_rss_mb(server.pid)

        stop_at = time.time() + 3600
        loader = multiprocessing.get_context("spawn").Process(
            target=load, args=(f"{base}/api/datasets/", token, args.load_clients, stop_at), daemon=True)
        loader.start()
        time.sleep(2)  # the load is running
        latencies = list_latencies(f"{base}/api/datasets/", token, args.requests)
        loader.terminate()
        loader.join()
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(30)
        drop_database(args.postgres, name)
        shutil.rmtree(folder, ignore_errors=True)

    mb = 1 << 20
    cuts = statistics.quantiles(latencies, n=100)
    figures = {
        "version_bytes": total,
        "disk_read_MBps": round(total / mb / disk_s),
        "file_download_MBps": round(total / mb / file_s),
        "archive_download_MBps": round(archive_bytes / mb / archive_s),
        "ratio_file_to_disk": round(disk_s / file_s, 3),
        "ratio_archive_to_disk": round((archive_bytes / archive_s) / (total / disk_s), 3),
        "bare_sendfile_MBps": round(total / mb / bare_s),
        "ratio_file_to_bare_sendfile": round(bare_s / file_s, 3),
        "ratio_archive_to_bare_sendfile": round((archive_bytes / archive_s) / (total / bare_s), 3),
        "cold_disk_read_MBps": round(total / mb / cold_s) if cold_s else None,
        "ratio_file_to_cold_disk": round(cold_s / file_s, 3) if cold_s else None,
        "ratio_archive_to_cold_disk": round((archive_bytes / archive_s) / (total / cold_s), 3) if cold_s else None,
        "bare_sendfile_4MB_receiver_MBps": round(total / mb / receiver_s),
        "cpu_ms_per_MB": {name: round(1000 * seconds / (total / mb), 3) for name, seconds in cpu.items()},
        "archive_index_first_request_s": round(index_s, 2),
        "server_peak_rss_MB_small_version": round(rss_small, 1),
        "server_peak_rss_MB_large_version": round(rss_large, 1),
        "server_rss_growth_MB": round(rss_large - rss_small, 1),
        "datasets": args.datasets,
        "list_requests": len(latencies),
        "list_load_clients": args.load_clients,
        "list_p50_ms": round(1000 * cuts[49], 1),
        "list_p95_ms": round(1000 * cuts[94], 1),
    }
    print(f"{'':28}{'through gunicorn':>18}{'from disk':>12}{'ratio':>8}{'bare sendfile':>15}{'ratio':>8}")
    print(f"{'files (MB/s)':28}{figures['file_download_MBps']:>18}{figures['disk_read_MBps']:>12}"
          f"{figures['ratio_file_to_disk']:>8}{figures['bare_sendfile_MBps']:>15}"
          f"{figures['ratio_file_to_bare_sendfile']:>8}")
    print(f"{'archive.zip (MB/s)':28}{figures['archive_download_MBps']:>18}{figures['disk_read_MBps']:>12}"
          f"{figures['ratio_archive_to_disk']:>8}{figures['bare_sendfile_MBps']:>15}"
          f"{figures['ratio_archive_to_bare_sendfile']:>8}")
    if cold_s:
        print(f"from the device (page cache dropped): {figures['cold_disk_read_MBps']} MB/s; files "
              f"{figures['ratio_file_to_cold_disk']}, archive {figures['ratio_archive_to_cold_disk']} of it")
    print(f"bare sendfile server read with 4 MB receives instead of curl: {figures['bare_sendfile_4MB_receiver_MBps']} MB/s")
    print("CPU ms per MB: " + ", ".join(f"{name} {value}" for name, value in figures["cpu_ms_per_MB"].items()))
    print(f"archive index (CRCs and digest, once per version): {figures['archive_index_first_request_s']} s "
          "on its first request")
    print(f"server peak RSS: {figures['server_peak_rss_MB_small_version']} MB after a {total // 8 // mb} MB "
          f"archive, {figures['server_peak_rss_MB_large_version']} MB after {total // mb} MB")
    print(f"dataset list ({args.datasets} datasets, {args.load_clients} concurrent clients): "
          f"p50 {figures['list_p50_ms']} ms, p95 {figures['list_p95_ms']} ms")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
