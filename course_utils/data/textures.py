"""Texture mosaics (lesson 3): regions that differ only in texture, from textures shipped with scikit-image.

* :func:`texture_mosaic` -- a test image whose regions differ only in *texture*: real textures that
  ship with scikit-image (brick, grass, gravel), each remapped so that every region has the same
  distribution of pixel values (hence the same mean colour, brightness and contrast). Per-pixel
  colour cannot separate the regions; a texture descriptor can. The known layout is returned, so a
  clustering can be scored against it.
* :func:`mosaic_layout` -- the layout alone: (H, W) int labels.
* :func:`matched_textures` -- the whole textures, remapped the same way: training material for a
  texture classifier. ``rows="top"`` for training and a mosaic with ``rows="bottom"`` for testing
  keep the two apart (no pixel is in both).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validate import check_array, check_int, describe_value
from ._base import SyntheticDataset

__all__ = ["TEXTURES", "TextureMosaics", "matched_textures", "mosaic_layout", "texture_mosaic"]

#: Grayscale 512x512 textures in ``skimage.data`` that need no download.
TEXTURES = ("brick", "grass", "gravel")

_DEFAULT_TINT = (0.95, 0.85, 0.65)  # a sandy colour, the same for every region
_ROWS = {"all": slice(0, 512), "top": slice(0, 256), "bottom": slice(256, 512)}


def _check_names(textures: Sequence[str]) -> list[str]:
    if isinstance(textures, str) or not isinstance(textures, Sequence):
        raise TypeError(f"textures: expected a sequence of names from {TEXTURES}, got {describe_value(textures)}")
    names = list(textures)
    if not 2 <= len(names) <= 3 or len(set(names)) != len(names) or any(n not in TEXTURES for n in names):
        raise ValueError(f"textures: expected 2 or 3 distinct names from {TEXTURES}, got {names!r}")
    return names


def _check_tint(tint: Sequence[float]) -> np.ndarray:
    tint_arr = check_array(np.asarray(tint, dtype=np.float64), "tint", ndim=1)
    if tint_arr.shape != (3,) or tint_arr.min() < 0 or tint_arr.max() > 1:
        raise ValueError(f"tint: expected 3 values in [0, 1], got {list(np.asarray(tint).ravel())}")
    return tint_arr


def _gray_rows(name: str, rows: str) -> np.ndarray:
    """The selected rows of one scikit-image texture as float64 gray values in [0, 255]."""
    import skimage.data

    if rows not in _ROWS:
        raise ValueError(f"rows: expected one of {list(_ROWS)}, got {rows!r}")
    tex = np.asarray(getattr(skimage.data, name)(), dtype=np.float64)
    if tex.ndim == 3:
        tex = tex.mean(axis=-1)
    return tex[_ROWS[rows]]


def _tinted(gray: np.ndarray, tint: np.ndarray) -> np.ndarray:
    image = np.clip(gray[..., None] / 255.0 * tint[None, None, :], 0.0, 1.0)
    return np.round(image * 255).astype(np.uint8)


def matched_textures(
    textures: Sequence[str] = TEXTURES, *, rows: str = "all", tint: Sequence[float] = _DEFAULT_TINT
) -> np.ndarray:
    """The textures themselves, remapped like a mosaic: one gray-value histogram, one tint.

    Args:
        textures: 2 or 3 names from :data:`TEXTURES`.
        rows: ``"all"`` (512 rows), ``"top"`` (rows 0-255) or ``"bottom"`` (rows 256-511) of each
            512x512 texture.
        tint: RGB multipliers in [0, 1], the same for every texture.

    Returns:
        (n, H, 512, 3) uint8 RGB: texture ``i`` has exactly the pooled gray-value histogram of the
        selected rows of all ``n`` textures (up to rounding), times ``tint``.
    """
    names = _check_names(textures)
    tint_arr = _check_tint(tint)
    grays = [_gray_rows(n, rows) for n in names]
    pooled = np.sort(np.concatenate([g.ravel() for g in grays]))
    return np.stack([_tinted(_match_to(g, pooled), tint_arr) for g in grays])


def mosaic_layout(size: int, n_regions: int = 3) -> np.ndarray:
    """The (size, size) int64 region layout of a texture mosaic.

    Left half region 0, right half split into 1 (top) and 2 (bottom), and a disk of region ``n_regions - 1`` cut into the left half (so no region is a plain
    rectangle). With ``n_regions=2``: left half 0, right half 1, disk of 1 on the left.
    """
    size = check_int(size, "size", min_value=16)
    n_regions = check_int(n_regions, "n_regions", min_value=2, max_value=3)
    yy, xx = np.mgrid[0:size, 0:size]
    lay = np.zeros((size, size), dtype=np.int64)
    lay[:, size // 2 :] = 1
    if n_regions == 3:
        lay[size // 2 :, size // 2 :] = 2
    disk = (yy - 0.5 * size) ** 2 + (xx - 0.27 * size) ** 2 < (0.17 * size) ** 2
    lay[disk] = n_regions - 1
    return lay


def _match_to(values: np.ndarray, reference_sorted: np.ndarray) -> np.ndarray:
    """Replace ``values`` by the reference quantiles of the same rank (exact histogram matching)."""
    ranks = np.argsort(np.argsort(values.ravel(), kind="stable"), kind="stable")
    q = (ranks + 0.5) / ranks.size
    ref_q = (np.arange(reference_sorted.size) + 0.5) / reference_sorted.size
    return np.interp(q, ref_q, reference_sorted).reshape(values.shape)


def texture_mosaic(
    size: int = 256,
    textures: Sequence[str] = TEXTURES,
    *,
    tint: Sequence[float] = _DEFAULT_TINT,
    seed: int = 0,
    rows: str = "all",
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Build a mosaic of real textures whose regions share one colour and one brightness histogram.

    Each texture is cropped at a random place (``seed``) to ``size x size`` and pasted into its
    region of :func:`mosaic_layout`; the gray values inside each region are remapped by rank to
    the pooled histogram of all crops (so all regions have *identical* gray-value distributions,
    up to rounding) and multiplied by the same RGB ``tint``.

    Args:
        size: side of the square output in pixels (16..512; the textures are 512x512).
        textures: 2 or 3 names from :data:`TEXTURES`, one per region.
        tint: RGB multipliers in [0, 1], the same for every region.
        seed: seed of the crop positions.
        rows: crop from ``"all"`` rows of each texture, or only the ``"top"`` (0-255) or
            ``"bottom"`` (256-511) half (then ``size`` is at most 256): a mosaic from the bottom
            halves shares no pixel with :func:`matched_textures` ``(rows="top")``.

    Returns:
        ``(image, layout, names)``: (size, size, 3) uint8 RGB image, (size, size) int64 layout with
        values ``0..len(textures)-1``, and the texture name of each label.
    """
    names = _check_names(textures)
    tint_arr = _check_tint(tint)
    if rows not in _ROWS:
        raise ValueError(f"rows: expected one of {list(_ROWS)}, got {rows!r}")
    size = check_int(size, "size", min_value=16, max_value=512 if rows == "all" else 256)
    seed = check_int(seed, "seed", min_value=0)

    rng = np.random.default_rng(seed)
    crops = []
    for n in names:
        tex = _gray_rows(n, rows)
        y0 = int(rng.integers(0, tex.shape[0] - size + 1))
        x0 = int(rng.integers(0, tex.shape[1] - size + 1))
        crops.append(tex[y0 : y0 + size, x0 : x0 + size])
    # the reference histogram: all crops pooled. Each region's *visible* pixels are matched to it,
    # so the regions of the mosaic (not only the whole crops) share one distribution.
    pooled = np.sort(np.concatenate([c.ravel() for c in crops]))
    layout = mosaic_layout(size, len(names))
    gray = np.zeros((size, size), dtype=np.float64)
    for r, crop in enumerate(crops):
        region = layout == r
        gray[region] = _match_to(crop[region], pooled)
    return _tinted(gray, tint_arr), layout, names


class TextureMosaics(SyntheticDataset):
    """Texture mosaics as a dataset: item ``i`` is :func:`texture_mosaic` with crops drawn from its own stream.

    Args:
        n_items: number of mosaics.
        size: side of the square mosaics in pixels (16..512).
        split: ``"train"`` or ``"test"`` (disjoint random streams).
        seed: base seed.
        textures: 2 or 3 names from :data:`TEXTURES`.

    Items: ``(image (3, H, W) float32 in [0, 1], layout (H, W) int64)``; ``class_names`` are the textures.
    """

    STREAM = 9_000

    def __init__(
        self, n_items: int, size: int = 128, split: str = "train", seed: int = 0, textures: Sequence[str] = TEXTURES
    ):
        super().__init__(n_items, split, seed)
        self.size = check_int(size, "size", min_value=16, max_value=512)
        texture_mosaic(16, textures)  # validates the names
        self.class_names = tuple(textures)

    def _make(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        image, layout, _ = texture_mosaic(self.size, self.class_names, seed=int(rng.integers(2**31)))
        return image.astype(np.float32) / 255.0, layout
