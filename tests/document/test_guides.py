"""Guide layers in the document: control layers, regions and references,
set through an undoable method, kept by copies and saved in the .ora."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
from conftest import noise

from artstudio.document import Document, open_document, save_document
from artstudio.document.guides import GuideError, checked_guide, describe, new_guide
from artstudio.document.ora import NS

GUIDES = [
    new_guide("control", kind="canny", strength=0.8, start=0.1, end=0.9, preprocess=False),
    new_guide("region", prompt="a red cat"),
    new_guide("reference", weight=0.6),
]


def guided_doc() -> Document:
    d = Document(80, 60)
    d.add_layer(noise(80, 60, 1, opaque=True), name="Paper")
    for i, guide in enumerate(GUIDES):
        layer = d.add_layer(noise(40, 30, i + 2), name=guide["role"], x=i * 7, y=i * 5)
        d.set_layer_guide(d.index_of(layer), guide)
    d.clear_history()
    return d


@pytest.mark.parametrize("role", ["control", "region", "reference"])
def test_each_role_survives_save_and_open(tmp_path, role):
    d = guided_doc()
    index = next(i for i, layer in enumerate(d.layers) if layer.name == role)
    path = tmp_path / "guides.ora"
    save_document(d, path)
    loaded, notes = open_document(path)
    assert notes == []
    assert loaded.layer(index).guide == d.layer(index).guide
    assert loaded.layer(index).guide["role"] == role
    assert np.array_equal(loaded.layer(index).pixels, d.layer(index).pixels)
    assert loaded.layer(0).guide is None  # plain paint stays plain


def test_the_guide_is_an_attribute_in_our_namespace(tmp_path):
    path = tmp_path / "guides.ora"
    save_document(guided_doc(), path)
    with zipfile.ZipFile(path) as zf:
        xml = zf.read("stack.xml").decode()
    assert f'xmlns:artstudio="{NS}"' in xml
    assert xml.count("artstudio:guide=") == 3


def test_setting_a_guide_is_one_undo_step():
    d = guided_doc()
    d.set_layer_guide(0, new_guide("control", kind="depth"))
    assert d.layer(0).guide["kind"] == "depth"
    assert d.undo_label == "Make control layer"
    d.set_layer_guide(0, {**d.layer(0).guide, "strength": 0.5})
    assert d.undo_label == "Guide settings"
    d.undo()
    assert d.layer(0).guide["strength"] == 1.0
    d.undo()
    assert d.layer(0).guide is None
    d.redo()
    assert d.layer(0).guide == new_guide("control", kind="depth")
    d.set_layer_guide(1, None)
    assert d.layer(1).guide is None and d.undo_label == "Make plain layer"


def test_a_bad_guide_is_refused_and_changes_nothing():
    d = guided_doc()
    before = d.layer(1).guide
    for bad in ({"role": "mystery"}, {"role": "control", "strength": 5},
                {"role": "control", "start": 0.8, "end": 0.2}, {"role": "region", "prompt": 3},
                {"role": "control", "preprocessor": 1},
                ["control"]):
        with pytest.raises(GuideError):
            d.set_layer_guide(1, bad)
    assert d.layer(1).guide == before and not d.can_undo


def test_copies_keep_the_guide():
    d = guided_doc()
    copy = d.duplicate_layer(2)
    assert copy.guide == d.layer(2).guide and copy.guide is not d.layer(2).guide
    snapshot = d.copy()
    assert [layer.guide for layer in snapshot.layers] == [layer.guide for layer in d.layers]


def test_merging_down_onto_a_guide_layer_keeps_its_guide():
    d = guided_doc()
    d.add_layer(noise(20, 20, 9), index=2, name="more lines")
    merged = d.merge_down(2)
    assert merged.guide == GUIDES[0]


def _rewrite_guide(path, value: str) -> None:
    """The saved file with the first guide attribute replaced by `value`."""
    with zipfile.ZipFile(path) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    xml = parts["stack.xml"].decode()
    start = xml.index("artstudio:guide=")
    end = xml.index('"', xml.index('"', start) + 1)
    parts["stack.xml"] = (xml[:start] + f"artstudio:guide={value}" + xml[end + 1:]).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


@pytest.mark.parametrize("value, reason", [
    ('"{not json"', "not JSON"),
    ('"{&quot;role&quot;: &quot;sparkle&quot;}"', "unknown guide role"),
    ('"{&quot;role&quot;: &quot;control&quot;, &quot;strength&quot;: 9}"', "strength"),
])
def test_a_corrupt_guide_opens_as_a_plain_layer_with_a_note(tmp_path, value, reason):
    d = guided_doc()
    path = tmp_path / "guides.ora"
    save_document(d, path)
    _rewrite_guide(path, value)
    loaded, notes = open_document(path)
    assert len(loaded.layers) == len(d.layers)
    damaged = [i for i in range(len(d.layers)) if loaded.layer(i).guide != d.layer(i).guide]
    assert len(damaged) == 1
    layer = loaded.layer(damaged[0])
    assert layer.guide is None
    assert np.array_equal(layer.pixels, d.layer(damaged[0]).pixels)
    assert (layer.name, layer.x, layer.y) == (d.layer(damaged[0]).name, d.layer(damaged[0]).x,
                                              d.layer(damaged[0]).y)
    assert len(notes) == 1 and layer.name in notes[0] and reason in notes[0]
    assert "plain layer" in notes[0]


def test_guides_from_a_newer_version_keep_their_extra_keys():
    guide = checked_guide({"role": "region", "prompt": "sky", "feather": 4})
    assert guide["feather"] == 4
    assert json.loads(json.dumps(guide)) == guide


def test_the_layer_list_tag_says_the_role():
    assert describe(GUIDES[0]) == "control: canny"
    assert describe(GUIDES[1]) == "region: a red cat"
    assert describe(GUIDES[2]) == "reference ×0.6"
    assert describe(None) == ""
