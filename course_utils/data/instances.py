"""Instance segmentation data generated anywhere (lesson 7): same-coloured objects that touch or cross.

* :class:`ScatteredSticks` -- the sticks of De Brabandere et al. (2017), crossing and occluding;
* :class:`TouchingBlobs` -- same-colour cells that touch, where colour cannot separate instances;
* :func:`fluorescent_nuclei` -- one 12-bit, uint16 microscopy-like image of nuclei and its mask,
  the kind of data a reader brings to :mod:`course_utils.lab.owndata`.

Labels are instance ids: 0 is the background, 1..K the objects.
"""

from __future__ import annotations

import numpy as np
import torch

from .._validate import check_float, check_int
from ._base import SyntheticDataset

__all__ = ["ScatteredSticks", "TouchingBlobs", "fluorescent_nuclei"]

_SPLITS = {"train": 0, "test": 1}
_STREAM = 7_000  # instance datasets' streams never meet the shapes' ones


def _stick_mask(size: int, centre, angle: float, length: float, width: float) -> np.ndarray:
    """Boolean (size, size) mask of a stick: the pixels within width/2 of a segment."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    d = np.array([np.cos(angle), np.sin(angle)], dtype=np.float32)
    px, py = xx - centre[0], yy - centre[1]
    t = np.clip(px * d[0] + py * d[1], -length / 2, length / 2)
    dist2 = (px - t * d[0]) ** 2 + (py - t * d[1]) ** 2
    return dist2 <= (width / 2) ** 2


class ScatteredSticks(SyntheticDataset):
    """The "scattered sticks" of De Brabandere et al. (2017): same-coloured sticks that cross.

    Each image has ``n_sticks`` sticks of random centre, angle and length, drawn one after the
    other so that later sticks occlude earlier ones. A new stick is redrawn (up to 200 tries) if
    it would leave an earlier stick with less than ``min_visible`` of its own area visible or less
    than ``min_pixels`` pixels. All sticks have the same colour, so colour cannot tell them apart.

    Args:
        n_items: number of images in the split.
        size: side of the square images in pixels (256 in the paper; smaller in fast mode).
        n_sticks: sticks per image (about 8 in the paper).
        split: ``"train"`` or ``"test"``; the two splits use disjoint random streams.
        seed: base seed; the same (seed, split, index) always gives the same image.
        min_visible: minimum visible fraction of every stick's area, in (0, 1].
        width: stick width in pixels (default ``max(2, size / 24)``).

    Items: ``(image, labels)`` with image (3, H, W) float32 in [0, 1] and labels (H, W) int64,
    0 = background and 1..n_sticks the sticks in drawing order.
    """

    class_names = ("background", "stick")
    SPLITS = _SPLITS
    STREAM = _STREAM
    STICK_RGB = (0.95, 0.8, 0.25)
    BACKGROUND_RGB = (0.12, 0.12, 0.2)

    def __init__(
        self,
        n_items: int = 64,
        size: int = 256,
        n_sticks: int = 8,
        split: str = "train",
        seed: int = 0,
        min_visible: float = 0.5,
        width: float | None = None,
    ):
        super().__init__(n_items, split, seed)
        self.size = check_int(size, "size", min_value=16)
        self.n_sticks = check_int(n_sticks, "n_sticks", min_value=1, max_value=64)
        self.min_visible = check_float(min_visible, "min_visible", min_value=1e-3, max_value=1.0)
        self.width = (
            max(2.0, size / 24) if width is None else check_float(width, "width", min_value=1.0, max_value=size / 2)
        )
        self.min_pixels = int(max(4, 2 * self.width**2))

    def _make(self, rng):
        s = self.size
        labels = np.zeros((s, s), np.int64)
        areas: list[int] = []
        for k in range(1, self.n_sticks + 1):
            for _ in range(200):
                centre = rng.uniform(0.1 * s, 0.9 * s, size=2)
                angle = rng.uniform(0, np.pi)
                length = rng.uniform(0.3 * s, 0.7 * s)
                mask = _stick_mask(s, centre, angle, length, self.width)
                trial = labels.copy()
                trial[mask] = k
                counts = np.bincount(trial.ravel(), minlength=k + 1)
                full = areas + [int(mask.sum())]
                if all(counts[j + 1] >= max(self.min_pixels, self.min_visible * full[j]) for j in range(k)):
                    labels, areas = trial, full
                    break
            else:
                raise RuntimeError(
                    f"could not place stick {k} of {self.n_sticks} with min_visible={self.min_visible}; "
                    f"use fewer sticks or a larger size"
                )
        image = np.empty((s, s, 3), np.float32)
        image[:] = self.BACKGROUND_RGB
        image[labels > 0] = self.STICK_RGB
        image += rng.normal(0.0, 0.03, size=image.shape).astype(np.float32)
        return np.clip(image, 0.0, 1.0), labels


class TouchingBlobs(SyntheticDataset):
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

    class_names = ("background", "blob")
    SPLITS = _SPLITS
    STREAM = _STREAM
    COLORS = ((0.85, 0.35, 0.3), (0.3, 0.6, 0.85), (0.9, 0.85, 0.4), (0.45, 0.75, 0.4))
    BACKGROUND_RGB = (0.1, 0.1, 0.1)

    def __init__(
        self,
        n_items: int = 64,
        size: int = 64,
        n_cells: int = 10,
        n_colors: int = 2,
        split: str = "train",
        seed: int = 0,
        p_background: float = 0.3,
        min_area: int | None = None,
    ):
        super().__init__(n_items, split, seed)
        self.size = check_int(size, "size", min_value=8)
        self.n_cells = check_int(n_cells, "n_cells", min_value=2, max_value=256)
        self.n_colors = check_int(n_colors, "n_colors", min_value=1, max_value=len(self.COLORS))
        self.p_background = check_float(p_background, "p_background", min_value=0.0, max_value=0.9)
        self.min_area = max(4, size * size // 200) if min_area is None else check_int(min_area, "min_area", min_value=1)

    def _colors_and_labels(self, rng):
        from skimage.measure import label as cc_label

        s = self.size
        yy, xx = np.mgrid[0:s, 0:s]
        for _ in range(200):
            pts = rng.uniform(0, s, size=(self.n_cells, 2))
            d2 = (yy[..., None] - pts[:, 0]) ** 2 + (xx[..., None] - pts[:, 1]) ** 2
            cell = d2.argmin(-1)
            is_bg = rng.uniform(size=self.n_cells) < self.p_background
            cell_color = np.where(is_bg, 0, rng.integers(1, self.n_colors + 1, size=self.n_cells))
            color = cell_color[cell]
            labels = cc_label(color, background=0, connectivity=1).astype(np.int64)
            counts = np.bincount(labels.ravel())[1:]
            if len(counts) >= 1 and counts.min() >= self.min_area:
                return color.astype(np.int64), labels
        raise RuntimeError("could not draw blobs whose instances all reach min_area; lower min_area")

    def _make(self, rng):
        color, labels = self._colors_and_labels(rng)
        palette = np.array((self.BACKGROUND_RGB,) + self.COLORS[: self.n_colors], np.float32)
        image = palette[color] + rng.normal(0.0, 0.02, size=color.shape + (3,)).astype(np.float32)
        return np.clip(image, 0.0, 1.0), labels

    def color_map(self, index: int) -> torch.Tensor:
        """(H, W) int64 colour index of image ``index`` (0 = background): the semantic labels."""
        color, _ = self._colors_and_labels(self.rng(self._index(index)))
        return torch.from_numpy(color)


def fluorescent_nuclei(
    seed: int, height: int = 96, width: int = 128, n_nuclei: int = 28
) -> tuple[np.ndarray, np.ndarray]:
    """A fluorescence-microscopy-like image of nuclei, some touching or overlapping, and its mask.

    Elliptical nuclei (semi-axes 5-8 and 3.5-5.5 px, random orientation and brightness, dimmer at
    the rim) are drawn one after the other, later ones on top; nuclei left with fewer than 12
    visible pixels are dropped. The signal is blurred (sigma 0.8 px), put on an uneven background,
    and given Poisson (shot) noise, as a 12-bit camera stores it in uint16.

    Args:
        seed: the same seed always gives the same image.
        height: H in pixels (>= 16).
        width: W in pixels (>= 16).
        n_nuclei: nuclei drawn (>= 1); a few may be dropped as hidden.

    Returns:
        ``(image, labels)``: image (H, W) uint16 in [0, 4095]; labels (H, W) uint16, 0 background
        and one value per visible nucleus (not consecutive where nuclei were dropped).
    """
    from scipy.ndimage import gaussian_filter

    seed = check_int(seed, "seed", min_value=0)
    h = check_int(height, "height", min_value=16)
    w = check_int(width, "width", min_value=16)
    n = check_int(n_nuclei, "n_nuclei", min_value=1, max_value=65535)
    rng = np.random.default_rng([_STREAM + 2, seed])
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    labels = np.zeros((h, w), np.uint16)
    signal = np.zeros((h, w))
    for k in range(1, n + 1):
        cy, cx = rng.uniform(5, h - 5), rng.uniform(5, w - 5)
        a, b, th = rng.uniform(5, 8), rng.uniform(3.5, 5.5), rng.uniform(0, np.pi)
        u = ((xx - cx) * np.cos(th) + (yy - cy) * np.sin(th)) / a
        v = (-(xx - cx) * np.sin(th) + (yy - cy) * np.cos(th)) / b
        inside = u * u + v * v <= 1
        labels[inside] = k
        signal[inside] = rng.uniform(0.6, 1.0) * (1 - 0.35 * (u * u + v * v)[inside])
    ids, counts = np.unique(labels, return_counts=True)
    hidden = ids[(ids > 0) & (counts < 12)]
    labels[np.isin(labels, hidden)] = 0
    image = gaussian_filter(signal, 0.8) * 2600 + 300 + gaussian_filter(rng.normal(0, 1, (h, w)), 3) * 150
    return rng.poisson(np.clip(image, 0, None)).clip(0, 4095).astype(np.uint16), labels
