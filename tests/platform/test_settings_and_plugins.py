"""Settings from the environment, and third-party generators arriving through entry points."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, cwd="/",
                          capture_output=True, text=True, timeout=120)


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {"SYNTHREG_ENV": "production", "SYNTHREG_VAR_DIR": str(tmp_path), "SECRET_KEY": ""}
    result = run_python("import django, os; os.environ.pop('SECRET_KEY'); "
                        "os.environ['DJANGO_SETTINGS_MODULE']='synthreg.settings'; django.setup()", env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_local_runs_generate_and_keep_a_secret_key(tmp_path):
    code = "import os; os.environ.pop('SECRET_KEY', None); from synthreg import settings; print(settings.SECRET_KEY)"
    first = run_python(code, {"SYNTHREG_VAR_DIR": str(tmp_path)})
    second = run_python(code, {"SYNTHREG_VAR_DIR": str(tmp_path)})
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout and len(first.stdout.strip()) > 40


def test_an_entry_point_plugin_is_registered_and_listed_in_the_catalog(tmp_path):
    # A real installed distribution (a dist-info folder on sys.path) publishing a generator.
    (tmp_path / "acme_gen.py").write_text(textwrap.dedent("""
        from generators.render.digits import DIGITS_SPEC
        from dataclasses import replace
        SPEC = replace(DIGITS_SPEC, slug="acme-digits", title="ACME digits")
    """))
    dist = tmp_path / "acme_gen-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-gen\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[synthreg.generators]\nacme = acme_gen:SPEC\n")
    code = textwrap.dedent("""
        import django, os, io
        os.environ['DJANGO_SETTINGS_MODULE'] = 'synthreg.settings'
        django.setup()
        from generators import registry
        from django.core.management import call_command
        call_command('migrate', verbosity=0)
        from catalog.models import Generator
        print(registry.get('acme-digits').title, Generator.objects.get(slug='acme-digits').source)
    """)
    result = run_python(code, {"PYTHONPATH": str(tmp_path), "SYNTHREG_VAR_DIR": str(tmp_path / "var"),
                               "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ACME digits acme-gen"
