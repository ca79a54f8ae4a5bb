"""Fixtures for the site tests: the built site on a local server and one headless Chromium.

Every test in this folder carries the ``site`` marker (added below as well, so none slips into
``pytest -m "not site"``). They test ``_build/html`` as it is: build the book first
(``make test-book``); a missing site is a failure, not a skip.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import sitecheck

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(HERE):
            item.add_marker(pytest.mark.site)


@pytest.fixture(scope="session")
def site_dir() -> Path:
    index = sitecheck.SITE_DIR / "index.html"
    if not index.exists():
        pytest.fail(
            f"{index} does not exist: the site tests need the built book. Build it first with "
            "`make test-book` (or `COURSE_OFFLINE=1 .venv/bin/jupyter-book build .`).",
            pytrace=False,
        )
    return sitecheck.SITE_DIR


@pytest.fixture(scope="session")
def server(site_dir):
    with sitecheck.SiteServer(site_dir) as srv:
        yield srv


@pytest.fixture(scope="session")
def browser_context():
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="site-tests-chromium-") as profile:
        with sync_playwright() as p:
            context = sitecheck.launch_browser(p, user_data_dir=profile)
            try:
                yield context
            finally:
                context.close()


@pytest.fixture(scope="session")
def browser_page(browser_context):
    page = browser_context.new_page()
    yield page
    page.close()


@pytest.fixture(scope="session")
def reports(server, browser_page):
    """Page reports, collected once per URL and shared by every check of that page."""
    cache: dict[str, sitecheck.PageReport] = {}

    def get(path: str) -> sitecheck.PageReport:
        if path not in cache:
            assert not server.overrides, "the real site is being tested while overrides are set"
            cache[path] = sitecheck.collect(browser_page, server.base_url + path)
        return cache[path]

    return get


@pytest.fixture(scope="session")
def config() -> dict:
    return sitecheck.book_config()
