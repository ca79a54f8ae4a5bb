"""Run lessons the way a Google Colab user does, in a fresh environment with Colab's package versions.

    python tests/colab/run_colab_like.py [--lessons 01 07] [--keep DIR]

1. A new virtual environment gets the versions of ``tests/colab/requirements.txt`` (Colab's numpy,
   scikit-learn, scikit-image, matplotlib, ipywidgets ...) and this machine's torch and torchvision,
   linked in rather than installed (as on Colab, they are there before the course is).
2. A stand-in ``google.colab`` module, imported at start-up, records ``enable_custom_widget_manager()``.
3. Each lesson is copied into an empty folder outside the repository, with its first cell's
   ``REPO_URL`` pointed at a local clone of the repository (committed state, branch ``main``),
   and executed top to bottom with ``COURSE_FAST`` unset and ``COURSE_OFFLINE=1``: the first
   cell's own pip command installs ``course_utils``, as on Colab.
4. It checks that the install added only ``course_utils``, that the widget manager was enabled,
   that every cell ran, and that a lesson whose full mode needs a GPU chose its fast configuration.

Exit status 0 when every check passes; it prints what it measured (seconds per step).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

STAND_IN = '''"""Stand-in for Colab's google.colab: records what a notebook asks of it."""
import os


class _Output:
    def enable_custom_widget_manager(self):
        with open(os.environ["COLAB_LIKE_RECORD"], "a") as f:
            f.write("enable_custom_widget_manager\\n")


output = _Output()
'''


def _closure(names: list[str]) -> set[str]:
    """The distributions ``names`` need, recursively, in the environment running this script."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        key = dist.metadata["Name"].lower().replace("_", "-")
        if key in seen:
            continue
        seen.add(key)
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return seen


def _link_torch(site: Path) -> list[str]:
    """Symlink torch, torchvision and what they need (but not numpy) into ``site``."""
    linked = []
    # the CUDA libraries come through extras of torch's requirements: take every one that is installed
    cuda = {
        d.metadata["Name"].lower()
        for d in metadata.distributions()
        if d.metadata["Name"].lower().startswith(("nvidia-", "cuda-"))
    }
    for key in sorted((_closure(["torch", "torchvision"]) | cuda) - {"numpy", "pillow"}):
        dist = metadata.distribution(key)
        top = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        base = Path(dist.locate_file(""))
        for entry in top:
            src, dst = base / entry, site / entry
            if src.exists() and not dst.exists():
                dst.symlink_to(src)
        linked.append(key)
    return linked


def _pip_list(python: Path) -> dict[str, str]:
    out = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json"], capture_output=True, text=True, check=True
    )
    return {p["name"].lower().replace("_", "-"): p["version"] for p in json.loads(out.stdout)}


def _lesson(stem_prefix: str) -> Path:
    found = sorted((ROOT / "notebooks").glob(f"{stem_prefix}_*.ipynb"))
    if not found:
        raise SystemExit(f"--lessons: no notebook notebooks/{stem_prefix}_*.ipynb")
    return found[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lessons", nargs="+", default=["01", "07"], help="lesson numbers (default: 01 07)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    args = parser.parse_args(argv)
    work = Path(args.keep or tempfile.mkdtemp(prefix="colab-like-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    timings, problems = {}, []
    try:
        t0 = time.perf_counter()
        venv = work / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        python = venv / "bin" / "python"
        site = Path(
            subprocess.run(
                [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "-r",
                str(HERE / "requirements.txt"),
            ],
            check=True,
        )
        linked = _link_torch(site)
        (site / "google").mkdir(exist_ok=True)
        (site / "google" / "colab.py").write_text(STAND_IN)
        (site / "colab_like_startup.pth").write_text("import google.colab\n")
        timings["environment"] = time.perf_counter() - t0
        print(f"environment ready in {timings['environment']:.0f} s; linked: {', '.join(linked)}")

        repo = work / "repo"
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
        subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
        subprocess.run(["git", "-C", str(repo), "checkout", "-q", "-B", "main", head.stdout.strip()], check=True)
        before = _pip_list(python)
        record = work / "colab-record.txt"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("COURSE_", "VIRTUAL_ENV", "PYTHON"))}
        env.update(COURSE_OFFLINE="1", COLAB_LIKE_RECORD=str(record), PATH=f"{venv / 'bin'}:{env.get('PATH', '')}")
        config_url = next(
            line.split("url:", 1)[1].strip()
            for line in (ROOT / "_config.yml").read_text().splitlines()
            if "url:" in line
        )

        for number in args.lessons:
            source = _lesson(number)
            folder = work / f"lesson-{number}"
            folder.mkdir()
            nb = json.loads(source.read_text())
            first = "".join(nb["cells"][0]["source"])
            if f'REPO_URL = "{config_url}"' not in first:
                problems.append(f"{source.name}: the first cell does not set REPO_URL = {config_url!r}")
                continue
            nb["cells"][0]["source"] = first.replace(f'REPO_URL = "{config_url}"', f'REPO_URL = "file://{repo}"')
            (folder / source.name).write_text(json.dumps(nb))
            runner = (
                "import nbformat, sys\nfrom nbclient import NotebookClient\n"
                f"nb = nbformat.read({source.name!r}, 4)\n"
                "NotebookClient(nb, timeout=1200, kernel_name='python3').execute()\n"
                f"nbformat.write(nb, 'executed-' + {source.name!r})\n"
            )
            t1 = time.perf_counter()
            result = subprocess.run([str(python), "-c", runner], cwd=folder, env=env, capture_output=True, text=True)
            timings[source.stem] = time.perf_counter() - t1
            if result.returncode != 0:
                problems.append(f"{source.name} did not run top to bottom:\n{result.stderr[-3000:]}")
                continue
            executed = json.loads((folder / f"executed-{source.name}").read_text())
            text = "".join(
                "".join(o.get("text", ""))
                for c in executed["cells"]
                if c["cell_type"] == "code"
                for o in c.get("outputs", [])
            )
            if "course_utils installed from file://" not in text:
                problems.append(f"{source.name}: the first cell did not report the commit it installed")
            if number == "07" and "running the FAST configuration" not in text:
                problems.append("lesson 7 with COURSE_FAST unset on a CPU did not choose its fast configuration")
            print(f"{source.name}: ran top to bottom in {timings[source.stem]:.0f} s")

        after = _pip_list(python)
        added = {k: v for k, v in after.items() if before.get(k) != v}
        if set(added) != {"course-utils"}:
            problems.append(f"the first cell's install changed more than course_utils: {added}")
        calls = record.read_text().split() if record.exists() else []
        if calls.count("enable_custom_widget_manager") < len(args.lessons):
            problems.append(
                f"enable_custom_widget_manager was called {len(calls)} times for {len(args.lessons)} lessons"
            )
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({k: round(v, 1) for k, v in timings.items()}))
    for p in problems:
        print("PROBLEM:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
