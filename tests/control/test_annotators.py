"""The line art and soft edge networks: random weights saved with the key
names of the published files (lllyasviel/Annotators, as controlnet-aux loads
them) load from the annotator folder and give a control image of the layer's
size; wrong or unsafe files are refused with one clear line."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from artstudio.cli import main
from artstudio.control import preprocessors
from artstudio.control.annotators import hed, lineart, lineart_anime
from artstudio.engine.errors import UserFacingError

H, W = 61, 97  # odd sides: the networks' multiples of 64 and 256 must not leak out

NETWORKS = {  # preprocessor: (builder, published file)
    "lineart_model": (lineart.build, "sk_model.pth"),
    "lineart_coarse": (lineart.build, "sk_model2.pth"),
    "lineart_anime": (lineart_anime.build, "netG.pth"),
    "softedge_hed": (hed.build, "ControlNetHED.pth"),
}

# Key names and shapes as in controlnet-aux's modules (lineart/, lineart_anime/,
# hed/__init__.py), which load the published files strictly.
PUBLISHED_KEYS = {
    lineart.build: {"model0.1.weight": (64, 3, 7, 7), "model1.3.weight": (256, 128, 3, 3),
                    "model2.2.conv_block.5.weight": (256, 256, 3, 3),
                    "model3.3.weight": (128, 64, 3, 3), "model4.1.weight": (1, 64, 7, 7)},
    lineart_anime.build: {"model.model.0.weight": (64, 3, 4, 4),
                          "model.model.1.model.1.weight": (128, 64, 4, 4),
                          "model.model.3.weight": (128, 1, 4, 4)},
    hed.build: {"norm": (1, 3, 1, 1), "block1.convs.1.weight": (64, 64, 3, 3),
                "block3.convs.2.weight": (256, 256, 3, 3),
                "block5.projection.weight": (1, 512, 1, 1)},
}


def drawing() -> np.ndarray:
    img = np.full((H, W, 4), 255, np.uint8)
    img[10:50, 20:24, :3] = 0
    img[:, 70:, 3] = 0  # transparent: laid on white
    return img


def save(folder, name, builder, change=None, dtype=torch.float32, prefix=""):
    torch.manual_seed(0)
    state = builder().state_dict()
    if change:
        change(state)
    torch.save({prefix + k: v.to(dtype) for k, v in state.items()}, folder / name)
    return folder / name


@pytest.mark.parametrize("builder", list(PUBLISHED_KEYS))
def test_the_networks_have_the_published_key_names(builder):
    own = {k: tuple(v.shape) for k, v in builder().state_dict().items()}
    for key, shape in PUBLISHED_KEYS[builder].items():
        assert own[key] == shape, key


@pytest.mark.parametrize("name", list(NETWORKS))
def test_a_network_from_the_annotator_folder_gives_a_control_image_of_the_layers_size(
        annotators, name):
    builder, file = NETWORKS[name]
    assert preprocessors.unavailable_reason(name) is not None
    save(annotators, file, builder)
    assert preprocessors.unavailable_reason(name) is None
    kind = preprocessors.PREPROCESSORS[name].kind
    out = preprocessors.preprocess(kind, drawing(), name, device="cpu")
    assert out.shape == (H, W, 3) and out.dtype == np.uint8
    assert np.array_equal(out[..., 0], out[..., 2])
    assert out.std() > 0  # random weights still give a picture, not a constant


@pytest.mark.parametrize(("name", "last", "value"), [
    ("lineart_model", "model4.1", 0),  # sigmoid 1: paper -> black (lines are white)
    ("lineart_anime", "model.model.3", 0),  # tanh 1: paper -> black
    ("softedge_hed", "block{}.projection", 255),  # every side output certain: edge -> white
])
def test_what_the_network_is_sure_of_is_drawn_the_way_controlnets_read_it(
        annotators, name, last, value):
    builder, file = NETWORKS[name]

    def certain(state):
        for layer in [last.format(i) for i in range(1, 6)] if "{}" in last else [last]:
            state[f"{layer}.weight"].zero_()
            state[f"{layer}.bias"].fill_(20.0)

    save(annotators, file, builder, certain)
    out = preprocessors.preprocess(preprocessors.PREPROCESSORS[name].kind, drawing(), name,
                                   device="cpu")
    assert out.shape == (H, W, 3) and np.all(out == value)


def test_half_precision_files_and_dataparallel_names_load(annotators):
    save(annotators, "ControlNetHED.pth", hed.build, dtype=torch.float16)  # as published
    save(annotators, "netG.pth", lineart_anime.build, prefix="module.")
    for name in ("softedge_hed", "lineart_anime"):
        kind = preprocessors.PREPROCESSORS[name].kind
        assert preprocessors.preprocess(kind, drawing(), name, device="cpu").shape == (H, W, 3)


def test_the_kinds_own_preprocessor_stays_opencv_and_names_resolve():
    assert preprocessors.resolve("lineart") == ("lineart", "lineart")
    assert preprocessors.resolve("softedge_hed") == ("softedge", "softedge_hed")
    assert preprocessors.resolve("lineart", "lineart_anime") == ("lineart", "lineart_anime")
    assert preprocessors.resolve("lineart_realistic") == ("lineart", "lineart_model")  # A1111's
    assert preprocessors.resolve("depth", "depth_anything_v2") == ("depth", "depth")
    with pytest.raises(UserFacingError, match="the preprocessors of depth are depth"):
        preprocessors.resolve("depth", "softedge_hed")


def test_a_missing_file_is_named_with_the_folders_looked_in(annotators):
    with pytest.raises(UserFacingError) as err:
        preprocessors.preprocess("lineart", drawing(), "lineart_coarse")
    said = str(err.value)
    assert "sk_model2.pth" in said and str(annotators) in said and "\n" not in said
    assert preprocessors.preprocess("lineart", drawing()).shape == (H, W, 3)  # OpenCV, no file


def test_a_file_of_another_network_is_refused_clearly(annotators):
    save(annotators, "ControlNetHED.pth", lineart.build)
    with pytest.raises(UserFacingError, match=r"ControlNetHED.pth does not hold the HED soft "
                                              r"edge network \(37 of its 37 tensors missing"):
        preprocessors.preprocess("softedge", drawing(), "softedge_hed", device="cpu")


class _Runs:
    """Unpickling this would create a file: proof that nothing was unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_pickle_holding_more_than_tensors_is_refused_and_never_run(annotators, tmp_path):
    marker = tmp_path / "ran"
    torch.save({"model0.1.weight": torch.zeros(1), "hook": _Runs(marker)},
               annotators / "sk_model.pth")
    with pytest.raises(UserFacingError, match=r"Refused to load sk_model\.pth"):
        preprocessors.preprocess("lineart", drawing(), "lineart_model", device="cpu")
    assert not marker.exists()


