"""Textual-inversion embeddings: found by name, a token in the prompt changes
the picture, pickles only through the weights-only loader."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from artstudio.diffusion import embeddings
from artstudio.diffusion.loading import load_model
from artstudio.engine.errors import UserFacingError


@pytest.fixture(scope="module")
def model(tiny):
    return load_model(tiny["sd1"]["diffusers"], device="cpu")


def _image(model, prompt):
    latents = torch.randn(1, 4, 32, 32, generator=torch.Generator().manual_seed(2))
    return model.pipe(prompt, num_inference_steps=2, width=64, height=64, latents=latents,
                      output_type="np").images[0] * 255


def test_an_embedding_token_changes_the_picture(model, tmp_path):
    folder = tmp_path / "embeddings"
    folder.mkdir()
    torch.manual_seed(0)
    save_file({"emb_params": torch.randn(2, 32) * 3}, str(folder / "inkstyle.safetensors"))
    known = embeddings.find_embeddings([folder])
    used = embeddings.used_in(["a red cat, inkstyle", ""], known)
    assert [e.name for e in used] == ["inkstyle"]
    before = _image(model, "a red cat")
    assert embeddings.load_embeddings(model.pipe, "sd1", used) == ["inkstyle"]
    assert embeddings.load_embeddings(model.pipe, "sd1", used) == []  # once only
    assert np.abs(_image(model, "a red cat inkstyle") - before).max() > 1
    assert np.abs(_image(model, "a red cat") - before).max() <= 1


def test_a_pickle_embedding_needing_more_than_weights_is_refused(model, tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ("ran",))

    bad = tmp_path / "evil.pt"
    with bad.open("wb") as f:
        pickle.dump({"string_to_param": Payload()}, f)
    with pytest.raises(UserFacingError, match=r"Refused to load evil\.pt"):
        embeddings.load_embeddings(model.pipe, "sd1", [embeddings.Embedding("evil", bad)])


def test_other_families_and_sdxl_files_for_sd1_are_told(model, tmp_path):
    path = tmp_path / "plainstyle.safetensors"
    save_file({"emb_params": torch.zeros(1, 32)}, str(path))
    one = [embeddings.Embedding("plainstyle", path)]
    with pytest.raises(UserFacingError, match=r"1\.x, 2\.x and SDXL models only"):
        embeddings.load_embeddings(model.pipe, "flux", one)
    with pytest.raises(UserFacingError, match="not an SDXL embedding"):
        embeddings.load_embeddings(model.pipe, "sdxl", one)
    # a name the vocabulary already has cannot become a new token
    with pytest.raises(UserFacingError, match="does not fit this model"):
        embeddings.load_embeddings(model.pipe, "sd1", [embeddings.Embedding("a", path)])
