"""Guiding generation from the canvas: control images (preprocessed from a
layer or the layer itself) and the ControlNet models that read them."""
