"""Folder batches on a Ray cluster: a local Ray instance started by the test
(two CPUs, no dashboard) stands for the cluster, the test's folders for the
shared storage."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

if os.environ.get("ARTSTUDIO_REQUIRE_RAY"):  # CI installs the extra: these must run
    import ray
else:
    ray = pytest.importorskip("ray", reason="the cluster extra (ray[data]) is not installed")

from artstudio.batch import (
    BatchSettings,
    plan_batch,
    ray_runner,
)
from artstudio.batch.ray_runner import RayUnavailable, check_cluster, run_on_ray
from artstudio.cli import main as cli_main
from artstudio.commands.style import main as style_main
from artstudio.engine import CancelToken

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(240)  # a hung cluster fails the test, never the run


@pytest.fixture(scope="module")
def cluster():
    # The workers import this checkout and this module's test processors.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             logging_level="ERROR")
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def _folder(root: Path, count: int = 6) -> Path:
    rng = np.random.default_rng(7)
    (root / "sub").mkdir(parents=True)
    for i in range(count):
        where = root / "sub" if i % 2 else root
        Image.fromarray(rng.integers(0, 255, (18, 22, 3), dtype=np.uint8)).save(
            where / f"img{i}.png")
    (root / "broken.jpg").write_bytes(b"not a jpeg")
    (root / "notes.txt").write_text("not an image")
    return root


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix == ".png"}


def invert(rgba):
    out = rgba.copy()
    out[..., :3] = 255 - out[..., :3]
    return out


def slow_invert_factory(cancel):
    def slow(rgba):
        time.sleep(0.4)
        return invert(rgba)
    return slow


def test_ray_outputs_are_byte_identical_to_a_local_run_and_a_rerun_rewrites_nothing(
        cluster, tmp_path, capsys):
    src = _folder(tmp_path / "in")
    local, remote = tmp_path / "local", tmp_path / "remote"
    args = ["--style", "frost", "--recursive"]
    assert style_main([str(src), str(local), *args]) == 1  # broken.jpg fails
    local_err = capsys.readouterr().err
    assert style_main([str(src), str(remote), *args, "--ray", cluster]) == 1
    remote_err = capsys.readouterr().err
    assert "Ray cluster (1 node(s))" in remote_err
    assert _outputs(remote) == _outputs(local) and len(_outputs(local)) == 6
    def failures(err, out):
        # The same counts and failures, word for word (the times differ).
        return [line.replace(str(out), "OUT").split(" in ")[0] for line in err.splitlines()
                if line.startswith(("  failed:", "6 written"))]
    assert failures(remote_err, remote) == failures(local_err, local)
    assert any("broken.jpg" in line for line in failures(remote_err, remote))
    assert not [p for p in remote.rglob(".*") if p.name != "batch-settings.json"]

    before = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in remote.rglob("*.png")}
    assert style_main([str(src), str(remote), *args, "--ray", cluster]) == 1
    err = capsys.readouterr().err
    assert "0 written, 6 already done, 1 failed" in err
    assert {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in remote.rglob("*.png")} == before


class KillOnce:
    """A processor whose actor is ended (ray.kill) the first time it meets
    img3: as if its node went away mid-run."""

    def __init__(self, flag: Path):
        self.flag = flag

    def __call__(self, cancel):
        flag = self.flag

        def process(rgba):
            if rgba.shape[:2] == (18, 22) and not flag.exists() and int(rgba[0, 0, 0]) == MARK:
                flag.write_text("killed")
                ray.kill(ray.get_runtime_context().current_actor, no_restart=False)
                time.sleep(30)  # never reached: the kill ends this process
            return invert(rgba)
        return process


MARK = 201


def test_an_actor_killed_mid_run_leaves_no_broken_or_duplicate_output(cluster, tmp_path):
    src = _folder(tmp_path / "in", count=10)
    marked = np.asarray(Image.open(src / "img4.png")).copy()
    marked[0, 0, 0] = MARK
    Image.fromarray(marked).save(src / "img4.png")
    out = tmp_path / "out"
    plan = plan_batch(src, out, recursive=True)
    flag = tmp_path / "killed"
    report = run_on_ray(plan.items, KillOnce(flag), BatchSettings(), skipped=plan.skipped)
    assert flag.exists()  # the actor was killed
    if len(report.written) < 10:  # the job may end there: a rerun completes it
        report = run_on_ray(plan.items, KillOnce(flag), BatchSettings())
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                  if p.is_file()) == sorted(it.target.relative_to(out).as_posix()
                                            for it in plan.items if it.source.suffix == ".png")
    for item in plan.items:
        if item.source.suffix == ".png":  # every output whole and right
            got = np.asarray(Image.open(item.target).convert("RGBA"))
            want = invert(np.asarray(Image.open(item.source).convert("RGBA")))
            assert np.array_equal(got, want), item.target
    assert [p.name for p, _ in report.failed] == ["broken.jpg"]


def test_cancelling_stops_the_job_and_leaves_only_whole_outputs(cluster, tmp_path):
    src = _folder(tmp_path / "in", count=12)
    out = tmp_path / "out"
    plan = plan_batch(src, out, recursive=True)
    cancel = CancelToken()

    def progress(step, total, message=""):
        if step >= 2:
            cancel.cancel()

    report = run_on_ray(plan.items, slow_invert_factory, BatchSettings(), progress, cancel)
    assert report.cancelled and report.not_started > 0
    assert report.exit_code == (1 if report.failed else 130)  # as a local batch
    assert not list(out.rglob(".*"))  # no temporary file left behind
    for path in out.rglob("*.png"):
        assert Image.open(path).size == (22, 18)  # whole
    assert len(list(out.rglob("*.png"))) == len(report.written)


def test_an_unreachable_address_fails_in_one_line_before_any_work(tmp_path, capsys):
    src = _folder(tmp_path / "in", count=1)
    out = tmp_path / "out"
    code = cli_main(["upscale", str(src), str(out), "--model", "lanczos", "--ray", "127.0.0.1:9"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "no Ray cluster answers at 127.0.0.1:9" in err[0]
    assert not out.exists()  # nothing written, not even the record


def test_a_missing_model_on_the_cluster_fails_before_any_work(cluster, tmp_path, capsys):
    src = _folder(tmp_path / "in", count=1)
    out = tmp_path / "out"
    missing = tmp_path / "models" / "4x-Missing.safetensors"
    code = cli_main(["upscale", str(src), str(out), "--model", str(missing), "--ray", cluster])
    err = capsys.readouterr().err
    assert code == 2 and "cannot use the model" in err and "4x-Missing.safetensors" in err
    assert not list(out.rglob("*.png")) and not (out / "batch-settings.json").exists()


def node_local_probe(folder, files, first_input):
    # A node whose "shared" folder is its own disk: it writes elsewhere.
    private = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"node-local-{os.getpid()}")
    return PROBE(private, files, first_input)


PROBE = ray_runner._probe


def test_an_output_folder_the_workers_cannot_share_is_refused(cluster, tmp_path, monkeypatch):
    monkeypatch.setattr(ray_runner, "_probe", node_local_probe)
    with pytest.raises(RayUnavailable, match="is not shared with node"):
        check_cluster(tmp_path / "out", [], None)


def test_a_local_run_never_imports_ray(tmp_path):
    import subprocess

    src = _folder(tmp_path / "in", count=1)
    code = ("import sys\nfrom artstudio.cli import main\n"
            f"code = main(['upscale', {str(src)!r}, {str(tmp_path / 'out')!r}, "
            "'--model', 'lanczos'])\nprint('ray' in sys.modules, code)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.stdout.split() == ["False", "1"], done.stderr  # 1: broken.jpg


def test_an_address_that_is_not_one_is_refused(tmp_path, capsys):
    src = _folder(tmp_path / "in", count=1)
    code = cli_main(["upscale", str(src), str(tmp_path / "out"), "--model", "lanczos",
                     "--ray", "head-without-port"])
    assert code == 2 and "give auto or HOST:PORT" in capsys.readouterr().err
