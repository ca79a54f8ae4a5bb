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


def _toy():
    torch.manual_seed(0)
    return torch.nn.Linear(3, 2)


def test_train_or_load_trains_once_then_loads_and_checks_the_score(tmp_path):
    calls = []

    def fit(model):
        calls.append(1)
        with torch.no_grad():
            model.weight.fill_(0.5)
        return {"loss": [1.0, 0.25]}

    x = torch.arange(6.0).reshape(2, 3)
    score = lambda m: float(m(x).sum())  # noqa: E731
    first = checkpoints.train_or_load("toy", _toy(), {"lr": 0.1}, fit, data=(x,), score=score, root=tmp_path)
    assert first.trained and first.load_seconds == 0.0 and first.train_seconds >= 0
    assert "trained now" in first.summary()
    again = checkpoints.train_or_load("toy", _toy(), {"lr": 0.1}, fit, data=(x,), score=score, root=tmp_path)
    assert not again.trained and len(calls) == 1
    assert again.train_seconds == first.train_seconds and again.history == {"loss": [1.0, 0.25]}
    assert again.score == first.score and "loaded from" in again.summary()
    other = checkpoints.train_or_load("toy", _toy(), {"lr": 0.1}, fit, data=(x + 1,), score=score, root=tmp_path)
    assert other.trained and len(calls) == 2  # other data: trained again
    with pytest.raises(checkpoints.CheckpointMismatch, match="scores"):
        checkpoints.train_or_load("toy", _toy(), {"lr": 0.1}, fit, data=(x,), score=lambda m: 0.0, root=tmp_path)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"train": 3}, r"train: expected a function train\(model\) -> history, got int"),
        ({"score": "x"}, r"score: expected a function score\(model\) -> float or None, got str"),
        ({"data": [1]}, r"data: expected a tuple of tensors, got list"),
    ],
)
def test_train_or_load_bad_arguments(tmp_path, kwargs, match):
    args = {"train": lambda m: None, **kwargs}
    with pytest.raises(TypeError, match=match):
        checkpoints.train_or_load("toy", _toy(), {"a": 1}, root=tmp_path, **args)


def test_fingerprint_changes_with_values_shape_and_dtype():
    a = torch.zeros(2, 3)
    assert checkpoints.fingerprint(a) == checkpoints.fingerprint(torch.zeros(2, 3))
    assert checkpoints.fingerprint(a) != checkpoints.fingerprint(torch.zeros(3, 2))
    assert checkpoints.fingerprint(a) != checkpoints.fingerprint(torch.zeros(2, 3, dtype=torch.float64))
    assert checkpoints.fingerprint(a) != checkpoints.fingerprint(torch.ones(2, 3))
