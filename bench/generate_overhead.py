"""Overhead of the app's generation path over a bare diffusers call
(goal: wall-time ratio at most 1.05).

The same tiny random SD1 model (built by random_models.save_random_sd1 into a temporary
folder), prompt, seed, sampler (Euler a), steps, CFG and size go through:

  app        artstudio.diffusion.generate.run submitted as a job on an
             Engine's accelerator lane, waited for; the model already warm
             in the model cache. Extra work: a latent preview at every step
             and progress events, a fresh scheduler per run, our own VAE
             decode from latents, PIL conversion and metadata.
  app-nopv   the same with previews off (preview_every=0).
  bare       StableDiffusionPipeline.from_pretrained on the same folder, the
             same scheduler class and config, output_type="np".

Runs are interleaved (the order rotates every round); the figure is the
median over rounds of each round's app/bare ratio, so load from other
processes hits all variants alike. Also checks that app and bare give the
same pixels. The tiny models' VAE halves the size once, not three times, so
64 px means a 32x32 latent (1024 attention tokens), like a 256 px real run.

    python bench/generate_overhead.py                  # 64 px, 20 steps, 12 rounds
    python bench/generate_overhead.py --rounds 5 --steps 10
    python bench/generate_overhead.py --family flux    # a tiny random FLUX.1 dev folder

With --controlnet both sides are guided by one tiny ControlNet made from the
model's UNet (ControlNetModel.from_unet, saved beside it) or FLUX transformer
(a FluxControlNetModel of 1+1 layers) and a 64 px control image given as it is
(no preprocessing, so both do the same work): app passes it as a control, bare
is StableDiffusionControlNetPipeline / FluxControlNetPipeline over the same
folder and ControlNet. With FLUX the pixels differ: the app encodes the control
image at the VAE's mode, the bare pipeline samples it from the seed's generator.

With --family flux the model is random_models.save_random_flux's FLUX.1 dev
(1+1 transformer layers, a 4-block VAE: 64 px is an 8x8 latent, 16 packed
tokens), the sampler its flow-matching Euler, --cfg its distilled guidance and
no negative prompt; bare is FluxPipeline.from_pretrained on the same folder.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--cfg", type=float, default=7.0)
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--family", choices=("sd1", "flux"), default="sd1")
    ap.add_argument("--controlnet", action="store_true", help="a ControlNet case")
    args = ap.parse_args()
    flux = args.family == "flux"

    import numpy as np
    import torch
    from diffusers import (
        EulerAncestralDiscreteScheduler,
        FluxControlNetPipeline,
        FluxPipeline,
        StableDiffusionControlNetPipeline,
        StableDiffusionPipeline,
    )

    from artstudio.diffusion import generate as diffusion
    from artstudio.diffusion.params import GenerationParams
    from artstudio.engine import Engine, JobKind, JobState, Lane
    from artstudio.model_files.offline import offline_and_quiet
    from artstudio.selftest.random_models import save_random_flux, save_random_sd1

    offline_and_quiet()
    prompt, negative, seed = "a red cat", "" if flux else "the dog", 1234
    sampler = "flow_euler" if flux else "euler_a"
    with tempfile.TemporaryDirectory() as tmp:
        folder = save_random_flux(Path(tmp) / "flux") if flux else save_random_sd1(
            Path(tmp) / "sd1")

        controls, control_image, controlnet = (), None, None
        if args.controlnet:
            controls, control_image, controlnet = _controlnet_case(folder, args.size, flux)

        def params(preview_every: int) -> GenerationParams:
            return GenerationParams(
                model=str(folder), prompt=prompt, negative_prompt=negative, steps=args.steps,
                cfg_scale=args.cfg, seed=seed, seed_mode="fixed", width=args.size,
                height=args.size, scheduler=sampler, device="cpu", precision="float32",
                preview_every=preview_every, controls=controls)

        engine = Engine()
        with_previews, no_previews = params(1), params(0)
        previews = [0]

        def count_previews(event) -> None:
            if event.progress is not None and event.progress.preview is not None:
                previews[0] += 1

        engine.subscribe(count_previews)

        def app(p: GenerationParams):
            handle = engine.submit(diffusion.run, p, kind=JobKind.GENERATE,
                                   lane=Lane.ACCELERATOR, title="bench")
            if handle.wait(600) is not JobState.DONE:
                raise SystemExit(f"the app job ended {handle.state}: {handle.error}")
            return np.asarray(handle.result.images[0])

        if flux:
            cls = FluxControlNetPipeline if args.controlnet else FluxPipeline
            more = {"controlnet": controlnet} if args.controlnet else {}
            pipe = cls.from_pretrained(str(folder), local_files_only=True, **more)
            pipe.scheduler = type(pipe.scheduler).from_config(pipe.scheduler.config)
        else:
            cls = StableDiffusionControlNetPipeline if args.controlnet else StableDiffusionPipeline
            more = {"controlnet": controlnet} if args.controlnet else {}
            pipe = cls.from_pretrained(
                str(folder), local_files_only=True, safety_checker=None,
                feature_extractor=None, requires_safety_checker=False, **more)
            pipe.scheduler = EulerAncestralDiscreteScheduler.from_config(pipe.scheduler.config)
        pipe.set_progress_bar_config(disable=True)
        extra = {} if flux else {"negative_prompt": negative}
        if args.controlnet:
            extra["control_image" if flux else "image"] = control_image

        def bare():
            with torch.inference_mode():
                out = pipe(prompt=prompt, **extra,
                           num_inference_steps=args.steps, guidance_scale=args.cfg,
                           generator=torch.Generator("cpu").manual_seed(seed),
                           width=args.size, height=args.size, output_type="np")
            return np.rint(out.images[0] * 255).astype(np.uint8)

        variants = {"app": lambda: app(with_previews), "app-nopv": lambda: app(no_previews),
                    "bare": bare}
        first = {name: fn() for name, fn in variants.items()}  # warm-up: loads, caches
        same = bool(np.array_equal(first["app"], first["bare"]))
        max_diff = int(np.abs(first["app"].astype(int) - first["bare"].astype(int)).max())
        times: dict[str, list[float]] = {name: [] for name in variants}
        names = list(variants)
        previews[0] = 0
        for r in range(args.rounds):
            for name in names[r % 3:] + names[:r % 3]:
                t = time.perf_counter()
                variants[name]()
                times[name].append(time.perf_counter() - t)
        engine.shutdown()

    med = {name: statistics.median(v) for name, v in times.items()}

    def ratio(name: str) -> float:
        return statistics.median(a / b for a, b in zip(times[name], times["bare"], strict=True))

    print(f"generate_overhead_ratio app/bare={ratio('app'):.3f} "
          f"app_no_previews/bare={ratio('app-nopv'):.3f} (median of {args.rounds} interleaved "
          f"rounds; median wall: app {med['app'] * 1000:.0f} ms, app without previews "
          f"{med['app-nopv'] * 1000:.0f} ms, bare {med['bare'] * 1000:.0f} ms; "
          f"{args.family}{' with a ControlNet' if args.controlnet else ''}, {args.size} px, "
          f"{args.steps} steps, guidance {args.cfg:g}; "
          f"previews per app run {previews[0] / args.rounds:.0f}; "
          f"same pixels={same} (max diff {max_diff}))")

def _controlnet_case(folder: Path, size: int, flux: bool):
    """(controls, the control image, the ControlNet) for --controlnet: a tiny
    ControlNet from the model's UNet or FLUX transformer with random zero
    layers, saved beside the model; a rectangle outline as the control image."""
    import numpy as np
    import torch
    from diffusers import (
        ControlNetModel,
        FluxControlNetModel,
        FluxTransformer2DModel,
        UNet2DConditionModel,
    )
    from PIL import Image

    from artstudio.control.spec import ControlSpec

    torch.manual_seed(0)
    if flux:
        transformer = FluxTransformer2DModel.from_pretrained(str(folder / "transformer"))
        cls = FluxControlNetModel
        controlnet = cls.from_transformer(
            transformer, num_layers=1, num_single_layers=1,
            attention_head_dim=transformer.config.attention_head_dim,
            num_attention_heads=transformer.config.num_attention_heads)
        zero = ("controlnet_blocks", "controlnet_single_blocks", "controlnet_x_embedder")
    else:
        unet = UNet2DConditionModel.from_pretrained(str(folder / "unet"))
        cls = ControlNetModel
        controlnet = cls.from_unet(unet, conditioning_embedding_out_channels=(16, 32))
        zero = ("controlnet_down_blocks", "controlnet_mid_block")
    with torch.no_grad():
        for name, param in controlnet.named_parameters():
            if name.startswith(zero):
                param.normal_(0.0, 0.3)
    target = folder.with_name(folder.name + "-controlnet")
    controlnet.save_pretrained(str(target), safe_serialization=True)
    lines = np.zeros((size, size, 3), np.uint8)
    lines[size // 4:3 * size // 4, size // 4] = 255
    lines[size // 4, size // 4:3 * size // 4] = 255
    control = ControlSpec("canny", lines, str(target), preprocess=False)
    return (control,), Image.fromarray(lines, "RGB"), cls.from_pretrained(
        str(target), local_files_only=True)


if __name__ == "__main__":
    main()
