"""course_utils.pixel_features and course_utils.labels: shapes, units, the meaning of the weight, label-map statistics, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils import labels as L
from course_utils import pixel_features as F


@pytest.fixture
def img() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(6, 8, 3), dtype=np.uint8)


def test_rgb_features_are_raster_order_in_unit_range(img):
    X = F.rgb_features(img)
    assert X.shape == (48, 3) and X.dtype == np.float32
    np.testing.assert_allclose(X[8 * 2 + 5], img[2, 5] / 255.0, rtol=1e-6)
    assert X.min() >= 0.0 and X.max() <= 1.0


def test_rgb_features_accept_float_and_torch(img):
    f = img.astype(np.float32) / 255.0
    np.testing.assert_allclose(F.rgb_features(f), F.rgb_features(img), atol=1e-7)
    np.testing.assert_allclose(F.rgb_features(torch.from_numpy(f)), F.rgb_features(img), atol=1e-7)


def test_position_features_diagonal_units():
    P = F.position_features((30, 40))
    assert P.shape == (1200, 2) and P.dtype == np.float32
    # first pixel centre, then the next pixel along the row (x grows first)
    np.testing.assert_allclose(P[0], [0.5 / 50, 0.5 / 50], rtol=1e-6)
    np.testing.assert_allclose(P[1], [1.5 / 50, 0.5 / 50], rtol=1e-6)
    # the centres of the two corner pixels are (39, 29) pixels apart: just under one diagonal
    d = np.linalg.norm(P[-1] - P[0])
    assert d == pytest.approx(np.hypot(39, 29) / 50, rel=1e-5) and d < 1


@pytest.mark.parametrize("scale, denom", [("max_side", 40.0), ("pixels", 1.0)])
def test_position_feature_scales(scale, denom):
    P = F.position_features((30, 40), scale=scale)
    np.testing.assert_allclose(P[-1], [39.5 / denom, 29.5 / denom], rtol=1e-6)


def test_position_features_from_image_or_2d_map(img):
    np.testing.assert_array_equal(F.position_features(img), F.position_features((6, 8)))
    np.testing.assert_array_equal(F.position_features(torch.from_numpy(img)), F.position_features((6, 8, 3)))
    np.testing.assert_array_equal(F.position_features(np.zeros((6, 8))), F.position_features((6, 8)))


def test_diagonal_scale_is_resolution_independent():
    small, big = F.position_features((16, 24)), F.position_features((160, 240))
    # the centroid and extent of the positions agree whatever the resolution
    np.testing.assert_allclose(small.mean(0), big.mean(0), atol=1e-5)
    np.testing.assert_allclose(small.max(0) + 0.5 / np.hypot(16, 24), big.max(0) + 0.5 / np.hypot(160, 240), atol=1e-5)


def test_rgb_position_features_weight(img):
    X0 = F.rgb_position_features(img, 0.0)
    X3 = F.rgb_position_features(img, 3.0)
    assert X3.shape == (48, 5) and X3.dtype == np.float32
    np.testing.assert_array_equal(X0[:, 3:], 0.0)
    np.testing.assert_allclose(X3[:, :3], F.rgb_features(img))
    np.testing.assert_allclose(X3[:, 3:], 3.0 * F.position_features(img), rtol=1e-6)


def test_as_label_map_round_trip(img):
    labels = np.arange(48)
    m = L.as_label_map(labels, img)
    assert m.shape == (6, 8) and m[1, 0] == 8


def test_spatial_spread_single_cluster_and_halves():
    one = np.zeros((40, 40), dtype=np.int64)
    # one cluster over a square: RMS distance to the centre = side/sqrt(6), diagonal = side*sqrt(2)
    assert L.spatial_spread(one) == pytest.approx(1 / np.sqrt(12), rel=1e-3)
    halves = np.zeros((40, 40), dtype=np.int64)
    halves[:, 20:] = 1
    speckle = (np.indices((40, 40)).sum(0) % 2).astype(np.int64)  # checkerboard
    assert L.spatial_spread(halves) < L.spatial_spread(one)
    assert L.spatial_spread(speckle) == pytest.approx(L.spatial_spread(one), rel=1e-2)


def test_components_per_cluster():
    lab = np.zeros((5, 5), dtype=np.int64)
    lab[0, 0] = lab[4, 4] = lab[0, 4] = 2  # three isolated pixels of cluster 2
    lab[2, 1:4] = 1  # one bar
    np.testing.assert_array_equal(L.components_per_cluster(lab), [1, 1, 3])
    checker = (np.indices((4, 4)).sum(0) % 2).astype(np.int64)
    np.testing.assert_array_equal(L.components_per_cluster(checker), [8, 8])


# --- bad inputs: the message names the argument and says what was given --------------------


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda: F.rgb_features(np.zeros((5, 6, 4), np.uint8)), r"image: .*RGBA .*\(5, 6, 4\)"),
        (lambda: F.rgb_features(np.zeros((5, 6), np.uint8)), r"image: .*grayscale .*\(5, 6\)"),
        (lambda: F.rgb_features(np.zeros((3, 20, 30), np.float32)), r"image: .*\(3, 20, 30\).*\(C, H, W\)"),
        (lambda: F.rgb_features(np.full((4, 4, 3), 2.0)), r"image: .*\[0, 1\].*\[2, 2\]"),
        (lambda: F.rgb_features(np.zeros((0, 4, 3))), r"image: .*empty.*\(0, 4, 3\)"),
        (lambda: F.rgb_features(np.full((2, 2, 3), np.nan)), r"image: .*NaN"),
        (lambda: F.position_features((4,)), r"shape_or_image: .*1-element"),
        (lambda: F.position_features((4, 0)), r"shape_or_image\[1\] \(W\): .*>= 1, got 0"),
        (lambda: F.position_features((4, 5), scale="cm"), r"scale: .*'cm'"),
        (lambda: F.rgb_position_features(np.zeros((4, 4, 3)), -1.0), r"weight: .*>= 0.0, got -1.0"),
        (lambda: F.rgb_position_features(np.zeros((4, 4, 3)), float("nan")), r"weight: .*finite.*nan"),
        (lambda: L.as_label_map(np.zeros(10, np.int64), (3, 4)), r"labels: .*3\*4 = 12, got 10"),
        (lambda: L.spatial_spread(np.zeros((3, 3))), r"label_map: .*integer.*float64"),
        (lambda: L.components_per_cluster(np.zeros(9, np.int64)), r"label_map: .*2 dimensions.*\(9,\)"),
    ],
)
def test_bad_inputs_name_the_argument(call, pattern):
    with pytest.raises((ValueError, TypeError), match=pattern):
        call()
