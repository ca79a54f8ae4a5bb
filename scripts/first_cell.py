"""The Colab set-up cell every lesson starts with: one template, written into or checked in every notebook.

    python scripts/first_cell.py --check    # exit 1 and name the notebooks whose first cell differs
    python scripts/first_cell.py --write    # put the template (with _config.yml's repository URL) in place

On Colab the cell installs ``course_utils`` from the course repository, or, when it is already
installed (a rerun in a running runtime, where pip would see the unchanged version 0.1.0 and do
nothing), replaces it with ``--force-reinstall --no-deps``: only the course package, never torch,
torchvision, numpy or ipywidgets. It prints the commit it installed. Elsewhere it does nothing.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TEMPLATE = """# Colab set-up: on Google Colab this installs (or refreshes) course_utils from the course repository.
# torch, torchvision, numpy and ipywidgets come with Colab and are never reinstalled. Elsewhere it does nothing.
import sys

REPO_URL = "{url}"
if "google.colab" in sys.modules:
    import json
    import subprocess
    from importlib import metadata

    try:
        metadata.version("course_utils")
        refresh = ["--force-reinstall", "--no-deps"]  # installed before: replace it by main's, nothing else
    except metadata.PackageNotFoundError:
        refresh = []  # first install: pip adds only what Colab lacks
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", *refresh, f"git+{{REPO_URL}}@main"], check=True)
    direct = json.loads(metadata.distribution("course_utils").read_text("direct_url.json") or "{{}}")
    commit = direct.get("vcs_info", {{}}).get("commit_id", "unknown")
    print(f"course_utils installed from {{REPO_URL}} at commit {{commit[:12]}}")
    if "course_utils" in sys.modules:
        print("course_utils was imported before this install: use Runtime > Restart session, then run on.")
    from google.colab import output

    output.enable_custom_widget_manager()"""


def repository_url(root: Path = ROOT) -> str:
    """The ``repository: url`` of ``_config.yml``."""
    match = re.search(r"^repository:\s*\n(?:\s+.*\n)*?\s+url:\s*(\S+)", (root / "_config.yml").read_text(), re.M)
    if not match:
        raise SystemExit("_config.yml has no repository: url:")
    return match.group(1).strip("\"'")


def cell_source(root: Path = ROOT) -> str:
    """The first cell's source, with the repository URL of ``_config.yml``."""
    return TEMPLATE.format(url=repository_url(root))


def notebooks(root: Path = ROOT) -> list[Path]:
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def differing(root: Path = ROOT) -> list[Path]:
    """Notebooks whose first cell is not the template."""
    want = cell_source(root)
    return [p for p in notebooks(root) if "".join(json.loads(p.read_text())["cells"][0]["source"]) != want]


def write(root: Path = ROOT) -> list[Path]:
    """Put the template into every notebook's first cell; returns the notebooks changed."""
    lines = cell_source(root).split("\n")
    source = [line + "\n" for line in lines[:-1]] + [lines[-1]]
    changed = differing(root)
    for path in changed:
        nb = json.loads(path.read_text())
        nb["cells"][0]["source"] = source
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--check", action="store_true", help="exit 1 if a notebook's first cell differs")
    group.add_argument("--write", action="store_true", help="write the template into every notebook")
    args = parser.parse_args(argv)
    if args.write:
        for path in write():
            print(f"updated {path.relative_to(ROOT)}")
        return 0
    bad = differing()
    for path in bad:
        print(f"{path.relative_to(ROOT)}: first cell differs from scripts/first_cell.py (run it with --write)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
