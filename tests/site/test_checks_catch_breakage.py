"""Tests of the tests: each site check reports the problem it exists for.

A second local server serves the same ``_build/html`` with a few files replaced in memory (the
deliberately broken copy); the very check functions used on the real site must then report the
breakage. A check that stayed silent here could not fail on the real site either.
"""

from __future__ import annotations

import re

import pytest
import sitecheck

pytestmark = pytest.mark.site

PAGES = sitecheck.toc_pages()
NOTEBOOK_PAGES = [p for p in PAGES if p.is_notebook]


@pytest.fixture(scope="module")
def broken(site_dir):
    """A server of the site whose ``overrides`` each test fills (and which is emptied after it)."""
    with sitecheck.SiteServer(site_dir) as srv:
        yield srv


@pytest.fixture()
def break_site(broken):
    def apply(overrides: dict[str, bytes | None]) -> str:
        broken.overrides.clear()
        broken.overrides.update(overrides)
        return broken.base_url

    yield apply
    broken.overrides.clear()


def _html(site_dir, page: sitecheck.TocPage) -> str:
    return (site_dir / page.html).read_text(encoding="utf-8")


def _inject(html: str, snippet: str) -> str:
    assert "</article>" in html, "the page has no <article> to break"
    return html.replace("</article>", snippet + "</article>", 1)


def _page_with_output_image(site_dir) -> tuple[sitecheck.TocPage, str, str]:
    """A notebook page with an image output: (page, its html, the image path in the site)."""
    for page in NOTEBOOK_PAGES:
        html = _html(site_dir, page)
        m = re.search(r'<img [^>]*src="\.\./(_images/[^"]+)"', html)
        if m:
            return page, html, m.group(1)
    pytest.fail("no notebook page has an image output to break")


def _any(problems: list[str], *words: str) -> bool:
    return any(all(w in p for w in words) for p in problems)


def test_a_missing_page_is_reported(break_site, browser_page):
    page = NOTEBOOK_PAGES[0]
    base = break_site({page.html: None})
    problems = sitecheck.check_page_basics(sitecheck.collect(browser_page, base + page.html, run_axe=False), page)
    assert _any(problems, "HTTP status 404"), problems


def test_a_missing_heading_is_reported(break_site, browser_page, site_dir):
    page = NOTEBOOK_PAGES[-1]
    html = re.sub(r"<h1>(.*?)</h1>", r"<p>\1</p>", _html(site_dir, page), flags=re.S)
    base = break_site({page.html: html.encode()})
    problems = sitecheck.check_page_basics(sitecheck.collect(browser_page, base + page.html, run_axe=False), page)
    assert _any(problems, "expected exactly one non-empty <h1>"), problems


def test_a_second_h1_is_reported(break_site, browser_page, site_dir):
    page = PAGES[0]
    base = break_site({page.html: _inject(_html(site_dir, page), "<h1>Another title</h1>").encode()})
    problems = sitecheck.check_page_basics(sitecheck.collect(browser_page, base + page.html, run_axe=False), page)
    assert _any(problems, "expected exactly one"), problems


def test_a_wrong_lesson_title_is_reported(break_site, browser_page, site_dir):
    page = NOTEBOOK_PAGES[0]
    html = re.sub(r"Lesson \d+:", "Lesson 99:", _html(site_dir, page))
    base = break_site({page.html: html.encode()})
    problems = sitecheck.check_page_basics(sitecheck.collect(browser_page, base + page.html, run_axe=False), page)
    assert _any(problems, "should start with 'Lesson"), problems


def test_a_broken_image_is_reported(break_site, browser_page, site_dir):
    page, _, image = _page_with_output_image(site_dir)
    base = break_site({image: b"this is not a PNG file"})
    problems = sitecheck.check_images(sitecheck.collect(browser_page, base + page.html, run_axe=False))
    assert _any(problems, image, "did not load"), problems


