"""Figures: image grids, label maps with a colour-blind-safe palette, overlays and legends.

The palette is Paul Tol's "muted" + "bright" qualitative schemes (colour-blind safe), extended
by a deterministic hue walk beyond 16 labels.
"""
from __future__ import annotations

import contextlib
import html
import io
import traceback
from typing import Callable, Sequence

import numpy as np

from .validation import check_image, check_labels, check_float, check_int, describe_value

__all__ = [
    "PALETTE", "label_colors", "colorize", "overlay", "image_grid", "show_labels", "add_legend",
    "figure_png", "explorer",
]

# Paul Tol, https://personal.sron.nl/~pault/ : muted (9) then bright (7) schemes.
PALETTE: np.ndarray = (
    np.array(
        [
            (51, 34, 136), (136, 204, 238), (68, 170, 153), (17, 119, 51), (153, 153, 51),
            (221, 204, 119), (204, 102, 119), (136, 34, 85), (170, 68, 153),
            (68, 119, 170), (102, 204, 238), (34, 136, 51), (204, 187, 68), (238, 102, 119),
            (170, 51, 119), (187, 187, 187),
        ],
        dtype=np.float32,
    )
    / 255.0
)


def label_colors(n: int) -> np.ndarray:
    """(n, 3) float RGB colours in [0, 1]: the colour-blind-safe palette, then a golden-ratio hue walk."""
    n = check_int(n, "n", min_value=0)
    if n <= len(PALETTE):
        return PALETTE[:n].copy()
    import colorsys

    extra = [colorsys.hsv_to_rgb((i * 0.618033988749895) % 1.0, 0.55, 0.85) for i in range(n - len(PALETTE))]
    return np.concatenate([PALETTE, np.asarray(extra, dtype=np.float32)], axis=0)


def colorize(labels, colors: np.ndarray | None = None, ignore_index: int | None = None) -> np.ndarray:
    """(H, W) integer labels -> (H, W, 3) float RGB image; ``ignore_index`` pixels are black."""
    lab = check_labels(labels, "labels", ndim=2)
    if lab.min() < 0 and not (ignore_index is not None and ignore_index < 0):
        raise ValueError(f"labels: expected non-negative labels, got minimum {lab.min()}")
    valid = lab != ignore_index if ignore_index is not None else np.ones(lab.shape, bool)
    n = int(lab[valid].max()) + 1 if valid.any() else 1
    cols = label_colors(n) if colors is None else np.asarray(colors, dtype=np.float32)
    if cols.ndim != 2 or cols.shape[1] != 3 or len(cols) < n:
        raise ValueError(f"colors: expected an array of shape (>={n}, 3), got {describe_value(cols)}")
    out = np.zeros(lab.shape + (3,), dtype=np.float32)
    out[valid] = cols[lab[valid]]
    return out


def overlay(image: np.ndarray, labels, alpha: float = 0.5, colors: np.ndarray | None = None,
            ignore_index: int | None = None) -> np.ndarray:
    """Blend an (H, W, 3) image with the colours of (H, W) labels; returns (H, W, 3) float in [0, 1]."""
    img = check_image(image)
    img = img.astype(np.float32) / 255.0 if img.dtype == np.uint8 else img.astype(np.float32)
    alpha = check_float(alpha, "alpha", min_value=0.0, max_value=1.0)
    lab = check_labels(labels, "labels", ndim=2)
    if lab.shape != img.shape[:2]:
        raise ValueError(f"labels: expected shape {img.shape[:2]} to match the image, got {lab.shape}")
    col = colorize(lab, colors, ignore_index)
    out = (1 - alpha) * img + alpha * col
    if ignore_index is not None:
        out[lab == ignore_index] = img[lab == ignore_index]
    return np.clip(out, 0.0, 1.0)


def show_labels(ax, labels, title: str = "", colors: np.ndarray | None = None, names: Sequence[str] | None = None):
    """Draw (H, W) labels on ``ax`` with the course palette; add a legend when ``names`` is given."""
    lab = check_labels(labels, "labels", ndim=2)
    ax.imshow(colorize(lab, colors), interpolation="nearest")
    ax.set_title(title)
    ax.set_axis_off()
    if names is not None:
        present = np.unique(lab)
        cols = label_colors(max(len(names), int(lab.max()) + 1)) if colors is None else colors
        add_legend(ax, [names[i] for i in present], [cols[i] for i in present])
    return ax


