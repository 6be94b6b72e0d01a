"""Tiny random Stable Diffusion models, built once per test session.

They are random weights in the shapes of the real families (see
artstudio.generators.tiny_models): fast enough for 2 steps at 64 px on a CPU.
"""

from __future__ import annotations

import pytest

from artstudio.engine.cancel import CancelToken


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """{kind: {"diffusers": folder, "single": .safetensors with a config folder beside}}"""
    from artstudio.generators.tiny_models import save_tiny_models

    root = tmp_path_factory.mktemp("tiny-models")
    made = save_tiny_models(root)
    made["root"] = root
    return made


@pytest.fixture
def no_progress():
    return lambda *args, **kwargs: None


@pytest.fixture
def token():
    return CancelToken()
