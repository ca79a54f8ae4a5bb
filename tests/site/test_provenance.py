"""The site says how it was built (issue 14, item 6): the intro's table and the lessons' weights notices.

The intro's "How this site was built" table (``_ext/provenance.py``) names the mode, downloads,
commit, date and device, and for each pretrained model the lessons that ran it with real or random
weights; every lesson that ran a model with random weights says so at its top, naming exactly those
models (``pretrained.weights_notice``), and no other lesson shows such a notice.
"""

from __future__ import annotations

import pytest
import sitecheck

pytestmark = pytest.mark.site

PAGES = sitecheck.toc_pages()
INTRO = PAGES[0]
NOTEBOOK_PAGES = [p for p in PAGES if p.is_notebook]
LOADING = {p.lesson_number for p in NOTEBOOK_PAGES if sitecheck.notebook_loads_pretrained(p.source)}


def random_models(weights: dict[str, dict[int, str]], lesson: int | None) -> set[str]:
    """The models the build table says ran with random weights in ``lesson``."""
    return {name for name, per_lesson in weights.items() if per_lesson.get(lesson) == "random"}


@pytest.fixture(scope="module")
def weights(reports) -> dict[str, dict[int, str]]:
    return sitecheck.build_table_weights(reports(INTRO.html))


def test_some_lessons_load_pretrained_models():
    assert LOADING, "no lesson calls pretrained.load: the weights checks would check nothing"


def test_the_intro_says_how_the_site_was_built(reports):
    problems = sitecheck.check_build_table(reports(INTRO.html), LOADING)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("page", NOTEBOOK_PAGES, ids=lambda p: p.docname)
def test_a_lesson_names_the_models_that_ran_with_random_weights_at_its_top(reports, weights, page):
    problems = sitecheck.check_weights_notice(reports(page.html), random_models(weights, page.lesson_number))
    assert not problems, "\n".join(problems)
