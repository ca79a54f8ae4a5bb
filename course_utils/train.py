"""Checkpoints for "load if trained, else train": a file per (name, mode, configuration).

A lesson trains a model once and stores it under ``checkpoints/`` (git-ignored); the next run
with the same configuration loads it instead of training again. The training loop itself stays
in the lesson; only this bookkeeping lives here.

    path = train.checkpoint_path("unet", config)
    if path.exists():
        extra = train.load_checkpoint(path, model)      # restores the weights, returns the rest
    else:
        ...                                             # train
        train.save_checkpoint(path, model, history=history)
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .validation import describe_value

__all__ = ["find_checkpoint_dir", "config_key", "checkpoint_path", "save_checkpoint", "load_checkpoint"]


def find_checkpoint_dir(start: str | Path | None = None) -> Path:
    """``<course repository>/checkpoints`` when ``start`` (default: the working directory) lies
    inside the course repository (a folder holding ``_toc.yml`` and ``course_utils/``), else
    ``<start>/checkpoints`` (e.g. on Colab). The folder is not created here."""
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


def save_checkpoint(path: str | Path, model, **extra: Any) -> Path:
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


def load_checkpoint(path: str | Path, model, map_location: Any = "cpu") -> dict:
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
