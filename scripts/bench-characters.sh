#!/usr/bin/env bash
# Load benchmark of characters on SQLite, against a release build: 50 concurrent clients (wrk,
# from Debian's `wrk` package) reading a character with its derived sheet, then using a feature
# (a level-20 barbarian's rage, which has no use limit, so every request writes a new version).
# Fifty characters are created first; the feature-use run spreads its requests over them.
# Prints requests/s and latency percentiles; the README's performance table holds the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
scripts/fetch-srd.sh
cargo build --release --locked -p grimoire-host

BIN=target/release/grimoire
DIR=$(mktemp -d)
PORT=${PORT:-18091}
DURATION=${DURATION:-10s}
BASE="http://127.0.0.1:$PORT"
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$DIR"' EXIT
export GRIMOIRE_DATA_DIR="$DIR" GRIMOIRE_BIND="127.0.0.1:$PORT" GRIMOIRE_LOG=warn

"$BIN" serve & PID=$!
for _ in $(seq 1 100); do curl -fs "$BASE/health" >/dev/null && break; sleep 0.2; done

TOKEN=$(curl -fs "$BASE/api/v1/auth/register" -H 'content-type: application/json' \
  -d '{"username":"bench","email":"bench@example.org","password":"correct horse battery"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["token"])')
IDS=()
for i in $(seq 1 50); do
  IDS+=("$(curl -fs "$BASE/api/v1/characters" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{
    "name": "Bench '"$i"'", "race": "human", "class": "barbarian", "subclass": "berserker", "level": 20,
    "background": "acolyte",
    "abilities": {"method": "standard_array", "scores": {"str": 15, "dex": 14, "con": 13, "int": 8, "wis": 12, "cha": 10}},
    "proficiencies": ["skill-athletics", "skill-perception"], "languages": ["dwarvish", "elvish", "giant"],
    "equipment": [0, 0, 0], "extra_equipment": ["amulet"]}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])')")
done
echo "created ${#IDS[@]} level-20 barbarians (ids ${IDS[0]}…${IDS[-1]}); one answers $(curl -fs "$BASE/api/v1/characters/${IDS[0]}" -H "authorization: Bearer $TOKEN" | wc -c) bytes"

LUA=$DIR/use.lua
cat > "$LUA" <<LUA
local ids = { $(IFS=,; echo "${IDS[*]}") }
local n = 0
request = function()
  n = n + 1
  local id = ids[(n % #ids) + 1]
  return wrk.format("PATCH", "/api/v1/characters/" .. id .. "/features/rage/use",
    { ["Authorization"] = "Bearer $TOKEN" })
end
LUA

echo "== GET /api/v1/characters/${IDS[0]} (50 connections, 2 threads, $DURATION)"
wrk -t2 -c50 -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/characters/${IDS[0]}" \
  | grep -E "Requests/sec|^ +(50|90|99)%|Non-2xx|Socket errors"
echo "== PATCH /api/v1/characters/{id}/features/rage/use over 50 characters (50 connections, 2 threads, $DURATION)"
wrk -t2 -c50 -d"$DURATION" --latency -s "$LUA" "$BASE" \
  | grep -E "Requests/sec|^ +(50|90|99)%|Non-2xx|Socket errors"
echo "== after the run: character ${IDS[0]}"
curl -fs "$BASE/api/v1/characters/${IDS[0]}" -H "authorization: Bearer $TOKEN" |
  python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]; print("version", d["version"], "active effects", len(d["character"]["effects"]))'
