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


def function_source(nb: dict, name: str) -> str:
    """Source of the lesson's top-level ``def name`` (or ``class name``), cut out of its code cell.

    For tests that run an exercise's checks in a namespace of stand-ins instead of the whole lesson:
    the checks' helpers (``resnet18_grid``, ``valid_tap_fraction``, ...) come from the lesson itself.
    """
    import ast

    found = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = _src(cell)
        try:
            tree = ast.parse(src)
        except SyntaxError:  # IPython magics
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
                found.append(ast.get_source_segment(src, node))
    if len(found) != 1:
        raise LookupError(f"{name!r}: expected one top-level definition, found {len(found)}")
    return found[0]


def run_in(ns: dict, cells: list[dict]) -> str:
    """Execute the cells in the namespace ``ns`` (stand-ins for the lesson's globals); return what they printed."""
    import torch

    buf = io.StringIO()
    grad, threads = torch.is_grad_enabled(), torch.get_num_threads()
    try:
        with contextlib.redirect_stdout(buf):
            for cell in cells:
                exec(compile(_src(cell), "<cell>", "exec"), ns)  # noqa: S102 (the lesson's own cells)
    finally:
        torch.set_grad_enabled(grad)
        torch.set_num_threads(threads)
    return buf.getvalue()


def graded_cells(source: dict, ex_id: str, answer: str | None) -> list[dict]:
    """Like :func:`submission`, for an exercise that may have public checks only (no hidden-check cell)."""
    student = assign.student_version(source)
    cells = [copy.deepcopy(c) for c in student["cells"] if c["cell_type"] == "code" and _ex_id(c) == ex_id]
    solutions = [c for c in cells if "exercise" in _tags(c) or "solution" in _tags(c)]
    if len(solutions) != 1:
        raise LookupError(f"exercise {ex_id}: expected one solution cell, found {len(solutions)}")
    if answer is not None:
        solutions[0]["source"] = answer
    hidden = [copy.deepcopy(c) for c in source["cells"] if "hidden-check" in _tags(c) and _ex_id(c) == ex_id]
    if not hidden and not any("check" in _tags(c) for c in cells):
        raise LookupError(f"exercise {ex_id}: no check cell")
    return cells + hidden


def solution_source(source: dict, ex_id: str) -> str:
    """The lesson's own solution of the exercise (the code cell tagged ``solution``)."""
    found = [
        _src(c) for c in source["cells"] if c["cell_type"] == "code" and "solution" in _tags(c) and _ex_id(c) == ex_id
    ]
    if len(found) != 1:
        raise LookupError(f"exercise {ex_id}: expected one solution cell, found {len(found)}")
    return found[0]


def n_checks(source: dict, ex_id: str) -> int:
    """How many check cells (public and hidden) the exercise has: each prints one verdict."""
    return sum(
        1 for c in source["cells"] if _ex_id(c) and _ex_id(c) == ex_id and {"check", "hidden-check"} & set(_tags(c))
    )
