"""Exporting a journey: each format read back by the library that wrote it and
by Pillow, ping-pong, metadata, atomic writes, refusals and cancelling."""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from artstudio.diffusion.metadata import read_settings
from artstudio.document.errors import DocumentFileError
from artstudio.engine.cancel import Cancelled, CancelToken
from artstudio.interpolation import export
from artstudio.interpolation.export import export_frames, play_order, remove_stale_spools
from artstudio.interpolation.frames import Frame

W, H = 48, 32


def colour(i: int) -> tuple[int, int, int]:
    return (20 + 30 * i % 230, 200 - 15 * i % 200, 90)


def journey(n: int, size: tuple[int, int] = (W, H)):
    """Flat-coloured frames (so lossy formats can be checked by colour)."""
    for i in range(n):
        yield Frame(i, Image.new("RGB", size, colour(i)),
                    {"prompt": f"a lighthouse {i}", "seed": 100 + i, "steps": 4,
                     "width": size[0], "height": size[1], "t": i / max(n - 1, 1)})


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def pillow_frames(path: Path):
    """(duration ms, mean RGB) of every frame, and the image's info, via Pillow."""
    out = []
    with Image.open(path) as image:
        info = dict(image.info)
        size = image.size
        for k in range(image.n_frames):
            image.seek(k)
            image.load()
            out.append((image.info.get("duration"),
                        np.asarray(image.convert("RGB"), float).mean(axis=(0, 1))))
    return out, info, size


@pytest.mark.parametrize("suffix", [".gif", ".webp"])
@pytest.mark.parametrize("loop", [True, False])
def test_animated_files_read_back_with_pillow(tmp_path, suffix, loop):
    out = tmp_path / f"journey{suffix}"
    result = export_frames(journey(5), out, fps=10, loop=loop)
    assert (result.path, result.frames, result.cancelled) == (out, 5, False)
    frames, info, size = pillow_frames(out)
    assert size == (W, H)
    assert len(frames) == 5
    assert all(duration == 100 for duration, _ in frames)
    for i, (_, mean) in enumerate(frames):
        assert np.abs(mean - colour(i)).max() <= 3
    if suffix == ".gif":
        # Pillow reports a loop count only when the file repeats (0 = forever).
        assert info.get("loop") == (0 if loop else None)
    else:
        assert info["loop"] == (0 if loop else 1)
    assert leftovers(tmp_path) == [out.name]


def test_frame_durations_follow_fps(tmp_path):
    export_frames(journey(3), tmp_path / "a.webp", fps=12)
    export_frames(journey(3), tmp_path / "a.gif", fps=12)
    webp, _, _ = pillow_frames(tmp_path / "a.webp")
    gif, _, _ = pillow_frames(tmp_path / "a.gif")
    assert [d for d, _ in webp] == [83] * 3  # round(1000 / 12)
    assert [d for d, _ in gif] == [80] * 3  # GIF counts in hundredths of a second


def test_mp4_reads_back_with_pyav_and_pads_odd_sizes(tmp_path):
    out = tmp_path / "journey.mp4"
    result = export_frames(journey(7, (W + 1, H - 1)), out, fps=24)
    assert result.frames == 7
    assert any("even" in note and f"{W + 2}x{H}" in note for note in result.notes)
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.width, stream.height) == (W + 2, H)
        assert stream.average_rate == 24
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(decoded) == 7
    for i, pixels in enumerate(decoded):
        assert np.abs(pixels.astype(float).mean(axis=(0, 1)) - colour(i)).max() <= 4
    assert leftovers(tmp_path) == [out.name]


def test_mp4_of_even_frames_has_no_note(tmp_path):
    result = export_frames(journey(2), tmp_path / "a.mp4", fps=12.5)
    assert result.notes == ()
    with av.open(str(tmp_path / "a.mp4")) as container:
        assert container.streams.video[0].average_rate == 12.5


def test_png_sequence_keeps_each_frames_parameters(tmp_path):
    out = tmp_path / "frames"
    result = export_frames(journey(4), out)
    assert result.frames == 4
    assert leftovers(out) == [f"frame_{i:04d}.png" for i in range(4)]
    for i in range(4):
        with Image.open(out / f"frame_{i:04d}.png") as image:
            assert image.getpixel((3, 3)) == colour(i)
        settings = read_settings(out / f"frame_{i:04d}.png")
        assert settings["prompt"] == f"a lighthouse {i}"
        assert settings["seed"] == 100 + i
    assert leftovers(tmp_path) == ["frames"]


def test_play_order_pingpong_does_not_repeat_the_ends():
    assert play_order(4, False) == [0, 1, 2, 3]
    assert play_order(4, True) == [0, 1, 2, 3, 2, 1]
    assert play_order(2, True) == [0, 1]
    assert play_order(1, True) == [0]


