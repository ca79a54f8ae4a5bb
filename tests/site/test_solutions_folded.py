"""Exercise solutions are folded on the website (a <details> toggle), never shown open."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from course_utils import assign

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
_CELL = re.compile(r'<div class="cell (?P<classes>[^"]*)"[^>]*>')


def folded_problems(html: str, n_solutions: int) -> list[str]:
    """Problems with the solution cells of one built page (``n_solutions`` expected)."""
    starts = [m for m in _CELL.finditer(html) if "tag_solution" in m.group("classes").split()]
    problems = []
    if len(starts) != n_solutions:
        problems.append(f"expected {n_solutions} solution cells tagged 'solution', found {len(starts)}")
    for m in starts:
        head = html[m.end(): m.end() + 400]
        if not re.match(r"\s*<details class=\"hide above-input\">", head):
            problems.append(f"solution cell at offset {m.start()} is not folded behind a <details> toggle")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_exercise_solutions_are_folded(site_dir, path):
    source = json.loads(path.read_text())
    n = sum(1 for c in source["cells"] if c["cell_type"] == "code" and "solution" in assign._tags(c))
    html = (site_dir / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8")
    assert n > 0, f"{path.name} has no solution cell"
    assert folded_problems(html, n) == []


def test_an_open_solution_is_reported():
    folded = '<div class="cell tag_hide-input tag_solution docutils container">\n<details class="hide above-input">'
    opened = '<div class="cell tag_solution docutils container">\n<div class="cell_input docutils container">'
    assert folded_problems(folded, 1) == []
    assert any("not folded" in p for p in folded_problems(opened, 1))
    assert any("expected 2" in p for p in folded_problems(folded, 2))
