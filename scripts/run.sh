#!/usr/bin/env bash
# Builds Grimoire and starts it at http://127.0.0.1:8080 on SQLite (data in ./data).
# Nothing else needs installing; set DATABASE_URL / REDIS_URL to use PostgreSQL and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."

# The SRD data the compendium is imported from on first start (see README, "SRD content").
scripts/fetch-srd.sh || echo "warning: could not fetch the SRD data; the compendium stays empty until 'grimoire import-srd'" >&2

cargo build --release --locked -p grimoire-host
exec target/release/grimoire serve "$@"
