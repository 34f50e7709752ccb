"""Project layout guards, migrations and the system checks."""

import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from jobs.checks import check_timeouts

REPO = Path(__file__).resolve().parents[2]


def test_platform_is_a_plain_folder_not_a_package():
    assert (REPO / "platform").is_dir()
    assert not (REPO / "platform" / "__init__.py").exists()
    import platform

    assert platform.system()  # still the standard library's module


def test_manage_py_works_from_another_directory(tmp_path):
    result = subprocess.run([sys.executable, str(REPO / "manage.py"), "check"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_libraries_do_not_import_django():
    code = "import sys, generators.registry, evaluation; assert 'django' not in sys.modules, 'django imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd="/", timeout=120)


def test_import_contracts_are_kept():
    """The layers and the Django-free libraries (pyproject.toml [tool.importlinter])."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=REPO, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.django_db
def test_no_missing_migrations():
    call_command("makemigrations", "--check", "--dry-run", stdout=io.StringIO())


def test_timeouts_in_the_right_order_pass():
    assert check_timeouts(None) == []


@override_settings(CELERY_TASK_TIME_LIMIT=100, SYNTHREG_JOB_MAX_SECONDS=200)
def test_task_time_limit_below_the_longest_job_is_an_error():
    assert [e.id for e in check_timeouts(None)] == ["jobs.E001"]


@override_settings(CELERY_TASK_TIME_LIMIT=1000, SYNTHREG_JOB_MAX_SECONDS=100,
                   CELERY_BROKER_TRANSPORT_OPTIONS={"visibility_timeout": 500})
def test_visibility_timeout_below_the_task_time_limit_is_an_error():
    assert [e.id for e in check_timeouts(None)] == ["jobs.E002"]


def test_the_openapi_schema_generates_and_validates_without_warnings(tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO / "manage.py"), "spectacular", "--validate", "--fail-on-warn",
         "--file", str(tmp_path / "schema.yml")], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    schema = (tmp_path / "schema.yml").read_text()
    assert "/api/jobs/{id}/cancel/:" in schema and "PaginatedLeaderboardEntryList" not in schema
