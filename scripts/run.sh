#!/usr/bin/env bash
# Builds Grimoire and starts it at http://127.0.0.1:8080 on SQLite (data in ./data).
# Nothing else needs installing; set DATABASE_URL / REDIS_URL to use PostgreSQL and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."

# The SRD data the compendium is imported from on first start (see README, "SRD content").
scripts/fetch-srd.sh || echo "warning: could not fetch the SRD data; the compendium stays empty until 'grimoire import-srd'" >&2

# The example WASM plugins, built from source into their rule packs (rules/examples/*); see
# plugins/README.md. Installs Debian's wasm32 Rust and clang when missing and run as root.
plugins/build.sh

# The web app (frontend/build), which the server serves at /. `npm ci` when node_modules is
# missing or older than the lockfile.
if command -v npm >/dev/null; then
  (
    cd frontend
    if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
      npm ci --no-audit --no-fund
    fi
    npm run build
  )
else
  echo "warning: npm not found (Node.js 20+ is needed); serving the frontend as last built, if at all" >&2
fi

cargo build --release --locked -p grimoire-host
exec target/release/grimoire serve "$@"
