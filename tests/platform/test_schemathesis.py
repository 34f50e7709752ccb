"""Schemathesis against the running API: every default check, every phase, ends with 0 failures.

A live server (this test database: PostgreSQL in scripts/test, which runs it once) with
real data: the seeded reference datasets and generators, a public synthetic version with an
evaluation, and a job. Schemathesis logs in with an API token, so POST routes run too.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from catalog.models import Dataset, Evaluation
from jobs import service
from tests.platform.test_evaluate_job import noise_table, publish_table

CONFIG = Path(__file__).with_name("schemathesis.toml")
EXAMPLES_PER_OPERATION = 10


@pytest.fixture
def fuzz_world(transactional_db, redis_broker, django_user_model):
    call_command("seed", verbosity=0)
    user = django_user_model.objects.create_user("fuzzer", password="fuzzer-pass-123")
    dataset = Dataset.objects.create(slug="fuzz-table", title="Fuzz table", modality="tabular", kind="synthetic",
                                     access="public", owner=user, reference=Dataset.objects.get(slug="wine"))
    version = publish_table(dataset, noise_table(), "v1")
    Evaluation.objects.create(version=version, reference=Dataset.objects.get(slug="wine").latest_ready_version(),
                              results={"scores": {}}, report_files={"html": f"{version.storage_prefix}/data.parquet"})
    service.submit(user, "generate", {"generator": "digits", "params": {"n": 10}})
    return Token.objects.create(user=user).key


@pytest.mark.slow
def test_schemathesis_finds_no_failure(live_server, fuzz_world, tmp_path):
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run",
        f"{live_server.url}/api/schema/", "--header", f"Authorization: Token {fuzz_world}",
        "--max-examples", str(EXAMPLES_PER_OPERATION), "--seed", "1", "--workers", "1", "--no-color",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path,
                            env={**os.environ, "SCHEMATHESIS_TELEMETRY": "false"})
    output = result.stdout + result.stderr
    (tmp_path / "schemathesis.txt").write_text(output)
    assert result.returncode == 0, output[-15000:]
    tested = re.search(r"Tested: (\d+)", output)
    assert tested and int(tested.group(1)) >= 19, output[-3000:]  # every operation, none skipped
