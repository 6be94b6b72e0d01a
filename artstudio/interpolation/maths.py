"""Interpolating tensors: spherical for noise, linear for everything else.

Gaussian noise in many dimensions lies on a thin shell of radius sqrt(n); a
linear mix of two independent noises falls inside it (its norm shrinks by up
to 1/sqrt(2) halfway), and a denoiser fed noise of the wrong scale paints a
washed-out, blurry picture. Slerp walks along the shell instead.
"""

from __future__ import annotations

import math

DOT_THRESHOLD = 0.9995  # nearly parallel: the great circle is a straight line


def lerp(a, b, t: float):
    if t == 0.0:
        return a.clone()
    if t == 1.0:
        return b.clone()
    return a + (b - a) * t


def slerp(a, b, t: float):
    """Spherical interpolation of two tensors of one shape: along the great
    circle between their directions, with the norm going linearly from |a| to
    |b| (so two noises of equal norm keep it exactly). Computed in float64,
    returned in a's dtype; t=0 and t=1 give a and b exactly."""
    import torch

    if a.shape != b.shape:
        raise ValueError(f"slerp needs tensors of one shape, not {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    if t == 0.0:
        return a.clone()
    if t == 1.0:
        return b.clone()
    a64, b64 = a.double(), b.double()
    na, nb = a64.norm(), b64.norm()
    if na == 0 or nb == 0:
        return lerp(a64, b64, t).to(a.dtype)
    ua, ub = a64 / na, b64 / nb
    dot = float(torch.clamp((ua * ub).sum(), -1.0, 1.0))
    if abs(dot) > DOT_THRESHOLD:
        direction = lerp(ua, ub, t)
        direction = direction / direction.norm()
    else:
        theta = math.acos(dot)
        direction = (math.sin((1 - t) * theta) * ua + math.sin(t * theta) * ub) / math.sin(theta)
    return (direction * ((1 - t) * na + t * nb)).to(a.dtype)