def test_a_missing_image_is_reported(break_site, browser_page, site_dir):
    page, _, image = _page_with_output_image(site_dir)
    base = break_site({image: None})
    report = sitecheck.collect(browser_page, base + page.html, run_axe=False)
    assert _any(sitecheck.check_images(report), image, "did not load")
    assert _any(sitecheck.check_console(report), "404"), "a missing image also shows as a console error"


def test_a_file_name_as_alt_text_is_reported(break_site, browser_page, site_dir):
    page, html, image = _page_with_output_image(site_dir)
    tag = re.search(r'<img [^>]*src="\.\./' + re.escape(image) + '"[^>]*>', html).group(0)
    bad = (
        re.sub(r'\balt="[^"]*"', f'alt="../{image}"', tag)
        if "alt=" in tag
        else tag.replace("<img ", f'<img alt="../{image}" ')
    )
    html = html.replace(tag, bad, 1)
    base = break_site({page.html: html.encode()})
    problems = sitecheck.check_images(sitecheck.collect(browser_page, base + page.html, run_axe=False))
    assert _any(problems, "is not a description"), problems


def test_alt_text_rules():
    assert not sitecheck.is_meaningful_alt(None)
    assert not sitecheck.is_meaningful_alt("")
    assert not sitecheck.is_meaningful_alt("../_images/abc123.png")
    assert not sitecheck.is_meaningful_alt("figure.png")
    assert not sitecheck.is_meaningful_alt("plot")
    assert sitecheck.is_meaningful_alt("Astronaut photo and its k-means segmentation with 4 colours")


def test_a_colab_link_to_the_wrong_branch_is_reported(break_site, browser_page, site_dir, config):
    page = NOTEBOOK_PAGES[0]
    html = _html(site_dir, page).replace("/blob/main/", "/blob/master/")
    base = break_site({page.html: html.encode()})
    problems = sitecheck.check_launch_links(
        sitecheck.collect(browser_page, base + page.html, run_axe=False), page, config
    )
    assert _any(problems, "no Colab launch link", "/blob/main/"), problems


def test_a_missing_colab_link_is_reported(break_site, browser_page, site_dir, config):
    page = NOTEBOOK_PAGES[0]
    html = re.sub(r'href="https://colab\.research\.google\.com[^"]*"', 'href="#"', _html(site_dir, page))
    base = break_site({page.html: html.encode()})
    problems = sitecheck.check_launch_links(
        sitecheck.collect(browser_page, base + page.html, run_axe=False), page, config
    )
    assert _any(problems, "no Colab launch link"), problems


def test_a_missing_ipynb_download_is_reported(break_site, browser_page, config):
    page = NOTEBOOK_PAGES[0]
    base = break_site({f"_sources/{page.docname}{page.source.suffix}": None})
    problems = sitecheck.check_launch_links(
        sitecheck.collect(browser_page, base + page.html, run_axe=False), page, config
    )
    assert _any(problems, ".ipynb download", "404"), problems


def test_a_console_error_is_reported(break_site, browser_page, site_dir):
    page = PAGES[0]
    snippet = '<script>throw new Error("deliberate breakage")</script><script src="../_static/missing.js"></script>'
    base = break_site({page.html: _inject(_html(site_dir, page), snippet).encode()})
    problems = sitecheck.check_console(sitecheck.collect(browser_page, base + page.html, run_axe=False))
    assert _any(problems, "deliberate breakage"), problems
    assert _any(problems, "404", "missing.js"), problems


