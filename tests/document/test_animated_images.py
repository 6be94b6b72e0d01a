"""An animated image says that frames were left out (issue 11, item 15)."""

from __future__ import annotations

from PIL import Image

from artstudio.document.io_images import load_image


def test_an_animated_gif_says_how_many_frames_were_left_out(tmp_path):
    frames = [Image.new("P", (16, 12), i) for i in range(5)]
    for i, frame in enumerate(frames):
        frame.putpalette([v for c in range(256) for v in (c, 255 - c, (c * 7) % 256)])
        frame.putpixel((i, 0), 200)  # frames must differ, or GIF merges them
    path = tmp_path / "walk.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=80, loop=0)
    pixels, notes = load_image(path)
    assert pixels.shape == (12, 16, 4)
    assert "only the first of its 5 frames was opened; the other 4 were left out" in notes


def test_a_still_gif_says_nothing_about_frames(tmp_path):
    path = tmp_path / "still.gif"
    Image.new("P", (8, 8), 3).save(path)
    _pixels, notes = load_image(path)
    assert not any("frames" in note for note in notes)
