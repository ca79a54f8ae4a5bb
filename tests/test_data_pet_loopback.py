"""data.oxford_pet_segmentation against a real HTTP server on 127.0.0.1 (issue 18): torchvision's own
download, MD5 check and extraction of tiny archives in Oxford-IIIT Pet's layout.

``OxfordIIITPet._RESOURCES`` is pointed at a server that each test starts, with the MD5 sums of the
archives it serves. An autouse guard refuses (and records) every connection and name lookup to any
address but 127.0.0.1, so nothing else is contacted.
"""

from __future__ import annotations

import hashlib
import http.server
import socket
import tarfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from test_data_pet import write_tiny_pet
from torchvision.datasets import OxfordIIITPet

from course_utils import data

ARCHIVES = ("images", "annotations")
LOOPBACK = "127.0.0.1"


class _Guard:
    def __init__(self):
        self.contacted: list[str] = []  # every host a socket connected (or tried to) to
        self.blocked: list[str] = []


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Refuse, and record, any connection or name lookup to an address other than 127.0.0.1."""
    guard = _Guard()
    real_connect, real_connect_ex, real_getaddrinfo = (
        socket.socket.connect,
        socket.socket.connect_ex,
        socket.getaddrinfo,
    )

    def check(host) -> None:
        if host != LOOPBACK:
            guard.blocked.append(str(host))
            raise OSError(f"test guard: only {LOOPBACK} may be contacted, not {host!r}")

    def connect(self, address):
        host = address[0] if isinstance(address, tuple) else address
        guard.contacted.append(str(host))
        check(host)
        return real_connect(self, address)

    def connect_ex(self, address):
        host = address[0] if isinstance(address, tuple) else address
        guard.contacted.append(str(host))
        check(host)
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        check(host)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setenv("COURSE_OFFLINE", "0")
    yield guard
    assert not guard.blocked, f"the test tried to contact {guard.blocked}"


def _archives(tmp_path: Path) -> dict[str, bytes]:
    """images.tar.gz and annotations.tar.gz of a tiny Pet folder, laid out as the real archives are."""
    src = write_tiny_pet(tmp_path / "src") / "oxford-iiit-pet"
    out = {}
    for name in ARCHIVES:
        path = tmp_path / f"{name}.tar.gz"
        with tarfile.open(path, "w:gz") as tar:
            tar.add(src / name, arcname=name)
        out[name] = path.read_bytes()
    return out


class _Server:
    """A threaded HTTP server on 127.0.0.1 serving ``files[path] = (bytes, mode)``.

    Modes: ``ok``; ``cut``: announce the full length, send half and close the connection;
    ``stall``: announce the full length, send half and then nothing until the server stops.
    """

    def __init__(self):
        self.files: dict[str, tuple[bytes, str]] = {}
        self.requests: list[str] = []
        self.stop = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                if self.path not in server.files:
                    self.send_error(404)
                    return
                body, mode = server.files[self.path]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body if mode == "ok" else body[: len(body) // 2])
                    self.wfile.flush()
                except OSError:  # the client closed first (torchvision's redirect probe does)
                    return
                if mode == "stall":
                    server.stop.wait(30)
                self.close_connection = True

            def log_message(self, *args):
                pass

        class Quiet(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass

        self.httpd = Quiet((LOOPBACK, 0), Handler)
        self.base = f"http://{LOOPBACK}:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def publish(self, archives: dict[str, bytes], damage: dict[str, str] | None = None) -> tuple:
        """Serve ``archives``, damaged as asked ({name: corrupt | truncate | cut | stall}); returns the
        (url, md5) pairs of the intact archives, the way ``OxfordIIITPet._RESOURCES`` holds them."""
        damage = damage or {}
        resources = []
        for name, body in archives.items():
            how = damage.get(name, "ok")
            served = body
            if how == "corrupt":
                served = body[:100] + bytes([body[100] ^ 0xFF]) + body[101:]
            elif how == "truncate":
                served = body[: len(body) // 2]
            self.files[f"/pets/{name}.tar.gz"] = (served, how if how in ("cut", "stall") else "ok")
            resources.append((f"{self.base}/pets/{name}.tar.gz", hashlib.md5(body).hexdigest()))
        return tuple(resources)

    def close(self):
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = _Server()
    yield s
    s.close()


def _served_from(monkeypatch, resources) -> None:
    monkeypatch.setattr(OxfordIIITPet, "_RESOURCES", resources)


def _left_in(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def test_downloads_md5_checks_extracts_and_loads_the_archives(monkeypatch, tmp_path, server, loopback_only, capsys):
    archives = _archives(tmp_path)
    _served_from(monkeypatch, server.publish(archives))
    root = tmp_path / "data"

    ds = data.oxford_pet_segmentation(str(root), "trainval", size=16, download=True, timeout=5)

    assert sorted(server.requests) == ["/pets/annotations.tar.gz"] * 2 + ["/pets/images.tar.gz"] * 2, (
        "each archive: torchvision's redirect probe, then the download"
    )
    assert loopback_only.contacted and set(loopback_only.contacted) == {LOOPBACK}
    assert len(ds) == 5 and ds.num_classes == 2 and ds.class_names == data.PET_CLASSES == ("background", "pet")
    x, y = ds[0]
    assert x.shape == (3, 16, 16) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
    assert y.shape == (16, 16) and y.dtype == torch.int64
    assert data.PET_IGNORE_INDEX == 255
    assert set(torch.unique(y).tolist()) == {0, 1, data.PET_IGNORE_INDEX}
    # the mask is the served trimap, resized (nearest) and mapped: 1 pet -> 1, 2 background -> 0, 3 border -> 255
    src = tmp_path / "src" / "oxford-iiit-pet" / "annotations"
    first = (src / "trainval.txt").read_text().split()[0]  # item 0 is the split file's first line
    tri = Image.open(src / "trimaps" / f"{first}.png").resize((16, 16), Image.NEAREST)
    expected = np.select([np.asarray(tri) == 1, np.asarray(tri) == 2], [1, 0], data.PET_IGNORE_INDEX)
    np.testing.assert_array_equal(y.numpy(), expected)

    assert sorted(p.name for p in root.iterdir()) == ["oxford-iiit-pet"], "no staging folder or archive is left"
    assert sorted(p.name for p in (root / "oxford-iiit-pet").iterdir()) == ["annotations", "images"]

    n = len(server.requests)
    test = data.oxford_pet_segmentation(root, "test", size=(16, 24), download=True, timeout=5)
    assert len(test) == 4 and test[0][0].shape == (3, 16, 24)
    assert len(server.requests) == n, "a downloaded dataset is not downloaded again"


DAMAGES = [
    ("images", "corrupt"),  # one byte flipped: same length, wrong MD5
    ("annotations", "corrupt"),  # fails after images.tar.gz was already downloaded and extracted
    ("annotations", "truncate"),  # a shorter file, served as complete
    ("annotations", "cut"),  # the full length announced, the connection closed halfway
]


@pytest.mark.parametrize("archive, damage", DAMAGES, ids=[f"{a}-{d}" for a, d in DAMAGES])
def test_a_damaged_archive_is_rejected_and_nothing_is_left(monkeypatch, tmp_path, server, archive, damage):
    archives = _archives(tmp_path)
    _served_from(monkeypatch, server.publish(archives, {archive: damage}))
    root = tmp_path / "data"

    with pytest.raises(RuntimeError) as err:
        data.oxford_pet_segmentation(str(root), size=16, timeout=5)

    msg = str(err.value)
    received = len(archives[archive]) if damage == "corrupt" else len(archives[archive]) // 2
    head = msg[:300]  # what lesson 5 prints
    assert f"the download of {archive}.tar.gz failed: it failed its MD5 check" in head, msg
    assert "a corrupt or incomplete download" in head, msg
    assert f"received {received} bytes" in msg and f"expected {hashlib.md5(archives[archive]).hexdigest()}" in msg
    assert "Nothing of it was kept" in msg and f"URL: {server.base}/pets/{archive}.tar.gz" in msg, msg
    assert _left_in(root) == [], f"a failed download left {_left_in(root)}"

    with pytest.raises(RuntimeError, match="Dataset not found"):  # nothing a second call could take for a dataset
        data.oxford_pet_segmentation(str(root), download=False)

    _served_from(monkeypatch, server.publish(archives))  # the server is fixed: the next call starts afresh
    assert len(data.oxford_pet_segmentation(str(root), size=16, timeout=5)) == 5


@pytest.mark.parametrize("stop", [KeyboardInterrupt, OSError], ids=["interrupted", "disk-full"])
def test_an_extraction_stopped_halfway_leaves_nothing_to_be_taken_for_the_dataset(monkeypatch, tmp_path, server, stop):
    """Half of annotations.tar.gz extracted (split files and some trimaps, in tar order), then a stop:
    torchvision alone would leave images/ and annotations/ that the next call loads as complete."""
    _served_from(monkeypatch, server.publish(_archives(tmp_path)))
    real_extractall = tarfile.TarFile.extractall

    def halfway(self, path=".", members=None, **kwargs):
        if not str(self.name).endswith("annotations.tar.gz"):
            return real_extractall(self, path, members, **kwargs)
        members = self.getmembers()
        for member in members[: len(members) // 2]:
            self.extract(member, path)
        raise KeyboardInterrupt if stop is KeyboardInterrupt else OSError(28, "No space left on device")

    monkeypatch.setattr(tarfile.TarFile, "extractall", halfway)
    root = tmp_path / "data"
    with pytest.raises(KeyboardInterrupt if stop is KeyboardInterrupt else RuntimeError) as err:
        data.oxford_pet_segmentation(str(root), size=16, timeout=5)
    if stop is OSError:
        assert "the download of annotations.tar.gz failed: it passed its MD5 check but could not be extracted" in str(
            err.value
        ) and "No space left on device" in str(err.value)
    assert _left_in(root) == [], f"a stopped extraction left {_left_in(root)}"
    with pytest.raises(RuntimeError, match="Dataset not found"):
        data.oxford_pet_segmentation(str(root), download=False)


def test_an_earlier_incomplete_folder_is_replaced_by_a_complete_download(monkeypatch, tmp_path, server):
    _served_from(monkeypatch, server.publish(_archives(tmp_path)))
    root = tmp_path / "data"
    (root / "oxford-iiit-pet" / "images").mkdir(parents=True)  # as an interrupted torchvision download leaves it
    (root / "oxford-iiit-pet" / "images" / "half.jpg").write_bytes(b"\xff\xd8")
    ds = data.oxford_pet_segmentation(str(root), size=16, timeout=5)
    assert len(ds) == 5 and ds[4][1].shape == (16, 16)
    assert not (root / "oxford-iiit-pet" / "images" / "half.jpg").exists()


def _call_in_thread(limit: float, **kwargs) -> tuple[float | None, BaseException | None]:
    """Run the loader in a thread; (seconds it took or None if still running after ``limit``, its error)."""
    out: dict = {}

    def run():
        t0 = time.perf_counter()
        try:
            data.oxford_pet_segmentation(**kwargs)
        except BaseException as exc:
            out["error"] = exc
        out["seconds"] = time.perf_counter() - t0

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(limit)
    return out.get("seconds"), out.get("error")


@pytest.mark.parametrize("silence", ["never-answers", "stalls-halfway"])
def test_a_server_that_goes_silent_is_abandoned_within_the_timeout(monkeypatch, tmp_path, server, silence):
    timeout, limit = 1.0, 10.0
    silent = socket.socket()
    silent.bind((LOOPBACK, 0))
    silent.listen(8)  # the kernel accepts connections; nobody reads or answers
    if silence == "never-answers":
        resources = ((f"http://{LOOPBACK}:{silent.getsockname()[1]}/pets/images.tar.gz", "0" * 32),)
    else:
        resources = server.publish(_archives(tmp_path), {"images": "stall"})
    _served_from(monkeypatch, resources)
    root = tmp_path / "data"
    try:
        seconds, error = _call_in_thread(limit, root=str(root), size=16, timeout=timeout)
    finally:
        silent.close()  # also ends a loader that would still be waiting
    assert seconds is not None, f"still waiting after {limit:g} s for a server that went silent (timeout {timeout:g} s)"
    assert seconds < 3 * timeout + 2, f"gave up only after {seconds:.1f} s (timeout {timeout:g} s)"
    assert isinstance(error, RuntimeError), repr(error)
    assert f"the download of images.tar.gz failed: no answer from the server within {timeout:g} s" in str(error)
    assert _left_in(root) == []


def test_offline_refuses_without_any_connection_or_file(monkeypatch, tmp_path, loopback_only):
    monkeypatch.setenv("COURSE_OFFLINE", "1")  # torchvision's real Oxford URLs: the guard would block them
    with pytest.raises(RuntimeError, match="COURSE_OFFLINE=1 forbids downloads"):
        data.oxford_pet_segmentation(str(tmp_path / "data"), download=True, timeout=1)
    assert loopback_only.contacted == [], "offline, not even a connection may be tried"
    assert not (tmp_path / "data").exists()


def test_the_guard_refuses_every_other_address(loopback_only):
    with pytest.raises(OSError, match="test guard"):
        socket.create_connection(("192.0.2.1", 80), timeout=1)  # TEST-NET-1, never routed
    with pytest.raises(OSError, match="test guard"):
        socket.getaddrinfo("www.robots.ox.ac.uk", 443)
    assert loopback_only.blocked == ["192.0.2.1", "www.robots.ox.ac.uk"]
    loopback_only.blocked.clear()  # the refusals were this test's point


def test_the_timeout_is_validated(tmp_path):
    for bad, error in ((0, ValueError), (601, ValueError), (float("nan"), ValueError), ("5", TypeError)):
        with pytest.raises(error, match="timeout"):
            data.oxford_pet_segmentation(str(tmp_path), timeout=bad)
    with pytest.raises(TypeError, match="root"):
        data.oxford_pet_segmentation(None)
    assert not any(tmp_path.iterdir())
