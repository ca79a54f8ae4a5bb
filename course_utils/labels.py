"""Label maps: renumbering, reshaping, downsampling, and statistics of what a clustering produced.

* :func:`relabel_by_size` -- 0 for the largest cluster, then by decreasing size (the "largest
  cluster is background" rule when scoring a clustering without a background class);
* :func:`relabel_by_first_appearance` -- raster order of first appearance;
* :func:`as_label_map` -- one label per pixel (raster order) back to an (H, W) map;
* :func:`downsample_labels` -- instance labels at 1/f resolution, blocks that mix labels ignored;
* :func:`spatial_spread` -- RMS distance of pixels to their cluster's centroid, in units of the
  image diagonal (small = compact clusters);
* :func:`components_per_cluster` -- number of 4-connected pieces each cluster falls into
  (1 = one solid region; hundreds = salt-and-pepper speckle).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ._validate import check_int, check_labels, describe_value, shape_hw

__all__ = [
    "relabel_by_size",
    "relabel_by_first_appearance",
    "as_label_map",
    "downsample_labels",
    "spatial_spread",
    "components_per_cluster",
]


def relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber labels 0..K-1 by decreasing cluster size (ties: smaller old label first)."""
    lab = check_labels(labels, "labels")
    values, counts = np.unique(lab, return_counts=True)
    order = values[np.lexsort((values, -counts))]
    lut = np.empty(len(values), dtype=np.int64)
    lut[np.searchsorted(values, order)] = np.arange(len(values))
    return lut[np.searchsorted(values, lab)]


def relabel_by_first_appearance(labels: np.ndarray) -> np.ndarray:
    """Renumber labels 0..K-1 in the order they first appear in ``labels.ravel()`` (raster order)."""
    lab = check_labels(labels, "labels")
    flat = lab.ravel()
    _, first = np.unique(flat, return_index=True)
    values = flat[np.sort(first)]
    remap = np.empty(int(flat.max()) + 1 if flat.size else 1, dtype=np.int64)
    remap[values] = np.arange(len(values))
    return remap[lab]


def as_label_map(labels: Any, shape: Sequence[int] | Any) -> np.ndarray:
    """Reshape one label per pixel (raster order) into an (H, W) label map.

    Args:
        labels: (H*W,) integer labels, e.g. what ``clustering.kmeans`` returns.
        shape: the image, or its (H, W) / (H, W, C) shape.

    Returns:
        (H, W) int64 label map.
    """
    h, w = shape_hw(shape, "shape")
    lab = check_labels(labels, "labels", ndim=1)
    if lab.shape[0] != h * w:
        raise ValueError(f"labels: expected one label per pixel, H*W = {h}*{w} = {h * w}, got {lab.shape[0]} labels")
    return lab.reshape(h, w).astype(np.int64, copy=False)


def downsample_labels(labels: torch.Tensor, factor: int, ignore_index: int = -1) -> torch.Tensor:
    """Instance labels at 1/``factor`` resolution: a block keeps its label only if it is pure.

    Args:
        labels: (B, H, W) or (H, W) integer tensor; H and W divisible by ``factor``.
        factor: block side (1 returns a copy).
        ignore_index: label given to blocks that mix several labels (or contain ``ignore_index``);
            it must not be a label in use.

    Returns:
        int64 tensor of shape (B, H/factor, W/factor) (or (H/factor, W/factor)).
    """
    if not isinstance(labels, torch.Tensor):
        raise TypeError(f"labels: expected a torch tensor, got {describe_value(labels)}")
    if labels.dtype.is_floating_point or labels.dtype == torch.bool or labels.is_complex():
        raise TypeError(f"labels: expected an integer tensor, got dtype {labels.dtype}")
    if labels.dim() not in (2, 3):
        raise ValueError(f"labels: expected shape (B, H, W) or (H, W), got {tuple(labels.shape)}")
    factor = check_int(factor, "factor", min_value=1)
    ignore_index = check_int(ignore_index, "ignore_index")
    h, w = labels.shape[-2:]
    if h % factor or w % factor:
        raise ValueError(f"labels: expected H and W divisible by factor={factor}, got H={h}, W={w}")
    lab = labels.long()
    squeeze = lab.dim() == 2
    if squeeze:
        lab = lab[None]
    b = lab.shape[0]
    blocks = lab.reshape(b, h // factor, factor, w // factor, factor)
    lo = blocks.amin(dim=(2, 4))
    hi = blocks.amax(dim=(2, 4))
    out = torch.where(lo == hi, lo, torch.full_like(lo, ignore_index))
    return out[0] if squeeze else out


def spatial_spread(label_map: Any) -> float:
    """How far pixels lie from the centroid of their own cluster, in units of the image diagonal.

    ``sqrt(mean over pixels of |pos - centroid(cluster of pixel)|^2) / sqrt(H**2 + W**2)``: the
    k-means objective restricted to the (x, y) part. Compact, blob-like clusters give small
    values; clusters scattered over the whole image give values near that of a single cluster
    covering everything (one cluster on a square image: 0.289 of the diagonal, i.e. 0.408 of the side).

    Args:
        label_map: (H, W) integer labels.

    Returns:
        A float in [0, 1).
    """
    lab = check_labels(label_map, "label_map", ndim=2)
    if lab.size == 0:
        raise ValueError(f"label_map: expected a non-empty label map, got shape {lab.shape}")
    h, w = lab.shape
    yy, xx = np.mgrid[0:h, 0:w]
    pos = np.stack([xx.ravel() + 0.5, yy.ravel() + 0.5], axis=1) / np.hypot(h, w)  # as position_features
    _, inv = np.unique(lab.ravel(), return_inverse=True)
    inv = inv.ravel()
    counts = np.bincount(inv).astype(np.float64)
    centroids = np.stack([np.bincount(inv, weights=pos[:, j]) for j in range(2)], axis=1) / counts[:, None]
    sq = ((pos - centroids[inv]) ** 2).sum(axis=1)
    return float(np.sqrt(sq.mean()))


def components_per_cluster(label_map: Any) -> np.ndarray:
    """Number of 4-connected pieces each cluster of a label map falls into.

    Args:
        label_map: (H, W) integer labels.

    Returns:
        (K,) int64 array, one count per distinct label in increasing label order. A cluster that
        is one solid region counts 1; a speckled cluster counts hundreds.
    """
    from scipy import ndimage

    lab = check_labels(label_map, "label_map", ndim=2)
    if lab.size == 0:
        raise ValueError(f"label_map: expected a non-empty label map, got shape {lab.shape}")
    return np.array([ndimage.label(lab == v)[1] for v in np.unique(lab)], dtype=np.int64)
