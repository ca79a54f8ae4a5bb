"""Procedurally generated datasets that can be trained on anywhere (deterministic by seed).

Two sections, each owned by one lesson:
* semantic segmentation (lesson 5): shapes on cluttered, textured backgrounds;
* instance segmentation (lesson 7): scattered sticks and touching same-colour blobs.
"""
from __future__ import annotations

# ---------------------------------------------------------------------------------------------
# Semantic segmentation (lesson 5)
# ---------------------------------------------------------------------------------------------
import math

import numpy as np
import torch
from torch.utils.data import Dataset as _SemDataset

from .validation import check_float, check_int, describe_value

#: Class names of :class:`ShapesDataset`; a mask value indexes this tuple (0 is the background).
SHAPE_CLASSES: tuple[str, ...] = ("background", "disc", "square", "triangle", "ring", "cross")
#: Split name -> the number that keys its random streams (so splits never share an item).
SHAPE_SPLITS: dict[str, int] = {"train": 0, "val": 1, "test": 2}
#: Classes of the optional Oxford-IIIT Pet trimaps; the trimap's border band becomes PET_IGNORE_INDEX.
PET_CLASSES: tuple[str, ...] = ("background", "pet")
PET_IGNORE_INDEX = 255


def _sem_size(size, name: str = "size") -> tuple[int, int]:
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        s = check_int(size, name, min_value=16)
        return s, s
    if isinstance(size, (tuple, list)) and len(size) == 2:
        return check_int(size[0], f"{name}[0]", min_value=16), check_int(size[1], f"{name}[1]", min_value=16)
    raise TypeError(f"{name}: expected an int >= 16 or a pair (H, W) of ints >= 16, got {describe_value(size)}")


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


def render_shapes_scene(rng: np.random.Generator, height: int, width: int, *, max_shapes: int = 3,
                        n_clutter: int = 5, radius: tuple[float, float] = (0.11, 0.2)) -> tuple[np.ndarray, np.ndarray]:
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


class ShapesDataset(_SemDataset):
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

    def __init__(self, n_items: int, size=64, split: str = "train", seed: int = 0, *, max_shapes: int = 3,
                 n_clutter: int = 5, radius: tuple[float, float] = (0.11, 0.2)):
        self.n_items = check_int(n_items, "n_items", min_value=1)
        self.height, self.width = _sem_size(size)
        if split not in SHAPE_SPLITS:
            raise ValueError(f"split: expected one of {list(SHAPE_SPLITS)}, got {split!r}")
        self.split = split
        self.seed = check_int(seed, "seed", min_value=0)
        self.max_shapes = check_int(max_shapes, "max_shapes", min_value=1)
        self.n_clutter = check_int(n_clutter, "n_clutter", min_value=0)
        if not (isinstance(radius, (tuple, list)) and len(radius) == 2):
            raise TypeError(f"radius: expected a pair (min, max) of fractions, got {describe_value(radius)}")
        lo = check_float(radius[0], "radius[0]", min_value=0.02, max_value=0.3)
        hi = check_float(radius[1], "radius[1]", min_value=lo, max_value=0.3)
        self.radius = (lo, hi)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def __len__(self) -> int:
        return self.n_items

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"index: expected an int, got {describe_value(index)}")
        i = int(index) + (self.n_items if index < 0 else 0)
        if not 0 <= i < self.n_items:
            raise IndexError(f"index: expected -{self.n_items} <= index < {self.n_items}, got {index}")
        rng = np.random.default_rng([self.seed, SHAPE_SPLITS[self.split], i])
        img, mask = render_shapes_scene(rng, self.height, self.width, max_shapes=self.max_shapes,
                                        n_clutter=self.n_clutter, radius=self.radius)
        return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))), torch.from_numpy(mask)

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """All items stacked: images (N, 3, H, W) float32 and masks (N, H, W) int64."""
        images, masks = zip(*(self[i] for i in range(self.n_items)))
        return torch.stack(images), torch.stack(masks)

    def __repr__(self) -> str:
        return (f"ShapesDataset(n_items={self.n_items}, size=({self.height}, {self.width}), split={self.split!r}, "
                f"seed={self.seed}, classes={len(self.class_names)})")


