#!/usr/bin/env bash
# Packs dist/Artstudio/ into dist/artstudio_<version>_amd64.deb: the bundle in
# /opt/artstudio, the `artstudio` launcher on the PATH, the menu entry, the icon
# and the file types. Run by packaging/build.sh after PyInstaller.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/packaging/linux"
cd "$ROOT"
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -1)
ARCH=$(dpkg --print-architecture)
STAGE="build/deb/artstudio_${VERSION}_${ARCH}"
DEB="dist/artstudio_${VERSION}_${ARCH}.deb"

[[ -x dist/Artstudio/Artstudio ]] || { echo "dist/Artstudio/ is missing: run PyInstaller first" >&2; exit 2; }
rm -rf "$STAGE"
mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
         "$STAGE/usr/share/icons/hicolor/256x256/apps" "$STAGE/usr/share/mime/packages"
# Hard links: the bundle is gigabytes and the stage is thrown away after packing.
cp -al dist/Artstudio "$STAGE/opt/artstudio" 2>/dev/null || cp -a dist/Artstudio "$STAGE/opt/artstudio"
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
