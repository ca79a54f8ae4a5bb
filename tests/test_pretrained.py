"""Tests of course_utils.pretrained: local weights folder, cache, offline fallback, clear errors, no hangs."""

from __future__ import annotations

import html
import socket
import time

import pytest
import torch

from course_utils import pretrained


@pytest.fixture(autouse=True)
def isolated(weights_hub):
    """Every test starts without a weights folder, with an empty hub cache (tests/conftest.py)."""
    return weights_hub


def _random_state_dict(name: str, seed: int) -> dict:
    """A state dict with the right keys and shapes but values unlike the loader's seed-0 model."""
    net = pretrained._build(name, seed)
    g = torch.Generator().manual_seed(seed)
    return {
        k: (torch.randn(v.shape, generator=g) if v.is_floating_point() else v.clone())
        for k, v in net.state_dict().items()
    }


def test_supported_names_and_weights_metadata():
    for name in (
        "resnet18",
        "deeplabv3_mobilenet_v3_large",
        "deeplabv3_resnet50",
        "deeplabv3_resnet101",
        "fcn_resnet50",
    ):
        assert name in pretrained.SUPPORTED
        w = pretrained.weights_for(name)
        assert pretrained.weights_filename(name) == w.url.rsplit("/", 1)[-1]
    assert pretrained.weights_filename("resnet18") == "resnet18-f37072fd.pth"
    assert pretrained.weights_for("resnet18").meta["num_params"] == 11_689_512
    assert len(pretrained.weights_for("deeplabv3_resnet50").meta["categories"]) == 21


def test_loads_local_weights_file(monkeypatch, tmp_path, capsys):
    sd = _random_state_dict("resnet18", seed=123)
    wdir = tmp_path / "weights"
    wdir.mkdir()
    torch.save(sd, wdir / pretrained.weights_filename("resnet18"))
    monkeypatch.setenv(pretrained.ENV_WEIGHTS_DIR, str(wdir))
    net = pretrained.load("resnet18")
    assert net.pretrained is True
    assert not net.training
    assert next(net.parameters()).device.type == "cpu"
    assert str(net.weights) == "ResNet18_Weights.IMAGENET1K_V1"
    got = net.state_dict()
    assert set(got) == set(sd)
    for k in sd:
        assert torch.equal(got[k], sd[k]), k
    assert str(wdir) in net.load_note
    # a test file cannot have torchvision's checksum, and the note says so
    assert "differs" in net.load_note
    assert "Loaded" in capsys.readouterr().out


def test_local_weights_for_segmentation_model(monkeypatch, tmp_path):
    name = "deeplabv3_mobilenet_v3_large"
    sd = _random_state_dict(name, seed=7)
    assert any(k.startswith("aux_classifier") for k in sd)  # aux_loss matches torchvision's weights
    torch.save(sd, tmp_path / pretrained.weights_filename(name))
    monkeypatch.setenv(pretrained.ENV_WEIGHTS_DIR, str(tmp_path))
    net = pretrained.load(name, verbose=False)
    assert net.pretrained is True
    for k, v in net.state_dict().items():
        assert torch.equal(v, sd[k]), k
    with torch.no_grad():
        out = net(torch.rand(1, 3, 64, 64))["out"]
    assert out.shape == (1, 21, 64, 64)


def test_torch_hub_cache_is_used(isolated):
    sd = _random_state_dict("resnet18", seed=5)
    (isolated / "checkpoints").mkdir()
    torch.save(sd, isolated / "checkpoints" / pretrained.weights_filename("resnet18"))
    net = pretrained.load("resnet18", verbose=False)
    assert net.pretrained is True
    assert "cache" in net.load_note
    assert torch.equal(net.fc.weight, sd["fc.weight"])


