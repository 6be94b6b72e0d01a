"""Repo ids: resolved from the local cache only, downloaded only when asked.
The hub is never contacted here: snapshot_download is replaced."""

from __future__ import annotations

import pytest

from artstudio.engine.cancel import Cancelled, CancelToken
from artstudio.engine.errors import UserFacingError
from artstudio.model_files import hub


def test_repo_id_or_path():
    assert hub.looks_like_repo_id("stabilityai/sdxl-turbo")
    assert not hub.looks_like_repo_id("/models/sd15.safetensors")
    assert not hub.looks_like_repo_id("sd15.safetensors")


def test_missing_repo_says_how_to_download(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(UserFacingError, match="artstudio download org/model"):
        hub.resolve_model("org/model")


def test_download_reports_progress_and_goes_online_only_for_the_call(monkeypatch, tmp_path):
    import huggingface_hub
    from huggingface_hub import constants

    seen = {}

    def fake_snapshot_download(repo_id, allow_patterns, tqdm_class):
        seen["online"] = constants.HF_HUB_OFFLINE is False
        seen["patterns"] = allow_patterns
        bar = tqdm_class(total=3 * 2**20, unit="B")
        for _ in range(3):
            bar.update(2**20)
        return str(tmp_path / "snapshot")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    constants.HF_HUB_OFFLINE = True
    steps = []
    folder = hub.download_model("org/model", lambda s, t, m="", p=None: steps.append((s, t)),
                                CancelToken())
    assert folder == tmp_path / "snapshot"
    assert seen["online"] and constants.HF_HUB_OFFLINE is True
    assert "*.safetensors" in seen["patterns"] and "*.bin" not in seen["patterns"]
    assert steps[-1] == (3, 3)


def test_download_cancel_and_offline_messages(monkeypatch):
    import huggingface_hub
    from huggingface_hub.errors import LocalEntryNotFoundError

    def slow(repo_id, allow_patterns, tqdm_class):
        bar = tqdm_class(total=10, unit="B")
        bar.update(1)
        return "never"

    monkeypatch.setattr(huggingface_hub, "snapshot_download", slow)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        hub.download_model("org/model", lambda *a, **k: None, token)

    def offline(repo_id, allow_patterns, tqdm_class):
        raise LocalEntryNotFoundError("no connection")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    with pytest.raises(UserFacingError, match=r"cannot be reached.*resumes"):
        hub.download_model("org/model", lambda *a, **k: None, CancelToken())
    with pytest.raises(UserFacingError, match="not a Hugging Face repo id"):
        hub.download_model("not a repo", lambda *a, **k: None, CancelToken())
