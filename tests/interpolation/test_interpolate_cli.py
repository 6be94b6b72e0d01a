"""`artstudio interpolate`, run as a user would: the ends of a journey are
what `artstudio generate` writes, every frame keeps its parameters, and bad
requests are refused in one line with exit status 2 before any work."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from artstudio.cli import main

COMMON = ["--steps", "2", "--width", "64", "--height", "64", "--scheduler", "euler"]


def pixels(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB")).astype(int)


def test_the_ends_of_a_journey_are_what_generate_writes(tiny, tmp_path, capsys):
    from artstudio.diffusion.metadata import read_settings

    model = str(tiny["sd1"]["single"])
    out = tmp_path / "journey"
    code = main(["interpolate", "--model", model, "--prompt", "a red fox", "--seed", "11",
                 "--seed", "12", "--frames", "4", *COMMON, "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    frames = sorted(out.glob("*.png"))
    assert len(frames) == 4
    for seed in (11, 12):
        code = main(["generate", "--model", model, "--prompt", "a red fox", "--seed", str(seed),
                     *COMMON, "--out", str(tmp_path / f"{seed}.png")])
        assert code == 0, capsys.readouterr().err
    assert np.abs(pixels(frames[0]) - pixels(tmp_path / "11.png")).max() <= 2
    assert np.abs(pixels(frames[-1]) - pixels(tmp_path / "12.png")).max() <= 2
    assert np.abs(pixels(frames[1]) - pixels(tmp_path / "11.png")).mean() > 2
    first = read_settings(frames[0])
    assert first["seed"] == 11 and first["prompt"] == "a red fox" and first["steps"] == 2


def test_a_sampler_that_adds_noise_is_replaced_with_a_note(tiny, tmp_path, capsys):
    out = tmp_path / "frames"
    code = main(["interpolate", "--model", str(tiny["sd1"]["diffusers"]), "--prompt", "x",
                 "--seed", "1", "--seed", "2", "--frames", "2", "--steps", "2", "--width", "64",
                 "--height", "64", "--scheduler", "euler_a", "--out", str(out)])
    assert code == 0
    assert "its deterministic counterpart" in capsys.readouterr().err


@pytest.fixture
def model(tiny):
    return str(tiny["sd1"]["diffusers"])


@pytest.mark.parametrize(("extra", "said"), [
    (["--prompt", "x", "--seed", "1", "--frames", "4"], "at least two keyframes"),
    (["--prompt", "x", "--seed", "1", "--seed", "2", "--frames", "0"], "not 0 frames"),
    (["--prompt", "x", "--seed", "1", "--seed", "2", "--frames", "5000"], "more than the 2000"),
    (["--prompt", "x", "--seed", "1", "--seed", "2"], "Give a frame count"),
    (["--prompt", "x", "--seed", "1", "--seed", "2", "--frames", "3", "--fps", "0"],
     "per second"),
    (["--prompt", "a", "--prompt", "b", "--seed", "1", "--seed", "2", "--seed", "3",
      "--frames", "4"], "as many seeds as prompts"),
    (["--prompt", "x", "--seed", "1", "--seed", "2", "--frames", "4", "--width", "65"],
     "--width 65 is not a multiple of 8"),
    (["--prompt", "x", "--seed", "1", "--seed", "2", "--frames", "4", "--even", "--loop"],
     "--even works between two keyframes"),
    (["--prompt", "x", "--seed", "1", "--image-a", "a.png", "--frames", "4"],
     "both --image-a and --image-b"),
    (["--seed", "1", "--seed", "2", "--frames", "4"], "at least one --prompt"),
])
def test_bad_requests_are_refused_in_one_line(model, tmp_path, capsys, extra, said):
    out = tmp_path / "never"
    assert main(["interpolate", "--model", model, *extra, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert said in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_an_unknown_easing_or_output_kind_is_refused(model, tmp_path, capsys):
    args = ["interpolate", "--model", model, "--prompt", "x", "--seed", "1", "--seed", "2",
            "--frames", "3"]
    with pytest.raises(SystemExit) as stopped:
        main([*args, "--ease", "bounce", "--out", str(tmp_path / "a")])
    assert stopped.value.code == 2
    assert main([*args, "--out", str(tmp_path / "a.jpg")]) == 2
    assert "give a folder" in capsys.readouterr().err


def test_unusable_models_and_existing_outputs_are_refused(tmp_path, model, capsys):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 100)
    args = ["--prompt", "x", "--seed", "1", "--seed", "2", "--frames", "3"]
    assert main(["interpolate", "--model", str(junk), *args, "--out", str(tmp_path / "o")]) == 2
    assert "junk.safetensors" in capsys.readouterr().err
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    assert main(["interpolate", "--model", model, *args, "--out", str(taken)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (taken / "keep.txt").read_text() == "mine"


def test_even_motion_and_an_animated_file(model, tmp_path, capsys):
    from artstudio.diffusion.metadata import JSON_KEY

    out = tmp_path / "frames"
    code = main(["interpolate", "--model", model, "--prompt", "x", "--seed", "1", "--seed", "2",
                 "--frames", "5", *COMMON, "--even", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    frames = sorted(out.glob("*.png"))
    assert len(frames) == 5
    times = []
    for path in frames:
        with Image.open(path) as image:
            times.append(json.loads(image.info[JSON_KEY])["interpolation"]["t"])
    assert times[0] == 0.0 and times[-1] == 1.0 and times == sorted(times)
    gif = tmp_path / "journey.gif"
    code = main(["interpolate", "--model", model, "--prompt", "x", "--seed", "1", "--seed", "2",
                 "--frames", "4", *COMMON, "--pingpong", "--fps", "10", "--out", str(gif)])
    assert code == 0, capsys.readouterr().err
    with Image.open(gif) as image:
        assert image.n_frames == 6 and image.size == (64, 64)
