"""What a lesson's nbval run recorded, for the tests that hold its targets and budgets.

The nbval run of ``make test`` (``make test-notebooks``) writes every executed lesson into the
jupyter-cache ``_build/.jupyter_cache`` (see the root ``conftest.py``) and each lesson's seconds
into ``_build/timings/notebooks.json``. The results tests read both here: the values a lesson
glued (``course_utils.report.glue``) and how long it took.

Without that run (a test file run on its own) the results tests are skipped; under CI
(``CI`` set) a missing run is a failure, because there it means the lesson was not checked.
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "_build" / ".jupyter_cache"
TIMINGS = ROOT / "_build" / "timings" / "notebooks.json"
GLUE_PREFIX = "application/papermill.record/"

__all__ = ["glued", "lesson_seconds"]


def _missing(what: str) -> None:
    message = f"{what}; run `make test-notebooks` first (it executes every lesson and records the results)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _executed_notebook(stem: str) -> dict | None:
    if not CACHE.is_dir():
        return None
    from jupyter_cache import get_cache

    cache = get_cache(str(CACHE))
    target = (ROOT / "notebooks" / f"{stem}.ipynb").resolve()
    records = [r for r in cache.list_cache_records() if Path(r.uri).resolve() == target]
    if not records:
        return None
    latest = max(records, key=lambda r: r.created)
    return cache.get_cache_bundle(latest.pk).nb


def _value(data: dict) -> Any:
    """A glued value: the Python literal of its text/plain, else its Markdown or plain text."""
    for key in ("text/markdown", "text/plain"):
        for k in (GLUE_PREFIX + key, key):
            if k in data:
                text = "".join(data[k]) if isinstance(data[k], list) else data[k]
                if key == "text/plain":
                    try:
                        return ast.literal_eval(text)
                    except (ValueError, SyntaxError):
                        return text
                return text
    return None


def glued(stem: str) -> dict[str, Any]:
    """Every value lesson ``stem`` (e.g. ``"07_discriminative_lab"``) glued in its last nbval run.

    Numbers come back as Python numbers; Markdown values as their Markdown text.
    """
    nb = _executed_notebook(stem)
    if nb is None:
        _missing(f"no executed copy of notebooks/{stem}.ipynb in {CACHE.relative_to(ROOT)}")
    values: dict[str, Any] = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                values[name] = _value(out.get("data", {}))
    return values


def lesson_seconds(stem: str, mode: str | None = None) -> float:
    """Seconds lesson ``stem`` took under nbval (kernel start included) in ``mode`` (default: the current)."""
    if mode is None:
        from course_utils.runtime import flags

        mode = flags().mode
    if not TIMINGS.is_file():
        _missing(f"no {TIMINGS.relative_to(ROOT)}")
    record = json.loads(TIMINGS.read_text()).get(mode, {}).get("notebooks", {})
    if f"{stem}.ipynb" not in record:
        _missing(f"{TIMINGS.relative_to(ROOT)} has no {mode}-mode time for {stem}.ipynb")
    return float(record[f"{stem}.ipynb"])
