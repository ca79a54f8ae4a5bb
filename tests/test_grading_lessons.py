"""End to end: the grader on the real lesson 1 (its student version, stubbed and filled with the solutions)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from course_utils import assign, grading

ROOT = Path(__file__).resolve().parents[1]
LESSON1 = ROOT / "notebooks" / "01_pixels_as_points.ipynb"


@pytest.mark.slow
def test_lesson1_correct_gets_every_point_and_stub_none(tmp_path):
    source = json.loads(LESSON1.read_text(encoding="utf-8"))
    points = grading.lesson_exercises(source)  # fails when the exercise metadata is missing
    student = assign.student_version(source)
    subs = tmp_path / "submissions"
    subs.mkdir()
    (subs / "correct.ipynb").write_text(json.dumps(assign.fill_student(student, source)), encoding="utf-8")
    (subs / "stub.ipynb").write_text(json.dumps(student), encoding="utf-8")
    grading.grade(
        sorted(subs.glob("*.ipynb")),
        LESSON1,
        tmp_path / "grades",
        cell_timeout=300,
        wall_limit=900,
        log=lambda line: None,
    )
    with open(tmp_path / "grades" / "grades.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    got = {(r["student"], r["exercise"]): (r["verdict"], int(r["points"]), r["message"]) for r in rows}
    assert len(rows) == 2 * len(points) and len(points) >= 2
    for eid, p in points.items():
        assert got["correct", eid][:2] == ("pass", p), got["correct", eid]
        assert got["stub", eid][:2] == ("not attempted", 0), got["stub", eid]
        assert got["stub", eid][2] == f"Exercise {eid}: replace this line with your code"
