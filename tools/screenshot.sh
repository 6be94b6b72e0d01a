#!/usr/bin/env bash
# Screenshot of the real window under a virtual X screen: tools/screenshot.sh OUT.png [seconds] [app args...]
# Needs xvfb, xdotool and imagemagick (apt-get install -y xvfb xdotool imagemagick).
set -euo pipefail
out=${1:-shot.png}; wait_s=${2:-6}; shift $(( $# >= 2 ? 2 : $# ))
PY=${PY:-.venv/bin/python}
xvfb-run -a -s "-screen 0 1600x1000x24" bash -c "
  $PY main.py $* &
  pid=\$!
  sleep $wait_s
  import -window root '$out'
  kill \$pid; wait \$pid 2>/dev/null || true
"
echo "wrote $out"
