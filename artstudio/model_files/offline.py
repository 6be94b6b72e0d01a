"""Keep the model libraries offline and quiet.

Artstudio never downloads at run time unless the artist asks for a model, so
the hub libraries are told they are offline before they are imported (with
a cache miss, `local_files_only=True` alone still goes online). Their console
progress bars are turned off: progress reaches the artist through the job
engine instead.
"""

from __future__ import annotations

import os

_done = False


def offline_and_quiet() -> None:
    global _done
    if _done:
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import diffusers.utils.logging as diffusers_logging
    import transformers.utils.logging as transformers_logging

    diffusers_logging.disable_progress_bar()
    transformers_logging.disable_progress_bar()
    diffusers_logging.set_verbosity_error()
    transformers_logging.set_verbosity_error()
    _done = True
