"""The lesson pages read as lessons, not as a test log (issue 14, item 1).

Static checks over the stored notebooks: checks the lesson runs are hidden from the reader
(tagged cells), the prose does not talk about the test machinery, no cell asserts a timing (a
slower laptop must not stop a lesson) and visible code cells stay short enough to read.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

#: Tags that take a code cell out of the reader's way (removed, folded, or an exercise check).
HIDDEN_TAGS = {"remove-input", "remove-cell", "hide-input", "solution", "check", "hidden-check"}
#: Tags that allow a visible code cell to be longer than MAX_VISIBLE_LINES.
LONG_OK_TAGS = {"solution", "central"}
MAX_VISIBLE_ASSERTS = 5
MAX_VISIBLE_LINES = 25

TEST_LOG_PROSE = re.compile(r"printed above|source notes?|\bCI\b|\basserted\b", re.IGNORECASE)
TIMING_ASSERT = re.compile(r"assert[^\n]*(seconds|elapsed|_time\b)")


def _params() -> list:
    params = []
    for path in NOTEBOOKS:
        params.append(pytest.param(path, id=path.name))
    return params


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _tags(cell: dict) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def _source(cell: dict) -> str:
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


def _visible_code_cells(path: Path) -> list[tuple[int, dict]]:
    return [(i, c) for i, c in enumerate(_cells(path)) if c["cell_type"] == "code" and not _tags(c) & HIDDEN_TAGS]


def test_every_lesson_is_checked():
    assert len(NOTEBOOKS) >= 7, [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", _params())
def test_visible_code_has_at_most_five_assert_lines(path: Path):
    found = [
        f"cell {i}: {line.strip()}"
        for i, cell in _visible_code_cells(path)
        for line in _source(cell).splitlines()
        if line.strip().startswith("assert")
    ]
    assert len(found) <= MAX_VISIBLE_ASSERTS, (
        f"{path.name}: {len(found)} visible assert lines (at most {MAX_VISIBLE_ASSERTS}); move the "
        "checks into a cell tagged remove-cell or remove-input (course_utils.report.claim):\n" + "\n".join(found)
    )


@pytest.mark.parametrize("path", _params())
def test_prose_does_not_read_like_a_test_log(path: Path):
    found = [
        f"cell {i}: ...{m.group(0)}..."
        for i, cell in enumerate(_cells(path))
        if cell["cell_type"] == "markdown"
        for m in TEST_LOG_PROSE.finditer(_source(cell))
    ]
    assert not found, (
        f"{path.name}: markdown speaks of the test machinery, not to the reader; state the number "
        "with a {glue:text} role instead:\n" + "\n".join(found)
    )


@pytest.mark.parametrize("path", _params())
def test_no_cell_asserts_a_timing(path: Path):
    found = [
        f"cell {i}: {m.group(0)}"
        for i, cell in enumerate(_cells(path))
        if cell["cell_type"] == "code"
        for m in TIMING_ASSERT.finditer(_source(cell))
    ]
    assert not found, (
        f"{path.name}: timing asserts stop the lesson on a slower machine; glue the time and leave "
        "the budget to the tests:\n" + "\n".join(found)
    )


@pytest.mark.parametrize("path", _params())
def test_visible_code_cells_are_short(path: Path):
    found = [
        f"cell {i} (id {cell.get('id')}): {len(_source(cell).splitlines())} lines"
        for i, cell in _visible_code_cells(path)
        if not _tags(cell) & LONG_OK_TAGS and len(_source(cell).splitlines()) > MAX_VISIBLE_LINES
    ]
    assert not found, (
        f"{path.name}: visible code cells longer than {MAX_VISIBLE_LINES} lines; split them or "
        "move plumbing into a hidden cell:\n" + "\n".join(found)
    )


def test_the_rules_recognise_what_they_forbid():
    assert TEST_LOG_PROSE.search("as asserted in the cell")
    assert TEST_LOG_PROSE.search("the value printed above")
    assert TEST_LOG_PROSE.search("see the source notes")
    assert TEST_LOG_PROSE.search("CI runs the fast mode")
    assert not TEST_LOG_PROSE.search("a CIFAR image, an assertion of fact")
    assert TIMING_ASSERT.search("assert elapsed < 60")
    assert TIMING_ASSERT.search("assert t_train < 30, f'took {t} seconds'")
    assert TIMING_ASSERT.search("assert train_time < 5")
    assert not TIMING_ASSERT.search("assert out.shape == (1, 512, 13, 13)")


@pytest.mark.parametrize("path", _params())
def test_self_check_questions_come_last(path: Path):
    headings = [
        (i, line)
        for i, cell in enumerate(_cells(path))
        if cell.get("cell_type") == "markdown"
        for line in _source(cell).splitlines()
        if re.match(r"^#{1,3} ", line)
    ]
    self_check = [i for i, line in headings if "Self-check" in line]
    assert self_check, f"{path.name}: no 'Self-check questions' section"
    later = [line for i, line in headings if i > self_check[-1]]
    assert not later, f"{path.name}: sections after the self-check questions: {later}"
    summary = [i for i, line in headings if line.lstrip("# ").startswith("Summary")]
    assert summary and summary[-1] <= self_check[-1], f"{path.name}: the summary must come before the self-check"
