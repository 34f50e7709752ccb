# Sourced by scripts/test: make PostgreSQL, Redis and Chromium available for the tests.
# Each ensure_* uses what already answers; otherwise it installs Debian's package, starts a
# private instance on its own port, and registers it to be stopped by pid on exit.

_SUDO=""; [ "$(id -u)" = 0 ] || _SUDO=sudo
_APT_UPDATED=""
_STOP=()
trap '_stop_services' EXIT

_stop_services() {
  for pid in "${_STOP[@]}"; do kill "$pid" 2>/dev/null || true; done
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

ensure_redis() {
  if _answers 127.0.0.1 6379; then
    TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
    return
  fi
  echo "Redis does not answer on 6379: starting a private one on 56379."
  command -v redis-server >/dev/null || _apt_install redis-server
  local dir; dir="$(mktemp -d /tmp/synthreg-redis.XXXXXX)"
  redis-server --port 56379 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --pidfile "$dir/redis.pid" --dir "$dir" >/dev/null
  for _ in $(seq 50); do [ -s "$dir/redis.pid" ] && _answers 127.0.0.1 56379 && break; sleep 0.1; done
  _STOP+=("$(cat "$dir/redis.pid")")
  TEST_REDIS_URL="redis://127.0.0.1:56379/15"
}

ensure_chromium() {
  command -v chromium >/dev/null || _apt_install chromium
}
