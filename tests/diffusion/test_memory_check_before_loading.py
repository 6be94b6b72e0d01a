"""Every model format is measured against free memory before a weight is
read: all-in-one files and diffusers folders, as split sets already were."""

from __future__ import annotations

import pytest

from artstudio.diffusion import loading
from artstudio.engine import devices
from artstudio.model_files import memory


@pytest.mark.parametrize("layout", ["single", "diffusers"])
def test_a_model_that_cannot_fit_is_refused_before_a_weight_is_read(tiny, layout,
                                                                    monkeypatch):
    from artstudio.model_files import safe_load

    monkeypatch.setattr(devices, "free_memory_bytes", lambda device="cpu": 100_000_000)
    monkeypatch.setattr(safe_load, "load_state_dict",
                        lambda *a, **k: pytest.fail("read the weights although they cannot fit"))
    monkeypatch.setattr(loading, "_load_diffusers_folder",
                        lambda *a, **k: pytest.fail("loaded although it cannot fit"))
    with pytest.raises(memory.NotEnoughMemory) as caught:
        loading.load_model(tiny["sd1"][layout], device="cpu")
    assert "0.1 GB of memory is free" in str(caught.value)


def test_a_folder_counts_each_part_once_preferring_the_full_precision_files(tmp_path):
    for part, names in {"unet": ["diffusion_pytorch_model.safetensors",
                                 "diffusion_pytorch_model.fp16.safetensors"],
                        "vae": ["diffusion_pytorch_model.fp16.safetensors"],
                        "tokenizer": ["vocab.json"]}.items():
        (tmp_path / part).mkdir()
        for name in names:
            (tmp_path / part / name).write_bytes(b"")
    found = [p.relative_to(tmp_path).as_posix() for p in memory.model_weight_files(tmp_path)]
    assert found == ["unet/diffusion_pytorch_model.safetensors",
                     "vae/diffusion_pytorch_model.fp16.safetensors"]
