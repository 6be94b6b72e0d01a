#!/usr/bin/env bash
# Create the virtual environment; on Debian/Ubuntu, venv lives in a separate
# package (python3-venv) that root can install and others are told about.
set -euo pipefail
python=${1:-python3}; venv=${2:-.venv}
"$python" -m venv "$venv" 2>/dev/null && exit 0
rm -rf "$venv"
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  "$python" -m venv "$venv" && exit 0
fi
echo "Could not create $venv with $python: install venv support with" >&2
echo "  sudo apt-get install -y python3-venv" >&2
exit 1
