"""Semantic segmentation data generated anywhere (lessons 4-6): shapes on cluttered, textured backgrounds."""

from __future__ import annotations

import math

import numpy as np

from .._validate import check_float, check_int, describe_value
from ._base import SyntheticDataset, check_size

__all__ = ["SHAPE_CLASSES", "SHAPE_SPLITS", "ShapesDataset", "render_shapes_scene"]

#: Class names of :class:`ShapesDataset`; a mask value indexes this tuple (0 is the background).
SHAPE_CLASSES: tuple[str, ...] = ("background", "disc", "square", "triangle", "ring", "cross")
#: Split name -> the number that keys its random streams (so splits never share an item).
SHAPE_SPLITS: dict[str, int] = {"train": 0, "val": 1, "test": 2}


def _sem_colour(rng: np.random.Generator, avoid: np.ndarray | None = None, min_dist: float = 0.3) -> np.ndarray:
    """One RGB colour, uniform in [0.05, 0.95]^3, at least ``min_dist`` away from ``avoid``.

    Shapes and clutter both draw their colours here, so a colour says nothing about the class.
    """
    for _ in range(100):
        c = rng.uniform(0.05, 0.95, size=3)
        if avoid is None or np.linalg.norm(c - avoid) >= min_dist:
            break
    return c


def _sem_interp(n: int, cells: int) -> np.ndarray:
    """(n, cells+1) linear-interpolation weights from a coarse grid to ``n`` samples."""
    pos = np.linspace(0.0, cells, n)
    i0 = np.minimum(pos.astype(int), cells - 1)
    mat = np.zeros((n, cells + 1))
    mat[np.arange(n), i0] = 1.0 - (pos - i0)
    mat[np.arange(n), i0 + 1] = pos - i0
    return mat


def _sem_smooth_noise(rng: np.random.Generator, h: int, w: int, cells: int, channels: int) -> np.ndarray:
    """(h, w, channels) bilinear upsampling of a (cells+1, cells+1, channels) grid of N(0, 1) values."""
    grid = rng.standard_normal((cells + 1, cells + 1, channels))
    return np.einsum("hi,ijc,wj->hwc", _sem_interp(h, cells), grid, _sem_interp(w, cells))


def _sem_shape(kind: str, yy, xx, cy: float, cx: float, r: float, angle: float) -> np.ndarray:
    """Boolean (H, W) mask of one shape of size ``r`` centred at (cy, cx), rotated by ``angle``."""
    dy, dx = yy - cy, xx - cx
    ca, sa = math.cos(angle), math.sin(angle)
    u, v = ca * dx + sa * dy, -sa * dx + ca * dy
    if kind == "disc":
        return u * u + v * v <= r * r
    if kind == "ring":  # hole radius 0.55 r: the background shows through
        d2 = u * u + v * v
        return (d2 <= r * r) & (d2 >= (0.55 * r) ** 2)
    if kind == "square":
        return (np.abs(u) <= 0.85 * r) & (np.abs(v) <= 0.85 * r)
    if kind == "triangle":  # equilateral, inradius 0.7 r (circumradius 1.4 r)
        inside = np.ones(u.shape, dtype=bool)
        for k in range(3):
            t = math.pi / 2 + 2 * math.pi * k / 3
            inside &= (math.cos(t) * u + math.sin(t) * v) <= 0.7 * r
        return inside
    if kind == "cross":  # arms of half-width 0.33 r
        a = 0.33 * r
        return ((np.abs(u) <= a) & (np.abs(v) <= r)) | ((np.abs(v) <= a) & (np.abs(u) <= r))
    raise ValueError(f"kind: expected one of {SHAPE_CLASSES[1:]}, got {kind!r}")


def _sem_segment_distance(yy, xx, p, q) -> np.ndarray:
    """Distance of every pixel centre to the segment from p to q (points as (y, x))."""
    vy, vx = q[0] - p[0], q[1] - p[1]
    t = np.clip(((yy - p[0]) * vy + (xx - p[1]) * vx) / max(vy * vy + vx * vx, 1e-9), 0.0, 1.0)
    return np.hypot(yy - (p[0] + t * vy), xx - (p[1] + t * vx))


