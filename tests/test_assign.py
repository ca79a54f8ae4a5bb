"""Student, instructor and live-coding versions built from one source notebook."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from course_utils import assign

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _nb(*cells) -> dict:
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return json.loads(nbformat.writes(nb))


def _code(src: str, *tags: str):
    c = nbformat.v4.new_code_cell(src)
    if tags:
        c.metadata["tags"] = list(tags)
    return c


def _md(src: str, *tags: str):
    c = nbformat.v4.new_markdown_cell(src)
    if tags:
        c.metadata["tags"] = list(tags)
    return c


SOLUTION = '''def double(x):
    """Return twice x."""
    ### BEGIN SOLUTION
    result = x * 2 + 0  # the secret answer
    return result
    ### END SOLUTION'''

TOY = _nb(
    _code("import numpy as np\nfrom course_utils import exercises as checks"),
    _md("### Exercise 9.1: double it\nWrite `double`."),
    _code(SOLUTION, "solution", "hide-input"),
    _code(
        'checks.run("Exercise 9.1", lambda: checks.close(double(np.arange(3)), np.arange(3) * 2, "double"))', "check"
    ),
    _code("assert double(4) == 8", "hidden-check", "remove-cell"),
    _md("Why does doubling preserve order?"),
    _md("Because multiplication by a positive number is monotonic, so the ranking never changes.", "solution"),
    _code("# Plot the histogram of the data\nimport matplotlib\nprint('live cell')", "live"),
)


def test_toy_notebook_follows_the_convention():
    assert assign.problems(TOY) == []
    (ex,) = assign.exercises(TOY)
    assert ex.name == "Exercise 9.1" and ex.solutions == (2, 6) and ex.checks == (3,) and ex.hidden_checks == (4,)


def test_student_version_has_stubs_and_no_solution_or_hidden_check():
    student = assign.student_version(TOY)
    text = "\n".join(assign._src(c) for c in student["cells"])
    for line in assign.solution_lines(TOY):
        assert line not in text, f"solution line leaked: {line!r}"
    assert "secret answer" not in text and "assert double(4) == 8" not in text
    stub = "".join(student["cells"][2]["source"])
    assert 'raise NotImplementedError("Exercise 9.1' in stub
    assert stub.startswith("def double(x):")
    assert "    raise NotImplementedError" in stub, "the stub keeps the function's indentation"
    assert "checks.run" in json.dumps(student["cells"][3]), "public checks stay"


def test_instructor_version_keeps_everything():
    inst = assign.instructor_version(TOY)
    assert [c["source"] for c in inst["cells"]] == [c["source"] for c in TOY["cells"]]


def test_live_version_keeps_the_comment_of_live_cells_only():
    live = assign.live_version(TOY)
    cell = live["cells"][-1]
    assert "".join(cell["source"]).startswith("# Plot the histogram of the data")
    assert "print('live cell')" not in json.dumps(live)
    assert "import numpy as np" in json.dumps(live["cells"][0]), "set-up cells stay intact"


def test_round_trip_filling_a_student_version_restores_the_source():
    filled = assign.fill_student(assign.student_version(TOY), TOY)
    kept = [c for c in TOY["cells"] if "hidden-check" not in c.get("metadata", {}).get("tags", [])]
    assert ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in filled["cells"]] == [
        "".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in kept
    ]


@pytest.mark.parametrize(
    "cells, message",
    [
        ((_md("### Exercise 1.1"), _code("x = 1", "solution", "hide-input"), _code("pass", "check")), "matching"),
        (
            (
                _md("### Exercise 1.1"),
                _code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", "solution", "hide-input"),
                _code("pass", "check"),
            ),
            "inside a function",
        ),
        ((_md("### Exercise 1.1"), _code(SOLUTION, "solution")), "hide-input"),
        ((_md("### Exercise 1.1"), _code(SOLUTION, "solution", "hide-input")), "no cell tagged 'check'"),
        ((_code("assert True", "hidden-check"),), "remove-cell"),
        ((_code(SOLUTION),), "not tagged 'solution'"),
    ],
)
def test_problems_are_reported_in_words(cells, message):
    found = assign.problems(_nb(*cells))
    assert any(message in p for p in found), found


def test_build_writes_three_versions_and_colab_links(tmp_path):
    src = tmp_path / "99_toy.ipynb"
    src.write_text(json.dumps(TOY))
    written = assign.build([src], tmp_path / "dist", "https://github.com/org/repo", branch="student")
    assert {k: [p.name for p in v] for k, v in written.items()} == {
        k: ["99_toy.ipynb"] for k in ("student", "instructor", "live")
    }
    readme = (tmp_path / "dist" / "README.md").read_text()
    assert "https://colab.research.google.com/github/org/repo/blob/student/student/99_toy.ipynb" in readme


def test_colab_url_rejects_non_github_urls():
    with pytest.raises(ValueError, match="repo_url: expected https://github.com/OWNER/REPO"):
        assign.colab_url("https://gitlab.com/x", "a.ipynb")


def _run(nb: dict, timeout: int = 150, attempts: int = 2) -> dict:
    """Execute ``nb`` with nbclient. A cell that produces nothing for ``timeout`` seconds is retried
    once on a fresh kernel: nbclient intermittently waits forever on an idle kernel after widget
    cells (jupyter/nbclient#312, seen here on a quiet machine); a real failure fails both times."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError

    for attempt in range(attempts):
        node = nbformat.reads(json.dumps(nb), as_version=4)
        client = NotebookClient(
            node, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "notebooks")}}
        )
        try:
            client.execute()
            return json.loads(nbformat.writes(node))
        except CellTimeoutError:
            if attempt == attempts - 1:
                raise
            print(f"nbclient stalled (attempt {attempt + 1}); retrying on a fresh kernel")
    raise AssertionError("unreachable")


