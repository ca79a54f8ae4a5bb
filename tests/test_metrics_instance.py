"""CVPPP instance metrics of lesson 7 on hand-made cases."""

import numpy as np
import pytest
import torch

from course_utils.labels import relabel_by_size
from course_utils.metrics import abs_diff_count, best_dice, count_instances, symmetric_best_dice


def two_squares():
    gt = np.zeros((6, 6), np.int64)
    gt[:3, :3] = 1
    gt[3:, 3:] = 2
    return gt


def test_identical_maps_score_one_and_zero_count_difference():
    gt = two_squares()
    assert symmetric_best_dice(gt, gt) == 1.0
    assert abs_diff_count(gt, gt) == 0


def test_swapped_ids_score_one():
    gt = two_squares()
    pred = np.where(gt == 1, 7, np.where(gt == 2, 3, 0))
    assert symmetric_best_dice(pred, gt) == 1.0
    assert symmetric_best_dice(torch.from_numpy(pred), torch.from_numpy(gt)) == 1.0


def test_half_overlap_by_hand():
    gt = np.zeros((4, 4), np.int64)
    gt[:, :2] = 1  # one 8-pixel instance
    pred = np.zeros((4, 4), np.int64)
    pred[:, 1:3] = 5  # 8 pixels, 4 of them inside gt
    # Dice = 2*4 / (8 + 8) = 0.5 in both directions
    assert best_dice(pred, gt) == pytest.approx(0.5)
    assert symmetric_best_dice(pred, gt) == pytest.approx(0.5)


def test_split_instance_asymmetry_by_hand():
    gt = np.zeros((4, 4), np.int64)
    gt[:, :2] = 1  # 8 pixels
    pred = gt.copy()
    pred[:2, :2] = 2  # the instance split in two halves of 4 pixels
    # BD(pred, gt): each half: 2*4/(4+8) = 2/3 -> mean 2/3
    # BD(gt, pred): the gt instance's best partner: 2*4/(8+4) = 2/3
    assert best_dice(pred, gt) == pytest.approx(2 / 3)
    assert best_dice(gt, pred) == pytest.approx(2 / 3)
    # add a spurious small instance in pred: BD(pred, gt) drops, BD(gt, pred) does not
    pred2 = np.zeros((4, 4), np.int64)
    pred2[:, :2] = 1
    pred2[3, 3] = 9  # 1 pixel on background
    assert best_dice(gt, pred2) == 1.0
    assert best_dice(pred2, gt) == pytest.approx((1.0 + 0.0) / 2)
    assert symmetric_best_dice(pred2, gt) == pytest.approx(0.5)
    assert abs_diff_count(pred2, gt) == 1


def test_empty_prediction_scores_zero_and_counts_all_missing():
    gt = two_squares()
    empty = np.zeros_like(gt)
    assert symmetric_best_dice(empty, gt) == 0.0
    assert symmetric_best_dice(gt, empty) == 0.0
    assert abs_diff_count(empty, gt) == 2


def test_both_empty_is_perfect_by_convention():
    z = np.zeros((3, 3), np.int64)
    assert symmetric_best_dice(z, z) == 1.0
    assert abs_diff_count(z, z) == 0


def test_background_argument():
    gt = two_squares()
    # with background=None the background region is an instance too
    assert count_instances(gt, background=None) == 3
    assert count_instances(gt) == 2
    pred = gt.copy()
    pred[pred == 0] = 2  # background merged into instance 2
    assert symmetric_best_dice(pred, gt) < 1.0
    assert symmetric_best_dice(gt + 1, gt + 1, background=1) == 1.0


def test_matches_a_direct_loop_on_random_maps():
    rng = np.random.default_rng(0)
    for _ in range(20):
        a = rng.integers(0, 5, size=(10, 12))
        b = rng.integers(0, 4, size=(10, 12))

        def bd(x, y):
            scores = []
            for i in set(np.unique(x)) - {0}:
                best = 0.0
                for j in set(np.unique(y)) - {0}:
                    inter = np.logical_and(x == i, y == j).sum()
                    best = max(best, 2 * inter / ((x == i).sum() + (y == j).sum()))
                scores.append(best)
            return np.mean(scores)

        assert symmetric_best_dice(a, b) == pytest.approx(min(bd(a, b), bd(b, a)))


def test_relabel_by_size_makes_the_largest_cluster_background():
    lab = np.array([[5, 5, 5], [5, 2, 2], [9, 9, 9]])
    out = relabel_by_size(lab)
    np.testing.assert_array_equal(out, [[0, 0, 0], [0, 2, 2], [1, 1, 1]])


@pytest.mark.parametrize("fn", [symmetric_best_dice, abs_diff_count, best_dice])
def test_bad_inputs_are_rejected(fn):
    gt = two_squares()
    with pytest.raises(ValueError, match="same shape"):
        fn(gt, gt[:5])
    with pytest.raises(TypeError, match="pred|a"):
        fn(gt.astype(np.float32), gt)
    with pytest.raises(TypeError, match="gt|b"):
        fn(gt, gt.astype(np.float64))
    with pytest.raises(TypeError, match="expected a numpy array"):
        fn([[1, 2]], gt)
    with pytest.raises(TypeError, match="background"):
        fn(gt, gt, background=0.5)
    with pytest.raises(ValueError, match="non-empty"):
        fn(np.zeros((0, 3), np.int64), np.zeros((0, 3), np.int64))
