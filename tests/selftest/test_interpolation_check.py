"""The self-test's interpolation check: a real 3-frame journey to a GIF."""

from __future__ import annotations

import pytest
from PIL import Image

from artstudio.selftest import interpolation as check
from artstudio.selftest.runner import CAPABILITIES


def test_interpolation_is_one_of_the_self_tests_capabilities():
    assert "artstudio.selftest.interpolation:check_interpolation" in {
        c.target for c in CAPABILITIES}


def test_the_check_writes_a_three_frame_gif_of_the_asked_size(tmp_path):
    detail = check.check_interpolation(tmp_path)
    assert "3-frame" in detail
    with Image.open(tmp_path / "journey.gif") as gif:
        assert gif.n_frames == 3 and gif.size == (64, 64)
        frames = []
        for i in range(3):
            gif.seek(i)
            frames.append(gif.convert("RGB").tobytes())
    assert frames[0] != frames[2], "seed 1 and seed 2 gave the same picture"


def test_the_check_fails_when_the_gif_does_not_hold_every_frame(tmp_path, monkeypatch):
    from artstudio.interpolation import export

    real = export.export_frames

    def drop_last(frames, out, **kw):
        return real(list(frames)[:-1], out, **kw)

    monkeypatch.setattr(export, "export_frames", drop_last)
    with pytest.raises(RuntimeError, match="2 of 3 frames"):
        check.check_interpolation(tmp_path)