def _stdout(nb: dict) -> str:
    return "\n".join(
        o.get("text", "") if isinstance(o.get("text", ""), str) else "".join(o["text"])
        for c in nb["cells"]
        if c["cell_type"] == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "stream"
    )


def test_toy_student_runs_and_reports_unfinished_then_passes_when_filled():
    out = _stdout(_run(assign.student_version(TOY)))
    assert "[Exercise 9.1] not yet implemented" in out
    out = _stdout(_run(assign.fill_student(assign.student_version(TOY), TOY)))
    assert "[Exercise 9.1] PASSED" in out


@pytest.mark.parametrize(
    "wrong, message",
    [
        ("return np.zeros(2)", "wrong shape, expected (3,), got (2,)"),
        ("return x * 3", "values differ in 2 of 3 entries; largest difference 2"),
        ("return None", "did you forget to return a value?"),
    ],
)
def test_a_wrong_answer_gets_the_intended_message(wrong, message):
    bad = json.loads(json.dumps(TOY))
    bad["cells"][2]["source"] = f"def double(x):\n    {wrong}"
    from nbclient.exceptions import CellExecutionError

    with pytest.raises(CellExecutionError, match=re.escape(message)):
        _run(bad)


# ---- the real lessons ------------------------------------------------------------------------


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_lesson_follows_the_convention_and_has_exercises(path):
    assert assign.problems(path) == []
    assert assign.exercises(path), f"{path.name} has no '### Exercise' heading"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_lesson_student_version_leaks_no_solution(path):
    source = json.loads(path.read_text())
    student = assign.student_version(source)
    text = "\n".join(assign._src(c) for c in student["cells"])
    # a line the lesson also shows outside its solutions is lesson code, not a leak
    elsewhere = "\n".join(assign._src(c) for c in source["cells"] if "solution" not in assign._tags(c))
    leaks = [line for line in assign.solution_lines(source) if line in text and line not in elsewhere]
    assert not leaks, f"{path.name}: solution lines leak into the student version: {leaks[:3]}"
    assert not any("hidden-check" in assign._tags(c) for c in student["cells"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_lesson_round_trip_restores_every_solution(path):
    source = json.loads(path.read_text())
    filled = assign.fill_student(assign.student_version(source), source)
    want = [assign._src(c) for c in source["cells"] if "hidden-check" not in assign._tags(c)]
    assert [assign._src(c) for c in filled["cells"]] == want


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_lesson_student_version_executes_and_reports_every_exercise_unfinished(path):
    source = json.loads(path.read_text())
    out = _stdout(_run(assign.student_version(source)))
    for ex in assign.exercises(source):
        assert f"[{ex.name}] not yet implemented" in out, f"{path.name}: {ex.name} not reported as unfinished"
    assert "PASSED" not in out or all(f"[{ex.name}] PASSED" not in out for ex in assign.exercises(source))
