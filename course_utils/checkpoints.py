"""Checkpoints for "load if trained, else train": a file per (name, configuration, data).

A lesson trains a model once and stores it under ``checkpoints/`` (git-ignored); the next run
with the same configuration, architecture and data loads it instead of training again. The
training loop itself stays in the lesson; only this bookkeeping lives here::

    run = checkpoints.train_or_load("unet-fast", model, CFG, fit, data=(X_train, Y_train), score=val_miou)
    print(run.summary())        # "trained now in 21.4 s" or "loaded ... (trained earlier in 21.4 s)"
    run.trained, run.train_seconds, run.load_seconds, run.history, run.score

On Colab the folder is ``/content/checkpoints`` (the working directory's ``checkpoints/``); it
disappears with the runtime unless copied to Google Drive.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._validate import describe_value

if TYPE_CHECKING:  # torch is imported lazily, where it is needed
    import torch

__all__ = [
    "CheckpointMismatch",
    "TrainRun",
    "find_checkpoint_dir",
    "config_key",
    "fingerprint",
    "checkpoint_path",
    "save_checkpoint",
    "load_checkpoint",
    "train_or_load",
]


class CheckpointMismatch(RuntimeError):
    """A loaded checkpoint does not reproduce the score recorded when it was trained."""


def find_checkpoint_dir(start: str | Path | None = None) -> Path:
    """The folder where lessons keep their checkpoints.

    ``<course repository>/checkpoints`` when ``start`` (default: the working directory) lies inside
    the course repository (a folder holding ``_toc.yml`` and ``course_utils/``), else
    ``<start>/checkpoints`` (e.g. on Colab). The folder is not created here.
    """
    here = Path.cwd() if start is None else Path(start)
    if not isinstance(here, Path):
        raise TypeError(f"start: expected a path, got {describe_value(start)}")
    here = here.resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file() and (folder / "course_utils").is_dir():
            return folder / "checkpoints"
    return here / "checkpoints"


def config_key(config: dict) -> str:
    """Ten hex digits that change whenever any value of ``config`` (a JSON-able dict) changes."""
    if not isinstance(config, dict) or not config:
        raise TypeError(f"config: expected a non-empty dict, got {describe_value(config)}")
    try:
        text = json.dumps(config, sort_keys=True)
    except TypeError as exc:
        raise TypeError(f"config: expected JSON-able values (numbers, strings, lists), got {exc}") from None
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def checkpoint_path(name: str, config: dict, root: str | Path | None = None) -> Path:
    """``<root>/<name>-<config_key(config)>.pt``; ``root`` defaults to :func:`find_checkpoint_dir`."""
    if not isinstance(name, str) or not name or any(c in name for c in "/\\ "):
        raise ValueError(f"name: expected a non-empty name without slashes or spaces, got {name!r}")
    folder = find_checkpoint_dir() if root is None else Path(root)
    return folder / f"{name}-{config_key(config)}.pt"


def save_checkpoint(path: str | Path, model: torch.nn.Module, **extra: Any) -> Path:
    """Write ``model.state_dict()`` and the ``extra`` values (history, timings, ...) to ``path``."""
    import torch

    if not hasattr(model, "state_dict"):
        raise TypeError(f"model: expected a torch.nn.Module, got {describe_value(model)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save({"state_dict": model.state_dict(), "extra": extra}, tmp)
    tmp.replace(path)  # never leave a half-written checkpoint behind
    return path


def load_checkpoint(path: str | Path, model: torch.nn.Module, map_location: Any = "cpu") -> dict:
    """Load the weights at ``path`` into ``model`` (strictly: same architecture) and return the extras."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no checkpoint file at {str(path)!r}")
    if not hasattr(model, "load_state_dict"):
        raise TypeError(f"model: expected a torch.nn.Module, got {describe_value(model)}")
    blob = torch.load(path, map_location=map_location, weights_only=True)
    model.load_state_dict(blob["state_dict"])
    return dict(blob.get("extra", {}))


def fingerprint(*tensors: Any) -> str:
    """Twelve hex digits that change whenever any value, shape or dtype of the tensors changes.

    Args:
        *tensors: torch tensors or NumPy arrays (e.g. the training images and labels).

    Returns:
        str: a short SHA-1 digest.
    """
    import numpy as np

    h = hashlib.sha1()
    for i, t in enumerate(tensors):
        arr = t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)
        if arr.dtype == object:
            raise TypeError(f"tensors[{i}]: expected a numeric tensor or array, got {describe_value(t)}")
        h.update(f"{arr.shape}{arr.dtype}".encode())
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()[:12]


