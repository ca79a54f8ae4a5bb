"""Run-time switches shared by every lesson: fast/offline flags, seeding, device choice.

Two environment variables steer the whole course:

* ``COURSE_FAST=1``    -- reduced configuration (fewer iterations, smaller images) that runs
  on 2 CPU cores; the tests and the book build set it.
* ``COURSE_OFFLINE=1`` -- forbid every download (weights, datasets).

Both are read through :func:`flags` (and :func:`fast_for`, which also tells "unset" from "0") and nowhere else.
"""

from __future__ import annotations

import os
import platform
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # torch is imported lazily, where it is needed
    import torch

__all__ = [
    "RunFlags",
    "flags",
    "seed_everything",
    "get_device",
    "on_colab",
    "describe",
    "amp_dtype_for",
    "best_of",
    "fast_for",
]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _read_bool(name: str) -> bool:
    raw = os.environ.get(name, "")
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"environment variable {name} must be one of {sorted(_TRUE | _FALSE - {''})}, got {raw!r}")


@dataclass(frozen=True)
class RunFlags:
    """The two course switches. ``fast``: reduced configuration; ``offline``: no downloads."""

    fast: bool
    offline: bool

    @property
    def mode(self) -> str:
        """``"fast"`` or ``"full"``."""
        return "fast" if self.fast else "full"


def flags() -> RunFlags:
    """Read ``COURSE_FAST`` and ``COURSE_OFFLINE`` from the environment (the one place that does)."""
    return RunFlags(fast=_read_bool("COURSE_FAST"), offline=_read_bool("COURSE_OFFLINE"))


def on_colab() -> bool:
    """True inside a Google Colab runtime."""
    return "google.colab" in sys.modules


def seed_everything(seed: int = 0) -> int:
    """Seed Python, NumPy and torch (CPU and CUDA) so a run repeats exactly. Returns ``seed``."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    import torch

    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return seed


def get_device(prefer: str = "cuda", verbose: bool = True):
    """Return ``torch.device('cuda')`` when available (and preferred), else the CPU.

    On Colab without a GPU, prints how to switch one on instead of failing.
    """
    import torch

    if prefer not in {"cuda", "cpu"}:
        raise ValueError(f"prefer must be 'cuda' or 'cpu', got {prefer!r}")
    if prefer == "cuda" and torch.cuda.is_available():
        return torch.device("cuda")
    if verbose and prefer == "cuda" and on_colab():
        print(
            "No GPU found. On Colab: Runtime > Change runtime type > Hardware accelerator: GPU, "
            "then run the notebook again. Continuing on the CPU."
        )
    return torch.device("cpu")


def describe(device: str | torch.device | None = None, *, fast: bool | None = None) -> None:
    """Print one line saying which mode the notebook runs in and on which device (returns nothing).

    Args:
        device: the device the lesson runs on (default: :func:`get_device`).
        fast: the mode the lesson chose (e.g. from :func:`fast_for`); default: ``COURSE_FAST``.
    """
    import torch

    f = flags()
    if fast is not None:
        f = RunFlags(fast=bool(fast), offline=f.offline)
    device = device if device is not None else get_device(verbose=False)
    if getattr(device, "type", str(device)) == "cuda":
        where = f"GPU ({torch.cuda.get_device_name(0)})"
    else:
        where = f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"
    line = (
        f"Mode: {f.mode.upper()} (COURSE_FAST={os.environ.get('COURSE_FAST', '').strip() or 'unset'}) | "
        f"downloads: {'forbidden (COURSE_OFFLINE=1)' if f.offline else 'allowed'} | "
        f"device: {where} | torch {torch.__version__}" + (" | Colab" if on_colab() else "")
    )
    print(line)


def amp_dtype_for(device: str | torch.device) -> torch.dtype | None:
    """The autocast dtype for training on ``device``: mixed precision chosen by what the GPU can do.

    ``torch.bfloat16`` on GPUs that support it natively (no gradient scaler needed),
    ``torch.float16`` on other GPUs (use it with ``torch.amp.GradScaler``; Colab's free T4 has no
    bfloat16 convolutions), ``None`` (no autocast) on a CPU.
    """
    import torch

    if getattr(device, "type", str(device)) != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported(including_emulation=False) else torch.float16


def best_of(fn: Callable[[], Any], repeats: int = 3, *, threads: int | None = None, warmup: bool = False) -> float:
    """Shortest wall-clock time of ``repeats`` calls of ``fn()``: the run least disturbed by other programs.

    Args:
        fn: the work to time, called without arguments.
        repeats: number of timed calls (>= 1).
        threads: run with this many torch threads (restored afterwards); ``None`` keeps the current number.
            One thread makes a timing independent of whether a busy machine lends a second core.
        warmup: call ``fn()`` once, untimed, first (memory allocation, kernel choice).

    Returns:
        float: seconds of the fastest call.
    """
    import time

    import torch

    if not callable(fn):
        raise TypeError(f"fn: expected a function of no arguments, got {type(fn).__name__}")
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats: expected an int >= 1, got {repeats!r}")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads: expected None or an int >= 1, got {threads!r}")
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        if warmup:
            fn()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    finally:
        torch.set_num_threads(before)
    return min(times)


def fast_for(device: str | torch.device | None = None, *, needs_gpu: bool = True, verbose: bool = True) -> bool:
    """Whether a lesson should run its fast configuration on ``device``.

    ``COURSE_FAST`` decides when it is set (``1``: fast, ``0``: full, even on a CPU). When it is
    unset and the lesson's full mode needs a GPU that ``device`` is not, the fast configuration is
    chosen and the reason printed: opening a lesson on a CPU-only runtime never starts an
    hours-long run by accident.

    Args:
        device: the ``torch.device`` the lesson runs on (default: :func:`get_device`).
        needs_gpu: the lesson's full mode is meant for a GPU.
        verbose: print the decision when the fallback applies.

    Returns:
        bool: True for the fast configuration.
    """
    raw = os.environ.get("COURSE_FAST", "").strip()
    if raw:
        return _read_bool("COURSE_FAST")
    device = device if device is not None else get_device(verbose=False)
    on_gpu = getattr(device, "type", str(device)) == "cuda"
    if needs_gpu and not on_gpu:
        if verbose:
            print(
                "COURSE_FAST is not set and no GPU was found: running the FAST configuration "
                "(the full one would take hours on a CPU). Set COURSE_FAST=0 to force the full run."
            )
        return True
    return False
