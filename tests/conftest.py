"""Shared fixtures of the unit tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _torch_global_state_is_restored():
    """Fail the test that leaves torch's process-wide gradient mode switched off.

    Some tests execute lesson cells in-process and lessons call ``torch.set_grad_enabled(False)``;
    a leak would make every later test that trains fail with "does not require grad", far from
    its cause. The mode is restored so later tests still run, and the leaking test is named.
    """
    try:
        import torch
    except ImportError:  # an environment without torch has no such state
        yield
        return
    before = torch.is_grad_enabled()
    yield
    after = torch.is_grad_enabled()
    if after != before:
        torch.set_grad_enabled(before)
        pytest.fail(f"this test left torch.is_grad_enabled() = {after} (it was {before} before the test)")


@pytest.fixture
def weights_hub(monkeypatch, tmp_path):
    """For ``pretrained.load``: no weights folder, an empty torch hub cache, downloads allowed, no memory
    of failed hosts (as in a new kernel). Returns the hub folder."""
    import torch

    from course_utils import pretrained

    monkeypatch.delenv(pretrained.ENV_WEIGHTS_DIR, raising=False)
    monkeypatch.setenv("COURSE_OFFLINE", "0")
    hub = tmp_path / "hub"
    hub.mkdir()
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(hub))
    monkeypatch.setattr(pretrained, "_FAILED_HOSTS", {})
    return hub
