"""Cancel latency of a generation: from engine.cancel(job_id) to the job
reporting CANCELLED, in denoising steps and in milliseconds (goal: cancelled
within one step, and no VAE decode after the cancel).

A 50-step, 64 px text-to-image job on a tiny random SD1 model (warm in the
model cache) runs on the Engine's accelerator lane. Another thread, standing
in for the GUI, waits until the job has reported a random step, sleeps a
random fraction of a step, then calls engine.cancel(job_id). The UNet (one
call per step, both CFG halves in one batch) and the VAE's decode are
instrumented with timestamps, so the bench counts the UNet steps that
started after the request, the steps that finished after it (the one in
flight included) and any decode after it. Milliseconds depend on how long
the step in flight takes (very noisy on a loaded machine), so both are
printed: the time from the request (what the artist waits for) and the time
from the end of the step in flight (the cost of the cancellation itself).

    python bench/cancel_latency.py           # 10 cancels
    python bench/cancel_latency.py --runs 4
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=7, help="seed of the random cancel points")
    args = ap.parse_args()

    from artstudio.diffusion import generate as diffusion
    from artstudio.diffusion import loading
    from artstudio.diffusion.params import GenerationParams
    from artstudio.engine import Engine, JobKind, JobState, Lane
    from artstudio.model_files.offline import offline_and_quiet
    from artstudio.selftest.random_models import save_random_sd1

    offline_and_quiet()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = save_random_sd1(Path(tmp) / "sd1")
        params = GenerationParams(
            model=str(folder), prompt="a red cat", steps=args.steps, width=args.size,
            height=args.size, seed=1, device="cpu", precision="float32", preview_every=1)
        model = loading.get_model(params.model, params.variant, params.device,
                                    params.precision, params.cpu_offload)

        unet_starts: list[float] = []
        unet_ends: list[float] = []
        decodes: list[float] = []
        model.pipe.unet.register_forward_pre_hook(
            lambda *_: unet_starts.append(time.perf_counter()))
        model.pipe.unet.register_forward_hook(lambda *_: unet_ends.append(time.perf_counter()))
        vae = model.pipe.vae
        decode = vae.decode

        def counted_decode(*a, **k):
            decodes.append(time.perf_counter())
            return decode(*a, **k)

        vae.decode = counted_decode

        engine = Engine()
        states: dict[int, tuple[JobState, float]] = {}
        steps_seen: dict[int, int] = {}
        reached = threading.Condition()

        def listen(event) -> None:
            now = time.perf_counter()
            with reached:
                if event.progress is not None and event.progress.total == args.steps:
                    steps_seen[event.job_id] = event.progress.step
                if event.state.finished:
                    states.setdefault(event.job_id, (event.state, now))
                reached.notify_all()

        engine.subscribe(listen)

        def job():
            return engine.submit(diffusion.run, params, kind=JobKind.GENERATE,
                                 lane=Lane.ACCELERATOR, title="bench")

        # Warm-up, uncancelled: measures a step and checks one decode per image.
        unet_starts.clear(), unet_ends.clear(), decodes.clear()
        t = time.perf_counter()
        handle = job()
        handle.wait(600)
        whole = time.perf_counter() - t
        if handle.state is not JobState.DONE or len(decodes) != 1:
            raise SystemExit(f"warm-up run ended {handle.state}, {len(decodes)} decodes")
        gaps = [b - a for a, b in itertools.pairwise(unet_starts)]
        step_s = statistics.median(gaps)

        started_after, finished_after, latency_ms, late_decodes, at_steps = [], [], [], 0, []
        tail_ms = []  # from the end of the last UNet step to CANCELLED: the cancel handling itself
        for _ in range(args.runs):
            at_step = rng.randrange(2, args.steps - 2)
            unet_starts.clear(), unet_ends.clear(), decodes.clear()
            handle = job()
            with reached:
                reached.wait_for(lambda h=handle.id, n=at_step: steps_seen.get(h, 0) >= n,
                                 timeout=600)
            time.sleep(rng.random() * step_s)
            requested = time.perf_counter()
            engine.cancel(handle.id)
            handle.wait(600)
            with reached:
                reached.wait_for(lambda h=handle.id: h in states, timeout=60)
            state, when = states[handle.id]
            if state is not JobState.CANCELLED:
                raise SystemExit(f"job {handle.id} ended {state} instead of cancelled")
            at_steps.append(sum(s <= requested for s in unet_starts))
            started_after.append(sum(s > requested for s in unet_starts))
            finished_after.append(sum(e > requested for e in unet_ends))
            latency_ms.append((when - requested) * 1000)
            tail_ms.append((when - max([requested, *unet_ends])) * 1000)
            late_decodes += sum(d > requested for d in decodes)
        engine.shutdown()

    med_ms, max_ms = statistics.median(latency_ms), max(latency_ms)
    med = statistics.median
    print(f"cancel latency, {args.runs} cancels at steps {sorted(at_steps)} of {args.steps}, "
          f"{args.size} px, one step = {step_s * 1000:.0f} ms, uncancelled run {whole:.1f} s")
    print(f"  from the request to CANCELLED:          median {med_ms:.0f} ms, max "
          f"{max_ms:.0f} ms ({med_ms / 1000 / step_s:.2f} / {max_ms / 1000 / step_s:.2f} steps)")
    print(f"  from the end of the step in flight:     median {med(tail_ms):.1f} ms, max "
          f"{max(tail_ms):.1f} ms (the cancellation's own cost)")
    print(f"  UNet steps started after the request:   median {med(started_after):g}, max "
          f"{max(started_after)}")
    print(f"  steps finished after it (in flight too): median {med(finished_after):g}, max "
          f"{max(finished_after)}")
    print(f"  VAE decodes after it:                   {late_decodes}")


if __name__ == "__main__":
    main()
