"""The theme's search page finds the lesson that teaches a key term."""

from __future__ import annotations

import pytest
import sitecheck

pytestmark = pytest.mark.site

# term -> the lesson page that must be among the first results (TOP of them).
KEY_TERMS = {
    "k-means": "notebooks/01_pixels_as_points.html",
    "transposed convolution": "notebooks/04_dense_prediction.html",
    "receptive field": "notebooks/04_dense_prediction.html",
    "U-Net": "notebooks/05_unet.html",
    "discriminative loss": "notebooks/07_discriminative_lab.html",
}
TOP = 3


@pytest.mark.parametrize("term", KEY_TERMS)
def test_search_finds_the_lesson(server, browser_page, term):
    expected = KEY_TERMS[term]
    assert expected in {p.html for p in sitecheck.toc_pages()}, f"{expected} is not in _toc.yml"
    pages = sitecheck.search_results(browser_page, server.base_url, term)
    problems = sitecheck.check_search(pages, term, expected, top=TOP)
    assert not problems, "\n".join(problems)