@pytest.mark.parametrize("suffix", [".gif", ".webp", ".mp4", ""])
def test_pingpong_plays_the_frames_back(tmp_path, suffix):
    out = tmp_path / f"journey{suffix}"
    result = export_frames(journey(5), out, pingpong=True, loop=True)
    assert result.frames == 5  # the journey's frames; the file plays 2n-2
    if suffix == ".mp4":
        with av.open(str(out)) as container:
            means = [f.to_ndarray(format="rgb24").astype(float).mean(axis=(0, 1))
                     for f in container.decode(video=0)]
    elif suffix:
        means = [mean for _, mean in pillow_frames(out)[0]]
    else:
        names = leftovers(out)
        assert names == [f"frame_{i:04d}.png" for i in range(8)]
        means = [np.asarray(Image.open(out / name), float).mean(axis=(0, 1)) for name in names]
        assert read_settings(out / "frame_0005.png")["seed"] == 103  # frame 3 again
    assert len(means) == 8
    for mean, i in zip(means, [0, 1, 2, 3, 4, 3, 2, 1], strict=True):
        assert np.abs(mean - colour(i)).max() <= 4


def test_unknown_extension_is_refused_in_one_line(tmp_path):
    with pytest.raises(DocumentFileError) as caught:
        export_frames(journey(2), tmp_path / "journey.avi")
    message = str(caught.value)
    assert "\n" not in message
    for kind in ("folder", ".gif", ".webp", ".mp4"):
        assert kind in message
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("name", ["a.gif", "a.webp", "a.mp4", "seq"])
def test_existing_target_is_refused_unless_overwrite(tmp_path, name):
    out = tmp_path / name
    if out.suffix:
        out.write_bytes(b"precious")
    else:
        out.mkdir()
        (out / "mine.txt").write_text("precious")
    with pytest.raises(DocumentFileError, match="already exists"):
        export_frames(journey(2), out)
    if out.suffix:
        assert out.read_bytes() == b"precious"
    else:
        assert leftovers(out) == ["mine.txt"]
    assert leftovers(tmp_path) == [name]
    export_frames(journey(3), out, overwrite=True)
    if out.suffix == ".mp4":
        with av.open(str(out)) as container:
            assert container.streams.video[0].frames == 3
    elif out.suffix:
        assert Image.open(out).n_frames == 3
    else:
        assert leftovers(out) == [f"frame_{i:04d}.png" for i in range(3)]
    assert leftovers(tmp_path) == [name]


def test_an_empty_folder_is_filled(tmp_path):
    (tmp_path / "seq").mkdir()
    assert export_frames(journey(2), tmp_path / "seq").frames == 2
    assert len(leftovers(tmp_path / "seq")) == 2


def test_target_under_a_regular_file_fails_cleanly(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DocumentFileError, match="could not be saved"):
        export_frames(journey(2), tmp_path / "notes.txt" / "a.gif")
    assert leftovers(tmp_path) == ["notes.txt"]


def _full_disk_after(calls: int, real):
    count = {"n": 0}

    def fake(*args, **kwargs):
        count["n"] += 1
        if count["n"] > calls:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)
    return fake


@pytest.mark.parametrize("name", ["a.gif", "a.webp", "a.mp4", "seq"])
def test_disk_full_while_spooling_leaves_nothing(tmp_path, monkeypatch, name):
    monkeypatch.setattr(export, "_save_png", _full_disk_after(2, export._save_png))
    with pytest.raises(DocumentFileError, match="the disk is full") as caught:
        export_frames(journey(5), tmp_path / name)
    assert "\n" not in str(caught.value)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("name", ["a.gif", "a.webp", "a.mp4"])
def test_disk_full_while_assembling_keeps_the_old_file(tmp_path, monkeypatch, name):
    out = tmp_path / name
    out.write_bytes(b"the previous export")
    real = Image.open

    # The assembly reads the spooled frames back one by one: fail on the third.
    monkeypatch.setattr(export.Image, "open", _full_disk_after(2, real))
    with pytest.raises(DocumentFileError, match="the disk is full"):
        export_frames(journey(5), out, overwrite=True)
    assert out.read_bytes() == b"the previous export"
    assert leftovers(tmp_path) == [name]


class FillingDisk:
    """The temporary file as a disk with `room` bytes left."""

    def __init__(self, fh, room: int) -> None:
        self.fh, self.room = fh, room

    def write(self, data) -> int:
        if self.fh.tell() + len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.fh.write(data)

    def seek(self, *args) -> int:
        return self.fh.seek(*args)

    def tell(self) -> int:
        return self.fh.tell()


