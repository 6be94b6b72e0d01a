"""The short style names restyled layers are given (issue 11, item 7)."""

from artstudio.style.naming import style_label
from artstudio.style.transfer import StyleOptions


def test_style_labels_say_the_style():
    assert style_label(StyleOptions.builtin("mosaic")) == "Mosaic"
    assert style_label(StyleOptions.builtin("stained-glass")) == "Stained glass"
    assert style_label(StyleOptions.builtin("mosaic:0.7,lilac:0.3")) == "Mosaic 70% + Lilac 30%"
    assert style_label(StyleOptions.from_paintings(["/art/starry.jpg"])) == "after starry"
    assert style_label(StyleOptions.cyclegan("/m/monet_net_G.pth")) == "CycleGAN monet_net_G"
