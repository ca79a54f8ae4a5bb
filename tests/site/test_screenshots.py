"""Screenshots of representative pages for a person to review, under _build/screenshots/.

home.png (the book's first page), lesson_<name>_top.png and lesson_<name>_figure.png (the lesson
with the most figures: its top, and the view around its first figure), search_<term>.png.
"""

from __future__ import annotations

import pytest
import sitecheck

pytestmark = pytest.mark.site


def _lesson_with_most_figures(reports) -> sitecheck.TocPage:
    notebooks = [p for p in sitecheck.toc_pages() if p.is_notebook]
    return max(notebooks, key=lambda p: sum(i["naturalWidth"] > 0 for i in reports(p.html).images))


def _shoot(page, path) -> None:
    page.screenshot(path=str(path))
    size = path.stat().st_size
    assert size > 10_000, f"{path.name} is only {size} bytes: the page looks blank"


def test_screenshots_of_representative_pages(server, browser_page, reports):
    out = sitecheck.SCREENSHOT_DIR
    out.mkdir(parents=True, exist_ok=True)
    lesson = _lesson_with_most_figures(reports)
    name = lesson.docname.split("/")[-1]

    browser_page.goto(server.base_url + sitecheck.toc_pages()[0].html, wait_until="load")
    _shoot(browser_page, out / "home.png")

    browser_page.goto(server.base_url + lesson.html, wait_until="load")
    _shoot(browser_page, out / f"lesson_{name}_top.png")
    figure = browser_page.locator(".cell_output img").first
    if figure.count():
        figure.scroll_into_view_if_needed()
        browser_page.evaluate("window.scrollBy(0, -150)")  # keep the code above the figure in view
        _shoot(browser_page, out / f"lesson_{name}_figure.png")

    browser_page.goto(server.base_url + "search.html?q=transposed+convolution", wait_until="load")
    browser_page.wait_for_selector("#search-results p.search-summary:not(:empty)", timeout=20_000)
    _shoot(browser_page, out / "search_transposed_convolution.png")
