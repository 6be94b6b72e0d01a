"""Preprocessors give lines where the drawing has them, nothing in flat areas,
and a control image of the layer's size; network kinds say what they need."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from artstudio.control import kinds, preprocessors
from artstudio.engine.errors import UserFacingError

W, H = 96, 64  # not square, so a swapped size shows


def drawing() -> np.ndarray:
    """Black ink on white paper in the left half; the right half is flat grey."""
    img = np.full((H, W, 3), 255, np.uint8)
    cv2.line(img, (10, 10), (10, 54), (0, 0, 0), 2)
    cv2.rectangle(img, (20, 20), (40, 40), (0, 0, 0), 2)
    img[:, 48:] = 128
    return img


def near_lines(margin: int = 4) -> np.ndarray:
    ink = np.all(drawing() == 0, axis=2).astype(np.uint8)
    return cv2.dilate(ink, np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)) > 0


@pytest.mark.parametrize("name", ["canny", "softedge", "lineart", "scribble"])
def test_edges_where_the_drawing_has_lines_and_none_in_flat_areas(name):
    out = preprocessors.preprocess(name, drawing())
    assert out.shape == (H, W, 3) and out.dtype == np.uint8
    lit = out.max(axis=2) > 64
    assert lit[near_lines()].mean() > 0.1  # lines found along the drawn ones
    flat = np.zeros((H, W), bool)
    flat[8:56, 56:88] = True  # inside the grey half, away from its border
    assert not lit[flat].any()
    assert not lit[~near_lines() & (np.arange(W)[None, :] < 44)].any()  # plain paper


def test_a_flat_layer_gives_an_empty_control_image():
    flat = np.full((H, W, 3), 200, np.uint8)
    for name in ("canny", "softedge", "lineart", "scribble"):
        assert preprocessors.preprocess(name, flat).max() == 0, name


def test_scribble_takes_a_line_drawing_as_it_is_and_thins_a_painting():
    lines = preprocessors.preprocess("scribble", drawing())
    ink = np.all(drawing()[:, :48] == 0, axis=2)
    assert (lines[:, :48].max(axis=2) > 0)[ink].all()  # every inked pixel kept
    # A filled dark disc on a painted background is no line drawing: its outline
    # and skeleton come back, not the disc.
    painting = np.full((H, W, 3), 180, np.uint8)
    cv2.circle(painting, (48, 32), 20, (30, 30, 30), -1)
    thinned = preprocessors.preprocess("scribble", painting)
    disc = np.zeros((H, W), np.uint8)
    cv2.circle(disc, (48, 32), 20, 1, -1)
    assert (thinned.max(axis=2) > 0)[disc > 0].mean() < 0.5


def test_a_transparent_layer_is_seen_on_white():
    rgba = np.zeros((H, W, 4), np.uint8)  # transparent black everywhere...
    cv2.line(rgba, (10, 10), (80, 10), (0, 0, 0, 255), 2)  # ...but one opaque stroke
    out = preprocessors.preprocess("lineart", rgba)
    assert out[30:, :].max() == 0 and out[8:13, 20:70].max() == 255


def test_brightness_and_tile():
    img = drawing()
    assert np.array_equal(preprocessors.preprocess("tile", img), img)
    grey = preprocessors.preprocess("brightness", img)
    assert grey.shape == (H, W, 3) and (grey[:, :, 0] == grey[:, :, 2]).all()
    assert grey[0, 60, 0] == 128


@pytest.mark.parametrize("name", ["depth", "normal", "pose", "seg"])
def test_network_kinds_say_which_model_they_need_and_where(name):
    with pytest.raises(UserFacingError) as err:
        preprocessors.preprocess(name, drawing())
    pre = preprocessors.PREPROCESSORS[kinds.kind(name).preprocessor]
    assert pre.model_file in str(err.value) and "annotators" in str(err.value)


def test_every_kind_has_a_preprocessor_and_file_names_tell_the_kind():
    assert set(kinds.KINDS) == {"scribble", "lineart", "softedge", "canny", "depth", "normal",
                                "pose", "seg", "tile", "brightness"}
    assert all(k.preprocessor in preprocessors.PREPROCESSORS for k in kinds.KINDS.values())
    assert preprocessors.PREPROCESSORS["lineart_model"].needs_model
    for name, expected in (("control_v11p_sd15_canny", "canny"),
                           ("control_v11p_sd15s2_lineart_anime", "lineart"),
                           ("control_v11f1p_sd15_depth", "depth"),
                           ("control_v11p_sd15_openpose", "pose"),
                           ("control_v11p_sd15_normalbae", "normal"),
                           ("control_v11p_sd15_softedge", "softedge"),
                           ("controlnet_qrcode-control_v1p_sd15", "brightness"),
                           ("diffusers_xl_depth_full", "depth"),
                           ("my_controlnet", "")):
        assert kinds.kind_from_file_name(name) == expected, name
    with pytest.raises(UserFacingError, match="kinds are"):
        kinds.kind("sparkles")
