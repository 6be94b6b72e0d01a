"""Control images encoded by the VAE without drawing noise.

diffusers' SD3 and FLUX.1 ControlNet pipelines VAE-encode each control image
before anything else and sample the encoding: FLUX's from the request's
generator (so the picture's starting noise is not the one the plain pipeline
draws from the same seed, and a control at strength 0 changes the picture),
SD3's from torch's global random state (so the same seed does not give the
same picture twice). While a pipeline runs, the first `count` encodes (the
control images) return the distribution's mode instead; the picture's own
encodes (image-to-image, inpainting) come after them and sample as usual.
"""

from __future__ import annotations

from contextlib import contextmanager


class _AtMode:
    """An encoder output whose latent distribution samples its mode."""

    def __init__(self, dist):
        self.latent_dist = self
        self._dist = dist

    def sample(self, generator=None):
        return self._dist.mode()

    def mode(self):
        return self._dist.mode()


@contextmanager
def control_images_at_mode(vae, count: int):
    if vae is None or count <= 0:
        yield
        return
    left = [count]
    encode = vae.encode
    own = vars(vae).get("encode")  # an instance's own encode (a hook), put back after

    def first_at_mode(x, *args, **kwargs):
        out = encode(x, *args, **kwargs)
        if left[0] <= 0:
            return out
        left[0] -= 1
        dist = out[0] if isinstance(out, tuple) else out.latent_dist
        return _AtMode(dist)

    vae.encode = first_at_mode
    try:
        yield
    finally:
        if own is None:
            del vae.encode  # the class's method again
        else:
            vae.encode = own
