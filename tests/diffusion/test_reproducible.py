"""A reported seed and sampler reproduce a plain diffusers run.

The reference here is built with diffusers alone (the pipeline class, the
scheduler class by its diffusers name, `torch.Generator().manual_seed(seed)`),
so a seed that is shifted, a sampler that is swapped for another, or settings
that are not passed through give other pixels. Outputs are compared in 0..255
levels; our decode and diffusers' own postprocessing round the same way.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from artstudio.cli import main
from artstudio.diffusion import metadata
from artstudio.diffusion.generate import run
from artstudio.diffusion.params import GenerationParams
from artstudio.engine import Engine, JobKind, JobState, Lane

PROMPT = "a red cat"

# Our sampler names and the diffusers schedulers they promise, spelled out
# here rather than read from artstudio.diffusion.schedulers.
DIFFUSERS_SCHEDULERS = {
    "euler": ("EulerDiscreteScheduler", {}),
    "euler_a": ("EulerAncestralDiscreteScheduler", {}),
    "dpmpp_2m": ("DPMSolverMultistepScheduler",
                 {"algorithm_type": "dpmsolver++", "solver_order": 2, "use_karras_sigmas": False}),
    "dpmpp_2m_karras": ("DPMSolverMultistepScheduler",
                        {"algorithm_type": "dpmsolver++", "solver_order": 2,
                         "use_karras_sigmas": True}),
    "ddim": ("DDIMScheduler", {"set_alpha_to_one": False}),
    "lcm": ("LCMScheduler", {}),
}


@pytest.fixture(scope="module")
def plain_pipe(tiny):
    import diffusers

    return diffusers.StableDiffusionPipeline.from_pretrained(
        str(tiny["sd1"]["diffusers"]), safety_checker=None, requires_safety_checker=False)


def plain_diffusers(pipe, seed: int, sampler: str = "euler_a", steps: int = 3,
                    cfg: float = 7.0) -> np.ndarray:
    import diffusers
    import torch

    class_name, overrides = DIFFUSERS_SCHEDULERS[sampler]
    base = dict(pipe.scheduler.config)
    pipe.scheduler = getattr(diffusers, class_name).from_config(base, **overrides)
    with torch.inference_mode():
        out = pipe(PROMPT, num_inference_steps=steps, guidance_scale=cfg, width=64, height=64,
                   generator=torch.Generator().manual_seed(seed), output_type="np")
    return np.rint(out.images[0] * 255).astype(np.uint8)


def ours(tiny, seed: int, sampler: str = "euler_a", steps: int = 3, count: int = 1):
    p = GenerationParams(model=str(tiny["sd1"]["diffusers"]), prompt=PROMPT, steps=steps,
                         cfg_scale=7.0, seed=seed, width=64, height=64, scheduler=sampler,
                         count=count, device="cpu", preview_every=0)
    return run(p, lambda *a, **k: None, _token())


def _token():
    from artstudio.engine.cancel import CancelToken

    return CancelToken()


def max_level_difference(a, b) -> int:
    return int(np.abs(np.asarray(a).astype(int) - np.asarray(b).astype(int)).max())


def test_each_seed_of_a_run_is_a_plain_diffusers_run_with_that_seed(tiny, plain_pipe):
    result = ours(tiny, seed=1234, count=2)
    assert [info.seed for info in result.infos] == [1234, 1235]
    for image, info in zip(result.images, result.infos, strict=True):
        assert max_level_difference(image, plain_diffusers(plain_pipe, info.seed)) <= 1
    # and the seed is what decides: a neighbouring seed is far away
    assert max_level_difference(result.images[0], plain_diffusers(plain_pipe, 1235)) > 10


def test_the_engine_reports_a_seed_that_reproduces_its_image(tiny, plain_pipe):
    engine = Engine(pool_workers=1)
    try:
        p = GenerationParams(model=str(tiny["sd1"]["diffusers"]), prompt=PROMPT, steps=3,
                             cfg_scale=7.0, seed=None, width=64, height=64, device="cpu")
        handle = engine.submit(run, p, kind=JobKind.GENERATE, lane=Lane.ACCELERATOR)
        assert handle.wait(120) is JobState.DONE, handle.error
    finally:
        engine.shutdown()
    seed = handle.result.infos[0].seed  # a random one, reported
    assert max_level_difference(handle.result.images[0], plain_diffusers(plain_pipe, seed)) <= 1


def test_cli_seed_in_the_file_reproduces_a_plain_diffusers_run(tiny, plain_pipe, tmp_path):
    out = tmp_path / "out.png"
    assert main(["generate", "--model", str(tiny["sd1"]["diffusers"]), "--prompt", PROMPT,
                 "--steps", "3", "--cfg", "7", "--width", "64", "--height", "64",
                 "--seed", "4242", "--device", "cpu", "--out", str(out)]) == 0
    recorded = metadata.read_settings(out)
    assert recorded["seed"] == 4242 and recorded["scheduler"] == "euler_a"
    with Image.open(out) as image:
        written = np.asarray(image.convert("RGB"))
    assert max_level_difference(written, plain_diffusers(plain_pipe, recorded["seed"])) <= 1


@pytest.mark.parametrize("sampler", sorted(DIFFUSERS_SCHEDULERS))
def test_each_sampler_is_its_diffusers_scheduler(tiny, plain_pipe, sampler):
    image = ours(tiny, seed=5, sampler=sampler).images[0]
    assert max_level_difference(image, plain_diffusers(plain_pipe, 5, sampler)) <= 1


def test_samplers_give_different_pixels(tiny):
    images = {s: np.asarray(ours(tiny, seed=5, sampler=s).images[0])
              for s in ("euler", "euler_a", "dpmpp_2m", "ddim")}
    names = sorted(images)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert max_level_difference(images[a], images[b]) > 2, (a, b)
