"""`--self-test`: run every capability that works without downloaded weights.

Each capability is a function `check_<name>(folder) -> str` in a module of
this package, taking a scratch folder and returning a one-line detail (or
raising); the random models they run live in `random_models`. The command line prints one line per
capability; the GUI runs the same list as engine jobs. The installer runs it
to prove a build works.
"""

from __future__ import annotations

import importlib
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple


@dataclass(frozen=True)
class Capability:
    name: str
    target: str  # "module:function", imported only when the check runs

    def load(self) -> Callable[[Path], str]:
        module, _, func = self.target.partition(":")
        return getattr(importlib.import_module(module), func)


class CheckResult(NamedTuple):
    name: str
    ok: bool
    detail: str
    seconds: float


CAPABILITIES: list[Capability] = [
    Capability("settings", "artstudio.selftest.foundation:check_settings"),
    Capability("engine", "artstudio.selftest.foundation:check_engine"),
    Capability("torch", "artstudio.selftest.foundation:check_torch"),
    Capability("document", "artstudio.selftest.foundation:check_document"),
    Capability("diffusion", "artstudio.selftest.diffusion:check_diffusion"),
    Capability("flux", "artstudio.selftest.diffusion:check_flux"),
    Capability("style", "artstudio.selftest.style:check_style"),
    Capability("batch", "artstudio.selftest.batch:check_batch"),
    Capability("upscale", "artstudio.selftest.upscale:check_upscale"),
]


def run_check(capability: Capability, scratch: Path) -> CheckResult:
    start = time.perf_counter()
    try:
        folder = scratch / capability.name
        folder.mkdir(parents=True, exist_ok=True)
        detail = capability.load()(folder)
        return CheckResult(capability.name, True, detail, time.perf_counter() - start)
    except Exception as exc:
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return CheckResult(capability.name, False, last, time.perf_counter() - start)


def run_capability_job(name_and_target: tuple[str, str], progress, cancel) -> str:
    """One capability as an engine job (Help > Run Self-Test runs each as its
    own job): its detail, or RuntimeError with it when the check failed."""
    name, target = name_and_target
    progress(0, 1, name)
    with tempfile.TemporaryDirectory(prefix="artstudio-selftest-") as tmp:
        result = run_check(Capability(name, target), Path(tmp))
    progress(1, 1, name)
    if not result.ok:
        raise RuntimeError(result.detail)
    return result.detail


def run_all(capabilities: Iterable[Capability] | None = None,
            report: Callable[[CheckResult], None] | None = None) -> list[CheckResult]:
    results = []
    capabilities = CAPABILITIES if capabilities is None else capabilities
    with tempfile.TemporaryDirectory(prefix="artstudio-selftest-") as tmp:
        for capability in capabilities:
            result = run_check(capability, Path(tmp))
            results.append(result)
            if report:
                report(result)
    return results


def format_result(result: CheckResult) -> str:
    mark = "ok  " if result.ok else "FAIL"
    return f"{mark} {result.name:<12} {result.detail} ({result.seconds:.2f} s)"


def print_self_test() -> int:
    """The command-line form: one line per capability, a summary, exit status."""
    from artstudio import APP_NAME, __version__

    print(f"{APP_NAME} {__version__} self-test", flush=True)
    results = run_all(report=lambda r: print(format_result(r), flush=True))
    failed = [r.name for r in results if not r.ok]
    print(f"self-test: {len(results) - len(failed)} passed, {len(failed)} failed", flush=True)
    return 1 if failed else 0
