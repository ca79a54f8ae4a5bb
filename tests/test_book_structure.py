"""The book, its configuration and its notebooks stay consistent with each other."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [ch["file"] for ch in part.get("chapters", [])]
    return files


def _config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def _code_cells(path: Path) -> list[dict]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def test_there_are_seven_lessons_numbered_in_order():
    names = [p.stem for p in NOTEBOOKS]
    assert len(names) == 7, names
    assert [n[:3] for n in names] == [f"{i:02d}_" for i in range(1, 8)]


def test_every_notebook_is_in_the_toc_and_every_toc_entry_exists():
    toc = _toc_files()
    for nb in NOTEBOOKS:
        assert f"notebooks/{nb.stem}" in toc, f"{nb.name} is missing from _toc.yml"
    for entry in toc:
        matches = list(ROOT.glob(entry + ".*"))
        assert matches, f"_toc.yml lists {entry!r}, which does not exist"


def test_toc_lists_lessons_in_course_order():
    lessons = [f for f in _toc_files() if f.startswith("notebooks/")]
    assert lessons == sorted(lessons)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path: Path):
    dirty = [i for i, c in enumerate(_code_cells(path)) if c.get("outputs") or c.get("execution_count")]
    assert not dirty, f"{path.name}: code cells {dirty} keep outputs; strip them (jupyter nbconvert --clear-output)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_cell_installs_course_utils_only_on_colab_from_the_configured_repo(path: Path):
    first = "".join(_code_cells(path)[0]["source"])
    url = _config()["repository"]["url"]
    assert f'REPO_URL = "{url}"' in first, f"{path.name}: first cell must use REPO_URL = {url!r}"
    assert 'if "google.colab" in sys.modules:' in first
    assert "enable_custom_widget_manager" in first
    assert not re.search(r"install[^\n]*\btorch(vision)?\b", first), "never reinstall torch on Colab"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_says_mode_and_device_near_the_top(path: Path):
    head = "".join("".join(c["source"]) for c in _code_cells(path)[:3])
    assert "runtime.describe(" in head, f"{path.name}: call runtime.describe(...) in one of the first 3 code cells"


def test_config_has_colab_launch_main_branch_and_keeps_theme_options():
    cfg = _config()
    assert cfg["repository"]["branch"] == "main"
    assert cfg["launch_buttons"]["colab_url"].startswith("https://colab.research.google.com")
    assert cfg["sphinx"]["recursive_update"] is True
    assert cfg["execute"]["allow_errors"] is False
    assert cfg["execute"]["timeout"] > 0


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^\s*-?\s*([A-Za-z0-9_.\-]+)==([^\s#]+)", line)
        if m:
            pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


def test_environment_yml_matches_the_constraints_file():
    env_text = (ROOT / "environment.yml").read_text()
    env = _pins(ROOT / "environment.yml")
    lock = _pins(ROOT / "requirements" / "constraints.txt")
    assert env, "environment.yml pins nothing"
    for name, version in env.items():
        assert lock.get(name) == version, (
            f"environment.yml pins {name}=={version}, constraints.txt has {lock.get(name)}"
        )
    assert "-c requirements/constraints.txt" in env_text
    assert "-e .[book,test]" in env_text


def test_pyproject_is_loose_enough_for_colab():
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    by_name = {re.split(r"[<>=!~ ]", d, maxsplit=1)[0].lower(): d for d in deps}
    for pinned in ("torch", "torchvision"):
        assert "<" not in by_name[pinned] and "==" not in by_name[pinned], by_name[pinned]
    assert by_name["ipywidgets"].replace(" ", "") == "ipywidgets>=7.7,<9"
    assert not any("==" in d for d in deps), "exact pins belong in requirements/constraints.txt"


def test_constraints_satisfy_the_bounds_of_pyproject():
    """Every dependency (core and extras) is pinned in constraints.txt at a version its bounds allow."""
    import tomllib
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(d) for d in project["dependencies"]]
    reqs += [Requirement(d) for extra in project["optional-dependencies"].values() for d in extra]
    lock = {canonicalize_name(k): v for k, v in _pins(ROOT / "requirements" / "constraints.txt").items()}
    for req in reqs:
        name = canonicalize_name(req.name)
        assert name in lock, f"{req.name} is a dependency but constraints.txt does not pin it"
        assert req.specifier.contains(lock[name], prereleases=True), (
            f"constraints.txt pins {req.name}=={lock[name]}, outside pyproject's bounds {req.specifier}"
        )


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make book" in readme
    assert re.search(r"^make test$", ci, re.M)


def test_instructors_timing_table_has_a_measured_fast_time_for_every_lesson():
    """book/_lesson_timings.md is generated by scripts/lesson_timings.py from a test run; a lesson
    added without re-running it would be missing here."""
    import re

    table = (ROOT / "book" / "_lesson_timings.md").read_text()
    for path in NOTEBOOKS:
        row = next((line for line in table.splitlines() if f"`{path.name}`" in line), None)
        assert row is not None, f"{path.name} is missing from book/_lesson_timings.md; run scripts/lesson_timings.py"
        fast = row.split("|")[2].strip()
        assert re.fullmatch(r"\d+", fast), f"{path.name}: no measured fast-mode time in {row!r}"
