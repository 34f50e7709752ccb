"""Project layout guards, migrations and the system checks."""

import copy
import dataclasses
import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from catalog.checks import check_generator_specs
from generators import registry
from generators.params import Bounds, ParameterError, Uniform
from generators.spec import Estimate, GenerateResult, GeneratorSpec
from jobs.checks import check_job_types, check_timeouts, job_type_errors
from jobs.types import get_job_type

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


def test_manage_py_check_is_clean_on_the_real_registry():
    assert registry.all_specs() and check_generator_specs(None) == []
    assert check_job_types(None) == []


def sound_spec(**changes) -> GeneratorSpec:
    """A small spec that keeps the contract; each test below breaks one part of it."""
    schema = {
        "type": "object", "additionalProperties": False,
        "properties": {
            "n": {"type": "integer", "minimum": 1, "default": 4},
            "seed": {"type": "integer", "minimum": 0, "default": 0},
            "noise": Uniform(bounds=Bounds(0.0, 1.0), low=0.2, high=0.4).schema("Pixel noise."),
        },
    }
    spec = GeneratorSpec(
        slug="check-probe", title="Check probe", kind="renderer", modality="image", version="1",
        description="Registered by a test.", schema=schema,
        run=lambda params, out, progress: GenerateResult(samples=params["n"]),
        estimate=lambda params: Estimate(output_bytes=100 * params["n"], samples=params["n"], cost=params["n"]),
        format="images/1",
    )
    return dataclasses.replace(spec, **changes)


def broken_schema(change) -> dict:
    schema = copy.deepcopy(sound_spec().schema)
    change(schema)
    return schema


def refuse_four(params: dict) -> None:
    if params["n"] == 4:
        raise ParameterError("n", "must not be 4")


def probe_check_ids(spec: GeneratorSpec) -> list[str]:
    with registry.temporarily_registered(spec):
        return [error.id for error in check_generator_specs(None) if error.obj == spec.slug]


def test_a_sound_spec_passes_every_check():
    assert probe_check_ids(sound_spec()) == []


@pytest.mark.parametrize(("spec", "check_id"), [
    (sound_spec(schema={"type": "object", "properties": {"n": {"type": "count"}}}), "catalog.E010"),
    (sound_spec(schema=broken_schema(lambda s: s["properties"]["seed"].pop("default"))), "catalog.E011"),
    (sound_spec(schema=broken_schema(lambda s: s["properties"]["n"].update(default=0))), "catalog.E012"),
    (sound_spec(check=refuse_four), "catalog.E012"),
    (sound_spec(estimate=lambda params: params["size"]), "catalog.E013"),
    (sound_spec(estimate=lambda params: Estimate(output_bytes=-1, samples=4, cost=4)), "catalog.E013"),
    (sound_spec(schema=broken_schema(lambda s: s["properties"]["noise"]["properties"]["low"].update(default=0.9))),
     "catalog.E014"),
    (sound_spec(schema=broken_schema(lambda s: s["properties"]["noise"]["x-attribute"].update(minimum=0.3))),
     "catalog.E014"),
    (sound_spec(format="images/99"), "catalog.E015"),
    (sound_spec(format="table/1"), "catalog.E016"),
], ids=["invalid-schema", "no-default", "invalid-default", "check-refuses-defaults", "estimate-raises",
        "negative-estimate", "low-above-high", "default-outside-attribute-bounds", "unknown-format",
        "format-of-another-modality"])
def test_each_broken_spec_is_reported_with_its_id(spec, check_id):
    assert probe_check_ids(spec) == [check_id]


def test_a_job_type_with_an_invalid_schema_is_reported():
    broken = dataclasses.replace(get_job_type("generate"), name="probe", schema={"type": "object", "required": "n"})
    errors = job_type_errors([broken])
    assert [(e.id, e.obj) for e in errors] == [("jobs.E010", "probe")] and errors[0].hint
