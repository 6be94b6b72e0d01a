#!/usr/bin/env bash
# Install the Debian/Ubuntu packages named as arguments when missing. As root
# (CI) it installs them; otherwise it prints the exact command to run.
# `--optional WHY PKG...`: packages some tests use when present (Krita for the
# .ora interoperability tests); as root they are installed like the others,
# otherwise a missing one is only mentioned and those tests skip.
set -euo pipefail
command -v dpkg-query >/dev/null 2>&1 || exit 0   # not a Debian system: nothing to check
optional=""
if [ "${1:-}" = "--optional" ]; then
  optional=$2
  shift 2
fi
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "Installing system packages${optional:+ for $optional}: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
elif [ -n "$optional" ]; then
  echo "Optional, for $optional (those tests skip without them):" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
else
  echo "Qt needs these system libraries; install them with:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
