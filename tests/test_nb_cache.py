"""The --nb-cache option of the root conftest: nbval's run of a notebook becomes the executed copy
the book build renders (jupyter-cache), with outputs, execution counts and widget state."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _notebook(*sources: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Toy")] + [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def _run_nbval(tmp_path: Path, **notebooks: nbformat.NotebookNode) -> subprocess.CompletedProcess:
    shutil.copy(ROOT / "conftest.py", tmp_path / "conftest.py")
    for name, nb in notebooks.items():
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--nbval-lax",
            "--nbval-current-env",
            "--nb-cache=cache",
            *[f"{name}.ipynb" for name in notebooks],
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_nbval_run_is_cached_with_outputs_counts_and_widget_state(tmp_path):
    from jupyter_cache import get_cache

    good = _notebook(
        "print('hello')",
        "import ipywidgets as widgets\nwidgets.IntSlider(value=3)",
        "6 * 7",
    )
    bad = _notebook("x = 1", "raise ValueError('broken on purpose')")
    result = _run_nbval(tmp_path, good=good, bad=bad)
    assert result.returncode == 1, result.stdout  # the broken notebook fails nbval ...
    assert "bad.ipynb not cached" in result.stdout  # ... and is left out of the cache

    cache = get_cache(str(tmp_path / "cache"))
    assert [Path(r.uri).name for r in cache.list_cache_records()] == ["good.ipynb"]
    _, merged = cache.merge_match_into_notebook(nbformat.read(tmp_path / "good.ipynb", as_version=4))
    code = [c for c in merged.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == [1, 2, 3]
    assert code[0].outputs[0].text == "hello\n"
    assert "application/vnd.jupyter.widget-view+json" in code[1].outputs[0].data
    assert code[2].outputs[0].data["text/plain"] == "42" and code[2].outputs[0].execution_count == 3
    state = merged.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert any(w["model_name"] == "IntSliderModel" and w["state"]["value"] == 3 for w in state.values())


def test_a_changed_notebook_does_not_match_its_cached_run(tmp_path):
    """The book then executes the notebook itself instead of showing stale outputs."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    nb = _notebook("print(1)")
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    cache = get_cache(str(tmp_path / "cache"))
    cache.cache_notebook_bundle(CacheBundleIn(nb, str(tmp_path / "a.ipynb")), check_validity=False)
    assert cache.match_cache_notebook(_notebook("print(1)")) is not None
    with pytest.raises(KeyError):
        cache.match_cache_notebook(_notebook("print(2)"))
