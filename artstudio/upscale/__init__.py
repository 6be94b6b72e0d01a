"""Super-resolution: one upscaler interface, the tiler, spandrel models, Stable
Diffusion's x4 upscaler and the built-in networks. No Qt."""
