"""Fast-mode time budgets of the lessons, on the times their nbval run recorded (issue 14, item 3).

The lessons themselves never assert a time (a slower laptop must not stop a lesson); the budgets
live here: at most 60 s per lesson for lessons 1-4 and 6, 90 s for lessons 5 and 7 (they train),
300 s for all seven together, on two CPU cores, kernel start-up included.
"""

from pathlib import Path

import pytest
from lesson_results import lesson_seconds

NOTEBOOKS = sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
BUDGET = {"05": 90.0, "07": 90.0}
DEFAULT_BUDGET = 60.0
TOTAL_BUDGET = 300.0


#: Lessons known to miss their budget, with what was measured; the test still runs and reports.
#: Empty since issue 17: lesson 5 took 36-44 s of its 90 s in the last clean CI runs (AMD EPYC, 2 cores).
OVER_BUDGET: dict[str, str] = {}


@pytest.mark.parametrize(
    "stem",
    [
        pytest.param(s, marks=pytest.mark.xfail(strict=False, reason=OVER_BUDGET[s])) if s in OVER_BUDGET else s
        for s in NOTEBOOKS
    ],
)
def test_each_lesson_fits_its_budget(stem):
    budget = BUDGET.get(stem[:2], DEFAULT_BUDGET)
    seconds = lesson_seconds(stem, "fast")
    assert seconds <= budget, f"{stem} took {seconds:.0f} s in fast mode, over its {budget:.0f} s budget"


def test_all_lessons_together_fit_the_total_budget():
    seconds = {stem: lesson_seconds(stem, "fast") for stem in NOTEBOOKS}
    total = sum(seconds.values())
    each = ", ".join(f"{stem[:2]} {s:.1f} s" for stem, s in seconds.items())
    assert total <= TOTAL_BUDGET, (
        f"the seven lessons took {total:.0f} s in fast mode ({each}), over {TOTAL_BUDGET:.0f} s"
    )
