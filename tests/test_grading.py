"""Grading a simulated class: every failure kind gets its verdict, points and message; the grader goes on."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from course_utils import assign, grading

HAS_BWRAP = shutil.which("bwrap") is not None


def _cell(kind: str, src: str, *tags: str, eid: str | None = None, points: int | None = None) -> dict:
    c = nbformat.v4.new_code_cell(src) if kind == "code" else nbformat.v4.new_markdown_cell(src)
    if tags:
        c.metadata["tags"] = list(tags)
    if eid:
        c.metadata["exercise"] = {"id": eid, **({"points": points} if points is not None else {})}
    return c


def _nb(cells: list[dict]) -> dict:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return json.loads(nbformat.writes(nb))


def _solution(signature: str, body: str) -> str:
    return f'{signature}\n    """The answer."""\n    ### BEGIN SOLUTION\n    {body}\n    ### END SOLUTION'


def synthetic_lesson(n: int = 1) -> dict:
    """A small lesson N with three exercises worth 1, 2 and 1 points (ids N.1, N.2, N.3)."""
    e1, e2, e3 = f"{n}.1", f"{n}.2", f"{n}.3"
    return _nb(
        [
            _cell("code", "import numpy as np\nfrom course_utils import exercises"),
            _cell("markdown", f"# Lesson {n}: synthetic sums\n\nA lesson for the grader's tests."),
            _cell("code", "DATA = np.arange(6.0)"),
            _cell("markdown", f"## Exercises\n\n### Exercise {e1}: the mean\n\nWrite `mean_of(x)`.", eid=e1, points=1),
            _cell("code", _solution("def mean_of(x):", "return float(np.mean(x))"), "solution", "hide-input", eid=e1),
            _cell(
                "code",
                f'exercises.run("Exercise {e1}", lambda: exercises.close(mean_of(DATA), 2.5, "mean"))',
                "check",
                eid=e1,
            ),
            _cell(
                "code",
                f'exercises.run("Exercise {e1} (hidden)", lambda: exercises.close('
                'mean_of(np.array([1.0, 2.0, 9.0])), 4.0, "mean of [1, 2, 9]"))',
                "hidden-check",
                "remove-cell",
                eid=e1,
            ),
            _cell("markdown", f"### Exercise {e2}: double\n\nWrite `double(x)`.", eid=e2, points=2),
            _cell("code", _solution("def double(x):", "return 2 * x"), "solution", "hide-input", eid=e2),
            _cell(
                "code",
                f'exercises.run("Exercise {e2}", lambda: exercises.close(double(DATA), 2 * DATA, "double"))',
                "check",
                eid=e2,
            ),
            _cell(
                "code",
                f'exercises.run("Exercise {e2} (hidden)", lambda: exercises.equal(double(-3), -6, "double(-3)"))',
                "hidden-check",
                "remove-cell",
                eid=e2,
            ),
            _cell("markdown", f"### Exercise {e3}: count\n\nWrite `count_positive(x)`.", eid=e3, points=1),
            _cell(
                "code",
                _solution("def count_positive(x):", "return int((np.asarray(x) > 0).sum())"),
                "solution",
                "hide-input",
                eid=e3,
            ),
            _cell(
                "code",
                f'exercises.run("Exercise {e3}", lambda: exercises.equal(count_positive(DATA), 5, "count"))',
                "check",
                eid=e3,
            ),
            _cell("markdown", "## Self-check questions\n\n1. Why?"),
        ]
    )


def _with_solution(nb: dict, name: str, body: str) -> dict:
    nb = json.loads(json.dumps(nb))
    for c in nb["cells"]:
        if assign._src(c).startswith(f"def {name}("):
            c["source"] = f"def {name}(x):\n    {body}"
    return nb


def _ids(nb: dict, eid: str) -> list[int]:
    return [i for i, c in enumerate(nb["cells"]) if c["metadata"].get("exercise", {}).get("id") == eid]


def simulated_class(folder: Path, outside: Path) -> dict[str, Path]:
    """Write the submissions; returns student -> path."""
    source = synthetic_lesson(1)
    student = assign.student_version(source)
    correct = assign.fill_student(student, source)
    subs: dict[str, dict | str] = {}
    subs["alice_correct"] = correct
    subs["bob_stub"] = student
    subs["carol_wrong"] = _with_solution(correct, "mean_of", "return float(np.median(x))")  # passes the public check
    crash = json.loads(json.dumps(correct))
    crash["cells"][_ids(crash, "1.3")[1]]["source"] = "import numpy_tools_that_do_not_exist\n" + assign._src(
        crash["cells"][_ids(crash, "1.3")[1]]
    )
    subs["dave_import"] = crash
    # an endless loop on numbers (the hidden check's double(-3)); arrays return at once
    subs["erin_loop"] = _with_solution(correct, "double", "while np.ndim(x) == 0:\n        pass\n    return 2 * x")
    deleted = json.loads(json.dumps(correct))
    deleted["cells"] = [c for i, c in enumerate(deleted["cells"]) if i not in _ids(deleted, "1.3")]
    subs["frank_deleted"] = deleted
    moved = json.loads(json.dumps(correct))
    ex3 = [moved["cells"][i] for i in _ids(moved, "1.3")]
    rest = [c for i, c in enumerate(moved["cells"]) if i not in _ids(moved, "1.3")]
    moved["cells"] = rest[:3] + ex3 + rest[3:]  # exercise 1.3 moved before 1.1
    subs["grace_reordered"] = moved
    subs["heidi_invalid"] = json.dumps(correct)[:500]  # a truncated download
    other = synthetic_lesson(2)
    subs["ivan_lesson2"] = assign.fill_student(assign.student_version(other), other)
    vandal = json.loads(json.dumps(correct))
    vandal["cells"].append(
        nbformat.v4.new_code_cell(
            "import os\nprint('cwd', os.getcwd())\nopen('inside.txt', 'w').write('fine')\n"
            f"open({str(outside)!r}, 'w').write('escaped')"
        )
    )
    subs["judy_writes_outside"] = vandal
    dies = _with_solution(correct, "double", "return 2 * x")
    dies["cells"][_ids(dies, "1.2")[1]]["source"] = "import os\nos._exit(1)"
    subs["kate_kernel_dies"] = dies
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, nb in subs.items():
        paths[name] = folder / f"{name}.ipynb"
        paths[name].write_text(nb if isinstance(nb, str) else json.dumps(nb, indent=1), encoding="utf-8")
    return paths


# verdicts and points of exercises 1.1 (1 point), 1.2 (2 points), 1.3 (1 point)
EXPECTED = {
    "alice_correct": [("pass", 1), ("pass", 2), ("pass", 1)],
    "bob_stub": [("not attempted", 0), ("not attempted", 0), ("not attempted", 0)],
    "carol_wrong": [("fail", 0), ("pass", 2), ("pass", 1)],
    "dave_import": [("pass", 1), ("pass", 2), ("fail", 0)],
    "erin_loop": [("pass", 1), ("took too long", 0), ("pass", 1)],
    "frank_deleted": [("pass", 1), ("pass", 2), ("fail", 0)],
    "grace_reordered": [("pass", 1), ("pass", 2), ("pass", 1)],
    "heidi_invalid": [("invalid notebook", 0)] * 3,
    "ivan_lesson2": [("wrong lesson", 0)] * 3,
    "judy_writes_outside": [("pass", 1), ("pass", 2), ("pass", 1)],
    "kate_kernel_dies": [("pass", 1), ("not run", 0), ("not run", 0)],
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    source = root / "01_synthetic.ipynb"
    source.write_text(json.dumps(synthetic_lesson(1)), encoding="utf-8")
    outside = root / "outside.txt"
    paths = simulated_class(root / "submissions", outside)
    out = root / "grades"
    lines: list[str] = []
    results = grading.grade(
        list(paths.values()), source, out, cell_timeout=8, wall_limit=90, sandbox=HAS_BWRAP, log=lines.append
    )
    return {"results": results, "out": out, "outside": outside, "log": "\n".join(lines), "subs": root / "submissions"}


@pytest.mark.slow
def test_gradebook_numbers_are_exact(graded):
    with open(graded["out"] / "grades.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["student", "exercise", "points", "max_points", "verdict", "message"]
    got: dict[str, list[tuple[str, int]]] = {}
    for r in rows:
        got.setdefault(r["student"], []).append((r["verdict"], int(r["points"])))
        assert int(r["max_points"]) == {"1.1": 1, "1.2": 2, "1.3": 1}[r["exercise"]]
    assert got == EXPECTED
    assert [r["exercise"] for r in rows[:3]] == ["1.1", "1.2", "1.3"]
    totals = {s: sum(p for _, p in v) for s, v in got.items()}
    assert sum(totals.values()) == 4 + 0 + 3 + 3 + 2 + 3 + 4 + 0 + 0 + 4 + 1


@pytest.mark.slow
def test_messages_say_what_went_wrong(graded):
    msg = {(r.student, r.exercise): r.message for r in graded["results"]}
    assert msg["bob_stub", "1.2"] == "Exercise 1.2: replace this line with your code"
    assert "mean of [1, 2, 9]: values differ in 1 of 1 entries" in msg["carol_wrong", "1.1"]
    assert "count_positive' is not defined" in msg["dave_import", "1.3"]
    assert "did not finish within 8 s" in msg["erin_loop", "1.2"]
    assert "were not found in your notebook" in msg["frank_deleted", "1.3"]
    assert "not a readable Jupyter notebook" in msg["heidi_invalid", "1.1"]
    assert "this notebook is lesson 2, but lesson 1 was asked for" in msg["ivan_lesson2", "1.1"]
    assert "kernel died" in msg["kate_kernel_dies", "1.2"]
    assert msg["alice_correct", "1.1"] == ""


@pytest.mark.slow
def test_feedback_per_student_in_words(graded):
    fb = graded["out"] / "feedback"
    assert sorted(p.stem for p in fb.glob("*.md")) == sorted(EXPECTED)
    dave = (fb / "dave_import.md").read_text()
    assert "**Total: 3 / 4 points**" in dave
    assert "No module named 'numpy_tools_that_do_not_exist'" in dave and "an import failed" in dave
    bob = (fb / "bob_stub.md").read_text()
    assert "**Total: 0 / 4 points**" in bob and "still has the original `raise NotImplementedError`" in bob
    assert "## Errors in your notebook" not in bob  # the stubs are not reported as errors
    assert re.search(r"^alice_correct +pass +pass +pass +4/4$", graded["log"], re.M)
    assert re.search(r"^erin_loop +pass +took too long +pass +2/4$", graded["log"], re.M)


@pytest.mark.slow
def test_writes_are_contained(graded):
    judy = (graded["out"] / "feedback" / "judy_writes_outside.md").read_text()
    assert not (graded["subs"] / "inside.txt").exists() and not Path("inside.txt").exists()
    executed = nbformat.read(graded["out"] / "executed" / "judy_writes_outside.ipynb", as_version=4)
    printed = "".join(o["text"] for o in executed.cells[-1].outputs if o.get("output_type") == "stream")
    cwd = printed.split()[1]
    assert Path(cwd).name.startswith("grade-judy_writes_outside-") and not Path(cwd).exists()  # temp dir, removed
    if HAS_BWRAP:
        assert not graded["outside"].exists()
        assert "Read-only file system" in judy
    else:  # without bubblewrap only the working directory is separate
        pytest.skip("bwrap not installed: the write outside the temporary directory is not blocked")


def test_sandbox_without_bwrap_errors_clearly(tmp_path, monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    src = tmp_path / "01_x.ipynb"
    src.write_text(json.dumps(synthetic_lesson(1)))
    with pytest.raises(RuntimeError, match=r"--sandbox needs bubblewrap \(`bwrap`\), which is not installed"):
        grading.grade([src], src, tmp_path / "out", sandbox=True)


def test_inserted_checks_follow_their_exercise_by_id_not_position():
    source = synthetic_lesson(1)
    sub = assign.fill_student(assign.student_version(source), source)
    ex3 = [sub["cells"][i] for i in _ids(sub, "1.3")]
    sub["cells"] = [c for i, c in enumerate(sub["cells"]) if i not in _ids(sub, "1.3")]
    sub["cells"][2:2] = ex3
    nb, inserted = grading.graded_notebook(sub, source)
    order = [(i, inserted[i]) for i in sorted(inserted)]
    assert [e for _, e in order] == ["1.3", "1.1", "1.1", "1.2", "1.2"]
    first, heading_11 = order[0][0], grading.exercise_ids(nb).index("1.1")
    assert first < heading_11 and "count_positive(DATA), 5" in nb["cells"][first]["source"]
    # cells without metadata belong to the exercise heading above them (here the lesson's DATA cell)
    assert assign._src(nb["cells"][first - 1]) == "DATA = np.arange(6.0)"


def test_points_come_from_metadata_and_are_required():
    source = synthetic_lesson(1)
    assert grading.lesson_exercises(source) == {"1.1": 1, "1.2": 2, "1.3": 1}
    del source["cells"][3]["metadata"]["exercise"]
    with pytest.raises(ValueError, match=r"Exercise 1.1: heading cell has no 'exercise' metadata"):
        grading.lesson_exercises(source)
    source = synthetic_lesson(1)
    source["cells"][3]["metadata"]["exercise"]["points"] = "two"
    with pytest.raises(ValueError, match=r"points: expected a non-negative int, got 'two'"):
        grading.lesson_exercises(source)


def test_wall_clock_limit_stops_a_slow_submission(tmp_path):
    source = synthetic_lesson(1)
    sub = assign.fill_student(assign.student_version(source), source)
    sub["cells"].insert(3, nbformat.v4.new_code_cell("import time\ntime.sleep(2.5)"))
    sub["cells"].insert(3, nbformat.v4.new_code_cell("import time\ntime.sleep(2.5)"))
    p = tmp_path / "slow.ipynb"
    p.write_text(json.dumps(sub))
    rows, _ = grading.grade_submission(p, source, cell_timeout=30, wall_limit=4)
    assert [r.verdict for r in rows] == ["took too long"] * 3
    assert "longer than the 4 s limit" in rows[0].message


def test_cli_needs_a_lesson_and_finds_it(tmp_path, capsys):
    assert assign.main(["grade", str(tmp_path / "x.ipynb")]) == 2
    assert "give --lesson NN or --source PATH" in capsys.readouterr().err
    assert assign.main(["grade", str(tmp_path / "x.ipynb"), "--lesson", "42"]) == 2
    assert "expected one notebooks/42_*.ipynb, found 0" in capsys.readouterr().err


def test_help_warns_that_submissions_run_code(capsys):
    with pytest.raises(SystemExit):
        assign.main(["grade", "--help"])
    out = capsys.readouterr().out
    assert "submissions execute arbitrary code" in out and "container or a virtual machine" in out


@pytest.mark.parametrize("content", ['{"cells": "none"}', '{"cells": [5]}', "[1, 2]", "\xff\xfe"])
def test_a_broken_notebook_is_reported_without_running(tmp_path, content):
    p = tmp_path / "broken.ipynb"
    p.write_bytes(content.encode("latin-1"))
    rows, errors = grading.grade_submission(p, synthetic_lesson(1))
    assert [(r.verdict, r.points, r.max_points) for r in rows] == [("invalid notebook", 0, p) for p in (1, 2, 1)]
    assert rows[0].message.startswith("the file is not a readable Jupyter notebook") and errors == []


def test_cli_grades_and_writes_the_gradebook(tmp_path, capsys):
    source = tmp_path / "01_synthetic.ipynb"
    source.write_text(json.dumps(synthetic_lesson(1)))
    lesson = synthetic_lesson(1)
    sub = tmp_path / "zoe.ipynb"
    sub.write_text(json.dumps(assign.fill_student(assign.student_version(lesson), lesson)))
    out = tmp_path / "grades"
    assert assign.main(["grade", str(sub), "--source", str(source), "--out", str(out), "--cell-timeout", "30"]) == 0
    captured = capsys.readouterr()
    assert "submissions execute arbitrary code" in captured.err
    assert re.search(r"^zoe +pass +pass +pass +4/4$", captured.out, re.MULTILINE)
    assert (out / "grades.csv").read_text().splitlines()[1] == "zoe,1.1,1,1,pass,"
    assert (out / "feedback" / "zoe.md").exists() and (out / "executed" / "zoe.ipynb").exists()
