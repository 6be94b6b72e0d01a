"""Style transfer: the built-in ONNX styles, any painting as the style, CycleGAN
painters. No Qt."""
