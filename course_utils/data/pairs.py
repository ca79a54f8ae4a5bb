"""Your own (image, instance mask) pairs, checked and converted for the lab (lesson 7).

* :func:`as_image` -- any common image array (grayscale, RGB, RGBA; bool, uint8, uint16, float;
  HWC or CHW) -> a (3, H, W) float32 tensor in [0, 1];
* :func:`as_instance_labels` -- an instance mask (any integer dtype) -> (H, W) int64, 0 background;
* :class:`InstancePairs` -- a dataset of such pairs of any sizes, with random tiles for training.

:mod:`course_utils.lab.owndata` trains and evaluates on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .._validate import _to_numpy, describe_value

__all__ = ["IGNORE", "InstancePairs", "as_image", "as_instance_labels"]

#: Label of pixels that take no part in the loss (padding of images smaller than a tile).
IGNORE = -1

_NORMALIZE = ("auto", "dtype", "percentile")


def as_image(image: Any, name: str = "image", normalize: str = "auto") -> torch.Tensor:
    """Any common image array -> a (3, H, W) float32 tensor in [0, 1].

    Args:
        image: numpy array or tensor: (H, W) grayscale, (H, W, 1), (H, W, 3), (H, W, 4) (the alpha
            channel is dropped) or a (1 or 3, H, W) channels-first array; bool, any integer dtype
            (uint8, uint16, ...) or float.
        name: the argument's name in error messages.
        normalize: ``"dtype"``: integers divided by their dtype's maximum (uint8 by 255, uint16 by
            65535), floats must already lie in [0, 1]; ``"percentile"``: stretched per image from
            its 0.5th to its 99.5th percentile (12-bit data stored as uint16, z-scored floats);
            ``"auto"``: ``"dtype"`` for bool, uint8 and floats in [0, 1], else ``"percentile"``.

    Returns:
        (3, H, W) float32 tensor (grayscale repeated over the three channels).

    Raises:
        TypeError: not an array, or a non-numeric dtype.
        ValueError: an unknown layout, an empty image, NaN/inf values, or floats outside [0, 1]
            with ``normalize="dtype"``.
    """
    if normalize not in _NORMALIZE:
        raise ValueError(f"normalize: expected one of {_NORMALIZE}, got {normalize!r}")
    arr = _to_numpy(image, name)
    if arr.dtype != bool and not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name}: expected a numeric image (bool, integer or float), got dtype {arr.dtype}")
    if arr.size == 0:
        raise ValueError(f"{name}: expected a non-empty image, got shape {arr.shape}")
    if arr.ndim == 2:
        arr = arr[..., None]
    elif arr.ndim == 3 and arr.shape[-1] not in (1, 3, 4) and arr.shape[0] in (1, 3):
        arr = np.moveaxis(arr, 0, -1)  # (C, H, W) -> (H, W, C)
    if arr.ndim != 3 or arr.shape[-1] not in (1, 3, 4):
        raise ValueError(
            f"{name}: expected (H, W), (H, W, 1), (H, W, 3), (H, W, 4) or (1 or 3, H, W), got shape {arr.shape}"
        )
    arr = arr[..., :3]  # RGBA -> RGB
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: expected finite values, got {int((~np.isfinite(arr)).sum())} NaN/inf entries")
    in_unit = np.issubdtype(arr.dtype, np.floating) and float(arr.min()) >= 0.0 and float(arr.max()) <= 1.0
    mode = normalize
    if mode == "auto":
        mode = "dtype" if arr.dtype in (np.bool_, np.uint8) or in_unit else "percentile"
    if mode == "dtype":
        if arr.dtype == bool:
            out = arr.astype(np.float32)
        elif np.issubdtype(arr.dtype, np.integer):
            info = np.iinfo(arr.dtype)
            if info.min < 0 and arr.min() < 0:
                raise ValueError(
                    f"{name}: expected non-negative integers with normalize='dtype', got minimum {arr.min()}"
                )
            out = arr.astype(np.float32) / float(info.max)
        elif in_unit:
            out = arr.astype(np.float32)
        else:
            raise ValueError(
                f"{name}: expected float values in [0, 1] with normalize='dtype', got range "
                f"[{float(arr.min()):.3g}, {float(arr.max()):.3g}]; use normalize='percentile'"
            )
    else:
        vals = arr.astype(np.float64)
        lo, hi = np.percentile(vals, [0.5, 99.5])
        if hi <= lo:  # (nearly) constant image: fall back to its full range
            lo, hi = float(vals.min()), float(vals.max())
        out = np.zeros(arr.shape, np.float32) if hi <= lo else np.clip((vals - lo) / (hi - lo), 0, 1).astype(np.float32)
    if out.shape[-1] == 1:
        out = np.repeat(out, 3, axis=-1)
    return torch.from_numpy(np.ascontiguousarray(out.transpose(2, 0, 1)))


def as_instance_labels(labels: Any, shape: tuple[int, int], name: str = "labels") -> torch.Tensor:
    """An instance mask -> an (H, W) int64 tensor (0 = background, other values = instances).

    Args:
        labels: (H, W) numpy array or tensor of non-negative integers (any integer dtype, uint16
            included) or bool (one instance).
        shape: (H, W) the mask must have (its image's).
        name: the argument's name in error messages.

    Raises:
        TypeError: not an array, or float labels.
        ValueError: wrong shape or negative labels.
    """
    arr = _to_numpy(labels, name)
    if arr.dtype != bool and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(
            f"{name}: expected integer instance ids (0 = background), got dtype {arr.dtype}"
            + (
                "; a probability map must be thresholded and split into instances first"
                if arr.dtype.kind == "f"
                else ""
            )
        )
    if arr.shape != tuple(shape):
        raise ValueError(f"{name}: expected shape {tuple(shape)} (its image's H, W), got {arr.shape}")
    if arr.dtype != bool and arr.size and arr.min() < 0:
        raise ValueError(f"{name}: expected non-negative instance ids (0 = background), got minimum {arr.min()}")
    return torch.from_numpy(arr.astype(np.int64))


class InstancePairs(torch.utils.data.Dataset):
    """(image, instance mask) pairs of any sizes, checked and converted once.

    Args:
        pairs: a sequence (list, tuple, or a Dataset with ``len`` and indexing) of ``(image, labels)``
            pairs; see :func:`as_image` and :func:`as_instance_labels` for what each may be.
        normalize: passed to :func:`as_image`.

    Items: ``(image (3, H, W) float32 in [0, 1], labels (H, W) int64)``.
    """

    def __init__(self, pairs: Sequence[tuple[Any, Any]], normalize: str = "auto"):
        if not hasattr(pairs, "__len__") or not hasattr(pairs, "__getitem__"):
            raise TypeError(f"pairs: expected a sequence of (image, labels) pairs, got {describe_value(pairs)}")
        if len(pairs) == 0:
            raise ValueError("pairs: expected at least one (image, labels) pair, got none")
        self.images: list[torch.Tensor] = []
        self.labels: list[torch.Tensor] = []
        for i in range(len(pairs)):
            item = pairs[i]
            if not isinstance(item, (tuple, list)) or len(item) != 2:
                raise TypeError(f"pairs[{i}]: expected an (image, labels) pair, got {describe_value(item)}")
            img = as_image(item[0], f"pairs[{i}] image", normalize)
            self.images.append(img)
            self.labels.append(as_instance_labels(item[1], tuple(img.shape[1:]), f"pairs[{i}] labels"))

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.images[index], self.labels[index]

    def random_tiles(
        self, batch_size: int, tile: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """A batch of random ``tile x tile`` crops, images drawn in proportion to their area.

        An image smaller than the tile is padded (image with 0, labels with :data:`IGNORE`).

        Returns:
            ``(images (B, 3, tile, tile), labels (B, tile, tile), origins (B, 2))``: origins are
            the crops' (row, column) in their images, for the coordinate channels.
        """
        areas = torch.tensor([float(im.shape[1] * im.shape[2]) for im in self.images])
        which = torch.multinomial(areas, batch_size, replacement=True, generator=generator)
        ims, labs, origins = [], [], []
        for i in which.tolist():
            im, lab = self.images[i], self.labels[i]
            h, w = im.shape[1:]
            y0 = int(torch.randint(0, max(h - tile, 0) + 1, (1,), generator=generator))
            x0 = int(torch.randint(0, max(w - tile, 0) + 1, (1,), generator=generator))
            im_t, lab_t = im[:, y0 : y0 + tile, x0 : x0 + tile], lab[y0 : y0 + tile, x0 : x0 + tile]
            ph, pw = tile - im_t.shape[1], tile - im_t.shape[2]
            if ph or pw:
                im_t = F.pad(im_t, (0, pw, 0, ph))
                lab_t = F.pad(lab_t, (0, pw, 0, ph), value=IGNORE)
            if bool(torch.rand((), generator=generator) < 0.5):  # horizontal flip (coordinates stay put)
                im_t, lab_t = im_t.flip(-1), lab_t.flip(-1)
            ims.append(im_t)
            labs.append(lab_t)
            origins.append((y0, x0))
        return torch.stack(ims), torch.stack(labs), torch.tensor(origins)
