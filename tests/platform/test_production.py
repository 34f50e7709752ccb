"""Production as the README runs it: `check --deploy` is clean, and gunicorn serves the static files.

Each test runs the real commands in subprocesses with SYNTHREG_ENV=production, a secret key,
allowed hosts and folders of its own.
"""

import http.client
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HOST = "synthreg.example.org"


@pytest.fixture(scope="module")
def production_env(tmp_path_factory) -> dict[str, str]:
    tmp_path = tmp_path_factory.mktemp("production")
    env = {**os.environ, "SYNTHREG_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(50),
           "ALLOWED_HOSTS": HOST, "SYNTHREG_VAR_DIR": str(tmp_path / "var"),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    # Not what production has: the browser tests' async switch, and our own overrides.
    for name in ("DJANGO_ALLOW_ASYNC_UNSAFE", "DEBUG", "SYNTHREG_PLAIN_HTTP", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS"):
        env.pop(name, None)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "manage.py"), *args], env=env, cwd="/",
                          capture_output=True, text=True, timeout=300)


def test_check_deploy_is_clean_under_production_settings(production_env):
    result = manage(production_env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr + result.stdout


def test_plain_http_is_an_explicit_switch_that_check_deploy_flags(production_env):
    result = manage({**production_env, "SYNTHREG_PLAIN_HTTP": "1"}, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr + result.stdout


def test_login_throttling_is_set_from_the_environment(production_env):
    code = ("import django; django.setup(); from django.conf import settings; "
            "print(settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME.total_seconds())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd="/",
                            env={**production_env, "DJANGO_SETTINGS_MODULE": "synthreg.settings",
                                 "SYNTHREG_LOGIN_FAILURE_LIMIT": "9", "SYNTHREG_LOGIN_COOLOFF_MINUTES": "2"})
    assert result.stdout.split() == ["9", "120.0"], result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn(production_env, tmp_path_factory):
    """gunicorn under production settings after `collectstatic`, as the README says."""
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    collected = manage(production_env, "collectstatic", "--no-input", "-v0")
    assert collected.returncode == 0, collected.stderr
    port = free_port()
    log = tmp_path / "gunicorn.log"
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "synthreg.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
                               env=production_env, cwd=tmp_path, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)

    def get(path: str, https: bool = True) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Host": HOST, **({"X-Forwarded-Proto": "https"} if https else {})}
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.body = response.read()
        connection.close()
        return response

    yield get
    process.terminate()
    process.wait(timeout=20)


def test_gunicorn_serves_swagger_ui_redoc_and_the_admin_from_our_static_files(gunicorn):
    docs = gunicorn("/api/docs/")
    assert docs.status == 200
    html = docs.body.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "https://" not in html  # nothing loaded from elsewhere
    bundle = gunicorn("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert bundle.status == 200 and b"SwaggerUIBundle" in bundle.body
    redoc = gunicorn("/api/redoc/")
    assert redoc.status == 200 and "/static/drf_spectacular_sidecar/redoc/" in redoc.body.decode()
    admin_login = gunicorn("/admin/login/")
    assert admin_login.status == 200 and "/static/admin/css/base.css" in admin_login.body.decode()
    css = gunicorn("/static/admin/css/base.css")
    assert css.status == 200 and css.getheader("Content-Type").startswith("text/css") and b"body" in css.body
    assert "includeSubDomains; preload" in css.getheader("Strict-Transport-Security")


def test_gunicorn_redirects_plain_http_to_https(gunicorn):
    response = gunicorn("/api/docs/", https=False)
    assert response.status == 301
    assert response.getheader("Location") == f"https://{HOST}/api/docs/"


def test_production_cookies_are_secure(gunicorn):
    login = gunicorn("/accounts/login/")
    assert login.status == 200
    cookie = login.getheader("Set-Cookie")
    assert "csrftoken=" in cookie and "Secure" in cookie
