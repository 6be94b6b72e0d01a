#!/usr/bin/env bash
# The proof of a built .deb on this machine: install it, run the installed self-test
# headless from outside any checkout, open the window under Xvfb (a screenshot), hand a
# file from a second `artstudio FILE` to that window, then `apt-get remove` and check that
# nothing is left in /opt/artstudio. Needs root, xvfb, xdotool and imagemagick.
# Usage: packaging/linux/check_installed.sh DEB [SCREENSHOT.png]   (prints each step's time)
set -euo pipefail
DEB=$(realpath "${1:?usage: check_installed.sh DEB [SCREENSHOT.png]}")
SHOT=$(realpath -m "${2:-/tmp/artstudio-installed.png}")
[[ $(id -u) == 0 ]] || { echo "check_installed.sh: needs root (dpkg -i)" >&2; exit 2; }
WORK=$(mktemp -d)
# A failed check does not leave the package installed.
trap 'dpkg --purge artstudio >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
export ARTSTUDIO_HOME="$WORK/home"
fail() { echo "FAIL: $*" >&2; exit 1; }
timed() { local start=$SECONDS; "$@"; echo "  [$((SECONDS - start)) s] $*"; }

timed dpkg -i "$DEB" >/dev/null
[[ -x /opt/artstudio/Artstudio && -x /usr/bin/artstudio ]] || fail "not installed"
cd "$WORK"  # no checkout anywhere near
timed artstudio --version
timed env QT_QPA_PLATFORM=offscreen artstudio --self-test | tee "$WORK/selftest.txt"
grep -q ", 0 failed" "$WORK/selftest.txt" || fail "the installed self-test failed"

# The window under Xvfb, then a second `artstudio FILE` that hands FILE to it.
convert -size 320x200 gradient:orange-purple "$WORK/handed.png"  # ImageMagick
cat >"$WORK/window.sh" <<EOF
set -e
artstudio >"$WORK/window.log" 2>&1 &
pid=\$!
for i in \$(seq 60); do xdotool search --name Artstudio >/dev/null 2>&1 && break; sleep 1; done
xdotool search --name Artstudio >/dev/null || { echo "no window" >&2; exit 1; }
echo "  window up after about \$i s"
start=\$SECONDS
artstudio "$WORK/handed.png"
echo "  [\$((SECONDS - start)) s] artstudio handed.png (the second one)"
# The window's title names the document once it has opened.
for i in \$(seq 90); do xdotool search --name "^handed" >/dev/null 2>&1 && break; sleep 1; done
xdotool search --name "^handed" >/dev/null || { echo "handed.png did not open" >&2; exit 1; }
echo "  handed.png open in the first window after about \$i s"
sleep 1
import -window root "$SHOT"
kill -TERM \$pid
wait \$pid
EOF
xvfb-run -a -s "-screen 0 1600x1000x24" bash "$WORK/window.sh" || fail "the window or the hand-over"
grep -q "opening 1 file(s) handed over" "$ARTSTUDIO_HOME/logs/artstudio.log" \
    || fail "the running window did not take the file"
echo "  screenshot: $SHOT"

cd /
timed apt-get remove -y artstudio >/dev/null
[[ ! -e /opt/artstudio ]] || fail "/opt/artstudio is left: $(find /opt/artstudio | head -3)"
echo "installed check: passed"
