"""The .deb builder packs any bundle folder as any version (so upgrades can
be checked in seconds with stand-in bundles), and installing 0.2 over 0.1
keeps the artist's settings and models (packaging/linux/check_upgrade.sh)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINUX = ROOT / "packaging" / "linux"

needs_dpkg = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="no dpkg-deb here")


@needs_dpkg
def test_the_builder_packs_a_given_bundle_as_a_given_version(tmp_path):
    bundle = tmp_path / "bundle"
    (bundle / "_internal").mkdir(parents=True)
    (bundle / "Artstudio").write_text("#!/bin/sh\necho stand-in\n")
    (bundle / "Artstudio").chmod(0o755)
    (bundle / "_internal" / "marker.txt").write_text("0.7")
    env = {**os.environ, "ARTSTUDIO_DEB_BUNDLE": str(bundle), "ARTSTUDIO_DEB_VERSION": "0.7",
           "ARTSTUDIO_DEB_OUT": str(tmp_path / "out")}
    proc = subprocess.run(["bash", str(LINUX / "build_deb.sh")], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    deb, = (tmp_path / "out").glob("artstudio_0.7_*.deb")
    fields = subprocess.run(["dpkg-deb", "-f", str(deb), "Package", "Version"],
                            capture_output=True, text=True, check=True).stdout
    assert "Package: artstudio" in fields and "Version: 0.7" in fields
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True,
                             check=True).stdout
    for path in ("./opt/artstudio/Artstudio", "./opt/artstudio/_internal/marker.txt",
                 "./usr/bin/artstudio", "./usr/share/applications/artstudio.desktop"):
        assert path in listing, path


@needs_dpkg
def test_a_missing_bundle_is_one_line_and_exit_2(tmp_path):
    env = {**os.environ, "ARTSTUDIO_DEB_BUNDLE": str(tmp_path / "nothing"),
           "ARTSTUDIO_DEB_OUT": str(tmp_path / "out")}
    proc = subprocess.run(["bash", str(LINUX / "build_deb.sh")], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "is missing: run PyInstaller first" in proc.stderr


@pytest.mark.skipif(os.environ.get("ARTSTUDIO_DPKG_CHECK") != "1",
                    reason="installs and removes a system package: set ARTSTUDIO_DPKG_CHECK=1 "
                           "(as root, with no artstudio package installed)")
def test_installing_a_newer_deb_over_an_older_one_keeps_settings_and_removes_cleanly():
    proc = subprocess.run(["bash", str(LINUX / "check_upgrade.sh")], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.rstrip().endswith("upgrade check: passed")