def test_offline_returns_seeded_random_model_with_loud_message(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_OFFLINE", "1")

    def no_download(*a, **k):  # offline must not even try
        raise AssertionError("a download was attempted in offline mode")

    monkeypatch.setattr(pretrained, "_reachable", no_download)
    monkeypatch.setattr(pretrained, "_download", no_download)
    before = torch.random.get_rng_state()
    net = pretrained.load("resnet18", seed=3)
    assert torch.equal(torch.random.get_rng_state(), before)  # caller's RNG untouched
    out = capsys.readouterr().out
    assert net.pretrained is False
    assert "resnet18" in out and "RANDOMLY INITIALISED" in out
    assert "COURSE_OFFLINE=1" in out and "will NOT see" in out and pretrained.ENV_WEIGHTS_DIR in out
    assert "COURSE_OFFLINE=1" in net.load_note
    assert not net.training
    # seeded: same seed, same weights; another seed, other weights
    again = pretrained.load("resnet18", seed=3, verbose=False)
    other = pretrained.load("resnet18", seed=4, verbose=False)
    assert torch.equal(net.conv1.weight, again.conv1.weight)
    assert not torch.equal(net.conv1.weight, other.conv1.weight)
    assert capsys.readouterr().out == ""  # verbose=False prints nothing


def test_pretrained_false_never_looks_for_weights(monkeypatch, tmp_path):
    (tmp_path / pretrained.weights_filename("resnet18")).write_bytes(b"garbage")
    monkeypatch.setenv(pretrained.ENV_WEIGHTS_DIR, str(tmp_path))
    net = pretrained.load("resnet18", pretrained=False, verbose=False)
    assert net.pretrained is False and "pretrained=False" in net.load_note


def test_corrupt_file_gives_clear_error(monkeypatch, tmp_path):
    fname = pretrained.weights_filename("resnet18")
    sd = _random_state_dict("resnet18", seed=1)
    torch.save(sd, tmp_path / fname)
    data = (tmp_path / fname).read_bytes()
    (tmp_path / fname).write_bytes(data[: len(data) // 3])  # truncated download
    monkeypatch.setenv(pretrained.ENV_WEIGHTS_DIR, str(tmp_path))
    with pytest.raises(pretrained.WeightsFileError) as err:
        pretrained.load("resnet18", verbose=False)
    msg = str(err.value)
    assert fname in msg and "corrupt" in msg and "download it again" in msg


def test_garbage_file_gives_clear_error(monkeypatch, tmp_path):
    (tmp_path / pretrained.weights_filename("resnet18")).write_bytes(b"not a checkpoint at all")
    monkeypatch.setenv(pretrained.ENV_WEIGHTS_DIR, str(tmp_path))
    with pytest.raises(pretrained.WeightsFileError, match="could not be read as a PyTorch state dict"):
        pretrained.load("resnet18", verbose=False)


def test_mismatched_file_gives_clear_error(monkeypatch, tmp_path):
    # the weights of another model saved under resnet18's name
    other = pretrained._build("deeplabv3_mobilenet_v3_large", 0).state_dict()
    torch.save(other, tmp_path / pretrained.weights_filename("resnet18"))
    monkeypatch.setenv(pretrained.ENV_WEIGHTS_DIR, str(tmp_path))
    with pytest.raises(pretrained.WeightsFileError) as err:
        pretrained.load("resnet18", verbose=False)
    msg = str(err.value)
    assert "does not fit" in msg and "missing keys" in msg and "unexpected keys" in msg


def test_wrong_shape_and_checkpoint_wrapper(monkeypatch, tmp_path):
    fname = pretrained.weights_filename("resnet18")
    sd = _random_state_dict("resnet18", seed=1)
    sd["fc.weight"] = torch.zeros(10, 512)
    torch.save(sd, tmp_path / fname)
    monkeypatch.setenv(pretrained.ENV_WEIGHTS_DIR, str(tmp_path))
    with pytest.raises(pretrained.WeightsFileError, match=r"wrong shape.*fc\.weight"):
        pretrained.load("resnet18", verbose=False)
    torch.save({"state_dict": {"a": torch.zeros(1)}, "epoch": 3}, tmp_path / fname)
    with pytest.raises(pretrained.WeightsFileError, match="training checkpoint"):
        pretrained.load("resnet18", verbose=False)


def test_weights_dir_without_file_falls_back(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(pretrained.ENV_WEIGHTS_DIR, str(tmp_path))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    net = pretrained.load("resnet18")
    assert net.pretrained is False
    assert f"has no file {pretrained.weights_filename('resnet18')}" in capsys.readouterr().out


@pytest.mark.parametrize(
    "kwargs, exc, text",
    [
        ({"name": "resnet19"}, ValueError, "name: expected one of"),
        ({"name": 18}, ValueError, "name: expected one of"),
        ({"name": "resnet18", "pretrained": "yes"}, TypeError, "pretrained: expected a bool"),
        ({"name": "resnet18", "seed": -1}, ValueError, "seed"),
        ({"name": "resnet18", "timeout": 0}, ValueError, "timeout"),
    ],
)
def test_bad_arguments(kwargs, exc, text):
    with pytest.raises(exc, match=text):
        pretrained.load(**kwargs)


def test_real_download_attempt_fails_fast_without_network(capsys):
    """The real path, no mocks: on a machine without network it gives up within seconds.

    (On a machine with network this would download ~45 MB; skip there.)
    """
    try:
        socket.create_connection(("download.pytorch.org", 443), timeout=2).close()
        pytest.skip("network available: the real download would succeed")
    except OSError:
        pass
    t0 = time.perf_counter()
    net = pretrained.load("resnet18", timeout=3.0)
    elapsed = time.perf_counter() - t0
    assert net.pretrained is False
    assert elapsed < 10.0, f"gave up only after {elapsed:.1f} s"
    assert "download failed" in net.load_note
    assert "download failed" in capsys.readouterr().out


def test_hanging_name_lookup_is_abandoned_within_timeout(monkeypatch):
    """A DNS lookup that never answers (socket timeouts do not cover it) must not hang the loader."""

    def hang(*a, **k):
        time.sleep(30)
        raise OSError("never reached")

    monkeypatch.setattr(socket, "create_connection", hang)
    t0 = time.perf_counter()
    net = pretrained.load("resnet18", timeout=1.0, verbose=False)
    elapsed = time.perf_counter() - t0
    assert net.pretrained is False
    assert elapsed < 5.0, f"gave up only after {elapsed:.1f} s"
    assert "no answer" in net.load_note


def test_download_error_after_reachable_server_falls_back(monkeypatch):
    """Server reachable but the download itself fails (e.g. stalled socket, bad checksum)."""
    monkeypatch.setattr(pretrained, "_reachable", lambda url, timeout: None)

    def stalled(weights, timeout, progress):
        raise TimeoutError("timed out")

    monkeypatch.setattr(pretrained, "_download", stalled)
    net = pretrained.load("resnet18", verbose=False)
    assert net.pretrained is False and "timed out" in net.load_note


def test_download_success_path_uses_torchvision_weights_api(monkeypatch):
    sd = _random_state_dict("resnet18", seed=11)
    calls = {}

    def fake_get_state_dict(self, *args, **kwargs):
        calls.update(kwargs)
        assert socket.getdefaulttimeout() == 2.0  # the socket timeout is in force during the download
        return sd

    monkeypatch.setattr(pretrained, "_reachable", lambda url, timeout: None)
    monkeypatch.setattr(type(pretrained.weights_for("resnet18")), "get_state_dict", fake_get_state_dict)
    before = socket.getdefaulttimeout()
    net = pretrained.load("resnet18", timeout=2.0, verbose=False)
    assert socket.getdefaulttimeout() == before  # restored
    assert net.pretrained is True and "downloaded" in net.load_note
    assert calls.get("check_hash") is True and calls.get("weights_only") is True
    assert torch.equal(net.fc.weight, sd["fc.weight"])


def test_a_hanging_server_costs_its_timeout_once_per_session(monkeypatch, capsys):
    calls = []

    def hangs(url, timeout):  # the server accepts the connection, then never answers
        calls.append(url)
        time.sleep(0.3)
        return f"no answer within {timeout:g} s"

    monkeypatch.setattr(pretrained, "_reachable", hangs)
    t0 = time.perf_counter()
    first = pretrained.load("resnet18", timeout=0.3)
    second = pretrained.load("deeplabv3_mobilenet_v3_large", timeout=0.3)
    third = pretrained.load("resnet18", timeout=0.3)
    assert time.perf_counter() - t0 < 0.3 * 2 + 5, "only the first model waited"
    assert not (first.pretrained or second.pretrained or third.pretrained)
    hosts = {
        pretrained.urlparse(pretrained.weights_for(n).url).hostname
        for n in ("resnet18", "deeplabv3_mobilenet_v3_large")
    }
    assert len(calls) == len(hosts), "one wait per download host, not per model"
    assert "failed earlier in this session" in third.load_note and "restart the kernel" in third.load_note
    out = capsys.readouterr().out
    assert "giving up after 0.3 s" in out and "will not wait again" in out, "the wait and the fallback are printed"


# --- availability() and weights_notice(): what a lesson says up front (issue 14, item 6) ---------


def _save_weights(folder, name: str = "resnet18") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(_random_state_dict(name, seed=2), folder / pretrained.weights_filename(name))


def test_availability_follows_loads_order_without_loading(monkeypatch, tmp_path, isolated):
    def no_network(*a, **k):
        raise AssertionError("availability() must not touch the network")

    monkeypatch.setattr(pretrained, "_reachable", no_network)
    monkeypatch.setattr(pretrained, "_download", no_network)
    assert pretrained.availability("resnet18") == "download"  # allowed, not yet tried
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    assert pretrained.availability("resnet18") is None
    assert pretrained.load("resnet18", verbose=False).pretrained is False
    _save_weights(isolated / "checkpoints")
    assert pretrained.availability("resnet18") == "torchvision cache"
    assert pretrained.load("resnet18", verbose=False).pretrained is True
    _save_weights(tmp_path / "weights")
    monkeypatch.setenv(pretrained.ENV_WEIGHTS_DIR, str(tmp_path / "weights"))
    assert pretrained.availability("resnet18") == pretrained.ENV_WEIGHTS_DIR
    assert "local file" in pretrained.load("resnet18", verbose=False).load_note
    assert pretrained.availability("deeplabv3_resnet50") is None  # other models: no file anywhere


def test_availability_remembers_a_host_that_failed_in_this_session(monkeypatch):
    host = pretrained.urlparse(pretrained.weights_for("resnet18").url).hostname
    monkeypatch.setitem(pretrained._FAILED_HOSTS, host, "no answer within 1 s")
    assert pretrained.availability("resnet18") is None


@pytest.mark.parametrize("name", ["resnet19", 18, None])
def test_availability_rejects_unknown_names(name):
    with pytest.raises(ValueError, match="name: expected one of"):
        pretrained.availability(name)


def _shown(monkeypatch, *names) -> tuple[dict, dict]:
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())  # as in a kernel
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.append((objs, kw)))
    pretrained.weights_notice(*names)
    assert len(shown) == 1, "one output"
    (bundle,), kw = shown[0]
    assert kw.get("raw") is True
    return bundle, kw["metadata"]


def test_weights_notice_names_the_random_models_with_the_banners_sentences(monkeypatch, isolated, capsys):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    _save_weights(isolated / "checkpoints", "deeplabv3_resnet50")
    bundle, meta = _shown(monkeypatch, "deeplabv3_mobilenet_v3_large", "deeplabv3_resnet50", "fcn_resnet50")
    assert meta[pretrained.NOTICE_METADATA_KEY] == {
        "deeplabv3_mobilenet_v3_large": None,
        "deeplabv3_resnet50": "torchvision cache",
        "fcn_resnet50": None,
    }
    assert meta["scrapbook"] == {"name": "weights_notice"}  # a myst-nb glue record, shown in place
    page = bundle["text/html"]
    assert page.startswith('<div class="admonition warning course-weights-notice">')
    title = page.split('<p class="admonition-title">')[1].split("</p>")[0]
    assert title == "No pretrained weights: deeplabv3_mobilenet_v3_large, fcn_resnet50 run with random weights"
    assert "deeplabv3_resnet50" not in page  # it has its weights
    # the same sentences as load()'s banner, not a second wording
    pretrained.load("fcn_resnet50")
    banner = capsys.readouterr().out
    for line in banner.splitlines()[2:-1]:  # Why / What you will see / will NOT see / To get the real weights
        assert line in bundle["text/plain"], line
        assert html.escape(line.split(": ", 1)[1]) in page, line
    assert "What you will NOT see: " + pretrained.SUPPORTED["fcn_resnet50"].misses in bundle["text/plain"]
    assert "COURSE_OFFLINE=1 forbids downloads" in page


def test_weights_notice_shows_nothing_when_every_model_has_weights(monkeypatch, isolated):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    _save_weights(isolated / "checkpoints")
    bundle, meta = _shown(monkeypatch, "resnet18")
    assert bundle == {"text/markdown": ""}
    assert meta[pretrained.NOTICE_METADATA_KEY] == {"resnet18": "torchvision cache"}


def test_weights_notice_needs_known_model_names(monkeypatch):
    with pytest.raises(ValueError, match="at least one model"):
        pretrained.weights_notice()
    with pytest.raises(ValueError, match="name: expected one of"):
        pretrained.weights_notice("resnet18", "resnet19")


def test_weights_notice_prints_its_text_outside_ipython(monkeypatch, isolated, capsys):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    pretrained.weights_notice("resnet18")
    out = capsys.readouterr().out
    assert "resnet18 is randomly initialised" in out and "What you will NOT see" in out and "<div" not in out
    _save_weights(isolated / "checkpoints")
    pretrained.weights_notice("resnet18")
    assert capsys.readouterr().out == ""
