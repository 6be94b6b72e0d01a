"""Planning and resuming a batch of a studio's size: 100,000 small files in
nested folders.

    python bench/batch_plan.py                  # 100,000 files
    python bench/batch_plan.py --count 10000    # a quicker look

Planning never opens an input (the walk asks the file system what each entry
is), so every input is the same tiny PNG, written once per name. The bench
prints, each in its own phase:

- plan: walk, name and check the locations of every file (goal < 10 s);
- resume at 99 %: 99 % of the outputs exist (made with the same settings);
  plan again, check the folder's record, record the run, and run the batch
  over what is left with a processor that returns its input (goal < 10 s);
- the report: the JSON summary's size and the terminal summary's lines;
- peak memory (RSS high-water mark) above the interpreter after imports,
  for this count; run with a tenth of the count to see how it grows.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from artstudio.batch import BatchSettings, plan_batch, run_batch  # noqa: E402
from artstudio.batch.recipe import recipe_of  # noqa: E402
from artstudio.batch.report import write_run_reports  # noqa: E402
from artstudio.batch.resume import OtherSettings, begin_run, check_resume  # noqa: E402
from artstudio.upscale.upscaling import UpscaleOptions  # noqa: E402

PER_FOLDER = 500  # files per leaf folder, 10 leaf folders per parent


def tiny_png() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((4, 4, 3), 128, np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def build(root: Path, count: int) -> None:
    data = tiny_png()
    for i in range(count):
        leaf = i // PER_FOLDER
        folder = root / f"shot{leaf // 10:03d}" / f"take{leaf % 10}"
        if i % PER_FOLDER == 0:
            folder.mkdir(parents=True, exist_ok=True)
        (folder / f"frame{i:06d}.png").write_bytes(data)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def identity(rgba):
    return rgba


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="batch-plan-"))
    src, out = work / "in", work / "out"
    try:
        t = time.perf_counter()
        if not src.exists():
            build(src, args.count)
        print(f"built {args.count} files in {time.perf_counter() - t:.1f} s", flush=True)
        base = peak_mb()

        t, cpu = time.perf_counter(), time.process_time()
        plan = plan_batch(src, out, recursive=True)
        plan_s = time.perf_counter() - t
        assert len(plan.items) == args.count, len(plan.items)
        # CPU time too: on a shared machine the wall clock measures the neighbours.
        print(f"plan:            {plan_s:6.2f} s  (CPU {time.process_time() - cpu:.2f} s, "
              f"{len(plan.items)} items)", flush=True)

        # 99 % done: the outputs exist (empty files; resuming never opens
        # them) and the record says these settings made them.
        recipe = recipe_of("upscale", UpscaleOptions(model=None, scale=2), "png", 92,
                           "bench")
        done = plan.items[: args.count * 99 // 100]
        check = check_resume(out, plan.items, recipe)
        begin_run(check, plan.items, OtherSettings.REFUSE, BatchSettings())
        for item in done:
            item.target.parent.mkdir(parents=True, exist_ok=True)
            item.target.touch()
        del plan, check

        t, cpu = time.perf_counter(), time.process_time()
        plan = plan_batch(src, out, recursive=True)
        t_plan = time.perf_counter() - t
        check = check_resume(out, plan.items, recipe)
        t_check = time.perf_counter() - t - t_plan
        settings = begin_run(check, plan.items, OtherSettings.REFUSE, BatchSettings())
        t_record = time.perf_counter() - t - t_plan - t_check
        report = run_batch(plan.items, identity, settings, skipped=plan.skipped)
        resume_s = time.perf_counter() - t
        t_run = resume_s - t_plan - t_check - t_record
        assert len(report.already_done) == len(done), len(report.already_done)
        assert len(report.written) == args.count - len(done), report.summary()
        print(f"resume at 99 %:  {resume_s:6.2f} s  (CPU {time.process_time() - cpu:.2f} s; "
              f"plan {t_plan:.2f}, check {t_check:.2f}, "
              f"record {t_record:.2f}, run {t_run:.2f}: {len(report.written)} written)",
              flush=True)

        t = time.perf_counter()
        path = work / "report.json"
        write_run_reports(report, path)
        summary = json.loads(path.read_text("utf-8"))
        run = json.loads((work / summary["runs"][0]["report"]).read_text("utf-8"))
        print(f"report:          {time.perf_counter() - t:6.2f} s  summary "
              f"{path.stat().st_size / 1024:.0f} KiB, this run's "
              f"{(work / summary['runs'][0]['report']).stat().st_size / 1024:.0f} KiB "
              f"(first key {next(iter(run))!r}); terminal summary "
              f"{len(report.summary().splitlines())} line(s)", flush=True)
        print(f"peak memory:     {peak_mb() - base:6.0f} MB above {base:.0f} MB after imports")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
