#!/usr/bin/env bash
# Installing a newer .deb over an older one, then removing it, with two small stand-in
# bundles packed by the real builder (build_deb.sh) as versions 0.1 and 0.2, so it takes
# seconds instead of a full PyInstaller build. Needs root (dpkg -i) and no artstudio
# package installed. Checks that the upgrade replaces the program (files of 0.1 that
# 0.2 no longer has go), that the artist's settings and models are untouched, and that
# `apt-get remove` leaves no /opt/artstudio. Exit 0 when all holds, 1 when not.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
[[ $(id -u) == 0 ]] || { echo "check_upgrade.sh: needs root (dpkg -i)" >&2; exit 2; }
if dpkg-query -W -f='${Status}' artstudio 2>/dev/null | grep -q "^install ok installed"; then
    echo "check_upgrade.sh: an artstudio package is installed; remove it first" >&2; exit 2
fi
WORK=$(mktemp -d)
# Whatever happens, the stand-in package does not stay installed.
trap 'dpkg --purge artstudio >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { local start=$SECONDS; "$@" >"$WORK/step.log" 2>&1 || { cat "$WORK/step.log" >&2; fail "$*"; }
         echo "  $* ($((SECONDS - start)) s)"; }

bundle() {  # a stand-in for dist/Artstudio/: the program and a file only this version has
    local dir="$WORK/bundle-$1"
    mkdir -p "$dir/_internal"
    printf '#!/bin/sh\necho "Artstudio %s $*"\n' "$1" >"$dir/Artstudio"
    chmod 755 "$dir/Artstudio"
    echo "$1" >"$dir/_internal/only-in-$1.txt"
    ARTSTUDIO_DEB_BUNDLE="$dir" ARTSTUDIO_DEB_VERSION="$1" ARTSTUDIO_DEB_OUT="$WORK/debs" \
        bash packaging/linux/build_deb.sh >/dev/null
}
bundle 0.1
bundle 0.2

# The artist's things where Artstudio keeps them: settings and a model in their home
# (a stand-in home, and root's real one, read only, if it has any).
ARTIST="$WORK/home"
mkdir -p "$ARTIST/.config/Artstudio" "$ARTIST/.local/share/Artstudio/models"
echo '{"device": "cpu", "model_folders": ["/media/artist/models"], "version": 1}' \
    >"$ARTIST/.config/Artstudio/settings.json"
head -c 100000 /dev/urandom >"$ARTIST/.local/share/Artstudio/models/painter.safetensors"
homes() {
    for dir in "$ARTIST/.config/Artstudio" "$ARTIST/.local/share/Artstudio" \
               /root/.config/Artstudio /root/.local/share/Artstudio; do
        if [[ -d "$dir" ]]; then find "$dir" -type f -print0 | sort -z | xargs -0 -r sha256sum; fi
    done
}
homes >"$WORK/before"

echo "install 0.1, then 0.2 over it, then remove:"
step dpkg -i "$WORK/debs/artstudio_0.1_$(dpkg --print-architecture).deb"
[[ "$(artstudio --version)" == "Artstudio 0.1 --version" ]] || fail "0.1 is not what runs"
echo "written at run time" >/opt/artstudio/_internal/cache.bin  # what a run may leave

step dpkg -i "$WORK/debs/artstudio_0.2_$(dpkg --print-architecture).deb"
[[ "$(artstudio --version)" == "Artstudio 0.2 --version" ]] || fail "0.2 is not what runs"
[[ -f /opt/artstudio/_internal/only-in-0.2.txt ]] || fail "0.2's files are missing"
[[ ! -e /opt/artstudio/_internal/only-in-0.1.txt ]] || fail "0.1's files outlived the upgrade"
[[ "$(dpkg-query -W -f='${Version}' artstudio)" == 0.2 ]] || fail "dpkg does not say 0.2"
homes | cmp -s - "$WORK/before" || fail "the upgrade changed the artist's settings or models"
echo "  after the upgrade: 0.2 runs, 0.1's files are gone, settings and models untouched"

step apt-get remove -y artstudio
[[ ! -e /opt/artstudio ]] || fail "/opt/artstudio is left: $(find /opt/artstudio | head -3)"
[[ ! -e /usr/bin/artstudio && ! -e /usr/share/applications/artstudio.desktop ]] \
    || fail "the launcher or menu entry is left"
homes | cmp -s - "$WORK/before" || fail "removing changed the artist's settings or models"
echo "  after apt-get remove: no /opt/artstudio, no launcher, settings and models untouched"
step dpkg --purge artstudio
homes | cmp -s - "$WORK/before" || fail "purging changed the artist's settings or models"
echo "upgrade check: passed"
