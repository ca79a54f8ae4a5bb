"""Run one exercise of a lesson, as a student would submit it, with a given answer in its solution cell.

Used by ``tests/test_exercises_0N.py`` (mutation-style tests of the exercise checks): the student version of
the lesson (``course_utils.assign.student_version``) gets the answer in the exercise's solution cell, the
instructor's hidden checks are inserted after the exercise's last cell (matched by the ``exercise`` id in
cell metadata, as the grader does), and the lesson's set-up cells plus the exercise's own cells run in a
fresh namespace, without a kernel. A check that rejects the answer raises
``course_utils.exercises.CheckFailed``.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
from pathlib import Path

from course_utils import assign

ROOT = Path(__file__).resolve().parents[1]


def load(stem: str) -> dict:
    return json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8"))


def _src(cell: dict) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _ex_id(cell: dict) -> str | None:
    return (cell.get("metadata", {}).get("exercise") or {}).get("id")


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def setup_cells(nb: dict, markers: list[str]) -> list[str]:
    """Sources of the code cells containing each marker (in notebook order): the lesson's set-up."""
    out = []
    for marker in markers:
        found = [_src(c) for c in nb["cells"] if c["cell_type"] == "code" and marker in _src(c)]
        if len(found) != 1:
            raise LookupError(f"marker {marker!r}: expected one code cell, found {len(found)}")
        out.append(found[0])
    return out


def submission(source: dict, ex_id: str, answer: str | None) -> list[dict]:
    """The exercise's code cells as graded: student version, ``answer`` in the solution cell
    (None keeps the stub), the source's hidden checks appended."""
    student = assign.student_version(source)
    cells = [copy.deepcopy(c) for c in student["cells"] if c["cell_type"] == "code" and _ex_id(c) == ex_id]
    solutions = [c for c in cells if "exercise" in _tags(c) or "solution" in _tags(c)]
    if len(solutions) != 1:
        raise LookupError(f"exercise {ex_id}: expected one solution cell, found {len(solutions)}")
    if answer is not None:
        solutions[0]["source"] = answer
    hidden = [c for c in source["cells"] if "hidden-check" in _tags(c) and _ex_id(c) == ex_id]
    if not hidden:
        raise LookupError(f"exercise {ex_id}: no hidden-check cell")
    return cells + [copy.deepcopy(c) for c in hidden]


def run(setup: list[str], cells: list[dict]) -> str:
    """Execute the set-up sources and the cells in one fresh namespace; return what they printed."""
    import matplotlib

    matplotlib.use("Agg")
    import torch

    ns: dict = {"__name__": "__main__"}
    buf = io.StringIO()
    # Lessons change torch's process-wide state (``torch.set_grad_enabled(False)``, thread counts);
    # in a kernel that dies with the kernel, here it would leak into every later test.
    grad, threads = torch.is_grad_enabled(), torch.get_num_threads()
    try:
        with contextlib.redirect_stdout(buf):
            for src in setup + [_src(c) for c in cells]:
                exec(compile(src, "<cell>", "exec"), ns)  # noqa: S102 (the lesson's own cells)
    finally:
        torch.set_grad_enabled(grad)
        torch.set_num_threads(threads)
    return buf.getvalue()


def wrong_answer_cases(wrong: dict[str, tuple[str, dict[str, str]]]) -> list[tuple[str, str, str]]:
    """``{ex_id: (def line, {name: body})}`` -> ``[(ex_id, name, full function source)]`` for parametrize."""
    import textwrap

    return [
        (ex, name, head + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n")
        for ex, (head, bodies) in wrong.items()
        for name, body in bodies.items()
    ]
