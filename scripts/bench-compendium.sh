#!/usr/bin/env bash
# Load benchmark of the compendium on SQLite, against a release build: 50 concurrent clients
# (wrk, from Debian's `wrk` package) on four endpoints, plus the time of a full SRD import.
# Prints requests/s and latency percentiles; the README's performance table holds the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
scripts/fetch-srd.sh
cargo build --release --locked -p grimoire-host

BIN=target/release/grimoire
DIR=$(mktemp -d)
PORT=${PORT:-18090}
DURATION=${DURATION:-10s}
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$DIR"' EXIT
export GRIMOIRE_DATA_DIR="$DIR" GRIMOIRE_BIND="127.0.0.1:$PORT" GRIMOIRE_LOG=warn

echo "== full SRD import (release build, fresh SQLite)"
/usr/bin/time -f "import wall time: %es" "$BIN" import-srd >/dev/null

"$BIN" serve & PID=$!
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.2; done

for path in \
  "/api/v1/compendium/spells?page=1" \
  "/api/v1/compendium/spells/fireball" \
  "/api/v1/compendium/search?q=fire" \
  "/api/v1/compendium/monsters?cr_min=1&cr_max=5&type=humanoid"; do
  echo "== GET $path (50 connections, 2 threads, $DURATION)"
  wrk -t2 -c50 -d"$DURATION" --latency "http://127.0.0.1:$PORT$path" \
    | grep -E "Requests/sec|^ +(50|90|99)%|Non-2xx|Socket errors"
done
