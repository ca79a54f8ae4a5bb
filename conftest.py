"""Root pytest hooks for the nbval run over ``notebooks/``.

* Timing: how long each lesson takes under nbval (kernel start-up included) goes to
  ``_build/timings/notebooks.json``; ``scripts/lesson_timings.py`` turns it into the table on the
  instructors' page.
* ``--nb-cache DIR``: every notebook whose cells all pass is written, with the outputs nbval
  received, into the jupyter-cache at DIR. ``make test`` points it at ``_build/.jupyter_cache``,
  which the book build (``execute_notebooks: cache``) reads, so the strict book build renders
  the run nbval just checked instead of executing every lesson a second time. The kernel messages
  are turned into outputs by nbclient's own message handling (the code myst-nb would have run),
  widget state included.
"""

from __future__ import annotations

import copy
import json
import os
import platform
from collections import defaultdict
from pathlib import Path

import pytest

_SECONDS: dict[str, float] = defaultdict(float)
_EXECUTED: dict[str, _ExecutedNotebook] = {}


def pytest_addoption(parser):
    parser.addoption(
        "--nb-cache",
        default=None,
        metavar="DIR",
        help="write each notebook that passes nbval, with its outputs, to this jupyter-cache",
    )


class _ExecutedNotebook:
    """Rebuilds the executed notebook from the kernel messages nbval reads."""

    def __init__(self, nb):
        from nbclient import NotebookClient

        self.nb = copy.deepcopy(nb)
        self.client = NotebookClient(self.nb, record_timing=False)
        self.client.reset_execution_trackers()
        self.ok = True
        self.done: set[int] = set()

    def add(self, cell_index: int, messages: list[dict]) -> None:
        from nbclient.exceptions import CellExecutionComplete

        cell = self.nb.cells[cell_index]
        cell.outputs = []  # as nbclient's execute_cell does before it reads a cell's messages
        self.client.clear_before_next_output = False
        parent = next((m["parent_header"].get("msg_id") for m in messages if m["msg_type"] == "execute_input"), None)
        for msg in messages:
            if parent is not None and msg["parent_header"].get("msg_id") != parent:
                continue
            try:
                self.client.process_message(msg, cell, cell_index)
            except CellExecutionComplete:
                pass
        # nbval runs cells without storing history, so the kernel's counts stay put: number the cells
        # in execution order, as a notebook run top to bottom shows them.
        self.done.add(cell_index)
        cell.execution_count = len(self.done)
        for out in cell.outputs:
            if out.output_type == "execute_result":
                out.execution_count = cell.execution_count

    def complete(self) -> bool:
        code = {i for i, c in enumerate(self.nb.cells) if c.cell_type == "code"}
        return self.ok and code <= self.done


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    nb_file = getattr(item, "parent", None)
    if item.config.getoption("--nb-cache") is None or not hasattr(nb_file, "get_kernel_message"):
        yield
        return
    path = item.nodeid.split("::", 1)[0]
    record = _EXECUTED.setdefault(path, _ExecutedNotebook(nb_file.nb))
    messages: list[dict] = []
    read = nb_file.get_kernel_message

    def recording(*args, **kwargs):
        msg = read(*args, **kwargs)
        messages.append(msg)
        return msg

    nb_file.get_kernel_message = recording
    try:
        outcome = yield
    finally:
        nb_file.get_kernel_message = read
    if outcome.excinfo is not None:
        record.ok = False
        return
    index = next(i for i, c in enumerate(nb_file.nb.cells) if c is item.cell)
    record.add(index, messages)


def _write_cache(directory: str, rootpath: Path) -> None:
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(rootpath / directory))
    for path, record in _EXECUTED.items():  # path: relative to the rootdir, as in the test ids
        if not record.complete():
            print(f"\n--nb-cache: {Path(path).name} not cached (a cell failed or did not run)")
            continue
        record.client.set_widgets_metadata()
        cache.cache_notebook_bundle(
            CacheBundleIn(
                record.nb, str(rootpath / path), data={"execution_seconds": round(_SECONDS.get(path, 0.0), 1)}
            ),
            check_validity=False,
            overwrite=True,
        )


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _SECONDS[path] += report.duration


def pytest_sessionfinish(session, exitstatus):
    if _EXECUTED and session.config.getoption("--nb-cache"):
        _write_cache(session.config.getoption("--nb-cache"), Path(session.config.rootpath))
    if not _SECONDS:
        return
    # One record per mode (fast / full): a full-mode run never mixes its times into the fast ones.
    from course_utils.runtime import flags

    mode = flags().mode
    out = Path(session.config.rootpath) / "_build" / "timings" / "notebooks.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(out.read_text()) if out.exists() else {}
    record = data.get(mode, {}).get("notebooks", {})
    record.update({Path(k).name: round(v, 1) for k, v in _SECONDS.items()})
    data[mode] = {
        "machine": _machine(),
        "notebooks": dict(sorted(record.items())),
    }
    out.write_text(json.dumps(data, indent=2))


def _machine() -> str:
    """Where the run happened: CPU cores, and the GPU when torch sees one."""
    where = f"{platform.machine()}, {os.cpu_count()} CPU cores"
    try:
        import torch

        if torch.cuda.is_available():
            where += f", GPU {torch.cuda.get_device_name(0)}"
    except Exception:  # timing must never fail the run
        pass
    return where
