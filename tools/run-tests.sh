#!/usr/bin/env bash
# The whole suite in two processes: the core (engine, document, generators,
# batch, command line) where QtWidgets cannot be imported, then the UI tests.
# Then the import contracts. Exits non-zero if any part fails.
set -uo pipefail
PY=${1:-.venv/bin/python}
export QT_QPA_PLATFORM=offscreen HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
status=0
echo "== core tests (QtWidgets blocked)"
ARTSTUDIO_NO_QTWIDGETS=1 "$PY" -m pytest -q -p no:pytest-qt --ignore=tests/ui "${@:2}" || status=1
echo "== UI tests"
"$PY" -m pytest -q tests/ui "${@:2}" || status=1
echo "== import contracts"
"$(dirname "$PY")/lint-imports" --no-cache || status=1
exit $status
