"""pretrained.load against a real HTTP server on 127.0.0.1 (issue 18): torchvision's own download code.

The weights entry is pointed at a loopback server that this test starts; nothing else is contacted.
"""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
import time
from pathlib import Path

import pytest
import torch
from torchvision.models import Weights, WeightsEnum

from course_utils import pretrained

NAME = "resnet18"


@pytest.fixture
def hub(weights_hub):
    return weights_hub


@pytest.fixture
def served(tmp_path):
    """A quiet HTTP server on 127.0.0.1 serving tmp_path/www; yields (folder, base URL)."""
    www = tmp_path / "www"
    www.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(www), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _point_weights_at(monkeypatch, url: str) -> None:
    real = pretrained.weights_for(NAME)

    class Loopback(WeightsEnum):  # a real torchvision weights enum, served from 127.0.0.1
        V1 = Weights(url=url, transforms=real.transforms, meta=real.meta)

    monkeypatch.setattr(pretrained, "weights_for", lambda name: Loopback.V1)


def _publish(www: Path, corrupt: bool = False, truncate: bool = False) -> tuple[str, dict]:
    """Save a state dict the way torchvision names its files: <name>-<first 8 hex of SHA-256>.pth."""
    state = pretrained._build(NAME, seed=7).state_dict()
    raw = www / "raw.pth"
    torch.save(state, raw)
    data = raw.read_bytes()
    fname = f"{NAME}-{hashlib.sha256(data).hexdigest()[:8]}.pth"
    if corrupt:
        data = data[:1000] + bytes([data[1000] ^ 0xFF]) + data[1001:]
    if truncate:
        data = data[: len(data) // 2]
    (www / fname).write_bytes(data)
    return fname, state


def test_downloads_a_checksummed_state_dict_and_loads_it(monkeypatch, hub, served, capsys):
    www, base = served
    fname, state = _publish(www)
    _point_weights_at(monkeypatch, f"{base}/{fname}")
    model = pretrained.load(NAME, timeout=5)
    assert model.pretrained, model.load_note
    assert "checksum verified" in model.load_note
    for key, value in state.items():
        assert torch.equal(model.state_dict()[key], value), key
    assert (hub / "checkpoints" / fname).is_file(), "the download is kept in the torch hub cache"


@pytest.mark.parametrize("damage", ["corrupt", "truncate"])
def test_a_damaged_file_is_rejected_and_nothing_is_cached(monkeypatch, hub, served, capsys, damage):
    www, base = served
    fname, _ = _publish(www, corrupt=damage == "corrupt", truncate=damage == "truncate")
    _point_weights_at(monkeypatch, f"{base}/{fname}")
    model = pretrained.load(NAME, timeout=5)
    assert not model.pretrained
    assert "download failed" in model.load_note and "hash" in model.load_note.lower(), model.load_note
    cached = list((hub / "checkpoints").glob("*")) if (hub / "checkpoints").exists() else []
    assert cached == [], f"a damaged download was left in the cache: {cached}"
    assert "RANDOMLY INITIALISED" in capsys.readouterr().out, "the fallback says so"


def test_a_server_that_accepts_and_never_answers_is_abandoned_in_time(monkeypatch, hub):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections (the kernel does), never reads or answers
    try:
        _point_weights_at(monkeypatch, f"http://127.0.0.1:{silent.getsockname()[1]}/{NAME}-00000000.pth")
        t0 = time.perf_counter()
        model = pretrained.load(NAME, timeout=1.0)
        elapsed = time.perf_counter() - t0
    finally:
        silent.close()
    assert not model.pretrained
    assert elapsed < 1.0 * 2 + 3, f"waited {elapsed:.1f} s for a server that never answers (timeout 1 s)"
    assert "download failed" in model.load_note
