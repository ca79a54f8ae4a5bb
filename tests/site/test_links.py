"""No broken internal link anywhere on the site (a crawler over the local server).

External links are checked by `make linkcheck-external` (tests/site/linkcheck_external.py), which
needs the internet and never blocks the tests.
"""

from __future__ import annotations

import pytest
import sitecheck

pytestmark = pytest.mark.site


def test_no_broken_internal_links_or_anchors(server):
    start = ["index.html"] + [p.html for p in sitecheck.toc_pages()]
    problems = sitecheck.crawl_internal_links(server.base_url, start)
    assert not problems, f"{len(problems)} broken internal links:\n" + "\n".join(problems)