def test_the_console_allowlist_is_narrow():
    cdn = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"
    msg = "Failed to load resource: net::ERR_NAME_NOT_RESOLVED"
    allowed = lambda text, url: any(a.matches(text, url) for a in sitecheck.CONSOLE_ALLOWLIST)  # noqa: E731
    assert allowed(msg, cdn)
    assert not allowed(msg, "https://example.org/script.js"), "only the listed CDN hosts are allowed"
    assert allowed(
        "Failed to load resource: the server responded with a status of 404 (File not found)",
        "http://127.0.0.1:8000/favicon.ico",
    )
    assert not allowed(
        "Failed to load resource: the server responded with a status of 404 (File not found)",
        "http://127.0.0.1:8000/_static/missing.js",
    )
    assert all(a.reason for a in sitecheck.CONSOLE_ALLOWLIST + sitecheck.AXE_ALLOWLIST)


_WIDGET_CELL = (
    '<div class="cell docutils container"><div class="cell_output docutils container">'
    '<script type="application/vnd.jupyter.widget-view+json">{"version_major": 2, "version_minor": 0, '
    '"model_id": "0"}</script></div></div>'
)


def test_a_widget_view_is_reported_as_a_dead_control(break_site, browser_page, site_dir):
    page, html, image = _page_with_output_image(site_dir)
    figure = (
        f'<div class="cell"><div class="cell_output"><img alt="A static figure for the widget" '
        f'src="../{image}"/></div></div>'
    )
    # even with a static figure beside it: the slider itself does nothing on the website
    base = break_site({page.html: _inject(html, _WIDGET_CELL + figure).encode()})
    report = sitecheck.collect(browser_page, base + page.html, run_axe=False)
    assert _any(sitecheck.check_no_dead_controls(report), "interactive widget", "controls do nothing")


_PROGRESS_STATE = (
    '<script type="application/vnd.jupyter.widget-state+json">{"version_major": 2, "version_minor": 0, '
    '"state": {"bar": {"model_name": "HBoxModel", "state": {"children": ["IPY_MODEL_html", "IPY_MODEL_p"]}}, '
    '"html": {"model_name": "HTMLModel", "state": {}}, "p": {"model_name": "FloatProgressModel", "state": {}}, '
    '"box": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_slider", "IPY_MODEL_out"]}}, '
    '"slider": {"model_name": "IntSliderModel", "state": {}}, "out": {"model_name": "OutputModel", "state": {}}}}'
    "</script>"
)


def _view(model_id: str) -> str:
    return (
        '<div class="cell"><div class="cell_output"><script type="application/vnd.jupyter.widget-view+json">'
        f'{{"version_major": 2, "version_minor": 0, "model_id": "{model_id}"}}</script></div></div>'
    )


def test_a_progress_bar_is_no_dead_control_but_a_slider_is(break_site, browser_page, site_dir):
    page = NOTEBOOK_PAGES[0]
    plain = '<div class="cell"><p>text</p></div>'
    html = _inject(_html(site_dir, page), plain + _PROGRESS_STATE + _view("bar") + plain + plain + _view("box") + plain)
    base = break_site({page.html: html.encode()})
    report = sitecheck.collect(browser_page, base + page.html, run_axe=False)
    problems = sitecheck.check_no_dead_controls(report)
    assert len(problems) == 1 and "interactive widget" in problems[0], problems
    assert sum(c["progress"] for c in report.cells) == 1


def _explorer_page(site_dir) -> tuple[sitecheck.TocPage, str]:
    for page in NOTEBOOK_PAGES:
        if sitecheck.notebook_explorers(page.source):
            return page, _html(site_dir, page)
    pytest.fail("no lesson displays a frame explorer")


def test_an_explorer_whose_frames_are_lost_is_reported(break_site, browser_page, site_dir):
    page, html = _explorer_page(site_dir)
    broken_html = re.sub(r'(class="cu-explorer-frames">).*?(</script>)', r"\1{}\2", html, flags=re.S)
    assert broken_html != html
    base = break_site({page.html: broken_html.encode()})
    problems = sitecheck.check_explorers_respond(browser_page, base + page.html)
    assert _any(problems, "did not change the image"), problems
    report = sitecheck.collect(browser_page, base + page.html, run_axe=False)
    assert _any(sitecheck.check_explorers_shown(report, 1), "0 frames"), report.explorers