@dataclass
class TrainRun:
    """What :func:`train_or_load` did: the model, whether it trained now, and how long each step took.

    Attributes:
        model: the network, trained or loaded (in eval mode).
        trained: True if it was trained in this run, False if loaded from ``path``.
        train_seconds: wall-clock seconds of the training (of the original run when loaded).
        load_seconds: seconds spent loading the checkpoint (0.0 when trained now).
        path: the checkpoint file.
        history: what the training function returned (losses, scores, ...).
        score: the score measured on the model held now (``None`` without a score function).
    """

    model: Any
    trained: bool
    train_seconds: float
    load_seconds: float
    path: Path
    history: Any = None
    score: float | None = None
    extra: dict = field(default_factory=dict)

    def summary(self) -> str:
        """One sentence for the reader: trained now, or loaded (and when it was trained)."""
        if self.trained:
            return f"trained now in {self.train_seconds:.1f} s; saved to {self.path}"
        return (
            f"loaded from {self.path} in {self.load_seconds:.2f} s (trained in an earlier run, which took "
            f"{self.train_seconds:.1f} s); delete the file to train again"
        )


def train_or_load(
    name: str,
    model: Any,
    config: dict,
    train: Callable[[Any], Any],
    *,
    data: tuple = (),
    score: Callable[[Any], float] | None = None,
    root: str | Path | None = None,
    map_location: Any = "cpu",
    tolerance: float = 1e-6,
) -> TrainRun:
    """Load ``model`` from its checkpoint when one exists for this configuration, else train and save it.

    The checkpoint's name hashes ``config``, the architecture (``repr(model)``) and a fingerprint of
    ``data``, so changing any of them trains again. When ``score`` is given, the score of the model
    held now is measured; a loaded model must reproduce the score recorded after its training.

    Args:
        name: checkpoint name without slashes, e.g. ``"unet-fast"``.
        model: a ``torch.nn.Module`` (modified in place: trained or loaded).
        config: JSON-able dict of everything the training depends on (steps, lr, seed, ...).
        train: ``train(model) -> history``; its return value is stored (JSON-able or tensors).
        data: tensors the training depends on (fingerprinted into the name).
        score: optional ``score(model) -> float`` (e.g. the validation mIoU).
        root: checkpoint folder; default :func:`find_checkpoint_dir`.
        map_location: device the weights are loaded onto.
        tolerance: largest accepted difference between the re-measured and the recorded score.

    Returns:
        TrainRun: the model, ``trained``, ``train_seconds``, ``load_seconds``, ``history``, ``score``.

    Raises:
        CheckpointMismatch: a loaded model's score differs from the recorded one by more than ``tolerance``.
    """
    if not callable(train):
        raise TypeError(f"train: expected a function train(model) -> history, got {describe_value(train)}")
    if score is not None and not callable(score):
        raise TypeError(f"score: expected a function score(model) -> float or None, got {describe_value(score)}")
    if not isinstance(data, tuple):
        raise TypeError(f"data: expected a tuple of tensors, got {describe_value(data)}")
    full = {**config, "architecture": repr(model), "data": fingerprint(*data) if data else ""}
    path = checkpoint_path(name, full, root=root)
    if path.is_file():
        t0 = time.perf_counter()
        extra = load_checkpoint(path, model, map_location=map_location)
        run = TrainRun(
            model,
            False,
            float(extra.get("train_seconds", float("nan"))),
            time.perf_counter() - t0,
            path,
            extra.get("history"),
            extra=extra,
        )
    else:
        t0 = time.perf_counter()
        history = train(model)
        seconds = time.perf_counter() - t0
        run = TrainRun(model, True, seconds, 0.0, path, history)
    if hasattr(model, "eval"):
        model.eval()
    if score is not None:
        run.score = float(score(model))
        recorded = run.extra.get("score")
        if not run.trained and recorded is not None and abs(run.score - recorded) > tolerance:
            raise CheckpointMismatch(
                f"{path}: the loaded model scores {run.score:.6f}, but {recorded:.6f} was recorded after training; "
                "delete the file to train again"
            )
    if run.trained:
        save_checkpoint(path, model, history=run.history, train_seconds=run.train_seconds, score=run.score)
    return run
