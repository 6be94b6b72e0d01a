"""The foundation's self-test checks: settings, engine, torch and the document."""

from __future__ import annotations

import threading
from pathlib import Path


def check_settings(folder: Path) -> str:
    from artstudio.settings import Settings, load_settings, save_settings

    path = folder / "settings.json"
    original = Settings(device="cpu", autosave_interval_s=30, model_folders=[str(folder)])
    problem = save_settings(original, path)
    if problem:
        raise RuntimeError(problem)
    loaded, notes = load_settings(path)
    if loaded != original or notes:
        raise RuntimeError(f"settings did not round-trip: {notes}")
    path.write_text("{ not json", encoding="utf-8")
    fallback, notes = load_settings(path)
    if fallback.device != "auto" or not notes:
        raise RuntimeError("a corrupt settings file was not replaced by defaults")
    return "saved, reloaded, corrupt file recovered"


def check_engine(folder: Path) -> str:
    from artstudio.engine import Engine, JobState, Lane

    engine = Engine(pool_workers=2)
    try:
        started = threading.Event()

        def steps(params, progress, cancel):
            for i in range(params):
                progress(i + 1, params)
                started.set()
                cancel.raise_if_cancelled()
                threading.Event().wait(0.001)
            return params

        done = engine.submit(steps, 5, lane=Lane.ACCELERATOR)
        pooled = engine.submit(steps, 3, lane=Lane.POOL)
        long = engine.submit(steps, 100_000, lane=Lane.ACCELERATOR)
        if done.wait(10) is not JobState.DONE or pooled.wait(10) is not JobState.DONE:
            raise RuntimeError("jobs did not complete")
        started.wait(10)
        long.cancel()
        if long.wait(10) is not JobState.CANCELLED:
            raise RuntimeError("a running job did not cancel")
    finally:
        engine.shutdown(timeout=5)
    return "both lanes ran, a running job cancelled"


def check_torch(folder: Path) -> str:
    from artstudio.engine.devices import choose_device

    choice = choose_device()
    import torch

    conv = torch.nn.Conv2d(3, 8, 3, padding=1).to(choice.torch_device, choice.torch_dtype)
    x = torch.rand(1, 3, 32, 32, device=choice.torch_device, dtype=choice.torch_dtype)
    y = conv(x)
    if tuple(y.shape) != (1, 8, 32, 32) or not torch.isfinite(y).all():
        raise RuntimeError("a convolution gave a wrong result")
    return f"torch {torch.__version__} on {choice.describe()}: {choice.reason}"


def check_document(folder: Path) -> str:
    import numpy as np

    from artstudio.document import Brush, BrushSettings, Document, open_document, save_document

    doc = Document(256, 192)
    doc.add_layer(name="Paint")
    brush = Brush(BrushSettings(size=16, color=(200, 40, 40)))
    brush.begin_stroke(doc, 20, 20)
    brush.stroke_to(230, 170, 0.5)
    brush.end_stroke()
    painted = doc.composite().copy()
    if painted[..., 3].max() == 0:
        raise RuntimeError("the brush painted nothing")
    doc.undo()
    if doc.composite()[..., 3].max() != 0:
        raise RuntimeError("undo did not restore the pixels")
    doc.redo()
    path = folder / "check.ora"
    save_document(doc, path)
    reopened, _notes = open_document(path)
    if not np.array_equal(reopened.composite(), painted):
        raise RuntimeError("the .ora round trip changed pixels")
    return "painted, undone, redone, saved and reopened as OpenRaster"