def test_an_explorer_without_handlers_is_reported(break_site, browser_page, site_dir):
    page, html = _explorer_page(site_dir)
    broken_html = re.sub(r' on(input|change)="[^"]*"', "", html)
    assert broken_html != html
    base = break_site({page.html: broken_html.encode()})
    problems = sitecheck.check_explorers_respond(browser_page, base + page.html)
    assert _any(problems, "did not change the image"), problems


def test_an_explorer_missing_from_the_page_is_reported(break_site, browser_page, site_dir):
    page, html = _explorer_page(site_dir)
    broken_html = re.sub(r'class="cu-explorer"', 'class="cu-gone"', html)
    base = break_site({page.html: broken_html.encode()})
    report = sitecheck.collect(browser_page, base + page.html, run_axe=False)
    expected = sitecheck.notebook_explorers(page.source)
    assert _any(sitecheck.check_explorers_shown(report, expected), f"displays {expected} frame explorer", "shows 0")


def test_the_real_explorers_pass_the_same_checks(browser_page, server, site_dir):
    page, _ = _explorer_page(site_dir)
    assert sitecheck.check_explorers_respond(browser_page, server.base_url + page.html) == []


def test_an_accessibility_violation_is_reported(break_site, browser_page, site_dir):
    page = PAGES[0]
    snippet = '<img src="../_static/images/logo_colab.png"><a href="next.html"></a>'
    base = break_site({page.html: _inject(_html(site_dir, page), snippet).encode()})
    report = sitecheck.collect(browser_page, base + page.html)
    problems = sitecheck.check_axe(report)
    assert _any(problems, "image-alt"), problems
    assert _any(problems, "link-name"), problems
    assert _any(sitecheck.check_images(report), "has no alt attribute")


def test_low_contrast_code_is_reported_despite_token_sampling(break_site, browser_page, site_dir):
    """axe checks one code token per colour (for speed): a pale token colour must still be caught."""
    page = NOTEBOOK_PAGES[0]
    style = "<style>.cell_input pre span { color: #eeeeee !important; }</style>"
    html = _html(site_dir, page).replace("</head>", style + "</head>", 1)
    base = break_site({page.html: html.encode()})
    problems = sitecheck.check_axe(sitecheck.collect(browser_page, base + page.html))
    assert _any(problems, "color-contrast"), problems


def test_broken_internal_links_are_reported(break_site, site_dir):
    page = PAGES[0]
    snippet = '<a href="missing-page.html">gone</a><a href="#no-such-anchor">gone</a><img alt="x y z" src="../_images/missing.png">'
    base = break_site({page.html: _inject(_html(site_dir, page), snippet).encode()})
    problems = sitecheck.crawl_internal_links(base, [page.html])
    assert _any(problems, "missing-page.html", "404"), problems
    assert _any(problems, "no-such-anchor"), problems
    assert _any(problems, "missing.png", "404"), problems


def test_search_that_misses_the_lesson_is_reported(break_site, browser_page):
    base = break_site({})
    pages = sitecheck.search_results(browser_page, base, "zyxwvut-no-such-term")
    assert pages == []
    assert sitecheck.check_search(pages, "zyxwvut", "notebooks/04_dense_prediction.html")
    assert sitecheck.check_search(["a.html", "b.html", "c.html", "x.html"], "q", "x.html", top=3)
    assert not sitecheck.check_search(["a.html", "x.html"], "q", "x.html", top=3)


def test_an_open_solution_is_reported(break_site, browser_page, site_dir):
    page = NOTEBOOK_PAGES[0]
    html = _html(site_dir, page)
    assert '<details class="admonition hide above-input">' in html, "no folded solution to break"
    html = html.replace(
        '<details class="admonition hide above-input">', '<details open class="admonition hide above-input">'
    )
    base = break_site({page.html: html.encode()})
    report = sitecheck.collect(browser_page, base + page.html, run_axe=False)
    problems = sitecheck.check_solutions_folded(report, sitecheck.notebook_solution_cells(page.source))
    assert _any(problems, "is visible on load"), problems
    problems = sitecheck.check_solution_unfolds(browser_page, base + page.html)
    assert _any(problems, "already visible"), problems


