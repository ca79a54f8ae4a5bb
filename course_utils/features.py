"""Per-pixel feature vectors for clustering, and two statistics of the label maps it produces.

An (H, W, 3) image becomes N = H*W points, one row per pixel in raster order (row by row):

* :func:`rgb_features`          -- (N, 3) colour ``(r, g, b)`` as float32 in [0, 1];
* :func:`position_features`     -- (N, 2) position ``(x, y)`` of the pixel centre;
* :func:`rgb_position_features` -- (N, 5) ``(r, g, b, weight*x, weight*y)``.

Units, which make ``weight`` (lambda in lesson 1) meaningful
--------------------------------------------------------------
Colour is in [0, 1] per channel. By default (``scale="diagonal"``) positions are divided by the
image diagonal ``sqrt(H**2 + W**2)``, so two pixels at opposite corners are exactly 1 apart and
the features do not depend on the image resolution. In the squared distance k-means uses,

    d^2 = |colour_a - colour_b|^2 + weight^2 * |pos_a - pos_b|^2,

``weight = 1`` makes "crossing the whole image" cost as much as a colour change of 1 (black to
full red, say); ``weight = 4`` makes a move of a quarter of the diagonal cost that much. The same
``weight`` therefore gives the same kind of segmentation on a 128-pixel thumbnail and on the
full-size photo. ``scale="max_side"`` divides by ``max(H, W)`` instead; ``scale="pixels"`` keeps
raw pixel units (used in lesson 1 to show why scaling matters).

Statistics of a label map (used to *measure* what the weight does)
------------------------------------------------------------------
* :func:`spatial_spread`         -- RMS distance of pixels to their cluster's centroid, in units
  of the image diagonal (small = compact clusters);
* :func:`components_per_cluster` -- number of 4-connected pieces each cluster falls into
  (1 = one solid region; hundreds = salt-and-pepper speckle).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .validation import check_float, check_image, check_int, check_labels, describe_value

__all__ = [
    "POSITION_SCALES",
    "rgb_features",
    "position_features",
    "rgb_position_features",
    "as_label_map",
    "spatial_spread",
    "components_per_cluster",
]

POSITION_SCALES = ("diagonal", "max_side", "pixels")


def _image_float(image: Any, name: str = "image") -> np.ndarray:
    arr = check_image(image, name)
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    return arr.astype(np.float32, copy=False)


def _shape_hw(shape_or_image: Any, name: str = "shape_or_image") -> tuple[int, int]:
    """(H, W) from an (H, W) / (H, W, C) shape tuple or from an image array (numpy or torch)."""
    if isinstance(shape_or_image, (tuple, list)):
        if len(shape_or_image) not in (2, 3):
            raise ValueError(
                f"{name}: expected a shape (H, W) or (H, W, C), got a {len(shape_or_image)}-element "
                f"shape {tuple(shape_or_image)!r}"
            )
        h = check_int(shape_or_image[0], f"{name}[0] (H)", min_value=1)
        w = check_int(shape_or_image[1], f"{name}[1] (W)", min_value=1)
        return h, w
    shape = getattr(shape_or_image, "shape", None)
    if shape is None:
        raise TypeError(f"{name}: expected an (H, W) shape or an image array, got {describe_value(shape_or_image)}")
    if len(shape) == 3 and shape[-1] == 3:
        check_image(shape_or_image, name)  # also rejects NaN, values outside [0, 1], ...
        return int(shape[0]), int(shape[1])
    if len(shape) == 2:
        if 0 in tuple(shape):
            raise ValueError(f"{name}: expected a non-empty array, got shape {tuple(shape)}")
        return int(shape[0]), int(shape[1])
    check_image(shape_or_image, name)  # raises the informative message (CHW, RGBA, ...)
    raise AssertionError("unreachable")  # pragma: no cover


def rgb_features(image: Any) -> np.ndarray:
    """Colour of every pixel as one row.

    Args:
        image: (H, W, 3) RGB, uint8 in [0, 255] or float in [0, 1] (numpy or torch).

    Returns:
        (H*W, 3) float32 array of ``(r, g, b)`` in [0, 1], pixels in raster order.
    """
    img = _image_float(image)
    return np.ascontiguousarray(img.reshape(-1, 3))


def position_features(shape_or_image: Any, scale: str = "diagonal") -> np.ndarray:
    """Position ``(x, y)`` of every pixel centre as one row.

    Args:
        shape_or_image: an (H, W) or (H, W, C) shape, an (H, W, 3) image or an (H, W) array.
        scale: ``"diagonal"`` (default) divides by ``sqrt(H**2 + W**2)``, so positions lie in
            [0, 1) and the two far corners are 1 apart; ``"max_side"`` divides by ``max(H, W)``;
            ``"pixels"`` keeps pixel units. ``x`` is the column (+0.5), ``y`` the row (+0.5).

    Returns:
        (H*W, 2) float32 array, pixels in raster order (row 0 left to right, then row 1, ...).
    """
    h, w = _shape_hw(shape_or_image)
    if scale not in POSITION_SCALES:
        raise ValueError(f"scale: expected one of {POSITION_SCALES}, got {scale!r}")
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    pos = np.stack([xx.ravel(), yy.ravel()], axis=1)
    if scale == "diagonal":
        pos /= np.hypot(h, w)
    elif scale == "max_side":
        pos /= max(h, w)
    return pos.astype(np.float32)


def rgb_position_features(image: Any, weight: float = 1.0, scale: str = "diagonal") -> np.ndarray:
    """Colour and weighted position of every pixel: ``(r, g, b, weight*x, weight*y)``.

    Args:
        image: (H, W, 3) RGB, uint8 or float in [0, 1] (numpy or torch).
        weight: lambda >= 0, how much one unit of position counts against one unit of colour.
            With the default ``scale="diagonal"``, ``weight=1`` makes walking across the whole
            image diagonal cost as much as a colour change of 1 (see the module docstring).
            ``weight=0`` gives colour-only clustering (the position columns are all zero).
        scale: how positions are normalised, see :func:`position_features`.

    Returns:
        (H*W, 5) float32 array, pixels in raster order.
    """
    weight = check_float(weight, "weight", min_value=0.0)
    rgb = rgb_features(image)  # validates the image
    pos = position_features(tuple(image.shape[:2]), scale=scale)
    return np.concatenate([rgb, np.float32(weight) * pos], axis=1)


def as_label_map(labels: Any, shape: Sequence[int] | Any) -> np.ndarray:
    """Reshape one label per pixel (raster order) into an (H, W) label map.

    Args:
        labels: (H*W,) integer labels, e.g. what ``clustering.kmeans`` returns.
        shape: the image, or its (H, W) / (H, W, C) shape.

    Returns:
        (H, W) int64 label map.
    """
    h, w = _shape_hw(shape, "shape")
    lab = check_labels(labels, "labels", ndim=1)
    if lab.shape[0] != h * w:
        raise ValueError(
            f"labels: expected one label per pixel, H*W = {h}*{w} = {h * w}, got {lab.shape[0]} labels"
        )
    return lab.reshape(h, w).astype(np.int64, copy=False)


def spatial_spread(label_map: Any) -> float:
    """How far pixels lie from the centroid of their own cluster, in units of the image diagonal.

    ``sqrt(mean over pixels of |pos - centroid(cluster of pixel)|^2) / sqrt(H**2 + W**2)``: the
    k-means objective restricted to the (x, y) part. Compact, blob-like clusters give small
    values; clusters scattered over the whole image give values near that of a single cluster
    covering everything (about 0.41 of the diagonal for a square image).

    Args:
        label_map: (H, W) integer labels.

    Returns:
        A float in [0, 1).
    """
    lab = check_labels(label_map, "label_map", ndim=2)
    if lab.size == 0:
        raise ValueError(f"label_map: expected a non-empty label map, got shape {lab.shape}")
    h, w = lab.shape
    pos = position_features((h, w), scale="diagonal").astype(np.float64)
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
