"""Every page of the table of contents, as a reader's browser shows it (offline)."""

from __future__ import annotations

import pytest
import sitecheck

pytestmark = pytest.mark.site

PAGES = sitecheck.toc_pages()
NOTEBOOK_PAGES = [p for p in PAGES if p.is_notebook]


def _ids(page: sitecheck.TocPage) -> str:
    return page.docname


def _fail_if(problems: list[str]) -> None:
    assert not problems, "\n".join(problems)


def test_the_toc_lists_pages_and_every_lesson():
    assert len(PAGES) >= 2, "the table of contents lists fewer than two pages"
    assert NOTEBOOK_PAGES, "the table of contents lists no notebook"


@pytest.mark.parametrize("page", PAGES, ids=_ids)
def test_page_loads_with_title_and_heading(reports, page):
    _fail_if(sitecheck.check_page_basics(reports(page.html), page))


@pytest.mark.parametrize("page", PAGES, ids=_ids)
def test_page_has_no_console_errors(reports, page):
    _fail_if(sitecheck.check_console(reports(page.html)))


@pytest.mark.parametrize("page", PAGES, ids=_ids)
def test_images_load_and_figures_have_alt_text(reports, page):
    _fail_if(sitecheck.check_images(reports(page.html)))


@pytest.mark.parametrize("page", NOTEBOOK_PAGES, ids=_ids)
def test_notebook_page_offers_colab_and_ipynb_download(reports, config, page):
    _fail_if(sitecheck.check_launch_links(reports(page.html), page, config))


def test_configured_branch_is_main(config):
    assert config["repository"].get("branch") == "main", (
        "_config.yml repository.branch must be 'main' (Jupyter Book defaults to 'master', "
        "which would make every launch button point at a missing branch)"
    )


@pytest.mark.parametrize("page", PAGES, ids=_ids)
def test_no_page_shows_a_dead_control(reports, page):
    """No interactive widget on the website: without a kernel its controls would do nothing."""
    _fail_if(sitecheck.check_no_dead_controls(reports(page.html)))


@pytest.mark.parametrize("page", NOTEBOOK_PAGES, ids=_ids)
def test_the_frame_explorers_are_on_the_page(reports, page):
    _fail_if(sitecheck.check_explorers_shown(reports(page.html), sitecheck.notebook_explorers(page.source)))


def test_the_lessons_have_explorers():
    counts = {p.docname: sitecheck.notebook_explorers(p.source) for p in NOTEBOOK_PAGES}
    assert sum(counts.values()) >= 3, f"expected the explorers of lessons 1, 3 and 7, found {counts}"


@pytest.mark.parametrize("page", [p for p in NOTEBOOK_PAGES if sitecheck.notebook_explorers(p.source)], ids=_ids)
def test_moving_an_explorer_control_changes_its_image(server, browser_context, page):
    tab = browser_context.new_page()
    try:
        _fail_if(sitecheck.check_explorers_respond(tab, server.base_url + page.html))
    finally:
        tab.close()


@pytest.mark.parametrize("page", PAGES, ids=_ids)
def test_formulas_are_typeset_offline_without_tex_errors(reports, page):
    _fail_if(sitecheck.check_math(reports(page.html)))


def test_the_lessons_have_formulas_to_typeset(reports):
    formulas = {p.docname: reports(p.html).math.get("formulas", 0) for p in NOTEBOOK_PAGES}
    assert sum(formulas.values()) >= 20, f"expected the lessons to carry formulas, found {formulas}"


@pytest.mark.parametrize("page", NOTEBOOK_PAGES, ids=_ids)
def test_exercise_solutions_are_folded(reports, page):
    expected = sitecheck.notebook_solution_cells(page.source)
    assert expected >= 1, f"{page.source.name} has no cell tagged 'solution'"
    _fail_if(sitecheck.check_solutions_folded(reports(page.html), expected))


def test_a_folded_solution_opens_when_its_toggle_is_clicked(server, browser_context):
    page = browser_context.new_page()
    try:
        _fail_if(sitecheck.check_solution_unfolds(page, server.base_url + NOTEBOOK_PAGES[0].html))
    finally:
        page.close()


@pytest.mark.parametrize("page", PAGES, ids=_ids)
def test_no_serious_accessibility_violations(reports, page):
    _fail_if(sitecheck.check_axe(reports(page.html)))


# Pages outside the TOC that every reader meets: the search results page and the index.
EXTRA_PAGES = ["search.html?q=segmentation", "genindex.html"]


@pytest.mark.parametrize("path", EXTRA_PAGES)
def test_search_and_index_pages_have_no_console_errors_or_serious_a11y_violations(reports, path):
    report = reports(path)
    assert report.status == 200, f"{path}: HTTP {report.status}"
    _fail_if(sitecheck.check_console(report) + sitecheck.check_images(report) + sitecheck.check_axe(report))
