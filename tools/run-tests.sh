#!/usr/bin/env bash
# The whole suite in two processes run side by side: the core (engine,
# document, generators, batch, command line) where QtWidgets cannot be
# imported, and the UI tests, whose waits on the event loop leave the CPU to
# the core's. The UI output follows the core's. Then the import contracts.
# Exits non-zero if any part fails.
set -uo pipefail
PY=${1:-.venv/bin/python}
export QT_QPA_PLATFORM=offscreen HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
status=0
ui_log=$(mktemp)
"$PY" -m pytest -q tests/ui "${@:2}" > "$ui_log" 2>&1 &
ui=$!
trap 'kill "$ui" 2>/dev/null; rm -f "$ui_log"' EXIT
echo "== core tests (QtWidgets blocked; the UI tests run beside them)"
ARTSTUDIO_NO_QTWIDGETS=1 "$PY" -m pytest -q -p no:pytest-qt --ignore=tests/ui "${@:2}" || status=1
wait "$ui" || status=1
echo "== UI tests"
cat "$ui_log"
echo "== import contracts"
"$(dirname "$PY")/lint-imports" --no-cache || status=1
exit $status
