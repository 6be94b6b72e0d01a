"""Models by Hugging Face repo id: found in the local cache, and downloaded
only when the artist asks.

Everything else in Artstudio runs with the hub switched offline (see
`offline`); `download_model` is the one place that goes online, for the call's
duration. Downloads resume: huggingface_hub keeps `.incomplete` files in its
cache and continues them on the next try, so a cancelled or broken download
loses nothing that arrived.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

from artstudio.engine.cancel import CancelToken
from artstudio.engine.errors import UserFacingError

REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
# What a diffusers pipeline needs: configs, tokenizers, safetensors weights.
# Pickled weights (.bin, .ckpt) are not fetched: we would refuse to load them.
ALLOW = ["*.json", "*.txt", "*.model", "*.safetensors"]


def looks_like_repo_id(text: str) -> bool:
    return bool(REPO_ID.match(text)) and not Path(text).exists()


def cached_snapshot(repo_id: str) -> Path | None:
    """The newest cached snapshot of `repo_id`, without any network access."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id, local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError, ValueError):
        return None


def resolve_model(path_or_repo: str) -> Path:
    """A local path as given, or the cached snapshot of a repo id."""
    if not looks_like_repo_id(path_or_repo):
        return Path(path_or_repo)
    snapshot = cached_snapshot(path_or_repo)
    if snapshot is None:
        raise UserFacingError(
            f"{path_or_repo} is not downloaded yet. Download it first (Generate panel > "
            f"Download, or `artstudio download {path_or_repo}`); Artstudio never downloads "
            "without being asked.")
    return snapshot


@contextlib.contextmanager
def _online():
    """Let huggingface_hub reach the network for one call (it reads
    HF_HUB_OFFLINE once, at import, into its constants)."""
    from huggingface_hub import constants

    previous = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = False
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = previous


def _progress_bar_class(progress, cancel: CancelToken):
    from tqdm.auto import tqdm

    class JobProgress(tqdm):  # huggingface_hub reports through tqdm bars
        def __init__(self, *args: Any, **kwargs: Any):
            # A disabled bar keeps no counts, so this one keeps its own.
            self.done = float(kwargs.get("initial", 0) or 0)
            self.size = float(kwargs.get("total") or 0)
            self.in_bytes = kwargs.get("unit") == "B"
            kwargs["disable"] = True  # no console output; the job reports instead
            super().__init__(*args, **kwargs)

        def update(self, n: float | None = 1) -> bool | None:
            self.done += n or 0
            cancel.raise_if_cancelled()
            if self.size:
                scale, unit = (2**20, "MB") if self.in_bytes else (1, "files")
                progress(int(self.done / scale), int(self.size / scale),
                         f"Downloading: {self.done / scale:.0f} of {self.size / scale:.0f} {unit}")
            return None

    return JobProgress


def download_model(repo_id: str, progress, cancel: CancelToken) -> Path:
    """Engine job: download a diffusers repo into the Hugging Face cache."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
    )

    from artstudio.model_files.offline import offline_and_quiet

    offline_and_quiet()
    repo_id = repo_id.strip()
    if not REPO_ID.match(repo_id):
        raise UserFacingError(f"“{repo_id}” is not a Hugging Face repo id (like org/name).")
    progress(0, 0, f"Connecting for {repo_id}…")
    try:
        with _online():
            folder = snapshot_download(repo_id, allow_patterns=ALLOW,
                                       tqdm_class=_progress_bar_class(progress, cancel))
    except RepositoryNotFoundError as exc:
        raise UserFacingError(f"{repo_id} was not found on Hugging Face (or it is private).") \
            from exc
    except GatedRepoError as exc:
        raise UserFacingError(f"{repo_id} is gated: accept its licence on the Hugging Face "
                              "website and log in with `hf auth login`, then try again.") from exc
    except (LocalEntryNotFoundError, OSError, HfHubHTTPError) as exc:
        raise UserFacingError(
            f"Could not download {repo_id}: Hugging Face cannot be reached "
            f"({exc.__class__.__name__}). Check the connection and try again; what already "
            "arrived is kept and the download resumes.") from exc
    return Path(folder)