def test_available_preprocessors_list_each_with_why_not(annotators):
    save(annotators, "ControlNetHED.pth", hed.build)
    edge = {a.name: a for a in preprocessors.available_preprocessors("softedge")}
    assert list(edge) == ["softedge", "softedge_hed"]  # the kind's own first
    assert edge["softedge"].available and edge["softedge_hed"].available
    lines = {a.name: a for a in preprocessors.available_preprocessors("lineart")}
    assert lines["lineart"].available and not lines["lineart_anime"].available
    assert "netG.pth" in lines["lineart_anime"].reason
    every = preprocessors.available_preprocessors()
    assert {a.name for a in every} == set(preprocessors.PREPROCESSORS)


def test_control_preview_runs_a_network_preprocessor(annotators, tmp_path, capsys):
    source = tmp_path / "in.png"
    Image.fromarray(drawing()).save(source)
    out = tmp_path / "out.png"
    assert main(["control-preview", "softedge_hed", str(source), str(out)]) == 2
    assert "ControlNetHED.pth" in capsys.readouterr().err
    save(annotators, "ControlNetHED.pth", hed.build)
    assert main(["control-preview", "softedge_hed", str(source), str(out)]) == 0
    with Image.open(out) as made:
        assert made.size == (W, H)


def test_generate_uses_the_named_preprocessor_and_records_it(
        annotators, tiny, tiny_controlnets, tmp_path, capsys):
    source = tmp_path / "in.png"
    Image.fromarray(drawing()).resize((64, 64)).save(source)
    net = tiny_controlnets["sd1-canny"]["single"]
    save(annotators, "ControlNetHED.pth", hed.build)
    out = tmp_path / "out.png"
    assert main(["generate", "--model", str(tiny["sd1"]["diffusers"]), "--prompt", "a cat",
                 "--steps", "2", "--seed", "5", "--width", "64", "--height", "64",
                 "--device", "cpu", "--out", str(out),
                 "--control", f"softedge_hed:{source}:{net}"]) == 0
    with Image.open(out) as made:
        assert 'ControlNet 0: "Module: softedge_hed, Model: control_tiny_sd15_canny' in \
            made.text["parameters"]


def test_a_network_is_loaded_once_and_freed_with_the_other_models(annotators, monkeypatch):
    from artstudio.control.annotators import loading
    from artstudio.engine.model_cache import shared_cache

    loads = []
    real = loading.load_weights
    monkeypatch.setattr(loading, "load_weights", lambda *a, **k: loads.append(1) or real(*a, **k))
    save(annotators, "sk_model.pth", lineart.build)
    for _ in range(2):
        preprocessors.preprocess("lineart", drawing(), "lineart_model", device="cpu")
    assert len(loads) == 1
    assert any(key[:1] == ("annotator",) for key in list(shared_cache().keys()))
    shared_cache().unload_all()  # Tools > Unload All Models
    preprocessors.preprocess("lineart", drawing(), "lineart_model", device="cpu")
    assert len(loads) == 2