def trimap_to_labels(trimap) -> np.ndarray:
    """Oxford-IIIT Pet trimap (1 = pet, 2 = background, 3 = border) -> labels of :data:`PET_CLASSES`.

    Returns an int64 array of the same shape: 1 for the pet, 0 for the background and
    :data:`PET_IGNORE_INDEX` for the uncertain border band (leave it out of loss and metrics).
    """
    arr = np.asarray(trimap)
    if arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"trimap: expected a non-empty integer array with values 1, 2, 3, got {describe_value(arr)}")
    bad = ~np.isin(arr, (1, 2, 3))
    if bad.any():
        raise ValueError(f"trimap: expected values 1 (pet), 2 (background), 3 (border), got {np.unique(arr[bad])[:5]}")
    lut = np.array([0, 1, 0, PET_IGNORE_INDEX], dtype=np.int64)
    return lut[arr]


class _PetSegmentation(_SemDataset):
    """Oxford-IIIT Pet images and trimaps, resized, as (image, mask) like :class:`ShapesDataset`."""

    class_names = PET_CLASSES

    def __init__(self, base, size: tuple[int, int]):
        self.base, self.size = base, size

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int):
        from PIL import Image

        img, trimap = self.base[index]
        h, w = self.size
        img = np.asarray(img.convert("RGB").resize((w, h), Image.BILINEAR), dtype=np.float32) / 255.0
        tri = np.asarray(trimap.resize((w, h), Image.NEAREST))
        return (torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))),
                torch.from_numpy(trimap_to_labels(tri)))


def oxford_pet_segmentation(root: str = "data", split: str = "trainval", size=128, download: bool = True):
    """The Oxford-IIIT Pet dataset (pet / background / ignored border) via torchvision; online only.

    Downloads about 800 MB into ``root`` the first time (``download=True``). Refuses with a
    ``RuntimeError`` when ``COURSE_OFFLINE=1`` forbids downloads; :class:`ShapesDataset` needs
    none. Items are ``(image (3, H, W) float32 in [0, 1], mask (H, W) int64)`` with mask values
    0 (background), 1 (pet) and :data:`PET_IGNORE_INDEX` (border band).
    """
    from . import runtime

    if split not in ("trainval", "test"):
        raise ValueError(f"split: expected 'trainval' or 'test', got {split!r}")
    hw = _sem_size(size)
    if not isinstance(download, bool):
        raise TypeError(f"download: expected True or False, got {describe_value(download)}")
    if download and runtime.flags().offline:
        raise RuntimeError(
            "oxford_pet_segmentation: COURSE_OFFLINE=1 forbids downloads, and the Oxford-IIIT Pet "
            "dataset (about 800 MB) must be downloaded. Unset COURSE_OFFLINE (or set it to 0) on a "
            "machine with internet access, pass download=False if the files are already in "
            f"{root!r}, or use ShapesDataset, which is generated locally."
        )
    from torchvision.datasets import OxfordIIITPet

    base = OxfordIIITPet(root, split=split, target_types="segmentation", download=download)
    return _PetSegmentation(base, hw)


# ---------------------------------------------------------------------------------------------
# Instance segmentation (lesson 7)
# ---------------------------------------------------------------------------------------------
import numpy as _np_inst
import torch as _torch_inst
from torch.utils.data import Dataset as _Dataset

_SPLITS = {"train": 0, "test": 1}


def _instance_rng(seed: int, split: str, index: int) -> _np_inst.random.Generator:
    """One independent random stream per (seed, split, index): test images never repeat train ones."""
    return _np_inst.random.default_rng([int(seed), 7_000 + _SPLITS[split], int(index)])


def _check_split(split) -> str:
    if split not in _SPLITS:
        raise ValueError(f"split: expected one of {sorted(_SPLITS)}, got {split!r}")
    return split