@pytest.mark.parametrize("name", ["a.gif", "a.webp", "a.mp4"])
@pytest.mark.parametrize("where", ["start", "end"])
def test_disk_filling_during_the_file_write_leaves_nothing(tmp_path, monkeypatch, name, where):
    full_size = export_frames(journey(6), tmp_path / name).path.stat().st_size
    (tmp_path / name).unlink()
    # "end": the last bytes, where MP4 writes its index when the file closes.
    room = 200 if where == "start" else full_size - 50
    real = export.atomic_write
    monkeypatch.setattr(export, "atomic_write", lambda path, write: real(
        path, lambda fh: write(FillingDisk(fh, room))))
    with pytest.raises(DocumentFileError, match="the disk is full") as caught:
        export_frames(journey(6), tmp_path / name)
    assert "\n" not in str(caught.value)
    assert leftovers(tmp_path) == []


def test_disk_full_while_renaming_a_folder_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(export.os, "replace", _full_disk_after(0, export.os.replace))
    with pytest.raises(DocumentFileError, match="the disk is full"):
        export_frames(journey(3), tmp_path / "seq")
    assert leftovers(tmp_path) == []


def test_frames_of_different_sizes_are_refused(tmp_path):
    def mixed():
        yield from journey(2)
        yield Frame(2, Image.new("RGB", (W * 2, H)), {})
    with pytest.raises(DocumentFileError, match="frame 2 is 96x32 but the first is 48x32"):
        export_frames(mixed(), tmp_path / "a.gif")
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("fps", [0, -1, 500, float("nan")])
def test_bad_fps_is_refused(tmp_path, fps):
    with pytest.raises(DocumentFileError, match="frame rate"):
        export_frames(journey(2), tmp_path / "a.gif", fps=fps)
    assert leftovers(tmp_path) == []


def test_no_frames_is_refused(tmp_path):
    with pytest.raises(DocumentFileError, match="no frames"):
        export_frames([], tmp_path / "a.gif")
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("suffix", [".gif", ".webp", ".mp4", ""])
def test_a_cancelled_journey_exports_the_frames_it_has(tmp_path, suffix):
    token = CancelToken()

    def source():
        for frame in journey(10):
            if frame.index == 3:
                token.cancel()
            yield frame
    out = tmp_path / f"journey{suffix}"
    result = export_frames(source(), out, cancel=token)
    assert (result.frames, result.cancelled) == (4, True)
    assert any("4 frames" in note for note in result.notes)
    if suffix == ".mp4":
        with av.open(str(out)) as container:
            assert container.streams.video[0].frames == 4
    elif suffix:
        assert Image.open(out).n_frames == 4
    else:
        assert len(leftovers(out)) == 4


def test_cancelled_raised_by_the_source_keeps_the_frames_made(tmp_path):
    def source():
        yield from journey(3)
        raise Cancelled()
    result = export_frames(source(), tmp_path / "a.webp", cancel=lambda: False)
    assert (result.frames, result.cancelled) == (3, True)
    assert Image.open(tmp_path / "a.webp").n_frames == 3


def test_cancelled_before_the_first_frame_writes_nothing(tmp_path):
    token = CancelToken()
    token.cancel()
    result = export_frames(journey(3), tmp_path / "a.gif", cancel=token)
    assert (result.frames, result.cancelled) == (0, True)
    assert leftovers(tmp_path) == []


def _spool_folder(parent: Path, name: str, age_s: float) -> Path:
    spool = parent / name
    spool.mkdir()
    (spool / "frame_0000.png").write_bytes(b"half a journey")
    (spool / ".lock").write_bytes(b"")
    then = os.stat(spool).st_mtime - age_s
    os.utime(spool, (then, then))
    return spool


def test_a_killed_exports_frames_are_removed_by_the_next_export(tmp_path):
    stale = _spool_folder(tmp_path, ".a.gif.k1ll3d00.tmp", age_s=3600)
    young = _spool_folder(tmp_path, ".a.gif.runn1ng0.tmp", age_s=0)
    other = _spool_folder(tmp_path, ".b.gif.k1ll3d00.tmp", age_s=3600)
    mine = _spool_folder(tmp_path, ".a.gif.notours", age_s=3600)
    export_frames(journey(2), tmp_path / "a.gif")
    assert not stale.exists()
    assert young.exists() and other.exists() and mine.exists()


def test_a_live_exports_frames_are_never_removed(tmp_path):
    held = _spool_folder(tmp_path, ".a.gif.h0ld1ng0.tmp", age_s=3600)
    fd = os.open(held / ".lock", os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as another process's live export
    try:
        assert remove_stale_spools(tmp_path / "a.gif", min_age_s=0) == []
    finally:
        os.close(fd)
    assert held.exists()

    seen = {}

    def source():
        for frame in journey(3):
            if frame.index == 2:  # mid-export: this export's own spool is live
                seen["removed"] = remove_stale_spools(tmp_path / "b.webp", min_age_s=0)
                seen["spools"] = [p.name for p in tmp_path.iterdir() if p.name.startswith(".b")]
            yield frame
    assert export_frames(source(), tmp_path / "b.webp").frames == 3
    assert seen["removed"] == [] and len(seen["spools"]) == 1
