"""The package map in CONTRIBUTING.md names every module of course_utils, and every module stays short."""

from __future__ import annotations

import pkgutil
import re
from pathlib import Path

import course_utils

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 450


def _modules() -> list[str]:
    return sorted(m.name.split(".", 1)[1] for m in pkgutil.walk_packages(course_utils.__path__, "course_utils."))


def _map_rows() -> str:
    text = (ROOT / "CONTRIBUTING.md").read_text()
    start = text.index("### Package map")
    return text[start : text.index("\n## ", start)]


def test_every_module_is_in_the_package_map():
    rows = _map_rows()
    missing = []
    for name in _modules():
        top, _, sub = name.partition(".")
        row = next((line for line in rows.splitlines() if line.startswith(f"| `{top}` |")), None)
        if row is None or (sub and f"`{sub}`" not in row):
            missing.append(name)
    assert not missing, f"CONTRIBUTING.md's package map does not name: {missing}"


def test_the_package_map_names_no_module_that_is_gone():
    tops = {m.split(".")[0] for m in _modules()}
    named = set(re.findall(r"^\| `(\w+)` \|", _map_rows(), flags=re.M))
    assert named <= tops, f"the map names modules that do not exist: {sorted(named - tops)}"


def test_no_module_is_longer_than_450_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / "course_utils").rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_every_public_module_has_a_docstring_and_an_all():
    import importlib

    for name in _modules():
        mod = importlib.import_module(f"course_utils.{name}")
        assert (mod.__doc__ or "").strip(), f"course_utils.{name} has no module docstring"
        is_package = hasattr(mod, "__path__")
        if not name.split(".")[-1].startswith("_") and not is_package:
            assert hasattr(mod, "__all__"), f"course_utils.{name} has no __all__"
