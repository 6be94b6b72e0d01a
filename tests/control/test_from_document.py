"""Guide layers of a document turned into a request's controls, regions and
references, and the picture sent without them."""

from __future__ import annotations

import numpy as np
import pytest

from artstudio.control import from_document
from artstudio.control.from_document import (
    for_family,
    guides_of,
    picture,
    show_control_image,
    unsupported,
)
from artstudio.document import Document, Rect
from artstudio.document.guides import new_guide
from artstudio.engine.errors import UserFacingError


def _solid(w, h, rgba):
    px = np.empty((h, w, 4), np.uint8)
    px[...] = rgba
    return px


def painted_doc() -> Document:
    """100x80: a blue background, a black line layer made a canny control, a
    region layer covering a 20x10 block, and a red reference layer."""
    d = Document(100, 80)
    d.add_layer(_solid(100, 80, (0, 0, 255, 255)), name="Paint")
    lines = np.zeros((80, 100, 4), np.uint8)
    lines[40, 10:90] = (0, 0, 0, 255)  # one horizontal black line
    control = d.add_layer(lines, name="Lines")
    d.set_layer_guide(d.index_of(control), new_guide("control", kind="canny", strength=0.7,
                                                      start=0.2, end=0.8))
    region = d.add_layer(_solid(20, 10, (255, 255, 255, 255)), name="Cat here", x=30, y=20)
    d.set_layer_guide(d.index_of(region), new_guide("region", prompt="a red cat"))
    reference = d.add_layer(_solid(16, 12, (255, 0, 0, 255)), name="Look", x=90, y=70)
    d.set_layer_guide(d.index_of(reference), new_guide("reference", weight=0.5))
    return d


FRAME = Rect(10, 10, 64, 48)


def test_a_control_layer_gives_its_pixels_in_the_frame_on_white():
    guides = guides_of(painted_doc(), FRAME)
    (control,) = guides.controls
    assert (control.kind, control.strength, control.start, control.end, control.preprocess) \
        == ("canny", 0.7, 0.2, 0.8, True)
    image = control.image
    assert image.shape == (48, 64, 3)
    # The line at y=40 is frame row 30; the rest is white, not the blue paint below it.
    assert (image[30] == 0).all()
    assert (np.delete(image, 30, axis=0) == 255).all()
    assert guides.layer_names["control"] == ("Lines",)
    assert control.preprocessor == ""  # the kind's own


def test_a_control_layer_names_the_preprocessor_chosen_for_it():
    doc = painted_doc()
    index = next(i for i, layer in enumerate(doc.layers) if layer.name == "Lines")
    doc.set_layer_guide(index, {**doc.layer(index).guide, "kind": "softedge",
                                "preprocessor": "softedge_hed"})
    (control,) = guides_of(doc, FRAME).controls
    assert (control.kind, control.preprocessor) == ("softedge", "softedge_hed")


def test_a_region_layer_gives_its_alpha_in_the_frame_as_the_mask():
    (region,) = guides_of(painted_doc(), FRAME).regions
    assert region.prompt == "a red cat"
    assert region.mask.shape == (48, 64)
    expected = np.zeros((48, 64), np.uint8)
    expected[10:20, 20:40] = 255  # the layer's 30..50 x 20..30, less the frame's origin
    assert np.array_equal(region.mask, expected)


def test_a_reference_layer_is_the_whole_layer_even_outside_the_frame():
    (reference,) = guides_of(painted_doc(), FRAME).references
    assert reference.weight == 0.5
    assert reference.image.shape == (12, 16, 3)
    assert (reference.image == (255, 0, 0)).all()


def test_hidden_guide_layers_are_switched_off():
    d = painted_doc()
    for i in range(1, 4):
        d.set_layer_visible(i, False)
    guides = guides_of(d, FRAME)
    assert not guides and guides.layer_names == {}
    assert d.layer(1).guide is not None  # the settings are kept


def test_a_region_with_nothing_in_the_frame_names_the_layer():
    d = painted_doc()
    with pytest.raises(UserFacingError, match=r"Cat here.*nothing painted inside"):
        guides_of(d, Rect(60, 40, 30, 30))


