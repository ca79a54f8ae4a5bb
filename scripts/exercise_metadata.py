"""Add the exercise metadata the grader matches on to the lesson notebooks (idempotent).

Usage (from the repository root)::

    python scripts/exercise_metadata.py                 # every notebooks/*.ipynb, rewritten in place
    python scripts/exercise_metadata.py --check         # exit 1 if a notebook lacks (or has stale) metadata
    python scripts/exercise_metadata.py notebooks/01_pixels_as_points.ipynb

Convention (see book/instructors.md): the Markdown heading cell ``### Exercise N.k ...`` carries
``"exercise": {"id": "N.k", "points": P}`` (P kept when already set, else 1); every following cell
up to the next Markdown heading (or the next exercise) carries ``"exercise": {"id": "N.k"}``, so
the solution, public check and hidden-check cells are matched to their exercise by id, never by
position. Cells outside every exercise lose a stale ``exercise`` entry. Nothing else changes: cell
ids, tags, sources and the file's JSON layout are kept.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_utils import assign  # noqa: E402

_HEADING_RE = re.compile(r"^#{1,6}\s", re.MULTILINE)


def with_metadata(nb: dict) -> dict:
    """A copy of ``nb`` with the exercise metadata on every exercise cell.

    Args:
        nb: a notebook dict (as read from the ``.ipynb`` JSON).

    Returns:
        The new notebook; ``with_metadata(with_metadata(nb)) == with_metadata(nb)``.
    """
    nb = copy.deepcopy(nb)
    current = None
    for cell in nb["cells"]:
        md = cell.setdefault("metadata", {})
        if cell["cell_type"] == "markdown" and "solution" not in assign._tags(cell):
            src = assign._src(cell)
            m = assign._EXERCISE_RE.search(src)
            if m:
                current = m.group(1)
                old = md.get("exercise") if isinstance(md.get("exercise"), dict) else {}
                points = old.get("points", 1) if old.get("id") == current else 1
                md["exercise"] = {"id": current, "points": points}
                cell["metadata"] = dict(sorted(md.items()))  # the key order Jupyter writes
                continue
            if _HEADING_RE.search(src):
                current = None
        if current is None:
            md.pop("exercise", None)
        else:
            md["exercise"] = {"id": current}
            cell["metadata"] = dict(sorted(md.items()))
    return nb


def _dump(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook would change")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    stale = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        new = _dump(with_metadata(json.loads(text)))
        if new != text:
            stale.append(path)
            if not args.check:
                path.write_text(new, encoding="utf-8")
        n = len(assign.exercises(json.loads(new)))
        status = ("needs metadata" if args.check else "updated") if new != text else "unchanged"
        print(f"{path.name}: {n} exercises, {status}")
    if args.check and stale:
        print(f"{len(stale)} notebook(s) lack exercise metadata: run python scripts/exercise_metadata.py")
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
