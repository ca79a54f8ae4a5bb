"""Per-pixel feature vectors for clustering, the inputs of lesson 1's clustering.

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

Statistics of the label maps a clustering produces are in :mod:`course_utils.labels`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validate import check_float, check_image, shape_hw

__all__ = ["POSITION_SCALES", "rgb_features", "position_features", "rgb_position_features"]

POSITION_SCALES = ("diagonal", "max_side", "pixels")


def _image_float(image: Any, name: str = "image") -> np.ndarray:
    arr = check_image(image, name)
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    return arr.astype(np.float32, copy=False)


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
    h, w = shape_hw(shape_or_image)
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
