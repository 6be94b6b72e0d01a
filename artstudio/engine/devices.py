"""Choosing the compute device and precision at run time.

torch is imported only when a choice is actually needed, so the window can
appear before the 1-2 s torch import.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

DEVICE_CHOICES = ("auto", "cuda", "mps", "cpu")
PRECISION_CHOICES = ("auto", "float16", "bfloat16", "float32")


@dataclass(frozen=True)
class DeviceChoice:
    device: str  # a torch device string: "cuda", "cuda:1", "mps" or "cpu"
    dtype: str  # a torch dtype name: "float16", "bfloat16" or "float32"
    reason: str  # why: shown in Settings and in the log
    # Settings named a device or precision that could not be used (so the artist is told).
    fell_back: bool = False

    @property
    def torch_device(self):
        import torch

        return torch.device(self.device)

    @property
    def torch_dtype(self):
        import torch

        return getattr(torch, self.dtype)

    @property
    def is_accelerator(self) -> bool:
        return not self.device.startswith("cpu")

    def describe(self) -> str:
        return f"{self.device} ({self.dtype})"

    def note(self) -> str:
        """What runs and why, in a sentence (the status bar, Settings)."""
        return f"Running on {self.describe()}: {self.reason}"


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def choose_device(preference: str = "auto", precision: str = "auto") -> DeviceChoice:
    """Pick a device: CUDA, then Apple MPS, then the CPU, unless the settings
    name one. Half precision on accelerators (fp16 halves VRAM and is what SD
    checkpoints ship in), fp32 on the CPU (CPU fp16 kernels are slow or absent)."""
    preference = (preference or "auto").lower()
    fell_back = False
    if preference.startswith("cuda"):
        if _cuda_available():
            device, why = preference, "chosen in Settings"
        else:
            device, why = "cpu", "CUDA was chosen in Settings but is not available"
            fell_back = True
    elif preference == "mps":
        if _mps_available():
            device, why = "mps", "chosen in Settings"
        else:
            device, why = "cpu", "MPS was chosen in Settings but is not available"
            fell_back = True
    elif preference == "cpu":
        device, why = "cpu", "chosen in Settings"
    else:
        if _cuda_available():
            device, why = "cuda", "an NVIDIA GPU was found"
        elif _mps_available():
            device, why = "mps", "Apple Metal was found"
        else:
            device, why = "cpu", "no GPU was found"

    if precision in ("float16", "bfloat16", "float32"):
        dtype = precision
        if device == "cpu" and dtype == "float16":
            dtype, why = "float32", why + "; float16 is not supported well on the CPU"
            fell_back = True
    else:
        dtype = "float32" if device == "cpu" else "float16"
    return DeviceChoice(device=device, dtype=dtype, reason=why, fell_back=fell_back)


def probe_device(preference_and_precision: tuple[str, str], progress=None,
                 cancel=None) -> DeviceChoice:
    """The device Settings name and why (for the status bar). Engine job
    form, because the first call imports torch, which takes seconds: the UI
    runs it on the pool once the window has painted."""
    preference, precision = preference_and_precision
    return choose_device(preference, precision)


def cpu_is_the_choice(preference: str = "auto", precision: str = "auto") -> bool:
    """Whether `choose_device` gives the CPU in float32, answered without
    importing torch (1-2 s) where no GPU driver is installed: a batch that
    runs on the CPU through another runtime need not load torch at all."""
    preference = (preference or "auto").lower()
    if precision not in ("auto", "float32", None):
        return False
    if preference == "cpu":
        return True
    if preference != "auto":
        return False
    if torch_imported() or _gpu_driver_present():
        return not choose_device(preference, precision).is_accelerator
    return True


def _gpu_driver_present() -> bool:
    """A driver torch could use: NVIDIA's or ROCm's on Linux, NVIDIA's on
    Windows, Metal on Apple silicon. No driver means no GPU for torch."""
    if sys.platform == "darwin":
        import platform

        return platform.machine() == "arm64"
    if sys.platform == "win32":
        system = os.environ.get("SYSTEMROOT", r"C:\Windows")
        return os.path.exists(os.path.join(system, "System32", "nvcuda.dll"))
    return any(os.path.exists(p) for p in ("/proc/driver/nvidia/version", "/dev/nvidia0",
                                           "/dev/kfd"))


def torch_imported() -> bool:
    return "torch" in sys.modules


def free_memory_bytes(device: str = "cpu") -> int:
    """Memory that a new allocation can use now on `device` (for tile sizes and
    the model cache budget). Falls back to a conservative guess."""
    if device.startswith("cuda"):
        import torch

        free, _total = torch.cuda.mem_get_info(torch.device(device))
        return int(free)
    if device == "mps":
        import torch

        limit = torch.mps.recommended_max_memory()
        return int(max(0, limit - torch.mps.current_allocated_memory()))
    available = meminfo_available()
    if available is not None:
        return available
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 4 * 1024**3


def meminfo_available(path: str = "/proc/meminfo") -> int | None:
    """Linux's MemAvailable: free pages plus the page cache it can drop. Free
    pages alone (SC_AVPHYS_PAGES) drop to near nothing once a few model files
    have been read, and would refuse a model the machine can hold."""
    try:
        with open(path, encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def total_memory_bytes() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8 * 1024**3


def empty_device_caches() -> None:
    """Give freed accelerator memory back to the driver, if torch is loaded at all."""
    if not torch_imported():
        return
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    mps = getattr(torch, "mps", None)
    if mps is not None and _mps_available():
        mps.empty_cache()
