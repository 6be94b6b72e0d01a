"""Folder jobs: any per-image function over a whole folder, resumable (no Qt).

    plan = plan_batch("photos", "styled", recursive=True, fmt="png")
    report = run_batch(plan.items, fn, BatchSettings(), progress, cancel, plan.skipped)

`fn(rgba) -> rgba` is the only thing a feature brings (style and upscale
today); walking, naming, resume, reporting and the overlapped pipeline live here.
"""

from artstudio.batch.naming import FORMATS, BadBatchLocation, Item
from artstudio.batch.pipeline import (
    BatchJob,
    BatchSettings,
    FolderJob,
    Processor,
    run_batch,
    run_batch_job,
    run_folder_job,
)
from artstudio.batch.plan import BatchPlan, plan_batch
from artstudio.batch.report import BatchReport
from artstudio.batch.walk import find_images

__all__ = [
    "FORMATS",
    "BadBatchLocation",
    "BatchJob",
    "BatchPlan",
    "BatchReport",
    "BatchSettings",
    "FolderJob",
    "Item",
    "Processor",
    "find_images",
    "plan_batch",
    "run_batch",
    "run_batch_job",
    "run_folder_job",
]
