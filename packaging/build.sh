#!/usr/bin/env bash
# Builds dist/Artstudio/ with PyInstaller and, on Linux, dist/artstudio_<version>_amd64.deb.
# Usage: packaging/build.sh PYTHON   (make package passes the venv's python, with the
# `packaging` extra installed). ARTSTUDIO_BUNDLE=cpu builds the CPU-only bundle.
set -euo pipefail
PY=${1:?usage: packaging/build.sh PYTHON}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

start=$(date +%s)
"$PY" -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
    packaging/artstudio.spec
built=$(date +%s)
echo "bundle: dist/Artstudio/ $(du -sh dist/Artstudio | cut -f1), built in $((built - start)) s"

# The bundle must start by itself before it is packed.
QT_QPA_PLATFORM=offscreen dist/Artstudio/Artstudio --version

if [[ "$(uname -s)" == Linux ]]; then
    bash packaging/linux/build_deb.sh
    echo "deb: packed in $(($(date +%s) - built)) s"
fi
