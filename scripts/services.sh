# Sourced by scripts/test: make PostgreSQL, Redis and Chromium available for the tests.
# Each ensure_* uses what already answers; otherwise it installs Debian's package, starts a
# private instance on its own port, and registers it to be stopped by pid on exit.
# new_test_run gives the run its own folders and PostgreSQL database, removed on exit.

_SUDO=""; [ "$(id -u)" = 0 ] || _SUDO=sudo
_APT_UPDATED=""
_STOP=()
_DROP=()
_REMOVE=()
trap '_at_exit' EXIT

_at_exit() {
  for url in "${_DROP[@]}"; do _drop_test_database "$url" || true; done
  for pid in "${_STOP[@]}"; do kill "$pid" 2>/dev/null || true; done
  for dir in "${_REMOVE[@]}"; do rm -rf "$dir"; done
}

_answers() {  # host port
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

_apt_install() {
  if [ -z "$_APT_UPDATED" ]; then $_SUDO apt-get update -qq; _APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $_SUDO apt-get install -y -qq "$@" >/dev/null
}

ensure_postgres() {
  if _answers 127.0.0.1 5432; then
    TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
    return
  fi
  echo "PostgreSQL does not answer on 5432: starting a private one on 55432."
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || _apt_install postgresql
  local bin data
  bin="$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")"
  data="$(mktemp -d /tmp/synthreg-pg.XXXXXX)"
  chown postgres "$data" 2>/dev/null || true
  # PostgreSQL refuses to run as root: run it as its own user.
  local as=(); [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
  "${as[@]}" "$bin/initdb" -D "$data" -U postgres -A trust >/dev/null
  "${as[@]}" "$bin/pg_ctl" -D "$data" -l "$data/log" -o "-p 55432 -h 127.0.0.1 -k $data" -w start >/dev/null
  _STOP+=("$(head -1 "$data/postmaster.pid")")
  TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:55432/postgres"
}

ensure_redis_server() {  # the tests start their own redis-server (tests/conftest.py)
  command -v redis-server >/dev/null || _apt_install redis-server
}

new_test_run() {
  # Runs at once on one machine share nothing: this run's files, SQLite database and pytest
  # temp folders live under TEST_RUN_DIR, its PostgreSQL test database has its own name, and
  # each pytest session starts its own redis-server (TEST_REDIS_URL names one to use instead).
  TEST_RUN_DIR="$(mktemp -d /tmp/synthreg-test.XXXXXX)"
  _REMOVE+=("$TEST_RUN_DIR")
  mkdir -p "$TEST_RUN_DIR/tmp"
  export SYNTHREG_VAR_DIR="$TEST_RUN_DIR/var" TMPDIR="$TEST_RUN_DIR/tmp"
  # pytest-django creates test_<name> and drops it; dropped here too if pytest was killed.
  TEST_POSTGRES_URL="${TEST_POSTGRES_URL%/*}/synthreg_$$_$RANDOM"
  _DROP+=("$TEST_POSTGRES_URL")
  unset REDIS_URL CELERY_BROKER_URL
  if [ -n "${TEST_REDIS_URL:-}" ]; then export REDIS_URL="$TEST_REDIS_URL"; fi
}

_drop_test_database() {  # postgres://.../NAME: drop test_NAME
  python - "$1" <<'PY'
import sys
from urllib.parse import urlsplit

import psycopg

url = urlsplit(sys.argv[1])
with psycopg.connect(url._replace(path="/postgres").geturl(), autocommit=True) as conn:
    conn.execute(f'DROP DATABASE IF EXISTS "test_{url.path.lstrip("/")}" WITH (FORCE)')
PY
}

ensure_chromium() {
  command -v chromium >/dev/null || _apt_install chromium
}
