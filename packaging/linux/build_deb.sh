#!/usr/bin/env bash
# Packs dist/Artstudio/ into dist/artstudio_<version>_amd64.deb: the bundle in
# /opt/artstudio, the `artstudio` launcher on the PATH, the menu entry, the icon
# and the file types. Run by packaging/build.sh after PyInstaller.
# ARTSTUDIO_DEB_BUNDLE (a bundle folder, default dist/Artstudio), ARTSTUDIO_DEB_VERSION
# (default: pyproject's) and ARTSTUDIO_DEB_OUT (default dist) let the upgrade check
# (check_upgrade.sh) pack small stand-in bundles as two versions in seconds.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/packaging/linux"
cd "$ROOT"
VERSION=${ARTSTUDIO_DEB_VERSION:-$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -1)}
BUNDLE=${ARTSTUDIO_DEB_BUNDLE:-dist/Artstudio}
OUT=${ARTSTUDIO_DEB_OUT:-dist}
ARCH=$(dpkg --print-architecture)
STAGE="build/deb/artstudio_${VERSION}_${ARCH}"
DEB="$OUT/artstudio_${VERSION}_${ARCH}.deb"

[[ -x "$BUNDLE/Artstudio" ]] || { echo "$BUNDLE/ is missing: run PyInstaller first" >&2; exit 2; }
mkdir -p "$OUT"
rm -rf "$STAGE"
mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
         "$STAGE/usr/share/icons/hicolor/256x256/apps" "$STAGE/usr/share/mime/packages"
# Hard links: the bundle is gigabytes and the stage is thrown away after packing.
cp -al "$BUNDLE" "$STAGE/opt/artstudio" 2>/dev/null || cp -a "$BUNDLE" "$STAGE/opt/artstudio"
install -m 755 "$HERE/artstudio.sh" "$STAGE/usr/bin/artstudio"
install -m 644 "$HERE/artstudio.desktop" "$STAGE/usr/share/applications/artstudio.desktop"
install -m 644 "$HERE/artstudio-mime.xml" "$STAGE/usr/share/mime/packages/artstudio.xml"
install -m 644 artstudio/data/icons/artstudio.png "$STAGE/usr/share/icons/hicolor/256x256/apps/artstudio.png"
install -m 755 "$HERE/postinst" "$HERE/postrm" "$STAGE/DEBIAN/"

SIZE_KB=$(du -sk "$STAGE" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@SIZE@/$SIZE_KB/" \
    "$HERE/control.in" > "$STAGE/DEBIAN/control"

# zstd: gzip or xz take several times longer on a bundle this size (dpkg >= 1.21.18 reads it).
dpkg-deb --root-owner-group -Z"${ARTSTUDIO_DEB_COMPRESSION:-zstd}" -z"${ARTSTUDIO_DEB_LEVEL:-3}" \
    --build "$STAGE" "$DEB"
rm -rf "$STAGE"
echo "deb: $DEB $(du -h "$DEB" | cut -f1) (installed size $((SIZE_KB / 1024)) MiB)"