class _InstanceDataset(_Dataset):
    """Common part: length, split, seed, indexing with bounds checks, stacking to tensors."""

    def __init__(self, n: int, size: int, split: str, seed: int, min_size: int):
        from .validation import check_int

        self.n = check_int(n, "n", min_value=1)
        self.size = check_int(size, "size", min_value=min_size)
        self.split = _check_split(split)
        self.seed = check_int(seed, "seed", min_value=0)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index):
        if isinstance(index, bool) or not isinstance(index, (int, _np_inst.integer)):
            raise TypeError(f"index: expected an int, got {type(index).__name__}")
        index = int(index)
        if index < 0:
            index += self.n
        if not 0 <= index < self.n:
            raise IndexError(f"index: expected 0 <= index < {self.n}, got {index}")
        image, labels = self._make(_instance_rng(self.seed, self.split, index))
        return (
            _torch_inst.from_numpy(_np_inst.ascontiguousarray(image.transpose(2, 0, 1))),
            _torch_inst.from_numpy(labels.astype(_np_inst.int64)),
        )

    def tensors(self):
        """All items stacked: images (N, 3, H, W) float32 in [0, 1], labels (N, H, W) int64."""
        items = [self[i] for i in range(self.n)]
        return _torch_inst.stack([a for a, _ in items]), _torch_inst.stack([b for _, b in items])

    def _make(self, rng):  # pragma: no cover - abstract
        raise NotImplementedError


def _stick_mask(size: int, centre, angle: float, length: float, width: float) -> _np_inst.ndarray:
    """Boolean (size, size) mask of a stick: the pixels within width/2 of a segment."""
    yy, xx = _np_inst.mgrid[0:size, 0:size].astype(_np_inst.float32) + 0.5
    d = _np_inst.array([_np_inst.cos(angle), _np_inst.sin(angle)], dtype=_np_inst.float32)
    px, py = xx - centre[0], yy - centre[1]
    t = _np_inst.clip(px * d[0] + py * d[1], -length / 2, length / 2)
    dist2 = (px - t * d[0]) ** 2 + (py - t * d[1]) ** 2
    return dist2 <= (width / 2) ** 2


class ScatteredSticks(_InstanceDataset):
    """The "scattered sticks" of De Brabandere et al. (2017): same-coloured sticks that cross.

    Each image has ``n_sticks`` sticks of random centre, angle and length, drawn one after the
    other so that later sticks occlude earlier ones. A new stick is redrawn (up to 200 tries) if
    it would leave an earlier stick with less than ``min_visible`` of its own area visible or less
    than ``min_pixels`` pixels. All sticks have the same colour, so colour cannot tell them apart.

    Args:
        n: number of images in the split.
        size: side of the square images in pixels (256 in the paper; smaller in fast mode).
        n_sticks: sticks per image (about 8 in the paper).
        split: ``"train"`` or ``"test"``; the two splits use disjoint random streams.
        seed: base seed; the same (seed, split, index) always gives the same image.
        min_visible: minimum visible fraction of every stick's area, in (0, 1].
        width: stick width in pixels (default ``max(2, size / 24)``).

    Items: ``(image, labels)`` with image (3, H, W) float32 in [0, 1] and labels (H, W) int64,
    0 = background and 1..n_sticks the sticks in drawing order.
    """

    STICK_RGB = (0.95, 0.8, 0.25)
    BACKGROUND_RGB = (0.12, 0.12, 0.2)

    def __init__(self, n: int = 64, size: int = 256, n_sticks: int = 8, split: str = "train",
                 seed: int = 0, min_visible: float = 0.5, width: float | None = None):
        from .validation import check_float, check_int

        super().__init__(n, size, split, seed, min_size=16)
        self.n_sticks = check_int(n_sticks, "n_sticks", min_value=1, max_value=64)
        self.min_visible = check_float(min_visible, "min_visible", min_value=1e-3, max_value=1.0)
        self.width = max(2.0, size / 24) if width is None else check_float(width, "width", min_value=1.0,
                                                                             max_value=size / 2)
        self.min_pixels = int(max(4, 2 * self.width ** 2))

    def _make(self, rng):
        s = self.size
        labels = _np_inst.zeros((s, s), _np_inst.int64)
        areas: list[int] = []
        for k in range(1, self.n_sticks + 1):
            for _ in range(200):
                centre = rng.uniform(0.1 * s, 0.9 * s, size=2)
                angle = rng.uniform(0, _np_inst.pi)
                length = rng.uniform(0.3 * s, 0.7 * s)
                mask = _stick_mask(s, centre, angle, length, self.width)
                trial = labels.copy()
                trial[mask] = k
                counts = _np_inst.bincount(trial.ravel(), minlength=k + 1)
                full = areas + [int(mask.sum())]
                if all(counts[j + 1] >= max(self.min_pixels, self.min_visible * full[j]) for j in range(k)):
                    labels, areas = trial, full
                    break
            else:
                raise RuntimeError(
                    f"could not place stick {k} of {self.n_sticks} with min_visible={self.min_visible}; "
                    f"use fewer sticks or a larger size"
                )
        image = _np_inst.empty((s, s, 3), _np_inst.float32)
        image[:] = self.BACKGROUND_RGB
        image[labels > 0] = self.STICK_RGB
        image += rng.normal(0.0, 0.03, size=image.shape).astype(_np_inst.float32)
        return _np_inst.clip(image, 0.0, 1.0), labels


