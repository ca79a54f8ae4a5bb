"""The one base class of the course's generated datasets: ``(seed, split, index)`` -> an item.

Every synthetic dataset (shapes, sticks, blobs, texture mosaics) draws item ``index`` of split
``split`` from its own random stream ``numpy.random.default_rng([seed, STREAM + SPLITS[split],
index])``: the same triple always gives the same item, splits never share one, and any item can
be made alone, in any order. Subclasses set ``class_names``, ``SPLITS`` and ``STREAM`` and
implement ``_make(rng) -> (image (H, W, 3) float32 in [0, 1], labels (H, W) int)``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from torch.utils.data import Dataset

from .._validate import check_int, describe_value

__all__ = ["SyntheticDataset", "check_size"]


def check_size(size: Any, name: str = "size", min_value: int = 16) -> tuple[int, int]:
    """``size`` as ``(H, W)``: an int (square) or a pair of ints, each >= ``min_value``."""
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        s = check_int(size, name, min_value=min_value)
        return s, s
    if isinstance(size, (tuple, list)) and len(size) == 2:
        return (
            check_int(size[0], f"{name}[0]", min_value=min_value),
            check_int(size[1], f"{name}[1]", min_value=min_value),
        )
    raise TypeError(
        f"{name}: expected an int >= {min_value} or a pair (H, W) of ints >= {min_value}, got {describe_value(size)}"
    )


class SyntheticDataset(Dataset):
    """Length, split, seed, bounds-checked indexing and stacking, shared by the generated datasets.

    Args:
        n_items: number of items (>= 1).
        split: one of the subclass's ``SPLITS``.
        seed: non-negative int choosing the whole family of items.

    Items are ``(image, labels)``: image a (3, H, W) float32 tensor in [0, 1], labels an (H, W)
    int64 tensor (class indices into ``class_names`` or instance ids, 0 = background).
    """

    class_names: ClassVar[tuple[str, ...]] = ()
    SPLITS: ClassVar[dict[str, int]] = {"train": 0, "test": 1}
    STREAM: ClassVar[int] = 0

    def __init__(self, n_items: int, split: str = "train", seed: int = 0):
        self.n_items = check_int(n_items, "n_items", min_value=1)
        if split not in self.SPLITS:
            raise ValueError(f"split: expected one of {list(self.SPLITS)}, got {split!r}")
        self.split = split
        self.seed = check_int(seed, "seed", min_value=0)

    @property
    def num_classes(self) -> int:
        """Number of classes named in ``class_names``."""
        return len(self.class_names)

    def __len__(self) -> int:
        return self.n_items

    def rng(self, index: int) -> np.random.Generator:
        """The random stream of item ``index`` (already bounds-checked)."""
        return np.random.default_rng([self.seed, self.STREAM + self.SPLITS[self.split], index])

    def _index(self, index: Any) -> int:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"index: expected an int, got {describe_value(index)}")
        i = int(index) + (self.n_items if index < 0 else 0)
        if not 0 <= i < self.n_items:
            raise IndexError(f"index: expected -{self.n_items} <= index < {self.n_items}, got {index}")
        return i

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image, labels = self._make(self.rng(self._index(index)))
        return (
            torch.from_numpy(np.ascontiguousarray(np.asarray(image, np.float32).transpose(2, 0, 1))),
            torch.from_numpy(np.asarray(labels).astype(np.int64)),
        )

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """All items stacked: images (N, 3, H, W) float32 and labels (N, H, W) int64."""
        images, labels = zip(*(self[i] for i in range(self.n_items)))
        return torch.stack(images), torch.stack(labels)

    def _make(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_items={self.n_items}, split={self.split!r}, seed={self.seed})"
