"""Grade a class's submitted lesson notebooks: hidden checks, points, a gradebook and feedback.

Command line (wired into ``python -m course_utils.assign``)::

    python -m course_utils.assign grade submissions/*.ipynb --lesson 01 --out grades/

Each submission runs in a fresh kernel of the current Python (nbclient + ipykernel), in its own
temporary working directory, with ``COURSE_OFFLINE=1`` and ``COURSE_FAST=1``. The instructor's
checks of each exercise (the source lesson's ``check`` and ``hidden-check`` cells) are inserted
after the student's cells of that exercise, matched by the exercise id in cell metadata
(``"exercise": {"id": "N.k"}``), never by position. Verdicts:

* ``pass``: every inserted check ran without an exception (full points);
* ``fail``: a check raised (``exercises.CheckFailed``/``AssertionError`` message, or the student's error);
* ``not attempted``: the student's code still raises ``NotImplementedError`` (the stub);
* ``took too long``: a check exceeded the per-cell timeout or the notebook the wall-clock limit;
* ``not run``: the kernel died before the exercise's checks ran;
* ``invalid notebook`` / ``wrong lesson``: the file is not a notebook of this lesson (not run).

Submissions execute arbitrary code: grade in a container or a VM; ``--sandbox`` (bubblewrap)
additionally runs each kernel without network and with the file system read-only outside its
temporary directory. The student's identity is the file stem.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from . import assign
from .gradebook import Result, Verdict, feedback, summary, write_gradebook
from .sandbox import execute, sandbox_prefix

__all__ = [
    "Verdict",
    "Result",
    "lesson_exercises",
    "exercise_ids",
    "graded_notebook",
    "grade_submission",
    "grade",
    "write_gradebook",
    "feedback",
    "summary",
    "sandbox_prefix",
    "add_arguments",
    "run_cli",
]

WARNING = (
    "WARNING: submissions execute arbitrary code with your permissions. Grade in a container or "
    "a virtual machine; --sandbox (needs bubblewrap, `bwrap`) also removes network access and makes "
    "the file system read-only outside each submission's temporary directory."
)
CHECKS_MODULE = "course_utils.exercises"  # the module whose run() honours GRADING
_HEADING_RE = re.compile(r"^#{1,6}\s", re.M)


def _meta_id(cell: dict) -> str | None:
    ex = cell.get("metadata", {}).get("exercise")
    return str(ex["id"]) if isinstance(ex, dict) and "id" in ex else None


def exercise_ids(nb: dict) -> list[str | None]:
    """The exercise id of every cell: its metadata id, else the ``### Exercise N.k`` heading span it is in.

    Args:
        nb: a notebook dict.

    Returns:
        One entry per cell, ``None`` for cells outside every exercise.
    """
    out: list[str | None] = []
    current = None
    for cell in nb.get("cells", []):
        src = assign._src(cell)
        if cell.get("cell_type") == "markdown" and "solution" not in assign._tags(cell):
            m = assign._EXERCISE_RE.search(src)
            if m:
                current = m.group(1)
            elif _HEADING_RE.search(src):
                current = None
        out.append(_meta_id(cell) or current)
    return out


def lesson_exercises(source: dict) -> dict[str, int]:
    """Exercise id -> points, from the heading cells' ``"exercise": {"id", "points"}`` metadata.

    Args:
        source: the source lesson notebook (instructor version, hidden checks included).

    Returns:
        The exercises in notebook order with their points.

    Raises:
        ValueError: an exercise heading without the metadata, or invalid points.
    """
    found: dict[str, int] = {}
    for ex in assign.exercises(source):
        cell = source["cells"][ex.heading]
        meta = cell.get("metadata", {}).get("exercise")
        if not isinstance(meta, dict) or "id" not in meta:
            raise ValueError(f"{ex.name}: heading cell has no 'exercise' metadata; run scripts/exercise_metadata.py")
        points = meta.get("points", 1)
        if not isinstance(points, int) or isinstance(points, bool) or points < 0:
            raise ValueError(f"{ex.name}: points: expected a non-negative int, got {points!r}")
        found[str(meta["id"])] = points
    return found


def _lesson_number(nb: dict) -> str | None:
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            m = re.search(r"^#\s+Lesson\s+([0-9]+)", assign._src(cell), re.M)
            if m:
                return str(int(m.group(1)))
    return None


def _wrong_lesson(sub: dict, source: dict, ids: Iterable[str]) -> str:
    """Why ``sub`` is not a notebook of the source's lesson ("" when it is)."""
    want, got = _lesson_number(source), _lesson_number(sub)
    if want and got and want != got:
        return f"this notebook is lesson {got}, but lesson {want} was asked for; submit the lesson {want} notebook"
    sub_ids = {i for i in exercise_ids(sub) if i}
    if sub_ids and not sub_ids & set(ids):
        return (
            f"this notebook's exercises ({', '.join(sorted(sub_ids))}) are not this lesson's "
            f"({', '.join(ids)}); submit the right notebook"
        )
    return ""