def add_legend(ax, names: Sequence[str], colors: Sequence, loc: str = "upper left", outside: bool = True):
    """Add a legend of coloured patches (one per name) to ``ax``."""
    from matplotlib.patches import Patch

    if len(names) != len(colors):
        raise ValueError(f"names and colors: expected equal lengths, got {len(names)} and {len(colors)}")
    handles = [Patch(facecolor=c, edgecolor="black", label=str(n)) for n, c in zip(names, colors)]
    kw = {"bbox_to_anchor": (1.02, 1.0), "borderaxespad": 0.0} if outside else {}
    return ax.legend(handles=handles, loc=loc, fontsize="small", frameon=False, **kw)


def image_grid(images: Sequence, titles: Sequence[str] | None = None, ncols: int = 3,
               size: float = 3.0, suptitle: str | None = None, cmap: str | None = None):
    """Show images (HWC RGB or HW maps) in a grid with titles; returns ``(fig, axes)``."""
    import matplotlib.pyplot as plt

    if len(images) == 0:
        raise ValueError("images: expected at least one image, got an empty sequence")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"titles: expected {len(images)} titles, got {len(titles)}")
    ncols = check_int(ncols, "ncols", min_value=1)
    ncols = min(ncols, len(images))
    nrows = int(np.ceil(len(images) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i >= len(images):
            continue
        im = images[i]
        im = im.detach().cpu().numpy() if hasattr(im, "detach") else np.asarray(im)
        ax.imshow(im, cmap=cmap if im.ndim == 2 else None, interpolation="nearest")
        if titles is not None:
            ax.set_title(titles[i], fontsize="medium")
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig, axes


def figure_png(fig, dpi: int = 96) -> bytes:
    """Render a matplotlib figure to PNG bytes and close it (so the notebook does not show it twice)."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise TypeError(
            f"fig: expected a matplotlib Figure, got {describe_value(fig)}"
            + (" (the draw function must `return fig`, not call plt.show())" if fig is None else "")
        )
    check_int(dpi, "dpi", min_value=10)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def explorer(draw: Callable, *, dpi: int = 80, **controls):
    """A live figure with controls: ``draw(**values)`` returns a matplotlib Figure, redrawn on change.

    ``controls`` maps each keyword of ``draw`` to an ipywidgets control (slider, dropdown...).
    The figure is shown as an ``ipywidgets.Image`` (PNG) and printed text in an ``HTML`` box: no
    ``Output`` widget, so the notebook executes the same way in Jupyter, Colab, nbval and the
    book build. Sliders redraw on release (``continuous_update=False``). Returns the ``VBox``.
    """
    import ipywidgets as widgets

    if not callable(draw):
        raise TypeError(f"draw: expected a function that returns a matplotlib Figure, got {describe_value(draw)}")
    if not controls:
        raise ValueError("controls: expected at least one keyword=widget pair, got none")
    for name, control in controls.items():
        if not isinstance(control, widgets.ValueWidget):
            raise TypeError(
                f"{name}: expected an ipywidgets control with a .value (e.g. widgets.IntSlider), "
                f"got {describe_value(control)}"
            )
        if hasattr(control, "continuous_update"):
            control.continuous_update = False
        if not control.description:
            control.description = name
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
    text = widgets.HTML()

    import matplotlib.pyplot as plt

    def redraw(_change=None):
        values = {name: control.value for name, control in controls.items()}
        out = io.StringIO()
        open_before = set(plt.get_fignums())
        try:
            with contextlib.redirect_stdout(out):
                image.value = figure_png(draw(**values), dpi=dpi)
        except Exception:  # shown in the widget: a callback's exception would otherwise vanish
            out.write(traceback.format_exc())
            for num in set(plt.get_fignums()) - open_before:  # a half-drawn figure is not left open
                plt.close(num)
        printed = out.getvalue()
        text.value = f"<pre>{html.escape(printed)}</pre>" if printed else ""

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap")),
                         image, text])

