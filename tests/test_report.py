"""course_utils.report: glued values as myst-nb reads them, and claims."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils import report


def _glued(monkeypatch, value, display=True):
    shown = []
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda obj, raw, metadata: shown.append((obj, metadata)))
    report.glue("x", value, display=display)
    (bundle, metadata) = shown[0]
    return bundle, metadata


@pytest.mark.parametrize("value", [np.float64(0.38), np.float32(0.38), np.array(0.38), torch.tensor(0.38)])
def test_numpy_and_torch_scalars_are_glued_as_python_numbers(monkeypatch, value):
    bundle, metadata = _glued(monkeypatch, value)
    text = bundle["text/plain"]
    assert "np." not in text and "tensor" not in text
    assert float(text) == pytest.approx(0.38, abs=1e-6)  # what {glue:text}`x:.2f` formats
    assert metadata["scrapbook"] == {"name": "x", "mime_prefix": ""}


def test_hidden_glue_uses_the_papermill_prefix(monkeypatch):
    bundle, metadata = _glued(monkeypatch, 3, display=False)
    assert list(bundle) == [report.GLUE_PREFIX + "text/plain"]
    assert metadata["scrapbook"]["mime_prefix"] == report.GLUE_PREFIX


def test_arrays_with_several_values_are_left_alone(monkeypatch):
    bundle, _ = _glued(monkeypatch, np.array([1, 2]))
    assert bundle["text/plain"] == "array([1, 2])"


def test_glue_rejects_a_bad_name():
    with pytest.raises(TypeError, match="name: expected a non-empty str"):
        report.glue("", 1)


def test_claim_names_the_statement_it_checks():
    report.claim(True, "fine")
    with pytest.raises(AssertionError, match="The text says: ARI < 0.1, but this run disagrees"):
        report.claim(False, "ARI < 0.1")
