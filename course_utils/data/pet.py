"""Oxford-IIIT Pet (Parkhi et al. 2012) for semantic segmentation: pet / background / ignored border.

Real photos, online only: torchvision downloads and checksums the files. Offline, the loader
refuses with a clear message and the lessons use :class:`course_utils.data.ShapesDataset`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from .._validate import describe_value
from ._base import check_size

__all__ = ["PET_CLASSES", "PET_IGNORE_INDEX", "trimap_to_labels", "oxford_pet_segmentation", "pet_tensors"]

#: Classes of the Oxford-IIIT Pet trimaps; the trimap's border band becomes PET_IGNORE_INDEX.
PET_CLASSES: tuple[str, ...] = ("background", "pet")
PET_IGNORE_INDEX = 255


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


class _PetSegmentation(Dataset):
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
        return (torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))), torch.from_numpy(trimap_to_labels(tri)))


def oxford_pet_segmentation(root: str = "data", split: str = "trainval", size=128, download: bool = True):
    """The Oxford-IIIT Pet dataset (pet / background / ignored border) via torchvision; online only.

    Downloads about 800 MB into ``root`` the first time (``download=True``). Refuses with a
    ``RuntimeError`` when ``COURSE_OFFLINE=1`` forbids downloads; :class:`ShapesDataset` needs
    none. Items are ``(image (3, H, W) float32 in [0, 1], mask (H, W) int64)`` with mask values
    0 (background), 1 (pet) and :data:`PET_IGNORE_INDEX` (border band).
    """
    from .. import runtime

    if split not in ("trainval", "test"):
        raise ValueError(f"split: expected 'trainval' or 'test', got {split!r}")
    hw = check_size(size)
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


def pet_tensors(dataset, n_items: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded random subset of a Pet dataset (from :func:`oxford_pet_segmentation`) as two tensors.

    Args:
        dataset: the dataset returned by :func:`oxford_pet_segmentation` (or any dataset of
            ``(image (3, H, W) float32, mask (H, W) int64)`` pairs of one size).
        n_items: how many items to take (>= 1); all of them when the dataset is smaller.
        seed: non-negative int choosing the subset (the same seed gives the same items).

    Returns:
        ``(X, Y)``: X of shape (n, 3, H, W) float32 in [0, 1], Y of shape (n, H, W) int64 with
        values 0, 1 and :data:`PET_IGNORE_INDEX`, where ``n = min(n_items, len(dataset))``.
    """
    from .._validate import check_int

    n_items = check_int(n_items, "n_items", min_value=1)
    seed = check_int(seed, "seed", min_value=0)
    if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__") or len(dataset) == 0:
        raise ValueError(f"dataset: expected a non-empty dataset of (image, mask) pairs, got {describe_value(dataset)}")
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:n_items]
    pairs = [dataset[int(i)] for i in order]
    return torch.stack([x for x, _ in pairs]), torch.stack([y for _, y in pairs])
