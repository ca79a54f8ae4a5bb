"""The Colab set-up cell: one template in every lesson, and what it does on a (stand-in) Colab (issue 19)."""

import json
import subprocess
import sys
import types
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import first_cell  # noqa: E402


def test_every_lesson_starts_with_the_template():
    assert first_cell.notebooks(), "no lessons found"
    assert first_cell.differing() == [], "run python scripts/first_cell.py --write"
    assert first_cell.main(["--check"]) == 0


def _run_on_stand_in_colab(monkeypatch, installed: bool) -> tuple[list, list, str]:
    calls, widgets = [], []
    colab = types.ModuleType("google.colab")
    colab.output = types.SimpleNamespace(enable_custom_widget_manager=lambda: widgets.append(True))
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setattr(subprocess, "run", lambda cmd, check: calls.append(cmd))
    if not installed:

        def version(name):
            raise metadata.PackageNotFoundError(name)

        monkeypatch.setattr(metadata, "version", version)
    fake = types.SimpleNamespace(
        version="0.1.0",
        read_text=lambda name: json.dumps({"url": "x", "vcs_info": {"vcs": "git", "commit_id": "0123456789abcdef"}}),
    )
    monkeypatch.setattr(metadata, "distribution", lambda name: fake)
    return calls, widgets, first_cell.cell_source()


@pytest.mark.parametrize("installed", [False, True], ids=["fresh runtime", "rerun after a change"])
def test_on_colab_it_installs_only_the_course_package(monkeypatch, capsys, installed):
    calls, widgets, source = _run_on_stand_in_colab(monkeypatch, installed)
    exec(compile(source, "first cell", "exec"), {})
    assert len(calls) == 1
    cmd = calls[0]
    url = first_cell.repository_url()
    assert cmd[1:5] == ["-m", "pip", "install", "-q"] and cmd[-1] == f"git+{url}@main"
    assert not any(word in " ".join(cmd) for word in ("torch", "numpy", "ipywidgets", "-U", "--upgrade"))
    if installed:  # same version number as before: only a forced reinstall replaces it, without dependencies
        assert "--force-reinstall" in cmd and "--no-deps" in cmd
    else:
        assert "--force-reinstall" not in cmd
    assert widgets == [True], "the custom widget manager is enabled"
    assert "at commit 0123456789ab" in capsys.readouterr().out


def test_elsewhere_it_does_nothing(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    exec(compile(first_cell.cell_source(), "first cell", "exec"), {})
    assert calls == []
