#!/usr/bin/env bash
# Runs every test of Grimoire: formatting and lints, the engine's and the host's unit tests, and
# the HTTP journeys against a real server on SQLite, PostgreSQL and Redis; then the web app's type
# check, lint, Vitest and browser journeys.
#
# PostgreSQL (postgres://postgres@127.0.0.1:5432, trust auth) and Redis (127.0.0.1:6379) are
# used when reachable. With CI=true they are required: this script starts them when they are
# installed but stopped, and fails loudly when they cannot be reached. Without CI, tests that
# need a missing service are left out and listed at the end — never counted as passed.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_HOST=127.0.0.1 PG_PORT=5432 REDIS_HOST=127.0.0.1 REDIS_PORT=6379
PG_URL="${GRIMOIRE_TEST_DATABASE_URL:-postgres://postgres@$PG_HOST:$PG_PORT/postgres}"
REDIS_URL="${GRIMOIRE_TEST_REDIS_URL:-redis://$REDIS_HOST:$REDIS_PORT}"
CI="${CI:-false}"

say() { printf '\n== %s\n' "$*"; }

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

redis_answers() {
  # A real PING, not just an open port.
  exec 3<>"/dev/tcp/$REDIS_HOST/$REDIS_PORT" 2>/dev/null || return 1
  printf 'PING\r\n' >&3
  local reply
  IFS= read -r -t 2 reply <&3 || true
  exec 3>&-
  [[ "$reply" == +PONG* ]]
}

start_services() {
  if ! port_open "$PG_HOST" "$PG_PORT" && command -v pg_ctlcluster >/dev/null; then
    say "starting PostgreSQL"
    for v in $(ls /etc/postgresql 2>/dev/null); do
      pg_ctlcluster --skip-systemctl-redirect "$v" main start || true
    done
  fi
  if ! redis_answers && command -v redis-server >/dev/null; then
    say "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no || true
  fi
  for _ in $(seq 1 30); do
    port_open "$PG_HOST" "$PG_PORT" && redis_answers && return 0
    sleep 1
  done
}

skip=()
left_out=()
if [[ "$CI" == "true" ]]; then
  start_services
  port_open "$PG_HOST" "$PG_PORT" || { echo "FATAL: PostgreSQL is not reachable at $PG_HOST:$PG_PORT (CI requires it)" >&2; exit 1; }
  redis_answers || { echo "FATAL: Redis is not answering at $REDIS_HOST:$REDIS_PORT (CI requires it)" >&2; exit 1; }
fi
if port_open "$PG_HOST" "$PG_PORT"; then
  export GRIMOIRE_TEST_DATABASE_URL="$PG_URL"
else
  skip+=(--skip _postgres)
  left_out+=("tests ending in _postgres: PostgreSQL is not reachable at $PG_HOST:$PG_PORT")
fi
if redis_answers; then
  export GRIMOIRE_TEST_REDIS_URL="$REDIS_URL"
else
  skip+=(--skip _redis)
  left_out+=("tests ending in _redis: Redis is not answering at $REDIS_HOST:$REDIS_PORT")
fi

say "SRD data"
scripts/fetch-srd.sh

say "example plugins (WASM, built from source into rules/examples/)"
plugins/build.sh

say "formatting"
cargo fmt --all -- --check
(cd plugins && cargo fmt --all -- --check)

say "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings
(cd plugins && cargo clippy --all-targets --locked -- -D warnings)

say "tests"
status=0
cargo test --workspace --locked -- "${skip[@]}" || status=$?

say "plugin SDK and examples (native unit tests)"
(cd plugins && cargo test --locked) || status=$?

# Each PostgreSQL test made its own database; remove them.
if [[ -n "${GRIMOIRE_TEST_DATABASE_URL:-}" ]] && command -v psql >/dev/null; then
  psql "$GRIMOIRE_TEST_DATABASE_URL" -Atqc \
    "SELECT 'DROP DATABASE IF EXISTS ' || datname || ' WITH (FORCE);' FROM pg_database WHERE datname LIKE 'grimoire_t_%'" \
    | psql "$GRIMOIRE_TEST_DATABASE_URL" -q >/dev/null 2>&1 || true
fi

# The web app: type check, lint, unit tests (Vitest), then the browser journeys (playwright-core
# driving Debian's Chromium) against a real server on a fresh SQLite data dir.
say "frontend"
frontend_status=0
(
  set -euo pipefail
  cd frontend
  npm ci --no-audit --no-fund
  npm run check
  npm run lint
  npx vitest run
) || frontend_status=$?

say "frontend: browser journeys"
if [[ ! -x /usr/bin/chromium ]]; then
  echo "installing Chromium (Debian package)"
  sudo_cmd=()
  [[ "$(id -u)" != 0 ]] && sudo_cmd=(sudo)
  { "${sudo_cmd[@]}" apt-get update -q && DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q chromium; } >/dev/null \
    || echo "FATAL: could not install chromium" >&2
fi
e2e_status=0
if [[ -x /usr/bin/chromium ]]; then
  (
    set -euo pipefail
    cargo build -p grimoire-host --locked
    cd frontend
    npm run build
    GRIMOIRE_BIN="$PWD/../target/debug/grimoire" node e2e/run.mjs
  ) || e2e_status=$?
else
  e2e_status=1
fi
if ((frontend_status != 0 || e2e_status != 0)); then
  echo "FAILED: frontend (checks, lint and unit tests: exit $frontend_status; browser journeys: exit $e2e_status)" >&2
  ((status == 0)) && status=1
fi

if ((${#left_out[@]})); then
  say "left out (not run, not counted as passed)"
  printf '  - %s\n' "${left_out[@]}"
fi
exit "$status"
