"""Exercise metadata (``"exercise": {"id", "points"}``) that the grader matches hidden checks on."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import nbformat
import pytest

from course_utils import assign

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _script():
    spec = importlib.util.spec_from_file_location("exercise_metadata", ROOT / "scripts" / "exercise_metadata.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _toy() -> dict:
    nb = nbformat.v4.new_notebook()
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    nb.cells = [
        md("# Lesson 3: toy"),
        code("x = 1"),
        md("## Exercises\n\n### Exercise 3.1: one"),
        code("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"),
        code("check()"),
        code("hidden()"),
        md("### Exercise 3.2: two"),
        md("**answer**"),
        code("check2()"),
        md("## Self-check questions"),
        code("y = 2"),
    ]
    nb.cells[3].metadata["tags"] = ["solution", "hide-input"]
    nb.cells[7].metadata["tags"] = ["solution"]
    nb.cells[10].metadata["exercise"] = {"id": "3.9"}  # stale: outside every exercise
    return json.loads(nbformat.writes(nb))


def test_metadata_marks_every_cell_of_an_exercise_and_nothing_else():
    toy = _toy()
    out = _script().with_metadata(toy)
    got = [c["metadata"].get("exercise") for c in out["cells"]]
    assert got == [
        None,
        None,
        {"id": "3.1", "points": 1},
        {"id": "3.1"},
        {"id": "3.1"},
        {"id": "3.1"},
        {"id": "3.2", "points": 1},
        {"id": "3.2"},
        {"id": "3.2"},
        None,
        None,
    ]
    assert [c["id"] for c in out["cells"]] == [c["id"] for c in toy["cells"]]
    assert [c["source"] for c in out["cells"]] == [c["source"] for c in toy["cells"]]
    assert out["cells"][3]["metadata"]["tags"] == ["solution", "hide-input"]


def test_metadata_is_idempotent_and_keeps_points():
    script = _script()
    once = script.with_metadata(_toy())
    once["cells"][6]["metadata"]["exercise"]["points"] = 3
    assert script.with_metadata(once) == once
    renamed = json.loads(json.dumps(once))
    renamed["cells"][6]["source"] = "### Exercise 3.5: renamed"  # another id: points reset to the default
    assert script.with_metadata(renamed)["cells"][6]["metadata"]["exercise"] == {"id": "3.5", "points": 1}


def test_check_mode_reports_and_changes_nothing(tmp_path, capsys):
    p = tmp_path / "03_toy.ipynb"
    text = json.dumps(_toy(), indent=1) + "\n"
    p.write_text(text)
    script = _script()
    assert script.main(["--check", str(p)]) == 1 and p.read_text() == text
    assert script.main([str(p)]) == 0 and p.read_text() != text
    assert script.main(["--check", str(p)]) == 0
    assert "03_toy.ipynb: 2 exercises, unchanged" in capsys.readouterr().out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_exercise_of_every_lesson_has_its_metadata(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    exercises = assign.exercises(nb)
    assert exercises
    for ex in exercises:
        eid = ex.name.split()[-1]
        meta = nb["cells"][ex.heading]["metadata"].get("exercise")
        assert isinstance(meta, dict) and meta.get("id") == eid, f"{path.name} {ex.name}: heading lacks metadata"
        assert isinstance(meta.get("points"), int) and meta["points"] >= 1, f"{path.name} {ex.name}: points {meta}"
        for i in ex.solutions + ex.checks + ex.hidden_checks:
            assert nb["cells"][i]["metadata"].get("exercise", {}).get("id") == eid, f"{path.name} cell {i}: no id {eid}"
    assert _script().with_metadata(nb) == nb, f"{path.name}: run python scripts/exercise_metadata.py"
