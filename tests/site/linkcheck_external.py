"""Check the external links of the built site (needs the internet; never part of `make test`).

Usage: ``python tests/site/linkcheck_external.py [--timeout 15] [--site _build/html]``
(`make linkcheck-external`). Collects every http(s) href/src in the built pages, asks each URL
once (HEAD, then GET where HEAD is refused), prints one line per URL and a summary, and exits 1
when a link is broken (the Makefile target ignores the exit status: the report is informative).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import sys
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sitecheck  # noqa: E402

# Links that are expected not to answer 200 to a robot, with the reason.
SKIP = {
    "https://colab.research.google.com/": "Colab answers robots inconsistently; the launch URL "
    "itself is checked by the site tests (it must name the notebook on branch main).",
}
USER_AGENT = "Mozilla/5.0 (course linkcheck; +https://github.com/open-seg-course/segmentation-course)"


def check(url: str, timeout: float) -> tuple[str, str]:
    for method in ("HEAD", "GET"):
        req = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return "ok", f"{resp.status}"
        except urllib.error.HTTPError as err:
            if method == "HEAD" and err.code in {403, 405, 501}:
                continue
            return "broken", f"HTTP {err.code}"
        except Exception as err:  # noqa: BLE001 - report any network failure
            return "broken", f"{type(err).__name__}: {err}"
    return "broken", "no answer"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=sitecheck.SITE_DIR)
    parser.add_argument("--timeout", type=float, default=15)
    args = parser.parse_args(argv)
    if not (args.site / "index.html").exists():
        print(f"{args.site}/index.html is missing: build the book first", file=sys.stderr)
        return 2
    links = sitecheck.external_links(args.site)
    todo = {u: p for u, p in links.items() if not any(u.startswith(s) for s in SKIP)}
    broken = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        results = dict(zip(todo, pool.map(lambda u: check(u, args.timeout), todo)))
    for url in sorted(results):
        state, detail = results[url]
        broken += state == "broken"
        pages = ", ".join(sorted(todo[url])[:3]) + (" ..." if len(todo[url]) > 3 else "")
        print(f"{state:6} {detail:>10}  {url}  (on {pages})")
    for prefix, reason in SKIP.items():
        n = sum(u.startswith(prefix) for u in links)
        print(f"skipped {n} links starting with {prefix}: {reason}")
    print(f"{len(results)} external links checked, {broken} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
