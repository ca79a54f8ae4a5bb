"""Tests of the scale-out training script course_utils.lab.train (single process and torchrun/DDP)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from course_utils.lab import train

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--image-size", "32", "--n-instances", "3", "--width", "8", "--no-progress"]


@pytest.fixture
def no_torchrun_env(monkeypatch):
    """In-process runs: no torchrun variables, and one CPU thread (tiny convolutions gain nothing
    from more, and lose a lot on a busy machine); the thread count is restored afterwards."""
    for var in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(var, raising=False)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.slow
def test_two_gloo_processes_end_with_identical_weights(tmp_path):
    """torchrun with 2 CPU processes (gloo): ranks see different data but end bit-identical."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    for var in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(var, None)
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "course_utils.lab.train",
        "--steps",
        "4",
        "--batch-size",
        "2",
        "--n-train",
        "8",
        "--log-every",
        "2",
        "--device",
        "cpu",
        "--out",
        str(tmp_path / "ck.pt"),
        "--rank-state-dir",
        str(tmp_path / "ranks"),
        *TINY,
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=150)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "x 2 process(es) (gloo)" in proc.stdout
    s0 = json.loads((tmp_path / "ranks" / "rank0.json").read_text())
    s1 = json.loads((tmp_path / "ranks" / "rank1.json").read_text())
    assert (s0["world_size"], s1["world_size"]) == (2, 2)
    assert (s0["rank"], s1["rank"]) == (0, 1)
    # the ranks trained on different shards of the data ...
    assert s0["first_batch_sha256"] != s1["first_batch_sha256"]
    # ... yet hold identical weights, because DDP averaged their gradients at every step
    assert s0["state_sha256"] == s1["state_sha256"]
    w0 = torch.load(tmp_path / "ranks" / "rank0.pt")
    w1 = torch.load(tmp_path / "ranks" / "rank1.pt")
    assert w0.keys() == w1.keys()
    assert all(torch.equal(w0[k], w1[k]) for k in w0)
    # and they did train: the weights moved away from the common initialisation
    torch.manual_seed(0)
    init = train.EmbeddingNet(dim=8, width=8).state_dict()
    assert any(not torch.equal(init[k], w0[k]) for k in init)
    ckpt = torch.load(tmp_path / "ck.pt", weights_only=False)
    assert ckpt["world_size"] == 2 and ckpt["state_sha256"] == s0["state_sha256"]
    assert [h["step"] for h in ckpt["history"]] == [2, 4]


def test_standalone_run_writes_a_loadable_checkpoint(tmp_path, no_torchrun_env):
    out = tmp_path / "sub" / "ck.pt"
    summary = train.main(
        [
            "--steps",
            "3",
            "--batch-size",
            "2",
            "--n-train",
            "4",
            "--log-every",
            "1",
            "--device",
            "cpu",
            "--out",
            str(out),
            *TINY,
        ]
    )
    assert summary["world_size"] == 1 and summary["rank"] == 0
    assert [h["step"] for h in summary["history"]] == [1, 2, 3]
    assert all(math.isfinite(h[k]) for h in summary["history"] for k in ("total", "var", "dist", "reg"))
    model, ckpt = train.load_checkpoint(out)
    assert ckpt["args"]["steps"] == 3 and ckpt["state_sha256"] == summary["state_sha256"]
    assert train.state_hash(model) == summary["state_sha256"]
    with torch.no_grad():
        emb = model(torch.rand(1, 3, 32, 32))
    assert emb.shape == (1, 8, 32, 32)


def test_training_lowers_the_loss_on_a_small_set(tmp_path, no_torchrun_env):
    summary = train.main(
        [
            "--steps",
            "40",
            "--batch-size",
            "4",
            "--n-train",
            "4",
            "--lr",
            "3e-3",
            "--log-every",
            "5",
            "--device",
            "cpu",
            "--dataset",
            "blobs",
            "--eval",
            "2",
            "--out",
            str(tmp_path / "ck.pt"),
            *TINY,
        ]
    )
    first, last = summary["history"][0]["total"], summary["history"][-1]["total"]
    assert last < 0.6 * first, (first, last)
    ev = summary["eval"]  # held-out scoring ran and is well-formed (no quality claim at 40 steps)
    assert (
        ev["n"] == 2 and len(ev["sbd"]) == 2 and ev["radius"] == 1.5
    )  # default: delta_d and all(0.0 <= v <= 1.0 for v in ev["sbd"])
    assert torch.load(tmp_path / "ck.pt", weights_only=False)["eval"]["sbd_mean"] == ev["sbd_mean"]


def test_same_seed_same_weights(tmp_path, no_torchrun_env):
    args = ["--steps", "2", "--batch-size", "2", "--n-train", "4", "--device", "cpu", *TINY]
    a = train.main(args + ["--out", str(tmp_path / "a.pt")])
    b = train.main(args + ["--out", str(tmp_path / "b.pt")])
    c = train.main(args + ["--out", str(tmp_path / "c.pt"), "--seed", "1"])
    assert a["state_sha256"] == b["state_sha256"] != c["state_sha256"]


@pytest.mark.parametrize(
    "bad, words",
    [
        (["--steps", "0"], "--steps must be >= 1"),
        (["--image-size", "30"], "--image-size must be a multiple of 4"),
        (["--lr", "-1"], "--lr must be a positive number"),
        (["--dataset", "coco"], "invalid choice"),
        (["--eval", "-1"], "--eval must be >= 0"),
        (["--eval-radius", "0"], "--eval-radius must be a positive number"),
    ],
)
def test_bad_command_line_arguments_are_rejected(bad, words, capsys):
    with pytest.raises(SystemExit) as info:
        train.parse_args(bad)
    assert info.value.code == 2
    assert words in capsys.readouterr().err


def test_global_batch_larger_than_the_data_is_rejected(tmp_path, no_torchrun_env):
    with pytest.raises(ValueError, match="smaller than one global batch"):
        train.main(
            [
                "--steps",
                "1",
                "--batch-size",
                "8",
                "--n-train",
                "4",
                "--device",
                "cpu",
                "--out",
                str(tmp_path / "x.pt"),
                *TINY,
            ]
        )


def test_network_checks_its_input_size(no_torchrun_env):
    net = train.EmbeddingNet(dim=4, width=8)
    assert net(torch.rand(2, 3, 16, 20)).shape == (2, 4, 16, 20)
    with pytest.raises(ValueError, match="multiples of 4"):
        net(torch.rand(1, 3, 18, 16))
