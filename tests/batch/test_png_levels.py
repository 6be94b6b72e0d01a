"""PNG compression choices of a batch: every level and the fast writer (fpng)
give valid PNGs of the same pixels, smaller the higher the level, the fast
one larger than level 3 but at most by half, and each carries what made it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image, ImageFilter

from artstudio.batch import BatchSettings, fast_png, plan_batch, run_batch
from artstudio.batch.codecs import write_output
from artstudio.commands.style import main as style_main


def photo_like(h: int, w: int, seed: int) -> np.ndarray:
    """A gradient with blurred noise: compresses like a photo, not like noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([yy / h * 200, xx / w * 180, (yy + xx) / (h + w) * 220], -1)
    noisy = Image.fromarray(np.clip(base + rng.normal(0, 2, base.shape), 0, 255).astype(np.uint8))
    return np.asarray(noisy.filter(ImageFilter.GaussianBlur(1)))


def brighten(rgba: np.ndarray) -> np.ndarray:
    out = rgba.copy()
    out[..., :3] = np.minimum(255, out[..., :3].astype(np.int16) + 20).astype(np.uint8)
    return out


@pytest.fixture
def folder(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(3):
        Image.fromarray(photo_like(120 + 10 * i, 160, i)).save(src / f"p{i}.png")
    rgba = np.dstack([photo_like(64, 80, 9), np.linspace(0, 255, 80, dtype=np.uint8)[None]
                      .repeat(64, 0)])
    Image.fromarray(rgba, "RGBA").save(src / "alpha.png")
    return src


def run_at(level, src, out):
    plan = plan_batch(src, out)
    text = (("artstudio-batch", json.dumps({"kind": "test", "level": str(level)})),)
    report = run_batch(plan.items, brighten, BatchSettings(png_level=level, text=text))
    assert report.exit_code == 0 and len(report.written) == 4
    return {p.name: p for p in sorted(out.iterdir()) if not p.name.startswith(".")}


def pixels(path):
    with Image.open(path) as im:
        return im.mode, np.asarray(im), dict(im.text)


def folder_size(files):
    return sum(p.stat().st_size for p in files.values())


def levels_to_try():
    return [1, 3, 9, *([fast_png.FAST] if fast_png.available() else [])]


def test_every_level_gives_the_same_pixels_and_the_stated_sizes(folder, tmp_path):
    outputs = {level: run_at(level, folder, tmp_path / f"out-{level}")
               for level in levels_to_try()}
    reference = {name: pixels(path) for name, path in outputs[3].items()}
    for level, files in outputs.items():
        assert sorted(files) == sorted(reference)
        for name, path in files.items():
            mode, px, text = pixels(path)
            assert mode == reference[name][0]  # opaque stays RGB, alpha stays RGBA
            assert np.array_equal(px, reference[name][1]), (level, name)
            assert json.loads(text["artstudio-batch"])["level"] == str(level)
    sizes = {level: folder_size(files) for level, files in outputs.items()}
    assert sizes[9] <= sizes[3] <= sizes[1]
    if fast_png.FAST in sizes:  # +9 % on the benchmark's photos, more on small pictures
        assert sizes[3] < sizes[fast_png.FAST] <= 1.5 * sizes[3]


@pytest.mark.skipif(not fast_png.available(), reason="the fast PNG writer (fpng) is not installed")
def test_fast_writer_output_is_a_valid_png_with_the_text_after_the_header(tmp_path):
    rgb = photo_like(50, 70, 3)
    data = fast_png.encode_fast(rgb, {"Software": "Artstudio", "Description": "zürich"})
    assert data[12:16] == b"IHDR" and data[37:41] == b"iTXt"
    target = tmp_path / "x.png"
    target.write_bytes(data)
    with Image.open(target) as im:
        im.verify()  # every chunk's CRC
    mode, px, text = pixels(target)
    assert mode == "RGB" and np.array_equal(px, rgb)
    assert text == {"Software": "Artstudio", "Description": "zürich"}


class Rows:
    """A row source (a streamed result) of a known picture."""

    def __init__(self, rgba):
        self.rgba, self.height, self.width = rgba, *rgba.shape[:2]
        self.opaque = True

    def rows(self):
        for top in range(0, self.height, 7):
            yield self.rgba[top:top + 7]

    def to_array(self):
        return self.rgba


def test_a_streamed_result_asked_for_fast_is_written_at_zlib_level_one(tmp_path):
    rgba = np.dstack([photo_like(40, 30, 5), np.full((40, 30), 255, np.uint8)])
    write_output(Rows(rgba), tmp_path / "fast.png", "png", png_level=fast_png.FAST)
    write_output(Rows(rgba), tmp_path / "one.png", "png", png_level=1)
    assert (tmp_path / "fast.png").read_bytes() == (tmp_path / "one.png").read_bytes()
    assert np.array_equal(pixels(tmp_path / "fast.png")[1], rgba[..., :3])


def test_cli_png_level(folder, tmp_path, monkeypatch, capsys):
    assert style_main([str(folder), str(tmp_path / "one"), "--style", "3",
                       "--png-level", "1"]) == 0
    assert style_main([str(folder), str(tmp_path / "nine"), "--style", "3",
                       "--png-level", "9"]) == 0
    for name in ("p0.png", "alpha.png"):
        assert np.array_equal(pixels(tmp_path / "one" / name)[1],
                              pixels(tmp_path / "nine" / name)[1])
    assert ((tmp_path / "nine" / "p0.png").stat().st_size
            <= (tmp_path / "one" / "p0.png").stat().st_size)
    with pytest.raises(SystemExit) as exc:
        style_main([str(folder), str(tmp_path / "bad"), "--png-level", "12"])
    assert exc.value.code == 2
    monkeypatch.setattr(fast_png, "available", lambda: False)
    capsys.readouterr()
    assert style_main([str(folder), str(tmp_path / "nofpng"), "--style", "3",
                       "--png-level", "fast"]) == 2
    err = capsys.readouterr().err
    assert "fpng" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "nofpng").exists()  # refused before any work
