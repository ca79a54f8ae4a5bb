"""Oxford-IIIT Pet (Parkhi et al. 2012) for semantic segmentation: pet / background / ignored border.

Real photos, online only: torchvision downloads and checksums the files. Offline, the loader
refuses with a clear message and the lessons use :class:`course_utils.data.ShapesDataset`.

The download is torchvision's own (``download_url`` with the MD5 sums of
``OxfordIIITPet._RESOURCES``, then ``extract_archive``), with two additions: every socket operation
gives up after ``timeout`` seconds (urllib alone waits forever for a server that never answers),
and the archives are fetched and extracted in a hidden staging folder whose ``images/`` and
``annotations/`` are moved into ``root/oxford-iiit-pet`` only when both archives passed their
checks. A failed or interrupted download removes the staging folder, so it never leaves a
half-extracted dataset that the next call would take for a complete one.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import urllib.error
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from .._net import reachable as _reachable
from .._validate import check_float, describe_value
from ._base import check_size

__all__ = ["PET_CLASSES", "PET_IGNORE_INDEX", "trimap_to_labels", "oxford_pet_segmentation", "pet_tensors"]

#: Classes of the Oxford-IIIT Pet trimaps; the trimap's border band becomes PET_IGNORE_INDEX.
PET_CLASSES: tuple[str, ...] = ("background", "pet")
PET_IGNORE_INDEX = 255

#: The folder under ``root`` that torchvision's ``OxfordIIITPet`` reads.
_PET_FOLDER = "oxford-iiit-pet"


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


def _pet_present(base: Path) -> bool:
    """Whether ``base`` holds what torchvision's ``OxfordIIITPet`` takes for a downloaded dataset."""
    return (base / "images").is_dir() and (base / "annotations").is_dir()


def _why_failed(exc: BaseException, archive: Path, md5: str, timeout: float) -> str:
    """What went wrong while downloading one archive, in words, shortest first (lesson 5 prints 300 characters)."""
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, BaseException):
        exc = exc.reason
    if isinstance(exc, TimeoutError):  # socket.timeout is TimeoutError
        return f"no answer from the server within {timeout:g} s"
    if isinstance(exc, urllib.error.HTTPError):
        return f"the server answered HTTP {exc.code} ({exc.reason})"
    if isinstance(exc, urllib.error.URLError):
        return f"cannot reach the server ({exc.reason})"
    if isinstance(exc, RuntimeError) and "corrupted" in str(exc) and archive.is_file():
        from torchvision.datasets.utils import calculate_md5

        return (
            f"it failed its MD5 check, a corrupt or incomplete download (received {archive.stat().st_size} "
            f"bytes with MD5 {calculate_md5(archive)}, expected {md5})"
        )
    return f"{type(exc).__name__}: {exc}"


