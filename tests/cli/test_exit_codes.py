"""Every command answers the same way: 2 for what it cannot start on (bad
arguments, a missing input, an unusable model), 1 for a file that failed
while working, 0 when all was done."""

from __future__ import annotations

import pytest
from PIL import Image

from artstudio.cli import main


def _status(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exit_:  # argparse's own refusals
        return int(exit_.code)


@pytest.fixture
def files(tmp_path):
    good = tmp_path / "good.png"
    Image.new("RGB", (24, 16), (200, 100, 50)).save(good)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n but nothing after")
    junk_model = tmp_path / "junk.pth"
    junk_model.write_bytes(b"random bytes, not weights")
    out = tmp_path / "out"
    out.mkdir()
    return {"good": good, "broken": broken, "missing": tmp_path / "missing.png",
            "junk": junk_model, "out": out}


COMMANDS = {
    "style": lambda f, src, out: ["style", str(src), str(out), "--style", "1"],
    "upscale": lambda f, src, out: ["upscale", str(src), str(out), "--model", "lanczos"],
    "export": lambda f, src, out: ["export", str(src), str(out)],
    "control-preview": lambda f, src, out: ["control-preview", "canny", str(src), str(out)],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_missing_input_is_a_bad_argument_everywhere(files, command, capsys):
    argv = COMMANDS[command](files, files["missing"], files["out"] / "o.png")
    assert _status(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing.png" in err[0] and "does not exist" in err[0]
    assert not any(files["out"].iterdir())


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_unreadable_input_is_a_failed_file_everywhere(files, command, capsys):
    out = files["out"] / "o.png"
    assert _status(COMMANDS[command](files, files["broken"], out)) == 1
    assert "broken.png" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_good_input_is_done(files, command):
    out = files["out"] / "o.png"
    assert _status(COMMANDS[command](files, files["good"], out)) == 0
    assert Image.open(out).size[0] >= 24


@pytest.mark.parametrize("argv", [
    ["upscale", "{good}", "{out}/o.png", "--model", "{junk}"],
    ["style", "{good}", "{out}/o.png", "--cyclegan", "{junk}"],
    ["generate", "--model", "{junk}", "--prompt", "a cat", "--out", "{out}/g.png"],
])
def test_an_unusable_model_is_a_bad_argument_everywhere(files, argv, capsys):
    argv = [a.format(**{k: str(v) for k, v in files.items()}) for a in argv]
    assert _status(argv) == 2
    assert "junk.pth" in capsys.readouterr().err
    assert not any(files["out"].iterdir())