def _harness(src: str) -> str:
    """A grading cell: the source check, with the checks module told to re-raise NotImplementedError."""
    return f"import {CHECKS_MODULE} as _grading_checks\n_grading_checks.GRADING = True\n{src}"


def graded_notebook(sub: dict, source: dict) -> tuple[dict, dict[int, str]]:
    """The submission with the source's checks of every exercise after that exercise's last cell.

    Args:
        sub: the student's notebook.
        source: the source lesson notebook (its ``check`` and ``hidden-check`` cells are inserted).

    Returns:
        The notebook to execute and, for each inserted cell's index, its exercise id.
    """
    src_ids = exercise_ids(source)
    checks: dict[str, list[str]] = {}
    for cell, eid in zip(source["cells"], src_ids):
        tags = assign._tags(cell)
        if eid and cell["cell_type"] == "code" and ("check" in tags or "hidden-check" in tags):
            checks.setdefault(eid, []).append(assign._src(cell))
    sub_ids = exercise_ids(sub)
    last = {eid: i for i, eid in enumerate(sub_ids) if eid}
    after: dict[int, list[str]] = {}
    for eid in lesson_exercises(source):
        after.setdefault(last.get(eid, len(sub_ids) - 1), []).append(eid)
    cells, inserted = [], {}
    for i, cell in enumerate([None] + list(sub.get("cells", []))):
        if cell is not None:
            cells.append(assign._clean(cell))
        for eid in after.get(i - 1, []):
            if not checks.get(eid):
                raise ValueError(f"Exercise {eid}: the source has no 'check' or 'hidden-check' cell to grade it with")
            for src in checks[eid]:
                inserted[len(cells)] = eid
                cells.append(
                    {
                        "cell_type": "code",
                        "execution_count": None,
                        "id": f"grading-{len(cells)}",
                        "metadata": {"exercise": {"id": eid}, "tags": ["grading"]},
                        "outputs": [],
                        "source": _harness(src),
                    }
                )
    nb = copy.deepcopy({k: v for k, v in sub.items() if k != "cells"})
    nb["cells"] = cells
    nb.setdefault("nbformat", 4)
    nb.setdefault("nbformat_minor", 5)
    nb.setdefault("metadata", {})["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb, inserted


def _verdict(outcomes: list[tuple[str, str]] | None, stopped: str, present: bool) -> tuple[str, str]:
    if not outcomes:
        if stopped.startswith("the whole notebook took"):
            return Verdict.TIMEOUT, stopped + "; this exercise was not reached"
        return Verdict.NOT_RUN, (stopped or "the exercise's checks did not run")
    for kind in (Verdict.TIMEOUT, Verdict.FAIL, Verdict.NOT_ATTEMPTED):
        msgs = [m for k, m in outcomes if k == kind]
        if msgs:
            msg = msgs[0]
            if kind == Verdict.FAIL and not present:
                msg = f"the cells of this exercise were not found in your notebook (deleted?); {msg}"
            return kind, msg
    return Verdict.PASS, ""


def grade_submission(
    path: Path,
    source: dict,
    *,
    cell_timeout: float = 300,
    wall_limit: float = 1800,
    sandbox: bool = False,
    keep: Path | None = None,
) -> tuple[list[Result], list[str]]:
    """Grade one submitted notebook.

    Args:
        path: the student's ``.ipynb``; the student is ``path.stem``.
        source: the source lesson notebook (with hidden checks and exercise metadata).
        cell_timeout: seconds a cell may run before it is interrupted.
        wall_limit: seconds the whole submission may run.
        sandbox: run the kernel inside bubblewrap (see :func:`sandbox_prefix`).
        keep: if given, the executed graded notebook is written to ``keep / (stem + ".ipynb")``.

    Returns:
        One :class:`Result` per exercise, and the errors the student's own cells raised.
    """
    student, points = Path(path).stem, lesson_exercises(source)

    def every(verdict: str, message: str) -> list[Result]:
        return [Result(student, eid, 0, p, verdict, message) for eid, p in points.items()]

    import nbformat

    try:
        sub = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(sub, dict) or not isinstance(sub.get("cells"), list):
            raise ValueError("no list of cells")
        why = _wrong_lesson(sub, source, list(points))
        if not why:
            nb, inserted = graded_notebook(sub, source)
            nbformat.reads(json.dumps(nb), as_version=4)  # cells of the wrong structure fail here
            present = {i for i in exercise_ids(sub) if i}
    except (ValueError, UnicodeDecodeError, KeyError, TypeError, AttributeError) as exc:
        return every(
            Verdict.INVALID,
            f"the file is not a readable Jupyter notebook ({type(exc).__name__}: {exc}); "
            "download it again with File > Download (.ipynb) and submit that file",
        ), []
    if why:
        return every(Verdict.WRONG_LESSON, why), []
    with tempfile.TemporaryDirectory(prefix=f"grade-{student}-") as tmp:
        run = execute(nb, inserted, Path(tmp).resolve(), cell_timeout, wall_limit, sandbox)
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            nbformat.write(run.notebook, keep / f"{student}.ipynb")
    results = []
    for eid, p in points.items():
        verdict, msg = _verdict(run.outcomes.get(eid), run.stopped, eid in present)
        results.append(Result(student, eid, p if verdict == Verdict.PASS else 0, p, verdict, msg))
    return results, run.errors + ([run.stopped] if run.stopped else [])


def grade(
    submissions: Iterable[Path],
    source_path: Path,
    out: Path,
    *,
    cell_timeout: float = 300,
    wall_limit: float = 1800,
    sandbox: bool = False,
    log=print,
) -> list[Result]:
    """Grade every submission; write ``out/grades.csv``, ``out/feedback/STUDENT.md`` and ``out/executed/``.

    Args:
        submissions: the students' notebooks (the student is the file stem; stems must be unique).
        source_path: the source lesson notebook ``notebooks/NN_*.ipynb``.
        out: output folder (created).
        cell_timeout: seconds per cell.
        wall_limit: seconds per submission.
        sandbox: run each kernel inside bubblewrap.
        log: where progress lines go.

    Returns:
        All rows of the gradebook.
    """
    submissions = [Path(p) for p in submissions]
    stems = [p.stem for p in submissions]
    dup = sorted({s for s in stems if stems.count(s) > 1})
    if dup:
        raise ValueError(f"submissions: expected one file per student (the file stem), got duplicates {dup}")
    if sandbox:
        sandbox_prefix(Path("/"))  # fail before any work when bwrap is missing
    source = json.loads(Path(source_path).read_text(encoding="utf-8"))
    graded_notebook(assign.student_version(source), source)  # the source's metadata and checks are complete
    out = Path(out)
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    results: list[Result] = []
    for path in submissions:
        t0 = time.monotonic()
        rows, errors = grade_submission(
            path, source, cell_timeout=cell_timeout, wall_limit=wall_limit, sandbox=sandbox, keep=out / "executed"
        )
        results += rows
        (out / "feedback" / f"{path.stem}.md").write_text(
            feedback(path.stem, Path(source_path).stem, rows, errors), encoding="utf-8"
        )
        log(
            f"graded {path.stem}: {sum(r.points for r in rows)}/{sum(r.max_points for r in rows)} "
            f"({time.monotonic() - t0:.1f} s)"
        )
    write_gradebook(results, out / "grades.csv")
    log(summary(results))
    return results


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``grade`` subcommand's options."""
    p.add_argument("submissions", nargs="+", type=Path, help="the students' .ipynb files (student = file stem)")
    p.add_argument("--lesson", help="lesson number NN: the source is notebooks/NN_*.ipynb")
    p.add_argument("--source", type=Path, help="the source lesson notebook (instead of --lesson)")
    p.add_argument("--out", type=Path, default=Path("grades"), help="output folder (default: grades/)")
    p.add_argument("--cell-timeout", type=float, default=300, help="seconds per cell (default: 300)")
    p.add_argument("--wall-limit", type=float, default=1800, help="seconds per submission (default: 1800)")
    p.add_argument(
        "--sandbox",
        action="store_true",
        help="run each submission inside bubblewrap: no network, "
        "file system read-only outside its temporary directory (needs `bwrap`)",
    )


def run_cli(args: argparse.Namespace, root: Path) -> int:
    """Run ``grade`` from parsed arguments; returns the exit status."""
    source = args.source
    if source is None:
        if not args.lesson:
            print("grade: give --lesson NN or --source PATH", file=sys.stderr)
            return 2
        found = sorted((root / "notebooks").glob(f"{int(args.lesson):02d}_*.ipynb"))
        if len(found) != 1:
            print(
                f"grade: --lesson {args.lesson}: expected one notebooks/{int(args.lesson):02d}_*.ipynb, "
                f"found {len(found)}",
                file=sys.stderr,
            )
            return 2
        source = found[0]
    print(WARNING, file=sys.stderr)
    try:
        grade(
            args.submissions,
            source,
            args.out,
            cell_timeout=args.cell_timeout,
            wall_limit=args.wall_limit,
            sandbox=args.sandbox,
        )
    except (RuntimeError, ValueError) as exc:
        print(f"grade: {exc}", file=sys.stderr)
        return 2
    print(f"gradebook: {args.out / 'grades.csv'}; feedback: {args.out / 'feedback'}/")
    return 0
