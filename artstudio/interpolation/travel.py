"""Making a journey's frames: seed travel, prompt travel, both, and picture
morphs, in batches, one frame at a time out of an iterator.

Seed travel slerps each keyframe's initial noise, made exactly as the
pipeline makes it for `artstudio generate` (a CPU generator seeded with the
seed, the pipeline's device and dtype), so a keyframe's frame is that
generate result. Prompt travel mixes every text-encoder output the family
uses (FamilySpec.prompt_outputs) linearly and hands them to the pipeline as
embeddings. A batch is one pipeline call over several frames' latents and
embeddings; a batch that runs out of memory is halved and tried again.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from artstudio.diffusion.generate import image_metadata
from artstudio.diffusion.loading import LoadedModel, get_model, pipeline_for
from artstudio.diffusion.params import round_size
from artstudio.diffusion.sampling import StepReporter, decode_latents, denoise, to_pil
from artstudio.engine.cancel import Cancelled, CancelToken
from artstudio.interpolation import embedding_mix
from artstudio.interpolation.frames import Frame
from artstudio.interpolation.journey import FramePlace, JourneyPlan, check_plan, places
from artstudio.interpolation.maths import slerp
from artstudio.interpolation.samplers import journey_sampler

log = logging.getLogger(__name__)

CPU_BATCH = 4  # frames per call on the CPU (bench/interpolate.py: past 4 it gains little)
CUDA_BYTES_PER_FRAME_PIXEL = 4096  # a generous guess of activation memory per pixel


def initial_noise(model: LoadedModel, pipe, seed: int, width: int, height: int, dtype):
    """The unscaled initial latents the pipeline would draw for `seed` (its
    prepare_latents: a CPU generator, then the pipeline's device and dtype)."""
    import torch
    from diffusers.utils.torch_utils import randn_tensor

    shape = (1, pipe.vae.config.latent_channels, height // pipe.vae_scale_factor,
             width // pipe.vae_scale_factor)
    generator = torch.Generator("cpu").manual_seed(int(seed))
    return randn_tensor(shape, generator=generator, device=pipe._execution_device, dtype=dtype)


def step_generator(seed: int, shape):
    """A generator in the state the pipeline leaves it after drawing the
    initial noise: samplers that add noise between steps (LCM) then draw what
    `artstudio generate` would."""
    import torch

    generator = torch.Generator("cpu").manual_seed(int(seed))
    torch.randn(shape, generator=generator)
    return generator


def encode(model: LoadedModel, pipe, prompt: str, negative: str, cfg: float) -> dict[str, Any]:
    """Every text-encoder output of one prompt, by the pipeline argument it feeds."""
    import torch

    spec = model.family_spec
    kwargs: dict[str, Any] = dict(prompt=prompt, device=pipe._execution_device,
                                  num_images_per_prompt=1)
    kwargs.update(spec.encode_prompt_kwargs)
    if spec.guidance == "cfg":  # a distilled model's encoder has no such switch
        kwargs["do_classifier_free_guidance"] = cfg > 1 and getattr(
            getattr(pipe, spec.denoiser).config, "time_cond_proj_dim", None) is None
    if spec.negative_prompt:
        kwargs["negative_prompt"] = negative or None
    takes = inspect.signature(pipe.encode_prompt).parameters
    kwargs = {k: v for k, v in kwargs.items() if k in takes}  # Z-Image's has no batch size
    with torch.inference_mode():
        outputs = pipe.encode_prompt(**kwargs)
    return {n: v for n, v in zip(spec.prompt_outputs, outputs, strict=True)
            if n and v is not None}


@dataclass
class JourneyResult:
    frames: int  # frames made (all of them unless cancelled)
    cancelled: bool
    notes: list[str] = field(default_factory=list)


class FrameStream:
    """The frames of one journey as an iterator, each made once and handed
    on, so a long journey never gathers its frames in memory. Cancelling
    ends the iteration after the last whole frame; `cancelled` says so."""

    def __init__(self, plan: JourneyPlan, progress=None, cancel: CancelToken | None = None):
        check_plan(plan)
        self.plan = plan
        self.progress = progress or (lambda *a, **k: None)
        self.cancel = cancel if cancel is not None else CancelToken()  # a fresh token is falsy
        self.cancelled = False
        self.made = 0
        self.notes: list[str] = []
        self.width, self.height, note = round_size(plan.generation.width,
                                                   plan.generation.height)
        if note:
            self.notes.append(note)
        self.sampler, note = journey_sampler(plan.generation.scheduler)
        if note:
            self.notes.append(note)

    def __iter__(self) -> Iterator[Frame]:
        g = self.plan.generation
        total = self.plan.frames * g.steps
        if not self._tell(0, total, "Loading the model"):
            return
        model = get_model(g.model, g.variant, g.device, g.precision, g.cpu_offload)
        if self.cancel.cancelled:
            self.cancelled = True
            return
        if self.plan.images is not None:
            from artstudio.interpolation.morph import Morph

            maker: _Maker = Morph(self, model)
        else:
            maker = _Travel(self, model)
        queue = places(self.plan)
        size = self.plan.batch_size or auto_batch(model, self.width, self.height)
        while queue:
            batch = queue[:size]
            try:
                images = maker.make(batch, self._reporter(model, batch, total))
            except Exception as exc:
                if not _out_of_memory(exc) or size == 1:
                    raise
                size = max(1, size // 2)
                log.warning("a batch of %d frames ran out of memory; trying %d", len(batch), size)
                _free_memory()
                continue
            if images is None:  # cancelled within a step: the batch is lost, the rest kept
                self.cancelled = True
                return
            before = self.made
            for place, image in zip(batch, images, strict=True):
                yield Frame(place.index, to_pil(image), maker.params_of(place))
                self.made += 1
                if not self._tell((before + len(batch)) * g.steps, total,
                                  f"Frame {self.made} of {self.plan.frames}"):
                    return
            queue = queue[len(batch):]
            if self.cancel.cancelled:
                self.cancelled = True
                return

    def _tell(self, step: int, total: int, message: str) -> bool:
        """Report progress; False (and `cancelled`) when the job is being cancelled."""
        try:
            self.progress(step, total, message)
        except Cancelled:
            self.cancelled = True
            return False
        return True

    def _reporter(self, model: LoadedModel, batch: list[FramePlace], total: int):
        steps, done, n = self.plan.generation.steps, self.made, len(batch)
        first, last = batch[0].index + 1, batch[-1].index + 1
        message = f"Frame {first} of {self.plan.frames}" if n == 1 else \
            f"Frames {first}-{last} of {self.plan.frames}"

        def scaled(step, _total, msg, preview=None):
            self.progress(done * steps + min(step, _total) * n, total, msg, preview)

        return StepReporter(scaled, self.cancel, model.family, 0, steps, 0, message)


def auto_batch(model: LoadedModel, width: int, height: int) -> int:
    """Frames per pipeline call: a few on the CPU, what free memory allows on CUDA."""
    if not model.device.device.startswith("cuda"):
        return CPU_BATCH
    import torch

    free, _total = torch.cuda.mem_get_info(model.device.torch_device)
    return int(max(1, min(8, free // (width * height * CUDA_BYTES_PER_FRAME_PIXEL))))


def _out_of_memory(exc: BaseException) -> bool:
    return "out of memory" in str(exc).lower() or type(exc).__name__ == "OutOfMemoryError"


def _free_memory() -> None:
    import gc

    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:
        pass


class _Maker:
    def make(self, batch: list[FramePlace], reporter: StepReporter):
        raise NotImplementedError

    def params_of(self, place: FramePlace) -> dict[str, Any]:
        raise NotImplementedError


class _Travel(_Maker):
    """Seed and prompt travel: slerped noise, mixed embeddings, text-to-image."""

    def __init__(self, stream: FrameStream, model: LoadedModel):
        self.stream, self.model, self.plan = stream, model, stream.plan
        self.keys = self.plan.keyframes
        self.pipe = pipeline_for(model, "txt2img")
        g = self.plan.generation
        self.embeds = {p: encode(model, self.pipe, p, g.negative_prompt, g.cfg_scale)
                       for p in dict.fromkeys(k.prompt for k in self.keys)}
        dtype = embedding_mix.dtype_of(self.embeds[self.keys[0].prompt])
        self.noise = {s: initial_noise(model, self.pipe, s, stream.width, stream.height, dtype)
                      for s in dict.fromkeys(k.seed for k in self.keys)}
        self.params = replace(g, scheduler=stream.sampler, seed_mode="fixed", count=1)

    def make(self, batch, reporter):
        import torch

        latents = torch.cat([self._latents(p) for p in batch])
        overrides: dict[str, Any] = embedding_mix.stack([self._embeds(p) for p in batch])
        shape = tuple(self.noise[self.keys[0].seed].shape)
        overrides.update(latents=self.model.family_spec.latent.pack(latents),
                         generator=[step_generator(self._step_seed(p), shape) for p in batch])
        p = replace(self.params, prompt=self.keys[batch[0].a].prompt)
        lat = denoise(self.model, "txt2img", p, self.keys[batch[0].a].seed, self.stream.width,
                      self.stream.height, reporter, overrides=overrides)
        return None if lat is None else decode_latents(self.model, lat)

    def _step_seed(self, place: FramePlace) -> int:
        return self.keys[place.b].seed if place.t == 1.0 else self.keys[place.a].seed

    def _latents(self, place: FramePlace):
        a, b = self.keys[place.a], self.keys[place.b]
        return slerp(self.noise[a.seed], self.noise[b.seed], place.t)

    def _embeds(self, place: FramePlace) -> dict[str, Any]:
        ea, eb = self.embeds[self.keys[place.a].prompt], self.embeds[self.keys[place.b].prompt]
        return embedding_mix.mix(ea, eb, place.t)

    def params_of(self, place):
        a, b = self.keys[place.a], self.keys[place.b]
        near = b if place.t == 1.0 else a
        p = replace(self.params, prompt=near.prompt, seed=near.seed)
        meta = image_metadata(p, self.model, near.seed, self.stream.width, self.stream.height,
                              {})
        meta["interpolation"] = journey_metadata(self.plan, place, a.seed, b.seed, a.prompt,
                                                 b.prompt)
        return meta


def journey_metadata(plan: JourneyPlan, place: FramePlace, seed_a: int, seed_b: int,
                     prompt_a: str, prompt_b: str) -> dict[str, Any]:
    return {"frame": place.index, "frames": plan.frames, "keyframe_a": place.a,
            "keyframe_b": place.b, "t": place.t, "linear_t": place.linear_t,
            "seed_a": seed_a, "seed_b": seed_b, "prompt_a": prompt_a, "prompt_b": prompt_b,
            "ease": plan.ease, "loop": plan.loop}


def run(plan: JourneyPlan, progress, cancel: CancelToken,
        on_frame: Callable[[Frame], None] | None = None) -> JourneyResult:
    """The engine's job shape: one job per journey, each frame handed to
    `on_frame` as it is made. A cancelled journey returns what it made (the
    engine marks it cancelled and keeps the result)."""
    stream = FrameStream(plan, progress, cancel)
    for frame in stream:
        if on_frame is not None:
            on_frame(frame)
    if not stream.cancelled:
        progress(plan.frames * plan.generation.steps, plan.frames * plan.generation.steps,
                 "Done")
    return JourneyResult(stream.made, stream.cancelled, stream.notes)



EVEN_THUMBNAIL = 32  # pixels: even motion measures change on small renders


def even_times(plan: JourneyPlan, progress=None, cancel: CancelToken | None = None
               ) -> tuple[float, ...]:
    """Frame places between two keyframes so no step of the journey is more
    than twice the median step (interpolation.even_motion), measured on
    single-frame renders at trial places."""
    import numpy as np

    from artstudio.interpolation.even_motion import even_motion_times

    tell = progress or (lambda *a, **k: None)
    count = [0]

    def render(t: float):
        count[0] += 1
        tell(0, 1, f"Measuring the journey for even motion ({count[0]} renders)")
        stream = FrameStream(replace(plan, frames=1, times=(t,), batch_size=1), None, cancel)
        frame = next(iter(stream), None)
        if frame is None:
            raise Cancelled()
        small = frame.image.resize((EVEN_THUMBNAIL, EVEN_THUMBNAIL))
        return np.asarray(small, np.float32)

    return tuple(even_motion_times(render, plan.frames).times)
