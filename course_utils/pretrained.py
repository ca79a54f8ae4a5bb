"""Pretrained torchvision models that work online, from a local folder, or honestly without weights.

One call, used by every lesson that needs a trained network::

    from course_utils import pretrained
    net = pretrained.load("resnet18")          # eval mode, on the CPU
    net.pretrained                         # True only if real weights were loaded
    net.weights                            # e.g. ResNet18_Weights.IMAGENET1K_V1 (.meta, .transforms())
    net.load_note                          # where the weights came from, or why there are none
    pretrained.availability("resnet18")    # before loading: where they would come from (None: random)

Where the weights come from, in this order:

1. ``COURSE_WEIGHTS_DIR`` -- a folder holding the file torchvision would download, under the same
   name (the basename of ``weights.url``, e.g. ``resnet18-f37072fd.pth``). Loaded with
   ``torch.load(..., weights_only=True)``; this is how a reader runs fully offline with real weights.
2. torchvision's own cache (``torch.hub.get_dir()/checkpoints``), which is a local file, not a download.
3. torchvision's checksummed download (``weights.get_state_dict``) -- skipped when
   ``COURSE_OFFLINE=1``; it first checks within ``timeout`` seconds that the server can be reached,
   so a machine without network gives up in seconds instead of hanging.

When none of these works, a loud message says which model, why, and what the reader will and will
not see, and a *seeded, randomly initialised* model is returned with ``pretrained = False``. A weights
file that exists but is corrupt or does not fit the model raises :class:`WeightsFileError`, naming
the file and what is wrong with it.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ._net import reachable as _reachable
from ._validate import check_float, check_int, describe_value

__all__ = [
    "SUPPORTED",
    "WeightsFileError",
    "load",
    "availability",
    "weights_notice",
    "NOTICE_METADATA_KEY",
    "weights_for",
    "weights_filename",
    "ENV_WEIGHTS_DIR",
]

#: Environment variable naming a folder of pre-downloaded weight files.
ENV_WEIGHTS_DIR = "COURSE_WEIGHTS_DIR"


class WeightsFileError(ValueError):
    """A weights file exists but cannot be used (unreadable, not a state dict, or wrong model)."""


@dataclass(frozen=True)
class _Spec:
    builder: str  # torchvision.models.get_model name
    weights: str  # "EnumClass.MEMBER"
    kwargs: tuple  # extra builder kwargs (so the state dict's keys and shapes match)
    sees: str  # what an untrained copy still lets the reader see
    misses: str  # what it does not


_SEG_KW = (("num_classes", 21), ("aux_loss", True), ("weights_backbone", None))
_SEG_SEES = (
    "the code runs end to end with the right input and output shapes (21 classes), but the "
    "predicted masks of an untrained network are noise or one single class"
)
_SEG_MISSES = "people, animals, vehicles... segmented into the 20 Pascal VOC classes"

#: name -> how to build it and which torchvision weights fit it.
SUPPORTED: dict[str, _Spec] = {
    "resnet18": _Spec(
        "resnet18",
        "ResNet18_Weights.IMAGENET1K_V1",
        (),
        "every shape, grid size and timing is right, but the features are those of an untrained "
        "network: they respond to local colour and contrast, not to learned textures or objects",
        "what ImageNet training adds: features that group textures and object parts by meaning, "
        "and sensible ImageNet class predictions",
    ),
    **{
        name: _Spec(name, f"{enum}.COCO_WITH_VOC_LABELS_V1", _SEG_KW, _SEG_SEES, _SEG_MISSES)
        for name, enum in (
            ("deeplabv3_mobilenet_v3_large", "DeepLabV3_MobileNet_V3_Large_Weights"),
            ("deeplabv3_resnet50", "DeepLabV3_ResNet50_Weights"),
            ("deeplabv3_resnet101", "DeepLabV3_ResNet101_Weights"),
            ("fcn_resnet50", "FCN_ResNet50_Weights"),
        )
    },
}

_HASH_RE = re.compile(r"-([a-f0-9]*)\.")  # torchvision/torch.hub file names: name-<sha256 prefix>.pth


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or name not in SUPPORTED:
        raise ValueError(f"name: expected one of {sorted(SUPPORTED)}, got {describe_value(name)}")
    return name


def weights_for(name: str):
    """The torchvision weights enum entry used for ``name`` (its ``.meta`` and ``.transforms()`` work offline)."""
    import torchvision.models as tvm

    spec = SUPPORTED[_check_name(name)]
    return getattr(tvm.get_model_weights(spec.builder), spec.weights.split(".")[1])


def weights_filename(name: str) -> str:
    """File name torchvision downloads for ``name`` (e.g. ``resnet18-f37072fd.pth``)."""
    return os.path.basename(urlparse(weights_for(name).url).path)


def _build(name: str, seed: int):
    """Randomly initialised model whose state dict has the keys and shapes of the weights file."""
    import torch
    import torchvision.models as tvm

    spec = SUPPORTED[name]
    with torch.random.fork_rng(devices=[]):  # seeded, and the caller's RNG stream is left alone
        torch.manual_seed(seed)
        model = tvm.get_model(spec.builder, weights=None, **dict(spec.kwargs))
    return model


def _sha256_prefix_ok(path: Path) -> bool | None:
    """True/False if the file's SHA-256 starts with the prefix in its name; None if the name has none."""
    m = _HASH_RE.search(path.name)
    if not m or not m.group(1):
        return None
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest().startswith(m.group(1))


