"""`artstudio generate` with the assists: --tileable, --best K, --expand."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from artstudio.cli import main


@pytest.fixture(scope="module")
def sd1(tmp_path_factory):
    from tiny_pipelines import save_tiny_models

    return str(save_tiny_models(tmp_path_factory.mktemp("models"), kinds=("sd1",))["sd1"]
               ["diffusers"])


def _generate(model: str, out, *extra: str) -> int:
    return main(["generate", "--model", model, "--prompt", "a red fox", "--steps", "2",
                 "--width", "64", "--height", "64", "--seed", "3", "--device", "cpu",
                 "--out", str(out), *extra])


def _png(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB")), dict(image.text)


def test_tileable_from_the_command_line(sd1, tmp_path, capsys, no_progress, token):
    from artstudio.diffusion.generate import run
    from artstudio.diffusion.params import GenerationParams

    assert _generate(sd1, tmp_path / "tiled.png", "--tileable") == 0, capsys.readouterr().err
    pixels, text = _png(tmp_path / "tiled.png")
    assert json.loads(text["artstudio"])["tileable"] is True
    assert "Tiling: True" in text["parameters"]
    p = GenerationParams(model=sd1, prompt="a red fox", steps=2, width=64, height=64, seed=3,
                         device="cpu", tileable=True)
    assert np.array_equal(pixels, np.asarray(run(p, no_progress, token).images[0]))


def test_tileable_is_refused_for_a_transformer_model(tmp_path, capsys):
    from tiny_pipelines import save_tiny_flux

    flux = save_tiny_flux(tmp_path / "m", ("flux-schnell",))["flux-schnell"]["diffusers"]
    assert _generate(str(flux), tmp_path / "out.png", "--tileable") == 2
    err = capsys.readouterr().err.strip()
    assert "--tileable" in err and "UNet" in err and err.count("\n") == 0
    assert not (tmp_path / "out.png").exists()


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    from tiny_assists import save_tiny_clip

    return save_tiny_clip(tmp_path_factory.mktemp("clip") / "tiny-clip")


@pytest.fixture
def empty_hub(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    return tmp_path / "hub"


def test_best_k_of_n_writes_the_best_with_their_rank_and_same_pixels(sd1, clip, tmp_path,
                                                                       capsys, empty_hub):
    from artstudio.assists.ranking import ClipScorer

    assert _generate(sd1, tmp_path / "all", "--count", "4") == 0
    assert _generate(sd1, tmp_path / "best", "--count", "4", "--best", "2",
                     "--clip", str(clip)) == 0, capsys.readouterr().err
    every = {p.stem: _png(p)[0] for p in sorted((tmp_path / "all").glob("*.png"))}
    seeds = list(every)
    scores = ClipScorer.load(clip).scores([Image.fromarray(a) for a in every.values()],
                                          "a red fox")
    expected = sorted(range(4), key=lambda i: -scores[i])[:2]
    best = sorted((tmp_path / "best").glob("*.png"))
    assert sorted(p.stem for p in best) == sorted(seeds[i] for i in expected)
    for path in best:
        pixels, text = _png(path)
        assert np.array_equal(pixels, every[path.stem])  # ranking never changes pixels
        meta = json.loads(text["artstudio"])
        rank = expected.index(seeds.index(path.stem)) + 1
        assert meta["rank"] == [rank, 4] and meta["clip_model"] == "tiny-clip"
        assert meta["clip_score"] == pytest.approx(scores[seeds.index(path.stem)], abs=0.01)
        assert f"CLIP rank: {rank} of 4" in text["parameters"]
        assert f"CLIP score: {meta['clip_score']}" in text["parameters"]


def test_best_without_a_clip_model_writes_all_with_a_note(sd1, tmp_path, capsys, empty_hub):
    assert _generate(sd1, tmp_path / "out", "--count", "2", "--best", "1") == 0
    err = capsys.readouterr().err
    assert "No CLIP model was found" in err and str(empty_hub) in err
    assert "clip" in err and "not ranked" in err
    assert len(list((tmp_path / "out").glob("*.png"))) == 2


def test_best_refuses_a_model_that_is_not_clip_and_a_k_above_n(sd1, tmp_path, capsys):
    from tiny_assists import save_tiny_lm

    lm = save_tiny_lm(tmp_path / "lm")
    assert _generate(sd1, tmp_path / "out", "--count", "2", "--best", "1",
                     "--clip", str(lm)) == 2
    assert "is not a CLIP model" in capsys.readouterr().err
    assert _generate(sd1, tmp_path / "out", "--count", "2", "--best", "3") == 2
    assert "--best 3" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    from tiny_assists import save_tiny_lm

    return save_tiny_lm(tmp_path_factory.mktemp("lm") / "tiny-gpt2")


def test_expand_replaces_the_prompt_and_records_both(sd1, lm, tmp_path, capsys, no_progress,
                                                      token):
    from artstudio.assists import expand
    from artstudio.diffusion.generate import run
    from artstudio.diffusion.params import GenerationParams

    expected, _notes = expand.expand(expand.load_expander(lm), "a red fox", 3)
    for name in ("one", "two"):  # the same seed, the same expansion
        assert _generate(sd1, tmp_path / f"{name}.png", "--expand", "--lm", str(lm)) == 0
        pixels, text = _png(tmp_path / f"{name}.png")
        meta = json.loads(text["artstudio"])
        assert (meta["prompt"], meta["original_prompt"]) == (expected, "a red fox")
        assert text["parameters"].startswith(expected + "\n")
        assert "Original prompt: a red fox" in text["parameters"]
    assert expected in capsys.readouterr().err
    p = GenerationParams(model=sd1, prompt=expected, steps=2, width=64, height=64, seed=3,
                         device="cpu")
    assert np.array_equal(pixels, np.asarray(run(p, no_progress, token).images[0]))


def _lm_suppressing(folder, suppress) -> str:
    """A tiny LM that never writes the tokens `suppress(eos_id)` gives."""
    from tiny_assists import save_tiny_lm

    lm = save_tiny_lm(folder)
    config = json.loads((lm / "generation_config.json").read_text())
    config["suppress_tokens"] = suppress(config["eos_token_id"])
    (lm / "generation_config.json").write_text(json.dumps(config))
    return str(lm)


def test_an_over_long_expansion_is_cut_to_the_encoder_with_a_note(sd1, tmp_path, capsys):
    from artstudio.assists import expand

    talkative = _lm_suppressing(tmp_path / "talkative", lambda eos: [eos])  # it never stops
    assert _generate(sd1, tmp_path / "a.png", "--expand", "--lm", talkative) == 0
    assert "cut to the 75 tokens the text encoder reads" in capsys.readouterr().err
    prompt = json.loads(_png(tmp_path / "a.png")[1]["artstudio"])["prompt"]
    assert 0 < expand.clip_token_count(prompt) <= expand.CLIP_WORDS


def test_an_empty_expansion_keeps_the_prompt_with_a_note(sd1, tmp_path, capsys):
    from tiny_assists import WORDS

    silent = _lm_suppressing(tmp_path / "silent",  # it can only stop
                             lambda eos: [i for i in range(len(WORDS)) if i != eos])
    assert _generate(sd1, tmp_path / "a.png", "--expand", "--lm", silent) == 0
    assert "empty expansion; the prompt is kept" in capsys.readouterr().err
    meta = json.loads(_png(tmp_path / "a.png")[1]["artstudio"])
    assert meta["prompt"] == "a red fox" and "original_prompt" not in meta


def test_expand_without_a_language_model_and_with_the_wrong_kind(sd1, clip, tmp_path, capsys,
                                                                 empty_hub):
    assert _generate(sd1, tmp_path / "a.png", "--expand") == 0
    err = capsys.readouterr().err
    assert "No language model was found" in err and str(empty_hub) in err
    assert json.loads(_png(tmp_path / "a.png")[1]["artstudio"])["prompt"] == "a red fox"
    assert _generate(sd1, tmp_path / "b.png", "--expand", "--lm", str(clip)) == 2
    assert "is not a language model" in capsys.readouterr().err
    assert not (tmp_path / "b.png").exists()
