"""Semantic segmentation metrics: checked against scikit-learn, hand-made cases and bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from course_utils import metrics as M


@pytest.mark.parametrize("seed", range(6))
def test_confusion_matrix_matches_scikit_learn_on_random_maps(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 8))
    shape = tuple(int(s) for s in rng.integers(1, 20, size=int(rng.integers(1, 4))))
    target = rng.integers(0, k, size=shape)
    pred = np.where(rng.random(shape) < 0.6, target, rng.integers(0, k, size=shape))
    ours = M.confusion_matrix(pred, target, k)
    ref = sk_confusion_matrix(target.ravel(), pred.ravel(), labels=np.arange(k))
    np.testing.assert_array_equal(ours, ref)
    assert ours.dtype == np.int64 and ours.sum() == target.size


def test_confusion_matrix_accepts_torch_tensors_and_ignores_the_ignore_index():
    rng = np.random.default_rng(7)
    target = rng.integers(0, 3, size=(4, 10, 10))
    target[:, :3] = 255
    pred = rng.integers(0, 3, size=target.shape)
    pred[:, :3] = 2  # whatever is predicted on ignored pixels must not count
    keep = target != 255
    ref = sk_confusion_matrix(target[keep], pred[keep], labels=[0, 1, 2])
    ours = M.confusion_matrix(torch.from_numpy(pred), torch.from_numpy(target), 3, ignore_index=255)
    np.testing.assert_array_equal(ours, ref)
    assert ours.sum() == keep.sum() < target.size


def test_iou_accuracy_and_miou_on_a_hand_made_case():
    # rows: truth, columns: prediction
    cm = np.array([[5, 1, 0], [2, 2, 0], [0, 0, 0]])
    iou = M.iou_per_class(cm)
    assert iou[0] == pytest.approx(5 / (6 + 7 - 5))
    assert iou[1] == pytest.approx(2 / (4 + 3 - 2))
    assert np.isnan(iou[2])  # absent from truth and prediction: undefined, left out of the mean
    assert M.mean_iou(cm) == pytest.approx((5 / 8 + 2 / 5) / 2)
    assert M.pixel_accuracy(cm) == pytest.approx(7 / 10)


def test_a_class_predicted_but_absent_from_the_truth_counts_as_zero():
    target = np.zeros((4, 4), int)
    pred = target.copy()
    pred[0, 0] = 1
    cm = M.confusion_matrix(pred, target, 3)
    iou = M.iou_per_class(cm)
    assert iou[1] == 0.0 and np.isnan(iou[2])
    assert M.mean_iou(cm) == pytest.approx((15 / 16 + 0.0) / 2)


def test_perfect_prediction_scores_one():
    target = np.random.default_rng(1).integers(0, 4, size=(2, 9, 9))
    s = M.semantic_scores(target, target, 4)
    assert s["miou"] == 1.0 and s["pixel_accuracy"] == 1.0 and s["boundary_f1"] == 1.0


@pytest.mark.parametrize(
    "pred, target, k, kwargs, err, words",
    [
        (np.zeros((4, 4), int), np.zeros((4, 5), int), 2, {}, ValueError, "same shape"),
        (np.zeros((2, 3, 4, 4)), np.zeros((2, 4, 4), int), 3, {}, TypeError, "argmax"),
        (np.zeros((2, 3, 4, 4), int), np.zeros((2, 4, 4), int), 3, {}, ValueError, "argmax"),
        (np.zeros((4, 4), np.float32), np.zeros((4, 4), int), 2, {}, TypeError, "integer class labels"),
        (np.zeros((4, 4), int), np.full((4, 4), 3), 3, {}, ValueError, "target: expected labels in [0, 2]"),
        (np.full((4, 4), -1), np.zeros((4, 4), int), 3, {}, ValueError, "pred: expected labels in [0, 2]"),
        (np.zeros((4, 4), int), np.full((4, 4), 7), 3, {"ignore_index": 255}, ValueError, "ignore_index=255"),
        (np.zeros((4, 4), int), np.zeros((4, 4), int), 3, {"ignore_index": 1}, ValueError, "outside the class range"),
        (np.zeros((4, 4), int), np.zeros((4, 4), int), 0, {}, ValueError, "num_classes"),
        (np.zeros((0,), int), np.zeros((0,), int), 2, {}, ValueError, "non-empty"),
        ([0, 1], [0, 1], 2, {}, TypeError, "numpy array or torch tensor"),
    ],
)
def test_bad_inputs_are_rejected_with_clear_messages(pred, target, k, kwargs, err, words):
    with pytest.raises(err, match=None) as info:
        M.confusion_matrix(pred, target, k, **kwargs)
    assert words in str(info.value)


def test_bad_confusion_matrices_are_rejected():
    with pytest.raises(ValueError, match="square"):
        M.iou_per_class(np.ones((2, 3)))
    with pytest.raises(ValueError, match="non-negative"):
        M.mean_iou(np.array([[1, -1], [0, 1]]))
    with pytest.raises(ValueError, match="all-zero"):
        M.mean_iou(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="all-zero"):
        M.pixel_accuracy(np.zeros((3, 3)))


def _square(size=20, top=5, left=5, side=8):
    lab = np.zeros((size, size), int)
    lab[top : top + side, left : left + side] = 1
    return lab


def test_boundary_mask_of_a_square_is_two_pixels_thick():
    b = M.boundary_mask(_square(side=8))
    # inner ring: 8*8 - 6*6 = 28 pixels; outer ring: 4 sides of 8 (4-neighbours, no corners) = 32
    assert b.sum() == (8 * 8 - 6 * 6) + 4 * 8
    assert not b[9, 9] and b[5, 5] and b[4, 5] and not b[4, 4]  # 4-neighbourhood: corners outside are not
    assert M.boundary_mask(np.zeros((5, 5), int)).sum() == 0


def test_boundary_f1_hand_made_cases():
    gt = _square()
    assert M.boundary_f1(gt, gt, tolerance=0) == (1.0, 1.0, 1.0)
    shifted = _square(left=6)  # one pixel to the right
    assert M.boundary_f1(shifted, gt, tolerance=1).f1 == 1.0
    exact = M.boundary_f1(shifted, gt, tolerance=0)
    # 60 boundary pixels each; drawn on paper, the two boundaries share, row by row from the outer
    # top row to the outer bottom row: 7 + 9 + 6 * 2 + 9 + 7 = 44 pixels.
    bp, bt = M.boundary_mask(shifted), M.boundary_mask(gt)
    shared = int((bp & bt).sum())
    assert bp.sum() == bt.sum() == 60
    assert shared == 44
    assert exact.precision == pytest.approx(shared / 60) and exact.recall == pytest.approx(shared / 60)
    # far away: no predicted boundary within 2 pixels of the true one
    far = _square(size=40, top=25, left=25, side=8)
    assert M.boundary_f1(far, _square(size=40), tolerance=2).f1 == 0.0


def test_boundary_f1_empty_conventions_and_batches():
    empty = np.zeros((20, 20), int)
    assert M.boundary_f1(empty, empty) == (1.0, 1.0, 1.0)
    assert M.boundary_f1(empty, _square()) == (0.0, 0.0, 0.0)
    assert M.boundary_f1(_square(), empty) == (0.0, 0.0, 0.0)
    # a batch sums counts: one perfect image and one empty prediction -> recall 1/2, precision 1
    batch = M.boundary_f1(np.stack([_square(), empty]), np.stack([_square(), _square()]))
    assert batch.precision == 1.0 and batch.recall == pytest.approx(0.5)
    assert batch.f1 == pytest.approx(2 * 0.5 / 1.5)


def test_boundary_f1_ignore_index_and_bad_inputs():
    gt = _square()
    gt[:, :10] = 255  # ignore the left half: only the right side's boundary is scored
    pred = _square()
    pred[:, :10] = 0  # prediction misses the left half entirely, which must not matter
    score = M.boundary_f1(pred, gt, tolerance=0, ignore_index=255)
    assert score.recall == 1.0
    with pytest.raises(ValueError, match="tolerance"):
        M.boundary_f1(gt, gt, tolerance=-1)
    with pytest.raises(ValueError, match="same shape"):
        M.boundary_f1(gt, gt[:5])
    with pytest.raises(TypeError, match="argmax"):
        M.boundary_f1(gt.astype(float), gt)
    with pytest.raises(ValueError, match=r"\(H, W\) or \(N, H, W\)"):
        M.boundary_f1(gt.ravel(), gt.ravel())
