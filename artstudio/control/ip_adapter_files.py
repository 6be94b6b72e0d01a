"""IP-Adapter files as artists keep them: single `.safetensors` files in
ComfyUI's `models/ipadapter` and A1111's `models/ControlNet` (the ControlNet
extension reads them from there), and the diffusers download (h94/IP-Adapter:
`models/ip-adapter_sd15.safetensors` beside `models/image_encoder/`).

Recognised by their tensors, never their names: `image_proj.*` and
`ip_adapter.*`. The image projection says the kind (base: one `proj` layer
giving 4 tokens from the image embedding; plus: a Resampler with learnt
`latents` reading the encoder's hidden states; full-face: an MLP over them;
FaceID ones, which need InsightFace, are named and refused) and what it needs
from the image encoder; the key/value layers say the width of the text the
UNet's cross-attention reads (768 SD 1.x, 2048 SDXL). FLUX.1 Redux files
(`redux_up`, `redux_down`, in ComfyUI's models/style_models) turn SigLIP's
image tokens into text tokens of FLUX's width.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from artstudio.control.controlnet_files import CONTROLNET_FOLDERS, FAMILY_LABELS
from artstudio.control.image_encoders import EncoderNeed
from artstudio.engine.errors import UserFacingError
from artstudio.model_files import safe_load

ADAPTER_FOLDERS = ("ipadapter", "style_models", *CONTROLNET_FOLDERS)  # Redux: style_models
_CROSS_WIDTHS = {768: "sd1", 1024: "sd2", 2048: "sdxl"}
GENERATES = ("base", "plus", "full-face", "redux")
# the library's choice when a reference names no adapter: general ones before face ones
_PREFERENCE = {"base": 0, "redux": 0, "plus": 1, "full-face": 2}


@dataclass(frozen=True)
class AdapterInfo:
    path: Path  # the .safetensors file
    # "base", "plus", "full-face", "faceid", "faceid-plus", "redux", or "" when none
    kind: str
    family: str  # "sd1", "sdxl", "flux", or "" when its width does not say
    cross_width: int = 0
    need: EncoderNeed | None = None  # what it reads from the image encoder
    encoder: Path | None = None  # the image_encoder folder of a diffusers download
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def is_adapter(self) -> bool:
        return bool(self.kind)

    @property
    def format(self) -> str:
        return "diffusers" if self.encoder is not None else "single-file"

    def models_label(self) -> str:
        """"Stable Diffusion XL models", or by width when that names no family."""
        if self.family:
            return f"{FAMILY_LABELS[self.family]} models"
        return f"models whose text is {self.cross_width} wide"

    def unusable_with(self, family: str, cross_width: int) -> str | None:
        """Why this adapter cannot guide a model of `family` whose UNet reads
        text `cross_width` wide; None when it can."""
        if not self.is_adapter:
            return f"{self.path.name} is not an IP-Adapter ({'; '.join(self.notes)})."
        if self.kind not in GENERATES:
            return f"{self.name} is {self.notes[0]}; it is not supported."
        if (self.family and self.family != family) or (
                cross_width and self.cross_width != cross_width) or (
                (self.kind == "redux") != (family == "flux")):
            what = "a FLUX.1 Redux adapter" if self.kind == "redux" else "an IP-Adapter"
            return (f"{self.name} is {what} for {self.models_label()}; it cannot "
                    f"guide this {FAMILY_LABELS.get(family, family)} model.")
        return None


def classify_tensors(shapes: Mapping[str, tuple[int, ...]]
                     ) -> tuple[str, int, EncoderNeed | None, list[str]]:
    """(kind, cross width, encoder need, notes) from tensor names and shapes."""
    if "redux_up.weight" in shapes and "redux_down.weight" in shapes:
        return "redux", shapes["redux_down.weight"][0], EncoderNeed(
            "siglip", shapes["redux_up.weight"][1]), []
    proj = {k.removeprefix("image_proj."): s for k, s in shapes.items()
            if k.startswith("image_proj.")}
    widths = [s[1] for k, s in shapes.items()
              if k.startswith("ip_adapter.") and k.endswith(".to_k_ip.weight") and len(s) == 2]
    if not proj or not widths:
        return "", 0, None, ["its tensors have no image_proj / ip_adapter layers"]
    cross = max(widths)
    if "perceiver_resampler.proj_in.weight" in proj:
        return "faceid-plus", cross, None, [
            "an IP-Adapter FaceID Plus, which needs InsightFace face embeddings"]
    if "proj.weight" in proj:
        return "base", cross, EncoderNeed("projection", proj["proj.weight"][1]), []
    if "proj.3.weight" in proj:
        return "full-face", cross, EncoderNeed("hidden", proj["proj.0.weight"][1]), []
    if "latents" in proj and "proj_in.weight" in proj:
        return "plus", cross, EncoderNeed("hidden", proj["proj_in.weight"][1]), []
    if "norm.weight" in proj:
        return "faceid", cross, None, [
            "an IP-Adapter FaceID, which needs InsightFace face embeddings"]
    return "", cross, None, ["its image projection is of a kind not known here"]


def _encoder_beside(path: Path) -> Path | None:
    folder = path.parent / "image_encoder"
    return folder if (folder / "config.json").is_file() else None


def identify_adapter(path: str | os.PathLike) -> AdapterInfo:
    """An IP-Adapter file (or a diffusers download's folder holding one),
    identified by reading it; anything else comes back with an empty kind and
    the reason in `notes`."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("ip-adapter*.safetensors")) or sorted(path.glob("*.safetensors"))
        if len(files) != 1:
            return AdapterInfo(path, "", "", notes=(
                "a folder holding one IP-Adapter .safetensors file is needed, "
                f"this one holds {len(files)}",))
        path = files[0]
    if not path.is_file():
        return AdapterInfo(path, "", "", notes=("there is no such file",))
    if path.suffix.lower() not in safe_load.SAFETENSORS_SUFFIXES:
        return AdapterInfo(path, "", "", notes=(
            f"IP-Adapters are read from .safetensors only ({path.suffix} files could run code "
            "when loaded; the same adapters are published as .safetensors)",))
    try:
        shapes = safe_load.tensor_shapes(safe_load.read_safetensors_header(path))
    except (UserFacingError, OSError) as exc:
        return AdapterInfo(path, "", "", notes=(str(exc),))
    kind, cross, need, notes = classify_tensors(shapes)
    family = "flux" if kind == "redux" else _CROSS_WIDTHS.get(cross, "")
    return AdapterInfo(path, kind, family, cross, need, _encoder_beside(path), tuple(notes))


def adapter_roots(extra: Iterable[str | os.PathLike] = ()) -> list[Path]:
    """Where IP-Adapters are looked for: the app's models/ipadapter, ComfyUI's
    models/ipadapter, A1111's and Forge's models/ControlNet (and ComfyUI's
    models/controlnet, where some artists put them), and the artist's folders."""
    from artstudio.control.library import model_roots

    return model_roots(ADAPTER_FOLDERS, extra)


def find_adapters(roots: Iterable[Path] | None = None, max_depth: int = 2) -> list[AdapterInfo]:
    """Every IP-Adapter or Redux file under `roots` (default adapter_roots())."""
    from artstudio.control.library import find_models

    def is_candidate(entry: Path) -> bool:
        return not entry.is_dir() and entry.suffix.lower() in safe_load.SAFETENSORS_SUFFIXES

    return find_models(roots if roots is not None else adapter_roots(), max_depth,
                       is_candidate, identify_adapter, lambda info: info.is_adapter)


def pick_adapter(family: str, cross: int, known: Iterable[AdapterInfo]) -> AdapterInfo:
    """The library's adapter for the model: a general one before a face one."""
    fitting = [i for i in known if i.unusable_with(family, cross) is None]
    if fitting:
        return min(fitting, key=lambda i: (_PREFERENCE[i.kind], "face" in i.name.lower(),
                                           i.name.lower()))
    if family == "flux":
        raise UserFacingError(
            "No FLUX.1 Redux file (flux1-redux-dev.safetensors) was found in models/style_models; "
            "name one (IMAGE:WEIGHT:MODEL) or add one there.")
    raise UserFacingError(
        f"No IP-Adapter for {FAMILY_LABELS.get(family, family)} models was found (models/"
        "ipadapter, or A1111's models/ControlNet); name one (IMAGE:WEIGHT:MODEL) or add one "
        "there.")


def resolve_adapter(name: str, known: Iterable[AdapterInfo]) -> AdapterInfo:
    """The adapter a path or a name in the library means."""
    from artstudio.control.library import resolve_named

    return resolve_named(name, known, identify_adapter,
                         f"The IP-Adapter “{name}” is neither a file nor a name in the "
                         "adapter folders (models/ipadapter, models/ControlNet).")
