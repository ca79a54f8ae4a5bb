"""Checks of the built course website, written as plain functions.

The pytest files in this folder call these functions against the real ``_build/html``;
``test_checks_catch_breakage.py`` calls the same functions against a deliberately broken copy of
the site, to show that each check reports the problem it is meant to find.

Pieces:
* :class:`SiteServer` serves a folder on 127.0.0.1 (random free port) from a thread; it takes
  ``overrides`` (path -> replacement bytes, or ``None`` for "missing") so a broken copy of the site
  costs no copying.
* :func:`launch_browser` starts Debian's Chromium (``/usr/bin/chromium``) through Playwright with a
  fresh profile and no route to the internet (host resolution is disabled for every host except
  127.0.0.1), so the site is tested as an offline reader sees it.
* :func:`collect` visits one page and records what a reader gets (status, title, headings, console
  errors, images, links, axe-core violations) in a :class:`PageReport`.
* ``check_*`` functions take a report (plus what they need) and return a list of problems, each a
  human-readable sentence; an empty list means the check passed.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import yaml

from course_utils import explorers as _explorers

# The book to test: this repository (SITE_BOOK_ROOT points elsewhere, e.g. at a scratch copy).
ROOT = Path(os.environ.get("SITE_BOOK_ROOT") or Path(__file__).resolve().parents[2]).resolve()
SITE_DIR = ROOT / "_build" / "html"
SCREENSHOT_DIR = ROOT / "_build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    # No internet for the page: every host except the local server fails to resolve, exactly as
    # for a reader without a network (CDN scripts such as MathJax or the widget manager fail).
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
# What course_utils.pretrained.weights_notice and _ext/provenance.py put on the pages.
NOTICE_CLASS = "course-weights-notice"
BUILD_TABLE_CLASS = "build-provenance"
# Frame explorers (course_utils.explorers): the same class names the package writes.
EXPLORER_CLASS = _explorers.EXPLORER_CLASS
FRAMES_CLASS = _explorers.FRAMES_CLASS


# --------------------------------------------------------------------------------------------
# The book: pages of the table of contents and the configured repository
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TocPage:
    docname: str  # e.g. "notebooks/04_dense_prediction" (as in _toc.yml, no suffix)
    source: Path  # the source file (.ipynb or .md)

    @property
    def html(self) -> str:
        return self.docname + ".html"

    @property
    def is_notebook(self) -> bool:
        return self.source.suffix == ".ipynb"

    @property
    def lesson_number(self) -> int | None:
        m = re.match(r"notebooks/(\d+)_", self.docname)
        return int(m.group(1)) if m else None


def _toc_docnames(entries: list[dict]) -> list[str]:
    names = []
    for entry in entries or []:
        if "file" in entry:
            names.append(entry["file"])
        names += _toc_docnames(entry.get("sections", []))
    return names


def toc_pages(root: Path = ROOT) -> list[TocPage]:
    """Every page that ``_toc.yml`` lists (root, parts, chapters and nested sections), in order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    docnames = [toc["root"]] + _toc_docnames(toc.get("chapters", []))
    for part in toc.get("parts", []):
        docnames += _toc_docnames(part.get("chapters", []))
    pages = []
    for name in docnames:
        name = re.sub(r"\.(ipynb|md)$", "", name)
        sources = sorted(p for p in root.glob(name + ".*") if p.suffix in {".ipynb", ".md"})
        pages.append(TocPage(name, sources[0] if sources else root / (name + ".md")))
    return pages


def book_config(root: Path = ROOT) -> dict:
    return yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))


def expected_colab_url(page: TocPage, config: dict, branch: str = "main") -> str:
    """The Colab launch URL for a notebook page: the notebook on ``branch`` of the configured repo."""
    repo = config["repository"]["url"].rstrip("/")
    owner_repo = urllib.parse.urlparse(repo).path.strip("/")
    colab = config.get("launch_buttons", {}).get("colab_url", "https://colab.research.google.com")
    book_path = (config["repository"].get("path_to_book") or "").strip("/")
    nb_path = "/".join(p for p in (book_path, page.docname + page.source.suffix) if p)
    return f"{colab.rstrip('/')}/github/{owner_repo}/blob/{branch}/{nb_path}"


def notebook_solution_cells(path: Path) -> int:
    """How many code cells of the notebook carry the ``solution`` tag (exercise solutions)."""
    if path.suffix != ".ipynb" or not path.exists():
        return 0
    nb = json.loads(path.read_text(encoding="utf-8"))
    return sum(
        1
        for c in nb.get("cells", [])
        if c.get("cell_type") == "code" and "solution" in c.get("metadata", {}).get("tags", [])
    )


def notebook_loads_pretrained(path: Path) -> bool:
    """True when a code cell of the notebook calls ``pretrained.load(`` (a torchvision model with weights)."""
    if path.suffix != ".ipynb" or not path.exists():
        return False
    nb = json.loads(path.read_text(encoding="utf-8"))
    return any(
        "pretrained.load(" in "".join(c.get("source", "")) for c in nb.get("cells", []) if c.get("cell_type") == "code"
    )


