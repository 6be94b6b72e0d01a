"""Results applied as layers: they hold only what was repainted, sit above
what they were made from, and leave the picture outside the mask exactly as
it was, whichever layer was active (issue 11, items 1, 3 and 7)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from artstudio.diffusion import generate
from artstudio.diffusion.masking import feathered_alpha
from artstudio.diffusion.params import GenerationParams, GenerationResult, ImageInfo
from artstudio.diffusion.results import (
    Candidate,
    ResultTarget,
    apply_candidate,
    erased_candidate,
    generated_candidates,
)
from artstudio.document import Document, Layer, Rect
from artstudio.document.result_layers import contributing_uids, index_above, place_in_frame
from artstudio.document.staleness import DocumentMark
from artstudio.engine import RequestRefused
from artstudio.erase import EraseParams, erase_run


def background(w: int, h: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    rgba = np.empty((h, w, 4), np.uint8)
    rgba[..., 0] = 40 + xx * 150 // w
    rgba[..., 1] = 90 + yy * 120 // h
    rgba[..., 2] = 160
    rgba[..., 3] = 255
    return rgba


def strokes(w: int, h: int) -> np.ndarray:
    """Dark anti-aliased strokes on transparency (drawn 4x larger, then
    reduced), so their edges are partly transparent."""
    big = Image.new("RGBA", (w * 4, h * 4), (0, 0, 0, 0))
    draw = ImageDraw.Draw(big)
    draw.line([(8, 8), (w * 4 - 8, h * 4 - 8)], fill=(20, 10, 5, 255), width=14)
    draw.line([(8, h * 4 - 8), (w * 4 - 8, 8)], fill=(200, 30, 30, 255), width=10)
    draw.ellipse([w, h, w * 2, h * 2], outline=(250, 240, 20, 255), width=9)
    return np.asarray(big.resize((w, h), Image.Resampling.LANCZOS)).copy()


def painting(w: int = 96, h: int = 64) -> Document:
    """A background and an upper layer of strokes; the background is active."""
    layers = [Layer(background(w, h), name="Background"), Layer(strokes(w, h), name="Ink")]
    doc = Document.from_layers(w, h, layers, active=0)
    assert (doc.layer(1).pixels[..., 3] % 255).astype(bool).sum() > 0  # soft edges
    return doc


def box_mask(w: int, h: int, box: tuple[int, int, int, int]) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    mask[box[1]:box[3], box[0]:box[2]] = 255
    return mask


def target(doc: Document, mode: str, frame: Rect, outpaint=None, **kw) -> ResultTarget:
    """What the Generate panel records when it queues a job."""
    return ResultTarget(mode, frame, DocumentMark.of(doc), outpaint,
                        contributing_uids(doc, frame), **kw)


def rgb_picture(doc: Document, frame: Rect | None = None) -> Image.Image:
    return Image.fromarray(doc.composite(frame or doc.rect)[..., :3].copy(), "RGB")


def test_an_erase_changes_only_the_mask_with_the_background_active(no_progress, token):
    doc = painting()
    mask = box_mask(96, 64, (30, 20, 60, 44))
    doc.set_mask(mask)
    before = doc.composite().copy()
    params = EraseParams(image=rgb_picture(doc), mask=Image.fromarray(mask, "L"))
    erased = erase_run(params, no_progress, token)
    candidate = erased_candidate(erased, "telea", target(doc, "erase", doc.rect), params.mask)

    layer = apply_candidate(doc, candidate).layer

    after = doc.composite()
    outside = mask == 0
    assert np.array_equal(after[outside], before[outside])  # to the level
    assert np.array_equal(after[~outside][:, :3], np.asarray(erased)[~outside])
    assert doc.index_of(layer) == 2 and doc.active_index == 2  # above the strokes it erased
    assert not layer.pixels[outside][:, 3].any()  # holds only what was repainted
    assert (layer.pixels[~outside][:, 3] == 255).all()
    assert doc.undo_label == "Apply generation"
    doc.undo()
    assert len(doc.layers) == 2 and np.array_equal(doc.composite(), before)


def test_hiding_a_painted_layer_after_an_erase_shows_no_copy_of_its_strokes(no_progress,
                                                                            token):
    doc = painting()
    mask = box_mask(96, 64, (10, 10, 30, 30))
    params = EraseParams(image=rgb_picture(doc), mask=Image.fromarray(mask, "L"))
    erased = erase_run(params, no_progress, token)
    apply_candidate(doc, erased_candidate(erased, "telea", target(doc, "erase", doc.rect),
                                          params.mask))
    doc.set_layer_visible(1, False)
    outside = mask == 0
    assert np.array_equal(doc.composite()[outside], background(96, 64)[outside])


@pytest.mark.parametrize("only_masked", [False, True])
def test_an_inpainting_is_its_feathered_repaint_above_what_it_was_made_from(
        tiny, no_progress, token, only_masked):
    doc = painting()
    frame = Rect(8, 4, 80, 56)
    doc.set_frame(frame)
    mask = box_mask(96, 64, (28, 18, 62, 46))
    doc.set_mask(mask)
    before = doc.composite().copy()
    frame_mask = mask[frame.slices()]
    params = GenerationParams(model=str(tiny["sd1-inpaint"]["diffusers"]), prompt="a boat",
                              steps=2, width=frame.w, height=frame.h, seed=3, device="cpu",
                              init_image=rgb_picture(doc, frame), strength=1.0,
                              mask=Image.fromarray(frame_mask, "L"), mask_blur=6,
                              mask_padding=4, only_masked=only_masked)
    result = generate.run(params, no_progress, token)
    [candidate] = generated_candidates(result, target(doc, "inpaint", frame))

    layer = apply_candidate(doc, candidate).layer

    after = doc.composite()
    assert doc.index_of(layer) == 2 and (layer.x, layer.y) == (frame.x, frame.y)
    outside = mask == 0
    assert np.array_equal(after[outside], before[outside])
    alpha = feathered_alpha(frame_mask.astype(np.float32) / 255, 6)
    assert np.array_equal(layer.pixels[..., 3], np.rint(alpha * 255).astype(np.uint8))
    assert ((alpha > 0) & (alpha < 1)).sum() > 0  # a real feather
    # over the picture it came from, the layer gives the pasted result back
    pasted = np.asarray(result.images[0]).astype(int)
    inside = after[frame.slices()][..., :3].astype(int)
    assert np.abs(inside - pasted).max() <= 1


def test_an_outpainting_adds_the_new_area_and_its_seam_only(tiny, no_progress, token):
    doc = painting(64, 64)
    before = doc.composite().copy()
    margins = (32, 0, 16, 0)
    params = GenerationParams(model=str(tiny["sd1-inpaint"]["diffusers"]), prompt="sea",
                              steps=2, width=64, height=64, seed=5, device="cpu",
                              init_image=rgb_picture(doc), strength=1.0, outpaint=margins)
    result = generate.run(params, no_progress, token)
    [candidate] = generated_candidates(result, target(doc, "outpaint", doc.rect, margins))

    layer = apply_candidate(doc, candidate).layer

    assert doc.size == (112, 64) and doc.index_of(layer) == 2
    after = doc.composite()
    alpha = layer.pixels[..., 3]
    assert (alpha[:, :32] == 255).all() and (alpha[:, 96:] == 255).all()  # the new area
    assert alpha[:, 32:48].any() and alpha[:, 80:96].any()  # the seam fades in
    old = alpha[:, 32:96] == 0
    assert old.sum() > 64 * 16  # most of the old picture is not in the layer
    assert np.array_equal(after[:, 32:96][old], before[old])


def test_an_image_to_image_result_stays_opaque_above_the_layers_it_was_made_from():
    doc = painting()
    frame = Rect(0, 0, 48, 32)
    c = Candidate(Image.new("RGB", (48, 32), (1, 2, 3)), {"prompt": "x"},
                  target(doc, "img2img", frame))
    layer = apply_candidate(doc, c).layer
    assert doc.index_of(layer) == 2 and (layer.pixels[..., 3] == 255).all()
    assert (doc.composite(frame)[..., :3] == (1, 2, 3)).all()


def test_a_result_goes_above_the_top_contributor_left_even_if_it_is_hidden_since():
    doc = painting()
    doc.add_layer(name="Empty")  # above the background: shows nothing
    assert contributing_uids(doc, doc.rect) == (doc.layer(0).uid, doc.layer(2).uid)
    made_from = contributing_uids(doc, doc.rect)
    doc.set_layer_visible(2, False)
    assert index_above(doc, made_from, doc.rect) == 3
    doc.delete_layer(2)
    assert index_above(doc, made_from, doc.rect) == 1  # the background is what is left
    empty = Document.from_layers(8, 8, [Layer(np.zeros((8, 8, 4), np.uint8))])
    assert index_above(empty, (), empty.rect) is None


def test_text_to_image_of_another_size_keeps_its_aspect_ratio():
    doc = Document.from_layers(256, 256, [Layer(background(256, 256))])
    frame = doc.rect
    image = Image.fromarray(background(192, 128)[..., :3].copy(), "RGB")
    c = Candidate(image, {"prompt": "hills"}, target(doc, "txt2img", frame, fill_frame=False))
    applied = apply_candidate(doc, c)
    layer = applied.layer
    assert (layer.x, layer.y, layer.width, layer.height) == (32, 64, 192, 128)
    assert np.array_equal(layer.pixels[..., :3], np.asarray(image))  # not resampled
    assert "own size" in applied.note and "192x128" in applied.note


def test_a_larger_result_is_scaled_to_fit_and_centred():
    placed = place_in_frame((512, 256), Rect(10, 20, 256, 256), fill=False)
    assert placed.rect == Rect(10, 84, 256, 128)
    assert placed.note.startswith("Scaled from 512x256 to 256x128")
    assert place_in_frame((248, 248), Rect(0, 0, 250, 250), fill=True).rect == \
        Rect(0, 0, 250, 250)


def test_text_to_image_fits_another_document_but_a_region_result_does_not():
    made_for = Document.from_layers(64, 64, [Layer(background(64, 64))])
    other = Document.from_layers(128, 96, [Layer(background(128, 96))])
    other.set_frame(Rect(16, 8, 64, 64))
    red = Image.new("RGB", (64, 64), (230, 10, 10))
    txt = Candidate(red, {"prompt": "a"}, target(made_for, "txt2img", made_for.rect))
    layer = apply_candidate(other, txt).layer
    assert (layer.x, layer.y, layer.width, layer.height) == (16, 8, 64, 64)
    for mode in ("inpaint", "img2img", "erase"):
        region = Candidate(red, {"prompt": "a"}, target(made_for, mode, made_for.rect))
        with pytest.raises(RequestRefused, match="region of another document"):
            apply_candidate(other, region)
    assert len(other.layers) == 2


def test_results_without_repaint_data_still_apply_whole():
    doc = painting()
    result = GenerationResult([Image.new("RGB", (96, 64))],
                              [ImageInfo(1, 96, 64, {"prompt": "p"})])
    [c] = generated_candidates(result, target(doc, "inpaint", doc.rect))
    assert c.repaint is None
    assert (apply_candidate(doc, c).layer.pixels[..., 3] == 255).all()