def test_a_solution_missing_from_the_page_is_reported(break_site, browser_page, site_dir):
    page = NOTEBOOK_PAGES[0]
    html = _html(site_dir, page).replace("tag_solution", "tag_other", 1)
    base = break_site({page.html: html.encode()})
    report = sitecheck.collect(browser_page, base + page.html, run_axe=False)
    problems = sitecheck.check_solutions_folded(report, sitecheck.notebook_solution_cells(page.source))
    assert _any(problems, "tagged 'solution'", "tag_solution"), problems


def test_a_formula_with_broken_tex_is_reported(break_site, browser_page, site_dir):
    """\\frac with one argument: MathJax typesets an error box (<mjx-merror>) instead of the formula."""
    page = NOTEBOOK_PAGES[0]
    html = _inject(_html(site_dir, page), r'<p><span class="math notranslate nohighlight">\(\frac{1}\)</span></p>')
    base = break_site({page.html: html.encode()})
    problems = sitecheck.check_math(sitecheck.collect(browser_page, base + page.html, run_axe=False))
    assert _any(problems, "MathJax error in a formula"), problems


def test_formulas_without_mathjax_are_reported(break_site, browser_page, site_dir):
    page = NOTEBOOK_PAGES[0]
    html = _html(site_dir, page)
    assert "_static/mathjax/tex-chtml.js" in html, "the page does not load the bundled MathJax"
    base = break_site({"_static/mathjax/tex-chtml.js": None})
    problems = sitecheck.check_math(sitecheck.collect(browser_page, base + page.html, run_axe=False))
    assert _any(problems, "MathJax did not load"), problems


# --- how the site was built: the intro's table and the lessons' weights notices -------------------
_TABLE = re.compile(r'<table class="[^"]*\bbuild-provenance\b.*?</table>', re.S)
_NOTICE = re.compile(r'<div class="admonition warning course-weights-notice">.*?</div>', re.S)
_LOADING = {p.lesson_number for p in NOTEBOOK_PAGES if sitecheck.notebook_loads_pretrained(p.source)}


def _intro_report(break_site, browser_page, html: str) -> sitecheck.PageReport:
    base = break_site({PAGES[0].html: html.encode()})
    return sitecheck.collect(browser_page, base + PAGES[0].html, run_axe=False)


def _row(html: str, label: str) -> re.Match:
    m = re.search(r"<tr[^>]*><td><p>" + re.escape(label) + r"</p></td>\s*<td>.*?</td>\s*</tr>", html, re.S)
    assert m, f"the built intro has no build-table row {label!r}"
    return m


def test_a_missing_build_table_is_reported(break_site, browser_page, site_dir):
    html = _html(site_dir, PAGES[0])
    assert _TABLE.search(html), "the built intro has no build table"
    problems = sitecheck.check_build_table(_intro_report(break_site, browser_page, _TABLE.sub("", html)), _LOADING)
    assert _any(problems, "expected one 'How this site was built' table, found 0"), problems


def test_an_altered_build_table_is_reported(break_site, browser_page, site_dir):
    html = _html(site_dir, PAGES[0])
    commit = _row(html, "Git commit")
    html = html.replace(
        commit.group(0), re.sub(r"<td><p>[^<]*</p></td>\s*</tr>$", "<td><p>HEAD</p></td></tr>", commit.group(0))
    )
    html = html.replace(_row(html, "Device").group(0), "")
    problems = sitecheck.check_build_table(_intro_report(break_site, browser_page, html), _LOADING)
    assert _any(problems, "Git commit is 'HEAD'"), problems
    assert _any(problems, "expected one row 'Device', found 0"), problems


