"""Build student, instructor and live-coding versions of the lesson notebooks from one source.

Convention (documented in the book's "For instructors" page and in CONTRIBUTING.md):

* an exercise starts with a Markdown cell whose heading begins ``### Exercise N.k``;
* its solution is a code cell tagged ``solution``; the answer sits between the lines
  ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (the nbgrader markers). A Markdown cell tagged
  ``solution`` is a written answer and is withheld as a whole;
* a cell tagged ``check`` is a public check (kept for students); ``hidden-check`` cells are for
  grading (instructor version only);
* cells tagged ``live`` are typed by the instructor in class: the live version keeps their leading
  comment lines (what to write) and empties the rest.

Command line::

    python -m course_utils.assign build --out dist/      # dist/{student,instructor,live}/*.ipynb
    python -m course_utils.assign check                  # validate the convention in every lesson
    python -m course_utils.assign grade SUBMISSIONS... --lesson NN --out grades/   # see course_utils.grading
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BEGIN",
    "END",
    "Exercise",
    "exercises",
    "problems",
    "student_version",
    "instructor_version",
    "live_version",
    "fill_student",
    "solution_lines",
    "colab_url",
    "build",
    "main",
]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
TAG_SOLUTION, TAG_CHECK, TAG_HIDDEN, TAG_LIVE = "solution", "check", "hidden-check", "live"
_EXERCISE_RE = re.compile(r"^#{2,4}\s*Exercise\s+([0-9]+(?:\.[0-9]+)*)", re.M)
STUDENT_MARKDOWN = "*Write your answer here.*"


def _src(cell: dict) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _set_tags(cell: dict, tags: Iterable[str]) -> None:
    tags = list(tags)
    md = cell.setdefault("metadata", {})
    if tags:
        md["tags"] = tags
    else:
        md.pop("tags", None)


def _load(nb_or_path) -> dict:
    if isinstance(nb_or_path, (str, Path)):
        return json.loads(Path(nb_or_path).read_text(encoding="utf-8"))
    if isinstance(nb_or_path, dict) and "cells" in nb_or_path:
        return nb_or_path
    raise TypeError(f"nb: expected a notebook dict or a path to an .ipynb file, got {type(nb_or_path).__name__}")


@dataclass(frozen=True)
class Exercise:
    """One exercise: its name ("Exercise 1.1") and the indices of its cells."""

    name: str
    heading: int
    solutions: tuple[int, ...]
    checks: tuple[int, ...]
    hidden_checks: tuple[int, ...]


def exercises(nb) -> list[Exercise]:
    """The exercises of a notebook, each with the solution/check cells that follow its heading."""
    nb = _load(nb)
    found: list[dict] = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown" and TAG_SOLUTION not in _tags(cell):
            m = _EXERCISE_RE.search(_src(cell))
            if m:
                found.append({"name": f"Exercise {m.group(1)}", "heading": i, "s": [], "c": [], "h": []})
                continue
        if not found:
            continue
        tags = _tags(cell)
        if TAG_SOLUTION in tags:
            found[-1]["s"].append(i)
        if TAG_CHECK in tags:
            found[-1]["c"].append(i)
        if TAG_HIDDEN in tags:
            found[-1]["h"].append(i)
    return [Exercise(f["name"], f["heading"], tuple(f["s"]), tuple(f["c"]), tuple(f["h"])) for f in found]


def problems(nb) -> list[str]:
    """Ways a notebook breaks the convention (empty list when it follows it)."""
    nb = _load(nb)
    out = []
    for i, cell in enumerate(nb["cells"]):
        tags, src = _tags(cell), _src(cell)
        if cell["cell_type"] == "code" and TAG_SOLUTION in tags:
            nb_, ne = src.count(BEGIN), src.count(END)
            if nb_ == 0 or nb_ != ne:
                out.append(f"cell {i}: solution cell needs matching '{BEGIN}' / '{END}' lines (found {nb_} and {ne})")
            elif src.index(BEGIN) > src.rindex(END):
                out.append(f"cell {i}: '{END}' comes before '{BEGIN}'")
            elif any(ln.startswith(BEGIN) for ln in src.split("\n")):
                out.append(
                    f"cell {i}: put the solution inside a function (indented '{BEGIN}'), so the student "
                    "stub raises NotImplementedError only when called and the notebook still runs"
                )
            if "hide-input" not in tags and "hide-cell" not in tags:
                out.append(f"cell {i}: solution cell should also be tagged 'hide-input' so the website folds it")
        elif cell["cell_type"] == "code" and (BEGIN in src or END in src):
            out.append(f"cell {i}: has solution markers but is not tagged '{TAG_SOLUTION}'")
        if TAG_HIDDEN in tags and "remove-cell" not in tags:
            out.append(f"cell {i}: hidden-check cell should also be tagged 'remove-cell' (not shown on the website)")
    for ex in exercises(nb):
        if not ex.solutions:
            out.append(f"{ex.name}: no cell tagged '{TAG_SOLUTION}' after its heading")
        if not ex.checks:
            out.append(f"{ex.name}: no cell tagged '{TAG_CHECK}' after its heading")
    return out


def _stub_region(src: str, name: str) -> str:
    """Replace every BEGIN..END region of ``src`` by an indented NotImplementedError stub."""
    lines = src.split("\n")
    out, inside = [], False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(BEGIN):
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}# YOUR CODE HERE ({name})")
            out.append(f'{indent}raise NotImplementedError("{name}: replace this line with your code")')
            continue
        if stripped.startswith(END):
            inside = False
            continue
        if not inside:
            out.append(line)
    return "\n".join(out)


def _exercise_of(nb: dict) -> dict[int, str]:
    owner = {}
    for ex in exercises(nb):
        for i in ex.solutions + ex.checks + ex.hidden_checks:
            owner[i] = ex.name
    return owner


def _clean(cell: dict) -> dict:
    cell = copy.deepcopy(cell)
    if cell["cell_type"] == "code":
        cell["outputs"], cell["execution_count"] = [], None
    return cell


def student_version(nb) -> dict:
    """Solutions replaced by stubs, written answers withheld, hidden checks removed, public checks kept."""
    nb = copy.deepcopy(_load(nb))
    owner = _exercise_of(nb)
    cells = []
    for i, cell in enumerate(nb["cells"]):
        tags = _tags(cell)
        if TAG_HIDDEN in tags:
            continue
        cell = _clean(cell)
        if TAG_SOLUTION in tags:
            name = owner.get(i, "Exercise")
            if cell["cell_type"] == "code":
                cell["source"] = _stub_region(_src(cell), name)
            else:
                cell["source"] = f"**{name}, your answer:** {STUDENT_MARKDOWN}"
            _set_tags(cell, [t for t in tags if t not in (TAG_SOLUTION, "hide-input", "hide-cell")] + ["exercise"])
        cells.append(cell)
    nb["cells"] = cells
    nb.setdefault("metadata", {})["course_version"] = "student"
    return nb


def instructor_version(nb) -> dict:
    """Everything, hidden checks included; outputs cleared."""
    nb = copy.deepcopy(_load(nb))
    nb["cells"] = [_clean(c) for c in nb["cells"]]
    nb.setdefault("metadata", {})["course_version"] = "instructor"
    return nb


def live_version(nb) -> dict:
    """The live-coding version of a lesson.

    Cells tagged ``live`` keep only their leading comments (what to type); solutions become student
    stubs; imports, data loading and plotting cells stay intact.
    """
    nb = student_version(nb)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and TAG_LIVE in _tags(cell):
            lines = _src(cell).split("\n")
            head = []
            for line in lines:
                if line.strip().startswith("#") or not line.strip():
                    head.append(line)
                else:
                    break
            head = [h for h in head if h.strip()] or ["# (type this cell live)"]
            cell["source"] = "\n".join(head + ["# ... type it here ..."])
    nb["metadata"]["course_version"] = "live"
    return nb


def fill_student(student, source) -> dict:
    """Put the source's solutions back into a student notebook (the round trip of the convention)."""
    student, source = copy.deepcopy(_load(student)), _load(source)
    kept = [c for c in source["cells"] if TAG_HIDDEN not in _tags(c)]
    if len(kept) != len(student["cells"]):
        raise ValueError(f"student: expected {len(kept)} cells to match the source, got {len(student['cells'])}")
    for cell, ref in zip(student["cells"], kept):
        if TAG_SOLUTION in _tags(ref):
            cell["source"] = _src(ref)
            _set_tags(cell, _tags(ref))
    return student


