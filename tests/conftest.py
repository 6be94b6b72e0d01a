"""Shared test set-up: an isolated home folder and headless Qt.

With ARTSTUDIO_NO_QTWIDGETS=1 (how `make test` runs every test outside
tests/ui) importing QtWidgets or artstudio.ui fails, which proves the core
runs without widgets, as the command line and a future server need.
"""

from __future__ import annotations

import importlib.abc
import os
import sys

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

BLOCKED = ("PySide6.QtWidgets", "artstudio.ui")


class _BlockWidgets(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if any(fullname == b or fullname.startswith(b + ".") for b in BLOCKED):
            raise ImportError(f"{fullname} must not be imported by the core (layering rule)")
        return None


if os.environ.get("ARTSTUDIO_NO_QTWIDGETS") == "1":
    already = [m for m in sys.modules if any(m == b or m.startswith(b + ".") for b in BLOCKED)]
    if already:
        raise RuntimeError(f"imported before the layering guard was installed: {already}")
    sys.meta_path.insert(0, _BlockWidgets())


@pytest.fixture(autouse=True)
def artstudio_home(tmp_path, monkeypatch):
    """Every test gets its own settings, data and log folders."""
    home = tmp_path / "artstudio-home"
    monkeypatch.setenv("ARTSTUDIO_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """Tiny random Stable Diffusion models, built once per test session
    (tests/tiny_pipelines.py): {kind: {"diffusers": folder, "single":
    .safetensors with a config folder beside}}. Random weights in the shapes of
    the real families, fast enough for 2 steps at 64 px on a CPU."""
    from tiny_pipelines import save_tiny_models

    root = tmp_path_factory.mktemp("tiny-models")
    made = save_tiny_models(root)
    made["root"] = root
    return made


@pytest.fixture(scope="session")
def tiny_flux(tmp_path_factory):
    """Tiny random FLUX.1 models (dev, schnell, Fill, Kontext), built once per
    session, in the layout of `tiny`: {variant: {"diffusers": folder,
    "single": an all-in-one .safetensors with its config folder beside}}."""
    from tiny_pipelines import save_tiny_flux

    return save_tiny_flux(tmp_path_factory.mktemp("tiny-flux"))


@pytest.fixture
def no_progress():
    return lambda *args, **kwargs: None


@pytest.fixture
def token():
    from artstudio.engine.cancel import CancelToken

    return CancelToken()
