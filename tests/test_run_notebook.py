"""scripts/run_notebook.py: runs a notebook's code cells in order without Jupyter (GPU checks)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _runner():
    spec = importlib.util.spec_from_file_location("run_notebook", ROOT / "scripts" / "run_notebook.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _notebook(path: Path, *sources: str) -> Path:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# title\n"]}]
    cells += [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": s} for s in sources
    ]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_runs_cells_in_order_in_one_namespace_in_the_notebooks_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    nb = _notebook(
        tmp_path / "nb.ipynb",
        "x = 2\n",
        ["from pathlib import Path\n", "y = x * 21\n"],
        "Path('cwd.txt').write_text(str(y))\nprint('answer', y)\n",
    )
    log = tmp_path / "log.json"
    assert _runner().main([str(nb), "--log", str(log)]) == 0
    assert (tmp_path / "cwd.txt").read_text() == "42"  # relative paths resolve in the notebook's folder
    assert "answer 42" in capsys.readouterr().out
    rec = json.loads(log.read_text())
    assert rec["status"] == "ok" and [c["cell"] for c in rec["cells"]] == [1, 2, 3]


def test_stops_at_the_first_failing_cell_and_names_it(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    nb = _notebook(tmp_path / "nb.ipynb", "a = 1\n", "assert a == 2, 'a is not 2'\n", "print('never')\n")
    log = tmp_path / "log.json"
    assert _runner().main([str(nb), "--log", str(log)]) == 1
    out = capsys.readouterr()
    assert "never" not in out.out and "a is not 2" in out.err
    assert json.loads(log.read_text())["status"].startswith("failed in code cell 2: assert a == 2")


def test_refuses_ipython_magics_clearly(tmp_path):
    nb = _notebook(tmp_path / "nb.ipynb", "%matplotlib inline\nx = 1\n")
    with pytest.raises(SystemExit, match="code cell 1 uses IPython syntax.*%matplotlib inline"):
        _runner().main([str(nb)])


def test_every_lesson_can_be_run_by_it():
    # The GPU checks run lessons with this runner: none may use IPython magics.
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert _runner().code_cells(nb), nb.name