def render_shapes_scene(
    rng: np.random.Generator,
    height: int,
    width: int,
    *,
    max_shapes: int = 3,
    n_clutter: int = 5,
    radius: tuple[float, float] = (0.11, 0.2),
) -> tuple[np.ndarray, np.ndarray]:
    """Draw one scene of :class:`ShapesDataset` from ``rng``.

    Returns an (H, W, 3) float32 image in [0, 1] and an (H, W) int64 mask indexing
    :data:`SHAPE_CLASSES`. Sizes are relative to ``min(height, width)``, so a scene looks the same
    at any resolution.
    """
    h, w = height, width
    m = min(h, w)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    # Background: a base colour, a smooth colour field, stripes and (at the end) pixel noise.
    base = _sem_colour(rng)
    img = base + 0.12 * _sem_smooth_noise(rng, h, w, 3, 3)
    theta, freq = rng.uniform(0, math.pi), rng.uniform(0.8, 1.6) * 64 / m  # radians per pixel
    stripes = np.sin(freq * (math.cos(theta) * xx + math.sin(theta) * yy) + rng.uniform(0, 2 * math.pi))
    img = img + 0.1 * stripes[..., None] * rng.choice([-1.0, 1.0], size=3)
    # Clutter: thin polylines in colours drawn exactly like the shapes' colours.
    for _ in range(int(rng.integers(n_clutter // 2, n_clutter + 1))):
        col = _sem_colour(rng, base)
        pts = [rng.uniform(0, [h, w])]
        for _ in range(int(rng.integers(1, 4))):
            pts.append(np.clip(pts[-1] + rng.normal(0, 0.3 * m, 2), 0, [h, w]))
        half_width = rng.uniform(0.6, 1.6) * m / 64
        on = np.zeros((h, w), dtype=bool)
        for p, q in zip(pts[:-1], pts[1:]):
            on |= _sem_segment_distance(yy, xx, p, q) <= half_width
        img[on] = col
    # Shapes: 1..max_shapes of random classes, sizes, angles and colours, not overlapping.
    mask = np.zeros((h, w), dtype=np.int64)
    placed: list[tuple[float, float, float]] = []
    for _ in range(int(rng.integers(1, max_shapes + 1))):
        cls = int(rng.integers(1, len(SHAPE_CLASSES)))
        r = rng.uniform(*radius) * m
        for _ in range(30):
            cy, cx = rng.uniform(r + 1, h - r - 1), rng.uniform(r + 1, w - r - 1)
            if all(math.hypot(cy - py, cx - px) > r + pr + 2 for py, px, pr in placed):
                break
        else:
            continue  # no free room left for this one
        placed.append((cy, cx, r))
        on = _sem_shape(SHAPE_CLASSES[cls], yy, xx, cy, cx, r, rng.uniform(0, 2 * math.pi))
        img[on] = _sem_colour(rng, base) + 0.04 * rng.standard_normal((int(on.sum()), 3))
        mask[on] = cls
    # Illumination and sensor noise, applied to everything alike.
    img = img * (1.0 + 0.1 * _sem_smooth_noise(rng, h, w, 2, 1)) + 0.03 * rng.standard_normal((h, w, 3))
    return np.clip(img, 0.0, 1.0).astype(np.float32), mask


class ShapesDataset(SyntheticDataset):
    """Synthetic semantic segmentation: shapes on cluttered, textured backgrounds.

    Each scene has a textured background (random base colour, smooth colour field, stripes,
    noise), thin clutter lines, and 1..``max_shapes`` non-overlapping shapes of the classes in
    :data:`SHAPE_CLASSES` (disc, square, triangle, ring, cross), randomly sized and rotated.
    Shapes and clutter take their colours from one and the same distribution, so colour alone
    cannot tell a disc from a line or from the background: a model must use shape and context.

    Item ``i`` of a given ``(seed, split)`` is always the same: it is drawn from its own random
    stream keyed by ``(seed, SHAPE_SPLITS[split], i)``, so the train, val and test splits never
    share an item and any item can be made alone, in any order, at any size.

    Args:
        n_items: number of items (>= 1).
        size: output size, an int (square) or ``(H, W)``, each >= 16.
        split: ``"train"``, ``"val"`` or ``"test"``.
        seed: non-negative int choosing the whole family of scenes.
        max_shapes: at most this many shapes per scene (>= 1).
        n_clutter: at most this many clutter lines (>= 0).
        radius: (min, max) shape size as a fraction of ``min(H, W)``, 0 < min <= max <= 0.3.

    Items are ``(image, mask)``: image a (3, H, W) float32 tensor in [0, 1], mask an (H, W)
    int64 tensor with values in ``range(len(SHAPE_CLASSES))``.
    """

    class_names = SHAPE_CLASSES
    SPLITS = SHAPE_SPLITS
    STREAM = 0

    def __init__(
        self,
        n_items: int,
        size=64,
        split: str = "train",
        seed: int = 0,
        *,
        max_shapes: int = 3,
        n_clutter: int = 5,
        radius: tuple[float, float] = (0.11, 0.2),
    ):
        super().__init__(n_items, split, seed)
        self.height, self.width = check_size(size)
        self.max_shapes = check_int(max_shapes, "max_shapes", min_value=1)
        self.n_clutter = check_int(n_clutter, "n_clutter", min_value=0)
        if not (isinstance(radius, (tuple, list)) and len(radius) == 2):
            raise TypeError(f"radius: expected a pair (min, max) of fractions, got {describe_value(radius)}")
        lo = check_float(radius[0], "radius[0]", min_value=0.02, max_value=0.3)
        hi = check_float(radius[1], "radius[1]", min_value=lo, max_value=0.3)
        self.radius = (lo, hi)

    def _make(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return render_shapes_scene(
            rng, self.height, self.width, max_shapes=self.max_shapes, n_clutter=self.n_clutter, radius=self.radius
        )

    def __repr__(self) -> str:
        return (
            f"ShapesDataset(n_items={self.n_items}, size=({self.height}, {self.width}), split={self.split!r}, "
            f"seed={self.seed}, classes={len(self.class_names)})"
        )
