"""Text-to-image, image-to-image, inpainting, outpainting and instruction
edits: the modes.

Every entry point has the engine's job shape `run(params, progress, cancel)`:
`params` is a frozen GenerationParams snapshot, `progress(step, total,
message, preview)` gets a latent preview each step, and cancellation is
noticed within one step (see sampling). Modes other than text-to-image work
at a size that fits the model and paste their result back into the picture
the artist gave, keeping every unmasked pixel.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from artstudio.assists.records import assist_metadata
from artstudio.assists.tileable import tiling
from artstudio.control import apply as control_apply
from artstudio.control import references
from artstudio.diffusion import masking, metadata, previews, prompt_extras
from artstudio.diffusion.loading import LoadedModel, get_model
from artstudio.diffusion.params import (
    GenerationParams,
    GenerationResult,
    ImageInfo,
    check_params,
    round_size,
    seeds_for,
)
from artstudio.diffusion.sampling import (
    StepReporter,
    decode_latents,
    denoise,
    effective_steps,
    to_pil,
)
from artstudio.engine.cancel import Cancelled, CancelToken
from artstudio.engine.errors import UserFacingError

log = logging.getLogger(__name__)


def _resize(arr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    if arr.shape[1] == size[0] and arr.shape[0] == size[1]:
        return arr
    shrink = size[0] < arr.shape[1]
    return cv2.resize(arr, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LANCZOS4)


def _work_size(w: int, h: int, limit_w: int, limit_h: int, multiple: int = 8) -> tuple[int, int]:
    """The init image's size, shrunk to fit the requested size, in multiples
    of `multiple` (8, or the family's LatentSpace.size_multiple)."""
    scale = min(1.0, max(limit_w, limit_h) / max(w, h))
    return (max(multiple, int(w * scale) // multiple * multiple),
            max(multiple, int(h * scale) // multiple * multiple))


Made = tuple[np.ndarray, dict[str, Any], np.ndarray | None]


def _generate_one(model: LoadedModel, p: GenerationParams, seed: int, reporter: StepReporter,
                  width: int, height: int) -> Made | None:
    """The image, what its metadata adds, and for a masked mode the repaint
    alone as an RGBA layer (masking.repainted_layer); None when interrupted."""
    mode = p.mode
    if mode == "txt2img":
        lat = denoise(model, mode, p, seed, width, height, reporter)
        return None if lat is None else (decode_latents(model, lat)[0], {}, None)
    original = masking.to_rgb_array(p.init_image)
    oh, ow = original.shape[:2]
    multiple = model.family_spec.latent.size_multiple
    if mode in ("img2img", "edit"):
        ww, wh = _work_size(ow, oh, width, height, multiple)
        lat = denoise(model, mode, p, seed, ww, wh, reporter, image=_resize(original, (ww, wh)))
        if lat is None:
            return None
        made = decode_latents(model, lat)[0]
        # An edit goes back over the picture it was asked of, at its size.
        return (_resize(made, (ow, oh)) if mode == "edit" else made), {}, None
    new_area = None
    if mode == "outpaint":
        left, top, right, bottom = p.outpaint or (0, 0, 0, 0)
        original, mask = masking.extend_canvas(original, left, top, right, bottom, seed=seed)
        new_area = masking.added_area(original.shape[:2], left, top, ow, oh)
        oh, ow = original.shape[:2]
        extra = {"outpaint": [left, top, right, bottom]}
        p = control_apply.extended(p, left, top, right, bottom)
        only_masked = False
    else:
        mask = masking.to_mask_array(p.mask, (ow, oh))
        extra = {}
        only_masked = p.only_masked
    if not (mask > 0.01).any():
        raise UserFacingError("The mask is empty: paint the area to change first.")
    if only_masked:
        raw = masking.mask_crop_box(mask, p.mask_padding)
        aspect = float(np.clip(raw.width / raw.height, 0.5, 2.0))
        box = masking.mask_crop_box(mask, p.mask_padding, aspect)
        region = original[box.top:box.bottom, box.left:box.right]
        region_mask = mask[box.top:box.bottom, box.left:box.right]
        ww, wh = masking.fit_to_resolution(box.width, box.height, model.native_size, multiple)
        extra["crop"] = [box.left, box.top, box.right, box.bottom]
        p = control_apply.cropped(p, box)
    else:
        box, region, region_mask = None, original, mask
        ww, wh = _work_size(ow, oh, max(width, ow) if mode == "outpaint" else width,
                            max(height, oh) if mode == "outpaint" else height, multiple)
    small_img = _resize(region, (ww, wh))
    small_mask = _resize(region_mask, (ww, wh))
    lat = denoise(model, "inpaint", p, seed, ww, wh, reporter, image=small_img, mask=small_mask)
    if lat is None:
        return None
    generated = _resize(decode_latents(model, lat)[0], (region.shape[1], region.shape[0]))
    generated = masking.colour_match(generated, region, region_mask)
    alpha = masking.feathered_alpha(region_mask, p.mask_blur)
    pasted = masking.composite(region, generated, alpha)
    repaint = masking.repainted_layer(generated, alpha, pasted, new_area)
    if box is None:
        return pasted, extra, repaint
    result = original.copy()
    result[box.top:box.bottom, box.left:box.right] = pasted
    full = np.zeros((oh, ow, 4), np.uint8)
    full[box.top:box.bottom, box.left:box.right] = repaint
    return result, extra, full


def image_metadata(p: GenerationParams, model: LoadedModel, seed: int, width: int, height: int,
              extra: dict[str, Any]) -> dict[str, Any]:
    from artstudio import __version__ as app_version

    spec = model.family_spec
    meta = {
        "app_version": app_version, "mode": p.mode, "prompt": p.prompt,
        "negative_prompt": p.negative_prompt if spec.negative_prompt else "",
        "steps": p.steps, "seed": seed, "seed_mode": p.seed_mode, "width": width,
        "height": height, "scheduler": spec.sampler_for(p.scheduler), "variant": model.variant,
        "family": spec.name,
        "model": {"name": model.info.name, "path": str(model.info.path),
                  "hash": model.info.short_hash, "kind": model.info.kind},
        "device": model.device.describe(),
    }
    # A distilled model takes the guidance as an input and runs no CFG at all.
    meta["guidance" if spec.guidance == "distilled" else "cfg_scale"] = p.cfg_scale
    if p.mode not in ("txt2img", "edit"):
        meta["strength"] = p.strength
    if p.mode in ("inpaint", "outpaint"):
        meta.update(mask_blur=p.mask_blur, mask_padding=p.mask_padding,
                    only_masked=p.only_masked)
    meta.update(control_apply.metadata(p))
    meta.update(references.metadata(p))
    meta.update(assist_metadata(p))
    meta.update(extra)
    return meta


def checked_model(params: GenerationParams, progress, cancel: CancelToken) -> LoadedModel:
    """The request checked, then its model (cached); Cancelled when cancelled meanwhile."""
    check_params(params)
    progress(0, 1, "Loading the model")
    model = get_model(params.model, params.variant, params.device, params.precision,
                      params.cpu_offload, params.text_encoders, params.vae)
    cancel.raise_if_cancelled()
    return model


def run(params: GenerationParams, progress, cancel: CancelToken) -> GenerationResult:
    """Generate `params.count` images. Raises Cancelled when cancelled."""
    model = checked_model(params, progress, cancel)
    width, height, note = round_size(params.width, params.height,
                                     model.family_spec.latent.size_multiple)
    notes = [note] if note else []
    params, control_notes = control_apply.prepare(params, model, (width, height))
    notes += control_notes
    params, reference_notes = references.prepare(params, model)
    notes += reference_notes
    # After the controls, so the parameters it runs with hold their prepared images.
    extras = prompt_extras.resolve(params, model.family, model.family_spec.negative_prompt)
    notes += extras.notes
    per_image = effective_steps(params.steps, params.strength, params.mode)
    if model.is_inpaint_model and params.mode == "txt2img":
        per_image = params.steps
    total = per_image * params.count
    decoder = previews.TaesdPreview(params.preview_decoder) if params.preview_decoder else None
    images, infos, repaints = [], [], []
    for index, seed in enumerate(seeds_for(params)):
        cancel.raise_if_cancelled()
        message = f"Image {index + 1} of {params.count}" if params.count > 1 else ""
        reporter = StepReporter(progress, cancel, model.family, index * per_image, total,
                                 params.preview_every, message, decoder)
        with tiling(model, params):  # the denoising and the VAE decode
            made = _generate_one(model, extras.params, seed, reporter, width, height)
        if made is None:
            raise Cancelled()
        arr, extra, repaint = made
        h, w = arr.shape[:2]
        images.append(to_pil(arr))
        repaints.append(repaint)
        infos.append(ImageInfo(seed, w, h, image_metadata(params, model, seed, w, h,
                                                          {**extra, **extras.metadata})))
    progress(total, total, "Done")
    return GenerationResult(images=images, infos=infos, notes=notes, repaints=repaints)


def _targets(out: Path, seeds: list[int], overwrite: bool) -> list[Path]:
    """Where each image goes: `out` itself for one image named .png, else
    <seed>.png files in the folder `out` that never replace an earlier one."""
    if out.suffix.lower() == ".png" and len(seeds) == 1:
        if out.exists() and not overwrite:
            raise UserFacingError(f"{out.name} already exists; choose another name or allow "
                                  "overwriting it.")
        return [out]
    targets: list[Path] = []
    for seed in seeds:
        target, n = out / f"{seed}.png", 1
        while target.exists() or target in targets:
            target, n = out / f"{seed}-{n}.png", n + 1
        targets.append(target)
    return targets


def generate_to_files(params: GenerationParams, out: str | Path, progress=None,
                      cancel: CancelToken | None = None, overwrite: bool = False,
                      choose=None) -> list[Path]:
    """For the command line: generate and write PNGs with metadata. `out` is a
    folder (files named <seed>.png, never overwriting) or, for one image, a
    .png path (an existing one only with `overwrite`, checked before any work).
    `choose(result) -> result` picks what is written (best-of-N)."""
    out = Path(out)
    if out.suffix.lower() == ".png" and params.count == 1:
        _targets(out, [0], overwrite)
    progress = progress or (lambda *a, **k: None)
    result = run(params, progress, cancel or CancelToken())
    if choose is not None:
        result = choose(result)
    targets = _targets(out, [info.seed for info in result.infos], overwrite)
    targets[0].parent.mkdir(parents=True, exist_ok=True)
    return [metadata.save_png(image, target, info.metadata)
            for image, info, target in zip(result.images, result.infos, targets, strict=True)]
