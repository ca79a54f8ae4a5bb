"""The synthetic shapes dataset (and the offline refusal of the optional Oxford-IIIT Pet data)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from course_utils import data
from course_utils.data import SHAPE_CLASSES, ShapesDataset


def _digest(item) -> str:
    img, mask = item
    return hashlib.sha1(img.numpy().tobytes() + mask.numpy().tobytes()).hexdigest()


def test_items_have_the_documented_types_shapes_and_ranges():
    ds = ShapesDataset(8, size=(48, 40))
    assert len(ds) == 8 and ds.num_classes == len(SHAPE_CLASSES) == 6
    for i in range(len(ds)):
        img, mask = ds[i]
        assert img.shape == (3, 48, 40) and img.dtype == torch.float32
        assert mask.shape == (48, 40) and mask.dtype == torch.int64
        assert 0.0 <= float(img.min()) and float(img.max()) <= 1.0
        assert set(mask.unique().tolist()) <= set(range(6))
        assert (mask > 0).any(), "every scene has at least one shape"


def test_an_item_is_the_same_whatever_was_generated_before():
    a = ShapesDataset(10, 32, seed=3)
    b = ShapesDataset(10, 32, seed=3)
    later_first = [_digest(b[i]) for i in (9, 4, 0)]
    assert later_first == [_digest(a[i]) for i in (9, 4, 0)]
    assert _digest(a[-1]) == _digest(a[9])
    assert _digest(ShapesDataset(10, 32, seed=4)[0]) != _digest(a[0])


def test_splits_never_share_an_item():
    digests = {s: {_digest(it) for it in ShapesDataset(150, 24, split=s)} for s in ("train", "val", "test")}
    for s, d in digests.items():
        assert len(d) == 150, f"{s}: duplicate items"
    assert not digests["train"] & digests["val"]
    assert not digests["train"] & digests["test"]
    assert not digests["val"] & digests["test"]


def test_every_class_appears_and_sizes_scale_with_resolution():
    small = ShapesDataset(60, 32).tensors()[1]
    large = ShapesDataset(60, 96).tensors()[1]
    counts_small = torch.bincount(small.flatten(), minlength=6).double() / small.numel()
    counts_large = torch.bincount(large.flatten(), minlength=6).double() / large.numel()
    assert (counts_small[1:] > 0.005).all() and (counts_large[1:] > 0.005).all()
    # same scenes at another resolution: the class fractions agree within a few percent of the image
    assert torch.allclose(counts_small, counts_large, atol=0.02)


def test_tensors_stacks_all_items():
    ds = ShapesDataset(5, 20)
    x, y = ds.tensors()
    assert x.shape == (5, 3, 20, 20) and y.shape == (5, 20, 20)
    assert torch.equal(x[2], ds[2][0]) and torch.equal(y[4], ds[4][1])


def test_colour_alone_does_not_tell_the_class():
    """The best colour-only per-pixel rule (a look-up table of the majority class of each colour
    bin, fitted on the training split) is far from what a shape-aware model reaches."""
    xtr, ytr = ShapesDataset(200, 32, split="train").tensors()
    xva, yva = ShapesDataset(100, 32, split="val").tensors()

    def bins(x):
        q = (x.clamp(0, 0.999) * 8).long()
        return (q[:, 0] * 64 + q[:, 1] * 8 + q[:, 2]).flatten()

    table = torch.zeros(512, 6)
    table.index_put_((bins(xtr), ytr.flatten()), torch.ones(ytr.numel()), accumulate=True)
    pred = table.argmax(1)[bins(xva)]
    from course_utils import metrics

    cm = metrics.confusion_matrix(pred, yva.flatten(), 6)
    assert metrics.mean_iou(cm) < 0.3
    # the shape classes have nearly the same mean colour
    means = torch.stack([xtr.permute(1, 0, 2, 3)[:, ytr == k].mean(1) for k in range(1, 6)])
    assert float((means - means.mean(0)).abs().max()) < 0.06


@pytest.mark.parametrize(
    "kwargs, err, words",
    [
        ({"n_items": 0}, ValueError, "n_items"),
        ({"n_items": 2.5}, TypeError, "n_items"),
        ({"size": 8}, ValueError, "size"),
        ({"size": (32, 32, 3)}, TypeError, "size"),
        ({"split": "validation"}, ValueError, "split"),
        ({"seed": -1}, ValueError, "seed"),
        ({"max_shapes": 0}, ValueError, "max_shapes"),
        ({"n_clutter": -1}, ValueError, "n_clutter"),
        ({"radius": 0.1}, TypeError, "radius"),
        ({"radius": (0.2, 0.1)}, ValueError, "radius[1]"),
        ({"radius": (0.1, 0.6)}, ValueError, "radius[1]"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, err, words):
    args = {"n_items": 4, **kwargs}
    with pytest.raises(err) as info:
        ShapesDataset(**args)
    assert words in str(info.value)


def test_bad_indices_are_rejected():
    ds = ShapesDataset(3, 16)
    with pytest.raises(IndexError, match="index"):
        ds[3]
    with pytest.raises(IndexError, match="index"):
        ds[-4]
    with pytest.raises(TypeError, match="index"):
        ds[1.0]


def test_a_dataloader_batches_it():
    loader = torch.utils.data.DataLoader(ShapesDataset(6, 16), batch_size=4)
    x, y = next(iter(loader))
    assert x.shape == (4, 3, 16, 16) and y.shape == (4, 16, 16)


def test_trimap_mapping():
    tri = np.array([[1, 2], [3, 1]], dtype=np.uint8)
    np.testing.assert_array_equal(data.trimap_to_labels(tri), [[1, 0], [data.PET_IGNORE_INDEX, 1]])
    with pytest.raises(ValueError, match="trimap"):
        data.trimap_to_labels(np.array([[0, 1]]))
    with pytest.raises(ValueError, match="trimap"):
        data.trimap_to_labels(np.array([[1.0, 2.0]]))


def test_oxford_pets_refuses_to_download_when_offline(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(RuntimeError, match="COURSE_OFFLINE=1 forbids downloads"):
        data.oxford_pet_segmentation(str(tmp_path), download=True)
    assert not any(tmp_path.iterdir()), "nothing may be written before refusing"


def test_oxford_pets_validates_its_arguments(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(ValueError, match="split"):
        data.oxford_pet_segmentation(str(tmp_path), split="train")
    with pytest.raises(TypeError, match="download"):
        data.oxford_pet_segmentation(str(tmp_path), download="yes")
