"""PASCAL VOC labels for the pretrained torchvision segmentation models (lesson 6).

torchvision's ``*_COCO_WITH_VOC_LABELS_V1`` weights predict 21 classes: index 0 is background,
1..20 are the PASCAL VOC object classes, in the order of :data:`VOC_CLASSES` (the same list as
``weights.meta["categories"]``).

* :data:`VOC_COLORS` -- one colour per class, (21, 3) float32 in [0, 1]. Twenty object colours
  cannot all stay distinct for every colour-blind reader, so the colours come from Paul Tol's
  colour-blind-safe schemes, chosen so that classes that often share a photo (person with
  anything, chair/sofa/dining table, cat/dog, vehicles) stay apart under simulated deuteranopia
  and protanopia, and every figure here also writes the class *names* on the mask: colour is
  never the only cue.
* :func:`class_shares` -- which classes a predicted mask contains and what fraction of its pixels each covers.
* :func:`add_class_legend`, :func:`label_regions`, :func:`show_segmentation` -- figures.

Masks are (H, W) integer arrays (numpy or torch) with values in ``[0, len(names))``.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from .validation import check_float, check_image, check_labels, describe_value

__all__ = [
    "VOC_CLASSES",
    "VOC_COLORS",
    "ClassShare",
    "check_mask",
    "colorize",
    "class_shares",
    "legend_labels",
    "add_class_legend",
    "label_regions",
    "show_segmentation",
]

#: The 21 labels of torchvision's VOC-label segmentation weights (same spelling and order as
#: ``weights.meta["categories"]``).
VOC_CLASSES: tuple[str, ...] = (
    "__background__", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
    "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep",
    "sofa", "train", "tvmonitor",
)

# Twenty object colours picked among Paul Tol's colour-blind-safe schemes (muted, bright, vibrant,
# light, dark; https://personal.sron.nl/~pault/) by a small search that maximised (1) the smallest
# CIELAB distance between any two of the 21 colours (>= 24 dE) and (2) the smallest distance, under
# simulated deuteranopia and protanopia, between classes that often share a photo (person with any
# class, chair/sofa/diningtable, cat/dog, car/bus/train/motorbike/bicycle...; >= 19 dE).
# tests/test_voc.py re-checks both properties.
_HEX = (
    "000000",  # __background__ (black in the mask; left uncoloured in overlays)
    "228833",  # aeroplane
    "EEDD88",  # bicycle
    "CC6677",  # bird
    "882255",  # boat
    "009988",  # bottle
    "332288",  # bus
    "222255",  # car
    "AA4499",  # cat
    "666633",  # chair
    "EE3377",  # cow
    "DDDDDD",  # diningtable
    "EE8866",  # dog
    "0077BB",  # horse
    "FFAABB",  # motorbike
    "99DDFF",  # person
    "BBCC33",  # pottedplant
    "663333",  # sheep
    "555555",  # sofa
    "CC3311",  # train
    "999933",  # tvmonitor
)

#: (21, 3) float32 RGB colours in [0, 1], one per entry of :data:`VOC_CLASSES`.
VOC_COLORS: np.ndarray = np.array(
    [[int(h[i : i + 2], 16) for i in (0, 2, 4)] for h in _HEX], dtype=np.float32
) / 255.0
VOC_COLORS.setflags(write=False)


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


def _check_colors(colors, n: int) -> np.ndarray:
    cols = np.asarray(colors, dtype=np.float32) if not hasattr(colors, "detach") else colors.detach().cpu().numpy()
    if cols.ndim != 2 or cols.shape[1] != 3 or len(cols) < n:
        raise ValueError(f"colors: expected an array of shape (>={n}, 3) with RGB in [0, 1], got {describe_value(cols)}")
    if not np.all(np.isfinite(cols)) or cols.min() < 0 or cols.max() > 1:
        raise ValueError(f"colors: expected RGB values in [0, 1], got range [{np.nanmin(cols):.3g}, {np.nanmax(cols):.3g}]")
    return cols.astype(np.float32, copy=False)


def check_mask(mask, num_classes: int = len(VOC_CLASSES), name: str = "mask") -> np.ndarray:
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


def colorize(mask, colors=VOC_COLORS) -> np.ndarray:
    """(H, W) class mask -> (H, W, 3) float32 RGB image in [0, 1] using ``colors`` (default VOC palette)."""
    cols = _check_colors(colors, 1)
    arr = check_mask(mask, num_classes=len(cols))
    return cols[arr.astype(np.int64)]


def class_shares(mask, names: Sequence[str] = VOC_CLASSES, min_share: float = 0.0) -> list[ClassShare]:
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


def add_class_legend(ax, mask, names: Sequence[str] = VOC_CLASSES, colors=VOC_COLORS,
                     min_share: float = 0.0, title: str = "class: pixel share"):
    """Legend of the classes present in ``mask``, each with its colour and pixel share.

    Returns the list of :class:`ClassShare` shown (largest first).
    """
    from matplotlib.patches import Patch

    names = _check_names(names)
    cols = _check_colors(colors, len(names))
    shown = class_shares(mask, names, min_share)
    handles = [Patch(facecolor=cols[s.index], edgecolor="black", label=t) for s, t in zip(shown, legend_labels(shown))]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
              fontsize="small", title=title, title_fontsize="small", frameon=False)
    return shown


def label_regions(ax, mask, names: Sequence[str] = VOC_CLASSES, min_share: float = 0.01,
                  skip: Sequence[int] = (0,)):
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
        texts.append(ax.text(x, y, s.name, ha="center", va="center", fontsize="small", color="black",
                             path_effects=[pe.withStroke(linewidth=3, foreground="white")]))
    return texts


def show_segmentation(image, mask, title: str = "", names: Sequence[str] = VOC_CLASSES, colors=VOC_COLORS,
                      alpha: float = 0.6, min_share: float = 0.0):
    """Three panels: the photo, the mask (class names written on it) and an overlay with a legend.

    Args:
        image: (H, W, 3) uint8 or float [0, 1] RGB photo.
        mask: (H, W) class mask of the same height and width.
        title: figure title.
        alpha: opacity of the class colours in the overlay; background pixels (index 0) stay uncoloured.

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
