"""Instance datasets of lesson 7: deterministic, held-out test splits, the documented structure."""

import numpy as np
import pytest
import torch

from course_utils.data import ScatteredSticks, TouchingBlobs


@pytest.mark.parametrize(
    "make", [lambda **k: ScatteredSticks(size=48, n_sticks=5, **k), lambda **k: TouchingBlobs(size=32, **k)]
)
def test_items_have_documented_types_shapes_and_ranges(make):
    ds = make(n_items=3)
    img, lab = ds[0]
    assert img.dtype == torch.float32 and img.shape == (3, ds.size, ds.size)
    assert lab.dtype == torch.int64 and lab.shape == (ds.size, ds.size)
    assert 0.0 <= float(img.min()) and float(img.max()) <= 1.0
    assert (lab == 0).any() and int(lab.min()) == 0
    X, Y = ds.tensors()
    assert X.shape == (3, 3, ds.size, ds.size) and Y.shape == (3, ds.size, ds.size)


@pytest.mark.parametrize("cls", [ScatteredSticks, TouchingBlobs])
def test_same_seed_same_data_other_seed_other_data(cls):
    a = cls(n_items=2, size=32, seed=3)[1]
    b = cls(n_items=2, size=32, seed=3)[1]
    c = cls(n_items=2, size=32, seed=4)[1]
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[1], c[1])


@pytest.mark.parametrize("cls", [ScatteredSticks, TouchingBlobs])
def test_test_split_is_held_out(cls):
    _, ytr = cls(n_items=20, size=32, split="train").tensors()
    _, yte = cls(n_items=20, size=32, split="test").tensors()
    # no test label map equals any training label map
    same = (ytr[:, None] == yte[None]).flatten(2).all(-1)
    assert not same.any()


def test_sticks_occlude_but_every_stick_stays_visible():
    ds = ScatteredSticks(n_items=4, size=64, n_sticks=8, min_visible=0.5)
    for i in range(len(ds)):
        img, lab = ds[i]
        counts = torch.bincount(lab.ravel(), minlength=9)
        assert (counts[1:] >= ds.min_pixels).all(), counts
        assert len(lab.unique()) == 9  # background + 8 sticks
        # all sticks share one colour: colour cannot separate them
        fg = img[:, lab > 0]
        assert float((fg - torch.tensor(ds.STICK_RGB)[:, None]).abs().mean()) < 0.05


def test_sticks_really_overlap_somewhere():
    # occlusion happens: the visible area of some stick is below its full drawn area, i.e. later
    # sticks are drawn over it. Check via the drawing order: a later stick touches an earlier one.
    ds = ScatteredSticks(n_items=6, size=64, n_sticks=8)
    touching = 0
    for i in range(len(ds)):
        lab = ds[i][1]
        horiz = (lab[:, 1:] != lab[:, :-1]) & (lab[:, 1:] > 0) & (lab[:, :-1] > 0)
        vert = (lab[1:] != lab[:-1]) & (lab[1:] > 0) & (lab[:-1] > 0)
        touching += int(horiz.sum() + vert.sum())
    assert touching > 0


def test_blobs_instances_are_connected_components_of_colour():
    from skimage.measure import label as cc_label

    ds = TouchingBlobs(n_items=5, size=48, n_cells=12, n_colors=2)
    repeated_colour = False
    for i in range(len(ds)):
        _, lab = ds[i]
        col = ds.color_map(i).numpy()
        np.testing.assert_array_equal(cc_label(col, background=0, connectivity=1), lab.numpy())
        # each instance has exactly one colour
        for k in lab.unique()[1:]:
            assert len(np.unique(col[lab.numpy() == int(k)])) == 1
        n_inst, n_col = len(lab.unique()) - 1, len(np.unique(col[col > 0]))
        repeated_colour |= n_inst > n_col
    assert repeated_colour, "some image should reuse a colour for two instances"


@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        (dict(n_items=0), ValueError, "n_items"),
        (dict(size=4), ValueError, "size"),
        (dict(split="val"), ValueError, "split"),
        (dict(seed=-1), ValueError, "seed"),
        (dict(n_items=2.5), TypeError, "n_items"),
    ],
)
@pytest.mark.parametrize("cls", [ScatteredSticks, TouchingBlobs])
def test_bad_arguments_are_rejected_with_their_name(cls, kwargs, exc, words):
    with pytest.raises(exc, match=words):
        cls(**kwargs)


def test_bad_dataset_specific_arguments_and_indices():
    with pytest.raises(ValueError, match="min_visible"):
        ScatteredSticks(min_visible=0.0)
    with pytest.raises(ValueError, match="n_sticks"):
        ScatteredSticks(n_sticks=0)
    with pytest.raises(ValueError, match="n_colors"):
        TouchingBlobs(n_colors=9)
    ds = TouchingBlobs(n_items=2, size=16)
    with pytest.raises(IndexError, match="index"):
        ds[2]
    with pytest.raises(TypeError, match="index"):
        ds[0.5]
    assert torch.equal(ds[-1][1], ds[1][1])
