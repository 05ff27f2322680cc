#!/usr/bin/env bash
# Builds Grimoire and starts it at http://127.0.0.1:8080 on SQLite (data in ./data).
# Nothing else needs installing; set DATABASE_URL / REDIS_URL to use PostgreSQL and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked -p grimoire-host
exec target/release/grimoire serve "$@"