def solution_lines(nb) -> list[str]:
    """The non-trivial lines of every solution (what must never leak into a student version)."""
    nb = _load(nb)
    lines = []
    for cell in nb["cells"]:
        if TAG_SOLUTION not in _tags(cell):
            continue
        src = _src(cell)
        if cell["cell_type"] == "markdown":
            lines += [ln.strip() for ln in src.split("\n") if len(ln.strip()) > 12]
            continue
        inside = False
        for ln in src.split("\n"):
            s = ln.strip()
            if s.startswith(BEGIN):
                inside = True
            elif s.startswith(END):
                inside = False
            elif inside and len(s) > 12 and not s.startswith("#"):
                lines.append(s)
    return lines


def colab_url(repo_url: str, path: str, branch: str = "main") -> str:
    """Colab link for a notebook at ``path`` of a GitHub repository on ``branch``."""
    m = re.match(r"https?://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?$", repo_url)
    if not m:
        raise ValueError(f"repo_url: expected https://github.com/OWNER/REPO, got {repo_url!r}")
    return f"https://colab.research.google.com/github/{m.group(1)}/{m.group(2)}/blob/{branch}/{path.lstrip('/')}"


def _write(nb: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _repo_url(root: Path) -> str:
    import yaml

    return yaml.safe_load((root / "_config.yml").read_text())["repository"]["url"]


def build(notebooks: Iterable[Path], out: Path, repo_url: str, branch: str = "student") -> dict[str, list[Path]]:
    """Write the student, instructor and live versions of every notebook.

    Writes ``out/{student,instructor,live}/NAME.ipynb`` and ``out/README.md`` with the Colab links
    of the student versions (published on ``branch``).
    """
    out = Path(out)
    written: dict[str, list[Path]] = {"student": [], "instructor": [], "live": []}
    links = []
    for path in sorted(Path(p) for p in notebooks):
        bad = problems(path)
        if bad:
            raise ValueError(f"{path}: does not follow the exercise convention:\n  " + "\n  ".join(bad))
        src = _load(path)
        for kind, fn in (("student", student_version), ("instructor", instructor_version), ("live", live_version)):
            target = out / kind / path.name
            _write(fn(src), target)
            written[kind].append(target)
        n = len(exercises(src))
        links.append(f"| {path.stem} | {n} | [open in Colab]({colab_url(repo_url, f'student/{path.name}', branch)}) |")
    readme = [
        "# Course notebooks: student, instructor and live-coding versions",
        "",
        f"Built by `python -m course_utils.assign build --out {out}`. Publish `student/` on the branch",
        f"`{branch}` of {repo_url} (for example `git subtree push --prefix {out}/student origin {branch}`",
        "after committing it there) and the links below open the student versions in Colab.",
        "",
        "| lesson | exercises | student version |",
        "|---|---|---|",
        *links,
        "",
    ]
    (out / "README.md").write_text("\n".join(readme), encoding="utf-8")
    return written


def main(argv: list[str] | None = None) -> int:
    """The command line (``build``, ``check``, ``grade``); returns the exit status."""
    root = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(prog="python -m course_utils.assign", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="write student, instructor and live-coding versions")
    b.add_argument("--out", type=Path, default=root / "dist")
    b.add_argument("--branch", default="student", help="branch where the student versions are published")
    b.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook in notebooks/")
    c = sub.add_parser("check", help="report notebooks that break the exercise convention")
    c.add_argument("notebooks", nargs="*", type=Path)
    from . import grading

    g = sub.add_parser(
        "grade",
        help="grade submitted notebooks with the hidden checks (runs their code!)",
        description=grading.__doc__.split("\n")[0] + "\n\n" + grading.WARNING,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    grading.add_arguments(g)
    args = parser.parse_args(argv)
    if args.cmd == "grade":
        return grading.run_cli(args, root)
    nbs = args.notebooks or sorted((root / "notebooks").glob("*.ipynb"))
    if args.cmd == "check":
        bad = {str(p): problems(p) for p in nbs}
        for p, msgs in bad.items():
            for m in msgs:
                print(f"{p}: {m}")
        print(f"{sum(map(len, bad.values()))} problem(s) in {len(nbs)} notebook(s)")
        return 1 if any(bad.values()) else 0
    written = build(nbs, args.out, _repo_url(root), args.branch)
    for kind, paths in written.items():
        print(f"{kind:>10}: {len(paths)} notebooks in {args.out / kind}")
    print(f"Colab links: {args.out / 'README.md'}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