def test_lessons_missing_from_the_build_table_are_reported(break_site, browser_page, site_dir):
    html = _html(site_dir, PAGES[0])
    html, removed = re.subn(r"<tr[^>]*><td><p>Weights: [^<]*</p></td>.*?</tr>", "", html, flags=re.S)
    assert removed, "the built intro's table has no weights row"
    problems = sitecheck.check_build_table(_intro_report(break_site, browser_page, html), _LOADING)
    for n in sorted(_LOADING):
        assert _any(problems, f"lesson {n} loads a pretrained model but no weights row names it"), problems


def _lesson(number: int | None = None, loads: bool | None = None) -> sitecheck.TocPage:
    for page in NOTEBOOK_PAGES:
        if (number is None or page.lesson_number == number) and (
            loads is None or sitecheck.notebook_loads_pretrained(page.source) == loads
        ):
            return page
    pytest.fail(f"no lesson page {number=} {loads=}")


def test_a_missing_weights_notice_is_reported(break_site, browser_page, site_dir):
    page = _lesson(loads=True)
    html = _html(site_dir, page)
    html = _NOTICE.sub("", html)  # the site built offline has one; built online, there is none to remove
    base = break_site({page.html: html.encode()})
    problems = sitecheck.check_weights_notice(
        sitecheck.collect(browser_page, base + page.html, run_axe=False), {"resnet18"}
    )
    assert _any(problems, "expected one notice naming ['resnet18']", "found 0"), problems


_FAKE_NOTICE = (
    '<div class="admonition warning course-weights-notice"><p class="admonition-title">No pretrained weights: '
    "resnet18 runs with random weights</p><ul><li>What you will NOT see: learned features.</li></ul></div>"
)


def _after_title(html: str, snippet: str) -> str:
    """``snippet`` right after the lesson's title (the first ``</h1>`` inside the article)."""
    head, sep, article = html.partition("<article")
    assert sep and "</h1>" in article, "the page has no <article> with an <h1>"
    return head + sep + article.replace("</h1>", "</h1>" + snippet, 1)


def test_a_weights_notice_on_a_lesson_without_random_weights_is_reported(break_site, browser_page, site_dir):
    page = _lesson(loads=False)
    html = _after_title(_html(site_dir, page), _FAKE_NOTICE)
    base = break_site({page.html: html.encode()})
    problems = sitecheck.check_weights_notice(sitecheck.collect(browser_page, base + page.html, run_axe=False), set())
    assert _any(problems, "shows a weights notice", "no model of this lesson ran with random weights"), problems


def test_a_weights_notice_at_the_bottom_or_naming_the_wrong_model_is_reported(break_site, browser_page, site_dir):
    page = _lesson(loads=True)
    html = _inject(_NOTICE.sub("", _html(site_dir, page)), _FAKE_NOTICE)  # at the end of the article
    base = break_site({page.html: html.encode()})
    report = sitecheck.collect(browser_page, base + page.html, run_axe=False)
    assert _any(sitecheck.check_weights_notice(report, {"resnet18"}), "not at the top"), report.notices
    problems = sitecheck.check_weights_notice(report, {"deeplabv3_resnet50"})
    assert _any(problems, "should name ['deeplabv3_resnet50']"), problems


def test_a_weights_notice_that_does_not_say_what_is_missing_is_reported(break_site, browser_page, site_dir):
    page = _lesson(loads=False)
    fake = _FAKE_NOTICE.replace("What you will NOT see: learned features.", "Nothing to worry about.")
    html = _after_title(_html(site_dir, page), fake)
    base = break_site({page.html: html.encode()})
    problems = sitecheck.check_weights_notice(
        sitecheck.collect(browser_page, base + page.html, run_axe=False), {"resnet18"}
    )
    assert _any(problems, "does not say what the reader will not see"), problems
