"""Explorers that work without a kernel: precomputed frames, switched in the browser.

A kernel-backed explorer (:func:`course_utils.widgets.explorer`) redraws on every change, so on
the static website, where no kernel runs, its controls do nothing. A *frame explorer* draws every
combination of a few control values once, when the notebook runs, and embeds the frames in one
self-contained HTML output: moving a control swaps the image in the browser. The same cell works
on the website, in Jupyter and on Colab, and without JavaScript it still shows its default frame
as a plain figure.

Example::

    def draw(k, lam):
        seg = segment(photo, k, lam)                      # (H, W) labels
        return viz.label_image(seg), f"k={k}, λ={lam}: {spread(seg):.3f} spread"

    frame_explorer(draw, k=[2, 4, 8], lam=[0.5, 2, 8],
                   alt="k-means segmentation of the photo with k={k} and λ={lam}")

The HTML needs no ``<script>`` that must run on load: each control carries a short ``oninput``
handler that looks up its explorer's frames, so it works wherever outputs are rendered.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._validate import check_int, describe_value

__all__ = ["Frame", "FrameExplorer", "frame_explorer", "encode_image", "figure_pixels"]

EXPLORER_CLASS = "cu-explorer"
FRAMES_CLASS = "cu-explorer-frames"

# One handler for every control: find the explorer, read the index of every control, show the frame.
_HANDLER = (
    "var r=this.closest('.cu-explorer');"
    "var f=r.cuFrames||(r.cuFrames=JSON.parse(r.querySelector('.cu-explorer-frames').textContent));"
    "if(this.type==='range'){var l=JSON.parse(this.getAttribute('data-labels'))[this.value];"
    "this.setAttribute('aria-valuetext',l);this.parentNode.querySelector('output').textContent=l;}"
    "var k=Array.prototype.map.call(r.querySelectorAll('[data-control]'),function(c){return c.value;}).join(',');"
    "var v=f[k];if(v){var i=r.querySelector('img');i.src=v[0];i.alt=v[1];"
    "r.querySelector('figcaption').textContent=v[2];}"
)


@dataclass(frozen=True)
class Frame:
    """One precomputed view: an image as a ``data:`` URI, its alt text and its caption."""

    src: str
    alt: str
    caption: str = ""


@dataclass
class FrameExplorer:
    """Controls over a grid of precomputed frames; displays itself as self-contained HTML.

    Attributes:
        controls: control name -> the values it offers, in order.
        frames: tuple of value indices (one per control, in ``controls`` order) -> :class:`Frame`.
        default: the value indices shown first.
        title: optional heading shown above the controls.
        width: display width of the image in CSS pixels (None: its own width).
        labels: control name -> the label shown next to it (default: the name).
    """

    controls: dict[str, list[Any]]
    frames: dict[tuple[int, ...], Frame]
    default: tuple[int, ...]
    title: str = ""
    width: int | None = None
    labels: dict[str, str] = field(default_factory=dict)
    uid: str = field(default_factory=lambda: uuid.uuid4().hex[:10])

    def frame(self, **values: Any) -> Frame:
        """The frame shown for these control values (every control must be given)."""
        missing = sorted(set(self.controls) - set(values))
        unknown = sorted(set(values) - set(self.controls))
        if missing or unknown:
            raise ValueError(
                f"values: expected exactly the controls {list(self.controls)}, missing {missing}, unknown {unknown}"
            )
        key = []
        for name, options in self.controls.items():
            if values[name] not in options:
                raise ValueError(f"{name}: expected one of {options}, got {values[name]!r}")
            key.append(options.index(values[name]))
        return self.frames[tuple(key)]

    @property
    def nbytes(self) -> int:
        """Size of the embedded images (bytes of their data URIs)."""
        return sum(len(f.src) for f in self.frames.values())

    def _control_html(self, i: int, name: str, options: list[Any]) -> str:
        cid = f"{self.uid}-{i}"
        labels = [_label(v) for v in options]
        handler = html.escape(_HANDLER, quote=True)
        start = self.default[i]
        if all(_is_number(v) for v in options) and len(options) > 1:
            data = html.escape(json.dumps(labels), quote=True)
            widget = (
                f'<input type="range" id="{cid}" data-control="{html.escape(name)}" min="0" '
                f'max="{len(options) - 1}" step="1" value="{start}" data-labels="{data}" '
                f'aria-valuetext="{html.escape(labels[start])}" oninput="{handler}" onchange="{handler}">'
                f' <output for="{cid}">{html.escape(labels[start])}</output>'
            )
        else:
            opts = "".join(
                f'<option value="{j}"{" selected" if j == start else ""}>{html.escape(label)}</option>'
                for j, label in enumerate(labels)
            )
            widget = (
                f'<select id="{cid}" data-control="{html.escape(name)}" oninput="{handler}" '
                f'onchange="{handler}">{opts}</select>'
            )
        return (
            f'<span style="display:inline-block;margin:0 1.2em 0.3em 0">'
            f'<label for="{cid}" style="margin-right:0.4em"><b>{html.escape(self.labels.get(name, name))}</b></label>'
            f"{widget}</span>"
        )

    def _repr_html_(self) -> str:
        first = self.frames[self.default]
        data = {",".join(map(str, key)): [f.src, f.alt, f.caption] for key, f in self.frames.items()}
        frames_json = json.dumps(data, ensure_ascii=True).replace("</", "<\\/")
        controls = "".join(self._control_html(i, n, o) for i, (n, o) in enumerate(self.controls.items()))
        title = f"<p><b>{html.escape(self.title)}</b></p>" if self.title else ""
        size = f"width:{self.width}px;image-rendering:pixelated" if self.width else ""
        return (
            f'<div class="{EXPLORER_CLASS}" id="cu-explorer-{self.uid}" '
            f'data-frames="{len(self.frames)}">{title}'
            f'<div class="cu-explorer-controls">{controls}</div>'
            f'<figure style="margin:0.3em 0"><img src="{first.src}" alt="{html.escape(first.alt, quote=True)}" '
            f'style="max-width:100%;height:auto;{size}">'
            f'<figcaption style="font-size:0.9em">{html.escape(first.caption)}</figcaption></figure>'
            f'<script type="application/json" class="{FRAMES_CLASS}">{frames_json}</script></div>'
        )

    def __repr__(self) -> str:  # plain-text output: what it is, not the data
        sizes = ", ".join(f"{n}: {len(o)}" for n, o in self.controls.items())
        return f"FrameExplorer({len(self.frames)} frames; {sizes}; {self.nbytes / 1e3:.0f} kB)"


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _label(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{float(v):g}"
    return str(v)


def figure_pixels(image: Any) -> Any:
    """A matplotlib ``Figure`` rendered to an (H, W, 3) uint8 array (and closed); anything else as is.

    The figure is drawn at its own size and dpi (no tight bounding box, which would draw it twice):
    call ``fig.tight_layout()`` first if it needs it.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        return image
    if not isinstance(image, Figure):
        return image
    import matplotlib.pyplot as plt

    image.canvas.draw()
    pixels = np.asarray(image.canvas.buffer_rgba())[..., :3].copy()
    plt.close(image)
    return pixels


