"""Figures: image grids, label maps with a colour-blind-safe palette, overlays and legends.

The palette is Paul Tol's "muted" + "bright" qualitative schemes (colour-blind safe), extended
by a deterministic hue walk beyond 16 labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ._validate import check_float, check_image, check_int, check_labels, describe_value
from .data.voc import VOC_CLASSES as _VOC_CLASSES
from .data.voc import VOC_COLORS as _VOC_COLORS

if TYPE_CHECKING:  # annotations only: matplotlib and torch are imported where they are used
    import torch
    from matplotlib.axes import Axes

    ArrayOrTensor = np.ndarray | torch.Tensor

__all__ = [
    "PALETTE",
    "label_colors",
    "colorize",
    "overlay",
    "image_grid",
    "show_labels",
    "add_legend",
    "as_rgb",
    "ClassShare",
    "check_mask",
    "class_shares",
    "legend_labels",
    "add_class_legend",
    "label_regions",
    "show_segmentation",
]

# 21 colours from Paul Tol's colour-blind-safe schemes (https://personal.sron.nl/~pault/): his muted
# scheme first (9), then, one at a time, the colour of his other schemes (bright, vibrant, light,
# dark, pale, medium/high contrast) farthest from those already chosen. No two of the 21 are
# closer than a CIEDE2000 distance of 10 (14.2 measured; tests/test_viz.py computes it).
PALETTE: np.ndarray = (
    np.array(
        [
            (51, 34, 136),  # #332288
            (136, 204, 238),  # #88CCEE
            (68, 170, 153),  # #44AA99
            (17, 119, 51),  # #117733
            (153, 153, 51),  # #999933
            (221, 204, 119),  # #DDCC77
            (204, 102, 119),  # #CC6677
            (136, 34, 85),  # #882255
            (170, 68, 153),  # #AA4499
            (0, 119, 187),  # #0077BB
            (255, 204, 204),  # #FFCCCC
            (238, 119, 51),  # #EE7733
            (85, 85, 85),  # #555555
            (204, 51, 17),  # #CC3311
            (187, 187, 187),  # #BBBBBB
            (102, 102, 51),  # #666633
            (34, 85, 85),  # #225555
            (102, 51, 51),  # #663333
            (153, 119, 0),  # #997700
            (0, 68, 136),  # #004488
            (238, 238, 204),  # #EEEECC
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


def colorize(labels: ArrayOrTensor, palette: np.ndarray | None = None, ignore_index: int | None = None) -> np.ndarray:
    """(H, W) integer labels -> (H, W, 3) float32 RGB image in [0, 1]; ``ignore_index`` pixels are black.

    Args:
        labels: (H, W) integer array or tensor of label indices.
        palette: (N, 3) RGB colours in [0, 1] with N > labels.max(); default :func:`label_colors`
            (for VOC class masks pass ``course_utils.data.VOC_COLORS``).
        ignore_index: label drawn black whatever the palette.
    """
    lab = check_labels(labels, "labels", ndim=2)
    if lab.min() < 0 and not (ignore_index is not None and ignore_index < 0):
        raise ValueError(f"labels: expected non-negative labels, got minimum {lab.min()}")
    valid = lab != ignore_index if ignore_index is not None else np.ones(lab.shape, bool)
    n = int(lab[valid].max()) + 1 if valid.any() else 1
    cols = label_colors(n) if palette is None else _check_colors(palette, n, "palette")
    out = np.zeros(lab.shape + (3,), dtype=np.float32)
    out[valid] = cols[lab[valid]]
    return out


def overlay(
    image: np.ndarray,
    labels: ArrayOrTensor,
    alpha: float = 0.5,
    palette: np.ndarray | None = None,
    ignore_index: int | None = None,
) -> np.ndarray:
    """Blend an (H, W, 3) image with the colours of (H, W) labels; returns (H, W, 3) float in [0, 1]."""
    img = check_image(image)
    img = img.astype(np.float32) / 255.0 if img.dtype == np.uint8 else img.astype(np.float32)
    alpha = check_float(alpha, "alpha", min_value=0.0, max_value=1.0)
    lab = check_labels(labels, "labels", ndim=2)
    if lab.shape != img.shape[:2]:
        raise ValueError(f"labels: expected shape {img.shape[:2]} to match the image, got {lab.shape}")
    col = colorize(lab, palette, ignore_index)
    out = (1 - alpha) * img + alpha * col
    if ignore_index is not None:
        out[lab == ignore_index] = img[lab == ignore_index]
    return np.clip(out, 0.0, 1.0)


def show_labels(
    ax: Axes,
    labels: ArrayOrTensor,
    title: str = "",
    palette: np.ndarray | None = None,
    names: Sequence[str] | None = None,
):
    """Draw (H, W) labels on ``ax`` with the course palette; add a legend when ``names`` is given."""
    lab = check_labels(labels, "labels", ndim=2)
    ax.imshow(colorize(lab, palette), interpolation="nearest")
    ax.set_title(title)
    ax.set_axis_off()
    if names is not None:
        present = np.unique(lab)
        cols = label_colors(max(len(names), int(lab.max()) + 1)) if palette is None else palette
        add_legend(ax, [names[i] for i in present], [cols[i] for i in present])
    return ax


def add_legend(ax: Axes, names: Sequence[str], colors: Sequence, loc: str = "upper left", outside: bool = True):
    """Add a legend of coloured patches (one per name) to ``ax``."""
    from matplotlib.patches import Patch

    if len(names) != len(colors):
        raise ValueError(f"names and colors: expected equal lengths, got {len(names)} and {len(colors)}")
    handles = [Patch(facecolor=c, edgecolor="black", label=str(n)) for n, c in zip(names, colors)]
    kw = {"bbox_to_anchor": (1.02, 1.0), "borderaxespad": 0.0} if outside else {}
    return ax.legend(handles=handles, loc=loc, fontsize="small", frameon=False, **kw)


def image_grid(
    images: Sequence,
    titles: Sequence[str] | None = None,
    ncols: int = 3,
    size: float = 3.0,
    suptitle: str | None = None,
    cmap: str | None = None,
):
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


def as_rgb(embedding: ArrayOrTensor) -> np.ndarray:
    """(3 * 4**k, h, w) map in [0, 1] -> (h * 2**k, w * 2**k, 3) float image via pixel shuffle.

    A 3-channel map is shown directly as a colour image; 12 channels at 1/2 or 48 at 1/4
    resolution are rearranged (``torch.nn.functional.pixel_shuffle``) into 3 channels at full
    resolution -- the same number of values, so nothing is averaged away.
    """
    import torch

    if not isinstance(embedding, torch.Tensor):
        raise TypeError(f"embedding: expected a torch tensor, got {describe_value(embedding)}")
    if embedding.dim() != 3:
        raise ValueError(f"embedding: expected shape (C, h, w), got {tuple(embedding.shape)}")
    c = embedding.shape[0]
    k = 0
    while 3 * 4**k < c:
        k += 1
    if 3 * 4**k != c:
        raise ValueError(f"embedding: expected 3 * 4**k channels (3, 12, 48, ...), got {c}")
    x = embedding.detach().float().cpu()
    if x.numel() and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"embedding: expected values in [0, 1], got range [{x.min():.3g}, {x.max():.3g}]")
    rgb = torch.nn.functional.pixel_shuffle(x[None], 2**k)[0] if k else x
    return rgb.permute(1, 2, 0).numpy().copy()


# Class masks of semantic segmentation models (VOC labels by default, any names and colours).
class ClassShare(NamedTuple):
    """One class present in a mask: its index, its name and the fraction of pixels it covers."""

    index: int
    name: str
    share: float


def _check_names(names: Sequence[str], arg: str = "names") -> list[str]:
    if isinstance(names, str) or not isinstance(names, Sequence) or len(names) == 0:
        raise TypeError(f"{arg}: expected a non-empty sequence of class names, got {describe_value(names)}")
    if not all(isinstance(n, str) for n in names):
        raise TypeError(f"{arg}: expected every class name to be a str, got {[type(n).__name__ for n in names][:5]}...")
    return list(names)


def _check_colors(colors, n: int, arg: str = "colors") -> np.ndarray:
    cols = np.asarray(colors, dtype=np.float32) if not hasattr(colors, "detach") else colors.detach().cpu().numpy()
    if cols.ndim != 2 or cols.shape[1] != 3 or len(cols) < n:
        raise ValueError(f"{arg}: expected an array of shape (>={n}, 3) with RGB in [0, 1], got {describe_value(cols)}")
    if not np.all(np.isfinite(cols)) or cols.min() < 0 or cols.max() > 1:
        raise ValueError(
            f"{arg}: expected RGB values in [0, 1], got range [{np.nanmin(cols):.3g}, {np.nanmax(cols):.3g}]"
        )
    return cols.astype(np.float32, copy=False)


def check_mask(mask: ArrayOrTensor, num_classes: int = 21, name: str = "mask") -> np.ndarray:
    """Check an (H, W) integer class mask with values in ``[0, num_classes)``; return it as numpy.

    A (1, H, W) mask is accepted and squeezed; a (C, H, W) float tensor of logits is rejected
    with a hint to take ``argmax`` over the class dimension first.
    """
    if hasattr(mask, "detach"):
        mask = mask.detach().cpu().numpy()
    if isinstance(mask, np.ndarray) and mask.ndim == 3 and mask.shape[0] == 1:
        mask = mask[0]
    if isinstance(mask, np.ndarray) and np.issubdtype(mask.dtype, np.floating) and mask.ndim >= 3:
        raise TypeError(
            f"{name}: expected an (H, W) integer class mask, got float scores of shape {mask.shape}; "
            f"take the argmax over the class dimension first, e.g. out.argmax(1)[0]"
        )
    arr = check_labels(mask, name, ndim=2)
    if arr.size == 0:
        raise ValueError(f"{name}: expected a non-empty (H, W) mask, got shape {arr.shape}")
    lo, hi = int(arr.min()), int(arr.max())
    if lo < 0 or hi >= num_classes:
        raise ValueError(
            f"{name}: expected class indices in [0, {num_classes - 1}], got values in [{lo}, {hi}]"
            + ("; 255 is the VOC 'ignore' label of ground-truth masks, not a prediction" if hi == 255 else "")
        )
    return arr


def class_shares(mask: ArrayOrTensor, names: Sequence[str] = _VOC_CLASSES, min_share: float = 0.0) -> list[ClassShare]:
    """Classes present in ``mask`` with the fraction of pixels each covers, largest first.

    Args:
        mask: (H, W) integer array or tensor with values in ``[0, len(names))``.
        names: class names, indexed by the mask values (default: :data:`VOC_CLASSES`).
        min_share: leave out classes covering less than this fraction of the pixels (in [0, 1)).

    Returns:
        list of :class:`ClassShare` ``(index, name, share)``, sorted by decreasing share (ties by
        index). With ``min_share=0`` the shares sum to 1.
    """
    names = _check_names(names)
    min_share = check_float(min_share, "min_share", min_value=0.0, max_value=0.999999)
    arr = check_mask(mask, num_classes=len(names))
    counts = np.bincount(arr.ravel().astype(np.int64), minlength=len(names))
    shares = counts / arr.size
    order = sorted((i for i in range(len(names)) if counts[i] > 0), key=lambda i: (-counts[i], i))
    return [ClassShare(i, names[i], float(shares[i])) for i in order if shares[i] >= min_share]


def legend_labels(shares: Sequence[ClassShare], decimals: int = 1) -> list[str]:
    """Legend texts such as ``"person  23.4 %"`` for the output of :func:`class_shares`."""
    if not all(isinstance(s, ClassShare) for s in shares):
        raise TypeError(f"shares: expected the list returned by class_shares(...), got {describe_value(shares)}")
    return [f"{s.name}  {100 * s.share:.{decimals}f} %" for s in shares]


def add_class_legend(
    ax: Axes,
    mask: ArrayOrTensor,
    names: Sequence[str] = _VOC_CLASSES,
    colors: np.ndarray = _VOC_COLORS,
    min_share: float = 0.0,
    title: str = "class: pixel share",
):
    """Legend of the classes present in ``mask``, each with its colour and pixel share.

    Returns the list of :class:`ClassShare` shown (largest first).
    """
    from matplotlib.patches import Patch

    names = _check_names(names)
    cols = _check_colors(colors, len(names))
    shown = class_shares(mask, names, min_share)
    handles = [Patch(facecolor=cols[s.index], edgecolor="black", label=t) for s, t in zip(shown, legend_labels(shown))]
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        borderaxespad=0.0,
        fontsize="small",
        title=title,
        title_fontsize="small",
        frameon=False,
    )
    return shown


def label_regions(
    ax: Axes,
    mask: ArrayOrTensor,
    names: Sequence[str] = _VOC_CLASSES,
    min_share: float = 0.01,
    skip: Sequence[int] = (0,),
):
    """Write each class name on the mask at the pixel deepest inside that class's area.

    Classes covering less than ``min_share`` of the pixels and indices in ``skip`` (background by
    default) are not labelled. Returns the list of matplotlib ``Text`` objects.
    """
    import matplotlib.patheffects as pe
    from scipy import ndimage

    names = _check_names(names)
    arr = check_mask(mask, num_classes=len(names))
    texts = []
    for s in class_shares(arr, names, min_share):
        if s.index in skip:
            continue
        depth = ndimage.distance_transform_edt(np.pad(arr == s.index, 1))[1:-1, 1:-1]
        y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
        texts.append(
            ax.text(
                x,
                y,
                s.name,
                ha="center",
                va="center",
                fontsize="small",
                color="black",
                path_effects=[pe.withStroke(linewidth=3, foreground="white")],
            )
        )
    return texts


def show_segmentation(
    image: np.ndarray,
    mask: ArrayOrTensor,
    title: str = "",
    names: Sequence[str] = _VOC_CLASSES,
    colors: np.ndarray = _VOC_COLORS,
    alpha: float = 0.6,
    min_share: float = 0.0,
):
    """Three panels: the photo, the mask (class names written on it) and an overlay with a legend.

    Args:
        image: (H, W, 3) uint8 or float [0, 1] RGB photo.
        mask: (H, W) class mask of the same height and width.
        title: figure title.
        names: class names, index = class id (default: the 21 PASCAL VOC classes).
        colors: (n_classes, 3) uint8 palette, index = class id (default: the VOC colours).
        alpha: opacity of the class colours in the overlay; background pixels (index 0) stay uncoloured.
        min_share: classes covering less than this fraction of the image are left out of the legend.

    Returns:
        ``(fig, axes, shares)`` with ``shares`` the legend's list of :class:`ClassShare`.
    """
    import matplotlib.pyplot as plt

    img = check_image(image)
    names = _check_names(names)
    cols = _check_colors(colors, len(names))
    arr = check_mask(mask, num_classes=len(names))
    alpha = check_float(alpha, "alpha", min_value=0.0, max_value=1.0)
    if arr.shape != img.shape[:2]:
        raise ValueError(f"mask: expected shape {img.shape[:2]} to match the image, got {arr.shape}")
    rgb = img.astype(np.float32) / 255.0 if img.dtype == np.uint8 else img.astype(np.float32)
    col = cols[arr.astype(np.int64)]
    fg = (arr != 0)[..., None]
    over = np.where(fg, (1 - alpha) * rgb + alpha * col, rgb)

    h, w = arr.shape
    fig, axes = plt.subplots(1, 3, figsize=(13, 1.2 + 3.6 * min(h / w, 1.5)))
    for ax, im, sub in zip(axes, (rgb, col, over), ("photo", "predicted classes", "overlay (background uncoloured)")):
        ax.imshow(im, interpolation="nearest")
        ax.set_title(sub)
        ax.set_xlabel("x (pixels)")
        ax.set_ylabel("y (pixels)")
    label_regions(axes[1], arr, names)
    shares = add_class_legend(axes[2], arr, names, cols, min_share)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig, axes, shares