def notebook_explorers(path: Path) -> int:
    """How many code cells the website shows that display a frame explorer (``frame_explorer(``).

    Cells tagged ``remove-cell`` (the live, kernel-backed explorers for Jupyter and Colab) are not
    on the website and do not count.
    """
    if path.suffix != ".ipynb" or not path.exists():
        return 0
    nb = json.loads(path.read_text(encoding="utf-8"))
    return sum(
        1
        for c in nb.get("cells", [])
        if c.get("cell_type") == "code"
        and "remove-cell" not in c.get("metadata", {}).get("tags", [])
        and re.search(r"^\s*frame_explorer\(|^\s*\w+\s*=\s*frame_explorer\(", "".join(c.get("source", "")), re.M)
    )


# --------------------------------------------------------------------------------------------
# A local web server with optional overrides (for deliberately broken copies)
# --------------------------------------------------------------------------------------------
class _Handler(http.server.SimpleHTTPRequestHandler):
    overrides: dict[str, bytes | None] = {}

    def log_message(self, format, *args):  # noqa: A002 - keep the test output quiet
        pass

    def end_headers(self):
        # No browser caching: a broken copy served later under the same URL must really be fetched.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def _override(self):
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
        return path, self.server.overrides.get(path, ...)  # type: ignore[attr-defined]

    def send_head(self):
        path, data = self._override()
        if data is ...:
            return super().send_head()
        if data is None:
            self.send_error(404, "File not found (removed by a test)")
            return None
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        import io

        return io.BytesIO(data)


class SiteServer:
    """Serve ``root`` on 127.0.0.1 at a free port from a daemon thread.

    ``overrides`` maps a site path (``"notebooks/01_x.html"``) to replacement bytes, or to ``None``
    to make the path answer 404; everything else is served from ``root`` unchanged.
    """

    def __init__(self, root: Path):
        self.root = Path(root)
        handler = functools.partial(_Handler, directory=str(self.root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.overrides = {}  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def overrides(self) -> dict[str, bytes | None]:
        return self.httpd.overrides  # type: ignore[attr-defined]

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def __enter__(self) -> SiteServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def http_status(url: str, timeout: float = 10) -> tuple[int, bytes]:
    """(status, body) of a GET; status 0 with the error text when the server cannot be reached."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, b""
    except (urllib.error.URLError, OSError) as err:
        return 0, str(err).encode()


# --------------------------------------------------------------------------------------------
# The browser
# --------------------------------------------------------------------------------------------
def launch_browser(playwright, user_data_dir: str | None = None):
    """Debian's Chromium through Playwright: headless, fresh profile, no internet.

    Returns a persistent BrowserContext; close it when done (the profile folder is temporary).
    """
    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"{CHROMIUM} is missing: install Debian's chromium (`make install-browser`, which runs "
            "`apt-get install -y chromium`). The site tests never download a browser."
        )
    user_data_dir = user_data_dir or tempfile.mkdtemp(prefix="site-tests-chromium-")
    return playwright.chromium.launch_persistent_context(
        user_data_dir,
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 900},
        locale="en-GB",
        service_workers="block",
    )


# --------------------------------------------------------------------------------------------
# What a reader gets from one page
# --------------------------------------------------------------------------------------------
@dataclass
class PageReport:
    url: str
    status: int | None = None
    title: str = ""
    h1: list[str] = field(default_factory=list)  # h1 texts inside the article (theme chrome excluded)
    console_errors: list[dict] = field(default_factory=list)  # {"text", "url"}
    failed_requests: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)  # {"href", "cls", "text"} of every <a>
    cells: list[dict] = field(default_factory=list)  # per notebook cell: widget view? loaded image?
    explorers: list[dict] = field(default_factory=list)  # per frame explorer: frames, controls, image
    math: dict = field(default_factory=dict)  # {"formulas", "rendered", "errors", "mathjax"}
    axe_violations: list[dict] = field(default_factory=list)
    # The "how it was built" parts: weights notices ({"title", "text", "visible", "top"}) and the rows
    # ([label, value]) of every build table in the article.
    notices: list[dict] = field(default_factory=list)
    build_tables: list[list[list[str]]] = field(default_factory=list)


_IMAGES_JS = """
async () => {
  const imgs = Array.from(document.images);
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => {
      i.addEventListener('load', r); i.addEventListener('error', r); setTimeout(r, 5000); })));
  return imgs.map(i => ({
    src: i.getAttribute('src') || '',
    current: i.currentSrc || i.src,
    alt: i.getAttribute('alt'),
    role: i.getAttribute('role') || '',
    complete: i.complete,
    naturalWidth: i.naturalWidth,
    inArticle: !!i.closest('article'),
    inOutput: !!i.closest('.cell_output, .output'),
  }));
}
"""

_PAGE_JS = (
    """
