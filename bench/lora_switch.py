"""The cost of switching a LoRA's weight, as a share of one generation
(goal: under 5 % at 20 steps on the tiny model).

A tiny random SD1 model (random_models.save_random_sd1) and a random LoRA on
its UNet attention and text encoder (tests/tiny_assists.save_tiny_lora, the
tests' own), model warm in the model cache, the LoRA loaded once. Each round
runs, interleaved:

  switch     prompt_extras.condition with the LoRA at the other weight than
             the round before: what every generation does before its
             pipeline call (find the file, read its header and cached hash,
             set the adapter weights; no load)
  same       the same call at the weight already set
  generate   one whole generation through artstudio.diffusion.generate.run
             at 20 steps, 64 px, CFG 7, the weight alternating

The figure is the median over rounds of switch / generate; the difference
switch - same is what a change of weight costs over keeping one. Also counts
loads of the base model and of the LoRA during the rounds (both must be 0).

    python bench/lora_switch.py               # 20 steps, 10 rounds
    python bench/lora_switch.py --rounds 5 --steps 10
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from tiny_assists import save_tiny_lora

    from artstudio.diffusion import loading, prompt_extras
    from artstudio.diffusion.generate import run
    from artstudio.diffusion.params import GenerationParams
    from artstudio.engine.cancel import CancelToken
    from artstudio.model_files.offline import offline_and_quiet
    from artstudio.selftest.random_models import save_random_sd1

    offline_and_quiet()
    with tempfile.TemporaryDirectory() as tmp:
        folder = save_random_sd1(Path(tmp) / "sd1")
        model = loading.get_model(folder, device="cpu", precision="float32")
        lora = save_tiny_lora(model.pipe, Path(tmp) / "lora", seed=1)["kohya"]

        def params(weight: float) -> GenerationParams:
            return GenerationParams(
                model=str(folder), prompt="a red cat", negative_prompt="the dog",
                steps=args.steps, cfg_scale=7.0, seed=1234, seed_mode="fixed",
                width=args.size, height=args.size, device="cpu", precision="float32",
                preview_every=0, loras=((str(lora), weight),))

        pipe_class = type(model.pipe)
        loads = {"model": 0, "lora": 0}
        original_model, original_lora = loading.load_model, pipe_class.load_lora_weights

        def count_model(*a, **k):
            loads["model"] += 1
            return original_model(*a, **k)

        def count_lora(self, *a, **k):
            loads["lora"] += 1
            return original_lora(self, *a, **k)

        run(params(1.0), lambda *a, **k: None, CancelToken())  # warm-up: loads the adapter
        loading.load_model, pipe_class.load_lora_weights = count_model, count_lora
        times: dict[str, list[float]] = {"switch": [], "same": [], "generate": []}
        weights = (0.4, 1.0)
        for r in range(args.rounds):
            weight = weights[r % 2]
            t = time.perf_counter()
            prompt_extras.condition(model, model.pipe, params(weight), None)
            times["switch"].append(time.perf_counter() - t)
            t = time.perf_counter()
            prompt_extras.condition(model, model.pipe, params(weight), None)
            times["same"].append(time.perf_counter() - t)
            t = time.perf_counter()
            run(params(weights[(r + 1) % 2]), lambda *a, **k: None, CancelToken())
            times["generate"].append(time.perf_counter() - t)
        loading.load_model, pipe_class.load_lora_weights = original_model, original_lora

    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = statistics.median(s / g for s, g in zip(times["switch"], times["generate"],
                                                    strict=True))
    print(f"lora_switch_ratio switch/generation={ratio * 100:.2f} % (median of {args.rounds} "
          f"rounds; median wall: switch {med['switch'] * 1000:.1f} ms, same weight "
          f"{med['same'] * 1000:.1f} ms, generation {med['generate'] * 1000:.0f} ms; "
          f"{args.size} px, {args.steps} steps, CFG 7; loads during the rounds: base model "
          f"{loads['model']}, LoRA {loads['lora']})")


if __name__ == "__main__":
    main()
