"""Screenshots of representative pages for a person to review, under _build/screenshots/."""
from __future__ import annotations

import pytest

import sitecheck

pytestmark = pytest.mark.site


def _lesson_with_most_figures(reports) -> sitecheck.TocPage:
    notebooks = [p for p in sitecheck.toc_pages() if p.is_notebook]
    return max(notebooks, key=lambda p: sum(i["naturalWidth"] > 0 for i in reports(p.html).images))


def test_screenshots_of_representative_pages(server, browser_page, reports):
    out = sitecheck.SCREENSHOT_DIR
    out.mkdir(parents=True, exist_ok=True)
    lesson = _lesson_with_most_figures(reports)
    shots = {
        "home.png": (sitecheck.toc_pages()[0].html, False),
        f"lesson_{lesson.docname.split('/')[-1]}.png": (lesson.html, True),
        "search_transposed_convolution.png": ("search.html?q=transposed+convolution", False),
    }
    for name, (path, full) in shots.items():
        browser_page.goto(server.base_url + path, wait_until="load")
        if path.startswith("search.html"):
            browser_page.wait_for_selector("#search-results p.search-summary:not(:empty)", timeout=20_000)
        # A full page is capped at 6000 px so a long lesson stays a reviewable file.
        height = browser_page.evaluate("document.documentElement.scrollHeight")
        clip = {"x": 0, "y": 0, "width": 1280, "height": min(height, 6000)} if full else None
        browser_page.screenshot(path=str(out / name), full_page=full, clip=clip)
        size = (out / name).stat().st_size
        assert size > 10_000, f"{name} is only {size} bytes: the page looks blank"