def _download_pet(root: Path, timeout: float) -> None:
    """Download, MD5-check and extract Pet's two archives, then move them into ``root/oxford-iiit-pet``.

    Each archive goes through torchvision's ``download_url`` (with its MD5 check) and
    ``extract_archive``, the two steps of ``download_and_extract_archive``, in a staging folder
    ``root/.oxford-iiit-pet-download-*``; ``images/`` and ``annotations/`` are moved into place
    only after both succeeded (``annotations/`` last). The staging folder and the archives in it
    are removed in every case, on success, error or interrupt.
    """
    from torchvision.datasets import OxfordIIITPet
    from torchvision.datasets.utils import download_url, extract_archive

    base = root / _PET_FOLDER
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{_PET_FOLDER}-download-", dir=root))
    try:
        for url, md5 in OxfordIIITPet._RESOURCES:
            name = os.path.basename(url)  # torchvision's file name for it
            why, cause = _reachable(url, timeout), None
            if why is None:
                old = socket.getdefaulttimeout()
                socket.setdefaulttimeout(timeout)  # urllib's connect and every read; not the whole transfer
                try:  # what download_and_extract_archive does, in two steps to tell them apart
                    download_url(url, str(staging), name, md5)
                except Exception as exc:
                    why, cause = _why_failed(exc, staging / name, md5, timeout), exc
                finally:
                    socket.setdefaulttimeout(old)
            if why is None:
                try:
                    extract_archive(str(staging / name), str(staging), remove_finished=True)
                except Exception as exc:
                    why = f"it passed its MD5 check but could not be extracted ({type(exc).__name__}: {exc})"
                    cause = exc
            if why is not None:
                raise RuntimeError(
                    f"oxford_pet_segmentation: the download of {name} failed: {why}. Nothing of it was kept "
                    f"(in {str(root)!r}), so the next call starts afresh; run it again later, or use "
                    f"ShapesDataset, which needs no download. URL: {url}"
                ) from cause
        expected = ["images", "annotations/trimaps", "annotations/trainval.txt", "annotations/test.txt"]
        missing = [p for p in expected if not (staging / p).exists()]
        if missing:
            raise RuntimeError(
                f"oxford_pet_segmentation: the downloaded archives passed their MD5 checks but hold no "
                f"{', '.join(missing)}; nothing of them was kept (in {str(root)!r})."
            )
        base.mkdir(exist_ok=True)
        for sub in ("images", "annotations"):
            if (base / sub).exists():  # left by an earlier, incomplete download (only one of the two)
                shutil.rmtree(base / sub)
            os.replace(staging / sub, base / sub)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def oxford_pet_segmentation(
    root: str | os.PathLike = "data",
    split: str = "trainval",
    size=128,
    download: bool = True,
    timeout: float = 30.0,
):
    """The Oxford-IIIT Pet dataset (pet / background / ignored border) via torchvision; online only.

    Args:
        root: folder of the dataset; the files are in ``root/oxford-iiit-pet``.
        split: ``"trainval"`` or ``"test"``.
        size: output size, an int (square) or ``(H, W)``, each >= 16.
        download: download the dataset (about 800 MB, once) if ``root`` does not hold it yet.
        timeout: seconds (0.1 to 600) the download waits for the server: to connect, and for
            each read, not for the whole transfer. A server that never answers costs about this long.

    Returns:
        A dataset of ``(image (3, H, W) float32 in [0, 1], mask (H, W) int64)`` items with mask
        values 0 (background), 1 (pet) and :data:`PET_IGNORE_INDEX` (border band).

    Raises:
        RuntimeError: ``COURSE_OFFLINE=1`` forbids the download (nothing is contacted or written;
            :class:`ShapesDataset` needs no download), or the download failed: the message names
            the archive and what went wrong (no answer in time, HTTP error, failed MD5 check), and
            nothing of it is kept, or the dataset is missing and ``download=False``.
    """
    from .. import runtime

    if not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root: expected a folder path (str or os.PathLike), got {describe_value(root)}")
    if split not in ("trainval", "test"):
        raise ValueError(f"split: expected 'trainval' or 'test', got {split!r}")
    hw = check_size(size)
    if not isinstance(download, bool):
        raise TypeError(f"download: expected True or False, got {describe_value(download)}")
    timeout = check_float(timeout, "timeout", min_value=0.1, max_value=600.0)
    if download and runtime.flags().offline:
        raise RuntimeError(
            "oxford_pet_segmentation: COURSE_OFFLINE=1 forbids downloads, and the Oxford-IIIT Pet "
            "dataset (about 800 MB) must be downloaded. Unset COURSE_OFFLINE (or set it to 0) on a "
            "machine with internet access, pass download=False if the files are already in "
            f"{root!r}, or use ShapesDataset, which is generated locally."
        )
    from torchvision.datasets import OxfordIIITPet

    root_path = Path(root).expanduser()
    if download and not _pet_present(root_path / _PET_FOLDER):
        _download_pet(root_path, timeout)
    base = OxfordIIITPet(root, split=split, target_types="segmentation", download=False)
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
