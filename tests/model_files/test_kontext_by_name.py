"""FLUX.1 Kontext files hold dev's tensors; the names they are shipped under
(BFL's flux1-kontext-dev, ComfyUI's flux1-dev-kontext_fp8_scaled) say which."""

from __future__ import annotations

import pytest
import split_parts as sp

from artstudio.model_files.identify import identify


def _all_in_one() -> dict:
    return {**sp.flux1(prefix="model.diffusion_model."),
            **{"text_encoders.clip_l.transformer." + k: v for k, v in sp.clip(width=24).items()},
            **{"text_encoders.t5xxl.transformer." + k: v for k, v in sp.t5(width=32).items()},
            **{"vae." + k: v for k, v in sp.vae(16).items()}}


@pytest.mark.parametrize("shapes, layout", [(sp.flux1, "split"), (_all_in_one, "single-file")])
def test_a_kontext_file_name_makes_a_dev_file_kontext(tmp_path, shapes, layout):
    kontext = identify(sp.write(tmp_path / "flux1-dev-kontext_fp8_scaled.safetensors", shapes()))
    dev = identify(sp.write(tmp_path / "flux1-dev.safetensors", shapes()))
    assert (kontext.format, dev.format) == (layout, layout)
    assert kontext.kind == "flux-kontext" and kontext.notes == ("flux-kontext, from the file name",)
    assert dev.kind == "flux-dev" and any("Kontext" in n for n in dev.notes)