def test_a_region_without_a_prompt_names_the_layer():
    d = painted_doc()
    d.set_layer_guide(2, new_guide("region", prompt="  "))
    with pytest.raises(UserFacingError, match=r"Cat here.*no prompt"):
        guides_of(d, FRAME)


def test_an_unknown_kind_from_a_newer_file_names_the_layer():
    d = painted_doc()
    d.set_layer_guide(1, new_guide("control", kind="hologram"))
    with pytest.raises(UserFacingError, match=r"Lines.*hologram"):
        guides_of(d, FRAME)


def test_the_picture_leaves_out_guides_that_are_not_paint():
    d = painted_doc()
    seen = d.composite(FRAME)
    assert (seen[30, 5] == (0, 0, 0, 255)).all()  # the canvas shows the control's line
    start = picture(d, FRAME)
    assert (start[..., :3] == (0, 0, 255)).all()  # the picture is the paint alone
    # A line-art control layer is paint the artist wants kept.
    d.set_layer_guide(1, new_guide("control", kind="lineart"))
    assert (picture(d, FRAME)[30, 5] == (0, 0, 0, 255)).all()


def test_without_guides_the_picture_is_the_composite():
    d = Document(30, 20)
    d.add_layer(_solid(30, 20, (9, 8, 7, 255)))
    assert np.array_equal(picture(d, Rect(0, 0, 30, 20)), d.composite())


def test_families_that_cannot_use_a_role_are_named(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "artstudio.control.references", None)  # not built
    roles = ("control", "region", "reference")
    assert all("Z-Image" in line for line in unsupported("z-image", "Z-Image", roles)[:2])
    assert len(unsupported("z-image", "Z-Image", roles)) == 3
    flux = unsupported("flux", "FLUX.1", roles)  # ControlNets guide FLUX.1, regions do not
    assert len(flux) == 2 and "regions" in flux[0]
    assert "not built" in unsupported("sd1", "Stable Diffusion 1.x", roles)[0]
    sd = unsupported("sd1", "Stable Diffusion 1.x", roles)
    assert len(sd) == 1 and "control" not in sd[0] and "regions" not in sd[0]
    assert unsupported("flux", "FLUX.1", ()) == []


def test_references_follow_what_the_reference_module_says(monkeypatch):
    import sys
    import types

    fake = types.ModuleType("artstudio.control.references")
    fake.supports = lambda family: family == "sdxl"
    monkeypatch.setitem(sys.modules, "artstudio.control.references", fake)
    assert from_document.references_supported("sdxl") is True
    assert unsupported("sdxl", "SDXL", ("reference",)) == []
    assert unsupported("flux", "FLUX.1", ("reference",)) == [
        "FLUX.1 cannot use reference layers yet: they are left out."]


def test_show_control_image_adds_the_control_image_as_the_control():
    d = painted_doc()
    shown = show_control_image(d, 1, FRAME)
    assert d.undo_label == "Show control image"
    index = d.index_of(shown)
    assert index == 2 and (shown.x, shown.y) == (FRAME.x, FRAME.y)
    assert shown.guide == {**d.layer(1).guide, "preprocess": False}
    assert not d.layer(1).visible  # the source's guide is switched off
    # Canny of one black line on white: white edges on black along it, nothing elsewhere.
    edges = shown.pixels[..., 0]
    assert edges[28:33].max() == 255 and edges[:25].max() == 0 and edges[36:].max() == 0
    (control,) = guides_of(d, FRAME).controls
    assert np.array_equal(control.image, shown.pixels[..., :3])
    d.undo()
    assert len(d.layers) == 4 and d.layer(1).visible


def test_show_control_image_needs_a_control_layer():
    with pytest.raises(UserFacingError, match="not a control layer"):
        show_control_image(painted_doc(), 2, FRAME)


def test_guides_a_family_cannot_use_are_left_out_with_a_line(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "artstudio.control.references", None)
    guides = guides_of(painted_doc(), FRAME)
    kept, lines = for_family(guides, "z-image", "Z-Image")
    assert not kept and len(lines) == 3
    kept, lines = for_family(guides, "sdxl", "SDXL")
    assert len(kept.controls) == 1 and len(kept.regions) == 1 and kept.references == ()
    assert lines == [unsupported("sdxl", "SDXL", ("reference",))[0]]
