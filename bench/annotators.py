"""One control image from each network preprocessor at 512 x 512 on this
machine's CPU (or --device), with random weights in the published shapes:
the time does not depend on the weights' values.

    python bench/annotators.py
    python bench/annotators.py --device cuda --runs 5

Each network is saved under its published file name in a temporary annotator
folder; the first call (loading and running) and the median of --runs more
calls (the network kept loaded) are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def save_networks(folder: Path) -> None:
    import torch
    from transformers import (
        DepthAnythingConfig,
        DepthAnythingForDepthEstimation,
        Dinov2Config,
        DPTImageProcessor,
    )

    from artstudio.control.annotators import hed, lineart, lineart_anime, openpose

    for build, name in ((lineart.build, "sk_model.pth"), (lineart_anime.build, "netG.pth"),
                        (hed.build, "ControlNetHED.pth")):
        torch.save(build().state_dict(), folder / name)
    torch.save({k.split(".", 1)[1]: v for k, v in openpose.build().state_dict().items()},
               folder / "body_pose_model.pth")
    # Depth-Anything-V2-Small-hf's shape: DINOv2 ViT-S/14 and its DPT head.
    backbone = Dinov2Config(hidden_size=384, num_hidden_layers=12, num_attention_heads=6,
                            image_size=518, out_indices=[3, 6, 9, 12], apply_layernorm=True,
                            reshape_hidden_states=False)
    config = DepthAnythingConfig(backbone_config=backbone, reassemble_hidden_size=384,
                                 neck_hidden_sizes=[48, 96, 192, 384], fusion_hidden_size=64)
    small = folder / "depth-anything-v2-small-hf"
    DepthAnythingForDepthEstimation(config).save_pretrained(small)
    DPTImageProcessor(size={"height": 518, "width": 518}, keep_aspect_ratio=True,
                      ensure_multiple_of=14, image_mean=[0.485, 0.456, 0.406],
                      image_std=[0.229, 0.224, 0.225]).save_pretrained(small)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="annotators-bench-"))
    os.environ["ARTSTUDIO_HOME"] = str(home)
    os.environ["HOME"] = str(home)
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch

    from artstudio.control import preprocessors

    folder = preprocessors.annotator_folders()[0]
    folder.mkdir(parents=True)
    save_networks(folder)
    picture = np.random.default_rng(0).integers(0, 256, (args.size, args.size, 3), np.uint8)
    print(f"{args.size} x {args.size} on {args.device}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    print(f"{'preprocessor':<16}{'first s':>9}{'then s':>8}")
    for name in ("lineart_model", "lineart_anime", "softedge_hed", "depth", "openpose"):
        kind = preprocessors.PREPROCESSORS[name].kind
        start = time.perf_counter()
        preprocessors.preprocess(kind, picture, name, device=args.device)
        first = time.perf_counter() - start
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            preprocessors.preprocess(kind, picture, name, device=args.device)
            times.append(time.perf_counter() - start)
        print(f"{name:<16}{first:>9.2f}{statistics.median(times):>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
