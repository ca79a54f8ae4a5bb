"""The Colab-like run (issue 19): lessons 1 and 7 in a fresh environment with Colab's versions.

Marked ``colab``: ``make test-colab`` runs it (and ``make test`` does, as its last step); it needs
the package registry (PyPI) for Colab's versions and takes about four minutes on two cores.
"""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.colab


def test_lessons_run_as_on_colab():
    script = Path(__file__).with_name("run_colab_like.py")
    result = subprocess.run([sys.executable, str(script), "--lessons", "01", "07"], capture_output=True, text=True)
    print(result.stdout[-4000:])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
