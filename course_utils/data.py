"""Procedurally generated datasets that can be trained on anywhere (deterministic by seed).

Two sections, each owned by one lesson:
* semantic segmentation (lesson 5): shapes on cluttered, textured backgrounds;
* instance segmentation (lesson 7): scattered sticks and touching same-colour blobs.
"""
from __future__ import annotations

# ---------------------------------------------------------------------------------------------
# Semantic segmentation (lesson 5)
# ---------------------------------------------------------------------------------------------


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
