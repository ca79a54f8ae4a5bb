"""course_utils._validate: accepted inputs pass through; bad ones get messages naming the argument."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils import _validate as V


def test_check_image_accepts_uint8_float_and_torch():
    u = np.zeros((4, 5, 3), np.uint8)
    assert V.check_image(u) is u
    f = np.ones((4, 5, 3), np.float32)
    assert V.check_image(f) is f
    assert V.check_image(torch.zeros(4, 5, 3)).shape == (4, 5, 3)


def test_check_scalars_return_plain_python_types():
    assert V.check_int(np.int64(3), "k", min_value=1) == 3 and type(V.check_int(np.int64(3), "k")) is int
    assert V.check_float(2, "weight", min_value=0.0) == 2.0


def test_check_array_and_labels_pass():
    assert V.check_array(np.ones((2, 3)), "X", ndim=2).shape == (2, 3)
    assert V.check_labels(torch.zeros(4, dtype=torch.long), "labels", ndim=1).dtype == np.int64


def test_describe_value():
    assert V.describe_value(np.zeros((2, 3), np.uint8)) == "ndarray of shape (2, 3) and dtype uint8"
    assert V.describe_value([1, 2]) == "list of length 2"


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda: V.check_image(np.zeros((4, 5, 4), np.uint8), "img"), r"^img: .*RGBA image of shape \(4, 5, 4\)"),
        (lambda: V.check_image(np.zeros((4, 5), np.uint8)), r"^image: .*grayscale image of shape \(4, 5\)"),
        (lambda: V.check_image(torch.zeros(3, 64, 48)), r"^image: .*\(3, 64, 48\).*\(C, H, W\).*permute"),
        (
            lambda: V.check_image(np.full((2, 2, 3), -0.5)),
            r"^image: expected float values in \[0, 1\], got range \[-0.5, -0.5\]",
        ),
        (lambda: V.check_image(np.zeros((2, 2, 3), np.int32)), r"^image: expected dtype uint8 or float, got int32"),
        (lambda: V.check_image(np.zeros((2, 2, 3)), allow_float=False), r"^image: expected dtype uint8, got float64"),
        (lambda: V.check_image(np.zeros((2, 0, 3))), r"^image: .*empty array of shape \(2, 0, 3\)"),
        (lambda: V.check_image([[1, 2]]), r"^image: expected a numpy array or torch tensor, got list"),
        (lambda: V.check_image(np.zeros((2, 2, 3, 1))), r"^image: .*got shape \(2, 2, 3, 1\)"),
        (lambda: V.check_int(True, "k"), r"^k: expected an int, got bool"),
        (lambda: V.check_int(2.0, "k"), r"^k: expected an int, got float"),
        (lambda: V.check_int(20, "k", max_value=10), r"^k: expected an int <= 10, got 20"),
        (lambda: V.check_float(float("inf"), "weight"), r"^weight: expected a finite number, got inf"),
        (lambda: V.check_float("1", "weight"), r"^weight: expected a number, got str"),
        (
            lambda: V.check_array(np.array([[1.0, np.nan], [np.inf, 0]]), "X"),
            r"^X: expected finite values, got 2 NaN/inf",
        ),
        (lambda: V.check_array(np.zeros((0, 3)), "X"), r"^X: expected a non-empty array, got shape \(0, 3\)"),
        (lambda: V.check_array(np.zeros(3), "X", ndim=2), r"^X: expected a 2-D array, got shape \(3,\)"),
        (lambda: V.check_array(np.array(["a"]), "X"), r"^X: expected a numeric array, got dtype <U1"),
        (lambda: V.check_labels(np.zeros((2, 2)), "labels"), r"^labels: expected integer labels, got dtype float64"),
    ],
)
def test_bad_inputs_name_the_argument_and_what_was_given(call, pattern):
    with pytest.raises((ValueError, TypeError), match=pattern):
        call()
