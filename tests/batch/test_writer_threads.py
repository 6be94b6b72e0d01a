"""Results made while written (row sources, the upscaler's) that are small
enough are gathered and encoded on the encoder threads while the next image
runs: the names, pixels, text and report are those of streaming them on the
calling thread, and a write that fails there is that file's failure only."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from artstudio.batch import BatchSettings, plan_batch, run_batch


class Doubled:
    """A row source: the input at twice its size, made row block by row block;
    counts which thread ran its rows."""

    def __init__(self, rgba, threads):
        self.image = np.repeat(np.repeat(rgba, 2, 0), 2, 1)
        self.height, self.width = self.image.shape[:2]
        self.opaque = bool((rgba[..., 3] == 255).all())
        self.threads = threads

    def rows(self):
        import threading

        self.threads.add(threading.current_thread().name)
        for top in range(0, self.height, 5):
            yield self.image[top:top + 5]

    def to_array(self):
        return self.image


@pytest.fixture
def folder(tmp_path):
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in ("a.png", "b.jpg", "sub/c.png", "sub/d.webp"):
        Image.fromarray(rng.integers(0, 255, (30, 40, 3), dtype=np.uint8)).save(src / name)
    rgba = np.dstack([rng.integers(0, 255, (30, 40, 3), dtype=np.uint8),
                      np.full((30, 40), 90, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(src / "e.png")
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 30)
    return src


def run(src, out, stream_above):
    plan = plan_batch(src, out, recursive=True)
    threads: set[str] = set()
    text = (("artstudio-batch", json.dumps({"kind": "test"})),)
    report = run_batch(plan.items, lambda rgba: Doubled(rgba, threads),
                       BatchSettings(stream_above=stream_above, text=text), skipped=plan.skipped)
    files = {p.relative_to(out).as_posix(): p for p in out.rglob("*") if p.is_file()}
    return report, files, threads


def test_gathered_results_match_streamed_ones_and_are_encoded_off_the_calling_thread(
        folder, tmp_path):
    streamed, s_files, s_threads = run(folder, tmp_path / "s", stream_above=0)
    gathered, g_files, g_threads = run(folder, tmp_path / "g", stream_above=10**9)
    assert sorted(g_files) == sorted(s_files) == ["a.png", "b.png", "e.png", "sub/c.png",
                                                  "sub/d.png"]  # no temporaries left
    for name in g_files:
        with Image.open(g_files[name]) as g, Image.open(s_files[name]) as s:
            assert g.mode == s.mode and g.size == s.size == (80, 60)
            assert np.array_equal(np.asarray(g), np.asarray(s))
            assert g.text["artstudio-batch"] == s.text["artstudio-batch"]
    a, b = streamed.to_dict(), gathered.to_dict()
    for key in ("started", "seconds", "images_per_second"):
        a.pop(key, None)
        b.pop(key, None)
    def relative(report_dict, out):
        return json.loads(json.dumps(report_dict).replace(str(out), "OUT"))

    assert relative(a, tmp_path / "s") == relative(b, tmp_path / "g")
    assert len(gathered.failed) == 1  # broken.png, with the same reason
    assert ([p.relative_to(tmp_path / "g") for p in gathered.written]
            == [p.relative_to(tmp_path / "s") for p in streamed.written])
    # Gathering runs the rows where the function runs; neither is an encoder thread.
    assert not any(t.startswith("batch-encode") for t in g_threads | s_threads)


def test_a_write_failing_on_an_encoder_thread_is_that_files_failure_only(folder, tmp_path,
                                                                          monkeypatch):
    import errno
    import threading

    from artstudio.batch import codecs

    real = codecs.atomic_write
    failing_on = []

    def disk_full_for_c(target, write):
        if target.name != "c.png":
            return real(target, write)
        failing_on.append(threading.current_thread().name)

        def half_then_full(fh):
            fh.write(b"\x89PNG half a file")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(target, half_then_full)

    monkeypatch.setattr(codecs, "atomic_write", disk_full_for_c)
    out = tmp_path / "out"
    report, files, _threads = run(folder, out, stream_above=10**9)
    assert failing_on and failing_on[0].startswith("batch-encode")
    failed = {p.name: reason for p, reason in report.failed}
    assert set(failed) == {"broken.png", "c.png"} and "disk is full" in failed["c.png"]
    assert sorted(files) == ["a.png", "b.png", "e.png", "sub/d.png"]  # no temporary left
    assert report.exit_code == 1 and len(report.written) == 4
