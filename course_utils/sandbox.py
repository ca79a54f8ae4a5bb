"""Run one notebook in a fresh kernel, in its own directory, optionally confined by bubblewrap.

The kernel is the ipykernel of the current Python; each cell has a timeout and the whole run a
wall-clock limit; a cell that runs past its timeout is interrupted and the run goes on; a kernel
that dies ends the run. With ``sandbox=True`` the kernel runs under ``bwrap``: no network (it is
reached through Unix sockets in its directory), the file system read-only outside that directory.
Used by :mod:`course_utils.grading`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .gradebook import Verdict

__all__ = ["Run", "execute", "sandbox_prefix"]


@dataclass
class Run:
    """What happened to one submission: per-exercise check outcomes and the student's own errors."""

    outcomes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # id -> [(kind, message)]
    errors: list[str] = field(default_factory=list)
    stopped: str = ""  # why execution stopped early ("" when it ran to the end)
    notebook: Any = None  # the executed notebook (nbformat node)


def sandbox_prefix(workdir: Path) -> list[str]:
    """The bubblewrap command that confines a kernel: no network, read-only outside ``workdir``.

    Raises:
        RuntimeError: ``bwrap`` is not installed.
    """
    bwrap = shutil.which("bwrap")
    if not bwrap:
        raise RuntimeError(
            "--sandbox needs bubblewrap (`bwrap`), which is not installed: "
            "`sudo apt-get install bubblewrap` (Debian/Ubuntu), or grade inside a container/VM"
        )
    w = str(workdir)
    return [
        bwrap,
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        "/dev/shm",
        "--bind",
        w,
        w,
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-pid",
        "--die-with-parent",
        "--new-session",
        "--chdir",
        w,
        "--setenv",
        "JPY_PARENT_PID",
        "0",
        "--",
    ]  # bwrap is PID 1 inside: no parent polling


def _kernel_manager_class(prefix: list[str]):
    from jupyter_client.manager import AsyncKernelManager

    class _KernelManager(AsyncKernelManager):
        """The ipykernel of the current Python, optionally inside ``prefix`` (bubblewrap)."""

        def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
            cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file]
            return prefix + cmd + list(extra_arguments or [])

    return _KernelManager


def _error_of(outputs: list[dict]) -> tuple[str, str] | None:
    for out in outputs:
        if out.get("output_type") == "error":
            return out.get("ename", "Error"), out.get("evalue", "")
    return None


def execute(
    nb: dict, inserted: dict[int, str], workdir: Path, cell_timeout: float, wall_limit: float, sandbox: bool
) -> Run:
    """Execute ``nb`` cell by cell in a fresh kernel whose working directory is ``workdir``.

    Args:
        nb: the notebook to run (a dict; cells with list or str sources).
        inserted: index -> exercise id of the cells whose outcome is recorded as a check verdict.
        workdir: an empty directory; the kernel's cwd, TMPDIR, IPython and matplotlib config dirs.
        cell_timeout: seconds before a running cell is interrupted.
        wall_limit: seconds for the whole run, kernel start-up included.
        sandbox: run the kernel under bubblewrap (see :func:`sandbox_prefix`).

    Returns:
        The outcomes of the inserted cells, the errors of the other cells, why the run stopped
        early (if it did) and the executed notebook.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    node = nbformat.reads(json.dumps(nb), as_version=4)
    run = Run(notebook=node)
    deadline = time.monotonic() + wall_limit
    prefix = sandbox_prefix(workdir) if sandbox else []
    client = NotebookClient(
        node,
        kernel_manager_class=_kernel_manager_class(prefix),
        allow_errors=True,
        interrupt_on_timeout=True,
        record_timing=False,
        coalesce_streams=True,
        shutdown_kernel="immediate",
        startup_timeout=60,
        iopub_timeout=2,
        error_on_timeout={"ename": "GradingTimeout", "evalue": "", "traceback": []},
    )
    client.timeout_func = lambda cell: max(1, int(min(cell_timeout, deadline - time.monotonic()) + 0.999))
    replies: dict[int, dict] = {}
    client.on_cell_executed = lambda cell, cell_index, execute_reply: replies.__setitem__(cell_index, execute_reply)
    km = client.km = client.create_kernel_manager()
    if sandbox:  # no network inside: talk to the kernel over Unix sockets in the working directory
        km.transport, km.ip = "ipc", str(workdir / "kernel-ipc")
        km.kernel_spec.interrupt_mode = "message"  # a SIGINT to bwrap would end the sandbox, not the cell
    km.connection_file = str(workdir / "kernel-connection.json")
    env = dict(
        os.environ,
        COURSE_OFFLINE="1",
        COURSE_FAST="1",
        MPLBACKEND="Agg",
        TMPDIR=str(workdir),
        IPYTHONDIR=str(workdir / ".ipython"),
        MPLCONFIGDIR=str(workdir / ".matplotlib"),
    )
    index = -1
    try:
        with client.setup_kernel(cwd=str(workdir), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            for index, cell in enumerate(node.cells):
                if cell.cell_type != "code":
                    continue
                if time.monotonic() >= deadline:
                    run.stopped = f"the whole notebook took longer than the {wall_limit:g} s limit"
                    break
                client.execute_cell(cell, index)
                reply = replies.get(index, {}).get("content", {})
                err = _error_of(cell.outputs)
                timed_out = reply.get("ename") == "GradingTimeout"
                if index in inserted:
                    eid = inserted[index]
                    if timed_out:
                        outcome = (
                            Verdict.TIMEOUT,
                            f"the check did not finish within {cell_timeout:g} s "
                            "(an endless loop, or far too much work?)",
                        )
                    elif err and err[0] == "NotImplementedError":
                        outcome = (Verdict.NOT_ATTEMPTED, err[1])
                    elif err:
                        outcome = (Verdict.FAIL, _explain(*err))
                    else:
                        outcome = (Verdict.PASS, "")
                    run.outcomes.setdefault(eid, []).append(outcome)
                elif timed_out:
                    where = _student_cell(index, inserted)
                    run.errors.append(f"cell {where}: did not finish within {cell_timeout:g} s")
                elif err and err[0] != "NotImplementedError":
                    run.errors.append(f"cell {_student_cell(index, inserted)}: {_explain(*err)}")
    except DeadKernelError:
        run.stopped = (
            f"Python stopped (the kernel died) while running cell {_student_cell(index, inserted)}; "
            "nothing after it could be checked"
        )
    except Exception as exc:  # kernel start-up failures and the like: report, go on with the class
        run.stopped = f"the notebook could not be run: {type(exc).__name__}: {exc}"
    return run


def _student_cell(index: int, inserted: dict[int, str]) -> int:
    """1-based position of graded-notebook cell ``index`` in the student's own notebook."""
    return index + 1 - sum(1 for i in inserted if i < index)


def _explain(ename: str, evalue: str) -> str:
    evalue = re.sub(r"\x1b\[[0-9;]*m", "", evalue).strip()
    if ename in ("CheckFailed", "AssertionError"):
        return evalue or "a check failed (no message)"
    if ename == "NameError":
        return f"{evalue}: the cell that defines it is missing, was renamed, or failed before reaching the definition"
    if ename in ("ModuleNotFoundError", "ImportError"):
        return f"{evalue}: an import failed; use only the packages the lesson uses"
    return f"your code raised {ename}: {evalue}"
