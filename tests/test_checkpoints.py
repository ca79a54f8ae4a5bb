"""Checkpoint bookkeeping for "load if trained, else train"."""
from __future__ import annotations

import pytest
import torch

from course_utils import checkpoints


def test_config_key_is_stable_and_sensitive():
    a = {"size": 32, "widths": [8, 16], "lr": 0.003}
    assert checkpoints.config_key(a) == checkpoints.config_key(dict(reversed(list(a.items()))))
    assert checkpoints.config_key(a) != checkpoints.config_key({**a, "lr": 0.001})
    assert len(checkpoints.config_key(a)) == 10


def test_checkpoint_dir_is_in_the_repository_when_inside_it(tmp_path):
    (tmp_path / "course_utils").mkdir()
    (tmp_path / "_toc.yml").write_text("root: x\n")
    (tmp_path / "notebooks").mkdir()
    assert checkpoints.find_checkpoint_dir(tmp_path / "notebooks") == tmp_path.resolve() / "checkpoints"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (tmp_path / "_toc.yml").unlink()
    assert checkpoints.find_checkpoint_dir(outside) == outside.resolve() / "checkpoints"


def test_save_then_load_restores_weights_and_extras(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    path = checkpoints.checkpoint_path("toy", {"a": 1}, root=tmp_path)
    assert not path.exists()
    checkpoints.save_checkpoint(path, model, history={"loss": [1.0, 0.5]}, seconds=1.5)
    other = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    extra = checkpoints.load_checkpoint(path, other)
    assert extra == {"history": {"loss": [1.0, 0.5]}, "seconds": 1.5}
    for p, q in zip(model.state_dict().values(), other.state_dict().values()):
        assert torch.equal(p, q)
    assert not list(tmp_path.glob("*.tmp"))


def test_bad_inputs(tmp_path):
    with pytest.raises(TypeError, match="config"):
        checkpoints.config_key({})
    with pytest.raises(TypeError, match="JSON"):
        checkpoints.config_key({"f": object()})
    with pytest.raises(ValueError, match="name"):
        checkpoints.checkpoint_path("a/b", {"a": 1}, root=tmp_path)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        checkpoints.load_checkpoint(tmp_path / "missing.pt", torch.nn.Linear(1, 1))
    with pytest.raises(TypeError, match="model"):
        checkpoints.save_checkpoint(tmp_path / "x.pt", object())
    path = checkpoints.save_checkpoint(tmp_path / "lin.pt", torch.nn.Linear(2, 2))
    with pytest.raises(RuntimeError):
        checkpoints.load_checkpoint(path, torch.nn.Linear(3, 3))  # another architecture is refused
