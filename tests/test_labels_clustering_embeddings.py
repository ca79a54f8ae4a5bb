"""Embedding helpers of lesson 7: label pyramids, seeded mean-shift, pixel-shuffle pictures."""

import numpy as np
import pytest
import torch

from course_utils.clustering import seeded_mean_shift
from course_utils.labels import downsample_labels
from course_utils.viz import as_rgb


def test_downsample_keeps_pure_blocks_and_ignores_mixed_ones():
    lab = torch.tensor([[1, 1, 2, 2], [1, 1, 2, 3], [0, 0, 0, 0], [0, 0, 5, 5]])
    out = downsample_labels(lab, 2, ignore_index=-1)
    assert out.tolist() == [[1, -1], [0, -1]]
    batch = downsample_labels(torch.stack([lab, lab]), 2, ignore_index=99)
    assert batch.shape == (2, 2, 2) and batch[1].tolist() == [[1, 99], [0, 99]]
    assert torch.equal(downsample_labels(lab, 1), lab)


def test_downsample_propagates_ignored_pixels():
    lab = torch.tensor([[-1, 4], [4, 4]])
    assert downsample_labels(lab, 2, ignore_index=-1).item() == -1


@pytest.mark.parametrize(
    "args, exc, word",
    [
        ((torch.zeros(4, 4), 2), TypeError, "integer"),
        ((np.zeros((4, 4), np.int64), 2), TypeError, "torch tensor"),
        ((torch.zeros(4, 5, dtype=torch.long), 2), ValueError, "divisible"),
        ((torch.zeros(4, dtype=torch.long), 2), ValueError, "shape"),
        ((torch.zeros(4, 4, dtype=torch.long), 0), ValueError, "factor"),
    ],
)
def test_downsample_bad_inputs(args, exc, word):
    with pytest.raises(exc, match=word):
        downsample_labels(*args)


def make_clusters():
    rng = np.random.default_rng(0)
    centres = np.array([[0.1, 0.1, 0.1], [0.9, 0.1, 0.5], [0.5, 0.9, 0.9]])
    gt = np.repeat(np.arange(3), 50)
    pts = centres[gt] + rng.normal(0, 0.02, size=(150, 3))
    return pts, gt


def test_mean_shift_recovers_well_separated_clusters_up_to_renaming():
    from sklearn.metrics import adjusted_rand_score

    pts, gt = make_clusters()
    lab = seeded_mean_shift(pts, 0.15)
    assert adjusted_rand_score(gt, lab) == 1.0
    assert lab.min() == 0 and lab.max() == 2


def test_mean_shift_is_deterministic_and_handles_images_and_masks():
    pts, gt = make_clusters()
    img = torch.from_numpy(pts.T.reshape(3, 10, 15)).float()
    a = seeded_mean_shift(img, 0.15, seed=1)
    b = seeded_mean_shift(img, 0.15, seed=1)
    assert a.shape == (10, 15) and np.array_equal(a, b)
    mask = np.ones((10, 15), bool)
    mask[0] = False
    m = seeded_mean_shift(img, 0.15, mask=mask)
    assert (m[0] == 0).all() and (m[1:] >= 1).all() and len(np.unique(m[1:])) == 3


def test_mean_shift_min_size_merges_small_clusters():
    pts, gt = make_clusters()
    pts = np.vstack([pts, [[0.5, 0.5, 0.1]]])  # one outlier
    assert len(np.unique(seeded_mean_shift(pts, 0.15))) == 4
    merged = seeded_mean_shift(pts, 0.15, min_size=5)
    assert len(np.unique(merged)) == 3


@pytest.mark.parametrize(
    "kwargs, exc, word",
    [
        (dict(embedding=np.zeros((2, 2, 2, 2)), radius=0.1), ValueError, "embedding"),
        (dict(embedding=np.full((4, 3), np.nan), radius=0.1), ValueError, "finite"),
        (dict(embedding=np.zeros((4, 3)), radius=0.0), ValueError, "radius"),
        (dict(embedding=np.zeros((4, 3)), radius=0.1, mask=np.ones(3, bool)), ValueError, "mask"),
        (dict(embedding=np.zeros((4, 3)), radius=0.1, min_size=0), ValueError, "min_size"),
    ],
)
def test_mean_shift_bad_inputs(kwargs, exc, word):
    with pytest.raises(exc, match=word):
        seeded_mean_shift(**kwargs)


def test_as_rgb_pixel_shuffles_coarse_levels_to_full_resolution():
    x = torch.rand(12, 4, 5)
    rgb = as_rgb(x)
    assert rgb.shape == (8, 10, 3)
    # the same values, rearranged: pixel (0, 1) of channel 0 is value (1, 0, 0) of the input
    assert rgb[0, 1, 0] == pytest.approx(float(x[1, 0, 0]))
    assert np.isclose(np.sort(rgb.ravel()), np.sort(x.numpy().ravel())).all()
    assert as_rgb(torch.rand(3, 2, 2)).shape == (2, 2, 3)
    with pytest.raises(ValueError, match="3 \\* 4\\*\\*k"):
        as_rgb(torch.rand(5, 2, 2))
    with pytest.raises(ValueError, match="\\[0, 1\\]"):
        as_rgb(torch.full((3, 2, 2), 2.0))