() => {
  const text = el => (el.innerText || el.textContent || '').replace(/[\\u00b6#]\\s*$/, '').trim();
  const article = document.querySelector('article') || document.querySelector('main') || document.body;
  const h1 = Array.from(article.querySelectorAll('h1')).map(text);
  const links = Array.from(document.querySelectorAll('a[href]')).map(a => ({
      href: a.getAttribute('href'), cls: a.className || '', text: text(a)}));
  // Widget models saved with the page (myst-nb embeds the notebook's widget state).
  const models = {};
  document.querySelectorAll('script[type="application/vnd.jupyter.widget-state+json"]').forEach(el => {
    try { Object.assign(models, JSON.parse(el.textContent).state || {}); } catch (e) {}
  });
  // A widget is interactive unless its whole tree is passive display (a tqdm progress bar is an
  // HBox of HTML + FloatProgress: it needs no figure). Unknown models count as interactive.
  const passive = /^(HBox|VBox|Box|GridBox|HTML|HTMLMath|Label|FloatProgress|IntProgress)Model$/;
  const interactive = (id, seen) => {
    const m = models[id];
    if (!m || seen.has(id)) return !m;
    seen.add(id);
    if (!passive.test(m.model_name)) return true;
    return ((m.state || {}).children || []).some(
        c => interactive(String(c).replace(/^IPY_MODEL_/, ''), seen));
  };
  const cells = Array.from(document.querySelectorAll('div.cell')).map(c => {
    const views = Array.from(c.querySelectorAll('script[type="%s"]')).map(v => {
        try { return JSON.parse(v.textContent).model_id; } catch (e) { return null; } });
    return {
      widget: views.some(id => interactive(id, new Set())),
      progress: views.filter(id => !interactive(id, new Set())).length,
      image: Array.from(c.querySelectorAll('.cell_output img')).some(i => i.complete && i.naturalWidth > 0),
      solution: c.classList.contains('tag_solution'),
      // folded: the code sits in a closed <details> of its own cell and the browser does not show it
      folded: (() => {
        const input = c.querySelector('.cell_input');
        const details = input && input.closest('details');
        return !!details && c.contains(details) && !details.open && !input.checkVisibility();
      })(),
    };
  });
  // Weights notices (pretrained.weights_notice) and build tables (_ext/provenance.py). "top": before
  // the first section heading of the article.
  const firstSection = article.querySelector('h2');
  const notices = Array.from(article.querySelectorAll('.%NOTICE')).map(n => ({
      title: text(n.querySelector('.admonition-title') || n).split('\\n')[0],
      text: text(n), visible: n.checkVisibility(),
      top: !firstSection || !!(n.compareDocumentPosition(firstSection) & Node.DOCUMENT_POSITION_FOLLOWING)}));
  const buildTables = Array.from(article.querySelectorAll('table.%TABLE')).map(t =>
      Array.from(t.querySelectorAll('tbody tr')).map(r => Array.from(r.cells).map(text)));
  const explorers = Array.from(article.querySelectorAll('.%EXPLORER')).map(e => {
    const img = e.querySelector('figure img');
    let frames = -1;
    try { frames = Object.keys(JSON.parse(e.querySelector('.%FRAMES').textContent)).length; } catch (err) {}
    return {id: e.id, frames, controls: e.querySelectorAll('[data-control]').length,
            loaded: !!img && img.complete && img.naturalWidth > 0, alt: img ? img.getAttribute('alt') : null};
  });
  return {title: document.title, h1, links, cells, notices, buildTables, explorers};
}
""".replace("%s", WIDGET_VIEW_MIME)
    .replace("%NOTICE", NOTICE_CLASS)
    .replace("%TABLE", BUILD_TABLE_CLASS)
    .replace("%EXPLORER", EXPLORER_CLASS)
    .replace("%FRAMES", FRAMES_CLASS)
)


# Formulas: Sphinx marks each one with class "math"; MathJax (served from _static, see _config.yml)
# replaces its TeX with an <mjx-container>, or an <mjx-merror> when the TeX does not parse.
_MATH_JS = """
async () => {
  const article = document.querySelector('article') || document.body;
  const formulas = article.querySelectorAll('.math').length;
  const mathjax = !!(window.MathJax && window.MathJax.startup);
  if (formulas && mathjax && window.MathJax.startup.promise) {
    try { await window.MathJax.startup.promise; } catch (e) {}
  }
  return {
    formulas, mathjax,
    rendered: article.querySelectorAll('.math mjx-container').length,
    errors: Array.from(article.querySelectorAll('mjx-merror')).slice(0, 5).map(
        e => e.getAttribute('data-mjx-error') || e.textContent),
  };
}
"""


def collect(page, url: str, run_axe: bool = True) -> PageReport:
    """Visit ``url`` in ``page`` (a Playwright Page) and record what a reader gets."""
    report = PageReport(url=url)

    def on_console(msg):
        if msg.type == "error":
            report.console_errors.append({"text": msg.text, "url": (msg.location or {}).get("url", "")})

    def on_pageerror(err):
        report.console_errors.append({"text": f"Uncaught exception: {err}", "url": url})

    def on_requestfailed(req):
        report.failed_requests.append(f"{req.url} ({req.failure})")

    page.on("console", on_console)
    page.on("pageerror", on_pageerror)
    page.on("requestfailed", on_requestfailed)
    try:
        response = page.goto(url, wait_until="load", timeout=30_000)
        report.status = response.status if response else None
        try:
            page.wait_for_load_state("networkidle", timeout=5_000)
        except Exception:  # a page that keeps polling still gets checked
            pass
        report.images = page.evaluate(_IMAGES_JS)
        info = page.evaluate(_PAGE_JS)
        report.title, report.h1 = info["title"], info["h1"]
        report.links, report.cells = info["links"], info["cells"]
        report.notices, report.build_tables = info["notices"], info["buildTables"]
        report.explorers = info["explorers"]
        report.math = page.evaluate(_MATH_JS)
    finally:
        # Stop listening before axe runs: axe-core fetches style sheets itself (it asks for
        # /basic.css through a wrongly resolved @import), and those are not the page's errors.
        page.remove_listener("console", on_console)
        page.remove_listener("pageerror", on_pageerror)
        page.remove_listener("requestfailed", on_requestfailed)
    if run_axe and report.status == 200:
        report.axe_violations = run_axe_core(page)
    return report


# axe-core's colour-contrast rule costs several ms per element, and a lesson's highlighted code has
# thousands of token <span>s that share a few dozen colours (26 s of 31 s on a real lesson page;
# excluding them through axe's context is slower still). So, once everything else on the page has
# been read, the duplicates are unwrapped into plain text: one span per distinct (class, colour,
# background) stays, so every colour the code uses is still checked against its background, and
# the unwrapped text is checked with the colour of its <pre>. Then axe runs on the whole page.
_AXE_PREPARE_JS = """
() => {
  // Read every style first, then write: interleaving would force a style recalculation per span.
  const spans = Array.from(document.querySelectorAll('pre span')).filter(el => !el.children.length);
  const keys = spans.map(el => {
    const style = getComputedStyle(el);
    return [el.className, style.color, style.backgroundColor].join('|');
  });
  const kept = new Set();
  let unwrapped = 0;
  spans.forEach((el, i) => {
    if (!kept.has(keys[i]) && (el.textContent || '').trim()) { kept.add(keys[i]); return; }
    el.replaceWith(document.createTextNode(el.textContent));
    unwrapped++;
  });
  return {kept: kept.size, unwrapped};
}
"""
_AXE_RUN_JS = "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"


def run_axe_core(page) -> list[dict]:
    """axe-core violations (any impact) of the page open in ``page``, using the axe bundled with
    axe-playwright-python, as ``{"id", "impact", "help", "targets"}`` dicts. Rewrites code spans
    (see above): call it after everything else has been read from the page."""
    from axe_playwright_python.sync_playwright import Axe

    page.evaluate(_AXE_PREPARE_JS)
    page.evaluate(Axe().axe_script)
    return [
        {
            "id": v["id"],
            "impact": v.get("impact"),
            "help": v.get("help", ""),
            "targets": [" ".join(map(str, n.get("target", []))) for n in v.get("nodes", [])],
        }
        for v in page.evaluate(_AXE_RUN_JS)
    ]


# --------------------------------------------------------------------------------------------
# Allowlists: every entry says why it is acceptable
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Allowed:
    pattern: str  # regular expression on the console message (or the axe rule id)
    reason: str
    url_pattern: str = ""  # regular expression on the URL the message comes from ("" = any)

    def matches(self, text: str, url: str = "") -> bool:
        return bool(re.search(self.pattern, text)) and bool(re.search(self.url_pattern, url or ""))


# External hosts that pages of this book load scripts from. The tests run the site offline on
# purpose; each host is listed with what fails without it and why the page stays readable.
CDN_HOSTS = {
    "cdn.jsdelivr.net": "The ipywidgets HTML manager comes from jsDelivr. Offline, widgets do not "
    "render; the site shows no widget views (frame explorers need no widget manager). (MathJax "
    "does not need it: sphinx-mathjax-offline serves it from _static.)",
    "unpkg.com": "@jupyter-widgets/html-manager and its modules (widget state rendering) are loaded "
    "from unpkg; the site shows no widget views, only passive ones such as progress bars.",
    "cdnjs.cloudflare.com": "require.js, which the ipywidgets embed script asks for; same reason "
    "as the widget manager.",
}

CONSOLE_ALLOWLIST: list[Allowed] = [
    Allowed(
        r"^Failed to load resource: net::ERR_NAME_NOT_RESOLVED$",
        f"A script from a CDN ({host}) cannot load offline. {why}",
        url_pattern=rf"^https?://{re.escape(host)}/",
    )
    for host, why in CDN_HOSTS.items()
] + [
    Allowed(
        r"^Uncaught exception: .*Identifier 'THEBE_JS_URL' has already been declared",
        "sphinx-thebe 0.3.1 (installed by jupyter-book 1.0.4) adds its inline config script twice "
        "under Sphinx 7.4, so the second `const THEBE_JS_URL` throws. The first copy already set the "
        "same values, and live code (thebe) is not enabled in this book, so nothing is lost.",
    ),
    Allowed(
        r"^Got invalid theme mode: \. Resetting to auto\.$",
        "pydata-sphinx-theme logs this as an error on a first visit (fresh browser profile, no "
        "stored light/dark choice) and then uses 'auto', which is the intended default.",
    ),
    Allowed(
        r"^Failed to load resource: the server responded with a status of 404",
        "Chromium asks for /favicon.ico on its own when a page declares no icon; the book sets no "
        "html_favicon. Only that exact URL is allowed; every other 404 fails.",
        url_pattern=r"^http://127\.0\.0\.1:\d+/favicon\.ico$",
    ),
]

# axe-core rule ids with serious or critical impact that are accepted, each with its reason.
# (Empty on purpose: prefer fixing the site. Add entries only with a reason and a selector.)
AXE_ALLOWLIST: list[Allowed] = []


# --------------------------------------------------------------------------------------------
# Checks: each returns a list of problems ([] = passed)
# --------------------------------------------------------------------------------------------
def check_page_basics(report: PageReport, page: TocPage | None = None) -> list[str]:
    """HTTP 200, a <title>, exactly one non-empty h1 in the article that the title starts with."""
    problems = []
    if report.status != 200:
        return [f"{report.url}: HTTP status {report.status}, expected 200"]
    if not report.title.strip():
        problems.append(f"{report.url}: the page has no <title>")
    headings = [h for h in report.h1 if h]
    if len(headings) != 1:
        problems.append(
            f"{report.url}: expected exactly one non-empty <h1> in the article, found {report.h1!r} "
            "(a notebook needs one '# Title' Markdown heading; further sections use '##')"
        )
    elif report.title.strip():
        heading = re.sub(r"^[\d.]+\s+", "", headings[0])  # drop the section number ("1. ")
        if heading not in report.title:
            problems.append(f"{report.url}: <title> {report.title!r} does not contain the h1 {heading!r}")
    if page is not None and page.lesson_number is not None and headings:
        heading = re.sub(r"^[\d.]+\s+", "", headings[0])
        if not heading.startswith(f"Lesson {page.lesson_number}:"):
            problems.append(
                f"{report.url}: the h1 {heading!r} should start with 'Lesson {page.lesson_number}:' "
                "(CONTRIBUTING.md: the title is '# Lesson N: ...')"
            )
    return problems


def check_console(report: PageReport, allowlist: list[Allowed] = CONSOLE_ALLOWLIST) -> list[str]:
    """No console error or uncaught exception, except allowlisted ones."""
    return [
        f"{report.url}: console error {e['text']!r} from {e['url'] or 'the page'}"
        for e in report.console_errors
        if not any(a.matches(e["text"], e["url"]) for a in allowlist)
    ]


_FILENAME_ALT = re.compile(r"(^|/)[^\s/]+\.(png|jpe?g|gif|svg|webp|pdf)$", re.IGNORECASE)


def is_meaningful_alt(alt: str | None, src: str = "") -> bool:
    """Alt text written by a person: not missing, not a file name or path, at least two words."""
    if alt is None:
        return False
    alt = alt.strip()
    if not alt or _FILENAME_ALT.search(alt) or alt == src or alt == Path(src).name:
        return False
    return len(alt.split()) >= 2 and len(alt) >= 8


ALT_HOWTO = (
    "give the figure alt text: in the notebook, set the cell metadata "
    '{"mystnb": {"image": {"alt": "What the figure shows"}}} (jupytext percent format: '
    '# %% mystnb={"image": {"alt": "..."}}); for a Markdown image use ![alt text](path) '
    "or the figure directive's :alt: option"
)


def check_images(report: PageReport) -> list[str]:
    """Every image loaded (naturalWidth > 0); every figure in the article has written alt text."""
    problems = []
    for img in report.images:
        if not img["complete"] or img["naturalWidth"] <= 0:
            problems.append(f"{report.url}: image {img['src']!r} did not load (naturalWidth 0)")
        if img["alt"] is None:
            problems.append(f"{report.url}: image {img['src']!r} has no alt attribute")
        elif img["inArticle"] and img["role"] != "presentation" and not is_meaningful_alt(img["alt"], img["src"]):
            problems.append(
                f"{report.url}: figure {img['src']!r} has alt text {img['alt']!r}, which is not a "
                f"description; {ALT_HOWTO}"
            )
    return problems


def check_launch_links(report: PageReport, page: TocPage, config: dict) -> list[str]:
    """A Colab link to this notebook on branch main of the repository, and a working .ipynb download."""
    problems = []
    want = expected_colab_url(page, config, branch="main")
    colab = [link["href"] for link in report.links if "colab.research.google.com" in link["href"]]
    if want not in colab:
        problems.append(f"{report.url}: no Colab launch link to {want} (found {colab or 'none'})")
    name = page.source.name
    downloads = [
        link["href"]
        for link in report.links
        if link["href"].split("?")[0].endswith("/" + name) and "download" in link["cls"]
    ]
    if not downloads:
        problems.append(f"{report.url}: no download link for {name}")
    for href in downloads:
        target = urllib.parse.urljoin(report.url, href)
        status, body = http_status(target)
        if status != 200:
            problems.append(f"{report.url}: the .ipynb download {target} answers {status}")
            continue
        try:
            nb = json.loads(body)
            assert isinstance(nb.get("cells"), list) and nb.get("nbformat") == 4
        except Exception:
            problems.append(f"{report.url}: the .ipynb download {target} is not a notebook")
            continue
        if page.source.exists() and body != page.source.read_bytes():
            problems.append(
                f"{report.url}: the .ipynb download differs from {page.source.relative_to(ROOT)}: "
                "the site was built from another version of the notebook (rebuild the book)"
            )
    return problems


def check_no_dead_controls(report: PageReport) -> list[str]:
    """No cell shows an interactive widget: on the website no kernel runs, so its controls do nothing.

    Passive widgets (a tqdm progress bar: HTML and progress models) are fine. Explorers belong in
    frame explorers (``course_utils.explorers``); live ones go in ``remove-cell`` cells.
    """
    return [
        f"{report.url}: cell {i} shows an interactive widget; the website has no kernel, so its "
        "controls do nothing (use course_utils.explorers.frame_explorer, and tag the live one remove-cell)"
        for i, c in enumerate(report.cells)
        if c["widget"]
    ]


def check_explorers_shown(report: PageReport, expected: int) -> list[str]:
    """The page shows ``expected`` frame explorers (from the notebook), each with frames, controls and an image."""
    problems = []
    if len(report.explorers) < expected:
        problems.append(
            f"{report.url}: the notebook displays {expected} frame explorer(s) but the page shows "
            f"{len(report.explorers)} (is _build/html older than the notebook, or did the cell fail?)"
        )
    for e in report.explorers:
        if e["frames"] < 2 or e["controls"] < 1:
            problems.append(f"{report.url}: explorer {e['id']} has {e['frames']} frames and {e['controls']} controls")
        if not e["loaded"] or not is_meaningful_alt(e["alt"]):
            problems.append(f"{report.url}: explorer {e['id']} shows no loaded image with alt text ({e['alt']!r})")
    return problems


# Move one control of one explorer and report what the reader then sees. Sliders are moved with the
# keyboard (as a reader would, firing input and change), drop-downs by choosing the next option.
_EXPLORER_STATE_JS = """
([id, j]) => {
  const e = document.getElementById(id);
  const c = e.querySelectorAll('[data-control]')[j];
  const img = e.querySelector('figure img');
  return {kind: c.tagName.toLowerCase() === 'select' ? 'select' : 'range', value: c.value,
          n: c.tagName.toLowerCase() === 'select' ? c.options.length : Number(c.max) + 1,
          src: img.getAttribute('src'), alt: img.getAttribute('alt'),
          caption: (e.querySelector('figcaption') || {}).textContent || ''};
}
"""
_IMAGE_READY_JS = """
async (id) => {
  const img = document.getElementById(id).querySelector('figure img');
  if (!img.complete) await new Promise(r => { img.onload = r; img.onerror = r; setTimeout(r, 3000); });
  return img.naturalWidth;
}
"""


def check_explorers_respond(page, url: str) -> list[str]:
    """On ``url``, every control of every frame explorer changes the image it shows.

    ``page`` is a Playwright page. Each control is moved one step (ArrowRight, or ArrowLeft at its
    end, for a slider; the next option for a drop-down) and back.
    """
    page.goto(url, wait_until="load", timeout=30_000)
    ids = page.eval_on_selector_all(f"article .{EXPLORER_CLASS}", "els => els.map(e => e.id)")
    problems = []
    for eid in ids:
        n_controls = page.eval_on_selector(f"#{eid}", "e => e.querySelectorAll('[data-control]').length")
        for j in range(n_controls):
            before = page.evaluate(_EXPLORER_STATE_JS, [eid, j])
            if before["n"] < 2:
                continue
            control = page.locator(f"#{eid} [data-control]").nth(j)
            if before["kind"] == "select":
                control.select_option(str((int(before["value"]) + 1) % before["n"]))
            else:
                control.focus()
                control.press("ArrowLeft" if int(before["value"]) == before["n"] - 1 else "ArrowRight")
            after = page.evaluate(_EXPLORER_STATE_JS, [eid, j])
            width = page.evaluate(_IMAGE_READY_JS, eid)
            where = f"{url}: explorer {eid}, control {j + 1} ({before['kind']})"
            if after["value"] == before["value"]:
                problems.append(f"{where}: the control did not move")
            elif after["src"] == before["src"]:
                problems.append(f"{where}: moving it did not change the image")
            elif not width:
                problems.append(f"{where}: the new image does not load")
            elif after["alt"] == before["alt"] and after["caption"] == before["caption"]:
                problems.append(f"{where}: the image changed but its alt text and caption did not")
            if before["kind"] == "select":
                control.select_option(before["value"])
            else:
                control.press("ArrowRight" if int(before["value"]) == before["n"] - 1 else "ArrowLeft")
    return problems


def check_solutions_folded(report: PageReport, expected: int) -> list[str]:
    """The page has one cell per solution of the notebook, each folded (closed toggle) on load."""
    cells = [i for i, c in enumerate(report.cells) if c.get("solution")]
    problems = []
    if len(cells) != expected:
        problems.append(
            f"{report.url}: the notebook has {expected} cell(s) tagged 'solution' but the page shows "
            f"{len(cells)} cell(s) with class tag_solution"
        )
    for i in cells:
        if not report.cells[i]["folded"]:
            problems.append(
                f"{report.url}: the solution in cell {i} is visible on load; it must sit folded in a "
                "closed toggle (tags 'solution' + 'hide-input')"
            )
    return problems


def check_solution_unfolds(page, url: str) -> list[str]:
    """Clicking the first solution's toggle shows its code (with the ``### BEGIN SOLUTION`` marker)."""
    page.goto(url, wait_until="load", timeout=30_000)
    cell = page.locator("div.cell.tag_solution").first
    if cell.count() == 0:
        return [f"{url}: no solution cell (div.cell.tag_solution) to unfold"]
    code = cell.locator(".cell_input")
    if code.is_visible():
        return [f"{url}: the first solution is already visible before its toggle is clicked"]
    cell.locator("summary").first.click()
    if not code.is_visible():
        return [f"{url}: clicking the toggle of the first solution does not show its code"]
    if "BEGIN SOLUTION" not in code.inner_text():
        return [f"{url}: the unfolded solution does not show the solution code"]
    return []


def check_math(report: PageReport) -> list[str]:
    """Every formula of the page is typeset by MathJax (no network needed) without a TeX error."""
    m = report.math
    if not m.get("formulas"):
        return []
    problems = []
    if not m.get("mathjax"):
        problems.append(f"{report.url}: {m['formulas']} formulas but MathJax did not load; readers see raw TeX")
    elif m.get("rendered", 0) < m["formulas"]:
        problems.append(f"{report.url}: only {m['rendered']} of {m['formulas']} formulas were typeset by MathJax")
    problems += [f"{report.url}: MathJax error in a formula: {e}" for e in m.get("errors", [])]
    return problems


def check_axe(report: PageReport, allowlist: list[Allowed] = AXE_ALLOWLIST) -> list[str]:
    """No serious or critical axe-core violation outside the allowlist."""
    problems = []
    for v in report.axe_violations:
        if v["impact"] not in {"serious", "critical"}:
            continue
        targets = [t for t in v["targets"] if not any(a.matches(v["id"], t) for a in allowlist)]
        if targets:
            shown = ", ".join(targets[:5]) + (" ..." if len(targets) > 5 else "")
            problems.append(f"{report.url}: axe {v['impact']} '{v['id']}' ({v['help']}) at {shown}")
    return problems


# --------------------------------------------------------------------------------------------
# Search
# --------------------------------------------------------------------------------------------
def search_results(page, base_url: str, query: str) -> list[str]:
    """Distinct page paths (site-relative, no anchor) the theme's search page lists for ``query``."""
    url = urllib.parse.urljoin(base_url, "search.html?" + urllib.parse.urlencode({"q": query}))
    page.goto(url, wait_until="load")
    page.wait_for_function(
        "() => { const s = document.querySelector('#search-results p.search-summary');"
        " return s && /Search finished|did not match/.test(s.innerText); }",
        timeout=20_000,
    )
    hrefs = page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(e => e.href)")
    pages = []
    for href in hrefs:
        path = urllib.parse.urlsplit(href).path.lstrip("/")
        if path not in pages:
            pages.append(path)
    return pages


def check_search(pages: list[str], query: str, expected_html: str, top: int = 3) -> list[str]:
    if expected_html in pages[:top]:
        return []
    return [f"search for {query!r}: {expected_html} is not among the first {top} results {pages[: top + 2]}"]


# --------------------------------------------------------------------------------------------
# Internal links: a crawler over the local server
# --------------------------------------------------------------------------------------------
class _LinkParser(HTMLParser):
    ATTRS = {"a": "href", "link": "href", "img": "src", "script": "src", "source": "src", "iframe": "src"}

    def __init__(self):
        super().__init__()
        self.refs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        ref = attrs.get(self.ATTRS.get(tag, ""))
        if ref:
            self.refs.append(ref)


def crawl_internal_links(base_url: str, start: list[str], fetch: Callable = http_status) -> list[str]:
    """Follow every internal href/src from ``start`` pages through the whole local site.

    Returns problems: internal URLs that do not answer 200 and ``#fragments`` missing on their page.
    """
    base = urllib.parse.urlsplit(base_url)
    todo = [(urllib.parse.urljoin(base_url, s), "the start list") for s in start]
    pages: dict[str, _LinkParser | None] = {}
    status: dict[str, int] = {}
    wanted: list[tuple[str, str, str]] = []  # (from page, target page, fragment)
    problems = []
    while todo:
        url, referrer = todo.pop()
        if url in pages:
            continue
        code, body = fetch(url)
        status[url] = code
        pages[url] = None
        if code != 200:
            problems.append(f"page {url} (linked from {referrer}) answers {code}")
            continue
        parser = _LinkParser()
        parser.feed(body.decode("utf-8", "replace"))
        pages[url] = parser
        for ref in parser.refs:
            absolute = urllib.parse.urljoin(url, ref)
            parts = urllib.parse.urlsplit(absolute)
            if parts.scheme not in {"http", "https"} or parts.netloc != base.netloc:
                continue  # external, mailto:, javascript:, data: ...
            target = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
            if parts.fragment and target.endswith(".html"):
                wanted.append((url, target, urllib.parse.unquote(parts.fragment)))
            if target.endswith((".html", "/")):
                if target not in pages:
                    todo.append((target, url))
            elif target not in status:
                status[target] = fetch(target)[0]
                if status[target] != 200:
                    problems.append(f"{ref!r} on {url} answers {status[target]}")
    for src, target, frag in wanted:
        parser = pages.get(target)
        if parser is not None and frag not in parser.ids:
            problems.append(f"link from {src} to {target}#{frag}: no element with id {frag!r}")
    return sorted(set(problems))


def external_links(site_dir: Path) -> dict[str, set[str]]:
    """External http(s) URLs in the built HTML, with the pages that use them."""
    found: dict[str, set[str]] = {}
    for path in sorted(site_dir.rglob("*.html")):
        if "_static" in path.parts or "_sources" in path.parts:
            continue
        parser = _LinkParser()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        for ref in parser.refs:
            if ref.startswith(("http://", "https://")):
                url = ref.split("#")[0]
                if "/issues/new?" in url:  # one "open an issue" link per page: check the form once
                    url = url.split("?")[0]
                found.setdefault(url, set()).add(str(path.relative_to(site_dir)))
    return found


# --------------------------------------------------------------------------------------------
# How the site was built: the intro's table and the lessons' weights notices (issue 14, item 6)
# --------------------------------------------------------------------------------------------
#: Rows every build table has, with the form of their value.
BUILD_TABLE_ROWS = {
    "Mode": r"(fast|full) \(COURSE_FAST=\w+\)|COURSE_FAST unset: .+",
    "Downloads": r"allowed|forbidden \(COURSE_OFFLINE=1\)",
    "Git commit": r"[0-9a-f]{12}( \(with uncommitted changes\))?",
    "Build date": r"\d{4}-\d\d-\d\d \d\d:\d\d UTC",
    "Device": r"(CPU|GPU) \(.+\)",
}
_WEIGHTS_PART = re.compile(r"^(?P<status>.+?) in lessons? (?P<lessons>\d+(, \d+)*)$")
_NOTICE_TITLE = re.compile(r"^No pretrained weights: (?P<names>.+) runs? with random weights$")


def build_table_weights(report: PageReport) -> dict[str, dict[int, str]]:
    """From the page's first build table: model -> {lesson number: "pretrained", "random" or "unknown"}."""
    weights: dict[str, dict[int, str]] = {}
    for label, value in (row for row in (report.build_tables or [[]])[0] if len(row) == 2):
        if not label.startswith("Weights: "):
            continue
        per_lesson = weights.setdefault(label.removeprefix("Weights: "), {})
        for part in value.split("; "):
            m = _WEIGHTS_PART.match(part)
            status = m and next((s for s in ("pretrained", "random", "unknown") if m["status"].startswith(s)), None)
            for n in m["lessons"].split(", ") if status else []:
                per_lesson[int(n)] = status
    return weights


def check_build_table(report: PageReport, lessons_loading_models: set[int]) -> list[str]:
    """One build table: each of BUILD_TABLE_ROWS once, in its form; a weights row per model, in words
    ("random weights in lessons 2, 3"), and every lesson that loads a pretrained model in one of them."""
    if len(report.build_tables) != 1:
        return [f"{report.url}: expected one 'How this site was built' table, found {len(report.build_tables)}"]
    rows = report.build_tables[0]
    problems = [f"{report.url}: build table row {row!r} does not have two cells" for row in rows if len(row) != 2]
    labels = [row[0] for row in rows if len(row) == 2]
    for label, form in BUILD_TABLE_ROWS.items():
        values = [row[1] for row in rows if len(row) == 2 and row[0] == label]
        if len(values) != 1:
            problems.append(f"{report.url}: build table: expected one row {label!r}, found {len(values)}")
        elif not re.fullmatch(form, values[0]):
            problems.append(f"{report.url}: build table: {label} is {values[0]!r}, expected the form {form!r}")
    weight_rows = [row for row in rows if len(row) == 2 and row[0].startswith("Weights: ")]
    for label, value in weight_rows:
        for part in value.split("; "):
            m = _WEIGHTS_PART.match(part)
            if not m or not m["status"].startswith(("pretrained", "random", "unknown")):
                problems.append(
                    f"{report.url}: build table: {label} says {part!r}, expected '<pretrained|random> weights in "
                    "lesson(s) N, ...'"
                )
    listed = {n for per_lesson in build_table_weights(report).values() for n in per_lesson}
    for n in sorted(lessons_loading_models - listed):
        problems.append(f"{report.url}: build table: lesson {n} loads a pretrained model but no weights row names it")
    unknown = [label for label in labels if label not in BUILD_TABLE_ROWS and not label.startswith("Weights: ")]
    problems += [f"{report.url}: build table: unexpected row {label!r}" for label in unknown]
    return problems


def check_weights_notice(report: PageReport, random_models: set[str]) -> list[str]:
    """A lesson shows one visible weights notice before its first section, naming exactly the models
    that ran with random weights and what the reader will not see; none when there are no such models."""
    if not random_models:
        return [
            f"{report.url}: shows a weights notice {n['title']!r}, but no model of this lesson ran with random weights"
            for n in report.notices
        ]
    if len(report.notices) != 1:
        return [
            f"{report.url}: expected one notice naming {sorted(random_models)} (random weights), "
            f"found {len(report.notices)}"
        ]
    notice, problems = report.notices[0], []
    m = _NOTICE_TITLE.match(notice["title"])
    named = set(m["names"].split(", ")) if m else set()
    if named != random_models:
        problems.append(
            f"{report.url}: the weights notice {notice['title']!r} should name {sorted(random_models)}, "
            f"the models that ran with random weights"
        )
    if "What you will NOT see:" not in notice["text"]:
        problems.append(f"{report.url}: the weights notice does not say what the reader will not see")
    if not notice["visible"]:
        problems.append(f"{report.url}: the weights notice is not visible")
    if not notice["top"]:
        problems.append(f"{report.url}: the weights notice is not at the top of the lesson (before its first section)")
    return problems