class TouchingBlobs(_InstanceDataset):
    """Flat-coloured blobs that touch: every connected component of one colour is an instance.

    The image is a Voronoi partition of ``n_cells`` random cells; each cell is background (with
    probability ``p_background``) or takes one of ``n_colors`` colours. Neighbouring cells of the
    same colour merge, and every 4-connected component of a colour becomes one instance, so the
    same colour appears in several instances that colour alone cannot tell apart. Images whose
    smallest instance has fewer than ``min_area`` pixels are redrawn.

    Items: ``(image, labels)`` with image (3, H, W) float32 in [0, 1] and labels (H, W) int64,
    0 = background, 1..K the instances in raster order of first appearance. ``self.colors`` holds
    the palette; :meth:`color_map` gives the per-pixel colour index (the "semantic" view).
    """

    COLORS = ((0.85, 0.35, 0.3), (0.3, 0.6, 0.85), (0.9, 0.85, 0.4), (0.45, 0.75, 0.4))
    BACKGROUND_RGB = (0.1, 0.1, 0.1)

    def __init__(self, n: int = 64, size: int = 64, n_cells: int = 10, n_colors: int = 2,
                 split: str = "train", seed: int = 0, p_background: float = 0.3, min_area: int | None = None):
        from .validation import check_float, check_int

        super().__init__(n, size, split, seed, min_size=8)
        self.n_cells = check_int(n_cells, "n_cells", min_value=2, max_value=256)
        self.n_colors = check_int(n_colors, "n_colors", min_value=1, max_value=len(self.COLORS))
        self.p_background = check_float(p_background, "p_background", min_value=0.0, max_value=0.9)
        self.min_area = max(4, size * size // 200) if min_area is None else check_int(min_area, "min_area", min_value=1)

    def _colors_and_labels(self, rng):
        from skimage.measure import label as cc_label

        s = self.size
        yy, xx = _np_inst.mgrid[0:s, 0:s]
        for _ in range(200):
            pts = rng.uniform(0, s, size=(self.n_cells, 2))
            d2 = (yy[..., None] - pts[:, 0]) ** 2 + (xx[..., None] - pts[:, 1]) ** 2
            cell = d2.argmin(-1)
            is_bg = rng.uniform(size=self.n_cells) < self.p_background
            cell_color = _np_inst.where(is_bg, 0, rng.integers(1, self.n_colors + 1, size=self.n_cells))
            color = cell_color[cell]
            labels = cc_label(color, background=0, connectivity=1).astype(_np_inst.int64)
            counts = _np_inst.bincount(labels.ravel())[1:]
            if len(counts) >= 1 and counts.min() >= self.min_area:
                return color.astype(_np_inst.int64), labels
        raise RuntimeError("could not draw blobs whose instances all reach min_area; lower min_area")

    def _make(self, rng):
        color, labels = self._colors_and_labels(rng)
        palette = _np_inst.array((self.BACKGROUND_RGB,) + self.COLORS[: self.n_colors], _np_inst.float32)
        image = palette[color] + rng.normal(0.0, 0.02, size=color.shape + (3,)).astype(_np_inst.float32)
        return _np_inst.clip(image, 0.0, 1.0), labels

    def color_map(self, index: int) -> _torch_inst.Tensor:
        """(H, W) int64 colour index of image ``index`` (0 = background): the semantic labels."""
        self[index]  # validates the index
        index = int(index) % self.n
        color, _ = self._colors_and_labels(_instance_rng(self.seed, self.split, index))
        return _torch_inst.from_numpy(color)
