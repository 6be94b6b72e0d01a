# The two commands of the README: `make run` and `make test`. Both create
# .venv when missing and install the pinned stack only when pyproject.toml has
# changed since the last install (a stamp file), so a second run starts in seconds.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.artstudio-installed.stamp
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# System libraries Qt needs: enough for headless tests, and the xcb ones for a real window.
QT_LIBS := libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0
XCB_LIBS := libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 \
            libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-xfixes0

.PHONY: run test test-core test-ui lint bench self-test package sysdeps sysdeps-gui clean

run: sysdeps-gui $(STAMP)
	$(PY) main.py

test: sysdeps $(STAMP)
	@bash tools/run-tests.sh $(PY)

test-core: $(STAMP)
	ARTSTUDIO_NO_QTWIDGETS=1 QT_QPA_PLATFORM=offscreen $(PY) -m pytest -p no:pytest-qt --ignore=tests/ui $(ARGS)

test-ui: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest tests/ui $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

self-test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) main.py --self-test

bench: $(STAMP)
	for b in bench/*.py; do QT_QPA_PLATFORM=offscreen $(PY) $$b || exit 1; done

# The installer (packaging/README.md): dist/Artstudio/ and, on Linux, a .deb. Slow (minutes),
# so neither `make test` nor CI runs it; tests/test_packaging.py checks the spec instead.
package: sysdeps-gui $(STAMP)
	$(PY) -m pip install -q -e ".[dev,packaging]"
	bash packaging/build.sh $(PY)

sysdeps:
	@bash tools/system-deps.sh $(QT_LIBS)
	@bash tools/system-deps.sh --optional "the Krita .ora interoperability tests" krita xvfb xauth

sysdeps-gui:
	@bash tools/system-deps.sh $(QT_LIBS) $(XCB_LIBS)

$(VENV)/bin/python:
	@bash tools/make-venv.sh $(PYTHON) $(VENV)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
