"""course_utils.clustering: k-means with stable label order, relabelling, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import clustering, labels


@pytest.fixture
def blobs() -> np.ndarray:
    """Three well-separated 2-D blobs of 60, 40 and 20 points."""
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    sizes = [60, 40, 20]
    return np.concatenate([c + 0.3 * rng.standard_normal((n, 2)) for c, n in zip(centres, sizes)])


def test_kmeans_finds_blobs_with_labels_ordered_by_size(blobs):
    labels = clustering.kmeans(blobs, 3)
    assert labels.shape == (120,) and labels.dtype == np.int64
    np.testing.assert_array_equal(labels, np.repeat([0, 1, 2], [60, 40, 20]))


def test_labels_do_not_flip_between_seeds(blobs):
    runs = [clustering.kmeans(blobs, 3, seed=s, n_init=1) for s in range(5)]
    for r in runs[1:]:
        np.testing.assert_array_equal(r, runs[0])


def test_order_appearance_and_centres(blobs):
    X = blobs[::-1].copy()  # the 20-point blob comes first
    labels, centres = clustering.kmeans(X, 3, order="appearance", return_centers=True)
    assert labels[0] == 0 and labels[-1] == 2
    assert centres.shape == (3, 2)
    np.testing.assert_allclose(centres[0], [0.0, 5.0], atol=0.2)
    for j in range(3):
        np.testing.assert_allclose(centres[j], X[labels == j].mean(0))


def test_relabel_by_size_and_first_appearance():
    lab = np.array([7, 3, 3, 7, 3, 9])
    np.testing.assert_array_equal(labels.relabel_by_size(lab), [1, 0, 0, 1, 0, 2])
    np.testing.assert_array_equal(labels.relabel_by_first_appearance(lab), [0, 1, 1, 0, 1, 2])
    tie = np.array([5, 5, 2, 2])  # equal sizes: smaller old label first
    np.testing.assert_array_equal(labels.relabel_by_size(tie), [1, 1, 0, 0])
    grid = np.array([[4, 4], [1, 0]])
    np.testing.assert_array_equal(labels.relabel_by_first_appearance(grid), [[0, 0], [1, 2]])


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda: clustering.kmeans(np.zeros((5, 3)), 6), r"^k: expected at most the number of points \(5\), got 6"),
        (lambda: clustering.kmeans(np.array([[0.0, np.nan], [1.0, 1.0]]), 1), r"^X: expected finite values, got 1 NaN"),
        (lambda: clustering.kmeans(np.zeros((0, 3)), 1), r"^X: expected a non-empty array, got shape \(0, 3\)"),
        (lambda: clustering.kmeans(np.zeros((4, 4, 3)), 2), r"^X: expected a 2-D array, got shape \(4, 4, 3\)"),
        (lambda: clustering.kmeans(np.zeros((5, 3)), 0), r"^k: expected an int >= 1, got 0"),
        (lambda: clustering.kmeans(np.zeros((5, 3)), 2.5), r"^k: expected an int, got float"),
        (lambda: clustering.kmeans(np.zeros((5, 3)), 2, order="colour"), r"^order: .*got 'colour'"),
        (lambda: labels.relabel_by_size(np.zeros(3)), r"^labels: expected integer labels, got dtype float64"),
    ],
)
def test_bad_inputs_name_the_argument(call, pattern):
    with pytest.raises((ValueError, TypeError), match=pattern):
        call()
