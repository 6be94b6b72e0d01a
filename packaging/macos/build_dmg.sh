#!/usr/bin/env bash
# macOS: builds dist/Artstudio.app (the spec's BUNDLE step) and dist/Artstudio-<version>.dmg.
# Run on a Mac from the repository root with the venv's python (packaging extra installed):
#   bash packaging/macos/build_dmg.sh .venv/bin/python
# Not built yet: see packaging/README.md.
set -euo pipefail
PY=${1:?usage: packaging/macos/build_dmg.sh PYTHON}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
[[ "$(uname -s)" == Darwin ]] || { echo "build_dmg.sh runs on macOS only (hdiutil)" >&2; exit 2; }
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -1)

"$PY" -m PyInstaller --noconfirm --distpath dist --workpath build/pyinstaller packaging/artstudio.spec
dist/Artstudio.app/Contents/MacOS/Artstudio --version

STAGE=build/dmg
rm -rf "$STAGE" && mkdir -p "$STAGE"
cp -R dist/Artstudio.app "$STAGE/"
ln -s /Applications "$STAGE/Applications"  # drag-to-install
hdiutil create -volname "Artstudio $VERSION" -srcfolder "$STAGE" -ov -format UDZO \
    "dist/Artstudio-$VERSION.dmg"
echo "dmg: dist/Artstudio-$VERSION.dmg $(du -h "dist/Artstudio-$VERSION.dmg" | cut -f1)"
