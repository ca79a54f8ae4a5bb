"""The gradebook of a graded class: verdicts, rows, ``grades.csv``, student feedback and a summary table.

Used by :mod:`course_utils.grading` (``python -m course_utils.assign grade``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Result", "Verdict", "feedback", "summary", "write_gradebook"]


class Verdict:
    """The verdict strings written to ``grades.csv``."""

    PASS, FAIL, NOT_ATTEMPTED, TIMEOUT = "pass", "fail", "not attempted", "took too long"
    NOT_RUN, INVALID, WRONG_LESSON = "not run", "invalid notebook", "wrong lesson"


@dataclass
class Result:
    """One row of the gradebook."""

    student: str
    exercise: str
    points: int
    max_points: int
    verdict: str
    message: str = ""


_ADVICE = {
    Verdict.PASS: "Well done.",
    Verdict.FAIL: "Read the message, fix your function, and run its check cell again until it prints PASSED.",
    Verdict.NOT_ATTEMPTED: "Your notebook still has the original `raise NotImplementedError` line; replace it "
    "with your code.",
    Verdict.TIMEOUT: "Look for a loop that never ends, or work that grows far faster than needed.",
    Verdict.NOT_RUN: "Your notebook stopped before this exercise; fix the problem above and run it top to bottom.",
    Verdict.INVALID: "Download the notebook again and submit the .ipynb file itself.",
    Verdict.WRONG_LESSON: "Submit the notebook of the lesson this assignment is about.",
}


def feedback(student: str, lesson: str, results: list[Result], errors: list[str]) -> str:
    """Markdown feedback for one student, in plain words.

    Args:
        student: the student's name (file stem).
        lesson: the lesson's name (source notebook stem).
        results: the student's rows of the gradebook.
        errors: errors raised by the student's own cells.

    Returns:
        The Markdown text.
    """
    got, total = sum(r.points for r in results), sum(r.max_points for r in results)
    lines = [
        f"# Feedback for {student}: {lesson}",
        "",
        f"**Total: {got} / {total} points**",
        "",
        "| exercise | points | result |",
        "|---|---|---|",
    ]
    lines += [f"| {r.exercise} | {r.points} / {r.max_points} | {r.verdict} |" for r in results]
    for r in results:
        lines += ["", f"## Exercise {r.exercise}: {r.verdict} ({r.points} / {r.max_points})", ""]
        if r.message:
            lines += [f"What the check found: {r.message}", ""]
        lines.append(_ADVICE[r.verdict])
    if errors:
        lines += [
            "",
            "## Errors in your notebook",
            "",
            "These cells of your notebook raised an error when it was run from top to bottom "
            "(cells are counted from 1):",
            "",
        ]
        lines += [f"* {e}" for e in errors]
    return "\n".join(lines) + "\n"


def write_gradebook(results: list[Result], path: Path) -> None:
    """Write ``grades.csv``: student, exercise, points, max_points, verdict, message."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "exercise", "points", "max_points", "verdict", "message"])
        for r in results:
            w.writerow([r.student, r.exercise, r.points, r.max_points, r.verdict, r.message])


def summary(results: list[Result]) -> str:
    """A plain-text table: one row per student, one column per exercise, and the total."""
    ids = list(dict.fromkeys(r.exercise for r in results))
    students = list(dict.fromkeys(r.student for r in results))
    by = {(r.student, r.exercise): r for r in results}
    width = max([len("student")] + [len(s) for s in students])
    col = max([len(e) for e in ids] + [len(r.verdict) for r in results])
    head = f"{'student':<{width}}  " + "  ".join(f"{e:<{col}}" for e in ids) + "  total"
    rows = [head, "-" * len(head)]
    for s in students:
        cells = [by[s, e] for e in ids]
        rows.append(
            f"{s:<{width}}  "
            + "  ".join(f"{c.verdict:<{col}}" for c in cells)
            + f"  {sum(c.points for c in cells)}/{sum(c.max_points for c in cells)}"
        )
    return "\n".join(rows)