def encode_image(image: Any, fmt: str = "png", quality: int = 85) -> str:
    """An (H, W, 3) or (H, W) image (uint8, or float in [0, 1]) as a ``data:`` URI.

    Args:
        image: the pixels; a matplotlib ``Figure`` is rendered (and closed) instead.
        fmt: ``"png"`` (exact, best for label maps) or ``"jpeg"`` (small, best for photos).
        quality: JPEG quality, 1-95.

    Returns:
        ``"data:image/png;base64,..."`` (or ``image/jpeg``).
    """
    from PIL import Image

    if fmt not in ("png", "jpeg"):
        raise ValueError(f"fmt: expected 'png' or 'jpeg', got {fmt!r}")
    check_int(quality, "quality", min_value=1, max_value=95)
    image = figure_pixels(image)
    if not isinstance(image, np.ndarray):
        raise TypeError(
            f"image: expected an (H, W, 3) or (H, W) numpy array or a matplotlib Figure, got {describe_value(image)}"
        )
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[-1] != 3) or image.size == 0:
        raise ValueError(f"image: expected shape (H, W, 3) or (H, W), got shape {image.shape}")
    if image.dtype != np.uint8:
        if not np.issubdtype(image.dtype, np.floating):
            raise ValueError(f"image: expected uint8, or float in [0, 1], got dtype {image.dtype}")
        if not np.isfinite(image).all() or image.min() < 0 or image.max() > 1:
            raise ValueError(
                f"image: a float image must lie in [0, 1], got range [{np.nanmin(image):.3g}, {np.nanmax(image):.3g}]"
            )
        image = np.round(image * 255).astype(np.uint8)
    buf = io.BytesIO()
    pil = Image.fromarray(image)
    if fmt == "png":
        pil.save(buf, format="PNG")
    else:
        pil.save(buf, format="JPEG", quality=quality)
    return f"data:image/{fmt};base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def frame_explorer(
    draw: Callable[..., Any],
    *,
    alt: str | Callable[..., str],
    fmt: str = "png",
    default: dict[str, Any] | None = None,
    title: str = "",
    zoom: float = 1.0,
    labels: dict[str, str] | None = None,
    max_frames: int = 150,
    **controls: Sequence[Any],
) -> FrameExplorer:
    """Draw every combination of the control values once and return an explorer over the frames.

    Args:
        draw: ``draw(**values)`` returns the frame: an (H, W, 3) / (H, W) image array (uint8 or
            float in [0, 1]), a matplotlib ``Figure``, or a tuple ``(image, caption)`` where the
            caption is a short text shown under the image.
        alt: alt text of every frame, a format string over the control names (``"k={k}"``) or a
            function ``alt(**values) -> str``. Required: the frames are figures.
        fmt: ``"png"`` or ``"jpeg"`` (see :func:`encode_image`).
        default: the values shown first (default: each control's first value).
        title: optional heading above the controls.
        zoom: show the images this many times larger than their pixel size, with sharp pixels
            (a small frame embeds fewer bytes than an upsampled one).
        labels: control name -> the label shown next to it (``{"lam": "λ"}``).
        max_frames: refuse grids larger than this (each frame is embedded in the page).
        **controls: control name -> the values it offers (a list; numbers give a slider over
            them, anything else a drop-down).

    Returns:
        A :class:`FrameExplorer`; display it (last expression of a cell) to show it.
    """
    if not callable(draw):
        raise TypeError(f"draw: expected a function returning an image or (image, caption), got {describe_value(draw)}")
    if not controls:
        raise ValueError("controls: expected at least one name=[values] pair, got none")
    options: dict[str, list[Any]] = {}
    for name, values in controls.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise TypeError(f"{name}: expected a list of the values the control offers, got {describe_value(values)}")
        if len(values) == 0:
            raise ValueError(f"{name}: expected at least one value, got an empty list")
        if len({_label(v) for v in values}) != len(values):
            raise ValueError(f"{name}: expected distinct values, got {list(values)}")
        options[name] = list(values)
    check_int(max_frames, "max_frames", min_value=1)
    if not _is_number(zoom) or not 0.1 <= zoom <= 10:
        raise ValueError(f"zoom: expected a number in [0.1, 10], got {zoom!r}")
    n = int(np.prod([len(v) for v in options.values()]))
    if n > max_frames:
        sizes = " x ".join(f"{len(v)} {k}" for k, v in options.items())
        raise ValueError(f"controls: {sizes} = {n} frames, more than max_frames={max_frames}; offer fewer values")
    if isinstance(alt, str):
        try:
            alt.format(**{k: v[0] for k, v in options.items()})
        except (KeyError, IndexError) as exc:
            raise ValueError(f"alt: the template names {exc} but the controls are {list(options)}") from None
    elif not callable(alt):
        raise TypeError(f"alt: expected a format string or a function, got {describe_value(alt)}")
    labels = dict(labels or {})
    if sorted(set(labels) - set(options)):
        raise ValueError(f"labels: names controls that do not exist: {sorted(set(labels) - set(options))}")
    default = dict(default or {})
    unknown = sorted(set(default) - set(options))
    if unknown:
        raise ValueError(f"default: names controls that do not exist: {unknown} (controls: {list(options)})")
    start = []
    for name, values in options.items():
        if name in default and default[name] not in values:
            raise ValueError(f"default: {name}={default[name]!r} is not among its values {values}")
        start.append(values.index(default[name]) if name in default else 0)

    frames: dict[tuple[int, ...], Frame] = {}
    width = None
    for key in itertools.product(*(range(len(v)) for v in options.values())):
        values = {name: options[name][j] for name, j in zip(options, key)}
        out = draw(**values)
        caption = ""
        if isinstance(out, tuple):
            if len(out) != 2 or not isinstance(out[1], str):
                raise TypeError(
                    f"draw({values}): expected an image or (image, caption: str), got a tuple of {len(out)}"
                )
            out, caption = out
        out = figure_pixels(out)
        try:
            src = encode_image(out, fmt)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"draw({values}) returned a frame that cannot be shown: {exc}") from None
        if width is None and isinstance(out, np.ndarray):
            width = round(out.shape[1] * zoom)
        text = alt.format(**values) if isinstance(alt, str) else str(alt(**values))
        frames[key] = Frame(src=src, alt=text, caption=caption)
    return FrameExplorer(
        controls=options,
        frames=frames,
        default=tuple(start),
        title=title,
        width=width if zoom != 1 else None,
        labels={k: str(v) for k, v in labels.items()},
    )
