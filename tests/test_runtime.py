"""course_utils.runtime: the two flags, seeding, device choice and the mode line."""

from __future__ import annotations

import random
import time

import numpy as np
import pytest
import torch

from course_utils import runtime


@pytest.mark.parametrize(
    "raw, expected", [("1", True), ("true", True), (" Yes ", True), ("0", False), ("", False), ("off", False)]
)
def test_flags_parse(monkeypatch, raw, expected):
    monkeypatch.setenv("COURSE_FAST", raw)
    monkeypatch.setenv("COURSE_OFFLINE", "0")
    f = runtime.flags()
    assert f.fast is expected and f.offline is False
    assert f.mode == ("fast" if expected else "full")


def test_flags_default_to_full_and_online(monkeypatch):
    monkeypatch.delenv("COURSE_FAST", raising=False)
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    assert runtime.flags() == runtime.RunFlags(fast=False, offline=False)


def test_flags_bad_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "maybe")
    with pytest.raises(ValueError, match=r"COURSE_OFFLINE must be one of .*got 'maybe'"):
        runtime.flags()


def _draw():
    return random.random(), np.random.rand(3), torch.rand(3)


def test_seed_everything_repeats_exactly():
    assert runtime.seed_everything(123) == 123
    a = _draw()
    runtime.seed_everything(123)
    b = _draw()
    runtime.seed_everything(124)
    c = _draw()
    assert a[0] == b[0] and np.array_equal(a[1], b[1]) and torch.equal(a[2], b[2])
    assert a[0] != c[0] and not torch.equal(a[2], c[2])


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_seed_everything_rejects_bad_seeds(seed):
    with pytest.raises(ValueError, match=r"seed must be a non-negative int, got"):
        runtime.seed_everything(seed)


def test_get_device_cpu_and_bad_preference():
    assert runtime.get_device("cpu").type == "cpu"
    with pytest.raises(ValueError, match=r"prefer must be 'cuda' or 'cpu', got 'tpu'"):
        runtime.get_device("tpu")


def test_describe_prints_mode_downloads_and_device(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_FAST", "1")
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    assert runtime.describe(torch.device("cpu")) is None  # printed once, no return value echoed by Jupyter
    line = capsys.readouterr().out
    assert line.count("Mode:") == 1
    assert "Mode: FAST (COURSE_FAST=1)" in line
    assert "forbidden (COURSE_OFFLINE=1)" in line
    assert "device: CPU" in line and f"torch {torch.__version__}" in line
    monkeypatch.setenv("COURSE_FAST", "0")
    monkeypatch.setenv("COURSE_OFFLINE", "0")
    runtime.describe(torch.device("cpu"))
    line = capsys.readouterr().out
    assert "Mode: FULL" in line and "downloads: allowed" in line


def test_not_on_colab_here():
    assert runtime.on_colab() is False


def test_best_of_returns_the_fastest_call_and_restores_threads():
    calls = []
    before = torch.get_num_threads()

    def work():
        calls.append(torch.get_num_threads())
        time.sleep(0.01 if len(calls) > 1 else 0.05)

    t = runtime.best_of(work, repeats=3, threads=1, warmup=True)
    assert len(calls) == 4 and set(calls) == {1}
    assert 0.009 < t < 0.05
    assert torch.get_num_threads() == before


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"fn": 3}, r"fn: expected a function of no arguments, got int"),
        ({"fn": lambda: None, "repeats": 0}, r"repeats: expected an int >= 1, got 0"),
        ({"fn": lambda: None, "threads": 0}, r"threads: expected None or an int >= 1, got 0"),
    ],
)
def test_best_of_bad_arguments(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        runtime.best_of(**kwargs)


def test_fast_for_falls_back_to_fast_on_a_cpu_only_when_unset(monkeypatch, capsys):
    cpu = torch.device("cpu")
    monkeypatch.delenv("COURSE_FAST", raising=False)
    assert runtime.fast_for(cpu) is True
    assert "no GPU was found" in capsys.readouterr().out
    assert runtime.fast_for(cpu, needs_gpu=False) is False
    monkeypatch.setenv("COURSE_FAST", "0")
    assert runtime.fast_for(cpu) is False  # forced full mode
    monkeypatch.setenv("COURSE_FAST", "1")
    assert runtime.fast_for(torch.device("cuda")) is True


def test_describe_reports_the_mode_the_lesson_chose(monkeypatch, capsys):
    monkeypatch.delenv("COURSE_FAST", raising=False)
    fast = runtime.fast_for(torch.device("cpu"), verbose=False)  # no GPU and COURSE_FAST unset: fast
    runtime.describe(torch.device("cpu"), fast=fast)
    line = capsys.readouterr().out
    assert fast is True
    assert "Mode: FAST (COURSE_FAST=unset)" in line, line


def test_amp_dtype_follows_what_the_gpu_can_do(monkeypatch):
    assert runtime.amp_dtype_for(torch.device("cpu")) is None
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: not including_emulation)
    assert runtime.amp_dtype_for(torch.device("cuda")) is torch.bfloat16  # native bf16 (A100, H100, ...)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: including_emulation)
    assert runtime.amp_dtype_for(torch.device("cuda")) is torch.float16  # only emulated (T4): fp16 + scaler
    assert runtime.amp_dtype_for("cuda") is torch.float16
