"""The online Pet path of lesson 5, on a tiny folder in Oxford-IIIT Pet's layout that the test writes."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from course_utils import data


def write_tiny_pet(root: Path, n_trainval: int = 5, n_test: int = 4, size=(20, 24)) -> Path:
    """``root/oxford-iiit-pet/{images, annotations/trimaps, annotations/{trainval,test}.txt}``."""
    base = root / "oxford-iiit-pet"
    (base / "images").mkdir(parents=True)
    (base / "annotations" / "trimaps").mkdir(parents=True)
    rng = np.random.default_rng(0)
    h, w = size
    for split, n in (("trainval", n_trainval), ("test", n_test)):
        lines = []
        for i in range(n):
            name = f"{'Abyssinian' if i % 2 else 'beagle'}_{split}{i}"
            Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(base / "images" / f"{name}.jpg")
            tri = np.full((h, w), 2, np.uint8)  # background
            tri[4:16, 6:18] = 3  # border band
            tri[6:14, 8:16] = 1  # pet
            Image.fromarray(tri).save(base / "annotations" / "trimaps" / f"{name}.png")
            lines.append(f"{name} {1 + i % 2} {1 + i % 2} 1")
        (base / "annotations" / f"{split}.txt").write_text("\n".join(lines) + "\n")
    return root


def test_pet_folder_loads_online_without_downloading(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_OFFLINE", "0")
    root = write_tiny_pet(tmp_path)
    ds = data.oxford_pet_segmentation(str(root), "trainval", size=16, download=True)  # files present: no download
    assert len(ds) == 5 and ds.num_classes == 2
    x, y = ds[0]
    assert x.shape == (3, 16, 16) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
    assert y.shape == (16, 16) and y.dtype == torch.int64
    assert set(torch.unique(y).tolist()) == {0, 1, data.PET_IGNORE_INDEX}  # the border is ignored


def test_pet_tensors_takes_a_seeded_subset(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_OFFLINE", "0")
    ds = data.oxford_pet_segmentation(str(write_tiny_pet(tmp_path)), "test", size=(16, 24))
    X, Y = data.pet_tensors(ds, 3, seed=1)
    assert X.shape == (3, 3, 16, 24) and Y.shape == (3, 16, 24)
    X2, _ = data.pet_tensors(ds, 3, seed=1)
    assert torch.equal(X, X2)
    X_all, _ = data.pet_tensors(ds, 100, seed=0)
    assert len(X_all) == 4  # capped at the dataset's size
    with pytest.raises(ValueError, match="n_items"):
        data.pet_tensors(ds, 0)
    with pytest.raises(ValueError, match="dataset"):
        data.pet_tensors([], 2)


def test_pet_offline_refusal_still_holds_with_files_present(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    root = write_tiny_pet(tmp_path)
    with pytest.raises(RuntimeError, match="COURSE_OFFLINE=1 forbids downloads"):
        data.oxford_pet_segmentation(str(root), download=True)
    assert len(data.oxford_pet_segmentation(str(root), download=False)) == 5  # local files need no download