def _read_state_dict(path: Path, model) -> dict:
    """Load ``path`` with ``weights_only=True`` and check it fits ``model``; clear errors otherwise."""
    import torch

    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle, zip and EOF errors all mean: not a readable weights file
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise WeightsFileError(
            f"weights file {str(path)!r} ({path.stat().st_size} bytes) could not be read as a PyTorch "
            f"state dict ({type(exc).__name__}: {first}). The file is probably truncated or corrupt: "
            f"delete it and download it again."
        ) from None
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        hint = ""
        if isinstance(sd, dict) and any(k in sd for k in ("state_dict", "model", "model_state_dict")):
            hint = " It looks like a training checkpoint; save its inner state dict instead."
        raise WeightsFileError(
            f"weights file {str(path)!r}: expected a state dict (a dict of parameter name -> tensor), "
            f"got {describe_value(sd)}.{hint}"
        )
    expected = model.state_dict()
    missing = [k for k in expected if k not in sd]
    unexpected = [k for k in sd if k not in expected]
    wrong = [
        f"{k}: file {tuple(sd[k].shape)} vs model {tuple(expected[k].shape)}"
        for k in expected
        if k in sd and tuple(sd[k].shape) != tuple(expected[k].shape)
    ]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing keys (e.g. {missing[:3]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys (e.g. {unexpected[:3]})")
        if wrong:
            parts.append(f"{len(wrong)} tensors of the wrong shape (e.g. {wrong[:2]})")
        raise WeightsFileError(
            f"weights file {str(path)!r} does not fit model {type(model).__name__}: "
            + "; ".join(parts)
            + ". Is it the weights file of a different model?"
        )
    return sd


#: Hosts whose download failed in this process, with the reason. A download server that accepts a
#: connection and never answers costs ``timeout`` seconds once, not once per model (lesson 6 loads
#: four). The only module state of the package; a new kernel starts with it empty.
_FAILED_HOSTS: dict[str, str] = {}


def _download(weights, timeout: float, progress: bool) -> dict:
    """Torchvision's checksummed download into the torch hub cache, with a socket timeout."""
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        return weights.get_state_dict(progress=progress, check_hash=True, weights_only=True)
    finally:
        socket.setdefaulttimeout(old)


def _banner(lines: list[str]) -> str:
    bar = "=" * 78
    return "\n".join([bar, *lines, bar])


def _locate(name: str) -> tuple[str | None, Path | None, list[str]]:
    """Where :func:`load` would take ``name``'s weights from, in its order, without reading any file.

    Returns ``(where, path, reasons)``: ``where`` is ``"COURSE_WEIGHTS_DIR"`` or ``"torchvision cache"``
    (``path`` is then the file), ``"download"`` (allowed, not yet tried) or ``None`` (no way to get
    them: the model runs with random weights); ``reasons`` says why each earlier place had none.
    """
    import torch

    from . import runtime

    fname = weights_filename(name)
    reasons: list[str] = []
    env_dir = os.environ.get(ENV_WEIGHTS_DIR, "").strip()
    if env_dir:
        d = Path(env_dir).expanduser()
        if not d.is_dir():
            reasons.append(f"{ENV_WEIGHTS_DIR}={env_dir!r} is not a folder")
        elif not (d / fname).is_file():
            reasons.append(f"{ENV_WEIGHTS_DIR}={env_dir!r} has no file {fname}")
        else:
            return ENV_WEIGHTS_DIR, d / fname, reasons
    else:
        reasons.append(f"{ENV_WEIGHTS_DIR} is not set")
    cached = Path(torch.hub.get_dir()) / "checkpoints" / fname
    if cached.is_file():
        return "torchvision cache", cached, reasons
    reasons.append(f"no {fname} in the torchvision cache ({cached.parent})")
    host = urlparse(weights_for(name).url).hostname
    if runtime.flags().offline:
        reasons.append("COURSE_OFFLINE=1 forbids downloads")
    elif host in _FAILED_HOSTS:
        reasons.append(
            f"not tried: {host} failed earlier in this session ({_FAILED_HOSTS[host]}); restart the kernel to try again"
        )
    else:
        return "download", None, reasons
    return None, None, reasons


def _consequences(name: str, why: str, asked: bool = True) -> list[tuple[str, str]]:
    """The labelled sentences of the no-weights banner: why, what the reader sees and misses, the fix."""
    spec, weights = SUPPORTED[name], weights_for(name)
    lines = [("Why", why), ("What you will see", spec.sees), ("What you will NOT see", spec.misses)]
    fix = (
        f"run with network access (COURSE_OFFLINE unset), or download {weights.url} and set "
        f"{ENV_WEIGHTS_DIR} to the folder that holds {weights_filename(name)}"
    )
    return [*lines, ("To get the real weights", fix)] if asked else lines


def availability(name: str) -> str | None:
    """Where :func:`load` would take the pretrained weights of ``name`` from, decided without loading them.

    Looks where :func:`load` looks, in the same order, but reads and downloads nothing: a file in
    ``COURSE_WEIGHTS_DIR``, the torchvision cache, then whether a download is allowed.

    Args:
        name: one of :data:`SUPPORTED`.

    Returns:
        ``"COURSE_WEIGHTS_DIR"`` or ``"torchvision cache"`` (a local file; not checked for
        corruption), ``"download"`` (not cached, downloads allowed: :func:`load` will try), or
        ``None``: no way to get them, so :func:`load` will return random weights.
    """
    return _locate(_check_name(name))[0]


#: Key, in the metadata of :func:`weights_notice`'s output, of ``{model name: availability(name)}``. The
#: output is also a myst-nb glue record named ``"weights_notice"``, which hands it to the book's build
#: (``_ext/provenance.py``) whether the lesson was executed by the build or taken from jupyter-cache.
NOTICE_METADATA_KEY = "course_weights"


def weights_notice(*names: str) -> None:
    """Show, at the top of a lesson, which of its pretrained models will run with random weights.

    Displays one output, empty when every model has its weights, else a warning admonition naming
    each model without weights, why, and what the reader will and will not see (the sentences of
    :func:`load`'s banner); its metadata holds ``{name: availability(name)}`` (:data:`NOTICE_METADATA_KEY`).
    Outside IPython it prints the text instead.

    Args:
        names: the models the lesson loads with :func:`load` (each one of :data:`SUPPORTED`).
    """
    import html

    from IPython import get_ipython
    from IPython.display import display

    if not names:
        raise ValueError("names: expected at least one model name, got none")
    found = {name: _locate(_check_name(name)) for name in names}
    missing = [name for name, (where, _, _) in found.items() if where is None]
    bundle = {"text/markdown": ""}  # renders as nothing, in Jupyter and on the website
    if missing:
        verb = "runs" if len(missing) == 1 else "run"
        title = f"No pretrained weights: {', '.join(missing)} {verb} with random weights"
        html_parts, plain = [f'<p class="admonition-title">{title}</p>'], []
        for name in missing:
            said = [f"{name} is randomly initialised, not {weights_for(name)}."]
            said += [f"{label}: {text}." for label, text in _consequences(name, "; ".join(found[name][2]))]
            items = "".join(f"<li>{html.escape(t)}</li>" for t in said[1:])
            html_parts.append(f"<p><strong>{said[0]}</strong></p><ul>{items}</ul>")
            plain += said
        html_parts = ['<div class="admonition warning course-weights-notice">', *html_parts, "</div>"]
        bundle = {"text/html": "\n".join(html_parts), "text/plain": _banner(plain)}
    if get_ipython() is None:  # plain Python (scripts/run_notebook.py): the text, if any
        if missing:
            print(bundle["text/plain"])
        return
    record = {name: where for name, (where, _, _) in found.items()}
    display(bundle, raw=True, metadata={NOTICE_METADATA_KEY: record, "scrapbook": {"name": "weights_notice"}})


def load(
    name: str,
    pretrained: bool = True,
    *,
    seed: int = 0,
    verbose: bool = True,
    timeout: float = 10.0,
):
    """Return torchvision model ``name`` in eval mode on the CPU, with pretrained weights when they can be had.

    Args:
        name: one of :data:`SUPPORTED` (``"resnet18"``, ``"deeplabv3_mobilenet_v3_large"``,
            ``"deeplabv3_resnet50"``, ``"fcn_resnet50"``).
        pretrained: ask for the trained weights; ``False`` gives the seeded random model directly.
        seed: seed of the random initialisation (used when no weights are loaded); the global
            torch RNG state is left unchanged.
        verbose: print where the weights came from, or a loud message when they could not be had.
        timeout: seconds allowed to reach the download server (and per socket operation).

    Returns:
        ``torch.nn.Module`` with three extra attributes: ``pretrained`` (bool, True only if real
        weights were loaded), ``weights`` (the torchvision weights enum entry) and ``load_note``
        (str: where the weights came from, or why not).

    Raises:
        WeightsFileError: a weights file was found but is corrupt or does not fit the model.
    """
    name = _check_name(name)
    if not isinstance(pretrained, bool):
        raise TypeError(f"pretrained: expected a bool, got {describe_value(pretrained)}")
    seed = check_int(seed, "seed", min_value=0)
    timeout = check_float(timeout, "timeout", min_value=0.1, max_value=600.0)

    weights = weights_for(name)
    fname = weights_filename(name)
    model = _build(name, seed)
    state, source, reasons = None, "", []

    if pretrained:
        where, path, reasons = _locate(name)
        if where == "COURSE_WEIGHTS_DIR":
            state = _read_state_dict(path, model)
            ok = _sha256_prefix_ok(path)
            check = {
                True: "SHA-256 matches torchvision's",
                False: "SHA-256 differs from torchvision's "
                "published file (keys and shapes fit, so it was loaded anyway)",
                None: "no checksum in name",
            }[ok]
            source = f"local file {path} ({check})"
        elif where == "torchvision cache":
            state = _read_state_dict(path, model)
            source = f"torchvision cache {path}"
        elif where == "download":
            host = urlparse(weights.url).hostname
            t0 = time.perf_counter()
            if verbose:
                print(f"Downloading {fname} from {host} (giving up after {timeout:g} s without an answer) ...")
            why = _reachable(weights.url, timeout)
            if why is None:
                try:
                    state = _download(weights, timeout, progress=verbose)
                    source = f"downloaded from {weights.url} (checksum verified) into the torchvision cache"
                except Exception as exc:
                    why = f"{type(exc).__name__}: {str(exc)[:200]}"
            if state is None:
                seconds = time.perf_counter() - t0
                _FAILED_HOSTS[host] = f"{why}, after {seconds:.1f} s"
                reasons.append(f"download failed after {seconds:.1f} s: {why}")
                if verbose:
                    print(f"... failed after {seconds:.1f} s; later models from {host} will not wait again.")

    if state is not None:
        model.load_state_dict(state)
        model.pretrained = True
        model.load_note = f"{name}: pretrained weights {weights} from {source}"
        if verbose:
            print(f"Loaded {model.load_note}.")
    else:
        model.pretrained = False
        why = "pretrained=False was requested" if not pretrained else "; ".join(reasons)
        model.load_note = f"{name}: RANDOM weights (seed {seed}) -- {why}"
        if verbose:
            headline = f"NO PRETRAINED WEIGHTS: {name} is RANDOMLY INITIALISED (seed {seed}), not {weights}."
            print(_banner([headline, *(f"{label}: {text}." for label, text in _consequences(name, why, pretrained))]))
    model.weights = weights
    return model.eval().to("cpu")
