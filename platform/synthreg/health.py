"""``/healthz``: can this process reach its database, its broker and its dataset storage?

For load balancers and orchestrators: no login, no secrets (each failure names the check and the
error's type, never a URL, host or message), 200 when all pass and 503 naming what failed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from synthreg.celery import app

BROKER_TIMEOUT_SECONDS = 3


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker() -> None:
    with app.connection_for_write(connect_timeout=BROKER_TIMEOUT_SECONDS) as broker:
        broker.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT_SECONDS)


def check_storage() -> None:
    """Write, read back and delete a probe: a full or read-only volume fails here."""
    storage = storages["datasets"]
    name = storage.save(f".healthz/{uuid.uuid4().hex}", ContentFile(b"ok"))
    try:
        with storage.open(name, "rb") as probe:
            if probe.read() != b"ok":
                raise OSError("the probe read back differently")
    finally:
        storage.delete(name)


CHECKS: dict[str, Callable[[], None]] = {"database": check_database, "broker": check_broker,
                                         "storage": check_storage}


@never_cache
@require_GET
def healthz(request) -> JsonResponse:
    results, failing = {}, []
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # any failure is this check's answer, not a 500
            results[name] = {"ok": False, "error": type(exc).__name__}
            failing.append(name)
        else:
            results[name] = {"ok": True}
        results[name]["seconds"] = round(time.perf_counter() - started, 4)
    body = {"status": "ok" if not failing else "failing", "failing": failing, "checks": results}
    return JsonResponse(body, status=503 if failing else 200)
